//! Bundles and the store itself: `export`, `import`, `check`, `storage`.

use std::path::Path;

use anyhow::{Result, bail};
use starling_core::view::Exported;
use starling_core::{Audience, IdentityId, ImportProgress, Node, Ticket};

use crate::out::Out;
use crate::tickets::{is_std, read_file, write};

/// Who `--for` names: an identity id or their feed ticket.
fn audience(text: &str) -> Result<Audience> {
    if let Ok(id) = text.parse::<IdentityId>() {
        return Ok(Audience::Identity(id));
    }
    match Ticket::decode(text) {
        Ok(Ticket::Feed(t)) => Ok(Audience::Identity(t.identity)),
        Ok(_) => bail!("that ticket does not name an identity"),
        Err(e) => bail!("--for takes an identity id or a ticket: {e}"),
    }
}

/// `starling export --out FILE [--for WHO]` (`--out -`: the bundle on
/// standard output, the summary on stderr).
pub(crate) fn export(out: Out, node: &mut Node, path: &Path, for_: Option<&str>) -> Result<()> {
    let audience = for_.map(audience).transpose()?.unwrap_or(Audience::Anyone);
    let bytes = node.export(audience)?;
    let records = starling_core::bundle::parse(&bytes)?.len() as u64;
    write(path, &bytes)?;
    let view = Exported {
        path: path.display().to_string(),
        records,
        bytes: bytes.len() as u64,
    };
    if is_std(path) {
        // The bundle is standard output; what was written goes to stderr.
        let said = if out.json {
            serde_json::to_string(&view).unwrap_or_default()
        } else {
            format!("wrote {records} records ({} bytes)", view.bytes)
        };
        eprintln!("{said}");
        return Ok(());
    }
    out.show(&view, || {
        println!(
            "wrote {records} records ({} bytes) to {}",
            view.bytes, view.path
        )
    });
    Ok(())
}

/// `starling import FILE [--progress]`: refusals are also listed on
/// stderr, and so is each committed batch with `--progress`.
pub(crate) fn import(out: Out, node: &mut Node, path: &Path, progress: bool) -> Result<()> {
    let bytes = read_file(path)?;
    let mut say = |p: ImportProgress| {
        if !progress {
            return;
        }
        if out.json {
            eprintln!(r#"{{"imported":{},"of":{}}}"#, p.done, p.total);
        } else {
            eprintln!("imported {} of {} entries", p.done, p.total);
        }
    };
    let r = node.import_with(&bytes, &mut say)?.summary();
    for x in &r.rejections {
        let what =
            x.id.map(|i| i.fmt_short())
                .unwrap_or_else(|| "(undecodable)".into());
        eprintln!("rejected {what}: {}", x.reason);
    }
    out.show(&r, || {
        println!(
            "accepted {}, already known {}, refused {}, waiting for earlier entries {}, blobs {}",
            r.accepted, r.known, r.refused, r.pending, r.blobs
        )
    });
    Ok(())
}

/// `starling check`: fails when it finds a problem.
pub(crate) fn check(out: Out, node: &mut Node) -> Result<()> {
    let r = node.store().check()?.summary();
    out.show(&r, || {
        println!(
            "checked {} entries: {}",
            r.entries,
            if r.ok { "ok" } else { "PROBLEMS" }
        );
        for p in &r.problems {
            println!("  {p}");
        }
    });
    if !r.ok {
        bail!("store check found {} problems", r.problems.len());
    }
    Ok(())
}
