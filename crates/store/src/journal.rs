//! The run journal: every run's mode, status, inputs, options, counters, checkpoint and
//! findings, kept in the target itself (a test-only run keeps these, and only these).

use crate::{params, Row};
use crate::{Cell, Result, StoreError, Target};
use ferry_findings::{Code, Finding, Location, Severity};
use serde::Serialize;

pub fn now() -> String {
    chrono::Local::now()
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunMode {
    TestOnly,
    Live,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::TestOnly => "test-only",
            RunMode::Live => "live",
        }
    }
}

impl std::str::FromStr for RunMode {
    type Err = UnknownValue;
    fn from_str(s: &str) -> std::result::Result<RunMode, UnknownValue> {
        match s {
            "test-only" => Ok(RunMode::TestOnly),
            "live" => Ok(RunMode::Live),
            _ => Err(UnknownValue::new("mode", s)),
        }
    }
}

/// What a run does: an import (SPEC §6) or a legacy certification migration (§11). Both are
/// the same engine run; the kind decides which entity types it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    #[default]
    Import,
    Certification,
    /// `ferry config import`: setup and configuration records only.
    Config,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Import => "import",
            RunKind::Certification => "certification",
            RunKind::Config => "config",
        }
    }
    /// Whether a run of this kind reads records of entity type `e`.
    pub fn reads(self, e: &ferry_catalogue::Entity) -> bool {
        match self {
            RunKind::Import => !e.is_certification(),
            RunKind::Certification => e.is_certification(),
            RunKind::Config => e.is_configuration(),
        }
    }
    pub fn is_import(&self) -> bool {
        *self == RunKind::Import
    }
}

impl std::str::FromStr for RunKind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> std::result::Result<RunKind, UnknownValue> {
        [RunKind::Import, RunKind::Certification, RunKind::Config]
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue::new("kind", s))
    }
}

/// A run's status. `Running` with a dead process is shown as `Interrupted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Running,
    Succeeded,
    /// Finished, with record errors (rejected records).
    CompletedWithErrors,
    /// Stopped by a problem with an input or the target; nothing after the stop was written.
    Failed,
    Interrupted,
    RolledBack,
}

impl RunStatus {
    /// Every status, in the order of the enum.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::CompletedWithErrors,
        RunStatus::Failed,
        RunStatus::Interrupted,
        RunStatus::RolledBack,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::CompletedWithErrors => "completed-with-errors",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::RolledBack => "rolled-back",
        }
    }
    /// Whether a run in this status can be resumed: only an interrupted one (a running one
    /// is being written by its process; a finished one has nothing left to do).
    pub fn can_resume(self) -> bool {
        self == RunStatus::Interrupted
    }
    /// Whether a run of `mode` in this status, with `errors` error findings, can be run live:
    /// only a test run that succeeded without errors. (Whether a later live run or the upload
    /// allows it is the caller's to add.)
    pub fn can_run_live(self, mode: RunMode, errors: i64) -> bool {
        mode == RunMode::TestOnly && self == RunStatus::Succeeded && errors == 0
    }
    /// Whether the valid records of a run of `mode` in this status can be imported by a live
    /// run of the same files: only a test run that finished with errors (the rejected records
    /// stay out).
    pub fn can_import_valid(self, mode: RunMode) -> bool {
        mode == RunMode::TestOnly && self == RunStatus::CompletedWithErrors
    }
    /// Whether a run of `mode` in this status can be rolled back: a live run that kept data,
    /// is not running and was not already rolled back (whether later runs built on it is the
    /// rollback's to check).
    pub fn can_roll_back(self, mode: RunMode) -> bool {
        mode == RunMode::Live && !matches!(self, RunStatus::Running | RunStatus::RolledBack)
    }
}

impl std::str::FromStr for RunStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> std::result::Result<RunStatus, UnknownValue> {
        // The words are `as_str`'s, so the two cannot drift apart.
        RunStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue::new("status", s))
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(RunMode, RunKind, RunStatus);

/// A run's mode, kind or status that is none this Ferry knows (a journal written by another
/// version, or edited by hand): never guessed at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run {what} `{text}`")]
pub struct UnknownValue {
    /// `mode`, `kind` or `status`.
    pub what: &'static str,
    pub text: String,
}

