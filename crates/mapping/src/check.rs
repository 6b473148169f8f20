//! Checks a parsed mapping against the catalogue and collects every problem at once (unknown
//! entity types and fields with a did-you-mean, required fields left unset, bad patterns, …).

use crate::each;
use crate::formats::pattern_problem;
use crate::model::{ColumnFormat, FieldDef, FieldSpec, Filter, Group, Mapping, Record, Source};
use crate::template;
use crate::{Issue, Location};
use ferry_catalogue::{Req, ENTITIES};
use std::collections::BTreeMap;
use toml::Spanned;

struct Issues<'t> {
    text: &'t str,
    list: Vec<Issue>,
}

impl Issues<'_> {
    fn at<T>(&mut self, s: &Spanned<T>, message: String) {
        self.span(s.span(), message);
    }
    fn span(&mut self, span: std::ops::Range<usize>, message: String) {
        let location = Some(Location::of(self.text, span.start));
        self.list.push(Issue { message, location });
    }
    fn bare(&mut self, message: String) {
        self.list.push(Issue {
            message,
            location: None,
        });
    }
}

pub fn check(m: &Mapping, text: &str) -> Vec<Issue> {
    let mut out = Issues {
        text,
        list: Vec::new(),
    };
    if *m.version.get_ref() != 1 {
        out.at(
            &m.version,
            format!(
                "version {} is not known: this Ferry reads version = 1",
                m.version.get_ref()
            ),
        );
    }
    if m.sources.is_empty() {
        out.bare("the mapping has no [[source]]: it would read nothing".into());
    }
    for s in &m.sources {
        source(s, &mut out);
    }
    out.list
        .sort_by_key(|i| i.location.map(|l| (l.line, l.column)));
    out.list
}

fn source(s: &Source, out: &mut Issues) {
    let label = s.label();
    let m = s.matches.get_ref();
    if m.file.is_none() && m.sheet.is_none() && m.element.is_none() {
        out.at(&s.matches, "match names no file, sheet or element".into());
    }
    if s.records.is_empty() {
        out.at(
            &s.matches,
            format!("source {label} has no [[source.record]]: its rows would become nothing"),
        );
    }
    for (name, f) in &s.columns {
        column_format(name, f, out);
    }
    for f in s.keep.iter().chain(&s.skip) {
        filter(f, out);
    }
    for r in &s.records {
        record(r, s.account.is_some(), out);
    }
}

fn column_format(name: &str, f: &Spanned<ColumnFormat>, out: &mut Issues) {
    let v = f.get_ref();
    if let Some(p) = pattern_problem(v) {
        out.at(f, format!("column {name}: {p}"));
    }
    let dec = v.decimal_char.as_deref().unwrap_or(".");
    if dec.chars().count() != 1 {
        out.at(
            f,
            format!("column {name}: decimalChar must be one character"),
        );
    }
    if v.group_char.as_deref() == Some(dec) {
        out.at(
            f,
            format!("column {name}: decimalChar and groupChar are both \"{dec}\""),
        );
    }
    let trues = v.true_values.iter().flatten();
    if let Some(both) = trues
        .clone()
        .find(|t| v.false_values.iter().flatten().any(|f| f == *t))
    {
        out.at(
            f,
            format!("column {name}: \"{both}\" is both a true and a false value"),
        );
    }
}

fn filter(f: &Spanned<Filter>, out: &mut Issues) {
    let v = f.get_ref();
    let given = [v.equals.is_some(), v.one_of.is_some(), v.empty.is_some()];
    if given.iter().filter(|g| **g).count() != 1 {
        out.at(
            f,
            format!(
                "the filter on column {} needs exactly one of equals, in, empty",
                v.column
            ),
        );
    }
}

fn record(r: &Record, has_account: bool, out: &mut Issues) {
    let name = r.entity.get_ref();
    let Some(entity) = ferry_catalogue::entity(name) else {
        let hint = ferry_catalogue::nearest(name, ENTITIES.iter().map(|e| e.name))
            .map(|n| format!(" (did you mean {n}?)"))
            .unwrap_or_default();
        out.at(&r.entity, format!("{name} is not an entity type{hint}"));
        return;
    };
    for (span, message) in each::problems(r) {
        out.span(span, message);
    }
    let first_group = r.each.as_ref().and_then(|e| e.get_ref().first());
    for (field, def) in &r.fields {
        if entity.field_def(field.get_ref()).is_none() {
            let hint =
                ferry_catalogue::nearest(field.get_ref(), entity.fields.iter().map(|f| f.name))
                    .map(|n| format!(" (did you mean {n}?)"))
                    .unwrap_or_default();
            out.at(
                field,
                format!("{} is not a field of {name}{hint}", field.get_ref()),
            );
        }
        let path = format!("{name}.{}", field.get_ref());
        field_def(&path, def, first_group.map(|g| g.get_ref()), out);
    }
    for f in entity.fields {
        let set = r.fields.keys().any(|k| k.get_ref() == f.name)
            || (has_account && entity.account_field == Some(f.name));
        if f.req == Req::Required && f.default.is_none() && !set {
            out.at(
                &r.entity,
                format!(
                    "{name}.{} is required and the record leaves it unset",
                    f.name
                ),
            );
        }
    }
}

/// The problems of one field; in a repeated record, as its first group reads it.
fn field_def(path: &str, def: &Spanned<FieldSpec>, group: Option<&Group>, out: &mut Issues) {
    let read;
    let v: &FieldDef = match group {
        Some(g) => {
            read = each::substituted(def.get_ref(), g);
            &read
        }
        None => def.get_ref(),
    };
    let sources = [
        v.column.is_some(),
        v.value.is_some(),
        v.template.is_some(),
        v.split.is_some(),
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        out.at(
            def,
            format!("{path} needs exactly one of column, value, template, split"),
        );
    }
    if let Some(t) = &v.template {
        if let Err(e) = template::parse(t) {
            out.at(def, format!("{path}: {e}"));
        }
    }
    if let Some(s) = &v.split {
        if s.separator.is_empty() || s.part == 0 || s.max.is_some_and(|m| m < s.part) {
            out.at(
                def,
                format!(
                    "{path}: split needs a separator, a part from 1 and a max of at least the part"
                ),
            );
        }
    }
    if let Some(map) = &v.map {
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for k in map.keys() {
            if let Some(first) = seen.insert(map_key(k), k) {
                out.at(def, format!("{path}: the value map has \"{first}\" and \"{k}\", the same key (keys match trimmed, without regard to case)"));
            }
        }
    }
}

/// How a value-map key matches: trimmed, without regard to case.
pub fn map_key(k: &str) -> String {
    k.trim().to_lowercase()
}
