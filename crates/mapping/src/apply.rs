//! Applies a bound source to one row: filters, then each record's fields as text in Ferry's
//! canonical forms (ISO dates, `1234.50` amounts), or the problems that stop it.

use crate::bind::{
    Bound, BoundField, BoundFilter, BoundRecord, ColId, Origin, Part, Ready, SplitAt, Test,
};
use crate::check::map_key;
use crate::formats;
use crate::model::{ColumnFormat, Source};
use ferry_catalogue::Kind;

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

type Got<T> = Result<T, RowProblem>;

fn problem(column: &str, value: &str, message: String) -> RowProblem {
    RowProblem {
        target: None,
        column: column.to_string(),
        value: value.to_string(),
        message,
    }
}

impl Source {
    /// The records and problems one row gives; nothing when a filter drops the row (see
    /// [`Source::dropped_by`]). `headers` and `row` are the source's header and one data row.
    /// Binds the source to `headers` each time: for many rows, [`Source::bind`] once and
    /// [`Bound::apply`] each row.
    pub fn apply<S: AsRef<str>>(&self, headers: &[S], row: &[S]) -> Vec<Produced> {
        self.bind(headers).apply(row)
    }

    /// Why a filter drops this row, if one does (for a preview).
    pub fn dropped_by<S: AsRef<str>>(&self, headers: &[S], row: &[S]) -> Option<String> {
        self.bind(headers).dropped_by(row)
    }

    /// The columns this source reads that `headers` lacks (report once per source).
    pub fn missing_columns<S: AsRef<str>>(&self, headers: &[S]) -> Vec<String> {
        self.bind(headers).missing_columns()
    }

    /// Every column the source reads, sorted (every group of a repeated record).
    pub fn read_columns(&self) -> Vec<String> {
        self.bind::<&str>(&[]).read_columns()
    }
}

impl Bound {
    /// The records and problems one row gives, in the order of the mapping's records (a
    /// repeated record's groups in the order of its `each`); nothing when a filter drops the
    /// row (see [`Bound::dropped_by`]).
    pub fn apply<S: AsRef<str>>(&self, row: &[S]) -> Vec<Produced> {
        match self.drop_reason(row) {
            Ok(Some(_)) => return Vec::new(),
            Ok(None) => {}
            Err(p) => return vec![Produced::Problem(p)],
        }
        let mut out = Vec::new();
        for r in &self.records {
            match r {
                BoundRecord::Ready(r) => self.record(r, row, &mut out),
                BoundRecord::Broken(messages) => out.extend(
                    messages
                        .iter()
                        .map(|m| Produced::Problem(problem("", "", m.clone()))),
                ),
            }
        }
        out
    }

    /// Why a filter drops this row, if one does (for a preview).
    pub fn dropped_by<S: AsRef<str>>(&self, row: &[S]) -> Option<String> {
        self.drop_reason(row).ok().flatten()
    }

    fn drop_reason<S: AsRef<str>>(&self, row: &[S]) -> Got<Option<String>> {
        for f in &self.keep {
            if !self.holds(f, row)? {
                return Ok(Some(format!("kept only where {}", f.text)));
            }
        }
        for f in &self.skip {
            if self.holds(f, row)? {
                return Ok(Some(format!("skipped where {}", f.text)));
            }
        }
        Ok(None)
    }

    fn holds<S: AsRef<str>>(&self, f: &BoundFilter, row: &[S]) -> Got<bool> {
        let v = self.cell(row, f.column)?;
        let key = v.map(map_key);
        Ok(match &f.test {
            Test::Equals(e) => key.as_ref() == Some(e),
            Test::OneOf(set) => key.is_some_and(|k| set.contains(&k)),
            Test::Empty(e) => *e == v.is_none(),
            Test::Never => false,
        })
    }