impl UnknownValue {
    fn new(what: &'static str, text: &str) -> UnknownValue {
        UnknownValue {
            what,
            text: text.to_string(),
        }
    }
}

/// Per entity type: records read = imported + updated + skipped + rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub read: u64,
    pub imported: u64,
    pub updated: u64,
    pub skipped: u64,
    pub rejected: u64,
}

impl Counts {
    pub fn balanced(&self) -> bool {
        self.read == self.imported + self.updated + self.skipped + self.rejected
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub kind: RunKind,
    pub mode: RunMode,
    pub status: RunStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub inputs: serde_json::Value,
    pub options: serde_json::Value,
    pub input_hash: String,
    pub error: Option<String>,
    pub errors: i64,
    pub warnings: i64,
    pub infos: i64,
    pub pid: Option<i64>,
}

/// A run's lifecycle, decided here once for the command line and the console alike.
impl RunInfo {
    /// See [`RunStatus::can_resume`].
    pub fn can_resume(&self) -> bool {
        self.status.can_resume()
    }
    /// See [`RunStatus::can_run_live`].
    pub fn can_run_live(&self) -> bool {
        self.status.can_run_live(self.mode, self.errors)
    }
    /// See [`RunStatus::can_roll_back`].
    pub fn can_roll_back(&self) -> bool {
        self.status.can_roll_back(self.mode)
    }
}

pub fn pid_alive(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// What someone did to a run, kept in `run_event` with who did it: the runs list's "started
/// by", "rolled back by".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunAction {
    /// Started the run (a new run: a test, a live run, a retry).
    Started,
    /// Resumed the interrupted run.
    Resumed,
    /// Rolled the run back.
    RolledBack,
}

impl RunAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RunAction::Started => "started",
            RunAction::Resumed => "resumed",
            RunAction::RolledBack => "rolled back",
        }
    }
}

/// Who did something to a run when no staff member of the console did: a command in a terminal.
pub const COMMAND_LINE: &str = "command line";

impl Target {
    /// Records that `actor` (a staff member's e-mail, or [`COMMAND_LINE`]) did `action` to
    /// `run`, in the caller's transaction if one is open.
    pub fn record_run_event(&self, run: i64, action: RunAction, actor: &str) -> Result<()> {
        self.exec(
            "INSERT INTO run_event (run_id, action, actor, at) VALUES (?1, ?2, ?3, ?4)",
            params![run, action.as_str(), actor, now()],
        )?;
        Ok(())
    }

    /// Records a new run (committed at once, so it survives a rollback of the run's data).
    pub fn create_run(
        &self,
        kind: RunKind,
        mode: RunMode,
        inputs: &serde_json::Value,
        options: &serde_json::Value,
        input_hash: &str,
    ) -> Result<i64> {
        let row = self.first(
            "INSERT INTO run (mode, status, started_at, inputs, options, input_hash, pid, kind) VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            params![mode.as_str(), now(), inputs.to_string(), options.to_string(), input_hash, std::process::id() as i64, kind.as_str()],
        )?;
        row.map(|r| r.int(0))
            .ok_or_else(|| StoreError::Other("the new run got no id".into()))
    }

    /// A run (new or resumed) is running in this process.
    pub fn mark_running(&self, run: i64) -> Result<()> {
        self.exec("UPDATE run SET status = 'running', pid = ?2, finished_at = NULL, error = NULL WHERE id = ?1", params![run, std::process::id() as i64])?;
        Ok(())
    }

    /// Where a run stopped: (phase, records done in that phase).
    pub fn checkpoint_of(&self, run: i64) -> Result<(i64, i64)> {
        let r = self
            .first(
                "SELECT checkpoint_phase, checkpoint_seq FROM run WHERE id = ?1",
                params![run],
            )?
            .ok_or_else(|| StoreError::Other(format!("there is no run {run}")))?;
        Ok((r.int(0), r.int(1)))
    }

