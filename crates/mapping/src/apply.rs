//! Applies a source's mapping to one row: filters, then each record's fields as text in
//! Ferry's canonical forms (ISO dates, `1234.50` amounts), or the problems that stop it.

use crate::check::map_key;
use crate::formats;
use crate::model::{FieldDef, Filter, Record as RecordDef, Source, Split};
use crate::template::{self, Piece};
use ferry_catalogue::{Entity, Kind};

/// What one row gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Produced {
    /// A record ready for the validator.
    Record(Record),
    /// A value the mapping could not turn into a Ferry value; its record is not produced.
    Problem(RowProblem),
    /// What a record with problems could read (it follows its problems): the caller rejects
    /// it, judging its key and references as usual.
    Rejected(Record),
}

/// An entity type and its field values in catalogue order; empty fields are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub entity: &'static str,
    pub fields: Vec<Value>,
}

/// One field's value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub field: &'static str,
    pub text: String,
    /// The one column the value was read from (a column or a split of it); `None` for
    /// constants, defaults and templates.
    pub column: Option<String>,
    /// The column's cell as written: no map, format or split changed it (so a reader's typed
    /// cell — a workbook date or number — may be passed on instead of its text).
    pub verbatim: bool,
}

impl Record {
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|v| v.field == field)
            .map(|v| v.text.as_str())
    }
}

/// Why a value of a row was refused (a finding for the caller to report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// `Entity.Field` the value was for, when there is one.
    pub target: Option<String>,
    pub column: String,
    pub value: String,
    pub message: String,
}

struct Row<'a, S: AsRef<str>> {
    source: &'a Source,
    headers: &'a [S],
    cells: &'a [S],
}

type Got<T> = Result<T, RowProblem>;

fn problem(column: &str, value: &str, message: String) -> RowProblem {
    RowProblem {
        target: None,
        column: column.to_string(),
        value: value.to_string(),
        message,
    }
}

impl<S: AsRef<str>> Row<'_, S> {
    fn index(&self, column: &str) -> Option<usize> {
        let names = || self.headers.iter().map(|h| h.as_ref());
        names().position(|h| h == column).or_else(|| {
            ferry_catalogue::same_name(column, names()).and_then(|h| names().position(|n| n == h))
        })
    }

    /// The trimmed cell of a column; `None` when it is empty or a missing-value marker.
    fn get(&self, column: &str) -> Got<Option<String>> {
        let i = self.index(column).ok_or_else(|| {
            problem(
                column,
                "",
                format!("the source {} has no column {column}", self.source.label()),
            )
        })?;
        let cell = self.cells.get(i).map_or("", |c| c.as_ref()).trim();
        let missing = self
            .source
            .columns
            .get(column)
            .and_then(|f| f.get_ref().missing_values.as_ref())
            .or(self.source.missing_values.as_ref());
        let is_missing = match missing {
            Some(list) => cell.is_empty() || list.iter().any(|m| m.trim() == cell),
            None => cell.is_empty(),
        };
        Ok((!is_missing).then(|| cell.to_string()))
    }
}

impl Source {
    /// The records and problems one row gives; nothing when a filter drops the row (see
    /// [`Source::dropped_by`]). `headers` and `row` are the source's header and one data row.
    pub fn apply<S: AsRef<str>>(&self, headers: &[S], row: &[S]) -> Vec<Produced> {
        let row = Row {
            source: self,
            headers,
            cells: row,
        };
        match self.drop_reason(&row) {
            Ok(Some(_)) => return Vec::new(),
            Ok(None) => {}
            Err(p) => return vec![Produced::Problem(p)],
        }
        self.records.iter().flat_map(|r| record(r, &row)).collect()
    }

    /// Why a filter drops this row, if one does (for a preview).
    pub fn dropped_by<S: AsRef<str>>(&self, headers: &[S], row: &[S]) -> Option<String> {
        let row = Row {
            source: self,
            headers,
            cells: row,
        };
        self.drop_reason(&row).ok().flatten()
    }

    fn drop_reason<S: AsRef<str>>(&self, row: &Row<S>) -> Got<Option<String>> {
        for f in &self.keep {
            if !holds(f.get_ref(), row)? {
                return Ok(Some(format!("kept only where {}", describe(f.get_ref()))));
            }
        }
        for f in &self.skip {
            if holds(f.get_ref(), row)? {
                return Ok(Some(format!("skipped where {}", describe(f.get_ref()))));
            }
        }
        Ok(None)
    }

