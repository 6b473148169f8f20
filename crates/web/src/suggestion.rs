//! The mapping Ferry proposes for the parts of an upload that are not in its own shape, with a
//! confidence per column: `ferry_mapping::suggest`, as `ferry map suggest` makes it, fed with
//! the rows the console sampled.

use crate::sample::Part;
pub use ferry_mapping::{Sample, Suggestion};

/// The sample of a part, as the suggestion takes it.
pub fn sample_of(p: &Part) -> Sample {
    Sample {
        file: p.file.clone(),
        sheet: p.sheet.clone(),
        element: p.element.clone(),
        headers: p.headers.clone(),
        rows: p.rows.iter().map(|r| r.cells.clone()).collect(),
    }
}

/// The proposed mapping of `samples` (one `[[source]]` each).
pub fn suggestion_for(samples: &[Sample]) -> Suggestion {
    ferry_mapping::suggest(samples)
}
