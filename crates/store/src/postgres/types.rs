//! How cells travel over PostgreSQL's wire: [`Cell`] as a parameter and as a column value.

use crate::Cell;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use rust_decimal::Decimal;
use std::error::Error as StdError;
use std::str::FromStr;

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let bad = || -> Box<dyn StdError + Sync + Send> {
            format!("a value of this kind cannot be stored as {ty}").into()
        };
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(&Type::TEXT, out),
            },
            Cell::Text(s) => match *ty {
                Type::INT8 => s.parse::<i64>().map_err(|_| bad())?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>().map_err(|_| bad())?.to_sql(ty, out),
                Type::NUMERIC => Decimal::from_str(s).map_err(|_| bad())?.to_sql(ty, out),
                Type::BOOL => matches!(s.as_str(), "1" | "true" | "t").to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                // PostgreSQL text cannot hold NUL. Values with control characters never reach a
                // table (value.control_char rejects them); a finding quoting one shows U+FFFD.
                _ if s.contains('\0') => s
                    .replace('\0', "\u{FFFD}")
                    .as_str()
                    .to_sql(&Type::TEXT, out),
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Cell::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => String::from_utf8_lossy(b).as_ref().to_sql(&Type::TEXT, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cell, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i32::from_sql(ty, raw)? as i64),
            Type::INT2 => Cell::Int(i16::from_sql(ty, raw)? as i64),
            Type::OID => Cell::Int(u32::from_sql(ty, raw)? as i64),
            Type::BOOL => Cell::Int(bool::from_sql(ty, raw)? as i64),
            Type::NUMERIC => {
                let d = Decimal::from_sql(ty, raw)?;
                match (d.fract().is_zero(), i64::try_from(d)) {
                    (true, Ok(i)) => Cell::Int(i),
                    _ => Cell::Text(d.normalize().to_string()),
                }
            }
            Type::FLOAT8 => Cell::Text(f64::from_sql(ty, raw)?.to_string()),
            Type::FLOAT4 => Cell::Text(f32::from_sql(ty, raw)?.to_string()),
            Type::BYTEA => Cell::Blob(raw.to_vec()),
            // jsonb's binary form is a version byte, then the text.
            Type::JSONB => {
                Cell::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or(&[])).into_owned())
            }
            _ => Cell::Text(String::from_utf8_lossy(raw).into_owned()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Cell, Box<dyn StdError + Sync + Send>> {
        Ok(Cell::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}
