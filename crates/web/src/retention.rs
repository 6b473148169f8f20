//! The console's data folder: kept private (folders 0700, files 0600, tightened at start), and
//! emptied of what is no longer needed — the uploads whose runs were all rolled back or ended
//! longer ago than the retention period (never those of a run that can still be resumed, and
//! those of a test run that can still be run live at least a day), uploads no run ever used,
//! and generated downloads.

use ferry_store::journal::{RunMode, RunStatus, UnknownValue};
use ferry_store::{StoreError, Target};
use std::collections::HashMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long an upload folder that no run names is kept (a run is recorded a moment after its
/// upload; one the engine refused before recording it is removed at once).
pub const ORPHAN_GRACE: Duration = Duration::from_secs(24 * 3600);
/// How long an upload whose test run can still be run live is kept at least, whatever the
/// retention (`--retain-uploads-days 0` included).
pub const LIVE_GRACE: Duration = Duration::from_secs(24 * 3600);
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
/// private too (a data folder made by an older console, or copied in). An error names the path
/// it is about.
pub fn prepare(data: &Path) -> io::Result<()> {
    for dir in [data.to_path_buf(), uploads(data), downloads(data)] {
        private_dir(&dir).map_err(|e| about(&dir, e))?;
    }
    tighten(data)
}

/// `e`, saying which path it is about.
fn about(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("cannot make {} private: {e}", path.display()),
    )
}

fn tighten(dir: &Path) -> io::Result<()> {
    for e in fs::read_dir(dir).map_err(|e| about(dir, e))? {
        let e = e.map_err(|e| about(dir, e))?;
        let path = e.path();
        let kind = e.file_type().map_err(|e| about(&path, e))?; // a link is not followed
        let mode = if kind.is_dir() {
            0o700
        } else if kind.is_file() {
            0o600
        } else {
            continue;
        };
        let now = e.metadata().map_err(|e| about(&path, e))?.permissions();
        if now.mode() & 0o777 != mode {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|e| about(&path, e))?;
        }
        if kind.is_dir() {
            tighten(&path)?;
        }
    }
    Ok(())
}

/// Why the uploads still needed cannot be told (so every upload is kept).
#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the inputs of run {run} cannot be read ({source}): every upload is kept")]
    Inputs {
        run: i64,
        #[source]
        source: serde_json::Error,
    },
    #[error("run {run} cannot be read ({source}): every upload is kept")]
    Run {
        run: i64,
        #[source]
        source: UnknownValue,
    },
}

/// One run that names an upload folder, as far as keeping the folder goes.
#[derive(Debug, Clone)]
struct RunUse {
    id: i64,
    mode: RunMode,
    /// As recorded (a running run whose process died is still `Running` here).
    status: RunStatus,
    errors: i64,
    /// When it ended (or started, if it has not ended).
    ended: Option<SystemTime>,
}

fn when(ts: &str) -> Option<SystemTime> {
    chrono::DateTime::parse_from_rfc3339(ts)
        .ok()
        .map(SystemTime::from)
}

/// The upload folders the target's runs name, by folder name, with those runs (`only`: just
/// the runs that name that folder). A run whose inputs cannot be read might name any folder:
/// that is an error, and the caller keeps everything.
fn folder_runs(
    t: &Target,
    uploads: &Path,
    only: Option<&str>,
) -> Result<HashMap<String, Vec<RunUse>>, RetentionError> {
    // With `only`, a first cut in the database; the exact folder is checked below.
    let rows = ferry_report::runs::naming(t, only)?;
    let mut uses: HashMap<String, Vec<RunUse>> = HashMap::new();
    for r in rows {
        let inputs: Vec<String> = serde_json::from_str(&r.inputs)
            .map_err(|source| RetentionError::Inputs { run: r.id, source })?;
        let unknown = |source| RetentionError::Run { run: r.id, source };
        let run = RunUse {
            id: r.id,
            mode: r.mode.parse().map_err(unknown)?,
            status: r.status.parse().map_err(unknown)?,
            errors: r.errors,
            ended: when(&r.finished_at).or_else(|| when(&r.started_at)),
        };
        for name in inputs.iter().filter_map(|p| folder_name(uploads, p)) {
            if only.is_none_or(|o| o == name) {
                let runs = uses.entry(name).or_default();
                if !runs.iter().any(|u| u.id == run.id) {
                    runs.push(run.clone());
                }
            }
        }
    }
    Ok(uses)
}

/// The upload folder an input is in, if it is in one.
fn folder_name(uploads: &Path, input: &str) -> Option<String> {
    Path::new(input)
        .strip_prefix(uploads)
        .ok()
        .and_then(|rest| rest.components().next())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
}

/// Whether a test run can still be run live: it succeeded without errors (or finished with
/// errors: its valid records can be imported), and no live run (that was not rolled back) was
/// made of the same upload after it.
fn can_run_live(r: &RunUse, standing: &[&RunUse]) -> bool {
    (r.status.can_run_live(r.mode, r.errors) || r.status.can_import_valid(r.mode))
        && !standing
            .iter()
            .any(|l| l.mode == RunMode::Live && l.id > r.id)
}

