//! Tickets (SPEC §4.5): closing dates and who closed, and attachments — exactly one of Path
//! or Data, a size limit counted in decoded bytes, and paths that stay inside the source folder.

use super::{EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use ferry_catalogue::Known;
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_validate::{Record, Value};
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Standard base64; the value rules have checked the syntax already, so the decoder is lenient
/// about padding and unused trailing bits rather than refusing what they accepted.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The rules of tickets and their attachments.
pub(crate) struct Tickets;

impl EntityRule for Tickets {
    fn may_change(&self) -> bool {
        true
    }

    fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        if rec.entity.is(Known::TicketAttachment) {
            attachment_rules(env.eff, rec, log, extra)
        } else {
            ticket_rules(rec, log)
        }
    }
}

/// A closed ticket should say who closed it and when; it cannot close before it opened.
fn ticket_rules(rec: &Record, log: &mut dyn FindingSink) -> Result<bool, RunError> {
    let mut rejected = false;
    if rec
        .text("Status")
        .is_some_and(|s| s.eq_ignore_ascii_case("Closed"))
    {
        let missing: Vec<&str> = ["ClosedBy", "DateClosed"]
            .into_iter()
            .filter(|f| rec.get(f).is_none())
            .collect();
        if !missing.is_empty() {
            log.push(&rec.finding(
                Code::TicketClosedIncomplete,
                Some(missing[0]),
                format!(
                    "The ticket is Closed but has no {}.",
                    missing.join(" and no ")
                ),
            ))?;
        }
    }
    if let (
        Some(Value::Date {
            at: opened,
            has_time: opened_time,
        }),
        Some(Value::Date {
            at: closed,
            has_time: closed_time,
        }),
    ) = (rec.get("Date"), rec.get("DateClosed"))
    {
        // Without a time on either side, only the days compare (closed the day it opened is fine).
        let before = if *opened_time && *closed_time {
            closed < opened
        } else {
            closed.date() < opened.date()
        };
        if before {
            log.push(&rec.finding(
                Code::TicketClosedBeforeOpened,
                Some("DateClosed"),
                format!(
                    "DateClosed {} is before the ticket's Date {}.",
                    rec.get("DateClosed").expect("matched").canonical(),
                    rec.get("Date").expect("matched").canonical()
                ),
            ))?;
            rejected = true;
        }
    }
    Ok(rejected)
}

/// Why an attachment is refused: the code, the field, the message.
type Refusal = (Code, &'static str, String);

/// Exactly one of Path or Data, within the size limit: its content and size are derived.
fn attachment_rules(
    eff: &crate::options::Effective,
    rec: &Record,
    log: &mut dyn FindingSink,
    extra: &mut Vec<Cell>,
) -> Result<bool, RunError> {
    let max = eff.max_attachment_bytes;
    let size = match (rec.text("Path"), rec.text("Data")) {
        (Some(_), Some(_)) => Err((
            Code::AttachmentPathOrData,
            "Path",
            "The attachment gives both Path and Data; give exactly one.".to_string(),
        )),
        (None, None) => Err((
            Code::AttachmentPathOrData,
            "FileName",
            "The attachment gives neither Path nor Data; give exactly one.".to_string(),
        )),
        (None, Some(data)) => data_bytes(data, max),
        (Some(path), None) => {
            let shown = &rec.location.file;
            path_bytes(&eff.real_file(shown), shown, path, max)
        }
    };
    match size {
        Ok(bytes) => {
            let size = bytes.len() as i64;
            extra.extend([Cell::Blob(bytes), Cell::Int(size)]);
            Ok(false)
        }
        Err((code, field, message)) => {
            log.push(&rec.finding(code, Some(field), message))?;
            Ok(true)
        }
    }
}

fn too_big(size: u64, max: u64) -> String {
    format!(
        "The attachment is {size} bytes, over the limit of {max} bytes (--max-attachment-bytes)."
    )
}

/// The decoded bytes of base64 `Data`, refused when over `max` before anything is decoded.
fn data_bytes(data: &str, max: u64) -> Result<Vec<u8>, Refusal> {
    let compact: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let pad = compact.iter().rev().take_while(|b| **b == b'=').count();
    let estimate = ((compact.len() / 4) * 3).saturating_sub(pad) as u64;
    if estimate > max {
        return Err((Code::AttachmentTooBig, "Data", too_big(estimate, max)));
    }
    let bytes = BASE64.decode(&compact).map_err(|e| {
        (
            Code::Base64Invalid,
            "Data",
            format!("Data: the data is not valid base64 ({e})."),
        )
    })?;
    let size = bytes.len() as u64;
    if size > max {
        return Err((Code::AttachmentTooBig, "Data", too_big(size, max)));
    }
    Ok(bytes)
}

/// Whether a path names a root or a drive on any platform (`/x`, `\x`, `C:x`, `C:\x`).
fn looks_absolute(given: &str) -> bool {
    let b = given.as_bytes();
    Path::new(given).has_root()
        || given.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// The folder a source file's relative paths start from.
fn source_folder(source_file: &Path) -> PathBuf {
    match source_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The size of the file a `Path` names, after checking it stays inside the source folder.
/// Its length is checked from its metadata before it is read.
/// `shown`: the source file as findings name it (messages never show a server path).
fn path_bytes(source_file: &Path, shown: &str, given: &str, max: u64) -> Result<Vec<u8>, Refusal> {
    let refused = |why: &str| {
        Err((
            Code::AttachmentPathRefused,
            "Path",
            format!("Path \"{}\" {why}.", ferry_findings::clip(given)),
        ))
    };
    if looks_absolute(given) {
        return refused("is absolute; give a path relative to the source file's folder");
    }
    if given.split(['/', '\\']).any(|part| part == "..")
        || Path::new(given)
            .components()
            .any(|c| c == Component::ParentDir)
    {
        return refused("contains '..'; an attachment must be inside the source file's folder");
    }
    let folder = source_folder(source_file);
    let (real, meta) = inside_folder(&folder, shown, given)?;
    let missing = |why: String| Err((Code::AttachmentMissing, "Path", why));
    if meta.len() > max {
        return Err((Code::AttachmentTooBig, "Path", too_big(meta.len(), max)));
    }
    // Read at most one byte over the limit, in case the file grew since its metadata was read.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let read = std::fs::File::open(&real)
        .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, max + 1), &mut bytes));
    if let Err(e) = read {
        return missing(format!(
            "Path \"{}\" cannot be read: {e}.",
            ferry_findings::clip(given)
        ));
    }
    if bytes.len() as u64 > max {
        return Err((
            Code::AttachmentTooBig,
            "Path",
            too_big(bytes.len() as u64, max),
        ));
    }
    Ok(bytes)
}