    /// A run's stored findings: last sequence number, totals (errors, warnings, infos), and the
    /// entity types that got their `run.max_records` note.
    pub fn finding_state(&self, run: i64) -> Result<(i64, [u64; 3], Vec<String>)> {
        let seq = self.int(
            "SELECT coalesce(max(seq), 0) FROM run_finding WHERE run_id = ?1",
            params![run],
        )?;
        let mut totals = [0u64; 3];
        self.each(
            "SELECT severity, count(*) FROM run_finding WHERE run_id = ?1 GROUP BY severity",
            params![run],
            |r| {
                let i = match r.text(0).as_str() {
                    "error" => 0,
                    "warning" => 1,
                    _ => 2,
                };
                totals[i] = r.int(1) as u64;
                Ok(())
            },
        )?;
        let mut noted = vec![];
        self.each(
            "SELECT DISTINCT entity FROM run_finding WHERE run_id = ?1 AND code = 'run.max_records'",
            params![run],
            |r| {
                noted.extend(r.opt_text(0));
                Ok(())
            },
        )?;
        Ok((seq, totals, noted))
    }

    pub fn set_run_options(&self, run: i64, options: &str) -> Result<()> {
        self.exec(
            "UPDATE run SET options = ?2 WHERE id = ?1",
            params![run, options],
        )?;
        Ok(())
    }

    pub fn checkpoint(&self, run: i64, phase: i64, seq: i64) -> Result<()> {
        self.exec(
            "UPDATE run SET checkpoint_phase = ?2, checkpoint_seq = ?3 WHERE id = ?1",
            params![run, phase, seq],
        )?;
        Ok(())
    }

    pub fn insert_finding(&self, run: i64, seq: i64, f: &Finding) -> Result<()> {
        self.append(
            "run_finding",
            &[
                "run_id", "seq", "severity", "code", "entity", "key", "file", "sheet", "row",
                "col", "field", "value", "message", "hint",
            ],
            params![
                run,
                seq,
                f.severity.as_str(),
                f.code.as_str(),
                f.entity,
                f.key.as_deref(),
                &*f.location.file,
                f.location.sheet.as_deref(),
                f.location.row as i64,
                f.location.column.map(|c| c.render()),
                f.field.as_deref(),
                f.value.as_deref(),
                f.message.as_str(),
                f.hint.as_deref()
            ]
            .to_vec(),
        )?;
        Ok(())
    }

    pub fn set_counts(&self, run: i64, counts: &[(&str, Counts)]) -> Result<()> {
        self.exec("DELETE FROM run_count WHERE run_id = ?1", params![run])?;
        if counts.is_empty() {
            return Ok(());
        }
        // One statement for every entity type (a chunk's commit is a handful of round trips on
        // a server, not one per entity type); rows in the order given, as ids are assigned.
        let mut values = String::new();
        let mut cells = Vec::with_capacity(counts.len() * 6 + 1);
        cells.push(Cell::Int(run));
        for (e, c) in counts {
            let k = cells.len();
            let sep = if values.is_empty() { "" } else { ", " };
            values.push_str(&format!(
                "{sep}(?1, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                k + 1,
                k + 2,
                k + 3,
                k + 4,
                k + 5,
                k + 6
            ));
            cells.extend([
                Cell::Text((*e).to_string()),
                Cell::Int(c.read as i64),
                Cell::Int(c.imported as i64),
                Cell::Int(c.updated as i64),
                Cell::Int(c.skipped as i64),
                Cell::Int(c.rejected as i64),
            ]);
        }
        self.exec(
            &format!("INSERT INTO run_count (run_id, entity, read, imported, updated, skipped, rejected) VALUES {values}"),
            &cells,
        )?;
        Ok(())
    }

    pub fn finish_run(
        &self,
        run: i64,
        status: RunStatus,
        error: Option<&str>,
        totals: (u64, u64, u64),
    ) -> Result<()> {
        self.exec(
            "UPDATE run SET status = ?2, finished_at = ?3, error = ?4, errors = ?5, warnings = ?6, infos = ?7 WHERE id = ?1",
            params![run, status.as_str(), now(), error, totals.0 as i64, totals.1 as i64, totals.2 as i64],
        )?;
        Ok(())
    }

