//! What a run's actions tell staff before they act: which runs retried a run with corrected
//! files (and which run a retry retried), and what a live run of a test run's files would
//! land and leave out (its records by outcome, its rejections by finding code).

use ferry_store::{params, StoreError, Target};

/// The run `run` retries (recorded in its options as `command_line.retry_of`), if any. A live
/// run made from a test run (`live_of`) is that test's live run, not a retry of its own.
pub fn retry_of(options: &serde_json::Value) -> Option<i64> {
    if live_of(options).is_some() {
        return None;
    }
    options.get("command_line")?.get("retry_of")?.as_i64()
}

/// The test run a live run runs (the console's "Run live", "Import the valid rows"), if any.
pub fn live_of(options: &serde_json::Value) -> Option<i64> {
    options.get("command_line")?.get("live_of")?.as_i64()
}

/// The live runs made from test run `run`, oldest first.
pub fn lives_of(t: &Target, run: i64) -> Result<Vec<i64>, StoreError> {
    later_naming(t, run, "live_of", live_of)
}

/// The runs that retried `run` with corrected files, oldest first.
pub fn retries_of(t: &Target, run: i64) -> Result<Vec<i64>, StoreError> {
    later_naming(t, run, "retry_of", retry_of)
}

/// The runs after `run` whose options name it as `field` (read by `of`), oldest first.
fn later_naming(
    t: &Target,
    run: i64,
    field: &str,
    of: fn(&serde_json::Value) -> Option<i64>,
) -> Result<Vec<i64>, StoreError> {
    // A first cut by text (the options are JSON text on both backends), then read exactly.
    let rows = t.rows(
        "SELECT id, options FROM run WHERE id > ?1 AND options LIKE ?2 ORDER BY id",
        params![run, format!("%\"{field}\":{run}%")],
    )?;
    Ok(rows
        .iter()
        .filter(|r| {
            serde_json::from_str::<serde_json::Value>(&r.text(1))
                .ok()
                .and_then(|o| of(&o))
                == Some(run)
        })
        .map(|r| r.int(0))
        .collect())
}

/// What a test run found its records would become: the records that would land (imported or
/// updated), those skipped as identical, and those rejected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Landing {
    pub land: u64,
    pub skipped: u64,
    pub rejected: u64,
}

/// The records of `run` by outcome, summed over its entity types.
pub fn landing(t: &Target, run: i64) -> Result<Landing, StoreError> {
    let mut l = Landing::default();
    for (_, c) in t.counts(run)? {
        l.land += c.imported + c.updated;
        l.skipped += c.skipped;
        l.rejected += c.rejected;
    }
    Ok(l)
}

/// The error findings of `run` counted by code, the most frequent first.
pub fn errors_by_code(t: &Target, run: i64) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = t.rows(
        "SELECT code, count(*) AS n FROM run_finding WHERE run_id = ?1 AND severity = 'error' GROUP BY code ORDER BY n DESC, code",
        params![run],
    )?;
    Ok(rows.iter().map(|r| (r.text(0), r.int(1))).collect())
}
