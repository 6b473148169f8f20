//! The PostgreSQL backend: a target in a database of a server, named by a `postgres://` URL.

mod admin;
mod conn;
mod copy;
mod dialect;
mod error;
mod lock;
mod query;
mod streams;
pub mod tls;
mod types;
mod upgrade;
mod url;

pub use admin::{copy_database, drop_database};
pub(crate) use conn::Pg;
pub use dialect::ddl;
pub(crate) use query::run_query;
pub(crate) use url::parse_session_name;
pub use url::{dbname, host, is_url, shown, with_dbname};

use crate::backend::{Backend, StreamsBody, Upsert};
use crate::upgrade::Object;
use crate::writer::Holder;
use crate::{schema, Cell, Result, Row, StoreError, Target};
use std::cell::{RefCell, RefMut};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The advisory-lock key of the writer lock ("FERRYWRT" as a number).
pub const WRITER_LOCK: i64 = 0x4645_5252_5957_5254;

/// The advisory-lock key that serialises creating the schema in an empty database
/// ("FERRYINI" as a number).
pub const INIT_LOCK: i64 = 0x4645_5252_5949_4E49;

/// An open PostgreSQL target. The connection is borrowed for one statement at a time: a
/// statement started while the rows of another are being read is refused.
pub(crate) struct Postgres {
    pg: RefCell<Pg>,
}

impl Postgres {
    /// Connects to the database of `url`; with `create`, one that does not exist is created.
    pub(crate) fn connect(url: &str, create: bool) -> Result<Postgres> {
        Ok(Postgres {
            pg: RefCell::new(Pg::connect(url, create)?),
        })
    }

    /// The URL as shown in messages (no password).
    pub(crate) fn shown(&self) -> String {
        self.pg.borrow().shown.clone()
    }

    fn pg(&self) -> Result<RefMut<'_, Pg>> {
        self.pg.try_borrow_mut().map_err(|_| {
            StoreError::Other(
                "internal: a statement was started while the rows of another were being read"
                    .into(),
            )
        })
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgresql"
    }
    fn is_postgres(&self) -> bool {
        true
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.pg()?.batch(sql)
    }

    fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        self.pg()?.exec(sql, params)
    }

    fn each(
        &self,
        sql: &str,
        params: &[Cell],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.pg()?.each(sql, params, f)
    }

    fn begin(&self) -> Result<()> {
        let mut p = self.pg()?;
        p.batch("BEGIN")?;
        p.in_tx = true;
        Ok(())
    }
    fn commit(&self) -> Result<()> {
        let mut p = self.pg()?;
        // A failed COMMIT ends the transaction too (it is rolled back).
        p.in_tx = false;
        p.batch("COMMIT")
    }
    fn commit_chunk(&self) -> Result<()> {
        let mut p = self.pg()?;
        p.in_tx = false;
        // One round trip; the setting ends with the transaction. Why a chunk may commit without
        // waiting for the WAL to reach the disk: `Tx::commit_then_begin`. A crash of Ferry
        // loses nothing committed: the server has it.
        let done = p.batch("SET LOCAL synchronous_commit = off; COMMIT");
        if done.is_err() {
            // The SET failed (an aborted transaction) and the COMMIT never ran: end it here, as
            // a failed COMMIT would have.
            let _ = p.batch("ROLLBACK");
        }
        done
    }
    fn rollback(&self) -> Result<()> {
        let mut p = self.pg()?;
        if p.in_tx {
            p.in_tx = false;
            p.batch("ROLLBACK")?;
        }
        Ok(())
    }
    fn in_transaction(&self) -> bool {
        self.pg.try_borrow().map(|c| c.in_tx).unwrap_or(true)
    }

    fn write_rows(&self, table: &str, columns: &[String], cells: &[Cell]) -> Result<()> {
        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
        self.pg()?.copy_in(table, &cols, cells)
    }

    fn bulk_upsert(&self, upsert: &Upsert<'_>, rows: &[Vec<Cell>]) -> Result<bool> {
        self.pg()?.upsert(upsert, rows)?;
        Ok(true)
    }

    fn streams(&self, target: &Target, sqls: &[String], body: &mut StreamsBody<'_>) -> Result<()> {
        self.cursor_streams(target, sqls, body)
    }

    fn connected(&self) -> bool {
        self.pg
            .try_borrow()
            .map(|c| !c.client.is_closed())
            .unwrap_or(true)
    }

    fn backup_to(&self, _: &Path) -> Result<()> {
        Err(StoreError::Other(
            "a PostgreSQL target is backed up with pg_dump, not by Ferry".into(),
        ))
    }

    fn migrations(&self) -> &'static [(i64, &'static str)] {
        schema::MIGRATIONS_PG
    }
    fn count_tables_sql(&self) -> &'static str {
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
    }
    fn has_table_sql(&self) -> &'static str {
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1"
    }
    fn init_lock_sql(&self, exclusive: bool) -> Option<&'static str> {
        Some(if exclusive {
            "SELECT pg_advisory_xact_lock(?1)"
        } else {
            "SELECT pg_advisory_xact_lock_shared(?1)"
        })
    }

    fn schema_objects(&self, t: &Target) -> Result<Vec<Object>> {
        upgrade::schema_objects(t)
    }
    fn expected_objects(&self, t: &Target, version: i64) -> Result<Vec<Object>> {
        upgrade::expected_objects(t, version)
    }
    fn before_scrub(&self, _: &Target) -> Result<()> {
        Ok(())
    }
    fn scrub(&self, t: &Target, tables: &BTreeSet<String>) -> BTreeMap<String, String> {
        upgrade::scrub(t, tables)
    }

    fn lock_writer(&self, t: &Target) -> Result<()> {
        t.advisory_writer_lock()
    }
    fn unlock_writer(&self, t: &Target) -> Result<()> {
        t.advisory_writer_unlock()
    }
    fn record_holder_alive(&self, _: &Target, _: &Holder) -> bool {
        false
    }
    fn writer_process_alive(&self, t: &Target, pid: i64) -> bool {
        t.pg_writer_alive(pid)
    }
}
