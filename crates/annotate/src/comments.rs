//! Cell comments and the VML drawing that shows them: a new comments part, or the sheet's own
//! comments with Ferry's text added (one comment per cell); a new VML drawing, or the sheet's
//! own with Ferry's note shapes appended.

use crate::error::Damage;
use crate::sheet::CellMark;
use crate::xml::{cell_ref, esc, local, parse_ref, prefix, tag_with};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;
use std::io::{BufRead, Write};

/// The author of Ferry's comments.
pub(crate) const AUTHOR: &str = "Ferry";

const MAIN_NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";

/// The text of the comment on marked cell `i`.
pub(crate) type TextOf<'a> = dyn FnMut(usize) -> Result<String, Damage> + 'a;

fn io(e: std::io::Error) -> Damage {
    Damage::writing("the comments")(e)
}

fn comment<W: Write>(
    w: &mut W,
    p: &str,
    m: &CellMark,
    author: usize,
    text: &str,
) -> Result<(), Damage> {
    write!(
        w,
        "<{p}comment ref=\"{}\" authorId=\"{author}\"><{p}text><{p}t xml:space=\"preserve\">{}</{p}t></{p}text></{p}comment>",
        cell_ref(m.col, m.row),
        esc(text)
    )
    .map_err(io)
}

/// A new comments part for the marked cells.
pub(crate) fn write_new<W: Write>(
    w: &mut W,
    marks: &[CellMark],
    text: &mut TextOf,
) -> Result<(), Damage> {
    write!(
        w,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<comments xmlns=\"{MAIN_NS}\"><authors><author>{AUTHOR}</author></authors><commentList>"
    )
    .map_err(io)?;
    for (i, m) in marks.iter().enumerate() {
        comment(w, "", m, 0, &text(i)?)?;
    }
    w.write_all(b"</commentList></comments>").map_err(io)
}

/// The mark a `<comment>` is on, if any.
fn marked(e: &BytesStart, index: &HashMap<(u32, u32), usize>) -> Option<usize> {
    let at = crate::xml::attr(e, "ref")
        .and_then(|r| parse_ref(&r))
        .and_then(|(c, r)| Some((r?, c)));
    at.and_then(|a| index.get(&a).copied())
}

/// A comment that had no text, with Ferry's.
fn with_text(e: &BytesStart, p: &str, text: &str) -> String {
    let tag = tag_with(e, false, &[]);
    format!(
        "{tag}<{p}text><{p}t xml:space=\"preserve\">{}</{p}t></{p}text></{p}comment>",
        esc(text)
    )
}

/// Ferry's text as a run appended to the text of the comment on mark `current`, if any.
fn ferry_run<W: Write>(
    w: &mut W,
    p: &str,
    current: Option<usize>,
    text: &mut TextOf,
) -> Result<(), Damage> {
    let Some(i) = current else {
        return Ok(());
    };
    write!(
        w,
        "<{p}r><{p}t xml:space=\"preserve\">\n{}</{p}t></{p}r>",
        esc(&text(i)?)
    )
    .map_err(io)
}

/// A comment list that was empty, with a comment for every mark.
fn new_list<W: Write>(
    w: &mut W,
    p: &str,
    marks: &[CellMark],
    own: &[bool],
    author: usize,
    text: &mut TextOf,
) -> Result<(), Damage> {
    write!(w, "<{p}commentList>").map_err(io)?;
    rest(w, p, marks, own, author, text)?;
    write!(w, "</{p}commentList>").map_err(io)
}

