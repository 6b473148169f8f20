//! The CSV reader: a folder of `<EntityType>.csv` files (RFC 4180, header row, UTF-8 with an
//! optional BOM, or the encoding named by `--encoding`), plus `Options.csv`.

use crate::csv_records::{RecordError, Records, MAX_FIELDS};
use crate::emit::{self, Sheet, SheetKind};
use crate::lines::LineCounter;
use crate::Position;
use crate::{RawValue, ReadOptions, Sink, SourceError};
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
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    let files = list_csv(dir).map_err(|e| e.shown(dir, opts))?;
    if files.is_empty() {
        return Err(SourceError::Refused {
            path: opts.show(dir),
            message: "the folder holds no .csv files".into(),
        });
    }
    read_files(&files, &opts.show(dir), opts, visitor)
}

pub(crate) fn read_files(
    files: &[PathBuf],
    _input: &str,
    opts: &ReadOptions,
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    for path in files {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let shown: Arc<str> = opts.show(path).into();
        let kind = emit::part_kind(opts, &shown, None, stem);
        match kind {
            SheetKind::Ignored => continue,
            SheetKind::Unknown => {
                visitor.finding(emit::unknown_entity(stem, Location::start(shown, None)))?;
                visitor.part(stem, false, &first_record(path, opts));
                continue;
            }
            _ => visitor.part(stem, true, &[]),
        }
        if kind != SheetKind::Raw {
            if let Some(note) = emit::entity_alias_note(stem, Location::start(shown.clone(), None))
            {
                visitor.finding(note)?;
            }
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
    visitor: &mut dyn Sink,
) -> Result<(), SourceError> {
    let file = File::open(path).map_err(|e| SourceError::Io {
        path: shown.to_string(),
        source: e,
    })?;
    let input = decoded(file, opts);
    let mut rdr = Records::new(
        LineCounter::for_records(input),
        opts.limits.max_record_bytes,
        MAX_FIELDS,
    );
    let mut sheet = Sheet::new(shown.clone(), None, kind, false);
    let mut header_done = false;
    let mut rows = 0u64;
    loop {
        let next = rdr.next_record();
        // The record's first line; csv-core's offsets may include the line ending before it.
        let line = rdr.get_ref().locate_record(rdr.start()).0;
        match next {
            Ok(false) => break,
            Ok(true) => {}
            Err(RecordError::Io(io)) => {
                return Err(SourceError::Io {
                    path: shown.to_string(),
                    source: io,
                })
            }
            Err(e) => {
                return Err(SourceError::malformed(
                    Position::record(&*shown, line),
                    over_limit_message(&e),
                ))
            }
        }
        let mut cells = Vec::with_capacity(rdr.field_count());
        for (i, raw) in rdr.fields().enumerate() {
            let raw = if !header_done && i == 0 {
                raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw)
            } else {
                raw
            };
            let text = std::str::from_utf8(raw).map_err(|err| {
                SourceError::malformed(
                    Position::record(&*shown, line).field(i as u64 + 1),
                    format!(
                        "not UTF-8 (byte {} of the field); name the file's encoding with --encoding, e.g. --encoding {}",
                        err.valid_up_to() + 1,
                        encoding_hint(path)
                    ),
                )
            })?;
            cells.push((i as u32, RawValue::bounded(text, &opts.limits)));
        }
        if !header_done {
            header_done = true;
            let header: Vec<(u32, String)> = cells
                .into_iter()
                .map(|(c, v)| match v {
                    RawValue::Text(s) => (c, s),
                    other => (c, other.display()),
                })
                .collect();
            if !sheet.set_header(&header, visitor)? {
                return Ok(());
            }
            continue;
        }
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

/// The first record of a file (its header), or nothing when it cannot be read: for a message
/// only, about a file that is not read.
fn first_record(path: &Path, opts: &ReadOptions) -> Vec<String> {
    let Ok(file) = File::open(path) else {
        return vec![];
    };
    let input = decoded(file, opts);
    let mut rdr = Records::new(input, opts.limits.max_record_bytes.min(1 << 20), MAX_FIELDS);
    if !matches!(rdr.next_record(), Ok(true)) {
        return vec![];
    }
    rdr.fields()
        .map(|f| String::from_utf8_lossy(f.strip_prefix(b"\xef\xbb\xbf").unwrap_or(f)).into_owned())
        .collect()
}

/// The message for a record refused by its size or its number of fields.
fn over_limit_message(e: &RecordError) -> String {
    match e {
        RecordError::TooLong(max) => format!(
            "a CSV record here is over the limit of {max} bytes (FERRY_MAX_RECORD_BYTES); a missing line break or quote? The file is refused before the record is held in memory."
        ),
        RecordError::TooManyFields(max) => format!(
            "a CSV record here has more than {max} fields, more columns than a sheet has; the file is refused."
        ),
        RecordError::Io(e) => e.to_string(),
    }
}

/// The `--encoding` to suggest for a file that is not UTF-8: UTF-16 when its byte-order mark
/// (or the NUL bytes of ASCII text in UTF-16) says so, else windows-1252.
fn encoding_hint(path: &Path) -> &'static str {
    let mut head = [0u8; 4];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    utf16_of(&head[..n]).unwrap_or("windows-1252")
}

/// `utf-16le` or `utf-16be` when the file's first bytes are a UTF-16 byte-order mark, or ASCII
/// text in UTF-16 without one.
pub(crate) fn utf16_of(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xFE, ..] => Some("utf-16le"),
        [0xFE, 0xFF, ..] => Some("utf-16be"),
        [a, 0, b, 0, ..] if a.is_ascii() && b.is_ascii() && *a != 0 => Some("utf-16le"),
        [0, a, 0, b, ..] if a.is_ascii() && b.is_ascii() && *a != 0 => Some("utf-16be"),
        _ => None,
    }
}

/// The file as UTF-8: decoded from `--encoding` when that is another encoding.
fn decoded(file: File, opts: &ReadOptions) -> Box<dyn Read> {
    match opts.encoding {
        Some(enc) if enc != encoding_rs::UTF_8 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(enc))
                .bom_override(true)
                .build(BufReader::new(file)),
        ),
        _ => Box::new(file),
    }
}
