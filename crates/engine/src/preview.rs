//! `map preview` (CLI and console): the first rows of each mapped file or sheet as the records
//! they become, each value judged by the value rules, before anything runs. References and
//! keys are not looked up (a test run does that).

use crate::mapping::RunMapping;
use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::{Finding, Location};
use ferry_mapping::Mapped;
use ferry_sources::{RawRecord, RawRow, RawValue, ReadOptions, SourceError, Visitor};
use ferry_validate::{parse_record, RecordOptions};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// One source row and what it becomes.
#[derive(Debug, Clone)]
pub struct PreviewRow {
    pub file: String,
    pub sheet: Option<String>,
    pub element: Option<String>,
    /// Spreadsheet row, CSV line or XML line.
    pub row: u64,
    /// The row's cells under their headers (secrets are not shown: see `records`).
    pub cells: Vec<(String, String)>,
    /// Why the mapping's filters leave the row out, if they do.
    pub left_out: Option<String>,
    pub records: Vec<PreviewRecord>,
    /// Findings of the row that belong to no record it gives.
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct PreviewRecord {
    pub entity: &'static str,
    /// Field and value in Ferry's form (secrets masked).
    pub fields: Vec<(&'static str, String)>,
    pub findings: Vec<Finding>,
    /// Whether the record would be rejected (an error among its findings).
    pub rejected: bool,
}

type Key = (String, Option<String>, u64);

fn key(l: &Location) -> Key {
    (
        l.file.to_string(),
        l.sheet.as_deref().map(str::to_string),
        l.row,
    )
}

/// The first `rows` rows of every part of `inputs` that `mapping` reads.
pub fn preview(
    inputs: &[PathBuf],
    mapping: &RunMapping,
    rows: usize,
    read: &ReadOptions,
    values: &RecordOptions,
) -> Result<Vec<PreviewRow>, RunError> {
    let shown: Rc<RefCell<Vec<PreviewRow>>> = Rc::default();
    let mut sink = Sink {
        shown: shown.clone(),
        values,
    };
    let mut read = read.clone();
    read.raw = Some(ferry_mapping::raw_parts(mapping.mapping.clone()));
    {
        let mut mapped = Mapped::new(&mut sink, &mapping.mapping);
        for input in inputs {
            let mut tap = Tap {
                inner: &mut mapped,
                shown: shown.clone(),
                rows,
                mapping: mapping.mapping.as_ref(),
                seen: std::collections::HashMap::new(),
            };
            ferry_sources::read_any(input, &read, &mut tap)?;
        }
        mapped.finish()?;
    }
    let out = shown.take();
    Ok(out)
}

/// In front of the mapping: keeps each shown row's cells and filter outcome, and hands on
/// only the first `rows` rows of each part.
struct Tap<'a, 'm> {
    inner: &'a mut Mapped<'m>,
    shown: Rc<RefCell<Vec<PreviewRow>>>,
    rows: usize,
    mapping: &'m ferry_mapping::Mapping,
    /// Rows shown so far per part (file, sheet, element): a count, not a scan of the rows.
    seen: std::collections::HashMap<(String, Option<String>, Option<String>), usize>,
}

impl Visitor for Tap<'_, '_> {
    type Error = SourceError;
    fn record(&mut self, _: RawRecord) -> Result<(), SourceError> {
        Ok(())
    }
    fn finding(&mut self, f: Finding) -> Result<(), SourceError> {
        // Only what the reader says about the shown rows' parts, at their header.
        if f.location.row <= 1 {
            self.inner.finding(f)?;
        }
        Ok(())
    }
    fn option(&mut self, _: String, _: RawValue, _: Location) -> Result<(), SourceError> {
        Ok(())
    }
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), SourceError> {
        let p = row.part;
        let part = (
            p.file.to_string(),
            p.sheet.as_deref().map(str::to_string),
            p.element.as_deref().map(str::to_string),
        );
        let seen = self.seen.entry(part).or_default();
        if *seen >= self.rows {
            return Ok(());
        }
        *seen += 1;
        let file = p.file.rsplit(['/', '\\']).next().unwrap_or(&p.file);
        let source = self
            .mapping
            .source_for(file, p.sheet.as_deref(), p.element.as_deref());
        let texts: Vec<String> = row.cells.iter().map(RawValue::display).collect();
        let secret = source.map(secret_columns).unwrap_or_default();
        let cells = row
            .headers
            .iter()
            .zip(&texts)
            .map(|(h, v)| {
                let v = if secret.iter().any(|s| s == h) && !v.is_empty() {
                    "••••".to_string()
                } else {
                    ferry_findings::clip(v)
                };
                (h.clone(), v)
            })
            .collect();
        let left_out = source.and_then(|s| s.dropped_by(row.headers, &texts));
        self.shown.borrow_mut().push(PreviewRow {
            file: p.file.to_string(),
            sheet: p.sheet.as_deref().map(str::to_string),
            element: p.element.as_deref().map(str::to_string),
            row: row.row,
            cells,
            left_out,
            records: Vec::new(),
            findings: Vec::new(),
        });
        self.inner.raw_row(row)
    }
}

/// The columns a source copies into a secret field (their cells are masked in a preview).
fn secret_columns(source: &ferry_mapping::Source) -> Vec<String> {
    let mut out = Vec::new();
    for r in &source.records {
        let Some(e) = cat::entity(r.entity.get_ref()) else {
            continue;
        };
        for (name, def) in &r.fields {
            if e.field_def(name.get_ref()).is_some_and(|f| f.is_secret()) {
                out.extend(def.get_ref().column.clone());
                out.extend(def.get_ref().split.as_ref().map(|s| s.column.clone()));
            }
        }
    }
    out
}

/// Behind the mapping: the records and findings of the shown rows, each record judged.
struct Sink<'v> {
    shown: Rc<RefCell<Vec<PreviewRow>>>,
    values: &'v RecordOptions,
}

