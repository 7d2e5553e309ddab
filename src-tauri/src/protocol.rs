//! The `starling-media:` protocol ([`SCHEME`]): images (post images and avatars) opened from
//! the store, so the UI can show them with a plain `<img>` under a CSP that
//! allows no remote content. The path is `OWNER/HASH` (hex), as
//! `convertFileSrc` makes it.

use std::borrow::Cow;

use starling_core::{Hash, IdentityId};
use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::shell::{Shell, lock};

/// The webview protocol images are served on. Not `starling:`, which is
/// the scheme of the links that open the app (`crate::links`).
pub(crate) const SCHEME: &str = "starling-media";

/// The MIME type of an image by its first bytes (the formats posts take).
pub(crate) fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xff, 0xd8, 0xff, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => Some("image/webp"),
        _ => None,
    }
}

/// `OWNER/HASH` from a request path (`/OWNER%2FHASH` or `/OWNER/HASH`).
pub(crate) fn parse_path(path: &str) -> Option<(IdentityId, Hash)> {
    let path = path
        .trim_start_matches('/')
        .replace("%2F", "/")
        .replace("%2f", "/");
    let (owner, hash) = path.split_once('/')?;
    Some((owner.parse().ok()?, hash.parse().ok()?))
}

fn reply(status: StatusCode, mime: &str, body: Vec<u8>) -> Response<Cow<'static, [u8]>> {
    // A blob never changes under its hash; a miss may be fetched later.
    let cache = if status == StatusCode::OK {
        "max-age=31536000, immutable"
    } else {
        "no-store"
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime)
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CACHE_CONTROL, cache)
        .body(Cow::Owned(body))
        .unwrap_or_else(|_| Response::new(Cow::Borrowed(&[][..])))
}

fn answer<R: Runtime>(app: &tauri::AppHandle<R>, path: &str) -> Response<Cow<'static, [u8]>> {
    let not_found = || reply(StatusCode::NOT_FOUND, "text/plain", b"not here".to_vec());
    let Some((owner, hash)) = parse_path(path) else {
        return reply(
            StatusCode::BAD_REQUEST,
            "text/plain",
            b"bad image path".to_vec(),
        );
    };
    let Ok(node) = app.state::<Shell>().node() else {
        return not_found();
    };
    let bytes = lock(&node).open_blob(&owner, &hash);
    match bytes {
        // Only image types are served; anything else is not shown.
        Ok(Some(bytes)) => match sniff(&bytes) {
            Some(mime) => reply(StatusCode::OK, mime, bytes),
            None => reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "text/plain",
                b"not an image".to_vec(),
            ),
        },
        _ => not_found(),
    }
}

/// Answers one request off the UI thread.
pub(crate) fn serve<R: Runtime>(
    ctx: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    let path = request.uri().path().to_string();
    tauri::async_runtime::spawn_blocking(move || responder.respond(answer(&app, &path)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_types() {
        let owner = IdentityId([7; 32]);
        let hash = Hash([9; 32]);
        assert_eq!(
            parse_path(&format!("/{owner}%2F{hash}")),
            Some((owner, hash))
        );
        assert_eq!(parse_path(&format!("/{owner}/{hash}")), Some((owner, hash)));
        assert_eq!(parse_path("/../etc/passwd"), None);
        assert_eq!(parse_path(""), None);
        assert_eq!(sniff(b"\x89PNG\r\n"), Some("image/png"));
        assert_eq!(sniff(b"<svg onload=x>"), None);
    }
}
