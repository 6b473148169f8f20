//! The workbook reader: one sheet per entity type (plus `Ledger` and `Options`), streamed cell
//! by cell with calamine on a thread of its own (`ferry-xlsx`), reported to the visitor on the
//! caller's thread in the same order. `xlsx_check` bounds every part calamine will parse (size,
//! events, cells, rows, shared strings), since calamine holds each of them whole and trusts the
//! counts the file claims: the parts read whole before calamine opens the file, the large ones
//! on another thread (`ferry-xlsx-check`) while calamine reads them only as far as they are
//! checked (`xlsx_gate`).

use crate::emit::{self, Sheet, SheetKind};
use crate::xlsx_check::{self, bad_workbook};
use crate::xlsx_gate::{Gate, GatedFile};
use crate::Position;
use crate::{RawValue, ReadOptions, Sink, SourceError};
use calamine::{DataRef, Reader, Xlsx};
use ferry_catalogue as cat;
use ferry_findings::{Code, Finding, Location};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;

/// Columns a sheet can have (A to XFD). calamine takes any cell reference from the sheet's XML,
/// so without this bound a header cell at `r="ZZZZZZ1"` sizes the column table to 321 million
/// entries, and a longer reference (which wraps in a release build) to billions, an abort on
/// allocation that no `catch_unwind` stops (`tests/fixtures/fuzz/xlsx/`, `fuzz/README.md`).
const MAX_COLUMNS: u32 = 16_384;

pub(crate) fn read(
    path: &Path,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    let shown: Arc<str> = opts.show(path).into();
    // The parts read whole are checked now; the large ones while calamine reads them, which
    // it does only as far as they are checked (`xlsx_gate`).
    let checking = xlsx_check::start(path, &shown, &opts.limits)?;
    let gate = checking.gate();
    // calamine parses on its own thread while this one reports what it parsed (the visitor's
    // calls stay on this thread, in the same order): the read phase's two halves overlap.
    let (tx, rx) = mpsc::sync_channel::<Parsed>(QUEUE);
    let (parsed, reported) = std::thread::scope(|s| {
        let parser = std::thread::Builder::new()
            .name("ferry-xlsx".into())
            .spawn_scoped(s, || {
                let tx = tx;
                // calamine is third-party code facing hostile bytes: a panic inside it must end
                // as a clear error on this input, never as a crash of the run.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    parse(path, &shown, opts, gate, &tx)
                }))
            });
        let parser = match parser {
            Ok(p) => p,
            Err(e) => {
                let e = SourceError::Io {
                    path: shown.to_string(),
                    source: e,
                };
                return (Ok(Err(e)), Ok(false));
            }
        };
        // `report` owns the receiver: when it stops early, the parser's next send fails and
        // the parser ends.
        let reported = report(rx, &shown, opts, visitor);
        (parser.join().and_then(|r| r), reported)
    });
    // The check's refusal comes first, as when it ran before anything was read (what the
    // visitor was told meanwhile, and how it failed, is then not the outcome).
    if let Err(e) = checking.finish() {
        visitor.overrule();
        return Err(e);
    }
    // What the reporting side stopped at comes first in the workbook (the parser had sent
    // every row before its own failure); then the parser's failure; then the end.
    let any_records = reported?;
    match parsed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(SourceError::malformed(
                Position::file(&*shown),
                "the workbook is damaged: the xlsx reader could not parse it",
            ))
        }
    }
    if !any_records {
        visitor.finding(Finding::new(
            Code::EmptyInput,
            Location::start(shown.clone(), None),
            "The workbook holds no records.",
        ))?;
    }
    Ok(())
}

/// Batches in flight between the parsing thread and the reporting one.
const QUEUE: usize = 2;
/// A batch is sent at this many rows, or at this many bytes of values (roughly), whichever
/// comes first; a row is never split. With [`QUEUE`], at most four batches are held at once.
const BATCH_ROWS: usize = 256;
const BATCH_BYTES: usize = 1 << 20;

/// A row as parsed: its 0-based number and its cells (0-based column, value).
type Row = (u32, Vec<(u32, RawValue)>);

