//! Repeated column groups (`each`): a record written once and read once per group, with the
//! group's `{name}` variables replaced in its fields' columns, constants, templates and defaults.

use crate::model::{FieldDef, Group, Record};
use std::collections::BTreeMap;
use std::ops::Range;

/// A record's field definitions by field name, one set per group (one set when the record has
/// no `each`), with the group's variables replaced.
pub fn expand(r: &Record) -> Vec<BTreeMap<&str, FieldDef>> {
    let plain = || {
        r.fields
            .iter()
            .map(|(k, d)| (k.get_ref().as_str(), d.get_ref().0.clone()))
            .collect()
    };
    match &r.each {
        None => vec![plain()],
        Some(groups) => groups
            .get_ref()
            .iter()
            .map(|g| {
                r.fields
                    .iter()
                    .map(|(k, d)| (k.get_ref().as_str(), substituted(d.get_ref(), g.get_ref())))
                    .collect()
            })
            .collect(),
    }
}

/// A field definition with the group's variables replaced (not in value-map keys or values).
pub fn substituted(d: &FieldDef, g: &Group) -> FieldDef {
    let sub = |s: &Option<String>| s.as_deref().map(|t| substitute(t, g));
    let mut out = d.clone();
    out.column = sub(&d.column);
    out.value = sub(&d.value);
    out.template = sub(&d.template);
    out.default = sub(&d.default);
    if let Some(s) = &mut out.split {
        s.column = substitute(&s.column, g);
    }
    out
}

/// `text` with every `{name}` of the group replaced by its value; `{{` and `}}` and names the
/// group does not have are left as written.
pub fn substitute(text: &str, g: &Group) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            out.push_str(&rest[..2]);
            rest = &rest[2..];
            continue;
        }
        match variable(rest).and_then(|(name, len)| Some((g.get(name)?, len))) {
            Some((value, len)) => {
                out.push_str(&value.0);
                rest = &rest[len..];
            }
            None => {
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The name of a `{name}` at the start of `s` and the length of the whole `{name}`.
fn variable(s: &str) -> Option<(&str, usize)> {
    let body = s.strip_prefix('{')?;
    let end = body.find('}')?;
    let name = &body[..end];
    (!name.is_empty() && !name.contains('{')).then_some((name, end + 2))
}

/// The `{name}`s written in `text` (outside `{{`/`}}`).
fn variables(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        rest = &rest[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            rest = &rest[2..];
        } else if let Some((name, len)) = variable(rest) {
            out.push(name);
            rest = &rest[len..];
        } else {
            rest = &rest[1..];
        }
    }
    out
}

/// Every problem of a record's `each`, with the span it belongs to.
pub fn problems(r: &Record) -> Vec<(Range<usize>, String)> {
    let Some(each) = &r.each else {
        return Vec::new();
    };
    let groups = each.get_ref();
    let mut out = Vec::new();
    let Some(first) = groups.first() else {
        out.push((
            each.span(),
            "each lists no group: the record would give nothing".into(),
        ));
        return out;
    };
    let names: Vec<&String> = first.get_ref().keys().collect();
    for (i, g) in groups.iter().enumerate() {
        if let Some(p) = group_problem(g.get_ref(), &names, &groups[..i]) {
            out.push((g.span(), p));
        }
    }
    out.extend(usage_problems(r, &names));
    out
}

fn group_problem(g: &Group, names: &[&String], before: &[toml::Spanned<Group>]) -> Option<String> {
    if g.is_empty() {
        return Some(
            "a group of each names no variable: write { n = 1 } or { column = \"…\" }".into(),
        );
    }
    if let Some(bad) = g.keys().find(|k| k.is_empty() || k.contains(['{', '}'])) {
        return Some(format!(
            "\"{bad}\" cannot be a variable of each (no braces, not empty)"
        ));
    }
    if !g.keys().eq(names.iter().copied()) {
        return Some(format!(
            "every group of each names the same variables ({}); this one names {}",
            list(names.iter().copied()),
            list(g.keys())
        ));
    }
    if before.iter().any(|b| b.get_ref() == g) {
        return Some(
            "this group of each is listed twice: it would give the same record twice".into(),
        );
    }
    None
}

/// Variables a field uses but `each` does not name, and an `each` no field uses.
fn usage_problems(r: &Record, names: &[&String]) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    let mut used = false;
    for (field, def) in &r.fields {
        let d = def.get_ref();
        let checked = [&d.column, &d.value, &d.default]
            .into_iter()
            .flatten()
            .chain(d.split.iter().map(|s| &s.column));
        for text in checked {
            for v in variables(text) {
                if names.iter().any(|n| *n == v) {
                    used = true;
                } else {
                    let msg = format!(
                        "{}.{} uses {{{v}}}, which each does not name (it names {})",
                        r.entity.get_ref(),
                        field.get_ref(),
                        list(names.iter().copied())
                    );
                    out.push((def.span(), msg));
                }
            }
        }
        used |= d
            .template
            .as_deref()
            .is_some_and(|t| variables(t).iter().any(|v| names.iter().any(|n| n == v)));
    }
    if !used && !names.is_empty() {
        let msg = format!(
            "each repeats the {} record but none of its fields uses {}: every group would give the same record",
            r.entity.get_ref(),
            list(names.iter().map(|n| format!("{{{n}}}")).collect::<Vec<_>>().iter())
        );
        out.push((r.each.as_ref().map_or(r.entity.span(), |e| e.span()), msg));
    }
    out
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    names.map(String::as_str).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Word;

    fn group(pairs: &[(&str, &str)]) -> Group {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Word(v.to_string())))
            .collect()
    }

    #[test]
    fn variables_are_replaced_and_braces_kept() {
        let g = group(&[("n", "2"), ("col", "Newsletter")]);
        assert_eq!(substitute("Phone Type {n}", &g), "Phone Type 2");
        assert_eq!(substitute("phone{n}", &g), "phone2");
        assert_eq!(substitute("{col}", &g), "Newsletter");
        // A template's columns stay; a variable inside one is replaced.
        assert_eq!(substitute("{first} {Phone {n}}", &g), "{first} {Phone 2}");
        assert_eq!(substitute("{{n}} {x} }{", &g), "{{n}} {x} }{");
        assert_eq!(variables("a {n} {{m}} {Phone {k}}"), ["n", "k"]);
    }
}
