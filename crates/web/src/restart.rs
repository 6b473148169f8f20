//! Runs this console was running when it stopped: at the next start they are recorded as
//! interrupted (never resumed without being asked), so that their page says what happened and
//! offers Resume, which continues from the last checkpoint.

use ferry_store::journal::{RunInfo, RunMode, RunStatus};
use ferry_store::{StoreError, Target};
use std::path::Path;

/// What a live run interrupted by a stop of the console says on its page.
pub const LIVE_STOPPED: &str = "The console stopped while this run was running. Resume continues it from its last checkpoint: what was committed before the stop stays, and nothing is imported twice.";
/// What a test run interrupted by a stop of the console says on its page.
pub const TEST_STOPPED: &str = "The console stopped while this test run was running (a test run keeps nothing). Resume runs the test again.";

/// Whether run `r` was started by a console whose uploads are in `uploads`: its inputs are there.
fn from_console(r: &RunInfo, uploads: &Path) -> bool {
    r.inputs.as_array().is_some_and(|a| {
        !a.is_empty()
            && a.iter().all(|i| {
                i.as_str()
                    .is_some_and(|p| Path::new(p).starts_with(uploads))
            })
    })
}

/// Records as interrupted every run of this console's uploads (`data` canonical) that the
/// journal says is running though no process writes it any more (its process died with the
/// console); returns their numbers. A run another process is writing is left alone.
pub fn mark_stopped_runs(t: &Target, data: &Path) -> Result<Vec<i64>, StoreError> {
    let uploads = crate::retention::uploads(data);
    let mut marked = vec![];
    for r in t.runs()? {
        // `Interrupted` here is also a recorded `running` whose writer is gone.
        let Some(pid) = r.pid else { continue };
        if r.status != RunStatus::Interrupted || !from_console(&r, &uploads) {
            continue;
        }
        let why = match r.mode {
            RunMode::TestOnly => TEST_STOPPED,
            RunMode::Live => LIVE_STOPPED,
        };
        if t.mark_interrupted(r.id, pid, why)? {
            marked.push(r.id);
        }
    }
    Ok(marked)
}
