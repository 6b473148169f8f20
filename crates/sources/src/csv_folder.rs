//! The CSV reader: a folder of `<EntityType>.csv` files (RFC 4180, header row, UTF-8 with an
//! optional BOM, or the encoding named by `--encoding`), plus `Options.csv`.

use crate::emit::{self, Sheet, SheetKind};
use crate::lines::LineCounter;
use crate::{RawValue, ReadOptions, SourceError, Visitor};
use ferry_catalogue as cat;
use ferry_findings::{Code, Finding, Location};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `.csv` files of a folder, ordered: non-ledger types by name, then `Ledger.csv`, then the
/// separate ledger files in the fixed order of SPEC §2.
pub(crate) fn list_csv(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let io = |e| SourceError::Io {
        path: dir.display().to_string(),
        source: e,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let p = entry.path();
        if p.is_file()
            && p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            files.push(p);
        }
    }
    let rank = |p: &PathBuf| -> (u8, String) {
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if stem == cat::LEDGER_SHEET {
            (1, String::new())
        } else if let Some(i) = cat::LEDGER_TYPES.iter().position(|t| *t == stem) {
            (2 + i as u8, String::new())
        } else {
            (0, stem)
        }
    };
    files.sort_by_key(rank);
    Ok(files)
}

pub(crate) fn read_folder(
    dir: &Path,
    opts: &ReadOptions,
    visitor: &mut dyn Visitor,
) -> Result<(), SourceError> {
    let files = list_csv(dir)?;
    if files.is_empty() {
        return Err(SourceError::Refused {
            path: dir.display().to_string(),
            message: "the folder holds no .csv files".into(),
        });
    }
    read_files(&files, &dir.display().to_string(), opts, visitor)
}

pub(crate) fn read_files(
    files: &[PathBuf],
    _input: &str,
    opts: &ReadOptions,
    visitor: &mut dyn Visitor,
) -> Result<(), SourceError> {
    for path in files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let shown: Arc<str> = path.display().to_string().into();
        let kind = emit::sheet_kind(stem);
        match kind {
            SheetKind::Ignored => continue,
            SheetKind::Unknown => {
                visitor.finding(emit::unknown_entity(stem, Location::start(shown, None)))?;
                continue;
            }
            _ => {}
        }
        if let Some(note) = emit::entity_alias_note(stem, Location::start(shown.clone(), None)) {
            visitor.finding(note)?;
        }
        read_file(path, shown, kind, opts, visitor)?;
    }
    Ok(())
}

fn read_file(
    path: &Path,
    shown: Arc<str>,
    kind: SheetKind,
    opts: &ReadOptions,
    visitor: &mut dyn Visitor,
) -> Result<(), SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    })?;
    let input: Box<dyn Read> = match opts.encoding {
        Some(enc) if enc != encoding_rs::UTF_8 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc))
                .bom_override(true)
                .build(BufReader::new(file)),
        ),
        _ => Box::new(file),
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(256 * 1024)
        .from_reader(LineCounter::for_records(input));
    let mut record = csv::ByteRecord::new();
    let mut sheet = Sheet::new(shown.clone(), None, kind, false);
    let mut header_done = false;
    let mut rows = 0u64;
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| rdr.get_ref().locate_record(p.byte()).0)
                    .unwrap_or(0);
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(io) => SourceError::Io {
                        path: shown.to_string(),
                        source: io,
                    },
                    other => SourceError::malformed(
                        format!("{shown}, line {line}"),
                        format!("not readable as CSV: {other:?}"),
                    ),
                });
            }
        }
        // The csv crate's own line count is off for CR LF files; count breaks ourselves.
        let line = record
            .position()
            .map(|p| rdr.get_ref().locate_record(p.byte()).0)
            .unwrap_or(0);
        if record.as_slice().len() > opts.limits.max_record_bytes {
            return Err(SourceError::malformed(
                format!("{shown}, line {line}"),
                format!("a CSV record of {} bytes is over the limit of {} bytes (a missing line break or quote?)", record.as_slice().len(), opts.limits.max_record_bytes),
            ));
        }
        let mut cells = Vec::with_capacity(record.len());
        for (i, raw) in record.iter().enumerate() {
            let raw = if !header_done && i == 0 {
                raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
            } else {
                raw
            };
            let text = std::str::from_utf8(raw).map_err(|err| {
                SourceError::malformed(
                    format!("{shown}, line {line}, field {}", i + 1),
                    format!("not UTF-8 (byte {} of the field); name the file's encoding with --encoding, e.g. --encoding windows-1252", err.valid_up_to() + 1),
                )
            })?;
            cells.push((i as u32, text.to_string()));
        }
        if !header_done {
            header_done = true;
            if !sheet.set_header(&cells, visitor)? {
                return Ok(());
            }
            continue;
        }
        let cells: Vec<(u32, RawValue)> = cells
            .into_iter()
            .map(|(c, t)| (c, RawValue::Text(t)))
            .collect();
        // A template's notes row saved as CSV (`Sheet::is_notes_row`) is no record.
        if sheet.is_notes_row(line, &cells) {
            continue;
        }
        rows += 1;
        sheet.row(line, cells, &opts.limits, visitor)?;
    }
    if !header_done {
        visitor.finding(Finding::new(
            Code::EmptyInput,
            Location::start(shown, None),
            "The CSV file is empty; it needs at least a header row.",
        ))?;
    } else if rows == 0 && kind != SheetKind::Options {
        visitor.finding(Finding::new(
            Code::EmptyInput,
            Location::start(shown, None),
            "The CSV file has a header but no records.",
        ))?;
    }
    Ok(())
}
