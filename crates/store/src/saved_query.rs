//! Running a saved query: checked by `query_guard`, then run on a connection of its own that
//! cannot write (SQLite opened read-only with `query_only`; PostgreSQL in a `READ ONLY`
//! transaction), stopped after a time limit, its rows cut at a cap, every value as text.

use crate::query_guard::{self, Refused};
use std::time::Duration;

/// How much a saved query may take.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Most rows returned; one more is read to tell whether there were more.
    pub rows: usize,
    /// How long the query may run.
    pub time: Duration,
}

/// What a query gave: its column names and at most `QueryLimits::rows` rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResult {
    pub columns: Vec<String>,
    /// Each value as text; `None` for NULL.
    pub rows: Vec<Vec<Option<String>>>,
    /// The query had more rows than the cap.
    pub more: bool,
}

/// Why a saved query gave no rows.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Refused before it ran (not one read-only SELECT, or it names a secret).
    #[error(transparent)]
    Refused(#[from] Refused),
    /// The database refused to run it because it would write.
    #[error("The query would change the target, and saved queries only read: {0}")]
    Writes(String),
    /// It ran longer than the limit and was stopped.
    #[error("The query was stopped after {} s, its time limit.", .0.as_secs_f64())]
    TimedOut(Duration),
    /// The database refused it (a syntax error, an unknown table …).
    #[error("The database refused the query: {0}")]
    Failed(String),
    /// The target could not be opened for reading.
    #[error(transparent)]
    Open(#[from] crate::StoreError),
}

/// Runs `sql` read-only against the target `db` (as `--db` names it) within `limits`.
pub fn run_read_only(db: &str, sql: &str, limits: QueryLimits) -> Result<QueryResult, QueryError> {
    let body = query_guard::check(sql)?;
    if crate::postgres::is_url(db) {
        crate::postgres::run_query(db, &body, limits)
    } else {
        crate::sqlite::run_query(std::path::Path::new(db), &body, limits)
    }
}