/// Whether an upload folder is still needed. Only the runs that were not rolled back count:
/// - a run that can be resumed (running or interrupted) needs it, however old;
/// - otherwise it stays `retain` after the last of them ended;
/// - a test run that can still be run live (clean, or its valid records) keeps it at least
///   [`LIVE_GRACE`] (so that with a retention of 0, "Run live" or "Import the valid rows"
///   still works after the test run);
/// - a folder whose runs were all rolled back goes; one no run names goes after
///   [`ORPHAN_GRACE`].
fn keep(runs: Option<&[RunUse]>, modified: SystemTime, now: SystemTime, retain: Duration) -> bool {
    let age = |t: Option<SystemTime>| {
        now.duration_since(t.unwrap_or(modified))
            .unwrap_or_default()
    };
    let Some(runs) = runs else {
        return age(None) < ORPHAN_GRACE;
    };
    let standing: Vec<&RunUse> = runs
        .iter()
        .filter(|r| r.status != RunStatus::RolledBack)
        .collect();
    if standing
        .iter()
        .any(|r| r.status == RunStatus::Running || r.status.can_resume())
    {
        return true;
    }
    let Some(last) = standing.iter().map(|r| age(r.ended)).min() else {
        return false; // every run of it was rolled back
    };
    last < retain
        || standing
            .iter()
            .any(|r| can_run_live(r, &standing) && age(r.ended) < retain.max(LIVE_GRACE))
}

/// Whether every input of a run is still there and would be kept by a sweep now (`inputs` as
/// the run records them). Hold the uploads' lock to read for the answer to stay true.
pub fn kept(
    t: &Target,
    data: &Path,
    retain: Duration,
    inputs: &[String],
) -> Result<bool, RetentionError> {
    let up = uploads(data);
    let now = SystemTime::now();
    for input in inputs {
        if !Path::new(input).exists() {
            return Ok(false);
        }
        let Some(name) = folder_name(&up, input) else {
            continue; // not an upload (a run of the command line): never swept
        };
        let modified = modified(&up.join(&name)).unwrap_or(now);
        let uses = folder_runs(t, &up, Some(&name))?;
        if !keep(uses.get(&name).map(Vec::as_slice), modified, now, retain) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn modified(p: &Path) -> Option<SystemTime> {
    fs::metadata(p).ok()?.modified().ok()
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Swept {
    pub uploads: usize,
    pub downloads: usize,
}

/// Removes the upload folders no longer needed (see [`keep`]) and the generated downloads older
/// than an hour (`all_downloads`: every one, as at start, when none can be being sent). Call it
/// holding the uploads' lock to write: each folder is checked again just before it goes. When
/// a run's inputs cannot be read, no upload is removed (and that is the error).
pub fn sweep(
    t: &Target,
    data: &Path,
    retain: Duration,
    all_downloads: bool,
) -> Result<Swept, RetentionError> {
    let now = SystemTime::now();
    let mut swept = Swept::default();
    for (path, modified) in entries(&downloads(data)) {
        if all_downloads || now.duration_since(modified).unwrap_or_default() >= DOWNLOAD_GRACE {
            remove(&path);
            swept.downloads += 1;
        }
    }
    let up = uploads(data);
    let uses = folder_runs(t, &up, None)?;
    for (path, modified) in entries(&up) {
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        if keep(uses.get(&name).map(Vec::as_slice), modified, now, retain) {
            continue;
        }
        // Again, just before it goes: a run recorded since the list was read keeps it.
        let fresh = folder_runs(t, &up, Some(&name))?;
        if !keep(
            fresh.get(&name).map(Vec::as_slice),
            modified,
            SystemTime::now(),
            retain,
        ) {
            remove(&path);
            swept.uploads += 1;
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
        eprintln!("Warning: cannot remove {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn run(id: i64, mode: &str, status: &str, errors: i64, ended: SystemTime) -> RunUse {
        RunUse {
            id,
            mode: mode.parse().unwrap(),
            status: status.parse().unwrap(),
            errors,
            ended: Some(ended),
        }
    }

    #[test]
    fn what_is_kept() {
        let now = SystemTime::now();
        let old = now - 40 * DAY;
        let retain = 30 * DAY;
        let kept = |runs: &[RunUse], retain| keep(Some(runs), now, now, retain);
        // Resumable: kept however old, even beside a rolled-back run.
        assert!(kept(&[run(1, "live", "interrupted", 0, old)], retain));
        assert!(kept(
            &[
                run(1, "live", "running", 0, old),
                run(2, "live", "rolled-back", 0, now)
            ],
            retain
        ));
        // Every run rolled back: gone.
        assert!(!kept(&[run(1, "live", "rolled-back", 0, now)], retain));
        // A live run rolled back beside the test run it came from: the test run keeps it (it
        // can be run live again).
        let test = run(1, "test-only", "succeeded", 0, now - DAY);
        assert!(kept(
            &[test.clone(), run(2, "live", "rolled-back", 0, now)],
            retain
        ));
        // The retention, counted from the last run that stands.
        assert!(!kept(&[run(1, "live", "succeeded", 0, old)], retain));
        assert!(kept(&[run(1, "live", "succeeded", 0, now - DAY)], retain));
        // Retention 0: a clean test run keeps its upload a day, until it is run live.
        assert!(kept(
            &[run(1, "test-only", "succeeded", 0, now)],
            Duration::ZERO
        ));
        assert!(!kept(
            &[
                run(1, "test-only", "succeeded", 0, now),
                run(2, "live", "succeeded", 0, now)
            ],
            Duration::ZERO
        ));
        assert!(!kept(
            &[run(1, "test-only", "succeeded", 3, now)],
            Duration::ZERO
        ));
        assert!(!kept(
            &[run(1, "test-only", "succeeded", 0, now - 2 * DAY)],
            Duration::ZERO
        ));
        // A test run past a longer retention can no longer be run live.
        assert!(!kept(&[run(1, "test-only", "succeeded", 0, old)], retain));
        // An upload no run names: kept a day (it may be an upload whose run is starting).
        assert!(keep(None, now, now, Duration::ZERO));
        assert!(!keep(None, now - 2 * DAY, now, Duration::ZERO));
    }
}
