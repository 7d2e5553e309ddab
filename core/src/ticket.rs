//! Tickets: short text strings that hand over access to a space, and their QR codes.
//!
//! A ticket reads `starling1` followed by unpadded base32 of
//! `postcard(Ticket) || blake3(...)[..4]`. The checksum catches typos and
//! damaged scans before anything is decoded. Parsing ignores case, so the
//! upper-case form (compact in a QR code's alphanumeric mode) reads back too.

use serde::{Deserialize, Serialize};

use crate::crypto::SpaceKey;
use crate::id::{DeviceId, IdentityId, SpaceId};
use crate::membership::Invite;
use crate::space::feed_space_id;

/// Every ticket starts with this (the `1` is the format version).
pub const TICKET_PREFIX: &str = "starling1";
/// The URI scheme of a ticket as a link (`starling:starling1…`), which
/// opens the app from a QR code, a browser or another app.
pub const URI_SCHEME: &str = "starling";
/// Longest ticket text accepted.
pub const MAX_TICKET_LEN: usize = 4096;
const CHECKSUM_LEN: usize = 4;

/// A ticket could not be read or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// The text does not start with `starling1`.
    #[error("not a Starling ticket (it must start with \"starling1\")")]
    BadPrefix,
    /// The text is not base32.
    #[error("ticket is not valid base32: {0}")]
    BadEncoding(String),
    /// The checksum does not match: a typo or a damaged scan.
    #[error("ticket checksum does not match (mistyped or damaged ticket)")]
    BadChecksum,
    /// The checksum matches but the contents do not decode.
    #[error("ticket contents are malformed: {0}")]
    Malformed(String),
    /// Longer than [`MAX_TICKET_LEN`].
    #[error("ticket is too long ({0} characters)")]
    TooLong(usize),
    /// Rendering the QR code failed.
    #[error("cannot render QR code: {0}")]
    Qr(String),
    /// The picture could not be read as an image.
    #[error("cannot read the picture: {0}")]
    BadImage(String),
    /// The picture holds no readable QR code.
    #[error("no readable QR code in the picture")]
    NoQrCode,
    /// The picture's QR codes hold no Starling ticket.
    #[error("the QR code in the picture is not a Starling ticket: {0}")]
    NotATicket(Box<TicketError>),
}

/// Largest picture [`Ticket::scan`] reads, in bytes.
pub const MAX_SCAN_BYTES: usize = 32 << 20;
/// Pictures are scaled down to at most this many pixels on their longer side
/// before scanning (a phone photo has several times more than a QR code
/// needs).
const SCAN_SIDE: u32 = 1600;

/// Where to reach a device: its id (also its iroh endpoint id), direct
/// socket addresses and home relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerAddr {
    /// The device.
    pub device: DeviceId,
    /// Direct addresses it listens on (may be empty).
    pub addrs: Vec<std::net::SocketAddr>,
    /// The URL of its home relay, if it uses one.
    pub relay: Option<String>,
}

impl PeerAddr {
    /// A device known by id alone (lookups and live paths find the rest).
    pub fn bare(device: DeviceId) -> Self {
        Self {
            device,
            addrs: Vec::new(),
            relay: None,
        }
    }

    /// Whether another device could dial `addr`: not the unspecified
    /// address a socket binds to (`0.0.0.0`, `::`), not multicast, not port
    /// 0.
    pub fn dialable(addr: &std::net::SocketAddr) -> bool {
        let ip = addr.ip();
        addr.port() != 0 && !ip.is_unspecified() && !ip.is_multicast()
    }

    /// The addresses and relay, encoded for the store (only addresses
    /// another device could dial).
    pub fn encode_reach(&self) -> Vec<u8> {
        let addrs: Vec<_> = self.addrs.iter().filter(|a| Self::dialable(a)).collect();
        postcard::to_allocvec(&(&addrs, &self.relay)).unwrap_or_default()
    }

    /// Reads what [`PeerAddr::encode_reach`] wrote (or, from stores made
    /// before relays were kept, the addresses alone); unreadable bytes give
    /// no addresses.
    pub fn decode_reach(device: DeviceId, bytes: &[u8]) -> Self {
        let (addrs, relay) =
            postcard::from_bytes::<(Vec<std::net::SocketAddr>, Option<String>)>(bytes)
                .or_else(|_| postcard::from_bytes(bytes).map(|a| (a, None)))
                .unwrap_or_default();
        let addrs = addrs.into_iter().filter(Self::dialable).collect();
        Self {
            device,
            addrs,
            relay,
        }
    }
}

