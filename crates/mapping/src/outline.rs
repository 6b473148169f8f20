//! What an editor shows of a mapping: the fields each column of a source feeds (as itself, in
//! a template or in a split), its constants, each field said in words, and which part of the
//! mapping a problem is about.

use crate::model::{FieldDef, Mapping, Source};
use crate::template::{self, Piece};
use crate::visit::index_of;
use crate::Location;

/// How a column feeds a field of one of the records a row gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    /// The record's index in its source.
    pub record: usize,
    pub entity: String,
    pub field: String,
    pub how: How,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    /// The column's value is the field's, through its value map if it has one.
    Direct { map: Vec<(String, String)> },
    /// One of the columns a template joins.
    Template,
    /// The field is a part of the column.
    Split,
    /// Read by a record repeated for column groups (`each`), in group `group` (1-based).
    Repeated { group: usize },
}

/// Per header of a source's input, the fields that column feeds (a mapping's column names
/// match the headers as a run finds them: exactly, else across case, accents and punctuation).
pub fn column_uses(source: &Source, headers: &[String]) -> Vec<Vec<Use>> {
    let mut out = vec![Vec::new(); headers.len()];
    for (r, rec) in source.records.iter().enumerate() {
        if rec.each.is_some() {
            repeated_uses(r, rec, headers, &mut out);
            continue;
        }
        for (name, def) in &rec.fields {
            let d: &FieldDef = def.get_ref();
            let mut put = |column: &str, how: How| {
                if let Some(i) = index_of(headers, column) {
                    out[i].push(Use {
                        record: r,
                        entity: rec.entity.get_ref().clone(),
                        field: name.get_ref().clone(),
                        how,
                    });
                }
            };
            if let Some(c) = &d.column {
                let map = d
                    .map
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                put(c, How::Direct { map });
            }
            if let Some(s) = &d.split {
                put(&s.column, How::Split);
            }
            if let Some(Ok(pieces)) = d.template.as_deref().map(template::parse) {
                for p in pieces {
                    if let Piece::Column(c) = p {
                        put(&c, How::Template);
                    }
                }
            }
        }
    }
    out
}

/// The columns a repeated record reads, group by group.
fn repeated_uses(r: usize, rec: &crate::Record, headers: &[String], out: &mut [Vec<Use>]) {
    for (g, fields) in crate::each::expand(rec).iter().enumerate() {
        for (name, d) in fields {
            let mut cols: Vec<String> = d.column.iter().cloned().collect();
            cols.extend(d.split.iter().map(|s| s.column.clone()));
            if let Some(Ok(pieces)) = d.template.as_deref().map(template::parse) {
                cols.extend(pieces.into_iter().filter_map(|p| match p {
                    Piece::Column(c) => Some(c),
                    Piece::Text(_) => None,
                }));
            }
            for c in cols {
                if let Some(i) = index_of(headers, &c) {
                    out[i].push(Use {
                        record: r,
                        entity: rec.entity.get_ref().clone(),
                        field: name.to_string(),
                        how: How::Repeated { group: g + 1 },
                    });
                }
            }
        }
    }
}

/// The header a mapping's column name finds, as a run finds it.
pub fn header_index(headers: &[String], column: &str) -> Option<usize> {
    index_of(headers, column)
}

/// A field set to a constant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constant {
    pub record: usize,
    pub entity: String,
    pub field: String,
    pub value: String,
}

/// The constants of a source's records, in record order.
pub fn constants(source: &Source) -> Vec<Constant> {
    let mut out = Vec::new();
    for (r, rec) in source.records.iter().enumerate() {
        for (name, def) in &rec.fields {
            if let Some(v) = &def.get_ref().value {
                out.push(Constant {
                    record: r,
                    entity: rec.entity.get_ref().clone(),
                    field: name.get_ref().clone(),
                    value: v.clone(),
                });
            }
        }
    }
    out
}

/// Where a field's value comes from, in words: `← email`, `= "Member"`,
/// `← "{first_name} {last_name}"`, `← part 1 of full_name`.
pub fn describe(d: &FieldDef) -> String {
    let mut s = if let Some(c) = &d.column {
        format!("← {c}")
    } else if let Some(v) = &d.value {
        format!("= \"{v}\"")
    } else if let Some(t) = &d.template {
        format!("← \"{t}\"")
    } else if let Some(sp) = &d.split {
        format!("← part {} of {}", sp.part, sp.column)
    } else {
        "(nothing)".into()
    };
    if d.map.as_ref().is_some_and(|m| !m.is_empty()) {
        s.push_str(" (value map)");
    }
    if let Some(def) = &d.default {
        s.push_str(&format!(", else \"{def}\""));
    }
    s
}

/// The part of a mapping a problem is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A source as a whole (its match, its filters).
    Source(usize),
    /// A source's account column.
    Account(usize),
    /// A source's format of a column (by the name written in the mapping).
    Column(usize, String),
    /// A record as a whole (its entity type, a required field it leaves unset).
    Record(usize, usize),
    /// One field of a record.
    Field(usize, usize, String),
    /// The mapping as a whole, or a place not known.
    Nowhere,
}

