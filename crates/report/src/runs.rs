//! The run journal as the console's pages show it: the list of runs (newest first, as
//! recorded), one run as recorded (its status as written, not as its process's liveness makes
//! it) and whether a later live run used the same inputs. Each line of the list says who
//! started, resumed or rolled back the run (the journal's `run_event`) and how many records it
//! imported (or updated) and rejected (its `run_count`).

use ferry_store::journal::{RunAction, RunMode, RunStatus};
use ferry_store::{params, Cell, Row, StoreError, Target};

/// One line of the runs list, as recorded (the words as the journal wrote them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunLine {
    pub id: i64,
    pub kind: String,
    pub mode: String,
    pub status: String,
    pub started_at: String,
    /// Empty while the run has not finished.
    pub finished_at: String,
    pub errors: i64,
    pub warnings: i64,
    /// The inputs as recorded (a JSON array of paths).
    pub inputs: String,
    /// Records imported or updated (for a test run: those a live run would import).
    pub imported: i64,
    /// Records rejected.
    pub rejected: i64,
    /// Who started the run (a staff member's e-mail, or `command line`); empty for runs
    /// recorded before the journal kept it.
    pub started_by: String,
    /// Who resumed it, in order.
    pub resumed_by: Vec<String>,
    /// Who rolled it back, or empty.
    pub rolled_back_by: String,
    /// The file names of each input that is a folder, as recorded (`command_line.folder_files`).
    pub folder_files: Vec<Vec<String>>,
}

/// The file names of each folder input recorded in a run's options (`command_line.folder_files`:
/// the console's CSV uploads), empty when none were recorded.
pub fn folder_files(options: &serde_json::Value) -> Vec<Vec<String>> {
    options
        .get("command_line")
        .and_then(|c| c.get("folder_files"))
        .and_then(|f| serde_json::from_value(f.clone()).ok())
        .unwrap_or_default()
}

/// The newest `limit` runs (of `kind` only, if given), newest first.
pub fn list(t: &Target, kind: Option<&str>, limit: usize) -> Result<Vec<RunLine>, StoreError> {
    let (filter, ps) = match kind {
        Some(k) => ("WHERE kind = ?1", vec![Cell::Text(k.to_string())]),
        None => ("", vec![]),
    };
    let rows = t.rows(
        &format!("SELECT id, kind, mode, status, started_at, coalesce(finished_at, ''), errors, warnings, inputs,
                    (SELECT coalesce(sum(c.imported + c.updated), 0) FROM run_count c WHERE c.run_id = run.id),
                    (SELECT coalesce(sum(c.rejected), 0) FROM run_count c WHERE c.run_id = run.id),
                    options
                  FROM run {filter} ORDER BY id DESC LIMIT {limit}"),
        &ps,
    )?;
    let mut lines: Vec<RunLine> = rows.iter().map(line).collect();
    add_actors(t, &mut lines)?;
    Ok(lines)
}

/// Who did what to each of `lines`' runs: one query for all of them.
fn add_actors(t: &Target, lines: &mut [RunLine]) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (lines.last().map(|l| l.id), lines.first().map(|l| l.id))
    else {
        return Ok(());
    };
    let at: std::collections::HashMap<i64, usize> =
        lines.iter().enumerate().map(|(i, l)| (l.id, i)).collect();
    for e in t.rows(
        "SELECT run_id, action, actor FROM run_event WHERE run_id BETWEEN ?1 AND ?2 ORDER BY id",
        params![first, last],
    )? {
        let Some(&i) = at.get(&e.int(0)) else {
            continue;
        };
        let l = &mut lines[i];
        let actor = e.text(2);
        match e.text(1).as_str() {
            a if a == RunAction::Started.as_str() => l.started_by = actor,
            a if a == RunAction::Resumed.as_str() => l.resumed_by.push(actor),
            a if a == RunAction::RolledBack.as_str() => l.rolled_back_by = actor,
            _ => {}
        }
    }
    Ok(())
}

/// A run as the journal recorded it: `Running` stays `Running` even if its process died (the
/// page decides that with what it knows of the process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRun {
    pub id: i64,
    pub kind: String,
    pub mode: RunMode,
    pub status: RunStatus,
    pub started_at: String,
    /// Empty while the run has not finished.
    pub finished_at: String,
    /// The inputs as recorded (a JSON array of paths).
    pub inputs: String,
    /// Empty unless the run stopped on a problem.
    pub error: String,
    pub errors: i64,
    pub warnings: i64,
    pub infos: i64,
}