impl Sink<'_> {
    fn row_of(&self, l: &Location) -> Option<usize> {
        let k = key(l);
        self.shown
            .borrow()
            .iter()
            .rposition(|r| (r.file.clone(), r.sheet.clone(), r.row) == k)
    }
}

impl Visitor for Sink<'_> {
    type Error = SourceError;
    fn record(&mut self, raw: RawRecord) -> Result<(), SourceError> {
        let Some(i) = self.row_of(&raw.location) else {
            return Ok(());
        };
        let (rec, mut findings) = parse_record(&raw, self.values);
        let mut shown = self.shown.borrow_mut();
        // The mapping's own findings of this record came just before it.
        let row = &mut shown[i];
        let entity = rec.entity;
        let mine: Vec<Finding> = row
            .findings
            .iter()
            .filter(|f| f.entity == Some(entity.name))
            .cloned()
            .collect();
        row.findings.retain(|f| f.entity != Some(entity.name));
        findings.splice(0..0, mine);
        let fields = entity
            .fields
            .iter()
            .zip(&rec.values)
            .filter_map(|(f, v)| {
                v.as_ref().map(|v| {
                    (
                        f.name,
                        ferry_validate::record::shown_value(entity, f.name, v),
                    )
                })
            })
            .collect();
        let rejected = raw.broken || findings.iter().any(Finding::is_error);
        row.records.push(PreviewRecord {
            entity: entity.name,
            fields,
            findings,
            rejected,
        });
        Ok(())
    }
    fn finding(&mut self, f: Finding) -> Result<(), SourceError> {
        match self.row_of(&f.location) {
            Some(i) => self.shown.borrow_mut()[i].findings.push(f),
            None => {
                // A note on a whole part (unused columns, rows left out): on its first shown row.
                let first = self.shown.borrow().iter().position(|r| {
                    *r.file == *f.location.file && r.sheet.as_deref() == f.location.sheet.as_deref()
                });
                if let Some(i) = first {
                    self.shown.borrow_mut()[i].findings.push(f);
                }
            }
        }
        Ok(())
    }
    fn option(&mut self, _: String, _: RawValue, _: Location) -> Result<(), SourceError> {
        Ok(())
    }
}