/// The real path and metadata of the file `given` names in `folder`, refused when it resolves
/// outside it (through a symbolic link), is missing, or is not a file.
fn inside_folder(
    folder: &Path,
    shown: &str,
    given: &str,
) -> Result<(PathBuf, std::fs::Metadata), Refusal> {
    let refused = |why: &str| {
        Err((
            Code::AttachmentPathRefused,
            "Path",
            format!("Path \"{}\" {why}.", ferry_findings::clip(given)),
        ))
    };
    let missing = |why: String| Err((Code::AttachmentMissing, "Path", why));
    let root = match folder.canonicalize() {
        Ok(r) => r,
        Err(e) => {
            return missing(format!(
                "The folder of {} cannot be opened: {e}.",
                ferry_findings::clip(shown)
            ))
        }
    };
    let real = match folder.join(given).canonicalize() {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return missing(format!(
                "Path \"{}\": there is no such file in the folder of {}.",
                ferry_findings::clip(given),
                ferry_findings::clip(shown)
            ))
        }
        Err(e) => {
            return missing(format!(
                "Path \"{}\" cannot be opened: {e}.",
                ferry_findings::clip(given)
            ))
        }
    };
    if !real.starts_with(&root) {
        return refused("resolves outside the source file's folder (through a symbolic link)");
    }
    let meta = match std::fs::metadata(&real) {
        Ok(m) => m,
        Err(e) => {
            return missing(format!(
                "Path \"{}\" cannot be read: {e}.",
                ferry_findings::clip(given)
            ))
        }
    };
    if !meta.is_file() {
        return missing(format!(
            "Path \"{}\" is not a file.",
            ferry_findings::clip(given)
        ));
    }
    Ok((real, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_sizes() {
        assert_eq!(data_bytes("aGVsbG8=", 100).map(|b| b.len()), Ok(5));
        assert_eq!(data_bytes("aGVs\nbG8=", 100).map(|b| b.len()), Ok(5));
        assert_eq!(data_bytes("", 100).map(|b| b.len()), Ok(0));
        assert_eq!(data_bytes("aGVsbG8=", 5).map(|b| b.len()), Ok(5));
        assert_eq!(
            data_bytes("aGVsbG8=", 4).unwrap_err().0,
            Code::AttachmentTooBig
        );
    }

    #[test]
    fn absolute_paths() {
        assert!(looks_absolute("/etc/passwd"));
        assert!(looks_absolute("\\server\\share"));
        assert!(looks_absolute("C:\\x"));
        assert!(looks_absolute("c:x"));
        assert!(!looks_absolute("files/a.txt"));
    }

    #[test]
    fn folders() {
        assert_eq!(source_folder(Path::new("a.xml")), PathBuf::from("."));
        assert_eq!(
            source_folder(Path::new("d/TicketAttachment.csv")),
            PathBuf::from("d")
        );
    }
}
