//! The PostgreSQL names other crates use (`ferry_store::pg::…`): URLs as shown, database copies
//! for rehearsals, the writer lock's key. They live in [`crate::postgres`].

pub(crate) use crate::postgres::describe;
pub use crate::postgres::{
    classify, copy_database, dbname, ddl, drop_database, host, is_url, parse_session_name,
    session_name, shown, translate, with_dbname, Pg, INIT_LOCK, WRITER_LOCK,
};
