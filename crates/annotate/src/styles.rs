//! styles.xml: two fills (red for errors, yellow for warnings) and, for every cell format a
//! flagged cell uses, a clone of that format with the fill — number format, font, border,
//! alignment and protection kept. Everything else in the part is copied byte for byte.

use crate::error::Damage;
use crate::xml::{local, prefix, tag_with};
use ferry_findings::Severity;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::HashMap;
use std::ops::Range;

/// The fill of an error cell (a light red that keeps black text readable).
pub const ERROR_RGB: &str = "FFFF7C80";
/// The fill of a warning cell.
pub const WARNING_RGB: &str = "FFFFFF00";

/// A styles part to use when a workbook has none.
pub(crate) const MINIMAL: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#;

/// Elements of a stylesheet that come after `fills`, and after `cellXfs` (CT_Stylesheet order).
const AFTER_FILLS: [&str; 8] = [
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
];
const AFTER_XFS: [&str; 5] = ["cellStyles", "dxfs", "tableStyles", "colors", "extLst"];

/// Where an element list sits in the part.
#[derive(Debug, Default, Clone)]
struct List {
    /// The start tag (or the empty element) and whether it is empty.
    tag: Option<(Range<usize>, bool)>,
    /// The position of the end tag.
    end: Option<usize>,
    /// Where to insert the list when the part has none.
    insert_at: Option<usize>,
}

/// The parsed styles part and the formats added to it.
pub(crate) struct Styles {
    text: String,
    prefix: String,
    fills: List,
    fill_count: u32,
    xfs: List,
    xf_ranges: Vec<Range<usize>>,
    added: Vec<(u32, Severity)>,
    map: HashMap<(u32, Severity), u32>,
}

