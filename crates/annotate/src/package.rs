//! The package around the parts: part names, relationships, content types, and workbook.xml
//! (the new first sheet, and the sheet indexes that shift when it is inserted).

use crate::error::Damage;
use crate::xml::{attr, esc, local, prefix, rel_prefix, tag_with, REL_NS};
use quick_xml::events::Event;
use quick_xml::Reader;

pub(crate) const T_WORKSHEET: &str = "/worksheet";
pub(crate) const T_COMMENTS: &str = "/comments";
pub(crate) const T_VML: &str = "/vmlDrawing";
pub(crate) const T_STYLES: &str = "/styles";
pub(crate) const T_SST: &str = "/sharedStrings";
pub(crate) const T_OFFICE_DOCUMENT: &str = "/officeDocument";

/// Full relationship types for the parts Ferry adds.
pub(crate) const REL_TYPE: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

pub(crate) const CT_WORKSHEET: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml";
pub(crate) const CT_COMMENTS: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml";
pub(crate) const CT_VML: &str = "application/vnd.openxmlformats-officedocument.vmlDrawing";
pub(crate) const CT_STYLES: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml";

/// One relationship.
#[derive(Debug, Clone)]
pub(crate) struct Rel {
    pub id: String,
    pub kind: String,
    pub target: String,
    pub external: bool,
}

impl Rel {
    pub fn is(&self, suffix: &str) -> bool {
        !self.external && self.kind.ends_with(suffix)
    }
}

