//! "Rejected rows": the source rows a run rejected, in their original layout, so that they can
//! be corrected and imported again. A workbook gives a workbook with the same sheets and header
//! rows (an `Options` sheet copied whole); a CSV folder gives its CSV files in a zip. Each row
//! keeps its cells as read, with one more column, [`FINDINGS_COLUMN`], saying why it was
//! rejected (`code: message` per error). Passwords are blanked and card and bank numbers masked,
//! as the annotated workbook does. The input is streamed; memory holds one short text per
//! rejected row.

use crate::rejected_out::{CsvZip, Sheets, WriteError, Writer};
use ferry_findings::{mask_number, Severity};
use ferry_sources::{Container, RawParts, RawRecord, RawRow, RawValue, ReadOptions, Visitor};
use ferry_store::{StoreError, Target};
use std::collections::HashMap;
use std::path::Path;

pub use ferry_catalogue::FINDINGS_COLUMN;

/// The longest findings text of one row (a cell holds at most 32,767 characters).
const ROW_TEXT: usize = 2_000;

/// Why the rejected rows could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RejectedError {
    #[error("{0}")]
    Journal(#[from] StoreError),
    #[error("{0}")]
    Read(#[from] ferry_sources::SourceError),
    #[error("cannot write the rejected rows: {0}")]
    Write(#[from] WriteError),
    #[error("cannot list the CSV files of the input: {0}")]
    List(String),
    #[error("rejected rows are offered for workbooks and CSV folders, not for {0}")]
    Unsupported(&'static str),
}

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RejectedSummary {
    /// Rejected rows written.
    pub rows: u64,
}

/// Writes the rows of `input` (a workbook or a CSV folder, as the run recorded it) that run
/// `run` rejected to `out`: a workbook for a workbook, a zip of CSV files for a CSV folder.
pub fn write_rejected(
    t: &Target,
    run: i64,
    input: &Path,
    read: &ReadOptions,
    out: &Path,
) -> Result<RejectedSummary, RejectedError> {
    let container = ferry_sources::detect(input)?;
    let writer: Box<dyn Writer> = match container {
        Container::Xlsx => Box::new(Sheets::new(out)?),
        Container::CsvFolder | Container::CsvFile => Box::new(CsvZip::new(out)?),
        Container::Xml => return Err(RejectedError::Unsupported("XML files")),
    };
    let rejected = rejected_rows(t, run, input, &read.show(input))?;
    let mut read = read.clone();
    read.raw = Some(RawParts::all());
    let mut copy = Copy {
        rejected,
        writer,
        part: None,
        rows: 0,
    };
    let files = if input.is_dir() {
        ferry_sources::input_files(input).map_err(|e| RejectedError::List(e.to_string()))?
    } else {
        vec![input.to_path_buf()]
    };
    for file in files {
        ferry_sources::read_any(&file, &read, &mut copy)?;
    }
    copy.writer.finish()?;
    Ok(RejectedSummary { rows: copy.rows })
}

/// A part's name as findings locate it: the sheet, or the CSV file's name.
fn part_name(file: &str, sheet: Option<&str>) -> String {
    match sheet {
        Some(s) => s.to_string(),
        None => file.rsplit(['/', '\\']).next().unwrap_or(file).to_string(),
    }
}

/// The rows of `input` with error findings, by (part, row), with their findings as text;
/// `shown` is how the run's findings name `input` (as uploaded, or its path).
fn rejected_rows(
    t: &Target,
    run: i64,
    input: &Path,
    shown: &str,
) -> Result<HashMap<(String, u64), String>, StoreError> {
    let mut rows: HashMap<(String, u64), String> = HashMap::new();
    t.findings(run, |f| {
        let file = &*f.location.file;
        let ours = file == shown || Path::new(file).parent() == Some(Path::new(shown));
        if f.severity != Severity::Error || f.location.row == 0 || !ours {
            return Ok(());
        }
        let key = (part_name(file, f.location.sheet.as_deref()), f.location.row);
        let text = rows.entry(key).or_default();
        if text.len() < ROW_TEXT {
            if !text.is_empty() {
                text.push_str("; ");
            }
            let message = without_folders(&f.message, input);
            text.push_str(&format!("{}: {}", f.code.as_str(), message));
            if text.len() > ROW_TEXT {
                let cut = (0..=ROW_TEXT).rev().find(|i| text.is_char_boundary(*i));
                text.truncate(cut.unwrap_or(0));
                text.push('…');
            }
        }
        Ok(())
    })?;
    Ok(rows)
}

/// `message` without the folders of `input` (the file is named as the user knows it: a
/// console's upload folder, or any folder, is nobody's business in a file handed out).
fn without_folders(message: &str, input: &Path) -> String {
    let mut out = message.to_string();
    let folders = [Some(input), input.parent()];
    for dir in folders
        .into_iter()
        .flatten()
        .filter(|d| !d.as_os_str().is_empty())
    {
        out = out.replace(&format!("{}/", dir.display()), "");
        if dir.is_dir() {
            out = out.replace(&dir.display().to_string(), "the file's folder");
        }
    }
    out
}

/// What a secret column's values become.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secret {
    Keep,
    Blank,
    Mask,
}

/// The part being copied: its name, whether it is an `Options` part (copied whole) and what
/// each column's secrets become.
struct Part {
    key: (String, Option<String>),
    name: String,
    options: bool,
    secrets: Vec<Secret>,
}

impl Part {
    fn new(file: &str, sheet: Option<&str>, headers: &[String]) -> Part {
        let name = part_name(file, sheet);
        let entity_name = name.strip_suffix(".csv").unwrap_or(&name).to_string();
        let entity = ferry_catalogue::entity(&entity_name);
        let secrets = headers
            .iter()
            .map(
                |h| match entity.and_then(|e| e.field_def(h.trim())).map(|f| f.kind) {
                    Some(ferry_catalogue::Kind::Password) => Secret::Blank,
                    Some(ferry_catalogue::Kind::SecretNumber) => Secret::Mask,
                    _ => Secret::Keep,
                },
            )
            .collect();
        Part {
            key: (file.to_string(), sheet.map(str::to_string)),
            options: entity_name == ferry_catalogue::OPTIONS_SHEET,
            name,
            secrets,
        }
    }
}

/// The reader's visitor: each rejected row (and every row of an `Options` part) to the writer.
struct Copy {
    rejected: HashMap<(String, u64), String>,
    writer: Box<dyn Writer>,
    part: Option<Part>,
    rows: u64,
}

impl Copy {
    fn enter(&mut self, row: &RawRow<'_>) -> Result<(), RejectedError> {
        let key = (
            row.part.file.to_string(),
            row.part.sheet.as_deref().map(str::to_string),
        );
        if self.part.as_ref().is_some_and(|p| p.key == key) {
            return Ok(());
        }
        let part = Part::new(&row.part.file, row.part.sheet.as_deref(), row.headers);
        let mut header: Vec<RawValue> = row
            .headers
            .iter()
            .map(|h| RawValue::Text(h.clone()))
            .collect();
        if !part.options {
            header.push(RawValue::Text(FINDINGS_COLUMN.into()));
        }
        self.writer.part(&part.name, &header)?;
        self.part = Some(part);
        Ok(())
    }

    fn copy(&mut self, row: RawRow<'_>) -> Result<(), RejectedError> {
        self.enter(&row)?;
        let Some(part) = &self.part else {
            return Ok(());
        };
        let findings = self.rejected.remove(&(part.name.clone(), row.row));
        if findings.is_none() && !part.options {
            return Ok(());
        }
        let mut cells: Vec<RawValue> = row
            .cells
            .iter()
            .enumerate()
            .map(
                |(i, c)| match part.secrets.get(i).copied().unwrap_or(Secret::Keep) {
                    Secret::Keep => c.clone(),
                    _ if c.display().trim().is_empty() => c.clone(),
                    Secret::Blank => RawValue::Text(String::new()),
                    Secret::Mask => RawValue::Text(mask_number(&c.display())),
                },
            )
            .collect();
        if let Some(text) = findings {
            cells.resize(row.headers.len(), RawValue::Text(String::new()));
            cells.push(RawValue::Text(text));
            self.rows += 1;
        }
        Ok(self.writer.row(&cells)?)
    }
}

impl Visitor for Copy {
    type Error = ferry_sources::SourceError;
    fn record(&mut self, _: RawRecord) -> Result<(), Self::Error> {
        Ok(())
    }
    fn finding(&mut self, _: ferry_findings::Finding) -> Result<(), Self::Error> {
        Ok(())
    }
    fn option(
        &mut self,
        _: String,
        _: RawValue,
        _: ferry_findings::Location,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
    fn raw_row(&mut self, row: RawRow<'_>) -> Result<(), Self::Error> {
        self.copy(row)
            .map_err(|e| ferry_sources::SourceError::Sink(e.to_string()))
    }
}
