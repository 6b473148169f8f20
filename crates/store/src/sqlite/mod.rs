//! The SQLite backend: a target in a file, no server.

mod bulk;
mod conn;
mod error;
mod file;
mod lock;
mod query;
mod streams;
mod upgrade;

pub(crate) use conn::Sqlite;
pub(crate) use error::classify;
pub(crate) use file::{file_identity, private_file};
pub(crate) use query::run_query;