    /// Records as interrupted, with `error` saying why, run `run` that the journal still says
    /// is running in process `pid` — only if it still does (a run another process resumed
    /// meanwhile is left alone). Returns whether it was marked. The caller has checked that
    /// `pid` is no longer writing (see [`RunInfo`]'s status).
    pub fn mark_interrupted(&self, run: i64, pid: i64, error: &str) -> Result<bool> {
        let n = self.exec(
            "UPDATE run SET status = ?3, finished_at = ?4, error = ?5 WHERE id = ?1 AND pid = ?2 AND status = ?6",
            params![
                run,
                pid,
                RunStatus::Interrupted.as_str(),
                now(),
                error,
                RunStatus::Running.as_str()
            ],
        )?;
        Ok(n > 0)
    }

    /// Test support: records run `run` as ended with `status` and no errors, started and
    /// finished at `at` (RFC 3339): a run from long ago, for tests of what the age of runs
    /// decides (how long a console keeps uploads).
    /// Built only with the `test-hooks` feature (tests switch it on).
    #[cfg(feature = "test-hooks")]
    pub fn backdate_run(&self, run: i64, status: RunStatus, at: &str) -> Result<()> {
        self.exec(
            "UPDATE run SET status = ?2, errors = 0, started_at = ?3, finished_at = ?3 WHERE id = ?1",
            params![run, status.as_str(), at],
        )?;
        Ok(())
    }

    /// Remembers a key this run rejected (its referrers are rejected too, also after a resume).
    pub fn record_rejected(&self, run: i64, entity: &str, key: &str, loc: &Location) -> Result<()> {
        self.exec(
            "INSERT INTO run_rejected (run_id, entity, key, file, sheet, row, col) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            params![run, entity, key, &*loc.file, loc.sheet.as_deref(), loc.row as i64, loc.column.map(|c| c.render())],
        )?;
        Ok(())
    }