    /// The trimmed cell of a column; `None` when it is empty or a missing-value marker.
    fn cell<'r, S: AsRef<str>>(&self, row: &'r [S], c: ColId) -> Got<Option<&'r str>> {
        let col = &self.columns[c];
        let i = col.index.ok_or_else(|| {
            let msg = format!("the source {} has no column {}", self.label, col.name);
            problem(&col.name, "", msg)
        })?;
        let cell = row.get(i).map_or("", |c| c.as_ref()).trim();
        let missing = cell.is_empty() || col.missing.iter().any(|m| m == cell);
        Ok((!missing).then_some(cell))
    }

    fn record<S: AsRef<str>>(&self, r: &Ready, row: &[S], out: &mut Vec<Produced>) {
        // A record whose own columns are all empty is not there (phone2 empty: no 2nd phone).
        let empty = |c: &ColId| matches!(self.cell(row, *c), Ok(None));
        if !r.content.is_empty() && r.content.iter().all(empty) {
            return;
        }
        let mut fields = Vec::with_capacity(r.fields.len());
        let mut problems = Vec::new();
        for f in &r.fields {
            match self.value(f, row) {
                Ok(Some(v)) => fields.push(v),
                Ok(None) => {}
                Err(mut p) => {
                    p.target = Some(format!("{}.{}", r.entity.name, f.field));
                    problems.push(Produced::Problem(p));
                }
            }
        }
        let record = Record {
            entity: r.entity.name,
            fields,
        };
        if problems.is_empty() {
            out.push(Produced::Record(record));
        } else {
            out.extend(problems);
            out.push(Produced::Rejected(record));
        }
    }

    fn value<S: AsRef<str>>(&self, f: &BoundField, row: &[S]) -> Got<Option<Value>> {
        let value = |text: String, column: Option<ColId>, verbatim: bool| Value {
            field: f.field,
            text,
            column: column.map(|c| self.columns[c].name.clone()),
            verbatim,
        };
        let owned = |v: Option<&str>| v.map(str::to_string);
        let (column, raw) = match &f.from {
            Origin::Account(c) => {
                return Ok(self.cell(row, *c)?.map(|t| value(t.into(), Some(*c), true)))
            }
            Origin::Column(c) => (Some(*c), owned(self.cell(row, *c)?)),
            Origin::Value(v) => (None, Some(v.clone())),
            Origin::Split(s) => (Some(s.column), split(s, self.cell(row, s.column)?)),
            Origin::Template(parts) => (None, self.joined(parts, row)?),
            Origin::BadTemplate(t, m) => return Err(problem("", t, m.clone())),
            Origin::Nothing => (None, None),
        };
        // A default is a Ferry value: neither mapped nor formatted.
        let Some(raw) = raw else {
            return Ok(f.default.clone().map(|d| value(d, None, false)));
        };
        let name = column.map_or("", |c| self.columns[c].name.as_str());
        if let Some(map) = &f.map {
            let key = map_key(&raw);
            return match map.entries.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => Ok(Some(value(v.clone(), column, false))),
                None => Err(problem(
                    name,
                    &raw,
                    format!("\"{raw}\" is not in the value map ({})", map.keys),
                )),
            };
        }
        let plain = matches!(f.from, Origin::Column(_));
        match column.and_then(|c| self.columns[c].format.as_ref()) {
            Some(fmt) => formatted(&raw, f.kind, fmt)
                .map(|t| Some(value(t, column, false)))
                .map_err(|m| problem(name, &raw, m.to_string())),
            None => Ok(Some(value(raw, column, plain))),
        }
    }

    /// A template's text with its columns; `None` when every column is empty.
    fn joined<S: AsRef<str>>(&self, parts: &[Part], row: &[S]) -> Got<Option<String>> {
        let (mut out, mut any) = (String::new(), false);
        for p in parts {
            match p {
                Part::Text(s) => out.push_str(s),
                Part::Column(c) => {
                    if let Some(v) = self.cell(row, *c)? {
                        any = true;
                        out.push_str(v);
                    }
                }
            }
        }
        let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        Ok((any && !out.is_empty()).then_some(out))
    }
}

fn formatted(raw: &str, kind: Kind, f: &ColumnFormat) -> Result<String, formats::FormatError> {
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

/// The part of a split cell; `None` when the cell is empty or has no such part.
fn split(s: &SplitAt, v: Option<&str>) -> Option<String> {
    let (v, n) = (v?, s.part.checked_sub(1)?);
    let part = match s.max {
        Some(max) => v.splitn(max, s.separator.as_str()).nth(n)?,
        None => v.split(s.separator.as_str()).nth(n)?,
    };
    let part = part.trim();
    (!part.is_empty()).then(|| part.to_string())
}