/// What a feed ticket holds: whose feed, its read key, and a device to
/// fetch it from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedTicket {
    /// The feed owner's identity.
    pub identity: IdentityId,
    /// The feed's read key (epoch 0).
    pub key: [u8; 32],
    /// One of the owner's devices and where it listens.
    pub peer: Option<PeerAddr>,
}

impl FeedTicket {
    /// The feed's space id.
    pub fn space(&self) -> SpaceId {
        feed_space_id(&self.identity)
    }

    /// The read key.
    pub fn space_key(&self) -> SpaceKey {
        SpaceKey::from_bytes(self.key)
    }
}

/// An invitation into a private group: its id, the owner and the nonce
/// the id was made from (so the joiner checks who owns the group: see
/// [`crate::membership::group_space_id`]), its keys, its name, the owner's
/// signed [`Invite`], and where to reach the inviting device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTicket {
    /// The group's space id.
    pub space: SpaceId,
    /// The group's owner.
    pub owner: IdentityId,
    /// The nonce the group's id was made from.
    pub nonce: [u8; 16],
    /// The group's keys, by epoch (the newest last): a new member reads
    /// the history those epochs cover.
    pub keys: Vec<(u32, [u8; 32])>,
    /// The group's name when the invite was made (for the joiner to see).
    pub name: String,
    /// The owner's permission to join, signed by one of their devices.
    pub invite: Box<Invite>,
    /// The secret of the invite's claim key: whoever holds the ticket signs
    /// their join with it.
    pub claim_secret: [u8; 32],
    /// The inviting device and where it listens.
    pub peer: Option<PeerAddr>,
}

/// Most group keys an invite carries (the newest ones).
pub const MAX_INVITE_KEYS: usize = 16;

/// A link code: where the linking device listens, its ephemeral public key
/// for this link and an expiry. It holds no secret: a new device that
/// scans it still has to show the same confirmation code as the linking
/// device, and the user confirm on both, before any key is handed over
/// ([`crate::protocol::link`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceTicket {
    /// The linking device and where it listens.
    pub peer: PeerAddr,
    /// Its ephemeral X25519 public key for this link
    /// ([`crate::protocol::link`]); no secret.
    pub ephemeral: [u8; 32],
    /// When the code stops being valid, in ms since the Unix epoch.
    pub expires_at: u64,
}

/// Any ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Ticket {
    /// Follow someone's feed.
    Feed(FeedTicket),
    /// Join a private group.
    Group(GroupTicket),
    /// Link a new device to this identity.
    Device(DeviceTicket),
}

const B32: data_encoding::Encoding = data_encoding::BASE32_NOPAD;

impl Ticket {
    /// What the ticket is, as commands show it.
    pub fn view(&self) -> crate::view::ScannedTicket {
        use crate::view::{ScannedTicket, TicketKind};
        let ticket = self.encode();
        match self {
            Ticket::Feed(f) => ScannedTicket {
                ticket,
                kind: TicketKind::Feed,
                identity: Some(f.identity),
                group: None,
                name: None,
            },
            Ticket::Group(g) => ScannedTicket {
                ticket,
                kind: TicketKind::Group,
                identity: Some(g.owner),
                group: Some(g.space),
                name: Some(g.name.clone()),
            },
            Ticket::Device(_) => ScannedTicket {
                ticket,
                kind: TicketKind::Device,
                identity: None,
                group: None,
                name: None,
            },
        }
    }

    /// The ticket as text.
    pub fn encode(&self) -> String {
        let mut bytes = postcard::to_allocvec(self).unwrap_or_default();
        let sum = blake3::hash(&bytes);
        bytes.extend_from_slice(&sum.as_bytes()[..CHECKSUM_LEN]);
        format!("{TICKET_PREFIX}{}", B32.encode(&bytes).to_lowercase())
    }

    /// The ticket as a `starling:` link (what QR codes hold and the app
    /// copies): [`Ticket::decode`] reads it back.
    pub fn to_uri(&self) -> String {
        format!("{URI_SCHEME}:{}", self.encode())
    }