    /// The keys run `run` rejected for an entity type, with where they stood.
    pub fn rejected_keys(&self, run: i64, entity: &str) -> Result<Vec<(String, Location)>> {
        let mut out = vec![];
        self.each(
            "SELECT key, file, sheet, row, col FROM run_rejected WHERE run_id = ?1 AND entity = ?2",
            params![run, entity],
            |r| {
                let sheet = r.opt_text(2);
                let col = r.opt_text(4);
                out.push((
                    r.text(0),
                    Location {
                        file: r.text(1).into(),
                        column: col.map(|c| parse_column(&c, sheet.is_some())),
                        sheet: sheet.map(Into::into),
                        row: r.int(3) as u64,
                    },
                ));
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Records a row's prior state before an update (for rollback).
    pub fn record_change(
        &self,
        run: i64,
        entity: &str,
        row_id: i64,
        action: &str,
        before: Option<&str>,
    ) -> Result<()> {
        self.append(
            "run_change",
            &["run_id", "entity", "row_id", "action", "before"],
            params![run, entity, row_id, action, before].to_vec(),
        )?;
        Ok(())
    }

    fn run_from_row(&self, r: &Row) -> Result<RunInfo> {
        let id = r.int(0);
        let typed = |e: UnknownValue| StoreError::Journal { run: id, source: e };
        let pid = r.opt_int(12);
        let mut status: RunStatus = r.text(2).parse().map_err(typed)?;
        if status == RunStatus::Running && !pid.is_some_and(|p| self.writer_alive(p)) {
            status = RunStatus::Interrupted;
        }
        Ok(RunInfo {
            id,
            kind: r.text(13).parse().map_err(typed)?,
            mode: r.text(1).parse().map_err(typed)?,
            status,
            started_at: r.text(3),
            finished_at: r.opt_text(4),
            inputs: serde_json::from_str(&r.text(5)).unwrap_or_default(),
            options: serde_json::from_str(&r.text(6)).unwrap_or_default(),
            input_hash: r.text(7),
            error: r.opt_text(8),
            errors: r.int(9),
            warnings: r.int(10),
            infos: r.int(11),
            pid,
        })
    }

    const RUN_COLS: &'static str = "id, mode, status, started_at, finished_at, inputs, options, input_hash, error, errors, warnings, infos, pid, kind";

    pub fn runs(&self) -> Result<Vec<RunInfo>> {
        let rows = self.rows(
            &format!("SELECT {} FROM run ORDER BY id", Self::RUN_COLS),
            &[],
        )?;
        rows.iter().map(|r| self.run_from_row(r)).collect()
    }

    pub fn run(&self, id: i64) -> Result<Option<RunInfo>> {
        let row = self.first(
            &format!("SELECT {} FROM run WHERE id = ?1", Self::RUN_COLS),
            params![id],
        )?;
        row.map(|r| self.run_from_row(&r)).transpose()
    }

    pub fn counts(&self, run: i64) -> Result<Vec<(String, Counts)>> {
        let mut out = vec![];
        self.each("SELECT entity, read, imported, updated, skipped, rejected FROM run_count WHERE run_id = ?1 ORDER BY id", params![run], |r| {
            out.push((
                r.text(0),
                Counts {
                    read: r.int(1) as u64,
                    imported: r.int(2) as u64,
                    updated: r.int(3) as u64,
                    skipped: r.int(4) as u64,
                    rejected: r.int(5) as u64,
                },
            ));
            Ok(())
        })?;
        Ok(out)
    }

    /// A run's findings in the order they were found.
    pub fn findings(&self, run: i64, f: impl FnMut(Finding) -> std::io::Result<()>) -> Result<()> {
        self.findings_in(run, FindingOrder::Found, f)
    }

    /// A run's findings in `order`: streamed, one pass in `seq` order (the primary key's) per
    /// group of the order, so that no sort holds a large run's findings in memory.
    pub fn findings_in(
        &self,
        run: i64,
        order: FindingOrder,
        mut f: impl FnMut(Finding) -> std::io::Result<()>,
    ) -> Result<()> {
        for group in order.groups() {
            self.findings_where(run, &group, &mut f)?;
        }
        Ok(())
    }

    fn findings_where(
        &self,
        run: i64,
        group: &str,
        mut f: impl FnMut(Finding) -> std::io::Result<()>,
    ) -> Result<()> {
        self.each(
            &format!("SELECT severity, code, entity, key, file, sheet, row, col, field, value, message, hint FROM run_finding WHERE run_id = ?1{group} ORDER BY seq"),
            params![run],
            |r| {
                let col = r.opt_text(7);
                let sheet = r.opt_text(5);
                let finding = Finding {
                    code: Code::parse(&r.text(1)).unwrap_or(Code::UnknownField),
                    severity: Severity::parse(&r.text(0)).unwrap_or(Severity::Error),
                    entity: r
                        .opt_text(2)
                        .and_then(|e| ferry_catalogue::entity(&e).map(|e| e.name)),
                    key: r.opt_text(3),
                    location: Location {
                        file: r.text(4).into(),
                        row: r.int(6) as u64,
                        column: col.map(|c| parse_column(&c, sheet.is_some())),
                        sheet: sheet.map(Into::into),
                    },
                    field: r.opt_text(8),
                    value: r.opt_text(9),
                    message: r.text(10),
                    hint: r.opt_text(11),
                };
                f(finding).map_err(|e| StoreError::Other(e.to_string()))
            },
        )
    }
}

/// The order a run's findings are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingOrder {
    /// As they were found (`seq`): the logs a script reads.
    Found,
    /// As a person reads them (the console, the HTML report): errors, then warnings, then
    /// notes; in each, the root causes before the knock-on `reference.rejected_parent`
    /// findings of records whose parent was rejected; then as found.
    Reading,
}

impl FindingOrder {
    /// The order as conditions on `run_finding` (each with a leading ` AND `, or empty), one
    /// per group, each group listed by `seq`.
    fn groups(self) -> Vec<String> {
        let knock = Code::RejectedParent.as_str();
        match self {
            FindingOrder::Found => vec![String::new()],
            FindingOrder::Reading => vec![
                format!(" AND severity = 'error' AND code <> '{knock}'"),
                format!(" AND severity = 'error' AND code = '{knock}'"),
                " AND severity = 'warning'".into(),
                " AND severity NOT IN ('error', 'warning')".into(),
            ],
        }
    }

    /// The `ORDER BY` list of `run_finding` columns (the same order as [`Self::groups`]).
    pub fn sql(self) -> String {
        match self {
            FindingOrder::Found => "seq".into(),
            FindingOrder::Reading => format!(
                "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, CASE code WHEN '{}' THEN 1 ELSE 0 END, seq",
                Code::RejectedParent.as_str()
            ),
        }
    }
}

pub fn parse_column(c: &str, letters: bool) -> ferry_findings::Column {
    if letters {
        let mut n: u32 = 0;
        for ch in c.chars() {
            n = n * 26 + (ch as u32 - 'A' as u32 + 1);
        }
        ferry_findings::Column::Letter(n.saturating_sub(1))
    } else {
        ferry_findings::Column::Number(c.parse().unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RunMode::{Live, TestOnly};
    use RunStatus::*;

    const STATUSES: [RunStatus; 6] = [
        Running,
        Succeeded,
        CompletedWithErrors,
        Failed,
        Interrupted,
        RolledBack,
    ];

    #[test]
    fn every_word_parses_back_and_no_other_does() {
        for s in STATUSES {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        for m in [TestOnly, Live] {
            assert_eq!(m.as_str().parse::<RunMode>(), Ok(m));
        }
        for k in [RunKind::Import, RunKind::Certification, RunKind::Config] {
            assert_eq!(k.as_str().parse::<RunKind>(), Ok(k));
        }
        let e = "paused".parse::<RunStatus>().unwrap_err();
        assert_eq!((e.what, e.text.as_str()), ("status", "paused"));
        assert_eq!(e.to_string(), "unknown run status `paused`");
        for bad in ["", "Succeeded", "rolled_back", " failed"] {
            assert!(bad.parse::<RunStatus>().is_err(), "{bad:?}");
        }
        assert!("".parse::<RunMode>().is_err());
        assert!("LIVE".parse::<RunMode>().is_err());
        assert!("".parse::<RunKind>().is_err());
        assert!("imports".parse::<RunKind>().is_err());
    }

    #[test]
    fn only_an_interrupted_run_can_be_resumed() {
        for s in STATUSES {
            assert_eq!(s.can_resume(), s == Interrupted, "{s}");
        }
    }

    #[test]
    fn only_a_clean_successful_test_run_can_be_run_live() {
        for s in STATUSES {
            assert_eq!(s.can_run_live(TestOnly, 0), s == Succeeded, "{s}");
            assert!(!s.can_run_live(Live, 0), "{s}");
            assert!(!s.can_run_live(TestOnly, 1), "{s}");
        }
    }

    #[test]
    fn a_live_run_that_is_neither_running_nor_rolled_back_can_be_rolled_back() {
        for s in STATUSES {
            let finished = !matches!(s, Running | RolledBack);
            assert_eq!(s.can_roll_back(Live), finished, "{s}");
            assert!(!s.can_roll_back(TestOnly), "{s}");
        }
    }

    fn target_with_run() -> (tempfile::TempDir, Target, i64) {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = Target::init(&dir.path().join("t.db")).unwrap();
        let j = serde_json::json!([]);
        let id = t.create_run(RunKind::Import, Live, &j, &j, "h").unwrap();
        (dir, t, id)
    }

    #[test]
    fn the_journal_reads_a_run_with_its_lifecycle() {
        let (_d, t, id) = target_with_run();
        t.exec(
            "UPDATE run SET status = 'interrupted' WHERE id = ?1",
            params![id],
        )
        .unwrap();
        let info = t.run(id).unwrap().unwrap();
        assert_eq!(
            (info.kind, info.mode, info.status),
            (RunKind::Import, Live, Interrupted)
        );
        assert!(info.can_resume() && info.can_roll_back() && !info.can_run_live());
    }

    #[test]
    fn a_run_of_unknown_status_is_an_error_not_a_guess() {
        let (_d, t, id) = target_with_run();
        for (col, word) in [("status", "paused"), ("mode", "dry"), ("kind", "export")] {
            let (_d, t, id) = target_with_run();
            t.exec(
                &format!("UPDATE run SET {col} = ?2 WHERE id = ?1"),
                params![id, word],
            )
            .unwrap();
            let e = t.run(id).unwrap_err();
            assert!(
                matches!(&e, StoreError::Journal { run, source } if *run == id && source.text == word),
                "{e:?}"
            );
            assert!(t.runs().is_err());
            assert!(
                e.to_string()
                    .contains(&format!("unknown run {col} `{word}`")),
                "{e}"
            );
        }
        assert!(t.run(id).is_ok());
    }
}
