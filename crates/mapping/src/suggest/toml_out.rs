//! Writes a proposed source as mapping TOML: match, account, filters, column formats and
//! records, with a comment wherever a person should check.

use super::records::{RecordPlan, Src};
use super::values::{ColumnEntry, FilterPlan};
use super::Sample;
use std::fmt::Write as _;

/// Everything one `[[source]]` says.
pub struct SourceText<'a> {
    pub sample: &'a Sample,
    pub account: Option<(usize, &'a str)>,
    pub missing: &'a [String],
    pub keep: &'a [FilterPlan],
    pub skip: &'a [FilterPlan],
    pub formats: &'a [ColumnEntry],
    pub records: &'a [RecordPlan],
    /// Headers no record reads.
    pub unplaced: Vec<&'a str>,
}

/// A TOML basic string.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A comment on one line (line breaks would end it).
fn comment(c: &str) -> String {
    c.replace(['\n', '\r'], " ")
}

/// A line with its comment, if any.
fn line(out: &mut String, text: &str, note: Option<&str>) {
    match note {
        Some(n) => {
            let _ = writeln!(out, "{text}  # {}", comment(n));
        }
        None => {
            let _ = writeln!(out, "{text}");
        }
    }
}

impl SourceText<'_> {
    fn header(&self, i: usize) -> &str {
        self.sample.headers.get(i).map_or("", String::as_str)
    }

    /// The `[[source]]` table.
    pub fn write(&self, out: &mut String) {
        let s = self.sample;
        out.push_str("\n[[source]]\n");
        line(out, &format!("name = {}", quote(&label(s))), None);
        line(out, &format!("match = {{ {} }}", matcher(s)), None);
        if let Some((i, why)) = self.account {
            line(
                out,
                &format!("account = {}", quote(self.header(i))),
                Some(why),
            );
        }
        if !self.missing.is_empty() {
            let list: Vec<String> = self.missing.iter().map(|m| quote(m)).collect();
            line(
                out,
                &format!("missingValues = [{}]", list.join(", ")),
                Some("read as empty"),
            );
        }
        self.filters("keep", self.keep, out);
        self.filters("skip", self.skip, out);
        for f in self.formats {
            self.format(f, out);
        }
        for r in self.records {
            self.record(r, out);
        }
        if !self.unplaced.is_empty() {
            let names: Vec<String> = self.unplaced.iter().map(|h| quote(h)).collect();
            let _ = writeln!(
                out,
                "\n# Columns no record reads: {}",
                comment(&names.join(", "))
            );
        }
    }

    fn filters(&self, key: &str, list: &[FilterPlan], out: &mut String) {
        for f in list {
            let col = quote(self.header(f.column));
            let test = match f.values.as_slice() {
                [one] => format!("equals = {}", quote(one)),
                many => format!(
                    "in = [{}]",
                    many.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")
                ),
            };
            line(
                out,
                &format!("{key} = [{{ column = {col}, {test} }}]"),
                Some(&f.comment),
            );
        }
    }

    fn format(&self, f: &ColumnEntry, out: &mut String) {
        let _ = writeln!(out, "\n[source.columns.{}]", quote(self.header(f.column)));
        for c in &f.comments {
            let _ = writeln!(out, "# {}", comment(c));
        }
        for (k, v) in &f.lines {
            let _ = writeln!(out, "{k} = {v}");
        }
    }

    fn record(&self, r: &RecordPlan, out: &mut String) {
        out.push_str("\n[[source.record]]\n");
        line(
            out,
            &format!("entity = {}", quote(r.entity)),
            r.comment.as_deref(),
        );
        for f in &r.fields {
            let value = match &f.src {
                Src::Column(i) => quote(self.header(*i)),
                Src::Value(v) => format!("{{ value = {} }}", quote(v)),
                Src::Template(cols) => {
                    let t: Vec<String> = cols
                        .iter()
                        .map(|i| format!("{{{}}}", self.header(*i)))
                        .collect();
                    format!("{{ template = {} }}", quote(&t.join(" ")))
                }
            };
            line(
                out,
                &format!("fields.{} = {value}", f.field),
                f.comment.as_deref(),
            );
        }
    }
}

/// A source's name for messages: the file, with its sheet or element.
pub fn label(s: &Sample) -> String {
    let base = base_name(&s.file);
    match (&s.sheet, &s.element) {
        (Some(sheet), _) => format!("{base} / {sheet}"),
        (None, Some(e)) => format!("{base} / {e}"),
        (None, None) => base.to_string(),
    }
}

fn base_name(file: &str) -> &str {
    file.rsplit(['/', '\\']).next().unwrap_or(file)
}

/// `file = "members.csv"`, `sheet = "People"` or `element = "Member"`: wildcards in the
/// name itself are matched as any character, which still matches the name.
fn matcher(s: &Sample) -> String {
    match (&s.sheet, &s.element) {
        (Some(sheet), _) => format!("sheet = {}", quote(sheet)),
        (None, Some(e)) => format!("element = {}", quote(e)),
        (None, None) => format!("file = {}", quote(base_name(&s.file))),
    }
}

/// The text before the sources.
pub fn preamble(out: &mut String) {
    out.push_str(
        "# Proposed by `ferry map suggest` from the headers and the first rows of each input.\n\
         # Lines marked \"check\" need a person's eye; `ferry map preview` shows what rows become.\n\
         version = 1\n",
    );
}
