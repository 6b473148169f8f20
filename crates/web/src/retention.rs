//! The console's data folder: kept private (folders 0700, files 0600, tightened at start), and
//! emptied of what is no longer needed — the uploads of a run that was rolled back or ended
//! longer ago than the retention period (never those of a run that can still be resumed), uploads
//! no run ever used, and generated downloads.

use ferry_store::Target;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an upload folder that no run names is kept (a run is recorded a moment after its
/// upload; one the engine refused before recording it is removed at once).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(24 * 3600);
/// How long a generated download may stay (each is removed as soon as it is sent).
const DOWNLOAD_GRACE: Duration = Duration::from_secs(3600);
/// How often the console sweeps its data folder while it runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The folder under the data folder that holds one upload folder per upload.
pub fn uploads(data: &Path) -> PathBuf {
    data.join("uploads")
}

/// Where generated downloads are written for the moment they are sent.
pub fn downloads(data: &Path) -> PathBuf {
    data.join("runs")
}

/// Creates `dir` (and missing parents) readable only by the console's user.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Writes a new file readable only by the console's user (an existing one is an error, never
/// written over, nor a link followed).
pub async fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .await?;
    f.write_all(bytes).await?;
    f.flush().await
}

/// Creates the data folder and its two folders private, and makes everything already in it
/// private too (a data folder made by an older console, or copied in).
pub fn prepare(data: &Path) -> io::Result<()> {
    private_dir(data)?;
    private_dir(&uploads(data))?;
    private_dir(&downloads(data))?;
    tighten(data)
}

fn tighten(dir: &Path) -> io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let kind = e.file_type()?; // not followed: a symbolic link is left as it is
        let mode = if kind.is_dir() {
            0o700
        } else if kind.is_file() {
            0o600
        } else {
            continue;
        };
        if e.metadata()?.permissions().mode() & 0o777 != mode {
            fs::set_permissions(e.path(), fs::Permissions::from_mode(mode))?;
        }
        if kind.is_dir() {
            tighten(&e.path())?;
        }
    }
    Ok(())
}

/// What the runs that name an upload folder say about it.
#[derive(Default)]
struct FolderUse {
    /// A run of it is running or interrupted: it needs the files to go on.
    resumable: bool,
    rolled_back: bool,
    /// When the last of its runs ended (or started, if it has not ended).
    last: Option<SystemTime>,
}

fn when(ts: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(SystemTime::from)
}

/// The upload folders the target's runs name, by folder name.
fn folder_uses(t: &Target, uploads: &Path) -> Result<HashMap<String, FolderUse>, String> {
    let rows = t
        .rows(
            "SELECT status, started_at, coalesce(finished_at, ''), inputs FROM run",
            &[],
        )
        .map_err(|e| e.to_string())?;
    let mut uses: HashMap<String, FolderUse> = HashMap::new();
    for r in rows {
        let inputs: Vec<String> = serde_json::from_str(&r.text(3)).unwrap_or_default();
        let ended = when(&r.text(2)).or_else(|| when(&r.text(1)));
        for p in inputs {
            let Some(name) = Path::new(&p)
                .strip_prefix(uploads)
                .ok()
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
            else {
                continue;
            };
            let u = uses.entry(name).or_default();
            match r.text(0).as_str() {
                "running" | "interrupted" => u.resumable = true,
                "rolled-back" => u.rolled_back = true,
                _ => {}
            }
            u.last = u.last.max(ended);
        }
    }
    Ok(uses)
}

/// Whether an upload folder is still needed.
fn keep(u: Option<&FolderUse>, modified: SystemTime, now: SystemTime, retain: Duration) -> bool {
    let age = |t: SystemTime| now.duration_since(t).unwrap_or_default();
    match u {
        Some(u) if u.resumable => true,
        Some(u) if u.rolled_back => false,
        Some(u) => age(u.last.unwrap_or(modified)) < retain,
        None => age(modified) < ORPHAN_GRACE,
    }
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Swept {
    pub uploads: usize,
    pub downloads: usize,
}

/// Removes the upload folders no longer needed (see [`keep`]) and the generated downloads older
/// than an hour (`all_downloads`: every one, as at start, when none can be being sent).
pub fn sweep(
    t: &Target,
    data: &Path,
    retain: Duration,
    all_downloads: bool,
) -> Result<Swept, String> {
    let up = uploads(data);
    let uses = folder_uses(t, &up)?;
    let now = SystemTime::now();
    let mut swept = Swept::default();
    for (path, modified) in entries(&up) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if !keep(name.and_then(|n| uses.get(&n)), modified, now, retain) {
            remove(&path);
            swept.uploads += 1;
        }
    }
    for (path, modified) in entries(&downloads(data)) {
        if all_downloads || now.duration_since(modified).unwrap_or_default() >= DOWNLOAD_GRACE {
            remove(&path);
            swept.downloads += 1;
        }
    }
    Ok(swept)
}

/// The entries of a folder with their modification times (none when it cannot be read).
fn entries(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return vec![];
    };
    rd.flatten()
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect()
}

fn remove(path: &Path) {
    let r = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    if let Err(e) = r {
        tracing::warn!("cannot remove {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_kept() {
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 3600);
        let old = now - 40 * day;
        let retain = 30 * day;
        let used = |resumable, rolled_back, last| FolderUse {
            resumable,
            rolled_back,
            last: Some(last),
        };
        assert!(keep(Some(&used(true, false, old)), old, now, retain));
        assert!(keep(Some(&used(true, true, now)), old, now, retain));
        assert!(!keep(Some(&used(false, true, now)), now, now, retain));
        assert!(!keep(Some(&used(false, false, old)), now, now, retain));
        assert!(keep(Some(&used(false, false, now - day)), old, now, retain));
        assert!(!keep(
            Some(&used(false, false, now)),
            now,
            now,
            Duration::ZERO
        ));
        // An upload no run names: kept a day (it may be an upload whose run is starting).
        assert!(keep(None, now, now, Duration::ZERO));
        assert!(!keep(None, now - 2 * day, now, Duration::ZERO));
    }
}