/// What the parsing thread hands the reporting one, in workbook order.
enum Parsed {
    /// A sheet that is no entity type, and the text of its row 1.
    Unknown { name: String, header: Vec<String> },
    /// The sheet whose rows come next, read as `kind`.
    Sheet { name: String, kind: SheetKind },
    /// Complete rows of that sheet, in order.
    Rows(Vec<Row>),
}

/// Rows gathered for one send.
#[derive(Default)]
struct Batch {
    rows: Vec<Row>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, row: Row, tx: &SyncSender<Parsed>) -> Result<(), SourceError> {
        self.bytes += row
            .1
            .iter()
            .map(|(_, v)| 32 + value_bytes(v))
            .sum::<usize>();
        self.rows.push(row);
        if self.rows.len() >= BATCH_ROWS || self.bytes >= BATCH_BYTES {
            self.send(tx)?;
        }
        Ok(())
    }

    fn send(&mut self, tx: &SyncSender<Parsed>) -> Result<(), SourceError> {
        self.bytes = 0;
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        // The reporting side stopped (its own failure travels on its side).
        tx.send(Parsed::Rows(rows))
            .map_err(|_| SourceError::Stopped)
    }
}

/// The heap bytes a value holds.
fn value_bytes(v: &RawValue) -> usize {
    match v {
        RawValue::Text(s) | RawValue::CellError(s) => s.len(),
        RawValue::TooLong { head, .. } => head.len(),
        _ => 0,
    }
}

/// The parsing thread: every sheet to read, in the order it is reported (non-ledger sheets in
/// workbook order, then Ledger, then the separate ledger sheets: SPEC §2), as rows of values.
fn parse(
    path: &Path,
    shown: &Arc<str>,
    opts: &ReadOptions,
    gate: Arc<Gate>,
    tx: &SyncSender<Parsed>,
) -> Result<(), SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    })?;
    let file = BufReader::new(GatedFile::new(file, gate));
    let mut wb: Xlsx<_> = Xlsx::new(file).map_err(|e| bad_workbook(shown, e))?;
    let names = wb.sheet_names();
    let is_1904 = wb.has_1904_epoch();
    let rank = |n: &String| -> u8 {
        if n == cat::LEDGER_SHEET {
            1
        } else if let Some(i) = cat::LEDGER_TYPES.iter().position(|t| t == n) {
            2 + i as u8
        } else {
            0
        }
    };
    let mut ordered = names.clone();
    ordered.sort_by_key(rank);
    let send = |p: Parsed| tx.send(p).map_err(|_| SourceError::Stopped);
    for name in ordered {
        let kind = emit::part_kind(opts, shown, Some(&name), &name);
        match kind {
            SheetKind::Ignored => continue,
            SheetKind::Unknown => {
                let header = first_row(&mut wb, &name);
                send(Parsed::Unknown { name, header })?;
                continue;
            }
            _ => send(Parsed::Sheet {
                name: name.clone(),
                kind,
            })?,
        }
        let mut batch = Batch::default();
        let read = parse_sheet(&mut wb, &name, shown, opts, is_1904, &mut batch, tx);
        // The rows completed before a failure are reported, as they were read.
        let sent = batch.send(tx);
        read?;
        sent?;
    }
    Ok(())
}

