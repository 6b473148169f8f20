//! The `Findings` sheet: one row per finding (severity, code, sheet, cell, entity, key, field,
//! value, message, hint), the cell linked to the cell it marks. Inline strings only, so the
//! workbook's shared strings stay as they are.

use crate::error::Damage;
use crate::xml::{cell_ref, esc, quoted_sheet};
use ferry_findings::Severity;
use std::io::Write;

/// The name of the sheet (ignored when the workbook is read again, SPEC §2).
pub const SHEET: &str = "Findings";

/// Excel keeps at most this many hyperlinks on a sheet; later rows show the cell unlinked.
pub(crate) const MAX_LINKS: usize = 65_530;

const HEADER: [&str; 10] = [
    "Severity", "Code", "Sheet", "Cell", "Entity", "Key", "Field", "Value", "Message", "Hint",
];
const WIDTHS: [u32; 10] = [9, 26, 18, 8, 16, 16, 16, 24, 80, 40];

/// One listed finding.
pub(crate) struct Row<'a> {
    pub severity: Severity,
    pub sheet: Option<&'a str>,
    /// The cell it marks (column 0-based, row 1-based).
    pub cell: Option<(u32, u32)>,
    pub text: crate::spool::Text,
}

fn io(e: std::io::Error) -> Damage {
    Damage::writing("the Findings sheet")(e)
}

fn text_cell<W: Write>(
    w: &mut W,
    col: u32,
    row: u32,
    s: &str,
    style: Option<u32>,
) -> Result<(), Damage> {
    if s.is_empty() && style.is_none() {
        return Ok(());
    }
    let style = style.map(|s| format!(" s=\"{s}\"")).unwrap_or_default();
    write!(
        w,
        "<c r=\"{}\"{style} t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
        cell_ref(col, row),
        esc(s)
    )
    .map_err(io)
}

/// Writes the sheet. `rows` yields the findings in order; `links` is called again afterwards for
/// the hyperlinks (sheet, cell) of the same rows, without their texts.
pub(crate) fn write<'a, W: Write>(
    w: &mut W,
    rows: &mut dyn Iterator<Item = Result<Row<'a>, Damage>>,
    links: &mut dyn Iterator<Item = Option<(&'a str, u32, u32)>>,
    error_style: u32,
    warning_style: u32,
) -> Result<u64, Damage> {
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/><selection pane=\"bottomLeft\" activeCell=\"A2\" sqref=\"A2\"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight=\"15\"/><cols>"
    )
    .map_err(io)?;
    for (i, width) in WIDTHS.iter().enumerate() {
        write!(
            w,
            "<col min=\"{n}\" max=\"{n}\" width=\"{width}\" customWidth=\"1\"/>",
            n = i + 1
        )
        .map_err(io)?;
    }
    w.write_all(b"</cols><sheetData><row r=\"1\">")
        .map_err(io)?;
    for (i, h) in HEADER.iter().enumerate() {
        text_cell(w, i as u32, 1, h, None)?;
    }
    w.write_all(b"</row>").map_err(io)?;
    let mut n: u64 = 0;
    for row in rows {
        let row = row?;
        n += 1;
        let r = (n + 1).min(1_048_576) as u32;
        if n + 1 > 1_048_576 {
            // A sheet has 1,048,576 rows; the rest are in the log.
            continue;
        }
        write!(w, "<row r=\"{r}\">").map_err(io)?;
        let style = match row.severity {
            Severity::Error => Some(error_style),
            Severity::Warning => Some(warning_style),
            Severity::Info => None,
        };
        let t = &row.text;
        let cell = row.cell.map(|(c, rr)| cell_ref(c, rr)).unwrap_or_default();
        let values: [&str; 10] = [
            row.severity.as_str(),
            &t.code,
            row.sheet.unwrap_or(""),
            &cell,
            &t.entity,
            &t.key,
            &t.field,
            &t.value,
            &t.message,
            &t.hint,
        ];
        for (i, v) in values.iter().enumerate() {
            text_cell(w, i as u32, r, v, if i == 0 { style } else { None })?;
        }
        w.write_all(b"</row>").map_err(io)?;
    }
    w.write_all(b"</sheetData>").map_err(io)?;
    let mut opened = false;
    for (i, link) in links.enumerate().take(MAX_LINKS.min(1_048_575)) {
        let Some((sheet, col, row)) = link else {
            continue;
        };
        if !opened {
            w.write_all(b"<hyperlinks>").map_err(io)?;
            opened = true;
        }
        let target = format!("{}!{}", quoted_sheet(sheet), cell_ref(col, row));
        write!(
            w,
            "<hyperlink ref=\"{}\" location=\"{}\" display=\"{}\"/>",
            cell_ref(3, i as u32 + 2),
            esc(&target),
            cell_ref(col, row)
        )
        .map_err(io)?;
    }
    if opened {
        w.write_all(b"</hyperlinks>").map_err(io)?;
    }
    w.write_all(b"</worksheet>").map_err(io)?;
    Ok(n)
}
