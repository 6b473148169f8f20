//! The fingerprint key of a run whose records carry card or account numbers, and what its
//! summary says about it.

use crate::options::ImportOptions;
use crate::RunError;
use ferry_store::journal::RunMode;
use ferry_store::Target;
use std::path::PathBuf;

/// The fingerprint key of a run whose records carry card or account numbers: the target's, or
/// a new one for a live run on a target without one, or a throwaway one for a test-only run on
/// such a target. (Said in the summary, not as a finding: it is about the target, not a record,
/// and test-only and live runs find the same.)
pub(super) fn key_for_run(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
) -> Result<(crate::fingerprint_key::FingerprintKey, KeyNote), RunError> {
    use crate::fingerprint_key::{resolve, Origin};
    let r = resolve(
        target,
        opts.fingerprint_key.as_deref(),
        mode == RunMode::Live,
    )?;
    let note = match r.origin {
        Origin::Created(path) => KeyNote {
            created: Some(path),
            ..KeyNote::default()
        },
        Origin::Temporary(missing) => KeyNote {
            temporary: true,
            missing: missing.map(|e| e.to_string()),
            ..KeyNote::default()
        },
        Origin::Found(_) => KeyNote::default(),
    };
    Ok((r.key, note))
}

/// What a run says about the fingerprint key in its summary.
#[derive(Default)]
pub(super) struct KeyNote {
    pub(super) created: Option<PathBuf>,
    pub(super) temporary: bool,
    pub(super) missing: Option<String>,
}
