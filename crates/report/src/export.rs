//! Export of the target's records as XML, a CSV folder or a workbook — the same containers
//! Ferry imports, so export → import → export gives the same files. Secrets are never exported.

use ferry_catalogue::{self as cat, Entity, Phase};
use ferry_store::Target;
use std::io::{self, BufWriter, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Xml,
    /// A CSV folder with every value exactly as stored: export → import gives the same records.
    Csv,
    /// A CSV folder to open in a spreadsheet (`--formula-safe`): a value starting with `=`, `+`,
    /// `-`, `@`, tab or CR gets a leading `'` (as the findings logs do), so that no cell runs as
    /// a formula. Not for re-import: those values come back with the `'`.
    CsvFormulaSafe,
    /// A workbook whose cells are all text cells (never formulas): safe to open as it is.
    Xlsx,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] ferry_store::StoreError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("workbook: {0}")]
    Xlsx(String),
    #[error("unknown entity type \"{0}\"")]
    UnknownEntity(String),
}

/// What an export writes, in order: entity types, and the ledger as one stream.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Entity(&'static Entity),
    /// Debit, Credit, CloseInvoice and Payment in ledger order (a `Ledger` sheet with `Type`).
    Ledger,
}

/// The columns of an exported `Ledger` sheet: `Type`, then the union of the ledger types' fields.
pub fn ledger_columns() -> Vec<&'static str> {
    let mut cols = vec!["Type"];
    for t in cat::LEDGER_TYPES {
        for f in cat::entity(t).expect("ledger type").fields {
            if !f.is_secret() && !cols.contains(&f.name) {
                cols.push(f.name);
            }
        }
    }
    cols
}

/// Export units in dependency order; the ledger is one unit unless only some ledger types are asked for.
pub fn export_units(only: Option<&[String]>) -> Result<Vec<Unit>, ExportError> {
    let ents = export_order(only)?;
    let all_ledger = cat::LEDGER_TYPES
        .iter()
        .all(|t| ents.iter().any(|e| e.name == *t));
    let mut out = vec![];
    for e in ents {
        if e.is_ledger() && all_ledger {
            if !matches!(out.last(), Some(Unit::Ledger)) {
                out.push(Unit::Ledger);
            }
        } else {
            out.push(Unit::Entity(e));
        }
    }
    Ok(out)
}

/// Entity types in export order: dependency order, ledger types in their sheet order; the
/// legacy certification types only when named.
pub fn export_order(only: Option<&[String]>) -> Result<Vec<&'static Entity>, ExportError> {
    if let Some(names) = only {
        for n in names {
            if cat::entity(n).is_none() {
                return Err(ExportError::UnknownEntity(n.clone()));
            }
        }
    }
    let mut out = vec![];
    for phase in cat::dependency_order() {
        let ents: Vec<&'static Entity> = match phase {
            Phase::Ledger => cat::LEDGER_TYPES
                .iter()
                .map(|n| cat::entity(n).expect("ledger type"))
                .collect(),
            Phase::Entity(id) => vec![cat::by_id(id)],
        };
        for e in ents {
            // Legacy certification data is left out unless named: `ferry import` does not read
            // it, so an export of everything still imports back as it was.
            let wanted = match only {
                Some(o) => o.iter().any(|n| n == e.name),
                None => !e.is_certification(),
            };
            if wanted {
                out.push(e);
            }
        }
    }
    Ok(out)
}

/// The fields an export writes: never a password; card and account numbers only as their masks
/// (the store gives them masked).
fn exported_fields(e: &Entity) -> Vec<usize> {
    e.fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.kind != cat::Kind::Password)
        .map(|(i, _)| i)
        .collect()
}

/// Writes the target's records; returns the number of records per entity type written.
pub fn export(
    target: &Target,
    format: ExportFormat,
    out: &Path,
    only: Option<&[String]>,
) -> Result<Vec<(&'static str, u64)>, ExportError> {
    let order = export_units(only)?;
    match format {
        ExportFormat::Xml => export_xml(target, &order, out),
        ExportFormat::Csv => export_csv(target, &order, out, false),
        ExportFormat::CsvFormulaSafe => export_csv(target, &order, out, true),
        ExportFormat::Xlsx => export_xlsx(target, &order, out),
    }
}

