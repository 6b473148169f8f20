//! One worksheet, streamed event by event: flagged cells get a cell format with a fill (a
//! flagged cell the sheet lacks is created in column order, its row too), secret cells are
//! blanked or masked, and `<legacyDrawing>` is added for the comments. Everything else passes
//! through unchanged.

use crate::error::Damage;
use crate::strings::{LastDigits, SecretStrings};
use crate::styles::Styles;
use crate::xml::{cell_ref, local, parse_ref, prefix, rel_prefix, tag_with, REL_NS};
use ferry_findings::Severity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};
use std::borrow::Cow;
use std::io::{BufRead, Write};

/// One cell to mark, with the highest severity of its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CellMark {
    pub row: u32,
    pub col: u32,
    pub severity: Severity,
}

/// What happens to a secret column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secret {
    /// Passwords: the cell keeps its format and loses its value.
    Blank,
    /// Card and bank numbers: twelve `*` and the last four digits.
    Mask,
}

/// What to do to one sheet.
pub(crate) struct Job<'a> {
    /// Sorted by (row, column), one per cell.
    pub marks: &'a [CellMark],
    /// Secret columns (0-based), below the header row.
    pub secrets: &'a [(u32, Secret)],
    /// Add `<legacyDrawing r:id="…"/>` with this id, unless the sheet has one.
    pub legacy_rid: Option<&'a str>,
}

#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// The relationship id of the sheet's own `<legacyDrawing>`, if it had one.
    pub legacy_rid: Option<String>,
    pub marked: u64,
    pub created: u64,
    pub secrets: u64,
}

/// Worksheet children that come after `legacyDrawing` (CT_Worksheet order).
const AFTER_LEGACY: [&str; 8] = [
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
];

/// The header row; secrets are below it.
pub(crate) const HEADER_ROW: u32 = 1;

/// An attribute's raw value (no unescaping: references and numbers hold no entities).
pub(crate) fn raw<'a>(e: &'a BytesStart, name: &str) -> Option<Cow<'a, str>> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.0 == name)
        .map(|a| a.value)
}

struct State<'a, W: Write> {
    w: Writer<W>,
    p: String,
    marks: &'a [CellMark],
    mi: usize,
    cols: Vec<(u32, u32, u32)>,
    out: Outcome,
    depth: usize,
    /// The prefix of the relationships namespace.
    rp: String,
    legacy_done: bool,
    /// The open depth-1 element we care about: `cols`, `sheetData`.
    section: &'static str,
    row_now: u32,
    row_style: Option<u32>,
    col_next: u32,
    /// Inside a `<c t="s">`.
    sst_cell: bool,
    in_v: bool,
}

/// What happens to an event once looked at.
enum Step {
    /// It is written as read.
    Pass,
    /// It was written changed.
    Written,
    /// A secret cell: read to its end and written blanked or masked.
    Secret(SecretCell),
}

/// A secret cell's start tag and what it becomes.
struct SecretCell {
    e: BytesStart<'static>,
    secret: Secret,
    kind: Option<String>,
    style: Option<String>,
    reference: Option<String>,
}

