//! Who watches a run: progress for a bar, the console or nobody, and the run's `Summary`.

use crate::options::Effective;
use ferry_store::journal::{Counts, RunKind, RunMode, RunStatus};
use serde::Serialize;
use std::path::PathBuf;

/// Reports progress to whoever watches (a progress bar, the web console, nobody).
pub trait Progress {
    /// The run is recorded in the journal under this number.
    fn started(&self, _run: i64) {}
    fn stage(&self, _name: &str, _total: u64) {}
    /// Once the inputs are read: how many records the run's phases will go through, all
    /// phases together (a resumed run's records done before count too, and are advanced over).
    fn planned(&self, _records: u64) {}
    fn advance(&self, _n: u64) {}
    fn done(&self) {}
    /// Whether whoever watches asked the run to stop (checked every few hundred records; a
    /// stopped run is interrupted at its last checkpoint, resumable or undone by rollback).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that nobody watches.
pub struct Silent;
impl Progress for Silent {}

/// What a run did, for people (stderr) and scripts (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run: i64,
    /// `import`, `certification` or `config`.
    pub kind: RunKind,
    pub mode: RunMode,
    pub status: RunStatus,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub counts: Vec<(String, Counts)>,
    pub backup: Option<PathBuf>,
    pub options: Effective,
    pub exit_code: i32,
    /// Certification: the components `--add-missing-components` added to programs (to remove
    /// afterwards if they are no longer required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_components: Vec<crate::rules::certification::AddedComponent>,
    /// `CreateAccounts`: logins made, passwords hashed (and on how many threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logins: Option<crate::logins::LoginSummary>,
    /// A new fingerprint key file this run made for the target (to back up, apart from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_created: Option<PathBuf>,
    /// A test-only run on a target without a fingerprint key used a throwaway key (the live
    /// run makes the target's key).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fingerprint_key_temporary: bool,
    /// Test-only: the target's fingerprint key is not here, so the live run would stop (why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_missing: Option<String>,
}