    /// Reads a ticket from text, bare (`starling1…`) or as a link
    /// (`starling:starling1…`, also `starling://…`); surrounding whitespace
    /// and case are ignored.
    pub fn decode(text: &str) -> Result<Self, TicketError> {
        let text = strip_scheme(text.trim());
        if text.len() > MAX_TICKET_LEN {
            return Err(TicketError::TooLong(text.len()));
        }
        // `get` rather than indexing: the text may have a multi-byte
        // character where the prefix should end (found by fuzzing).
        let (Some(prefix), Some(body)) = (
            text.get(..TICKET_PREFIX.len()),
            text.get(TICKET_PREFIX.len()..),
        ) else {
            return Err(TicketError::BadPrefix);
        };
        if !prefix.eq_ignore_ascii_case(TICKET_PREFIX) {
            return Err(TicketError::BadPrefix);
        }
        let body = body.to_ascii_uppercase();
        let bytes = B32
            .decode(body.as_bytes())
            .map_err(|e| TicketError::BadEncoding(e.to_string()))?;
        if bytes.len() <= CHECKSUM_LEN {
            return Err(TicketError::Malformed("too short".into()));
        }
        let (data, sum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
        if &blake3::hash(data).as_bytes()[..CHECKSUM_LEN] != sum {
            return Err(TicketError::BadChecksum);
        }
        postcard::from_bytes(data).map_err(|e| TicketError::Malformed(e.to_string()))
    }

    /// The ticket as a QR code drawn with Unicode half blocks, for a terminal.
    pub fn to_qr_text(&self) -> Result<String, TicketError> {
        let code = self.qr()?;
        Ok(code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build())
    }

    /// The ticket as a QR code in PNG bytes.
    pub fn to_qr_png(&self) -> Result<Vec<u8>, TicketError> {
        let img = self
            .qr()?
            .render::<image::Luma<u8>>()
            .min_dimensions(400, 400)
            .build();
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png)
            .map_err(|e| TicketError::Qr(e.to_string()))?;
        Ok(out.into_inner())
    }

    /// The ticket as a QR code in SVG.
    pub fn to_qr_svg(&self) -> Result<String, TicketError> {
        Ok(self
            .qr()?
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(400, 400)
            .quiet_zone(true)
            .build())
    }

    /// Reads a ticket from a picture of its QR code (PNG or JPEG: a
    /// screenshot, a photo, a scaled copy). Every QR code found is tried;
    /// the first that holds a ticket wins.
    pub fn scan(picture: &[u8]) -> Result<Self, TicketError> {
        if picture.len() > MAX_SCAN_BYTES {
            return Err(TicketError::BadImage(format!(
                "{} bytes is over the {MAX_SCAN_BYTES}-byte limit",
                picture.len()
            )));
        }
        let mut reader = image::ImageReader::new(std::io::Cursor::new(picture))
            .with_guessed_format()
            .map_err(|e| TicketError::BadImage(e.to_string()))?;
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(16_384);
        limits.max_image_height = Some(16_384);
        limits.max_alloc = Some(512 << 20);
        reader.limits(limits);
        let img = reader
            .decode()
            .map_err(|e| TicketError::BadImage(e.to_string()))?;
        let img = if img.width().max(img.height()) > SCAN_SIDE {
            img.resize(SCAN_SIDE, SCAN_SIDE, image::imageops::FilterType::Triangle)
        } else {
            img
        };
        let mut prepared = rqrr::PreparedImage::prepare(img.to_luma8());
        let mut last = TicketError::NoQrCode;
        for grid in prepared.detect_grids() {
            let Ok((_, text)) = grid.decode() else {
                continue;
            };
            match Ticket::decode(&text) {
                Ok(t) => return Ok(t),
                Err(e) => last = TicketError::NotATicket(Box::new(e)),
            }
        }
        Err(last)
    }

    fn qr(&self) -> Result<qrcode::QrCode, TicketError> {
        // The link, so that a phone's camera opens the app; upper case fits
        // QR's compact alphanumeric mode (schemes ignore case).
        qrcode::QrCode::with_error_correction_level(
            self.to_uri().to_ascii_uppercase(),
            qrcode::EcLevel::M,
        )
        .map_err(|e| TicketError::Qr(e.to_string()))
    }
}