/// The innermost part of `m` whose text holds `at` (`text` is the mapping's text).
pub fn place_of(m: &Mapping, text: &str, at: Option<Location>) -> Place {
    let Some(at) = at else {
        return Place::Nowhere;
    };
    let offset = offset_of(text, at);
    let mut best: Option<(usize, Place)> = None;
    let mut consider = |span: std::ops::Range<usize>, place: Place| {
        let holds = span.start <= offset && (offset < span.end || offset == span.start);
        if holds && best.as_ref().is_none_or(|(len, _)| span.len() < *len) {
            best = Some((span.len(), place));
        }
    };
    for (si, s) in m.sources.iter().enumerate() {
        consider(s.matches.span(), Place::Source(si));
        if let Some(a) = &s.account {
            consider(a.span(), Place::Account(si));
        }
        for (name, f) in &s.columns {
            consider(f.span(), Place::Column(si, name.clone()));
        }
        for f in s.keep.iter().chain(&s.skip) {
            consider(f.span(), Place::Source(si));
        }
        for (ri, r) in s.records.iter().enumerate() {
            consider(r.entity.span(), Place::Record(si, ri));
            for (k, v) in &r.fields {
                let span = k.span().start..v.span().end.max(k.span().end);
                consider(span, Place::Field(si, ri, k.get_ref().clone()));
            }
        }
    }
    best.map_or(Place::Nowhere, |(_, p)| p)
}

/// The byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, at: Location) -> usize {
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if i + 1 == at.line {
            let col: usize = line
                .chars()
                .take(at.column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + col;
        }
        offset += line.len();
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"version = 1
[[source]]
match = { file = "m.csv" }
account = "E-mail"
[source.columns.joined]
format = "%y"
[[source.record]]
entity = "Usr"
[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first} {last}" }
fields.Phone = { column = "phone", map = { x = "y" } }
fields.Bogus = "first"
fields.ContactPointType = { value = "Mobile Phone" }
"#;

    #[test]
    fn columns_know_the_fields_they_feed() {
        let m = Mapping::parse(TEXT).unwrap();
        let headers: Vec<String> = ["first", "last", "PHONE", "email", "other"]
            .map(String::from)
            .to_vec();
        let uses = column_uses(&m.sources[0], &headers);
        assert_eq!(uses[0].len(), 2, "template and Bogus: {:?}", uses[0]);
        assert_eq!(uses[2][0].field, "Phone", "found across case");
        assert!(matches!(&uses[2][0].how, How::Direct { map } if map.len() == 1));
        assert!(uses[4].is_empty());
        assert_eq!(header_index(&headers, "E-mail"), Some(3));
        let c = constants(&m.sources[0]);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].record, c[0].value.as_str()), (1, "Mobile Phone"));
    }

    #[test]
    fn columns_of_repeated_records_are_known_by_group() {
        let text = "version = 1\n[[source]]\nmatch = { file = \"m.csv\" }\naccount = \"id\"\n[[source.record]]\nentity = \"ContactPhone\"\neach = [{ n = 1 }, { n = 2 }]\nfields.ContactName = \"name\"\nfields.Phone = \"Phone {n}\"\n";
        let m = Mapping::parse(text).unwrap();
        let headers: Vec<String> = ["id", "name", "Phone 1", "Phone 2"]
            .map(String::from)
            .to_vec();
        let uses = column_uses(&m.sources[0], &headers);
        assert_eq!(uses[2][0].how, How::Repeated { group: 1 });
        assert_eq!(uses[3][0].how, How::Repeated { group: 2 });
        assert_eq!(uses[1].len(), 2, "the name in both groups");
        assert!(uses[0].is_empty());
        // The column view puts a column beside a repeated record, never into it.
        let mut e = crate::edit::Editor::new(text).unwrap();
        e.place_column(0, "ContactPhone", "Phone", toml_edit::value("fax"));
        let m = Mapping::parse(&e.finish()).unwrap();
        assert_eq!(m.sources[0].records.len(), 2);
        assert!(m.sources[0].records[1].each.is_none());
    }

    #[test]
    fn problems_are_placed_in_the_mapping() {
        let m = Mapping::parse(TEXT).unwrap();
        let issues = m.check(TEXT);
        let places: Vec<Place> = issues
            .iter()
            .map(|i| place_of(&m, TEXT, i.location))
            .collect();
        assert!(
            places.contains(&Place::Column(0, "joined".into())),
            "{issues:?}"
        );
        assert!(places.contains(&Place::Record(0, 0)), "{issues:?}");
        assert!(
            places.contains(&Place::Field(0, 1, "Bogus".into())),
            "{issues:?} {places:?}"
        );
        assert_eq!(place_of(&m, TEXT, None), Place::Nowhere);
    }
}
