//! The first rows of each part of an upload (a CSV file, a sheet, an XML element type), read
//! once when the files are uploaded and kept beside them, and what each part is: one Ferry
//! reads by its name (an entity type's sheet, `Ledger`, `Options`), or a legacy export to map.

use ferry_catalogue as cat;
use ferry_sources::{RawParts, RawRecord, RawRow, RawValue, ReadOptions, SourceError, Visitor};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Rows kept of each part (the suggestion looks at their values).
pub const KEPT: usize = 200;
/// Rows shown of each part.
pub const SHOWN: usize = 10;
/// Longest value kept of a cell.
const CELL: usize = 200;
/// Most bytes of cell text kept per part, whatever its number of rows and columns.
const PART_BYTES: usize = 4 << 20;
/// Most parts kept of an upload (a workbook of thousands of sheets).
const PARTS: usize = 200;

/// One part of an upload and its first rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Part {
    /// The file's name (never its folder on the server).
    pub file: String,
    pub sheet: Option<String>,
    pub element: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<SampleRow>,
    /// What Ferry reads it as by its name, when it does.
    pub native: Option<Native>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SampleRow {
    /// Spreadsheet row, CSV line or XML line.
    pub row: u64,
    pub cells: Vec<String>,
}

/// A part Ferry reads by its name, without a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Native {
    Entity(String),
    Ledger,
    Options,
    /// Ferry's own sheets (`Findings`, `_Lists`): skipped.
    Ignored,
}

impl Native {
    /// What a part named `name` is read as (the readers' rule), if Ferry reads it by name.
    pub fn of(name: &str) -> Option<Native> {
        if name == cat::LEDGER_SHEET {
            Some(Native::Ledger)
        } else if name == cat::OPTIONS_SHEET {
            Some(Native::Options)
        } else if cat::is_ignored_sheet(name) {
            Some(Native::Ignored)
        } else {
            cat::entity(name)
                .or_else(|| cat::entity_alias(name))
                .map(|e| Native::Entity(e.name.to_string()))
        }
    }

    /// In words, for the page.
    pub fn words(&self) -> String {
        match self {
            Native::Entity(e) => format!("{e} records"),
            Native::Ledger => "the ledger (debits, credits, payments)".into(),
            Native::Options => "the run's options".into(),
            Native::Ignored => "one of Ferry's own sheets (skipped)".into(),
        }
    }
}

impl Part {
    /// `members.csv`, `book.xlsx › Customers`, `export.xml › <Member>`.
    pub fn label(&self) -> String {
        match (&self.sheet, &self.element) {
            (Some(s), _) => format!("{} › {s}", self.file),
            (None, Some(e)) => format!("{} › <{e}>", self.file),
            _ => self.file.clone(),
        }
    }

    /// The name the readers decide a part by: a sheet's, an element's, a CSV file's stem.
    fn name(&self) -> &str {
        match (&self.sheet, &self.element) {
            (Some(s), _) => s,
            (None, Some(e)) => e,
            _ => Path::new(&self.file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(&self.file),
        }
    }

    /// Whether the column's values are secrets by its name (passwords, card and bank numbers),
    /// or by the field of Ferry's own sheet it is.
    pub fn secret_column(&self, i: usize) -> bool {
        let Some(h) = self.headers.get(i) else {
            return false;
        };
        if let Some(Native::Entity(e)) = &self.native {
            let field = cat::entity(e).and_then(|e| {
                let names = e.fields.iter().map(|f| f.name);
                cat::same_name(h, names).and_then(|n| e.field_def(n))
            });
            if field.is_some_and(|f| f.is_secret()) {
                return true;
            }
        }
        let n = cat::normalized(h);
        [
            "password",
            "passwd",
            "cardnumber",
            "accountnumber",
            "iban",
            "cvv",
            "cvc",
        ]
        .iter()
        .any(|s| n.contains(s))
    }
}

/// The parts of an upload, and what could not be read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sampled {
    pub parts: Vec<Part>,
    /// Per file that could not be read: its name and why.
    pub problems: Vec<String>,
    /// The CSV encoding they were read with (`None`: UTF-8).
    pub encoding: Option<String>,
}

/// Reads the first rows of every part of `inputs` (each CSV file of a folder on its own, and
/// only as far as its first rows). `hide` is the upload folder, kept out of messages.
pub fn sample(inputs: &[PathBuf], read: &ReadOptions, hide: &Path) -> Sampled {
    let mut read = read.clone();
    read.raw = Some(RawParts::all());
    let mut out = Sampled {
        encoding: read.encoding.map(|e| e.name().to_string()),
        ..Default::default()
    };
    for input in inputs {
        let files = if input.is_dir() {
            ferry_sources::input_files(input).unwrap_or_default()
        } else {
            vec![input.clone()]
        };
        for file in files {
            let csv = input.is_dir();
            let mut s = Sampler {
                parts: &mut out.parts,
                bytes: Default::default(),
                stop_when_full: csv,
            };
            match ferry_sources::read_any(&file, &read, &mut s) {
                Ok(_) | Err(SourceError::Sink(_)) => {}
                Err(e) => out
                    .problems
                    .push(crate::view::hide_paths(&e.to_string(), hide, false)),
            }
        }
    }
    for p in &mut out.parts {
        p.native = Native::of(p.name());
        // Rows read before a later row named another attribute are as wide as the rest.
        for r in &mut p.rows {
            r.cells.resize(p.headers.len(), String::new());
        }
    }
    out
}