    /// The columns this source reads that `headers` lacks (report once per source).
    pub fn missing_columns<S: AsRef<str>>(&self, headers: &[S]) -> Vec<String> {
        let row = Row {
            source: self,
            headers,
            cells: headers,
        };
        let mut out: Vec<String> = self
            .read_columns()
            .into_iter()
            .filter(|c| row.index(c).is_none())
            .collect();
        out.dedup();
        out
    }

    /// Every column the source reads, sorted.
    pub fn read_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = self.records.iter().flat_map(record_columns).collect();
        cols.extend(self.account.iter().map(|a| a.get_ref().clone()));
        cols.extend(
            self.keep
                .iter()
                .chain(&self.skip)
                .map(|f| f.get_ref().column.clone()),
        );
        cols.sort();
        cols.dedup();
        cols
    }
}

fn holds<S: AsRef<str>>(f: &Filter, row: &Row<S>) -> Got<bool> {
    let v = row.get(&f.column)?;
    let key = v.as_deref().map(map_key);
    Ok(if let Some(e) = &f.equals {
        key == Some(map_key(e))
    } else if let Some(set) = &f.one_of {
        key.is_some_and(|k| set.iter().any(|s| map_key(s) == k))
    } else {
        f.empty.is_some_and(|e| e == v.is_none())
    })
}

fn describe(f: &Filter) -> String {
    if let Some(e) = &f.equals {
        format!("{} = \"{e}\"", f.column)
    } else if let Some(set) = &f.one_of {
        format!("{} in [{}]", f.column, set.join(", "))
    } else {
        format!(
            "{} is {}empty",
            f.column,
            if f.empty == Some(false) { "not " } else { "" }
        )
    }
}

/// The columns a record's fields read (not the account column, not filters).
fn record_columns(r: &RecordDef) -> Vec<String> {
    r.fields
        .values()
        .flat_map(|d| def_columns(d.get_ref()))
        .collect()
}

/// The columns of a record's own content: those of its fields that do not name another record
/// (a contact point's `User` and `ContactName` are shared with its contact; its `Phone` is its
/// own).
fn content_columns(entity: &Entity, r: &RecordDef) -> Vec<String> {
    let is_ref = |f: &str| {
        entity
            .refs
            .iter()
            .any(|x| x.target != entity.name && x.from.contains(&f))
    };
    r.fields
        .iter()
        .filter(|(k, _)| !is_ref(k.get_ref()))
        .flat_map(|(_, d)| def_columns(d.get_ref()))
        .collect()
}

fn def_columns(d: &FieldDef) -> Vec<String> {
    let mut cols: Vec<String> = d.column.iter().cloned().collect();
    cols.extend(d.split.iter().map(|s| s.column.clone()));
    if let Some(Ok(pieces)) = d.template.as_deref().map(template::parse) {
        cols.extend(pieces.into_iter().filter_map(|p| match p {
            Piece::Column(c) => Some(c),
            Piece::Text(_) => None,
        }));
    }
    cols
}

fn record<S: AsRef<str>>(r: &RecordDef, row: &Row<S>) -> Vec<Produced> {
    let name = r.entity.get_ref();
    let Some(entity) = ferry_catalogue::entity(name) else {
        return vec![Produced::Problem(problem(
            "",
            "",
            format!("{name} is not an entity type"),
        ))];
    };
    // A record whose own columns are all empty is not there (phone2 empty: no 2nd phone).
    let cols = content_columns(entity, r);
    if !cols.is_empty() && cols.iter().all(|c| matches!(row.get(c), Ok(None))) {
        return Vec::new();
    }
    let mut fields = Vec::new();
    let mut problems = Vec::new();
    for f in entity.fields {
        match field_value(entity, f.name, f.kind, r, row) {
            Ok(Some(v)) => fields.push(v),
            Ok(None) => {}
            Err(mut p) => {
                p.target = Some(format!("{name}.{}", f.name));
                problems.push(Produced::Problem(p));
            }
        }
    }
    for k in r.fields.keys() {
        if entity.field_def(k.get_ref()).is_none() {
            let msg = format!("{} is not a field of {name}", k.get_ref());
            problems.push(Produced::Problem(problem("", "", msg)));
        }
    }
    let record = Record {
        entity: entity.name,
        fields,
    };
    if problems.is_empty() {
        vec![Produced::Record(record)]
    } else {
        problems.push(Produced::Rejected(record));
        problems
    }
}