impl<W: Write> State<'_, W> {
    fn io(e: std::io::Error) -> Damage {
        Damage::writing("the sheet")(e)
    }

    /// The format a created cell starts from: its row's, else its column's, else the default.
    fn base_style(&self, col: u32, row_style: Option<u32>) -> u32 {
        if let Some(s) = row_style {
            return s;
        }
        self.cols
            .iter()
            .find(|(min, max, _)| (*min..=*max).contains(&(col + 1)))
            .map(|c| c.2)
            .unwrap_or(0)
    }

    /// Creates the marked cells of `row` in columns before `before`.
    fn cells_before(
        &mut self,
        row: u32,
        before: u32,
        row_style: Option<u32>,
        styles: &mut Styles,
    ) -> Result<(), Damage> {
        while let Some(m) = self.marks.get(self.mi) {
            if m.row != row || m.col >= before {
                break;
            }
            let s = styles.flagged(self.base_style(m.col, row_style), m.severity);
            let p = &self.p;
            write!(
                self.w.get_mut(),
                "<{p}c r=\"{}\" s=\"{s}\"/>",
                cell_ref(m.col, m.row)
            )
            .map_err(Self::io)?;
            self.out.marked += 1;
            self.out.created += 1;
            self.mi += 1;
        }
        Ok(())
    }

    /// Creates the rows before `before` that hold marked cells.
    fn rows_before(&mut self, before: u32, styles: &mut Styles) -> Result<(), Damage> {
        while let Some(m) = self.marks.get(self.mi) {
            if m.row >= before {
                break;
            }
            let row = m.row;
            write!(self.w.get_mut(), "<{}row r=\"{row}\">", self.p).map_err(Self::io)?;
            self.cells_before(row, u32::MAX, None, styles)?;
            write!(self.w.get_mut(), "</{}row>", self.p).map_err(Self::io)?;
        }
        Ok(())
    }

    /// `<legacyDrawing>` with the comments' drawing, if the job adds one.
    fn legacy(&mut self, rid: Option<&str>) -> Result<(), Damage> {
        if let Some(rid) = rid {
            write!(
                self.w.get_mut(),
                "<{}legacyDrawing {}:id=\"{rid}\"/>",
                self.p,
                self.rp
            )
            .map_err(Self::io)?;
        }
        Ok(())
    }

    /// A start (or empty) tag.
    fn start(
        &mut self,
        e: &BytesStart,
        empty: bool,
        job: &Job,
        styles: &mut Styles,
    ) -> Result<Step, Damage> {
        let l = local(e.name().0);
        match self.depth {
            0 => self.root(e, empty, job),
            1 => self.top(e, empty, l, job, styles),
            2 if self.section == "cols" && l == "col" => {
                let num = |a: &str| raw(e, a).and_then(|v| v.trim().parse::<u32>().ok());
                if let (Some(min), Some(max), Some(s)) = (num("min"), num("max"), num("style")) {
                    self.cols.push((min, max, s));
                }
                Ok(Step::Pass)
            }
            2 if self.section == "sheetData" && l == "row" => self.row(e, empty, styles),
            3 if self.section == "sheetData" && l == "c" => self.cell(e, empty, job, styles),
            4 if self.sst_cell && l == "v" && !empty => {
                self.in_v = true;
                Ok(Step::Pass)
            }
            _ => Ok(Step::Pass),
        }
    }

    /// The `<worksheet>` tag: the relationships prefix (declared if the sheet has none).
    fn root(&mut self, e: &BytesStart, empty: bool, job: &Job) -> Result<Step, Damage> {
        self.p = prefix(e.name().0).to_string();
        match rel_prefix(e) {
            Some(x) => self.rp = x,
            None if job.legacy_rid.is_some() => {
                self.rp = "fr".into();
                let tag = tag_with(e, empty, &[("xmlns:fr", Some(REL_NS[0]))]);
                self.w
                    .get_mut()
                    .write_all(tag.as_bytes())
                    .map_err(Self::io)?;
                return Ok(Step::Written);
            }
            None => {}
        }
        Ok(Step::Pass)
    }

    /// A child of `<worksheet>`: `legacyDrawing` goes before the first that follows it.
    fn top(
        &mut self,
        e: &BytesStart,
        empty: bool,
        l: &str,
        job: &Job,
        styles: &mut Styles,
    ) -> Result<Step, Damage> {
        if !self.legacy_done && AFTER_LEGACY.contains(&l) {
            self.legacy(job.legacy_rid)?;
            self.legacy_done = true;
        }
        match l {
            "legacyDrawing" => {
                self.legacy_done = true;
                self.out.legacy_rid = e
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .find(|a| local(a.key.0) == "id" && a.key.0.contains(':'))
                    .map(|a| a.value.into_owned());
            }
            "cols" if !empty => self.section = "cols",
            "sheetData" if empty => {
                write!(self.w.get_mut(), "<{}sheetData>", self.p).map_err(Self::io)?;
                self.rows_before(u32::MAX, styles)?;
                write!(self.w.get_mut(), "</{}sheetData>", self.p).map_err(Self::io)?;
                return Ok(Step::Written);
            }
            "sheetData" => self.section = "sheetData",
            _ => {}
        }
        Ok(Step::Pass)
    }

    /// A `<row>`: the marked rows before it are created; a marked row loses `spans`.
    fn row(&mut self, e: &BytesStart, empty: bool, styles: &mut Styles) -> Result<Step, Damage> {
        let given = match raw(e, "r") {
            Some(v) => Some(
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| Damage::RowNumber(v.to_string()))?,
            ),
            None => None,
        };
        let rn = given.unwrap_or(self.row_now + 1);
        if rn == 0 || rn > 1_048_576 {
            return Err(Damage::RowOutOfRange(rn));
        }
        self.rows_before(rn, styles)?;
        self.row_now = rn;
        self.col_next = 0;
        let custom = raw(e, "customFormat").is_some_and(|v| v == "1" || v == "true");
        self.row_style = if custom {
            raw(e, "s").and_then(|v| v.trim().parse().ok())
        } else {
            None
        };
        let marked = self.marks.get(self.mi).is_some_and(|m| m.row == rn);
        if !(marked || given.is_none()) {
            return Ok(Step::Pass);
        }
        let rs = rn.to_string();
        let set: Vec<(&str, Option<&str>)> = if marked {
            vec![("r", Some(&rs)), ("spans", None)]
        } else {
            vec![("r", Some(&rs))]
        };
        let tag = tag_with(e, empty && !marked, &set);
        self.w
            .get_mut()
            .write_all(tag.as_bytes())
            .map_err(Self::io)?;
        if empty && marked {
            self.cells_before(rn, u32::MAX, self.row_style, styles)?;
            write!(self.w.get_mut(), "</{}row>", self.p).map_err(Self::io)?;
        }
        Ok(Step::Written)
    }

    /// A `<c>`: the marked cells before it are created; it gets its fill, or is a secret.
    fn cell(
        &mut self,
        e: &BytesStart,
        empty: bool,
        job: &Job,
        styles: &mut Styles,
    ) -> Result<Step, Damage> {
        let row = self.row_now;
        let col = match raw(e, "r") {
            Some(v) => parse_ref(&v).map(|c| c.0).ok_or_else(|| Damage::CellName {
                row,
                name: v.to_string(),
            })?,
            None => self.col_next,
        };
        self.col_next = col.saturating_add(1);
        self.cells_before(row, col, self.row_style, styles)?;
        let mark = match self.marks.get(self.mi) {
            Some(m) if m.row == row && m.col == col => {
                self.mi += 1;
                self.out.marked += 1;
                Some(m.severity)
            }
            _ => None,
        };
        let secret = if row > HEADER_ROW {
            job.secrets.iter().find(|s| s.0 == col).map(|s| s.1)
        } else {
            None
        };
        let orig: u32 = raw(e, "s").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        let style = mark.map(|sev| styles.flagged(orig, sev).to_string());
        let reference = raw(e, "r").is_none().then(|| cell_ref(col, row));
        let kind = raw(e, "t").map(|t| t.into_owned());
        if let (Some(secret), false) = (secret, empty) {
            return Ok(Step::Secret(SecretCell {
                e: e.to_owned(),
                secret,
                kind,
                style,
                reference,
            }));
        }
        self.sst_cell = !empty && kind.as_deref() == Some("s");
        if style.is_none() && reference.is_none() {
            return Ok(Step::Pass);
        }
        let tag = tag_with(
            e,
            empty,
            &[
                ("r", reference.as_deref().or(raw(e, "r").as_deref())),
                ("s", style.as_deref().or(raw(e, "s").as_deref())),
            ],
        );
        self.w
            .get_mut()
            .write_all(tag.as_bytes())
            .map_err(Self::io)?;
        Ok(Step::Written)
    }

    /// An end tag: what is still due before it (rows, cells, the legacy drawing).
    fn end(&mut self, l: &str, job: &Job, styles: &mut Styles) -> Result<(), Damage> {
        self.depth = self.depth.saturating_sub(1);
        match self.depth {
            0 if !self.legacy_done => {
                self.legacy(job.legacy_rid)?;
                self.legacy_done = true;
            }
            1 => {
                if self.section == "sheetData" && l == "sheetData" {
                    self.rows_before(u32::MAX, styles)?;
                }
                self.section = "";
            }
            2 if self.section == "sheetData" && l == "row" => {
                self.cells_before(self.row_now, u32::MAX, self.row_style, styles)?;
            }
            3 => self.sst_cell = false,
            4 => self.in_v = false,
            _ => {}
        }
        Ok(())
    }
}