impl RecordedRun {
    /// Whether this run can be run live, as far as the run itself says: see
    /// [`RunStatus::can_run_live`].
    pub fn can_run_live(&self) -> bool {
        self.status.can_run_live(self.mode, self.errors)
    }
    /// See [`RunStatus::can_resume`].
    pub fn can_resume(&self) -> bool {
        self.status.can_resume()
    }
    /// See [`RunStatus::can_roll_back`].
    pub fn can_roll_back(&self) -> bool {
        self.status.can_roll_back(self.mode)
    }
    /// Whether the journal says the run is still going.
    pub fn running(&self) -> bool {
        self.status == RunStatus::Running
    }
    /// Whether it ended well (the page shows its outcome as good news).
    pub fn succeeded(&self) -> bool {
        self.status == RunStatus::Succeeded
    }
}

/// Run `id` as recorded, or `None` if there is none. A status or mode this Ferry does not
/// know is [`StoreError::Journal`].
pub fn recorded(t: &Target, id: i64) -> Result<Option<RecordedRun>, StoreError> {
    let Some(r) = t.first(
        "SELECT kind, mode, status, started_at, coalesce(finished_at, ''), inputs, coalesce(error, ''), errors, warnings, infos FROM run WHERE id = ?1",
        params![id],
    )? else {
        return Ok(None);
    };
    from_row(id, &r).map(Some)
}

fn from_row(id: i64, r: &Row) -> Result<RecordedRun, StoreError> {
    let journal = |source| StoreError::Journal { run: id, source };
    Ok(RecordedRun {
        id,
        kind: r.text(0),
        status: r.text(2).parse().map_err(journal)?,
        mode: r.text(1).parse().map_err(journal)?,
        started_at: r.text(3),
        finished_at: r.text(4),
        inputs: r.text(5),
        error: r.text(6),
        errors: r.int(7),
        warnings: r.int(8),
        infos: r.int(9),
    })
}

/// Run `id`'s recorded status and error and warning counts (what its page's progress bar
/// polls), or `None` if there is no such run. A status this Ferry does not know is
/// [`StoreError::Journal`].
pub fn recorded_status(t: &Target, id: i64) -> Result<Option<RecordedStatus>, StoreError> {
    let Some(r) = t.first(
        "SELECT status, errors, warnings FROM run WHERE id = ?1",
        params![id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(RecordedStatus {
        status: r
            .text(0)
            .parse()
            .map_err(|source| StoreError::Journal { run: id, source })?,
        errors: r.int(1),
        warnings: r.int(2),
    }))
}

/// A run's status as recorded, with its error and warning counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordedStatus {
    pub status: RunStatus,
    pub errors: i64,
    pub warnings: i64,
}

impl RecordedStatus {
    /// Whether the journal says the run is still going.
    pub fn running(&self) -> bool {
        self.status == RunStatus::Running
    }
}

/// Whether a live run after `run`, not rolled back, used the same inputs (recorded as
/// `inputs`): running `run` live again would import them twice.
pub fn later_live(t: &Target, run: i64, inputs: &str) -> Result<bool, StoreError> {
    Ok(t.int(
        "SELECT count(*) FROM run WHERE id > ?1 AND mode = ?2 AND status <> ?3 AND inputs = ?4",
        params![
            run,
            RunMode::Live.as_str(),
            RunStatus::RolledBack.as_str(),
            inputs.to_string()
        ],
    )? > 0)
}

/// Every run (in the order they were made) whose recorded inputs contain `text`, or every run:
/// what the console's sweep reads to know which uploads are still needed.
pub fn naming(t: &Target, text: Option<&str>) -> Result<Vec<RunLine>, StoreError> {
    let sql = "SELECT id, kind, mode, status, started_at, coalesce(finished_at, ''), errors, warnings, inputs FROM run";
    let rows = match text {
        Some(text) => t.rows(
            &format!("{sql} WHERE inputs LIKE ?1 ORDER BY id"),
            params![format!("%{text}%")],
        )?,
        None => t.rows(&format!("{sql} ORDER BY id"), &[])?,
    };
    Ok(rows.iter().map(line).collect())
}

fn line(r: &Row) -> RunLine {
    RunLine {
        id: r.int(0),
        kind: r.text(1),
        mode: r.text(2),
        status: r.text(3),
        started_at: r.text(4),
        finished_at: r.text(5),
        errors: r.int(6),
        warnings: r.int(7),
        inputs: r.text(8),
        imported: r.int(9),
        rejected: r.int(10),
        folder_files: folder_files(&serde_json::from_str(&r.text(11)).unwrap_or_default()),
        ..RunLine::default()
    }
}
