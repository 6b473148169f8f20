//! The column view's form, read back: what staff chose per column (fields, value map, date or
//! money format), the account column and the constants, turned into changes of the mapping's
//! text with `ferry_mapping::edit`. The page draws the same form from the same text
//! (`mapping_view.rs`), so the names of the form's fields (`s0c3t0`: source 0, column 3,
//! target 0) mean the same on both sides.

use crate::sample::Part;
use ferry_mapping::edit::{EditError, Editor, ValueFormat};
use ferry_mapping::outline::{self, How, Use};
use ferry_mapping::{Mapping, Source};
use std::collections::HashMap;

/// A posted form, by field name (a name given twice keeps its last value).
pub struct Posted(HashMap<String, String>);

impl Posted {
    pub fn new(pairs: Vec<(String, String)>) -> Posted {
        Posted(pairs.into_iter().collect())
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    /// A field's value trimmed ("" when absent).
    pub fn trimmed(&self, k: &str) -> &str {
        self.get(k).map_or("", str::trim)
    }
    pub fn has(&self, k: &str) -> bool {
        self.0.contains_key(k)
    }
}

/// The sources the column view edits, each with the first part of the upload it reads (whose
/// headers are its columns): `(source index, part index)`.
pub fn edited_sources(m: &Mapping, parts: &[Part]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (pi, p) in parts.iter().enumerate() {
        if let Some(si) = source_of(m, p) {
            if !out.iter().any(|(s, _)| *s == si) {
                out.push((si, pi));
            }
        }
    }
    out
}

/// The source of `m` that reads part `p`, as a run picks it.
pub fn source_of(m: &Mapping, p: &Part) -> Option<usize> {
    m.sources
        .iter()
        .position(|s| s.reads(&p.file, p.sheet.as_deref(), p.element.as_deref()))
}

/// What the view shows of one column of an edited source.
pub struct Column<'u> {
    /// The fields the column's value goes to as it is.
    pub direct: Vec<&'u Use>,
    /// Its value map, as lines `source value = Ferry value` (of the first field it goes to).
    pub map: String,
    pub format: ValueFormat,
}

/// The columns of source `s` over `headers`, as the view shows them.
pub fn columns<'u>(s: &Source, headers: &[String], uses: &'u [Vec<Use>]) -> Vec<Column<'u>> {
    headers
        .iter()
        .zip(uses)
        .map(|(h, u)| {
            let direct: Vec<&Use> = u
                .iter()
                .filter(|x| matches!(x.how, How::Direct { .. }))
                .collect();
            let map = direct
                .iter()
                .find_map(|x| match &x.how {
                    How::Direct { map } if !map.is_empty() => Some(map_text(map)),
                    _ => None,
                })
                .unwrap_or_default();
            Column {
                direct,
                map,
                format: format_of(s, h),
            }
        })
        .collect()
}

/// The format of column `header` of source `s` (written under its name or another spelling).
pub fn format_of(s: &Source, header: &str) -> ValueFormat {
    let keys: Vec<&str> = s.columns.keys().map(String::as_str).collect();
    let key = keys
        .iter()
        .find(|k| **k == header)
        .copied()
        .or_else(|| ferry_catalogue::same_name(header, keys.iter().copied()));
    key.and_then(|k| s.columns.get(k))
        .map(|f| ValueFormat::of(f.get_ref()))
        .unwrap_or_default()
}