/// `text` without a leading `starling:` or `starling://` (any case).
fn strip_scheme(text: &str) -> &str {
    let scheme = URI_SCHEME.len() + 1;
    match text.get(..scheme) {
        Some(head) if head.eq_ignore_ascii_case(&format!("{URI_SCHEME}:")) => {
            let rest = &text[scheme..];
            rest.strip_prefix("//").unwrap_or(rest)
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dialable_addresses_are_kept() {
        let addrs: Vec<std::net::SocketAddr> = [
            "0.0.0.0:4000",
            "[::]:4000",
            "127.0.0.1:0",
            "224.0.0.251:5353",
            "127.0.0.1:4000",
            "[::1]:4000",
            "192.168.1.9:4000",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let p = PeerAddr {
            device: DeviceId([1; 32]),
            addrs,
            relay: None,
        };
        let back = PeerAddr::decode_reach(p.device, &p.encode_reach());
        let kept: Vec<String> = back.addrs.iter().map(|a| a.to_string()).collect();
        assert_eq!(kept, ["127.0.0.1:4000", "[::1]:4000", "192.168.1.9:4000"]);
        // What older stores kept (the addresses alone, unfiltered) is read
        // filtered too.
        let old = postcard::to_allocvec(&p.addrs).unwrap();
        assert_eq!(PeerAddr::decode_reach(p.device, &old).addrs, back.addrs);
    }

    #[test]
    fn a_qr_png_scaled_and_saved_as_jpeg_scans_back() {
        let t = sample();
        let png = t.to_qr_png().unwrap();
        assert_eq!(Ticket::scan(&png).unwrap(), t);
        // Scaled by an odd factor, grey background margin, saved as JPEG.
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        let small = image::imageops::resize(
            &img,
            img.width() * 7 / 10,
            img.height() * 7 / 10,
            image::imageops::FilterType::Triangle,
        );
        let mut canvas = image::GrayImage::from_pixel(
            small.width() + 120,
            small.height() + 80,
            image::Luma([200]),
        );
        image::imageops::overlay(&mut canvas, &small, 60, 40);
        let mut jpeg = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(canvas)
            .write_to(&mut jpeg, image::ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(Ticket::scan(&jpeg.into_inner()).unwrap(), t);
    }

    #[test]
    fn pictures_without_a_ticket_are_refused_clearly() {
        assert!(matches!(
            Ticket::scan(b"not a picture"),
            Err(TicketError::BadImage(_))
        ));
        let blank = image::GrayImage::from_pixel(300, 300, image::Luma([255]));
        let mut png = std::io::Cursor::new(Vec::new());
        blank.write_to(&mut png, image::ImageFormat::Png).unwrap();
        assert_eq!(Ticket::scan(&png.into_inner()), Err(TicketError::NoQrCode));
        // A QR code that holds something else.
        let other = qrcode::QrCode::new("https://example.org/").unwrap();
        let img = other
            .render::<image::Luma<u8>>()
            .min_dimensions(300, 300)
            .build();
        let mut png = std::io::Cursor::new(Vec::new());
        img.write_to(&mut png, image::ImageFormat::Png).unwrap();
        assert!(matches!(
            Ticket::scan(&png.into_inner()),
            Err(TicketError::NotATicket(_))
        ));
    }

    #[test]
    fn group_tickets_round_trip_and_fit_a_qr_code() {
        let owner = crate::identity::IdentityKey::from_secret_bytes([7; 32]);
        let device = crate::identity::DeviceKey::from_secret_bytes([8; 32]);
        let space = crate::membership::group_space_id(&owner.id(), &[9; 16]);
        let cert = crate::identity::DeviceCert::issue(&owner, device.id(), 1);
        let t = Ticket::Group(GroupTicket {
            space,
            owner: owner.id(),
            nonce: [9; 16],
            keys: (0..MAX_INVITE_KEYS as u32).map(|e| (e, [6; 32])).collect(),
            name: "dawn chorus".into(),
            invite: Box::new(Invite::issue(
                &device,
                cert,
                &space,
                ([3; 16], &[4; 32]),
                2,
                1_800_000_000_000,
            )),
            claim_secret: [4; 32],
            peer: Some(PeerAddr {
                device: device.id(),
                addrs: vec!["192.168.1.20:4433".parse().unwrap()],
                relay: Some("https://relay.example.org./".into()),
            }),
        });
        assert!(t.encode().len() <= MAX_TICKET_LEN);
        assert_eq!(Ticket::decode(&t.encode()).unwrap(), t);
        assert_eq!(Ticket::scan(&t.to_qr_png().unwrap()).unwrap(), t);
    }

    #[test]
    fn svg_renders() {
        let svg = sample().to_qr_svg().unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
    }

    #[test]
    fn reach_round_trips_and_reads_the_older_form() {
        let at = PeerAddr {
            device: DeviceId([3; 32]),
            addrs: vec![
                "127.0.0.1:4433".parse().unwrap(),
                "[::1]:4434".parse().unwrap(),
            ],
            relay: Some("https://relay.example.org./".into()),
        };
        assert_eq!(PeerAddr::decode_reach(at.device, &at.encode_reach()), at);
        // Stores written before relays were kept hold the addresses alone.
        let older = postcard::to_allocvec(&at.addrs).unwrap();
        let read = PeerAddr::decode_reach(at.device, &older);
        assert_eq!((read.addrs, read.relay), (at.addrs.clone(), None));
        // Garbage gives no addresses, not an error or a panic.
        assert_eq!(
            PeerAddr::decode_reach(at.device, &[0xff; 7]),
            PeerAddr::bare(at.device)
        );
    }

    fn sample() -> Ticket {
        Ticket::Feed(FeedTicket {
            identity: IdentityId([1; 32]),
            key: [2; 32],
            peer: Some(PeerAddr {
                device: DeviceId([3; 32]),
                addrs: vec!["127.0.0.1:4433".parse().unwrap()],
                relay: Some("https://relay.example.org./".into()),
            }),
        })
    }

    #[test]
    fn round_trip_any_case() {
        let t = sample();
        let text = t.encode();
        assert!(text.starts_with("starling1"));
        assert_eq!(Ticket::decode(&text).unwrap(), t);
        assert_eq!(Ticket::decode(&text.to_uppercase()).unwrap(), t);
        assert_eq!(Ticket::decode(&format!("  {text}\n")).unwrap(), t);
    }

    /// A ticket as a `starling:` link reads back in any of the forms a
    /// browser, a QR code or a paste gives it; other schemes do not.
    #[test]
    fn links_read_back() {
        let t = sample();
        let uri = t.to_uri();
        assert_eq!(uri, format!("starling:{}", t.encode()));
        for text in [
            uri.clone(),
            uri.to_uppercase(),
            format!("starling://{}", t.encode()),
            format!(" {uri} "),
        ] {
            assert_eq!(Ticket::decode(&text).unwrap(), t, "{text}");
        }
        assert_eq!(
            Ticket::decode(&format!("https:{}", t.encode())),
            Err(TicketError::BadPrefix)
        );
        assert_eq!(Ticket::decode("starling:"), Err(TicketError::BadPrefix));
        assert_eq!(Ticket::decode("starlinց:x"), Err(TicketError::BadPrefix));
    }

    #[test]
    fn typo_is_caught_by_checksum() {
        let text = sample().encode();
        let mut chars: Vec<char> = text.chars().collect();
        let i = 20;
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        let bad: String = chars.into_iter().collect();
        assert_eq!(Ticket::decode(&bad), Err(TicketError::BadChecksum));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(Ticket::decode("hello"), Err(TicketError::BadPrefix));
        assert!(matches!(
            Ticket::decode("starling1!!!"),
            Err(TicketError::BadEncoding(_))
        ));
        assert!(Ticket::decode("starling1").is_err());
        // Fuzz crasher: a multi-byte character across the prefix boundary.
        assert_eq!(Ticket::decode("starlinտ1abc"), Err(TicketError::BadPrefix));
        assert_eq!(Ticket::decode("ստ"), Err(TicketError::BadPrefix));
        assert!(matches!(
            Ticket::decode(&"a".repeat(5000)),
            Err(TicketError::TooLong(_))
        ));
    }

    #[test]
    fn qr_renders() {
        let t = sample();
        assert!(t.to_qr_text().unwrap().lines().count() > 10);
        let png = t.to_qr_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