fn field_value<S: AsRef<str>>(
    entity: &Entity,
    field: &'static str,
    kind: Kind,
    r: &RecordDef,
    row: &Row<S>,
) -> Got<Option<Value>> {
    let value = |text: String, column: Option<String>, verbatim: bool| Value {
        field,
        text,
        column,
        verbatim,
    };
    let def = r
        .fields
        .iter()
        .find(|(k, _)| k.get_ref() == field)
        .map(|(_, d)| d.get_ref());
    let Some(def) = def else {
        return match &row.source.account {
            Some(a) if entity.account_field == Some(field) => {
                let col = a.get_ref();
                Ok(row.get(col)?.map(|t| value(t, Some(col.clone()), true)))
            }
            _ => Ok(None),
        };
    };
    let (column, raw) = raw_value(def, row)?;
    // A default is a Ferry value: neither mapped nor formatted.
    let Some(raw) = raw else {
        return Ok(def.default.clone().map(|d| value(d, None, false)));
    };
    let from = (!column.is_empty()).then(|| column.clone());
    if let Some(map) = &def.map {
        let key = map_key(&raw);
        return match map.iter().find(|(k, _)| map_key(k) == key) {
            Some((_, v)) => Ok(Some(value(v.clone(), from, false))),
            None => Err(problem(
                &column,
                &raw,
                format!("\"{raw}\" is not in the value map ({})", keys(map)),
            )),
        };
    }
    let plain = def.column.is_some();
    match row.source.columns.get(&column) {
        Some(f) => formatted(&raw, kind, f.get_ref())
            .map(|t| Some(value(t, from, false)))
            .map_err(|m| problem(&column, &raw, m)),
        None => Ok(Some(value(raw, from, plain))),
    }
}

fn keys(map: &std::collections::BTreeMap<String, String>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}

fn formatted(raw: &str, kind: Kind, f: &crate::model::ColumnFormat) -> Result<String, String> {
    let numeric = f.decimal_char.is_some() || f.group_char.is_some() || f.bare_number.is_some();
    match kind {
        Kind::Date if f.format.is_some() => formats::date(raw, f),
        Kind::Money(_) | Kind::Decimal(_) | Kind::Integer { .. } if numeric => {
            formats::number(raw, f)
        }
        Kind::Bool => formats::boolean(raw, f).unwrap_or_else(|| Ok(raw.to_string())),
        _ => Ok(raw.to_string()),
    }
}

/// The column a value came from (empty for constants and templates) and the value, if any.
fn raw_value<S: AsRef<str>>(def: &FieldDef, row: &Row<S>) -> Got<(String, Option<String>)> {
    if let Some(c) = &def.column {
        return Ok((c.clone(), row.get(c)?));
    }
    if let Some(v) = &def.value {
        return Ok((String::new(), Some(v.clone())));
    }
    if let Some(s) = &def.split {
        return Ok((s.column.clone(), split(s, row.get(&s.column)?)));
    }
    if let Some(t) = &def.template {
        return Ok((String::new(), joined(t, row)?));
    }
    Ok((String::new(), None))
}

fn split(s: &Split, v: Option<String>) -> Option<String> {
    let v = v?;
    let part = match s.max {
        Some(max) => v
            .splitn(max, s.separator.as_str())
            .nth(s.part.checked_sub(1)?)?,
        None => v.split(s.separator.as_str()).nth(s.part.checked_sub(1)?)?,
    };
    let part = part.trim();
    (!part.is_empty()).then(|| part.to_string())
}

/// A template's text with its columns; `None` when every column is empty.
fn joined<S: AsRef<str>>(t: &str, row: &Row<S>) -> Got<Option<String>> {
    let pieces = template::parse(t).map_err(|m| problem("", t, m))?;
    let (mut out, mut any) = (String::new(), false);
    for p in pieces {
        match p {
            Piece::Text(s) => out.push_str(&s),
            Piece::Column(c) => {
                if let Some(v) = row.get(&c)? {
                    any = true;
                    out.push_str(&v);
                }
            }
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((any && !out.is_empty()).then_some(out))
}
