//! Readers for the three containers of SPEC §2 (XML, XLSX workbook, CSV folder), all streaming,
//! all yielding the same located raw records to a [`Visitor`].
//!
//! Readers know the catalogue only to name entity types and fields; they never judge values
//! (that is `ferry-validate`'s job) beyond what the container itself makes impossible.

mod census;
mod csv_folder;
mod csv_records;
mod emit;
mod guard;
mod lines;
mod position;
mod sink;
mod xlsx;
mod xlsx_check;
mod xlsx_gate;
mod xml;

pub use position::Position;
use sink::{Sink, Stash};

use ferry_catalogue::{EntityId, FieldId};
use ferry_findings::{Column, Finding, Location};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A value as the container gave it, before any parsing.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Text(String),
    /// A numeric workbook cell without a date format.
    Number(f64),
    Bool(bool),
    /// A workbook cell with a date format, already converted from the workbook's date system.
    DateTime {
        date: (i32, u32, u32),
        time: (u32, u32, u32),
        whole_day: bool,
    },
    /// A date cell whose serial number is no date (negative, not a number, past 9999).
    BadDate(f64),
    /// A formula cell with no cached value.
    FormulaNoValue,
    /// An Excel error value (`#N/A`, `#DIV/0!` …).
    CellError(String),
    /// A value over the reader's size limit: only its length and first characters are kept.
    TooLong {
        bytes: usize,
        head: String,
    },
}

impl RawValue {
    /// Text as a value; text longer than any field may hold is kept as its length and head
    /// only (validation rejects it as too long), so that it is not copied on. Owned text is
    /// moved, not copied.
    pub(crate) fn bounded<'a>(text: impl Into<Cow<'a, str>>, limits: &Limits) -> RawValue {
        let text = text.into();
        if text.len() > limits.max_value_bytes.max(limits.max_base64_bytes) {
            RawValue::TooLong {
                bytes: text.len(),
                head: text
                    .chars()
                    .take(ferry_findings::MAX_FINDING_VALUE)
                    .collect(),
            }
        } else {
            RawValue::Text(text.into_owned())
        }
    }

    /// The value as text, the way a person reading the cell would see it (for messages).
    pub fn display(&self) -> String {
        match self {
            RawValue::Text(s) => s.clone(),
            RawValue::Number(n) => format!("{n}"),
            RawValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
            RawValue::DateTime {
                date: (y, m, d),
                time: (h, mi, s),
                whole_day,
            } => {
                if *whole_day {
                    format!("{y:04}-{m:02}-{d:02}")
                } else {
                    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                }
            }
            RawValue::BadDate(n) => format!("{n}"),
            RawValue::FormulaNoValue => "(formula without a value)".into(),
            RawValue::CellError(e) => e.clone(),
            RawValue::TooLong { bytes, head } => format!("{head}… ({bytes} bytes)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawField {
    pub field: FieldId,
    pub value: RawValue,
    /// Where the value sits; `None` when it was inherited (CloseInvoice without User).
    pub column: Option<Column>,
}

/// One source record: its entity type, where it starts, and the fields it gives.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub entity: EntityId,
    pub location: Location,
    pub fields: Vec<RawField>,
    /// Set when the record must be rejected for a structural reason found by the reader
    /// (its finding was already reported).
    pub broken: bool,
    /// Where each field of the entity type (by `FieldId`) has its column in the record's
    /// sheet or CSV file, shared by every record of it: where a field the row leaves empty
    /// has its (empty) cell. `None` when there is no header (XML, mapped parts).
    pub header: Option<HeaderColumns>,
}

/// The column of each field of one entity type in a header row, by `FieldId`.
pub type HeaderColumns = Arc<[Option<Column>]>;

impl RawRecord {
    pub fn get(&self, field: FieldId) -> Option<&RawField> {
        self.fields.iter().find(|f| f.field == field)
    }

    /// The column of `field` in the record's header, whether or not the row gives a value.
    pub fn header_column(&self, field: FieldId) -> Option<Column> {
        self.header
            .as_ref()
            .and_then(|h| h.get(field as usize).copied().flatten())
    }
}

/// What a reader reports to.
pub trait Visitor {
    /// The visitor's own failure (a full disk under its spool, enough rows seen…): returned
    /// by the reader as it is. The reader's own errors become it through `From`.
    type Error: From<SourceError>;
    fn record(&mut self, record: RawRecord) -> Result<(), Self::Error>;
    fn finding(&mut self, finding: Finding) -> Result<(), Self::Error>;
    /// A row of an `Options` sheet / `Options.csv`.
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), Self::Error>;
    /// A sheet, CSV file or XML element met: `read` when it is an entity type, `Ledger` or
    /// `Options`; otherwise its header names (an XML element's attribute names).
    fn part(&mut self, _name: &str, _read: bool, _headers: &[String]) {}
    /// A row of a part that [`ReadOptions::raw`] hands over as it stands (a mapping reads it).
    fn raw_row(&mut self, _row: RawRow<'_>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Decides which parts are handed over as raw rows instead of being read by their names:
/// called with a file's name (without its folder), a sheet's name and an XML element's name.
#[derive(Clone)]
pub struct RawParts(pub std::sync::Arc<PartFilter>);

/// Called with a file's name, a sheet's name and an XML element's name.
pub type PartFilter = dyn Fn(&str, Option<&str>, Option<&str>) -> bool + Send + Sync;

impl RawParts {
    /// Every part is raw (to look at an export that is not in Ferry's shape).
    pub fn all() -> RawParts {
        RawParts(std::sync::Arc::new(|_, _, _| true))
    }

    pub(crate) fn wants(&self, file: &str, sheet: Option<&str>, element: Option<&str>) -> bool {
        let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
        (self.0)(base, sheet, element)
    }
}

impl std::fmt::Debug for RawParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawParts")
    }
}