/// One sheet's cells, gathered into rows; a row is complete when a cell of another row (or
/// the sheet's end) comes.
fn parse_sheet<R: std::io::Read + std::io::Seek>(
    wb: &mut Xlsx<R>,
    name: &str,
    shown: &Arc<str>,
    opts: &ReadOptions,
    is_1904: bool,
    batch: &mut Batch,
    tx: &SyncSender<Parsed>,
) -> Result<(), SourceError> {
    let mut cells_reader = wb
        .worksheet_cells_reader(name)
        .map_err(|e| bad_workbook(shown, format!("sheet {name}: {e}")))?;
    let mut row_cells: Vec<(u32, RawValue)> = Vec::new();
    let mut current_row: Option<u32> = None;
    loop {
        // The formula metadata only: the expanding variant sizes a table by the shared
        // formula index the file gives (`si="4000000000"`).
        let cell = cells_reader
            .next_cell_with_formula_metadata()
            .map_err(|e| bad_workbook(shown, format!("sheet {name}: {e}")))?;
        let Some(cell) = cell else { break };
        let (r, c) = cell.pos;
        if c >= MAX_COLUMNS {
            return Err(bad_workbook(
                shown,
                format!(
                    "sheet {name}: a cell lies in column {}, past XFD, the last column a sheet has",
                    c as u64 + 1
                ),
            ));
        }
        if current_row != Some(r) {
            if let Some(prev) = current_row {
                batch.push((prev, std::mem::take(&mut row_cells)), tx)?;
            }
            current_row = Some(r);
        }
        if row_cells.len() >= opts.limits.max_fields.max(16_384) {
            continue;
        }
        let value = match cell.value {
            DataRef::Empty if cell.formula.is_some() => Some(RawValue::FormulaNoValue),
            DataRef::Empty => None,
            DataRef::String(s) => Some(RawValue::bounded(s, &opts.limits)),
            DataRef::SharedString(s) => Some(RawValue::bounded(s, &opts.limits)),
            DataRef::Int(i) => Some(RawValue::Number(i as f64)),
            DataRef::Float(f) => Some(RawValue::Number(f)),
            DataRef::Bool(b) => Some(RawValue::Bool(b)),
            DataRef::DateTime(d) if d.is_datetime() => Some(excel_date(d.as_f64(), is_1904)),
            DataRef::DateTime(d) => Some(RawValue::Number(d.as_f64())),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Some(RawValue::Text(s)),
            DataRef::Error(e) => Some(RawValue::CellError(e.to_string())),
        };
        if let Some(v) = value {
            row_cells.push((c, v));
        }
    }
    if let Some(prev) = current_row {
        batch.push((prev, row_cells), tx)?;
    }
    Ok(())
}

