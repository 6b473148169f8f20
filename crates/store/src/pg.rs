//! The PostgreSQL names other crates use (`ferry_store::pg::…`): URLs as shown, database copies
//! for rehearsals, the writer lock's key, the
//! PostgreSQL form of the migrations' DDL. They live in the PostgreSQL backend (`postgres/`),
//! whose connection, dialect and wire types stay inside the store.

pub use crate::postgres::{
    copy_database, dbname, ddl, drop_database, host, is_url, shown, with_dbname, INIT_LOCK,
    WRITER_LOCK,
};
