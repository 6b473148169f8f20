//! The findings of one workbook, kept on disk: a compact key per finding in memory (sheet, row,
//! column, severity, where its text is), the text itself in a temporary file.

use ferry_findings::{Column, Finding, Severity};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

/// No sheet: a finding about the file as a whole.
pub(crate) const NO_SHEET: u32 = u32::MAX;

/// Where one finding points, and where its text is in the spool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// Index into [`FindingSet::sheets`], or [`NO_SHEET`].
    pub sheet: u32,
    /// Spreadsheet row (1-based); 0 when the finding names none.
    pub row: u32,
    /// 0-based column, when the finding names a cell.
    pub col: Option<u32>,
    pub severity: Severity,
    /// Order of the finding in the run.
    pub seq: u32,
    offset: u64,
    len: u32,
}

/// What a comment and the `Findings` sheet show of one finding.
#[derive(Debug, Default, Clone)]
pub(crate) struct Text {
    pub code: String,
    pub entity: String,
    pub key: String,
    pub field: String,
    pub value: String,
    pub message: String,
    pub hint: String,
}

/// The findings of one workbook input, collected before it is annotated.
pub struct FindingSet {
    file: String,
    spool: File,
    pending: Vec<u8>,
    written: u64,
    pub(crate) sheets: Vec<Arc<str>>,
    sheet_ids: HashMap<Arc<str>, u32>,
    pub(crate) keys: Vec<Key>,
}

impl FindingSet {
    /// An empty set for the workbook `file`, named as findings name it (the path as given).
    pub fn new(file: &str) -> io::Result<FindingSet> {
        Ok(FindingSet {
            file: file.to_string(),
            spool: tempfile::tempfile()?,
            pending: Vec::with_capacity(1 << 16),
            written: 0,
            sheets: vec![],
            sheet_ids: HashMap::new(),
            keys: vec![],
        })
    }

    /// The workbook these findings belong to.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// How many findings the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds a finding if it belongs to this workbook; returns whether it did.
    pub fn push(&mut self, f: &Finding) -> io::Result<bool> {
        if *f.location.file != *self.file {
            return Ok(false);
        }
        let sheet = match &f.location.sheet {
            None => NO_SHEET,
            Some(name) => match self.sheet_ids.get(name) {
                Some(&i) => i,
                None => {
                    let i = self.sheets.len() as u32;
                    self.sheets.push(name.clone());
                    self.sheet_ids.insert(name.clone(), i);
                    i
                }
            },
        };
        let text = serde_json::json!([
            f.code.as_str(),
            f.entity.unwrap_or(""),
            f.key.as_deref().unwrap_or(""),
            f.field.as_deref().unwrap_or(""),
            f.value.as_deref().unwrap_or(""),
            f.message,
            f.hint.as_deref().unwrap_or(""),
        ]);
        let bytes = serde_json::to_vec(&text).map_err(io::Error::other)?;
        let key = Key {
            sheet,
            row: u32::try_from(f.location.row).unwrap_or(0),
            col: match f.location.column {
                Some(Column::Letter(c)) if sheet != NO_SHEET => Some(c),
                _ => None,
            },
            severity: f.severity,
            seq: self.keys.len() as u32,
            offset: self.written,
            len: bytes.len() as u32,
        };
        self.written += bytes.len() as u64;
        self.pending.extend_from_slice(&bytes);
        if self.pending.len() >= 1 << 16 {
            self.flush()?;
        }
        self.keys.push(key);
        Ok(true)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.spool.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// A reader of the spooled texts (flushes what is pending first).
    pub(crate) fn texts(&mut self) -> io::Result<Texts> {
        self.flush()?;
        Ok(Texts {
            file: self.spool.try_clone()?,
            buf: vec![],
        })
    }
}

/// Reads finding texts back from the spool by key.
pub(crate) struct Texts {
    file: File,
    buf: Vec<u8>,
}

impl Texts {
    pub fn get(&mut self, k: &Key) -> io::Result<Text> {
        self.buf.resize(k.len as usize, 0);
        self.file.seek(SeekFrom::Start(k.offset))?;
        self.file.read_exact(&mut self.buf)?;
        let v: Vec<String> = serde_json::from_slice(&self.buf).map_err(io::Error::other)?;
        let mut it = v.into_iter();
        let mut next = || it.next().unwrap_or_default();
        Ok(Text {
            code: next(),
            entity: next(),
            key: next(),
            field: next(),
            value: next(),
            message: next(),
            hint: next(),
        })
    }
}
