//! Reads inputs as raw rows and keeps the first rows of every CSV file, sheet and XML element
//! type as a [`Sample`], in bounded memory, for the suggester.

use crate::Sample;
use ferry_findings::{Finding, Location};
use ferry_sources::{RawParts, RawRecord, RawRow, RawValue, ReadOptions, SourceError, Visitor};
use std::path::Path;

/// Longest text kept of one cell: enough to tell what a value is.
const MAX_CELL_CHARS: usize = 200;
/// Most bytes of cell text kept per part, whatever the number of rows.
const MAX_PART_BYTES: usize = 8 << 20;
/// Most parts sampled per input (a workbook of thousands of sheets).
const MAX_PARTS: usize = 200;

/// Keeps the first `max_rows` rows of each part it is handed.
pub struct Sampler {
    max_rows: usize,
    samples: Vec<Sample>,
    bytes: Vec<usize>,
}

impl Sampler {
    pub fn new(max_rows: usize) -> Sampler {
        Sampler {
            max_rows,
            samples: Vec::new(),
            bytes: Vec::new(),
        }
    }

    /// The samples, in the order their parts were met.
    pub fn into_samples(self) -> Vec<Sample> {
        self.samples
    }

    fn part_index(&mut self, row: &RawRow<'_>) -> Option<usize> {
        let (file, sheet, element) = (
            &*row.part.file,
            row.part.sheet.as_deref(),
            row.part.element.as_deref(),
        );
        let found = self.samples.iter().position(|s| {
            s.file == file && s.sheet.as_deref() == sheet && s.element.as_deref() == element
        });
        if found.is_some() {
            return found;
        }
        if self.samples.len() >= MAX_PARTS {
            return None;
        }
        self.samples.push(Sample {
            file: file.to_string(),
            sheet: sheet.map(String::from),
            element: element.map(String::from),
            headers: Vec::new(),
            rows: Vec::new(),
        });
        self.bytes.push(0);
        Some(self.samples.len() - 1)
    }
}

/// A cell as text, cut to [`MAX_CELL_CHARS`].
fn cell_text(v: &RawValue) -> String {
    let t = v.display();
    match t.char_indices().nth(MAX_CELL_CHARS) {
        Some((at, _)) => t[..at].to_string(),
        None => t,
    }
}

impl Visitor for Sampler {
    type Error = SourceError;
    fn record(&mut self, _record: RawRecord) -> Result<(), SourceError> {
        Ok(())
    }

    fn finding(&mut self, _finding: Finding) -> Result<(), SourceError> {
        Ok(())
    }

    fn option(&mut self, _: String, _: RawValue, _: Location) -> Result<(), SourceError> {
        Ok(())
    }

    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), SourceError> {
        let Some(i) = self.part_index(&row) else {
            return Ok(());
        };
        let (max_rows, sample, bytes) = (self.max_rows, &mut self.samples[i], &mut self.bytes[i]);
        if sample.rows.len() >= max_rows || *bytes >= MAX_PART_BYTES {
            return Ok(());
        }
        if sample.headers.is_empty() {
            sample.headers = row.headers.iter().take(MAX_COLUMNS).cloned().collect();
        }
        let cells: Vec<String> = if row.headers == sample.headers.as_slice() {
            // A CSV file or a sheet: one header, cells by position (names may repeat).
            (0..sample.headers.len())
                .map(|i| row.cells.get(i).map(cell_text).unwrap_or_default())
                .collect()
        } else {
            // XML: each element gives the attributes it has; columns are their union.
            merged(&mut sample.headers, row.headers, row.cells)
        };
        *bytes += cells.iter().map(|c| c.len() + 8).sum::<usize>();
        sample.rows.push(cells);
        Ok(())
    }
}

/// Most columns one sample keeps.
const MAX_COLUMNS: usize = 1000;

/// The row's cells under `known` headers by name, new names added at the end.
fn merged(known: &mut Vec<String>, headers: &[String], values: &[RawValue]) -> Vec<String> {
    let mut cells = vec![String::new(); known.len()];
    for (h, v) in headers.iter().zip(values) {
        let at = match known.iter().position(|x| x == h) {
            Some(at) => at,
            None if known.len() < MAX_COLUMNS => {
                known.push(h.clone());
                cells.push(String::new());
                known.len() - 1
            }
            None => continue,
        };
        cells[at] = cell_text(v);
    }
    cells
}

/// Reads each input and samples the first `max_rows` rows of each of its parts. `encoding`
/// reads CSV files (UTF-8 when `None`).
pub fn sample_inputs(
    inputs: &[&Path],
    encoding: Option<&'static encoding_rs::Encoding>,
    max_rows: usize,
) -> Result<Vec<Sample>, SourceError> {
    let opts = ReadOptions {
        encoding,
        limits: ferry_sources::Limits::from_env().map_err(|e| SourceError::Sink(e.to_string()))?,
        raw: Some(RawParts::all()),
        shown_as: None,
    };
    let mut sampler = Sampler::new(max_rows);
    for path in inputs {
        ferry_sources::read_any(path, &opts, &mut sampler)?;
    }
    Ok(sampler.into_samples())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(files: &[(&str, &str)], max_rows: usize) -> Vec<Sample> {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<std::path::PathBuf> = files
            .iter()
            .map(|(name, text)| {
                let p = dir.path().join(name);
                std::fs::write(&p, text).unwrap();
                p
            })
            .collect();
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        sample_inputs(&refs, None, max_rows).unwrap()
    }

    #[test]
    fn the_first_rows_of_a_csv_file_are_kept() {
        let s = sample(
            &[("members.csv", "\u{feff}first_name,email,phone,phone\nAnn,a@x.org,1,2\nBob,b@x.org,3,4\nCy,c@x.org,5,6\n")],
            2,
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].headers, ["first_name", "email", "phone", "phone"]);
        assert_eq!(
            s[0].rows,
            [["Ann", "a@x.org", "1", "2"], ["Bob", "b@x.org", "3", "4"]]
        );
        assert!(s[0].file.ends_with("members.csv"));
        assert_eq!(s[0].sheet, None);
    }

    #[test]
    fn xml_elements_are_sampled_by_type_with_the_union_of_their_attributes() {
        let s = sample(
            &[(
                "crm.xml",
                "<Export>\n<Member id=\"1\" mail=\"a@x.org\"/>\n<Member id=\"2\" phone=\"01632 960123\"/>\n<Gift amount=\"5.00\"/>\n</Export>\n",
            )],
            10,
        );
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].element.as_deref(), Some("Member"));
        assert_eq!(s[0].headers, ["id", "mail", "phone"]);
        assert_eq!(s[0].rows[1], ["2", "", "01632 960123"]);
        assert_eq!(s[1].element.as_deref(), Some("Gift"));
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(5000);
        let s = sample(&[("a.csv", &format!("note\n{long}\n"))], 10);
        assert_eq!(s[0].rows[0][0].chars().count(), MAX_CELL_CHARS);
    }

    #[test]
    fn an_unreadable_input_is_an_error() {
        let missing = Path::new("/nonexistent/members.csv");
        assert!(sample_inputs(&[missing], None, 10).is_err());
    }
}
