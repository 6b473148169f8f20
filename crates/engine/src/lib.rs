//! One import run from start to end (SPEC §6): read every input once into the plan's spool,
//! merge options, then process the phases in dependency order — validate each record, resolve
//! its references and key, write it in chunks — and close the run in the journal.
//!
//! Test-only is this same path with the data transaction rolled back at the end.

mod close_batch;
pub mod fingerprint_key;
mod indexes;
mod ledger_phase;
mod log_sink;
pub mod logins;
pub mod mapping;
pub mod options;
mod positions;
pub mod preview;
mod record;
mod retry_family;
pub mod rollback;
mod rules;
mod run;

pub use ferry_store::journal::RunKind;
pub use ferry_validate::DateOrder;
pub use logins::LoginSummary;
pub use options::recorded::recorded_options;
pub use options::text::{OptionTexts, TextProblem, TextProblems};
pub use options::{Effective, ImportOptions, OnExisting};
pub use rules::certification::AddedComponent;
pub use run::lifecycle::import;
pub use run::progress::{Progress, Silent, Summary};
pub use run::resume::inputs_unchanged;

use ferry_sources::SourceError;
use ferry_store::StoreError;

/// Why a run could not complete. Record problems are findings, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    #[error(transparent)]
    Input(#[from] SourceError),
    /// The run's own scratch files (its spool, its findings log) could not be written while
    /// reading: nothing was imported.
    #[error("{0}: {1}")]
    Scratch(&'static str, #[source] std::io::Error),
    #[error("{0}")]
    Options(String),
    /// Every bad value and disagreement of the inputs' Options sheets.
    #[error(transparent)]
    OptionSheets(#[from] options::OptionProblems),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The fingerprint key is wrong, missing or unreadable: found before anything is written.
    #[error(transparent)]
    Key(#[from] fingerprint_key::KeyError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A refused operation (a rollback that later runs depend on): exit 1.
    #[error("{0}")]
    Refused(String),
    /// Staff asked the run to stop (the console's Cancel): interrupted at its last checkpoint.
    #[error("cancelled by staff")]
    Cancelled,
    /// The target failed after writing began: committed chunks stay; `ferry resume` continues.
    #[error("{cause}")]
    Interrupted { run: i64, cause: Box<RunError> },
}

impl RunError {
    /// The exit status of SPEC §13 for this failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Interrupted { .. } => 3,
            RunError::Refused(_) => 1,
            _ => 2,
        }
    }

    /// What the failure left behind, for the person reading the message.
    pub fn aftermath(&self) -> String {
        match self {
            RunError::Input(_)
            | RunError::Scratch(..)
            | RunError::Options(_)
            | RunError::OptionSheets(_) => "nothing was imported (every input is read before the first write)".into(),
            RunError::Key(_) => "nothing was written: the key is checked before a run writes".into(),
            RunError::Store(_) | RunError::Io(_) => "the run stopped before writing anything".into(),
            RunError::Refused(_) => "nothing was changed".into(),
            RunError::Cancelled => "the run stopped at its last checkpoint: what was committed stays; resume it or roll it back".into(),
            RunError::Interrupted { run, .. } => format!("run {run} is interrupted: what was committed stays; continue it with `ferry resume {run}` (or the same command with --resume), or undo it with `ferry rollback {run}`"),
        }
    }
}
