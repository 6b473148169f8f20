//! A workbook "corrected by the user": a copy of an .xlsx with some cells of one sheet set to
//! new text, everything else (other cells, styles, dates, other sheets) byte for byte as it was.
#![allow(dead_code)]

use std::io::{Read, Write};

/// The part path of sheet `name` (`xl/worksheets/sheetN.xml`), from the workbook and its rels.
fn sheet_part(files: &[(String, Vec<u8>)], name: &str) -> String {
    let text = |p: &str| {
        let (_, b) = files.iter().find(|(n, _)| n == p).expect("workbook part");
        String::from_utf8(b.clone()).unwrap()
    };
    let wb = text("xl/workbook.xml");
    let at = wb
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no sheet {name}"));
    let tag_end = at + wb[at..].find("/>").unwrap();
    let tag = &wb[wb[..at].rfind('<').unwrap()..tag_end];
    let rid = tag
        .split("r:id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let rels = text("xl/_rels/workbook.xml.rels");
    let rel = rels
        .split("<Relationship ")
        .find(|r| r.contains(&format!("Id=\"{rid}\"")))
        .unwrap();
    let target = rel
        .split("Target=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let target = target.trim_start_matches('/');
    if target.starts_with("xl/") {
        target.to_string()
    } else {
        format!("xl/{target}")
    }
}

/// Replaces cell `r` of a sheet's XML with an inline string cell holding `value` (adding it to
/// its row when the cell is absent, i.e. was empty).
fn set_cell(xml: &str, r: &str, value: &str) -> String {
    let cell = format!("<c r=\"{r}\" t=\"inlineStr\"><is><t>{value}</t></is></c>");
    if let Some(start) = xml.find(&format!("<c r=\"{r}\"")) {
        let rest = &xml[start..];
        let open_end = rest.find('>').unwrap();
        let end = if rest[..open_end].ends_with('/') {
            open_end + 1
        } else {
            rest.find("</c>").unwrap() + 4
        };
        return format!("{}{}{}", &xml[..start], cell, &xml[start + end..]);
    }
    let row: String = r.chars().filter(|c| c.is_ascii_digit()).collect();
    let row_at = xml
        .find(&format!("<row r=\"{row}\""))
        .unwrap_or_else(|| panic!("no row {row}"));
    let close = row_at + xml[row_at..].find("</row>").unwrap();
    // Cells are in column order; an appended cell past the last is fine for the readers only
    // when it is the last column: put it in order.
    let col: String = r.chars().filter(|c| c.is_ascii_alphabetic()).collect();
    let mut insert = close;
    let mut i = row_at;
    while let Some(p) = xml[i..close].find("<c r=\"") {
        let s = i + p;
        let name: String = xml[s + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        if (name.len(), name.as_str()) > (col.len(), col.as_str()) {
            insert = s;
            break;
        }
        i = s + 6;
    }
    format!("{}{}{}", &xml[..insert], cell, &xml[insert..])
}

/// A copy of workbook `xlsx` with `cells` (reference, text) of sheet `sheet` set.
pub fn set_cells(xlsx: &[u8], sheet: &str, cells: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut files = vec![];
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut b = vec![];
        f.read_to_end(&mut b).unwrap();
        files.push((f.name().unwrap().to_string(), b));
    }
    let part = sheet_part(&files, sheet);
    for (name, bytes) in files.iter_mut() {
        if *name == part {
            let mut xml = String::from_utf8(bytes.clone()).unwrap();
            for (r, v) in cells {
                xml = set_cell(&xml, r, v);
            }
            *bytes = xml.into_bytes();
        }
    }
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in &files {
        out.start_file(name.as_str(), opts).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}