/// Rewrites one worksheet part.
pub(crate) fn rewrite<R: BufRead, W: Write>(
    input: R,
    out: W,
    job: &Job,
    styles: &mut Styles,
    strings: &mut SecretStrings,
) -> Result<Outcome, Damage> {
    let mut r = Reader::from_reader(input);
    let mut st = State {
        w: Writer::new(out),
        p: String::new(),
        marks: job.marks,
        mi: 0,
        cols: vec![],
        out: Outcome::default(),
        depth: 0,
        rp: String::from("r"),
        legacy_done: job.legacy_rid.is_none(),
        section: "",
        row_now: 0,
        row_style: None,
        col_next: 0,
        sst_cell: false,
        in_v: false,
    };
    let mut buf = vec![];
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the sheet"))?;
        let step = match &ev {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(ev, Event::Empty(_));
                let step = st.start(e, empty, job, styles)?;
                if !empty && !matches!(step, Step::Secret(_)) {
                    st.depth += 1;
                }
                step
            }
            Event::End(e) => {
                st.end(local(e.name().0), job, styles)?;
                Step::Pass
            }
            Event::Text(t) if st.in_v => {
                if let Ok(i) = t.trim().parse::<u32>() {
                    strings.plain_ref(i);
                }
                Step::Pass
            }
            Event::Eof => break,
            _ => Step::Pass,
        };
        match step {
            Step::Pass => st.w.write_event(ev).map_err(State::<W>::io)?,
            Step::Written => {}
            Step::Secret(c) => {
                drop(ev);
                buf.clear();
                secret_cell(&mut r, &mut st, &c, strings)?;
                continue;
            }
        }
        buf.clear();
    }
    if st.mi < st.marks.len() {
        return Err(Damage::SheetDataOpen);
    }
    Ok(st.out)
}

