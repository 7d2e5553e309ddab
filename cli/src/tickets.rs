//! Tickets: read from text or a picture of a QR code, shown as text, a QR
//! code in the terminal, or PNG/SVG files; `starling scan`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use starling_core::Ticket;
use starling_core::view::TicketView;

use crate::out::Out;

/// Where to show a ticket besides printing its text.
#[derive(Debug, clap::Args)]
pub(crate) struct QrOut {
    /// Draw it as a QR code in the terminal.
    #[arg(long)]
    qr: bool,
    /// Write it as a QR code to a PNG file.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write it as a QR code to an SVG file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// Prints a ticket as text, and as a QR code in the terminal, a PNG or an
/// SVG file when asked.
pub(crate) fn show(out: Out, t: &Ticket, QrOut { qr, png, svg }: QrOut) -> Result<()> {
    let text = t.encode();
    if let Some(path) = &png {
        write(path, &t.to_qr_png()?)?;
    }
    if let Some(path) = &svg {
        write(path, t.to_qr_svg()?.as_bytes())?;
    }
    let qr_text = if qr { Some(t.to_qr_text()?) } else { None };
    out.show(
        &TicketView {
            text: text.clone(),
            uri: t.to_uri(),
            svg: None,
        },
        || {
            if let Some(q) = &qr_text {
                println!("{q}");
            }
            println!("{text}");
            for p in png.iter().chain(svg.iter()) {
                eprintln!("wrote QR code to {}", p.display());
            }
        },
    );
    Ok(())
}

/// Writes `bytes` to `path` (`-`: standard output).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if is_std(path) {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(bytes)
            .and_then(|()| stdout.flush())
            .context("cannot write to standard output");
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a whole file (`-`: standard input).
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    if is_std(path) {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        return Ok(bytes);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Whether `path` is `-`, standard input or output.
pub(crate) fn is_std(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// A ticket given as text, or as the path of a picture of its QR code.
pub(crate) fn read(arg: &str) -> Result<Ticket> {
    let path = Path::new(arg);
    if !arg
        .trim_start()
        .to_ascii_lowercase()
        .starts_with(starling_core::ticket::TICKET_PREFIX)
        && path.is_file()
    {
        return scan_file(path);
    }
    Ok(Ticket::decode(arg)?)
}

/// The ticket in a picture file.
fn scan_file(path: &Path) -> Result<Ticket> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > starling_core::ticket::MAX_SCAN_BYTES as u64 {
        bail!(
            "{}: {len} bytes is too large for a picture of a ticket",
            path.display()
        );
    }
    let bytes = read_file(path)?;
    Ticket::scan(&bytes).with_context(|| format!("{}", path.display()))
}

/// `starling scan PICTURE`.
pub(crate) fn scan(out: Out, image: &Path) -> Result<()> {
    let view = scan_file(image)?.view();
    out.show(&view, || println!("{}", view.ticket));
    Ok(())
}