/// A part read as raw rows: a CSV file, a sheet, or one XML element type.
#[derive(Debug, Clone)]
pub struct RawPart {
    pub file: Arc<str>,
    pub sheet: Option<Arc<str>>,
    pub element: Option<Arc<str>>,
    /// Workbook columns are letters, CSV columns numbers; an XML record is located at its
    /// element's character column.
    pub(crate) columns: RawColumns,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum RawColumns {
    Letters,
    Numbers,
    At(u32),
}

impl RawPart {
    /// Where cell `idx` (0-based) of a row sits.
    pub fn column(&self, idx: usize) -> Column {
        let idx = u32::try_from(idx).unwrap_or(u32::MAX - 1);
        match self.columns {
            RawColumns::Letters => Column::Letter(idx),
            RawColumns::Numbers => Column::Number(idx + 1),
            RawColumns::At(c) => Column::Number(c),
        }
    }

    pub fn location(&self, row: u64, idx: Option<usize>) -> Location {
        Location {
            file: self.file.clone(),
            sheet: self.sheet.clone(),
            row,
            column: idx.map(|i| self.column(i)),
        }
    }
}

/// One raw row: the part's header (an XML element's attribute names) and the row's cells,
/// `cells[i]` under `headers[i]` (empty text where the row has no value).
#[derive(Debug, Clone, Copy)]
pub struct RawRow<'a> {
    pub part: &'a RawPart,
    /// Spreadsheet row, CSV line or XML line.
    pub row: u64,
    pub headers: &'a [String],
    pub cells: &'a [RawValue],
}

/// Bounds on what a reader accepts, so that no input can exhaust time or memory.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Longest accepted single value in bytes; longer values are cut and rejected.
    pub max_value_bytes: usize,
    /// Most fields (attributes, columns with values) on one record.
    pub max_fields: usize,
    /// Deepest XML nesting.
    pub max_xml_depth: usize,
    /// Largest uncompressed size of one part of a workbook (zip-bomb guard).
    pub max_part_bytes: u64,
    /// Most memory a workbook's shared strings may take: their inflated bytes plus 32 bytes
    /// per entry.
    pub max_shared_strings_bytes: u64,
    /// Largest inflated part that is read whole (a workbook's styles, workbook and
    /// relationship parts).
    pub max_structure_bytes: u64,
    /// Largest CSV record in bytes.
    pub max_record_bytes: usize,
    /// Longest base64 value (a ticket attachment's Data); follows `--max-attachment-bytes`.
    pub max_base64_bytes: usize,
}

impl Limits {
    /// The base64 length that can hold `bytes` decoded bytes, with room for line breaks.
    pub fn base64_for(bytes: u64) -> usize {
        (bytes as usize).div_ceil(3) * 4 * 105 / 100 + 1024
    }
}

impl Limits {
    /// The defaults, each overridden by its environment variable (README, "Limits"):
    /// `FERRY_MAX_VALUE_BYTES`, `FERRY_MAX_FIELDS`, `FERRY_MAX_XML_DEPTH`,
    /// `FERRY_MAX_PART_BYTES`, `FERRY_MAX_SHARED_STRINGS_BYTES`, `FERRY_MAX_RECORD_BYTES`,
    /// `FERRY_MAX_STRUCTURE_BYTES`.
    pub fn from_env() -> Result<Limits, LimitErrors> {
        Limits::from_vars(|name| std::env::var(name).ok())
    }