/// The reporting side: what the parser sent, to the visitor, in order. True when a record
/// row was reported.
fn report(
    rx: Receiver<Parsed>,
    shown: &Arc<str>,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<bool, SourceError> {
    let mut any_records = false;
    let mut current: Option<Current> = None;
    for parsed in rx {
        match parsed {
            Parsed::Unknown { name, header } => {
                let loc = Location::start(shown.clone(), Some(name.as_str().into()));
                visitor.finding(emit::unknown_entity(&name, loc))?;
                visitor.part(&name, false, &header);
            }
            Parsed::Sheet { name, kind } => {
                visitor.part(&name, true, &[]);
                let sheet_name: Arc<str> = name.as_str().into();
                let loc = Location::start(shown.clone(), Some(sheet_name.clone()));
                if kind != SheetKind::Raw {
                    if let Some(note) = emit::entity_alias_note(&name, loc) {
                        visitor.finding(note)?;
                    }
                }
                current = Some(Current {
                    sheet: Sheet::new(shown.clone(), Some(sheet_name), kind, true),
                    header_done: false,
                    skip: false,
                });
            }
            Parsed::Rows(rows) => {
                let Some(cur) = current.as_mut() else {
                    continue;
                };
                for (row, cells) in rows {
                    any_records |= cur.row(row, cells, opts, visitor)?;
                }
            }
        }
    }
    Ok(any_records)
}

/// The sheet being reported.
struct Current {
    sheet: Sheet,
    header_done: bool,
    /// The sheet is not read on (no header, or a header it cannot be read by).
    skip: bool,
}

impl Current {
    /// Reports one row (0-based `row`); true when it was a record row.
    fn row(
        &mut self,
        row: u32,
        cells: Vec<(u32, RawValue)>,
        opts: &ReadOptions,
        visitor: &mut dyn Sink,
    ) -> Result<bool, SourceError> {
        if self.skip {
            return Ok(false);
        }
        let sheet = &mut self.sheet;
        if !self.header_done {
            self.header_done = true;
            if row != 0 {
                visitor.finding(Finding::new(
                    Code::NoHeader,
                    Location { file: sheet.file.clone(), sheet: sheet.sheet.clone(), row: 1, column: None },
                    "Row 1 of the sheet is empty; it must hold the field names. The sheet is not read: move the header to row 1.",
                ))?;
                self.skip = true;
                return Ok(false);
            }
            let header: Vec<(u32, String)> =
                cells.into_iter().map(|(c, v)| (c, v.display())).collect();
            if !sheet.set_header(&header, visitor)? {
                self.skip = true;
            }
            return Ok(false);
        }
        // A `ferry template` notes row (row 2) is no record (`Sheet::is_notes_row`).
        if sheet.is_notes_row(row as u64 + 1, &cells) {
            return Ok(false);
        }
        sheet.row(row as u64 + 1, cells, &opts.limits, visitor)?;
        Ok(true)
    }
}

/// The text of row 1 of a sheet (its header), or what of it could be read: for a message only,
/// about a sheet that is not read.
fn first_row<R: std::io::Read + std::io::Seek>(wb: &mut Xlsx<R>, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(mut cells) = wb.worksheet_cells_reader(name) else {
        return out;
    };
    while let Ok(Some(cell)) = cells.next_cell() {
        if cell.get_position().0 > 0 || out.len() >= 200 {
            break;
        }
        match cell.get_value() {
            DataRef::String(s) => out.push(s.clone()),
            DataRef::SharedString(s) => out.push(s.to_string()),
            _ => {}
        }
    }
    out
}

/// An Excel date cell, to the second, in the workbook's date system. Written by hand rather than
/// with calamine's conversion, which panics on huge serials and clamps or wraps out-of-range ones.
fn excel_date(serial: f64, is_1904: bool) -> RawValue {
    // Serial 1 is 1900-01-01; 2958465 is 9999-12-31 (the 1900 system).
    let serial = if is_1904 { serial + 1462.0 } else { serial };
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return RawValue::BadDate(serial);
    }
    let seconds = (serial * 86_400.0).round() as i64;
    let (days, secs) = (seconds / 86_400, seconds % 86_400);
    let time = (
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    );
    let whole_day = secs == 0;
    use chrono::Datelike;
    let date = match days {
        // Excel's 1900 leap-year bug: serial 60 is the non-existent 1900-02-29.
        60 => (1900, 2, 29),
        d => {
            let epoch = if d < 60 {
                chrono::NaiveDate::from_ymd_opt(1899, 12, 31)
            } else {
                chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
            };
            match epoch.and_then(|e| e.checked_add_signed(chrono::Duration::days(d))) {
                Some(dt) => (dt.year(), dt.month(), dt.day()),
                None => return RawValue::BadDate(serial),
            }
        }
    };
    RawValue::DateTime {
        date,
        time,
        whole_day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(serial: f64, is_1904: bool) -> RawValue {
        excel_date(serial, is_1904)
    }

    #[test]
    fn excel_serials() {
        let day = |y, m, d| RawValue::DateTime {
            date: (y, m, d),
            time: (0, 0, 0),
            whole_day: true,
        };
        // (serial, 1904 system, date): 60 is Excel's non-existent 1900-02-29, kept for validation to refuse.
        for (serial, is_1904, want) in [
            (45000.0, false, day(2023, 3, 15)),
            (1.0, false, day(1900, 1, 1)),
            (59.0, false, day(1900, 2, 28)),
            (60.0, false, day(1900, 2, 29)),
            (61.0, false, day(1900, 3, 1)),
            (0.0, true, day(1904, 1, 1)),
        ] {
            assert_eq!(date(serial, is_1904), want, "{serial}");
        }
        assert_eq!(
            date(45000.5 + 1.0 / 86400.0 * 0.6, false),
            RawValue::DateTime {
                date: (2023, 3, 15),
                time: (12, 0, 1),
                whole_day: false
            }
        );
        for bad in [-1.0, -1e12, 3e6, f64::NAN, f64::INFINITY, 1e8] {
            assert!(matches!(date(bad, false), RawValue::BadDate(_)), "{bad}");
        }
    }
}