/// Copies the sheet's comments part, adding Ferry's text to the comments of marked cells and
/// new comments for the others; returns which marks got a comment of their own (they need a
/// note shape in the VML drawing).
pub(crate) fn merge<R: BufRead, W: Write>(
    input: R,
    w: &mut W,
    marks: &[CellMark],
    text: &mut TextOf,
) -> Result<Vec<bool>, Damage> {
    let index: HashMap<(u32, u32), usize> = marks
        .iter()
        .enumerate()
        .map(|(i, m)| ((m.row, m.col), i))
        .collect();
    let mut own = vec![true; marks.len()];
    let mut r = Reader::from_reader(input);
    let mut out = quick_xml::Writer::new(&mut *w);
    let mut buf = vec![];
    let mut depth = 0usize;
    let mut p = String::new();
    let mut authors = 0usize;
    let mut ours = 0usize;
    let mut current: Option<usize> = None; // the marked cell whose comment is open
                                           // Which marks already have a comment is known only while copying, so new comments are
                                           // written at the end of the list.
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the sheet's comments"))?;
        let mut pass = true;
        match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let l = local(e.name().0);
                if depth == 0 {
                    p = prefix(e.name().0).to_string();
                }
                match (depth, l) {
                    (1, "authors") if empty => {
                        let authors =
                            format!("<{p}authors><{p}author>{AUTHOR}</{p}author></{p}authors>");
                        out.get_mut().write_all(authors.as_bytes()).map_err(io)?;
                        ours = 0;
                        pass = false;
                    }
                    (2, "author") => authors += 1,
                    (1, "commentList") if empty => {
                        // Every mark is new here.
                        new_list(out.get_mut(), &p, marks, &own, ours, text)?;
                        pass = false;
                    }
                    (2, "comment") => {
                        current = marked(e, &index);
                        if let Some(i) = current {
                            own[i] = false;
                            if empty {
                                // A comment without text: give it ours.
                                let whole = with_text(e, &p, &text(i)?);
                                out.get_mut().write_all(whole.as_bytes()).map_err(io)?;
                                current = None;
                                pass = false;
                            }
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                let l = local(e.name().0);
                match (depth, l) {
                    (1, "authors") => {
                        write!(out.get_mut(), "<{p}author>{AUTHOR}</{p}author>").map_err(io)?;
                        ours = authors;
                    }
                    (3, "text") => ferry_run(out.get_mut(), &p, current, text)?,
                    (2, "comment") => current = None,
                    (1, "commentList") => rest(out.get_mut(), &p, marks, &own, ours, text)?,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if pass {
            out.write_event(ev).map_err(io)?;
        }
        buf.clear();
    }
    Ok(own)
}

/// New comments for the marks that have none yet.
fn rest<W: Write>(
    w: &mut W,
    p: &str,
    marks: &[CellMark],
    own: &[bool],
    author: usize,
    text: &mut TextOf,
) -> Result<(), Damage> {
    for (i, m) in marks.iter().enumerate() {
        if own[i] {
            comment(w, p, m, author, &text(i)?)?;
        }
    }
    Ok(())
}

/// The shapes of Ferry's notes, ids from `first_block * 1024 + 1`.
fn shapes<W: Write>(
    w: &mut W,
    marks: &[CellMark],
    own: &[bool],
    first_block: u32,
) -> Result<(), Damage> {
    let mut k = 0u64;
    for (i, m) in marks.iter().enumerate() {
        if !own[i] {
            continue;
        }
        let id = first_block as u64 * 1024 + 1 + k;
        k += 1;
        let r0 = m.row - 1;
        let top = r0.saturating_sub(1);
        writeln!(
            w,
            "<v:shape id=\"_x0000_s{id}\" type=\"#_x0000_t202\" style=\"position:absolute;margin-left:59.25pt;margin-top:1.5pt;width:216pt;height:72pt;z-index:{z};visibility:hidden\" fillcolor=\"#ffffe1\" o:insetmode=\"auto\"><v:fill color2=\"#ffffe1\"/><v:shadow on=\"t\" color=\"black\" obscured=\"t\"/><v:path o:connecttype=\"none\"/><v:textbox style=\"mso-direction-alt:auto\"><div style=\"text-align:left\"></div></v:textbox><x:ClientData ObjectType=\"Note\"><x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{c1}, 15, {top}, 10, {c2}, 15, {bottom}, 4</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{r0}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>",
            z = k,
            c1 = m.col + 1,
            c2 = m.col + 5,
            bottom = top + 5,
            col = m.col,
        )
        .map_err(io)?;
    }
    Ok(())
}

const SHAPETYPE: &str = "<v:shapetype id=\"_x0000_t202\" coordsize=\"21600,21600\" o:spt=\"202\" path=\"m,l,21600r21600,l21600,xe\"><v:stroke joinstyle=\"miter\"/><v:path gradientshapeok=\"t\" o:connecttype=\"rect\"/></v:shapetype>\n";

/// How many 1024-shape blocks `n` notes take.
pub(crate) fn blocks(n: usize) -> u32 {
    (n as u32 + 1).div_ceil(1024).max(1)
}

/// A new VML drawing with a note shape for each marked cell that has its own comment.
pub(crate) fn write_vml<W: Write>(
    w: &mut W,
    marks: &[CellMark],
    own: &[bool],
    first_block: u32,
) -> Result<(), Damage> {
    let n = own.iter().filter(|o| **o).count();
    let ids: Vec<String> = (first_block..first_block + blocks(n))
        .map(|b| b.to_string())
        .collect();
    write!(
        w,
        "<xml xmlns:v=\"urn:schemas-microsoft-com:vml\" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:x=\"urn:schemas-microsoft-com:office:excel\">\n<o:shapelayout v:ext=\"edit\"><o:idmap v:ext=\"edit\" data=\"{}\"/></o:shapelayout>\n{SHAPETYPE}",
        ids.join(",")
    )
    .map_err(io)?;
    shapes(w, marks, own, first_block)?;
    w.write_all(b"</xml>").map_err(io)
}

/// The sheet's own VML drawing with Ferry's note shapes appended (VML is not always
/// well-formed XML, so it is edited as text: the shapes go before the last `</xml>`).
pub(crate) fn append_vml(
    vml: &str,
    marks: &[CellMark],
    own: &[bool],
    first_block: u32,
) -> Result<String, Damage> {
    let at = vml.rfind("</xml>").ok_or(Damage::VmlUnclosed)?;
    let mut out = Vec::with_capacity(vml.len() + 1024 * marks.len());
    out.extend_from_slice(&vml.as_bytes()[..at]);
    if !vml.contains("\"_x0000_t202\"") {
        out.extend_from_slice(SHAPETYPE.as_bytes());
    }
    shapes(&mut out, marks, own, first_block)?;
    out.extend_from_slice(&vml.as_bytes()[at..]);
    String::from_utf8(out).map_err(Damage::VmlNotUtf8)
}

/// The highest 1024-shape block a VML drawing uses (from its `_x0000_sN` shape ids and its
/// `o:idmap`), so that Ferry's shapes take fresh ones.
pub(crate) fn max_block(vml: &str) -> u32 {
    let mut max = 0u32;
    for (i, _) in vml.match_indices("_x0000_s") {
        let digits: String = vml[i + 8..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if let Ok(n) = digits.parse::<u64>() {
            max = max.max((n / 1024).min(u32::MAX as u64 / 2) as u32);
        }
    }
    if let Some(i) = vml.find("data=\"") {
        let list: String = vml[i + 6..].chars().take_while(|c| *c != '"').collect();
        for n in list.split(',').filter_map(|s| s.trim().parse::<u32>().ok()) {
            max = max.max(n.min(u32::MAX / 2));
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_findings::Severity;

    fn m(row: u32, col: u32) -> CellMark {
        CellMark {
            row,
            col,
            severity: Severity::Error,
        }
    }

    #[test]
    fn merges_into_existing_comments() {
        let src = r#"<?xml version="1.0"?><comments xmlns="x"><authors><author>Ann</author></authors><commentList><comment ref="B2" authorId="0"><text><t>theirs</t></text></comment></commentList></comments>"#;
        let marks = [m(2, 1), m(3, 0)];
        let mut out = vec![];
        let own = merge(src.as_bytes(), &mut out, &marks, &mut |i| {
            Ok(format!("ours {i}"))
        })
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(own, vec![false, true]);
        assert!(
            out.contains("<authors><author>Ann</author><author>Ferry</author></authors>"),
            "{out}"
        );
        assert!(
            out.contains(
                r#"<text><t>theirs</t><r><t xml:space="preserve">
ours 0</t></r></text>"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"<comment ref="A3" authorId="1"><text><t xml:space="preserve">ours 1</t></text></comment></commentList>"#), "{out}");
    }

    #[test]
    fn vml_blocks() {
        assert_eq!(blocks(1), 1);
        assert_eq!(blocks(1023), 1);
        assert_eq!(blocks(1024), 2);
        let mut out = vec![];
        write_vml(&mut out, &[m(1, 0), m(5, 2)], &[true, true], 3).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("data=\"3\""));
        assert!(out.contains("_x0000_s3073") && out.contains("_x0000_s3074"));
        assert_eq!(max_block(&out), 3);
        let more = append_vml(&out, &[m(9, 9)], &[true], 4).unwrap();
        assert!(more.contains("_x0000_s4097") && more.ends_with("</xml>"));
        assert_eq!(more.matches("_x0000_t202\" coordsize").count(), 1);
    }
}