    /// The defaults, each overridden by the variable `var` gives; every variable that does not
    /// hold a whole number is told.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Limits, LimitErrors> {
        let mut l = Limits::default();
        let mut errors = Vec::new();
        let mut get = |name: &str| -> Option<u64> {
            let v = var(name)?;
            v.trim()
                .parse::<u64>()
                .map_err(|_| {
                    errors.push(LimitError {
                        name: name.to_string(),
                        value: v,
                    })
                })
                .ok()
        };
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        if let Some(v) = get("FERRY_MAX_VALUE_BYTES") {
            l.max_value_bytes = size(v);
        }
        if let Some(v) = get("FERRY_MAX_FIELDS") {
            l.max_fields = size(v);
        }
        if let Some(v) = get("FERRY_MAX_XML_DEPTH") {
            l.max_xml_depth = size(v);
        }
        if let Some(v) = get("FERRY_MAX_PART_BYTES") {
            l.max_part_bytes = v;
        }
        if let Some(v) = get("FERRY_MAX_SHARED_STRINGS_BYTES") {
            l.max_shared_strings_bytes = v;
        }
        if let Some(v) = get("FERRY_MAX_RECORD_BYTES") {
            l.max_record_bytes = size(v);
        }
        if let Some(v) = get("FERRY_MAX_STRUCTURE_BYTES") {
            l.max_structure_bytes = v;
        }
        if errors.is_empty() {
            Ok(l)
        } else {
            Err(LimitErrors(errors))
        }
    }
}

/// A limit's environment variable that does not hold a whole number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value}: not a whole number")]
pub struct LimitError {
    pub name: String,
    pub value: String,
}

/// Every limit's environment variable that does not hold a whole number (one per line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LimitErrors(pub Vec<LimitError>);

impl std::fmt::Display for LimitErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_bytes: 1 << 20,
            max_fields: 1000,
            max_xml_depth: 64,
            max_part_bytes: 1 << 30,
            max_shared_strings_bytes: 256 << 20,
            max_structure_bytes: 16 << 20,
            max_record_bytes: 64 << 20,
            max_base64_bytes: Limits::base64_for(2 * 1024 * 1024),
        }
    }
}

/// Options that change how a container is read.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Encoding of CSV files (`--encoding`); UTF-8 when `None`.
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub limits: Limits,
    /// Parts handed over as raw rows ([`Visitor::raw_row`]) instead of read by their names.
    pub raw: Option<RawParts>,
    /// The input being read and the name findings and messages show for it (the file name as
    /// uploaded to the console), so that no server path reaches an output; `None`: the path
    /// as given.
    pub shown_as: Option<(PathBuf, String)>,
}

impl ReadOptions {
    /// How findings and messages name `path` (the input, or a file in it).
    pub fn show(&self, path: &Path) -> String {
        match &self.shown_as {
            Some((input, name)) => match path.strip_prefix(input) {
                Ok(rest) if rest.as_os_str().is_empty() => name.clone(),
                Ok(rest) => Path::new(name).join(rest).display().to_string(),
                Err(_) => path.display().to_string(),
            },
            None => path.display().to_string(),
        }
    }
}

/// A container-level failure: the input cannot be read on (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{position}: {message}")]
    Malformed { position: Position, message: String },
    #[error("{path}: {message}")]
    Refused { path: String, message: String },
    #[error("{0}")]
    Sink(String),
    /// The visitor failed; the reader stopped (its failure is returned as itself).
    #[error("the reader's visitor stopped it")]
    Stopped,
}

impl SourceError {
    /// The error naming `path` as `opts` shows it (for [`detect`], which is given no options).
    pub(crate) fn shown(self, path: &Path, opts: &ReadOptions) -> SourceError {
        let name = |p: String| {
            if p == path.display().to_string() {
                opts.show(path)
            } else {
                p
            }
        };
        match self {
            SourceError::Io { path, source } => SourceError::Io {
                path: name(path),
                source,
            },
            SourceError::Refused { path, message } => SourceError::Refused {
                path: name(path),
                message,
            },
            other => other,
        }
    }

    pub fn malformed(position: Position, message: impl Into<String>) -> SourceError {
        SourceError::Malformed {
            position,
            message: message.into(),
        }
    }
}

/// The container kind of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    Xml,
    Xlsx,
    CsvFolder,
    /// A single `<Entity>.csv` file given on its own.
    CsvFile,
}

impl Container {
    pub fn name(self) -> &'static str {
        match self {
            Container::Xml => "XML",
            Container::Xlsx => "workbook",
            Container::CsvFolder | Container::CsvFile => "CSV",
        }
    }
}

