//! The annotated copies of a run's workbook inputs (`--annotate`, and the console's download),
//! from the run's findings in the journal.

use ferry_store::{StoreError, Target};
use std::path::PathBuf;

/// Why the annotated copies could not be written. Each says what its cause says (the cause is
/// kept, not chained, so a message is printed once however the caller formats it).
#[derive(Debug, thiserror::Error)]
pub enum AnnotatedError {
    /// A findings set's scratch file.
    #[error("{0}")]
    Scratch(std::io::Error),
    /// The run's findings could not be read from the journal.
    #[error("{0}")]
    Journal(StoreError),
    /// A workbook could not be annotated.
    #[error("{0}")]
    Annotate(Box<ferry_annotate::AnnotateError>),
}

/// Writes one marked copy per (workbook input, output) pair, from the findings of `run`.
pub fn write_annotated(
    target: &Target,
    run: i64,
    pairs: &[(PathBuf, PathBuf)],
) -> Result<Vec<ferry_annotate::Summary>, AnnotatedError> {
    let shown: Vec<String> = pairs.iter().map(|(i, _)| i.display().to_string()).collect();
    write_annotated_as(target, run, pairs, &shown)
}

/// As [`write_annotated`], for inputs whose findings name them as `shown` (the console's
/// uploads, named as uploaded).
pub fn write_annotated_as(
    target: &Target,
    run: i64,
    pairs: &[(PathBuf, PathBuf)],
    shown: &[String],
) -> Result<Vec<ferry_annotate::Summary>, AnnotatedError> {
    let mut sets = shown
        .iter()
        .map(|name| ferry_annotate::FindingSet::new(name))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(AnnotatedError::Scratch)?;
    target
        .findings(run, |f| {
            for s in sets.iter_mut() {
                if s.push(&f)? {
                    break;
                }
            }
            Ok(())
        })
        .map_err(AnnotatedError::Journal)?;
    let mut out = vec![];
    for ((input, path), set) in pairs.iter().zip(sets.iter_mut()) {
        out.push(
            ferry_annotate::annotate(input, set, path)
                .map_err(|e| AnnotatedError::Annotate(Box::new(e)))?,
        );
    }
    Ok(out)
}
