//! SQLite's errors by the store's portable kinds (see [`crate::StoreError`]).

use crate::StoreError;

/// The kind of a SQLite error.
pub(crate) fn classify(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode as C;
    let text = e.to_string();
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => StoreError::Busy(text),
        Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied) => StoreError::ReadOnly(text),
        Some(C::DiskFull) => StoreError::DiskFull(text),
        Some(C::DatabaseCorrupt | C::NotADatabase) => StoreError::Corrupt(text),
        Some(C::ConstraintViolation) => StoreError::Constraint(text),
        _ => StoreError::Other(text),
    }
}

/// The kind of an error met opening the file `path` (shown as `shown`), named after it.
pub(crate) fn opening(path: &std::path::Path, shown: &str, e: rusqlite::Error) -> StoreError {
    match classify(e) {
        StoreError::Corrupt(m) => StoreError::Corrupt(format!("{shown}: {m}")),
        StoreError::Other(m) if path.is_dir() => StoreError::CannotOpen(format!("{shown} ({m})")),
        StoreError::ReadOnly(_) if !path.exists() || path.is_dir() => {
            StoreError::CannotOpen(shown.to_string())
        }
        StoreError::ReadOnly(m) => StoreError::ReadOnly(format!("{shown}: {m}")),
        other => other,
    }
}