impl Styles {
    pub fn parse(text: String) -> Result<Styles, Damage> {
        let mut s = Styles {
            text: String::new(),
            prefix: String::new(),
            fills: List::default(),
            fill_count: 0,
            xfs: List::default(),
            xf_ranges: vec![],
            added: vec![],
            map: HashMap::new(),
        };
        {
            let mut r = Reader::from_str(&text);
            let mut depth = 0usize;
            let mut inside = ""; // the depth-1 list we are in
            loop {
                let start = r.buffer_position() as usize;
                let ev = r.read_event().map_err(Damage::xml("styles.xml"))?;
                let end = r.buffer_position() as usize;
                match ev {
                    Event::Start(e) | Event::Empty(e) => {
                        let empty = end >= 2 && text.as_bytes()[end - 2] == b'/';
                        let name = e.name().0;
                        let l = local(name);
                        if depth == 0 {
                            s.prefix = prefix(name).to_string();
                        } else if depth == 1 {
                            let opened = s.top_start(l, start..end, empty);
                            if !empty {
                                inside = opened;
                            }
                        } else if depth == 2 {
                            if inside == "fills" && l == "fill" {
                                s.fill_count += 1;
                            }
                            if inside == "cellXfs" && l == "xf" {
                                // The end is fixed when the element closes.
                                s.xf_ranges.push(start..end);
                            }
                        }
                        if !empty {
                            depth += 1;
                        }
                    }
                    Event::End(e) => {
                        depth = depth.saturating_sub(1);
                        let l = local(e.name().0);
                        if depth == 2 && inside == "cellXfs" && l == "xf" {
                            if let Some(last) = s.xf_ranges.last_mut() {
                                last.end = end;
                            }
                        }
                        if depth == 1 {
                            if l == "fills" && inside == "fills" {
                                s.fills.end = Some(start);
                            }
                            if l == "cellXfs" && inside == "cellXfs" {
                                s.xfs.end = Some(start);
                            }
                            inside = "";
                        }
                        if depth == 0 {
                            s.missing_before(start);
                        }
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
            if s.fills.tag.is_none() && s.fills.insert_at.is_none()
                || s.xfs.tag.is_none() && s.xfs.insert_at.is_none()
            {
                return Err(Damage::NoStyleSheet);
            }
        }
        s.text = text;
        Ok(s)
    }

    /// A child of `<styleSheet>` (`tag` its bytes): where the fills and cell formats are, or
    /// go. Returns the list it is, if one of those two ("" otherwise).
    fn top_start(&mut self, l: &str, tag: std::ops::Range<usize>, empty: bool) -> &'static str {
        if self.fills.tag.is_none() && self.fills.insert_at.is_none() && AFTER_FILLS.contains(&l) {
            self.fills.insert_at = Some(tag.start);
        }
        if self.xfs.tag.is_none() && self.xfs.insert_at.is_none() && AFTER_XFS.contains(&l) {
            self.xfs.insert_at = Some(tag.start);
        }
        match l {
            "fills" => {
                self.fills.tag = Some((tag, empty));
                self.fills.insert_at = None;
                "fills"
            }
            "cellXfs" => {
                self.xfs.tag = Some((tag, empty));
                self.xfs.insert_at = None;
                "cellXfs"
            }
            _ => "",
        }
    }

    /// `</styleSheet>` at `at`: lists still missing go before it.
    fn missing_before(&mut self, at: usize) {
        if self.fills.tag.is_none() && self.fills.insert_at.is_none() {
            self.fills.insert_at = Some(at);
        }
        if self.xfs.tag.is_none() && self.xfs.insert_at.is_none() {
            self.xfs.insert_at = Some(at);
        }
    }

    /// The index of the format that is `orig` with the fill of `severity`.
    pub fn flagged(&mut self, orig: u32, severity: Severity) -> u32 {
        let orig = if (orig as usize) < self.xf_ranges.len() {
            orig
        } else {
            0
        };
        if let Some(&i) = self.map.get(&(orig, severity)) {
            return i;
        }
        let i = self.xf_ranges.len().max(1) as u32 + self.added.len() as u32;
        self.added.push((orig, severity));
        self.map.insert((orig, severity), i);
        i
    }

    /// The part with the fills and the cloned formats.
    pub fn write(&self) -> Result<String, Damage> {
        let p = &self.prefix;
        let base_fills = self.fill_count.max(2);
        let red = base_fills;
        let yellow = base_fills + 1;
        let mut fills = String::new();
        let pattern =
            |kind: &str| format!("<{p}fill><{p}patternFill patternType=\"{kind}\"/></{p}fill>");
        if self.fill_count == 0 {
            fills.push_str(&pattern("none"));
        }
        if self.fill_count <= 1 {
            fills.push_str(&pattern("gray125"));
        }
        for rgb in [ERROR_RGB, WARNING_RGB] {
            fills.push_str(&format!(
                "<{p}fill><{p}patternFill patternType=\"solid\"><{p}fgColor rgb=\"{rgb}\"/><{p}bgColor indexed=\"64\"/></{p}patternFill></{p}fill>"
            ));
        }
        let mut xfs = String::new();
        let mut xf_total = self.xf_ranges.len() as u32;
        if self.xf_ranges.is_empty() {
            xfs.push_str(&format!(
                "<{p}xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>"
            ));
            xf_total = 1;
        }
        for &(orig, sev) in &self.added {
            let fill = if sev == Severity::Error { red } else { yellow };
            let fill = fill.to_string();
            match self.xf_ranges.get(orig as usize) {
                Some(range) => xfs.push_str(&filled_xf(&self.text[range.clone()], &fill)?),
                None => xfs.push_str(&format!(
                    "<{p}xf numFmtId=\"0\" fontId=\"0\" fillId=\"{fill}\" borderId=\"0\" xfId=\"0\" applyFill=\"1\"/>"
                )),
            }
            xf_total += 1;
        }
        let fill_total = base_fills + 2;
        let mut edits: Vec<(usize, usize, String)> = vec![];
        list_edits(
            &self.text,
            &self.fills,
            p,
            "fills",
            fill_total,
            &fills,
            &mut edits,
        )?;
        list_edits(
            &self.text, &self.xfs, p, "cellXfs", xf_total, &xfs, &mut edits,
        )?;
        edits.sort_by_key(|e| (e.0, e.1));
        let mut out = String::with_capacity(self.text.len() + fills.len() + xfs.len() + 64);
        let mut at = 0;
        for (s, e, rep) in edits {
            out.push_str(&self.text[at..s]);
            out.push_str(&rep);
            at = e;
        }
        out.push_str(&self.text[at..]);
        Ok(out)
    }
}

/// A copy of cell format `src` (its whole `<xf>` element) with fill `fill`.
fn filled_xf(src: &str, fill: &str) -> Result<String, Damage> {
    let mut r = Reader::from_str(src);
    let ev = r.read_event().map_err(|source| Damage::XmlIn {
        what: "styles.xml",
        source,
    })?;
    let head_end = r.buffer_position() as usize;
    match ev {
        Event::Start(e) | Event::Empty(e) => {
            let empty = src.as_bytes()[..head_end].ends_with(b"/>");
            let head = tag_with(
                &e,
                empty,
                &[("fillId", Some(fill)), ("applyFill", Some("1"))],
            );
            Ok(format!("{head}{}", &src[head_end..]))
        }
        _ => Err(Damage::CellFormatNotElement),
    }
}

/// The edits that add `items` to a list element and set its `count`.
fn list_edits(
    text: &str,
    list: &List,
    p: &str,
    name: &str,
    count: u32,
    items: &str,
    edits: &mut Vec<(usize, usize, String)>,
) -> Result<(), Damage> {
    let count_s = count.to_string();
    match (&list.tag, list.end, list.insert_at) {
        (Some((range, false)), Some(end), _) => {
            let head = tag_of(&text[range.clone()], false, &count_s)?;
            edits.push((range.start, range.end, head));
            edits.push((end, end, items.to_string()));
        }
        (Some((range, true)), _, _) => {
            let head = tag_of(&text[range.clone()], false, &count_s)?;
            edits.push((range.start, range.end, format!("{head}{items}</{p}{name}>")));
        }
        (None, _, Some(at)) => {
            edits.push((
                at,
                at,
                format!("<{p}{name} count=\"{count}\">{items}</{p}{name}>"),
            ));
        }
        _ => return Err(Damage::ListNotClosed(name.to_string())),
    }
    Ok(())
}

/// A list's start tag with its count set.
fn tag_of(src: &str, empty: bool, count: &str) -> Result<String, Damage> {
    let mut r = Reader::from_str(src);
    match r.read_event().map_err(|source| Damage::XmlIn {
        what: "styles.xml",
        source,
    })? {
        Event::Start(e) | Event::Empty(e) => Ok(tag_with(&e, empty, &[("count", Some(count))])),
        _ => Err(Damage::ListNotElement),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_formats_with_a_fill() {
        let src = r#"<?xml version="1.0"?><styleSheet xmlns="x"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.00"/></numFmts><fonts count="1"><font/></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"><alignment horizontal="center"/></xf></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0"/></cellStyles></styleSheet>"#;
        let mut s = Styles::parse(src.to_string()).unwrap();
        assert_eq!(s.flagged(1, Severity::Error), 2);
        assert_eq!(s.flagged(1, Severity::Error), 2);
        assert_eq!(s.flagged(0, Severity::Warning), 3);
        assert_eq!(s.flagged(99, Severity::Warning), 3);
        let out = s.write().unwrap();
        assert!(out.contains(r#"<fills count="4">"#), "{out}");
        assert!(out.contains(r#"<cellXfs count="4">"#), "{out}");
        assert!(out.contains(r#"<xf numFmtId="164" fontId="0" borderId="0" applyNumberFormat="1" fillId="2" applyFill="1"><alignment horizontal="center"/></xf>"#), "{out}");
        assert!(
            out.contains(
                r#"<xf numFmtId="0" fontId="0" borderId="0" fillId="3" applyFill="1"/></cellXfs>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"<numFmt numFmtId="164" formatCode="0.00"/>"#));
    }

    #[test]
    fn adds_missing_lists() {
        let src =
            r#"<styleSheet xmlns="x"><fonts count="1"><font/></fonts><cellStyles/></styleSheet>"#;
        let mut s = Styles::parse(src.to_string()).unwrap();
        assert_eq!(s.flagged(0, Severity::Error), 1);
        let out = s.write().unwrap();
        assert!(out.contains(r#"<fills count="4"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>"#), "{out}");
        assert!(
            out.contains(r#"<cellXfs count="2"><xf numFmtId="0""#),
            "{out}"
        );
        assert!(out.find("<fills").unwrap() < out.find("<cellXfs").unwrap());
        assert!(out.find("<cellXfs").unwrap() < out.find("<cellStyles").unwrap());
    }
}