/// What a secret cell held: its `<v>` text (bounded), the last digits of its text, and
/// whether it had any.
#[derive(Default)]
struct SecretText {
    value: String,
    digits: LastDigits,
    any_text: bool,
}

/// Reads a secret cell to its end.
fn read_secret<R: BufRead>(r: &mut Reader<R>) -> Result<SecretText, Damage> {
    let mut buf = vec![];
    let mut depth = 1usize;
    let mut got = SecretText::default();
    let (mut in_v, mut in_t) = (false, false);
    loop {
        let ev = r
            .read_event_into(&mut buf)
            .map_err(Damage::xml("the sheet"))?;
        match &ev {
            Event::Start(x) => {
                depth += 1;
                match local(x.name().0) {
                    "v" => in_v = true,
                    "t" => in_t = true,
                    _ => {}
                }
            }
            Event::End(x) => {
                depth -= 1;
                match local(x.name().0) {
                    "v" => in_v = false,
                    "t" => in_t = false,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
            }
            Event::Text(_) | Event::CData(_) if in_v || in_t => {
                let s: &str = match &ev {
                    Event::Text(t) => t,
                    Event::CData(t) => t,
                    _ => "",
                };
                if in_v && got.value.len() < 64 {
                    got.value.push_str(s);
                }
                got.any_text |= !s.trim().is_empty();
                got.digits.push(s);
            }
            Event::Eof => return Err(Damage::EndsInCell),
            _ => {}
        }
        buf.clear();
    }
    Ok(got)
}

/// Reads a secret cell to its end and writes it blanked or masked (formula dropped too).
fn secret_cell<R: BufRead, W: Write>(
    r: &mut Reader<R>,
    st: &mut State<W>,
    c: &SecretCell,
    strings: &mut SecretStrings,
) -> Result<(), Damage> {
    let got = read_secret(r)?;
    let e = &c.e;
    let kind = c.kind.as_deref();
    let s_attr = c
        .style
        .as_deref()
        .map(Cow::Borrowed)
        .or_else(|| raw(e, "s"));
    let r_attr = c
        .reference
        .as_deref()
        .map(Cow::Borrowed)
        .or_else(|| raw(e, "r"));
    let base: Vec<(&str, Option<&str>)> = vec![
        ("r", r_attr.as_deref()),
        ("s", s_attr.as_deref()),
        ("t", None),
        ("cm", None),
        ("vm", None),
    ];
    let with_type = |t: &'static str| {
        let mut set = base.clone();
        set[2] = ("t", Some(t));
        tag_with(e, false, &set)
    };
    let p = st.p.clone();
    st.out.secrets += 1;
    let sst_index = (kind == Some("s"))
        .then(|| got.value.trim().parse::<u32>().ok())
        .flatten();
    let text = match c.secret {
        Secret::Blank => {
            if let Some(i) = sst_index {
                strings.password_ref(i);
            }
            tag_with(e, true, &base)
        }
        Secret::Mask if kind == Some("s") => match sst_index.and_then(|i| strings.number_ref(i)) {
            Some(j) => format!("{}<{p}v>{j}</{p}v></{p}c>", with_type("s")),
            None => tag_with(e, true, &base),
        },
        Secret::Mask if got.any_text => format!(
            "{}<{p}is><{p}t>{}</{p}t></{p}is></{p}c>",
            with_type("inlineStr"),
            got.digits.masked()
        ),
        Secret::Mask => tag_with(e, true, &base),
    };
    st.w.get_mut()
        .write_all(text.as_bytes())
        .map_err(State::<W>::io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sheet_scan::{header, HeaderCell};

    fn styles() -> Styles {
        Styles::parse(crate::styles::MINIMAL.to_string()).unwrap()
    }

    fn run(
        src: &str,
        marks: &[CellMark],
        secrets: &[(u32, Secret)],
        rid: Option<&str>,
    ) -> (String, Outcome, SecretStrings) {
        let mut out = vec![];
        let mut st = styles();
        let mut strings = SecretStrings::new(10);
        let job = Job {
            marks,
            secrets,
            legacy_rid: rid,
        };
        let o = rewrite(src.as_bytes(), &mut out, &job, &mut st, &mut strings).unwrap();
        (String::from_utf8(out).unwrap(), o, strings)
    }

    fn m(row: u32, col: u32, e: bool) -> CellMark {
        CellMark {
            row,
            col,
            severity: if e {
                Severity::Error
            } else {
                Severity::Warning
            },
        }
    }

    #[test]
    fn marks_existing_and_new_cells_in_order() {
        let src = r#"<worksheet xmlns="main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><cols><col min="3" max="3" width="9" style="0"/></cols><sheetData><row r="1" spans="1:3"><c r="A1" s="0" t="s"><v>0</v></c><c r="C1"><v>3</v></c></row><row r="4"/><row r="6"><c r="B6"><f>1+1</f><v>2</v></c></row></sheetData><pageMargins left="0.7"/><tableParts count="0"/></worksheet>"#;
        let marks = [
            m(1, 1, true),
            m(1, 2, false),
            m(2, 0, true),
            m(4, 3, false),
            m(6, 1, true),
            m(9, 0, false),
        ];
        let (out, o, strings) = run(src, &marks, &[], Some("rIdX"));
        assert_eq!(o.marked, 6);
        assert_eq!(o.created, 4);
        assert!(strings.is_plain(0));
        assert!(out.contains(r#"<row r="1"><c r="A1" s="0" t="s"><v>0</v></c><c r="B1" s="1"/><c r="C1" s="2"><v>3</v></c></row><row r="2"><c r="A2" s="1"/></row><row r="4"><c r="D4" s="2"/></row><row r="6"><c r="B6" s="1"><f>1+1</f><v>2</v></c></row><row r="9"><c r="A9" s="2"/></row></sheetData>"#), "{out}");
        assert!(
            out.contains(r#"<pageMargins left="0.7"/><legacyDrawing r:id="rIdX"/><tableParts"#),
            "{out}"
        );
    }

    #[test]
    fn blanks_and_masks_secrets() {
        let src = r#"<x:worksheet xmlns:x="main"><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>1</x:v></x:c></x:row><x:row r="2"><x:c r="A2" t="s"><x:v>2</x:v></x:c><x:c r="B2" t="inlineStr"><x:is><x:t>4111 1111 1111 1234</x:t></x:is></x:c><x:c r="C2" t="s" s="0"><x:v>3</x:v></x:c></x:row></x:sheetData></x:worksheet>"#;
        let (out, o, _) = run(
            src,
            &[m(2, 1, true)],
            &[(0, Secret::Blank), (1, Secret::Mask), (2, Secret::Mask)],
            None,
        );
        assert_eq!(o.secrets, 3);
        assert!(out.contains(r#"<x:c r="A2"/>"#), "{out}");
        assert!(
            out.contains(
                r#"<x:c r="B2" s="1" t="inlineStr"><x:is><x:t>************1234</x:t></x:is></x:c>"#
            ),
            "{out}"
        );
        assert!(
            out.contains(r#"<x:c r="C2" s="0" t="s"><x:v>10</x:v></x:c>"#),
            "{out}"
        );
        assert!(!out.contains("4111"));
        assert!(!out.contains("legacyDrawing"));
    }

    #[test]
    fn adds_the_relationship_namespace_and_numbers_rows() {
        let src = r#"<worksheet xmlns="main"><sheetData><row><c><v>1</v></c><c><v>2</v></c></row></sheetData></worksheet>"#;
        let (out, _, _) = run(src, &[m(1, 1, true)], &[], Some("rIdC"));
        assert!(out.starts_with(r#"<worksheet xmlns="main" xmlns:fr="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#), "{out}");
        assert!(
            out.contains(r#"<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="1"><v>2</v></c></row>"#),
            "{out}"
        );
        assert!(
            out.ends_with(r#"<legacyDrawing fr:id="rIdC"/></worksheet>"#),
            "{out}"
        );
    }

    #[test]
    fn empty_sheet_data_gets_rows() {
        let src = r#"<worksheet xmlns="main"><sheetData/></worksheet>"#;
        let (out, _, _) = run(src, &[m(1, 0, false)], &[], None);
        assert!(
            out.contains(r#"<sheetData><row r="1"><c r="A1" s="1"/></row></sheetData>"#),
            "{out}"
        );
    }

    #[test]
    fn reads_the_header() {
        let src = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>4</v></c><c r="C1" t="inlineStr"><is><t>Pass&amp;word</t></is></c></row><row r="2"><c r="A2" t="s"><v>9</v></c></row></sheetData></worksheet>"#;
        let h = header(src.as_bytes()).unwrap();
        assert_eq!(
            h,
            vec![
                (0, HeaderCell::Shared(4)),
                (2, HeaderCell::Text("Pass&word".into()))
            ]
        );
    }
}
