//! What went wrong with the target, by kind: the same kinds for every backend, so that callers
//! treat every backend alike.

use crate::journal;

/// What went wrong with the target, by kind (the same kinds for every backend). `Clone`: a
/// failed bulk write on the writer thread is reported by every later statement of its
/// transaction (see `handoff.rs`).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the target {0} does not exist; create it with `ferry init --db {0}`")]
    Missing(String),
    #[error("{0} is a database but not a Ferry target (no schema version); give `--db` a new file or database name to create one")]
    NotATarget(String),
    #[error("{}", version_message(path, *found, *wanted))]
    VersionMismatch {
        path: String,
        found: i64,
        wanted: i64,
    },
    #[error("the target is busy: another program or run holds it ({0})")]
    Busy(String),
    #[error("the target is read-only ({0})")]
    ReadOnly(String),
    #[error("the target's disk is full ({0})")]
    DiskFull(String),
    #[error("the target is damaged or not a database ({0})")]
    Corrupt(String),
    #[error("cannot open the target {0}: does its folder exist, and is it a file?")]
    CannotOpen(String),
    #[error(
        "cannot reach the database server of {0}; is it running, and does it accept connections?"
    )]
    Unreachable(String),
    /// The server could not be reached securely as the URL's `sslmode` asks (no TLS, or a
    /// certificate that does not verify).
    #[error("cannot connect securely to the database server of {0}")]
    Tls(String),
    #[error("{}", held_message(*run, *pid, since))]
    Held { run: i64, pid: i64, since: String },
    /// Held by a process whose run is not known (it has not recorded it yet, or is not Ferry).
    #[error("the target is being written by {0}; wait for it to finish, or stop it")]
    HeldBy(String),
    /// A run in the journal whose mode, kind or status this Ferry does not know.
    #[error(
        "run {run} in the target's journal has an {source}: is the target from a newer Ferry?"
    )]
    Journal {
        run: i64,
        #[source]
        source: journal::UnknownValue,
    },
    #[error("a key constraint failed: {0}")]
    Constraint(String),
    #[error("target: {0}")]
    Other(String),
}

fn held_message(run: i64, pid: i64, since: &str) -> String {
    if run == 0 {
        // Run 0 is `ferry upgrade apply`, which holds the target without a run.
        format!("the target is held by an upgrade (process {pid}, since {since}); wait for it to finish")
    } else {
        format!("the target is being written by run {run} (process {pid}, started {since}); wait for it to finish, or stop it")
    }
}

fn version_message(path: &str, found: i64, wanted: i64) -> String {
    if found < wanted {
        format!("the target {path} has schema version {found}, this Ferry needs version {wanted}; see what the upgrade changes with `ferry upgrade check --db {path}`, try it on a copy with `ferry upgrade rehearse --db {path}`, and upgrade it with `ferry upgrade apply --db {path}`")
    } else {
        format!("the target {path} has schema version {found}, newer than this Ferry's version {wanted}: use the Ferry that upgraded it (or a newer one)")
    }
}

impl StoreError {
    /// The kind of a SQLite error.
    pub fn classify(e: rusqlite::Error) -> StoreError {
        crate::sqlite::classify(e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::classify(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;
