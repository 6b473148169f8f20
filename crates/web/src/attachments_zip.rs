//! Ticket attachments uploaded as one zip: unpacked into the folder the run's inputs are read
//! from, keeping the zip's folders, so a `Path` such as `tickets/42/scan.pdf` resolves. Every
//! entry is checked while streaming: a name must stay inside that folder (no absolute path, no
//! `..`, no drive, no control character), only files and folders (no links), at most
//! [`MAX_ENTRIES`] entries, [`MAX_ENTRY_BYTES`] per file and [`MAX_TOTAL_BYTES`] in all —
//! counted on the bytes actually inflated, never on the sizes the zip declares.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Most entries (files and folders) one zip may hold.
pub const MAX_ENTRIES: usize = 10_000;
/// Largest file of a zip, inflated.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;
/// Most bytes all the files of a zip may inflate to.
pub const MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;

/// Why a zip of attachments is refused: a sentence for staff, naming the zip as uploaded.
#[derive(Debug, thiserror::Error)]
#[error("The attachments zip \"{zip}\" cannot be used: {why}")]
pub struct ZipRefused {
    zip: String,
    why: String,
}

/// Unpacks the zip `bytes` (uploaded as `shown`) into `dir`. A file that is already there
/// (one of the uploaded inputs, or the same name twice) is refused, never written over.
pub fn unpack(bytes: &[u8], shown: &str, dir: &Path) -> Result<u64, ZipRefused> {
    let refused = |why: String| ZipRefused {
        zip: shown.chars().take(80).collect(),
        why,
    };
    let mut zip = zip::ZipArchive::new(io::Cursor::new(bytes))
        .map_err(|e| refused(format!("it is not a readable zip file ({e}).")))?;
    if zip.len() > MAX_ENTRIES {
        return Err(refused(format!(
            "it holds {} entries; at most {MAX_ENTRIES} are accepted.",
            zip.len()
        )));
    }
    let mut total = 0u64;
    let mut files = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| refused(format!("entry {} cannot be read ({e}).", i + 1)))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        let rel = inside_name(&name).map_err(&refused)?;
        let kind = entry.unix_mode().map(|m| m & 0o170_000);
        if entry.is_symlink()
            || matches!(kind, Some(k) if k != 0 && k != 0o100_000 && k != 0o040_000)
        {
            return Err(refused(format!(
                "\"{}\" is a link or a special file; only files and folders are accepted.",
                clip(&name)
            )));
        }
        let path = dir.join(&rel);
        let is_dir = entry.is_dir() || kind == Some(0o040_000);
        let made = if is_dir {
            crate::retention::private_dir(&path)
        } else {
            path.parent()
                .map_or(Ok(()), crate::retention::private_dir)
                .and_then(|_| copy_capped(&mut entry, &path, MAX_TOTAL_BYTES - total))
                .map(|n| {
                    total += n;
                    files += 1;
                })
        };
        made.map_err(|e| refused(write_error(&name, e, total)))?;
    }
    Ok(files)
}

/// Why an entry could not be written, for staff.
fn write_error(name: &str, e: io::Error, total: u64) -> String {
    let name = clip(name);
    match e.kind() {
        io::ErrorKind::AlreadyExists => {
            format!("\"{name}\" is there already (an uploaded file of that name, or twice in the zip).")
        }
        io::ErrorKind::FileTooLarge if MAX_TOTAL_BYTES - total < MAX_ENTRY_BYTES => format!(
            "its files inflate to more than {} MiB in all (\"{name}\" passes it); is it a zip bomb?",
            MAX_TOTAL_BYTES >> 20
        ),
        io::ErrorKind::FileTooLarge => format!(
            "\"{name}\" inflates to more than {} MiB, the largest attachment file accepted.",
            MAX_ENTRY_BYTES >> 20
        ),
        _ => format!("\"{name}\" cannot be unpacked ({e})."),
    }
}

/// The entry `name` as a relative path inside the folder, or why it is refused.
fn inside_name(name: &str) -> Result<PathBuf, String> {
    let outside = || {
        format!(
            "\"{}\" would be unpacked outside its folder (an absolute path, a drive, or '..'); every entry must be a relative path inside the zip.",
            clip(name)
        )
    };
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(format!(
            "an entry has an empty name or one with control characters (\"{}\").",
            clip(name)
        ));
    }
    if name.starts_with(['/', '\\']) || name.contains(':') {
        return Err(outside());
    }
    let mut rel = PathBuf::new();
    for part in name
        .split(['/', '\\'])
        .filter(|p| !p.is_empty() && *p != ".")
    {
        if part == ".." {
            return Err(outside());
        }
        rel.push(part);
    }
    if rel.as_os_str().is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(outside());
    }
    Ok(rel)
}

/// Copies an entry into a new private file, at most [`MAX_ENTRY_BYTES`] and `room`; more is
/// an error of kind `FileTooLarge` (the partial file is removed).
fn copy_capped(entry: &mut impl Read, path: &Path, room: u64) -> io::Result<u64> {
    let cap = MAX_ENTRY_BYTES.min(room);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    let r = loop {
        let got = match entry.read(&mut buf) {
            Ok(0) => break f.flush().map(|_| n),
            Ok(got) => got,
            Err(e) => break Err(e),
        };
        n += got as u64;
        if n > cap {
            break Err(io::Error::from(io::ErrorKind::FileTooLarge));
        }
        if let Err(e) = f.write_all(&buf[..got]) {
            break Err(e);
        }
    };
    if r.is_err() {
        let _ = fs::remove_file(path);
    }
    r
}

fn clip(s: &str) -> String {
    s.chars().take(120).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside() {
        assert_eq!(
            inside_name("tickets/42/scan.pdf").unwrap(),
            PathBuf::from("tickets/42/scan.pdf")
        );
        assert_eq!(inside_name("./a//b").unwrap(), PathBuf::from("a/b"));
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "\\x",
            "C:/x",
            "a\\..\\x",
            "",
            "a\nb",
            "./",
        ] {
            assert!(inside_name(bad).is_err(), "{bad}");
        }
    }
}