/// The relationships part of `part`: `xl/worksheets/sheet1.xml` → `xl/worksheets/_rels/sheet1.xml.rels`.
pub(crate) fn rels_name(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// The part a relationship of `source` points at, as a zip entry name.
pub(crate) fn resolve(source: &str, target: &str) -> String {
    let target = target.split('#').next().unwrap_or("");
    let mut parts: Vec<&str> = if let Some(abs) = target.strip_prefix('/') {
        abs.split('/').collect()
    } else {
        let mut base: Vec<&str> = source.split('/').collect();
        base.pop();
        base.extend(target.split('/'));
        base
    };
    let mut out: Vec<&str> = vec![];
    for p in parts.drain(..) {
        match p {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

fn bad(what: &str, e: quick_xml::Error) -> Damage {
    Damage::xml(what)(e)
}

pub(crate) fn parse_rels(text: &str, what: &str) -> Result<Vec<Rel>, Damage> {
    let mut r = Reader::from_str(text);
    let mut out = vec![];
    loop {
        match r.read_event().map_err(|e| bad(what, e))? {
            Event::Start(e) | Event::Empty(e) if local(e.name().0) == "Relationship" => {
                out.push(Rel {
                    id: attr(&e, "Id").unwrap_or_default(),
                    kind: attr(&e, "Type").unwrap_or_default(),
                    target: attr(&e, "Target").unwrap_or_default(),
                    external: attr(&e, "TargetMode").is_some_and(|m| m == "External"),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// A relationship to add: id, type suffix (`/comments`), absolute target part.
pub(crate) type NewRel = (String, &'static str, String);

fn rel_xml(p: &str, (id, kind, target): &NewRel) -> String {
    format!(
        "<{p}Relationship Id=\"{}\" Type=\"{REL_TYPE}{kind}\" Target=\"/{}\"/>",
        esc(id),
        esc(target)
    )
}

/// A new relationships part.
pub(crate) fn new_rels(rels: &[NewRel]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">");
    for r in rels {
        s.push_str(&rel_xml("", r));
    }
    s.push_str("</Relationships>");
    s
}

/// Inserts `items` before the end tag of the root element (or expands an empty root).
fn append_to_root(
    text: &str,
    what: &str,
    items: &dyn Fn(&str) -> String,
) -> Result<String, Damage> {
    let mut r = Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        let start = r.buffer_position() as usize;
        match r.read_event().map_err(|e| bad(what, e))? {
            Event::Start(_) => depth += 1,
            Event::Empty(e) if depth == 0 => {
                let end = r.buffer_position() as usize;
                let p = prefix(e.name().0).to_string();
                let head = tag_with(&e, false, &[]);
                return Ok(format!(
                    "{}{head}{}</{}>{}",
                    &text[..start],
                    items(&p),
                    e.name().0,
                    &text[end..]
                ));
            }
            Event::End(e) => {
                depth -= 1;
                if depth == 0 {
                    let p = prefix(e.name().0).to_string();
                    return Ok(format!("{}{}{}", &text[..start], items(&p), &text[start..]));
                }
            }
            Event::Eof => return Err(Damage::NoRoot(what.to_string())),
            _ => {}
        }
    }
}

/// The relationships part with `rels` added.
pub(crate) fn add_rels(text: &str, rels: &[NewRel], what: &str) -> Result<String, Damage> {
    append_to_root(text, what, &|p| {
        rels.iter().map(|r| rel_xml(p, r)).collect()
    })
}

/// [Content_Types].xml with a default for `.vml` (unless it has one) and overrides added.
pub(crate) fn add_content_types(
    text: &str,
    vml_default: bool,
    overrides: &[(String, &str)],
) -> Result<String, Damage> {
    let mut has_vml = false;
    let mut r = Reader::from_str(text);
    loop {
        match r.read_event().map_err(|e| bad("[Content_Types].xml", e))? {
            Event::Start(e) | Event::Empty(e)
                if local(e.name().0) == "Default"
                    && attr(&e, "Extension").is_some_and(|x| x.eq_ignore_ascii_case("vml")) =>
            {
                has_vml = true;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    append_to_root(text, "[Content_Types].xml", &|p| {
        let mut s = String::new();
        if vml_default && !has_vml {
            s.push_str(&format!(
                "<{p}Default Extension=\"vml\" ContentType=\"{CT_VML}\"/>"
            ));
        }
        for (part, ct) in overrides {
            s.push_str(&format!(
                "<{p}Override PartName=\"/{}\" ContentType=\"{ct}\"/>",
                esc(part)
            ));
        }
        s
    })
}

/// A sheet of the workbook, in tab order.
#[derive(Debug, Clone)]
pub(crate) struct BookSheet {
    pub name: String,
    pub rid: String,
}

pub(crate) struct Book {
    pub sheets: Vec<BookSheet>,
    pub max_sheet_id: u32,
}

pub(crate) fn parse_workbook(text: &str) -> Result<Book, Damage> {
    let mut r = Reader::from_str(text);
    let mut book = Book {
        sheets: vec![],
        max_sheet_id: 0,
    };
    loop {
        match r.read_event().map_err(|e| bad("workbook.xml", e))? {
            Event::Start(e) | Event::Empty(e) if local(e.name().0) == "sheet" => {
                let rid = e
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .find(|a| a.key.0.contains(':') && local(a.key.0) == "id")
                    .and_then(|a| {
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    })
                    .unwrap_or_default();
                let id = attr(&e, "sheetId")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .unwrap_or(0);
                book.max_sheet_id = book.max_sheet_id.max(id);
                book.sheets.push(BookSheet {
                    name: attr(&e, "name").unwrap_or_default(),
                    rid,
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(book)
}

/// A `definedName` or `workbookView` tag with its sheet indexes shifted by one; none when it
/// has none.
fn shifted(e: &quick_xml::events::BytesStart, empty: bool) -> Option<String> {
    let plus_one = |name: &str| -> Option<String> {
        attr(e, name)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .map(|n| (n + 1).to_string())
    };
    let names: &[&str] = match local(e.name().0) {
        "definedName" => &["localSheetId"],
        _ => &["activeTab", "firstSheet"],
    };
    let values: Vec<(&str, Option<String>)> = names.iter().map(|n| (*n, plus_one(n))).collect();
    let set: Vec<(&str, Option<&str>)> = values
        .iter()
        .filter_map(|(n, v)| v.as_deref().map(|v| (*n, Some(v))))
        .collect();
    (!set.is_empty()).then(|| tag_with(e, empty, &set))
}

/// workbook.xml with a new first sheet: its `<sheet>` entry, and every sheet index that
/// shifts by one (`definedName localSheetId`, `workbookView activeTab` and `firstSheet`).
pub(crate) fn insert_first_sheet(
    text: &str,
    name: &str,
    sheet_id: u32,
    rid: &str,
) -> Result<String, Damage> {
    let mut r = Reader::from_str(text);
    let mut edits: Vec<(usize, usize, String)> = vec![];
    let mut depth = 0usize;
    let mut rp = String::from("r");
    let mut inserted = false;
    loop {
        let start = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|e| bad("workbook.xml", e))?;
        let end = r.buffer_position() as usize;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let l = local(e.name().0);
                let p = prefix(e.name().0);
                if depth == 0 {
                    match rel_prefix(e) {
                        Some(x) => rp = x,
                        None => {
                            rp = "fr".into();
                            edits.push((
                                start,
                                end,
                                tag_with(e, empty, &[("xmlns:fr", Some(REL_NS[0]))]),
                            ));
                        }
                    }
                }
                let entry = format!(
                    "<{p}sheet name=\"{}\" sheetId=\"{sheet_id}\" {rp}:id=\"{}\"/>",
                    esc(name),
                    esc(rid)
                );
                match l {
                    "sheets" if depth == 1 => {
                        inserted = true;
                        if empty {
                            let head = tag_with(e, false, &[]);
                            edits.push((start, end, format!("{head}{entry}</{p}sheets>")));
                        } else {
                            edits.push((end, end, entry));
                        }
                    }
                    "definedName" | "workbookView" => {
                        if let Some(tag) = shifted(e, empty) {
                            edits.push((start, end, tag));
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
    }
    if !inserted {
        return Err(Damage::NoSheets);
    }
    // The root's rewrite and the insertion after `<sheets>` never overlap; apply in order.
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (s, e, rep) in edits {
        out.push_str(&text[at..s]);
        out.push_str(&rep);
        at = e;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            rels_name("xl/worksheets/sheet1.xml"),
            "xl/worksheets/_rels/sheet1.xml.rels"
        );
        assert_eq!(
            resolve("xl/workbook.xml", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("xl/worksheets/sheet1.xml", "../comments1.xml"),
            "xl/comments1.xml"
        );
        assert_eq!(
            resolve("xl/workbook.xml", "/xl/styles.xml"),
            "xl/styles.xml"
        );
    }

    #[test]
    fn first_sheet_shifts_indexes() {
        let src = r#"<?xml version="1.0"?><workbook xmlns="m" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView activeTab="1" firstSheet="1"/></bookViews><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B" sheetId="4" r:id="rId2"/></sheets><definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="1" hidden="1">B!$A$1:$C$9</definedName><definedName name="Rates">A!$B$2</definedName></definedNames></workbook>"#;
        let book = parse_workbook(src).unwrap();
        assert_eq!(book.max_sheet_id, 4);
        assert_eq!(book.sheets[1].rid, "rId2");
        let out = insert_first_sheet(src, "Findings", 5, "rIdF").unwrap();
        assert!(
            out.contains(
                r#"<sheets><sheet name="Findings" sheetId="5" r:id="rIdF"/><sheet name="A""#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"<workbookView activeTab="2" firstSheet="2"/>"#),
            "{out}"
        );
        assert!(out.contains(r#"<definedName name="_xlnm._FilterDatabase" hidden="1" localSheetId="2">B!$A$1:$C$9</definedName><definedName name="Rates">A!$B$2</definedName>"#), "{out}");
    }

    #[test]
    fn rels_and_types() {
        let rels = r#"<Relationships xmlns="p"><Relationship Id="rId1" Type="t/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let out = add_rels(
            rels,
            &[(
                "rIdF".into(),
                T_WORKSHEET,
                "xl/worksheets/sheet9.xml".into(),
            )],
            "rels",
        )
        .unwrap();
        assert!(out.ends_with(r#"<Relationship Id="rIdF" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet9.xml"/></Relationships>"#), "{out}");
        assert_eq!(parse_rels(&out, "rels").unwrap().len(), 2);
        let ct =
            r#"<Types xmlns="c"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
        let out = add_content_types(ct, true, &[("xl/comments1.xml".into(), CT_COMMENTS)]).unwrap();
        assert!(
            out.contains(r#"<Default Extension="vml""#)
                && out.contains(r#"<Override PartName="/xl/comments1.xml""#),
            "{out}"
        );
        let empty = add_rels(
            "<Relationships xmlns=\"p\"/>",
            &[("a".into(), T_VML, "x.vml".into())],
            "rels",
        )
        .unwrap();
        assert!(
            empty.starts_with("<Relationships xmlns=\"p\"><Relationship Id=\"a\""),
            "{empty}"
        );
    }
}