/// An XML attribute value. By hand because quick-xml's escapers leave newlines and tabs as they
/// are, and a parser normalises those to spaces in an attribute (XML 1.0 §3.3.3): a multi-line
/// value must go out as `&#10;` to come back as itself on import.
fn xml_attr(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\n' => o.push_str("&#10;"),
            '\t' => o.push_str("&#9;"),
            c => o.push(c),
        }
    }
    o
}

fn write_element(w: &mut impl Write, e: &Entity, texts: &[Option<String>]) -> io::Result<()> {
    write!(w, "  <{}", e.name)?;
    for i in exported_fields(e) {
        if let Some(v) = &texts[i] {
            write!(w, " {}=\"{}\"", e.fields[i].name, xml_attr(v))?;
        }
    }
    writeln!(w, "/>")
}

fn export_xml(
    target: &Target,
    order: &[Unit],
    out: &Path,
) -> Result<Vec<(&'static str, u64)>, ExportError> {
    let mut w = BufWriter::new(std::fs::File::create(out)?);
    writeln!(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Import>")?;
    let mut stats = vec![];
    for unit in order {
        let e = match unit {
            Unit::Ledger => {
                let mut n = 0u64;
                target.scan_ledger(|e, texts| {
                    n += 1;
                    write_element(&mut w, e, texts)
                })?;
                if n > 0 {
                    stats.push((cat::LEDGER_SHEET, n));
                }
                continue;
            }
            Unit::Entity(e) => *e,
        };
        let mut n = 0u64;
        target.scan(e, |texts| {
            n += 1;
            write_element(&mut w, e, texts)
        })?;
        if n > 0 {
            stats.push((e.name, n));
        }
    }
    writeln!(w, "</Import>")?;
    w.flush()?;
    Ok(stats)
}

/// A ledger row as a `Ledger` sheet row: its Type, then the union columns.
fn ledger_row(e: &Entity, texts: &[Option<String>], cols: &[&str]) -> Vec<String> {
    cols.iter()
        .map(|c| {
            if *c == "Type" {
                e.name.to_string()
            } else {
                e.field(c)
                    .and_then(|i| texts[i as usize].clone())
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// How many ledger rows (all four ledger types) the target holds.
fn ledger_rows(target: &Target) -> Result<i64, ExportError> {
    Ok(cat::LEDGER_TYPES
        .iter()
        .map(|t| target.count(cat::entity(t).expect("ledger type")))
        .sum::<Result<i64, _>>()?)
}

/// A value as a CSV export writes it: exact, or neutralised for a spreadsheet.
fn csv_cell(s: &str, formula_safe: bool) -> std::borrow::Cow<'_, [u8]> {
    if formula_safe {
        crate::log::formula_safe(s).into_bytes().into()
    } else {
        s.as_bytes().into()
    }
}

fn export_csv(
    target: &Target,
    order: &[Unit],
    out: &Path,
    formula_safe: bool,
) -> Result<Vec<(&'static str, u64)>, ExportError> {
    std::fs::create_dir_all(out)?;
    let mut stats = vec![];
    for unit in order {
        let e = match unit {
            Unit::Ledger => {
                let total = ledger_rows(target)?;
                if total == 0 {
                    continue;
                }
                let cols = ledger_columns();
                let mut w = csv::Writer::from_writer(BufWriter::new(std::fs::File::create(
                    out.join(format!("{}.csv", cat::LEDGER_SHEET)),
                )?));
                w.write_record(&cols).map_err(io::Error::other)?;
                let mut n = 0u64;
                target.scan_ledger(|e, texts| {
                    n += 1;
                    let row = ledger_row(e, texts, &cols);
                    w.write_record(row.iter().map(|v| csv_cell(v, formula_safe)))
                        .map_err(io::Error::other)
                })?;
                w.flush()?;
                stats.push((cat::LEDGER_SHEET, n));
                continue;
            }
            Unit::Entity(e) => *e,
        };
        if target.count(e)? == 0 {
            continue;
        }
        let fields = exported_fields(e);
        let mut w = csv::Writer::from_writer(BufWriter::new(std::fs::File::create(
            out.join(format!("{}.csv", e.name)),
        )?));
        w.write_record(fields.iter().map(|&i| e.fields[i].name))
            .map_err(io::Error::other)?;
        let mut n = 0u64;
        target.scan(e, |texts| {
            n += 1;
            w.write_record(
                fields
                    .iter()
                    .map(|&i| csv_cell(texts[i].as_deref().unwrap_or(""), formula_safe)),
            )
            .map_err(io::Error::other)
        })?;
        w.flush()?;
        stats.push((e.name, n));
    }
    Ok(stats)
}

/// Rows a worksheet holds (Excel's limit, header included).
const MAX_SHEET_ROWS: u64 = 1_048_576;

fn export_xlsx(
    target: &Target,
    order: &[Unit],
    out: &Path,
) -> Result<Vec<(&'static str, u64)>, ExportError> {
    let x = |e: rust_xlsxwriter::XlsxError| ExportError::Xlsx(e.to_string());
    let mut wb = rust_xlsxwriter::Workbook::new();
    let mut stats = vec![];
    for unit in order {
        let e = match unit {
            Unit::Ledger => {
                let total = ledger_rows(target)?;
                if total == 0 {
                    continue;
                }
                if total as u64 + 1 > MAX_SHEET_ROWS {
                    return Err(ExportError::Xlsx(format!("the ledger has {total} records, more than a worksheet holds; export as csv or xml")));
                }
                let cols = ledger_columns();
                let ws = wb.add_worksheet_with_constant_memory().map_err(x)?;
                ws.set_name(cat::LEDGER_SHEET).map_err(x)?;
                for (c, name) in cols.iter().enumerate() {
                    ws.write_string(0, c as u16, *name).map_err(x)?;
                }
                let mut row = 0u32;
                let mut err = None;
                target.scan_ledger(|e, texts| {
                    row += 1;
                    for (c, v) in ledger_row(e, texts, &cols).iter().enumerate() {
                        if !v.is_empty() {
                            if let Err(e) = ws.write_string(row, c as u16, v) {
                                err = Some(e);
                            }
                        }
                    }
                    Ok(())
                })?;
                if let Some(e) = err {
                    return Err(x(e));
                }
                stats.push((cat::LEDGER_SHEET, row as u64));
                continue;
            }
            Unit::Entity(e) => *e,
        };
        let count = target.count(e)? as u64;
        if count == 0 {
            continue;
        }
        if count + 1 > MAX_SHEET_ROWS {
            return Err(ExportError::Xlsx(format!(
                "{} has {count} records, more than a worksheet holds; export as csv or xml",
                e.name
            )));
        }
        let fields = exported_fields(e);
        let ws = wb.add_worksheet_with_constant_memory().map_err(x)?;
        ws.set_name(e.name).map_err(x)?;
        for (c, &i) in fields.iter().enumerate() {
            ws.write_string(0, c as u16, e.fields[i].name).map_err(x)?;
        }
        let mut row = 0u32;
        let mut err = None;
        target.scan(e, |texts| {
            row += 1;
            for (c, &i) in fields.iter().enumerate() {
                if let Some(v) = &texts[i] {
                    if let Err(e) = ws.write_string(row, c as u16, v) {
                        err = Some(e);
                    }
                }
            }
            Ok(())
        })?;
        if let Some(e) = err {
            return Err(x(e));
        }
        stats.push((e.name, row as u64));
    }
    if stats.is_empty() {
        wb.add_worksheet().set_name("Empty").map_err(x)?;
    }
    wb.save(out).map_err(x)?;
    Ok(stats)
}