/// Keeps the first rows of each part it is handed.
struct Sampler<'a> {
    parts: &'a mut Vec<Part>,
    /// Bytes kept so far of each part this file gave, by index in `parts`.
    bytes: std::collections::HashMap<usize, usize>,
    /// A CSV file is one part: reading stops once it has its rows.
    stop_when_full: bool,
}

impl Sampler<'_> {
    fn part_of(&mut self, row: &RawRow<'_>) -> Option<usize> {
        let p = row.part;
        let file = p.file.rsplit(['/', '\\']).next().unwrap_or(&p.file);
        let found = self.parts.iter().position(|x| {
            x.file == file
                && x.sheet.as_deref() == p.sheet.as_deref()
                && x.element.as_deref() == p.element.as_deref()
        });
        if found.is_some() || self.parts.len() >= PARTS {
            return found;
        }
        self.parts.push(Part {
            file: file.to_string(),
            sheet: p.sheet.as_deref().map(str::to_string),
            element: p.element.as_deref().map(str::to_string),
            ..Default::default()
        });
        Some(self.parts.len() - 1)
    }
}

impl Visitor for Sampler<'_> {
    type Error = SourceError;
    fn record(&mut self, _: RawRecord) -> Result<(), SourceError> {
        Ok(())
    }
    fn finding(&mut self, _: ferry_findings::Finding) -> Result<(), SourceError> {
        Ok(())
    }
    fn option(
        &mut self,
        _: String,
        _: RawValue,
        _: ferry_findings::Location,
    ) -> Result<(), SourceError> {
        Ok(())
    }
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), SourceError> {
        let Some(i) = self.part_of(&row) else {
            return Ok(());
        };
        let used = self.bytes.entry(i).or_default();
        let part = &mut self.parts[i];
        if part.rows.len() >= KEPT || *used >= PART_BYTES {
            return if self.stop_when_full {
                Err(SourceError::Sink("enough rows".into()))
            } else {
                Ok(())
            };
        }
        // An XML element's attributes differ from row to row: the part's headers are all of
        // them, in the order they were met.
        for h in row.headers {
            if !part.headers.contains(h) {
                part.headers.push(h.clone());
            }
        }
        let mut cells = vec![String::new(); part.headers.len()];
        for (h, v) in row.headers.iter().zip(row.cells) {
            if let Some(at) = part.headers.iter().position(|x| x == h) {
                cells[at] = clip(&v.display());
            }
        }
        *used += cells.iter().map(String::len).sum::<usize>() + 8 * cells.len();
        part.rows.push(SampleRow {
            row: row.row,
            cells,
        });
        Ok(())
    }
}

fn clip(v: &str) -> String {
    if v.chars().count() <= CELL {
        v.to_string()
    } else {
        let mut s: String = v.chars().take(CELL).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_sampled_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("csv");
        std::fs::create_dir(&csv).unwrap();
        let mut members = String::from("first_name,last_name,Password\n");
        for i in 0..500 {
            members.push_str(&format!("Ann{i},Lee,secret\n"));
        }
        std::fs::write(csv.join("members.csv"), members).unwrap();
        std::fs::write(csv.join("User.csv"), "Name,Role\nM-1,Member\n").unwrap();
        std::fs::write(
            dir.path().join("x.xml"),
            "<Import><Member id=\"1\"/><Member id=\"2\" name=\"Bo\"/></Import>",
        )
        .unwrap();
        let s = sample(
            &[csv.clone(), dir.path().join("x.xml")],
            &ReadOptions::default(),
            dir.path(),
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let m = s.parts.iter().find(|p| p.file == "members.csv").unwrap();
        assert_eq!(m.rows.len(), KEPT);
        assert_eq!(m.rows[0].row, 2);
        assert!(m.native.is_none() && m.secret_column(2) && !m.secret_column(0));
        let u = s.parts.iter().find(|p| p.file == "User.csv").unwrap();
        assert_eq!(u.native, Some(Native::Entity("User".into())));
        let x = s.parts.iter().find(|p| p.file == "x.xml").unwrap();
        assert_eq!(x.headers, ["id", "name"]);
        assert_eq!(x.rows[0].cells, ["1", ""]);
        assert_eq!(x.label(), "x.xml › <Member>");
    }
}
