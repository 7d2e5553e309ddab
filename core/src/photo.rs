//! What a photo says besides its pixels, taken out before it is sealed:
//! EXIF (GPS position, camera serial, time), XMP, IPTC, comments and text
//! chunks, and the extra images a camera appends (MPF depth maps and
//! previews, each with its own EXIF). The pixels are not re-encoded: the
//! compressed image data is copied as it came. Only the EXIF orientation
//! stays (so a portrait photo still shows upright), in a new EXIF block
//! that holds nothing else.
//!
//! JPEG, PNG and WebP are cleaned; GIF carries no EXIF and is kept as it
//! is. Pure: bytes in, bytes out.

use image::ImageFormat;
use img_parts::jpeg::{Jpeg, JpegSegment, markers};
use img_parts::png::Png;
use img_parts::riff::RiffContent;
use img_parts::webp::{CHUNK_EXIF, CHUNK_VP8X, CHUNK_XMP, WebP};
use img_parts::{Bytes, ImageEXIF};

/// A photo whose container could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the image could not be read to remove its metadata: {0}")]
pub struct PhotoError(String);

/// `bytes` (a JPEG, PNG, WebP or GIF) without its metadata but for the
/// orientation.
pub fn strip_metadata(bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let err = |e: img_parts::Error| PhotoError(e.to_string());
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => {
            let jpeg = Jpeg::from_bytes(Bytes::copy_from_slice(bytes)).map_err(err)?;
            strip_jpeg(jpeg, bytes)
        }
        Ok(ImageFormat::Png) => {
            let mut png = Png::from_bytes(Bytes::copy_from_slice(bytes)).map_err(err)?;
            let orientation = png.exif().and_then(|e| orientation_of(&e));
            for kind in [*b"eXIf", *b"tEXt", *b"zTXt", *b"iTXt", *b"tIME"] {
                png.remove_chunks_by_type(kind);
            }
            png.set_exif(orientation.map(orientation_exif));
            Ok(png.encoder().bytes().to_vec())
        }
        Ok(ImageFormat::WebP) => {
            let mut webp = WebP::from_bytes(Bytes::copy_from_slice(bytes)).map_err(err)?;
            webp.remove_chunks_by_id(CHUNK_EXIF);
            webp.remove_chunks_by_id(CHUNK_XMP);
            // The extended header's flags say which chunks follow: clear
            // the EXIF (bit 3) and XMP (bit 2) ones.
            for chunk in webp.chunks_mut() {
                if chunk.id() == CHUNK_VP8X
                    && let RiffContent::Data(data) = chunk.content_mut()
                    && let Some(flags) = data.first()
                {
                    let mut cleared = data.to_vec();
                    cleared[0] = flags & !0b0000_1100;
                    *data = Bytes::from(cleared);
                }
            }
            Ok(webp.encoder().bytes().to_vec())
        }
        Ok(ImageFormat::Gif) => Ok(bytes.to_vec()),
        _ => Err(PhotoError("not a JPEG, PNG, WebP or GIF".into())),
    }
}

/// Keeps what decoding needs (tables, frame and scan headers, JFIF, ICC
/// colour profiles, Adobe's colour transform) and the primary image's
/// compressed data up to its end; drops every other application segment
/// and comment, and what follows the end of the image.
fn strip_jpeg(mut jpeg: Jpeg, original: &[u8]) -> Result<Vec<u8>, PhotoError> {
    let orientation = jpeg.exif().and_then(|e| orientation_of(&e));
    let segments = jpeg.segments_mut();
    segments.retain(|s| match s.marker() {
        // JFIF, not its JFXX thumbnail (an edited photo's thumbnail may
        // still show what was cropped out).
        markers::APP0 => s.contents().starts_with(b"JFIF\0"),
        markers::APP2 => s.contents().starts_with(b"ICC_PROFILE\0"),
        markers::APP14 => s.contents().starts_with(b"Adobe"),
        m if (markers::APP0..=markers::APP15).contains(&m) => false,
        markers::COM => false,
        _ => true,
    });
    // The scan: its entropy-coded data runs to the end of the file; keep
    // it up to the end-of-image marker (the bytes after are other images).
    if let Some(scan) = segments.iter_mut().find(|s| s.has_entropy()) {
        let entropy_len = scan.len_with_entropy() - scan.len();
        let entropy = original
            .get(original.len().saturating_sub(entropy_len)..)
            .ok_or_else(|| PhotoError("the image data is cut short".into()))?;
        // A file cut short has no end marker, and nothing after it.
        let end = end_of_image(entropy).unwrap_or(entropy.len());
        *scan = JpegSegment::new_with_entropy(
            scan.marker(),
            scan.contents().clone(),
            Bytes::copy_from_slice(&entropy[..end]),
        );
    } else {
        return Err(PhotoError("the image has no scan".into()));
    }
    jpeg.set_exif(orientation.map(orientation_exif));
    Ok(jpeg.encoder().bytes().to_vec())
}

/// Where the end-of-image marker ends in `data` (entropy-coded scans, and
/// for progressive images the tables and scan headers between them).
fn end_of_image(data: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 1 < data.len() {
        if data[i] != 0xFF {
            i += 1;
            continue;
        }
        match data[i + 1] {
            // Stuffed 0xFF, a restart marker, or fill bytes.
            0x00 | 0xD0..=0xD7 | 0xFF => i += if data[i + 1] == 0xFF { 1 } else { 2 },
            0xD9 => return Some(i + 2),
            // A marker segment between scans: skip it by its length.
            _ => {
                let len = u16::from_be_bytes([*data.get(i + 2)?, *data.get(i + 3)?]) as usize;
                i += 2 + len;
            }
        }
    }
    None
}

/// The orientation an EXIF block (TIFF data) sets, when it sets one other
/// than "as stored".
fn orientation_of(exif: &[u8]) -> Option<u8> {
    image::metadata::Orientation::from_exif_chunk(exif)
        .map(|o| o.to_exif())
        .filter(|&o| o != 1)
}

/// An EXIF block (TIFF data, big-endian) holding only `orientation`.
fn orientation_exif(orientation: u8) -> Bytes {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2A"); // big-endian TIFF
    tiff.extend_from_slice(&8u32.to_be_bytes()); // the first IFD follows
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry:
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation,
    tiff.extend_from_slice(&3u16.to_be_bytes()); // a SHORT,
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one of them,
    tiff.extend_from_slice(&[0, orientation, 0, 0]); // its value
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    Bytes::from(tiff)
}

#[cfg(test)]
mod tests;
