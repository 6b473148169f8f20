//! PostgreSQL's errors by the store's portable kinds (see [`crate::StoreError`]).

use crate::StoreError;
use std::error::Error as StdError;

/// The full text of a driver error (its source carries the server's message).
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            s
        }
        None => match e.source() {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// The same kinds as SQLite's errors (see [`StoreError::classify`]).
pub fn classify(e: postgres::Error, shown: &str) -> StoreError {
    if let Some(why) = crate::tls::explain(&e) {
        return StoreError::Tls(format!("{shown}: {why}"));
    }
    let text = format!("{shown}: {}", describe(&e));
    let Some(code) = e.code() else {
        return if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
            StoreError::Unreachable(text)
        } else {
            StoreError::Other(text)
        };
    };
    let c = code.code();
    match c {
        "40001" | "40P01" | "55P03" | "55006" => StoreError::Busy(text),
        "25006" | "42501" => StoreError::ReadOnly(text),
        "53100" => StoreError::DiskFull(text),
        "XX001" | "XX002" => StoreError::Corrupt(text),
        "3D000" => StoreError::Missing(shown.to_string()),
        _ if c.starts_with("23") => StoreError::Constraint(text),
        _ if c.starts_with("08") || c.starts_with("57P") => StoreError::Unreachable(text),
        _ => StoreError::Other(text),
    }
}
