//! The annotated copies of a run's workbook inputs (`--annotate`, and the console's download),
//! from the run's findings in the journal.

use ferry_store::Target;
use std::path::PathBuf;

/// Writes one marked copy per (workbook input, output) pair, from the findings of `run`.
pub fn write_annotated(
    target: &Target,
    run: i64,
    pairs: &[(PathBuf, PathBuf)],
) -> Result<Vec<ferry_annotate::Summary>, String> {
    let mut sets = pairs
        .iter()
        .map(|(input, _)| ferry_annotate::FindingSet::new(&input.display().to_string()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| e.to_string())?;
    target
        .findings(run, |f| {
            for s in sets.iter_mut() {
                if s.push(&f)? {
                    break;
                }
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    let mut out = vec![];
    for ((input, path), set) in pairs.iter().zip(sets.iter_mut()) {
        out.push(ferry_annotate::annotate(input, set, path).map_err(|e| e.to_string())?);
    }
    Ok(out)
}
