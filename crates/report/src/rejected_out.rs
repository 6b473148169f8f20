//! The two shapes of a "Rejected rows" download, written as the rows come: a workbook (a sheet
//! per source sheet, rows in constant memory) or a zip of CSV files.

use ferry_sources::RawValue;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use zip::write::SimpleFileOptions;
use zip::ZipWriter;

/// Where the rows go: a part (a sheet or a CSV file) begins with its header row.
pub(crate) trait Writer {
    fn part(&mut self, name: &str, header: &[RawValue]) -> Result<(), WriteError>;
    fn row(&mut self, cells: &[RawValue]) -> Result<(), WriteError>;
    fn finish(&mut self) -> Result<(), WriteError>;
}

/// Why a "Rejected rows" file could not be written (the writer's or the file system's words).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(String);

fn write_error(e: impl std::fmt::Display) -> WriteError {
    WriteError(e.to_string())
}

/// A workbook, a worksheet per part, each written in constant memory (its rows go to a
/// scratch file beside the output, not to memory).
pub(crate) struct Sheets {
    book: Workbook,
    out: PathBuf,
    sheet: Option<usize>,
    row: u32,
    bold: Format,
    date: Format,
    date_time: Format,
}

impl Sheets {
    pub(crate) fn new(out: &Path) -> Result<Sheets, WriteError> {
        let mut book = Workbook::new();
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
            book.set_tempdir(dir).map_err(write_error)?;
        }
        Ok(Sheets {
            book,
            out: out.to_path_buf(),
            sheet: None,
            row: 0,
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            date_time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        })
    }

    fn cell(&mut self, col: u16, v: &RawValue, header: bool) -> Result<(), WriteError> {
        let (row, i) = (self.row, self.sheet.unwrap_or(0));
        let (bold, date, date_time) =
            (self.bold.clone(), self.date.clone(), self.date_time.clone());
        let ws = self.book.worksheet_from_index(i).map_err(write_error)?;
        let r = match v {
            RawValue::Text(s) if s.is_empty() => return Ok(()),
            RawValue::Text(s) if header => ws.write_string_with_format(row, col, s, &bold),
            RawValue::Number(n) => ws.write_number(row, col, *n),
            RawValue::Bool(b) => ws.write_boolean(row, col, *b),
            RawValue::DateTime {
                date: (y, m, d),
                time: (h, mi, s),
                whole_day,
            } => {
                let at = u16::try_from(*y)
                    .ok()
                    .and_then(|y| ExcelDateTime::from_ymd(y, *m as u8, *d as u8).ok())
                    .and_then(|t| t.and_hms(*h as u16, *mi as u8, *s as f64).ok());
                match at {
                    Some(t) if *whole_day => ws.write_datetime_with_format(row, col, &t, &date),
                    Some(t) => ws.write_datetime_with_format(row, col, &t, &date_time),
                    None => ws.write_string(row, col, v.display()),
                }
            }
            other => ws.write_string(row, col, other.display()),
        };
        r.map(|_| ()).map_err(write_error)
    }

    fn write_row(&mut self, cells: &[RawValue], header: bool) -> Result<(), WriteError> {
        for (c, v) in cells.iter().enumerate() {
            let col = u16::try_from(c).map_err(write_error)?;
            self.cell(col, v, header)?;
        }
        self.row += 1;
        Ok(())
    }
}

impl Writer for Sheets {
    fn part(&mut self, name: &str, header: &[RawValue]) -> Result<(), WriteError> {
        let ws = self
            .book
            .add_worksheet_with_constant_memory()
            .map_err(write_error)?;
        ws.set_name(name).map_err(write_error)?;
        self.sheet = Some(self.sheet.map_or(0, |i| i + 1));
        self.row = 0;
        self.write_row(header, true)
    }
    fn row(&mut self, cells: &[RawValue]) -> Result<(), WriteError> {
        self.write_row(cells, false)
    }
    fn finish(&mut self) -> Result<(), WriteError> {
        self.book.save(&self.out).map_err(write_error)
    }
}

/// A zip holding one CSV file per source CSV file.
pub(crate) struct CsvZip {
    zip: Option<ZipWriter<File>>,
}

impl CsvZip {
    pub(crate) fn new(out: &Path) -> Result<CsvZip, WriteError> {
        let f = File::create(out).map_err(write_error)?;
        Ok(CsvZip {
            zip: Some(ZipWriter::new(f)),
        })
    }

    fn zip(&mut self) -> Result<&mut ZipWriter<File>, WriteError> {
        self.zip
            .as_mut()
            .ok_or_else(|| write_error("the zip is already finished"))
    }
}

/// One CSV record (RFC 4180 quoting) of `cells` as text.
fn csv_line(cells: &[RawValue]) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    w.write_record(cells.iter().map(RawValue::display))
        .map_err(write_error)?;
    w.into_inner().map_err(write_error)
}

impl Writer for CsvZip {
    fn part(&mut self, name: &str, header: &[RawValue]) -> Result<(), WriteError> {
        let opts =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let line = csv_line(header)?;
        let zip = self.zip()?;
        zip.start_file(name, opts).map_err(write_error)?;
        zip.write_all(&line).map_err(write_error)
    }
    fn row(&mut self, cells: &[RawValue]) -> Result<(), WriteError> {
        let line = csv_line(cells)?;
        self.zip()?.write_all(&line).map_err(write_error)
    }
    fn finish(&mut self) -> Result<(), WriteError> {
        if let Some(z) = self.zip.take() {
            z.finish().map_err(write_error)?;
        }
        Ok(())
    }
}