pub fn map_text(map: &[(String, String)]) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Y = true` lines back into pairs; a line without `=` is a problem.
fn parse_map(column: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.push((k.trim().to_string(), v.trim().to_string()));
            }
            _ => {
                return Err(format!(
                    "Column {column}: line {} of the value map is not \"source value = Ferry value\"; the map was left as it was.",
                    i + 1
                ))
            }
        }
    }
    Ok(out)
}

/// The form's key of a field of a column's target select: `Entity.Field`.
pub fn target_value(u: &Use) -> String {
    format!("{}.{}", u.entity, u.field)
}

/// Applies the posted column view to `base` (the text it was drawn from); returns the new
/// text and what the person should know about the changes.
pub fn apply(
    base: &str,
    form: &Posted,
    parts: &[Part],
) -> Result<(String, Vec<String>), EditError> {
    if base.trim().is_empty() {
        return Ok((base.to_string(), Vec::new()));
    }
    let m = Mapping::parse(base).map_err(|e| EditError::Syntax(e.to_string()))?;
    let mut ed = Editor::new(base)?;
    let mut notes = Vec::new();
    for (si, pi) in edited_sources(&m, parts) {
        let source = &m.sources[si];
        let headers = &parts[pi].headers;
        let uses = outline::column_uses(source, headers);
        let cols = columns(source, headers, &uses);
        let key = |rest: String| format!("s{si}{rest}");
        // Value maps first, where the fields are now: a move below carries them along.
        let mut new_maps = HashMap::new();
        for (ci, c) in cols.iter().enumerate() {
            let k = key(format!("c{ci}map"));
            let Some(posted) = form.get(&k) else { continue };
            if posted.trim() == c.map.trim() {
                continue;
            }
            match parse_map(&headers[ci], posted) {
                Ok(map) => {
                    for u in &c.direct {
                        ed.set_map(si, u.record, &u.field, &map);
                    }
                    new_maps.insert(ci, map);
                }
                Err(e) => notes.push(e),
            }
        }
        constants(&mut ed, form, si, source);
        for (ci, c) in cols.iter().enumerate() {
            targets(&mut ed, form, si, ci, &headers[ci], c, new_maps.get(&ci));
            let f = ValueFormat {
                format: some(form.trimmed(&key(format!("c{ci}fmt")))),
                two_digit_year_pivot: form.trimmed(&key(format!("c{ci}pivot"))).parse().ok(),
                decimal_char: some(form.get(&key(format!("c{ci}dec"))).unwrap_or("")),
                group_char: some(form.get(&key(format!("c{ci}grp"))).unwrap_or("")),
                strip_symbols: form.has(&key(format!("c{ci}cur"))),
            };
            if form.has(&key(format!("c{ci}fmtshown"))) && f != c.format {
                ed.set_format(si, &headers[ci], &f);
            }
        }
        account(&mut ed, form, si, source, headers);
    }
    notes.append(&mut ed.notes);
    Ok((ed.finish(), notes))
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The fields column `ci` goes to: each select against what it showed.
fn targets(
    ed: &mut Editor,
    form: &Posted,
    si: usize,
    ci: usize,
    header: &str,
    c: &Column,
    map: Option<&Vec<(String, String)>>,
) {
    for k in 0..=c.direct.len() {
        let Some(posted) = form.get(&format!("s{si}c{ci}t{k}")).map(str::trim) else {
            continue;
        };
        let was = c.direct.get(k);
        if was.map(|u| target_value(u)).as_deref().unwrap_or("") == posted {
            continue;
        }
        let spec = match was {
            Some(u) => ed.take_field(si, u.record, &u.field),
            None => None,
        };
        let Some((entity, field)) = posted.split_once('.') else {
            continue; // left out
        };
        let spec = spec.unwrap_or_else(|| new_spec(header, map));
        ed.place_column(si, entity, field, spec);
    }
}

/// A column on a field: its name, or with a value map `{ column = …, map = … }`.
fn new_spec(header: &str, map: Option<&Vec<(String, String)>>) -> toml_edit::Item {
    match map.filter(|m| !m.is_empty()) {
        None => toml_edit::value(header),
        Some(map) => {
            let mut m = toml_edit::InlineTable::new();
            for (k, v) in map {
                m.insert(k.as_str(), v.as_str().into());
            }
            let mut t = toml_edit::InlineTable::new();
            t.insert("column", header.into());
            t.insert("map", toml_edit::Value::InlineTable(m));
            toml_edit::Item::Value(toml_edit::Value::InlineTable(t))
        }
    }
}

/// The constants: changed, removed, and one added.
fn constants(ed: &mut Editor, form: &Posted, si: usize, source: &Source) {
    for (n, c) in outline::constants(source).iter().enumerate() {
        if form.has(&format!("s{si}k{n}x")) {
            ed.set_constant(si, c.record, &c.field, None);
            continue;
        }
        if let Some(v) = form.get(&format!("s{si}k{n}")) {
            if v.trim() != c.value.trim() {
                ed.set_constant(si, c.record, &c.field, Some(v.trim()));
            }
        }
    }
    let target = form.trimmed(&format!("s{si}kadd"));
    let value = form.trimmed(&format!("s{si}kaddv"));
    if let (Some((entity, field)), false) = (target.split_once('.'), value.is_empty()) {
        ed.add_constant(si, entity, field, value);
    }
}

/// The account column, against what the view showed.
fn account(ed: &mut Editor, form: &Posted, si: usize, source: &Source, headers: &[String]) {
    let Some(posted) = form.get(&format!("s{si}account")).map(str::trim) else {
        return;
    };
    let shown = account_shown(source, headers);
    if posted == shown {
        return;
    }
    ed.set_account(si, (!posted.is_empty()).then_some(posted));
}

/// The header the account column is, as the view shows it ("" for none; the name as written
/// when no header is it).
pub fn account_shown(source: &Source, headers: &[String]) -> String {
    match &source.account {
        None => String::new(),
        Some(a) => outline::header_index(headers, a.get_ref())
            .map_or_else(|| a.get_ref().clone(), |i| headers[i].clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Part;

    fn part() -> Part {
        Part {
            file: "members.csv".into(),
            headers: [
                "first_name",
                "last_name",
                "email",
                "phone1",
                "phone2",
                "paid",
            ]
            .map(String::from)
            .to_vec(),
            ..Default::default()
        }
    }

    const TEXT: &str = r#"version = 1
[[source]]
match = { file = "members.csv" }
account = "email"
[[source.record]]
entity = "User"
fields.Role = { value = "Member" }
[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone1"
"#;

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn the_column_view_changes_only_what_was_changed() {
        // As drawn: nothing changes.
        let same = posted(&[
            ("s0c3t0", "ContactPhone.Phone"),
            ("s0c4t0", ""),
            ("s0account", "email"),
            ("s0k0", "Member"),
            ("s0c5fmtshown", "1"),
        ]);
        let (text, notes) = apply(TEXT, &same, &[part()]).unwrap();
        assert_eq!(text, TEXT);
        assert!(notes.is_empty());
        // phone2 to a second phone with a Y/N map, paid as money, a constant changed.
        let changed = posted(&[
            ("s0c3t0", "ContactPhone.Phone"),
            ("s0c4t0", "ContactPhone.Phone"),
            ("s0c4map", "Y = yes\nN = no"),
            ("s0c5fmtshown", "1"),
            ("s0c5dec", ","),
            ("s0c5cur", "on"),
            ("s0k0", "Customer"),
            ("s0kadd", "User.StatusType"),
            ("s0kaddv", "Active"),
        ]);
        let (text, notes) = apply(TEXT, &changed, &[part()]).unwrap();
        let m = Mapping::load(&text).map(|_| ()).map_err(|e| e.to_string());
        let m2 = Mapping::parse(&text).unwrap();
        assert_eq!(m2.sources[0].records.len(), 3, "{text}\n{m:?}");
        assert!(text.contains("Customer") && text.contains("StatusType"));
        assert_eq!(
            m2.sources[0].columns["paid"]
                .get_ref()
                .decimal_char
                .as_deref(),
            Some(",")
        );
        let last = m2.sources[0].records.last().unwrap();
        let phone = last
            .fields
            .iter()
            .find(|(k, _)| k.get_ref() == "Phone")
            .unwrap()
            .1;
        assert_eq!(phone.get_ref().map.as_ref().unwrap()["Y"], "yes");
        assert_eq!(notes.len(), 1, "{notes:?}");
        // phone1 left out: its record goes.
        let out = posted(&[("s0c3t0", "")]);
        let (text, _) = apply(TEXT, &out, &[part()]).unwrap();
        assert_eq!(
            Mapping::parse(&text).unwrap().sources[0].records.len(),
            1,
            "{text}"
        );
    }
}
