//! How a record's values become table cells and back (exact money, canonical text).

use crate::schema::field_columns;
use ferry_catalogue::{Entity, Field, Kind};
use ferry_validate::values::{decimal_text, money_text};
use ferry_validate::Value;
use rust_decimal::Decimal;

/// One stored cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Int(v as i64)
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(v.to_string())
    }
}
impl<T: Clone + Into<Cell>> From<&T> for Cell {
    fn from(v: &T) -> Cell {
        v.clone().into()
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map(Into::into).unwrap_or(Cell::Null)
    }
}

/// Statement parameters: `params![run, name, None::<i64>]`.
#[macro_export]
macro_rules! params {
    ($($x:expr),* $(,)?) => { &[$($crate::Cell::from($x)),*] };
}

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Cell::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Cell::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Cell::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Cell::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl rusqlite::types::FromSql for Cell {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        use rusqlite::types::ValueRef;
        Ok(match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Int(i),
            ValueRef::Real(f) => Cell::Text(f.to_string()),
            ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
            ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        })
    }
}

/// Money in ten-thousandths; `None` when it does not fit (the value rules keep it far inside).
pub fn money_e4(d: Decimal) -> Option<i64> {
    let scaled = d.checked_mul(Decimal::from(10_000))?;
    if scaled.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(scaled).ok()
}

pub fn money_from_e4(i: i64) -> Decimal {
    Decimal::new(i, 4)
}

/// The column names of an entity's fields, in table order.
pub fn field_column_names(e: &Entity) -> Vec<String> {
    e.fields
        .iter()
        .flat_map(|f| {
            field_columns(f.kind, &f.column())
                .into_iter()
                .map(|(c, _)| c)
        })
        .collect()
}

/// A record's values as cells, in table order.
pub fn to_cells(e: &Entity, values: &[Option<Value>]) -> Vec<Cell> {
    let mut out = Vec::with_capacity(values.len() + 2);
    for (f, v) in e.fields.iter().zip(values) {
        push_cells(f, v.as_ref(), &mut out);
    }
    out
}

fn push_cells(f: &Field, v: Option<&Value>, out: &mut Vec<Cell>) {
    let text = |v: Option<&Value>| v.map(|v| Cell::Text(v.canonical())).unwrap_or(Cell::Null);
    match f.kind {
        Kind::Password | Kind::SecretNumber => {}
        Kind::Phone => match v {
            Some(Value::Phone { given, e164 }) => {
                out.push(Cell::Text(given.clone()));
                out.push(e164.clone().map(Cell::Text).unwrap_or(Cell::Null));
            }
            _ => {
                out.push(text(v));
                out.push(Cell::Null);
            }
        },
        Kind::Money(_) => out.push(match v {
            Some(Value::Decimal(d)) => money_e4(*d).map(Cell::Int).unwrap_or(Cell::Null),
            _ => Cell::Null,
        }),
        Kind::Integer { .. } => out.push(match v {
            Some(Value::Int(i)) => Cell::Int(*i),
            _ => Cell::Null,
        }),
        Kind::Bool => out.push(match v {
            Some(Value::Bool(b)) => Cell::Int(*b as i64),
            _ => Cell::Null,
        }),
        _ => out.push(text(v)),
    }
}

/// The stored fields of a row as canonical text, one entry per catalogue field (`None` for
/// not given and for secrets), from the row's field cells in table order.
pub fn to_texts(e: &Entity, cells: &[Cell]) -> Vec<Option<String>> {
    let mut out = Vec::with_capacity(e.fields.len());
    let mut i = 0;
    for f in e.fields {
        let n = field_columns(f.kind, &f.column()).len();
        let c = cells.get(i);
        i += n;
        if n == 0 {
            out.push(None);
            continue;
        }
        out.push(match (f.kind, c) {
            (_, None) | (_, Some(Cell::Null)) => None,
            (Kind::Money(_), Some(Cell::Int(m))) => Some(money_text(money_from_e4(*m))),
            (Kind::Bool, Some(Cell::Int(b))) => {
                Some(if *b != 0 { "true" } else { "false" }.to_string())
            }
            (Kind::Decimal(_), Some(Cell::Text(t))) => Some(
                t.parse::<Decimal>()
                    .map(decimal_text)
                    .unwrap_or_else(|_| t.clone()),
            ),
            (_, Some(Cell::Int(n))) => Some(n.to_string()),
            (_, Some(Cell::Text(t))) => Some(t.clone()),
            (_, Some(Cell::Blob(b))) => Some(String::from_utf8_lossy(b).into_owned()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_is_exact() {
        for s in ["12345678901234.89", "0.0001", "-5", "12.30"] {
            let d = Decimal::from_str(s).unwrap();
            assert_eq!(money_from_e4(money_e4(d).unwrap()), d);
        }
        assert_eq!(money_text(money_from_e4(123000)), "12.30");
    }
}
