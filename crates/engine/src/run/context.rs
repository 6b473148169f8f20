//! What a run that holds the target knows of itself, handed to each of its stages.

use super::progress::Progress;
use crate::mapping::RunMapping;
use crate::options::ImportOptions;
use ferry_store::journal::RunMode;
use ferry_store::Target;

/// One run, from the moment it holds the target.
#[derive(Clone, Copy)]
pub(super) struct Ctx<'a> {
    pub(super) target: &'a Target,
    pub(super) opts: &'a ImportOptions,
    pub(super) progress: &'a dyn Progress,
    pub(super) run: i64,
    pub(super) mode: RunMode,
    /// Whether the run continues an interrupted one.
    pub(super) resumed: bool,
    pub(super) mapping: Option<&'a RunMapping>,
}