/// Decides the container of an input from what it is (folder) or its first bytes.
pub fn detect(path: &Path) -> Result<Container, SourceError> {
    let io = |e| SourceError::Io {
        path: path.display().to_string(),
        source: e,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Ok(Container::CsvFolder);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("xml") => return Ok(Container::Xml),
        Some("xlsx") | Some("xlsm") => return Ok(Container::Xlsx),
        Some("csv") => return Ok(Container::CsvFile),
        _ => {}
    }
    use std::io::Read;
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(io)?;
    let head = &head[..n];
    if head.starts_with(b"PK") {
        return Ok(Container::Xlsx);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Ok(Container::Xml);
    }
    Err(SourceError::Refused {
        path: path.display().to_string(),
        message: "not an XML file, a workbook (.xlsx) or a CSV folder".into(),
    })
}

/// Reads one input, reporting every record, finding and option to `visitor`.
pub fn read_input<V: Visitor + ?Sized>(
    path: &Path,
    opts: &ReadOptions,
    visitor: &mut V,
) -> Result<Container, V::Error> {
    let mut stash = Stash::new(visitor);
    let read = census_read(path, opts, &mut stash);
    stash.outcome(read)
}

fn census_read(
    path: &Path,
    opts: &ReadOptions,
    sink: &mut dyn Sink,
) -> Result<Container, SourceError> {
    let mut census = census::Census::new(sink);
    let container = read_parts(path, opts, &mut census)?;
    let what = match container {
        Container::Xml => "element",
        Container::Xlsx => "sheet",
        _ => "file",
    };
    census.check(&opts.show(path), what)?;
    Ok(container)
}

/// Reads one input as [`read_input`] does, without failing when no part is an entity type
/// (to look at an export before it is mapped).
pub fn read_any<V: Visitor + ?Sized>(
    path: &Path,
    opts: &ReadOptions,
    visitor: &mut V,
) -> Result<Container, V::Error> {
    let mut stash = Stash::new(visitor);
    let read = read_parts(path, opts, &mut stash);
    stash.outcome(read)
}

fn read_parts(
    path: &Path,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<Container, SourceError> {
    let container = detect(path).map_err(|e| e.shown(path, opts))?;
    match container {
        Container::Xml => xml::read(path, opts, visitor)?,
        Container::Xlsx => xlsx::read(path, opts, visitor)?,
        Container::CsvFolder => csv_folder::read_folder(path, opts, visitor)?,
        Container::CsvFile => csv_folder::read_files(
            &[PathBuf::from(path)],
            opts.show(path).as_str(),
            opts,
            visitor,
        )?,
    }
    Ok(container)
}

/// Checks a workbook against `limits` without keeping it in memory: every part that a reader
/// parses is inflated once, its events, cells, shared strings and rows counted (see
/// `xlsx_check`). The workbook reader runs it first; the annotator too.
pub fn check_workbook(path: &Path, limits: &Limits) -> Result<(), SourceError> {
    xlsx_check::check(path, &path.display().to_string(), limits)
}

/// The files an input consists of (for checksums): the file itself, or a folder's CSV files.
pub fn input_files(path: &Path) -> Result<Vec<PathBuf>, SourceError> {
    if path.is_dir() {
        csv_folder::list_csv(path)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    #[test]
    fn every_bad_limit_variable_is_told() {
        let vars = |name: &str| match name {
            "FERRY_MAX_FIELDS" => Some("many".to_string()),
            "FERRY_MAX_XML_DEPTH" => Some(" 9 ".to_string()),
            "FERRY_MAX_RECORD_BYTES" => Some("-1".to_string()),
            _ => None,
        };
        let err = Limits::from_vars(vars).unwrap_err();
        assert_eq!(
            err.to_string(),
            "FERRY_MAX_FIELDS=many: not a whole number\nFERRY_MAX_RECORD_BYTES=-1: not a whole number"
        );
        let l = Limits::from_vars(|n| (n == "FERRY_MAX_XML_DEPTH").then(|| "9".into())).unwrap();
        assert_eq!((l.max_xml_depth, l.max_fields), (9, 1000));
    }
}

#[cfg(test)]
mod shown_tests {
    use super::*;

    #[test]
    fn inputs_are_named_as_shown_and_files_in_them_below_that_name() {
        let mut o = ReadOptions::default();
        let up = Path::new("/srv/data/uploads/tok");
        assert_eq!(
            o.show(&up.join("book.xlsx")),
            "/srv/data/uploads/tok/book.xlsx"
        );
        o.shown_as = Some((up.join("csv"), "csv".into()));
        assert_eq!(o.show(&up.join("csv")), "csv");
        assert_eq!(o.show(&up.join("csv/User.csv")), "csv/User.csv");
        // A path outside the input is shown as it is.
        assert_eq!(o.show(Path::new("other.xml")), "other.xml");
        let refused = SourceError::Refused {
            path: up.join("csv").display().to_string(),
            message: "no".into(),
        };
        assert_eq!(refused.shown(&up.join("csv"), &o).to_string(), "csv: no");
    }
}
