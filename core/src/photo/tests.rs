use super::*;

/// A TIFF/EXIF block (big-endian) with an orientation and a GPS IFD
/// holding a latitude reference and "GPSSECRET" as a marker to look for.
fn exif_with_gps(orientation: u8) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"MM\0\x2A");
    t.extend_from_slice(&8u32.to_be_bytes());
    // IFD0: two entries (Orientation, GPS IFD pointer), then no next IFD.
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&0x0112u16.to_be_bytes());
    t.extend_from_slice(&3u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    t.extend_from_slice(&[0, orientation, 0, 0]);
    t.extend_from_slice(&0x8825u16.to_be_bytes());
    t.extend_from_slice(&4u16.to_be_bytes());
    t.extend_from_slice(&1u32.to_be_bytes());
    let gps_at = 8 + 2 + 2 * 12 + 4;
    t.extend_from_slice(&(gps_at as u32).to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD: one ASCII entry whose value lies after it.
    t.extend_from_slice(&1u16.to_be_bytes());
    t.extend_from_slice(&0x0002u16.to_be_bytes());
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&10u32.to_be_bytes());
    t.extend_from_slice(&((gps_at + 2 + 12 + 4) as u32).to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(b"GPSSECRET\0");
    t
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pixels(bytes: &[u8]) -> Vec<u8> {
    image::load_from_memory(bytes).unwrap().to_rgb8().into_raw()
}

fn small_jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 30, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn small_png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(4, 4, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A JPEG as a phone writes it: EXIF with GPS (APP1), XMP (APP1), IPTC
/// (APP13), a comment, and a second image (an MPF preview with its own
/// EXIF) after the end of the first.
fn phone_jpeg(orientation: u8) -> Vec<u8> {
    let plain = small_jpeg();
    let mut jpeg = Jpeg::from_bytes(Bytes::from(plain.clone())).unwrap();
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif_with_gps(orientation));
    let extra = [
        JpegSegment::new_with_contents(markers::APP1, Bytes::from(app1)),
        JpegSegment::new_with_contents(
            markers::APP1,
            Bytes::from_static(b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>XMPSECRET</x:xmpmeta>"),
        ),
        JpegSegment::new_with_contents(
            markers::APP13,
            Bytes::from_static(b"Photoshop 3.0\0IPTCSECRET"),
        ),
        JpegSegment::new_with_contents(markers::COM, Bytes::from_static(b"COMMENTSECRET")),
    ];
    for (i, s) in extra.into_iter().enumerate() {
        jpeg.segments_mut().insert(1 + i, s);
    }
    let mut bytes = jpeg.encoder().bytes().to_vec();
    // The appended image: another JPEG with GPS in its own EXIF.
    let mut second = Jpeg::from_bytes(Bytes::from(plain)).unwrap();
    second.set_exif(Some(Bytes::from(exif_with_gps(1))));
    bytes.extend_from_slice(&second.encoder().bytes());
    bytes
}

/// What [`phone_jpeg`] hides in its metadata.
const SECRETS: [&[u8]; 4] = [b"GPSSECRET", b"XMPSECRET", b"IPTCSECRET", b"COMMENTSECRET"];

#[test]
fn a_phones_jpeg_loses_every_secret_and_keeps_its_pixels_and_orientation() {
    let photo = phone_jpeg(6);
    for secret in SECRETS {
        assert!(
            contains(&photo, secret),
            "the test photo carries its secrets"
        );
    }
    let clean = strip_metadata(&photo).unwrap();
    for secret in SECRETS {
        assert!(
            !contains(&clean, secret),
            "{:?} survived",
            String::from_utf8_lossy(secret)
        );
    }
    // One image: a single start and a single end marker.
    assert_eq!(clean.windows(2).filter(|w| w == &[0xFF, 0xD8]).count(), 1);
    assert!(clean.ends_with(&[0xFF, 0xD9]));
    // The same pixels (the scan copied, not re-encoded), the same
    // orientation.
    assert_eq!(pixels(&clean), pixels(&small_jpeg()));
    let kept = Jpeg::from_bytes(Bytes::from(clean.clone()))
        .unwrap()
        .exif()
        .unwrap();
    assert_eq!(orientation_of(&kept), Some(6));
    // Cleaning twice changes nothing more.
    assert_eq!(strip_metadata(&clean).unwrap(), clean);
}

#[test]
fn a_jpeg_without_orientation_keeps_no_exif_at_all() {
    let clean = strip_metadata(&phone_jpeg(1)).unwrap();
    assert!(
        Jpeg::from_bytes(Bytes::from(clean.clone()))
            .unwrap()
            .exif()
            .is_none()
    );
    assert!(!contains(&clean, b"Exif"));
    assert_eq!(pixels(&clean), pixels(&small_jpeg()));
}

#[test]
fn a_png_loses_its_exif_and_text_chunks() {
    let mut png = Png::from_bytes(Bytes::from(small_png())).unwrap();
    png.set_exif(Some(Bytes::from(exif_with_gps(3))));
    let text = img_parts::png::PngChunk::new(*b"tEXt", Bytes::from_static(b"Comment\0TEXTSECRET"));
    let at = png.chunks().len() - 1;
    png.chunks_mut().insert(at, text);
    let photo = png.encoder().bytes().to_vec();
    assert!(contains(&photo, b"GPSSECRET") && contains(&photo, b"TEXTSECRET"));
    let clean = strip_metadata(&photo).unwrap();
    assert!(!contains(&clean, b"GPSSECRET") && !contains(&clean, b"TEXTSECRET"));
    assert_eq!(pixels(&clean), pixels(&small_png()));
    let kept = Png::from_bytes(Bytes::from(clean)).unwrap().exif().unwrap();
    assert_eq!(orientation_of(&kept), Some(3));
}

#[test]
fn broken_images_are_an_error_not_a_panic() {
    let photo = phone_jpeg(6);
    for cut in [2, 20, photo.len() / 3, photo.len() / 2] {
        let _ = strip_metadata(&photo[..cut]);
    }
    assert!(strip_metadata(b"not an image").is_err());
    assert!(strip_metadata(&[0xFF, 0xD8, 0xFF]).is_err());
    assert!(strip_metadata(b"RIFF\0\0\0\0WEBPVP8 ").is_err());
    // A file cut short (no end marker) keeps what it has.
    let plain = small_jpeg();
    let cut = strip_metadata(&plain[..plain.len() - 2]).unwrap();
    assert_eq!(cut, plain[..plain.len() - 2]);
}

#[test]
fn the_orientation_block_reads_back() {
    for o in 1..=8u8 {
        let block = orientation_exif(o);
        assert_eq!(
            image::metadata::Orientation::from_exif_chunk(&block).map(|x| x.to_exif()),
            Some(o)
        );
    }
}
