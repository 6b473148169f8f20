//! The SQLite connection: opening a target file with Ferry's settings, and the [`Backend`]
//! calls on it.

use super::error::opening;
use super::{bulk, private_file, streams};
use crate::backend::{Backend, StreamsBody};
use crate::journal;
use crate::upgrade::Object;
use crate::writer::Holder;
use crate::{schema, Cell, Result, Row, StoreError, Target};
use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// An open SQLite target.
pub(crate) struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Wraps an open connection.
    pub(crate) fn new(conn: Connection) -> Sqlite {
        // Room for the multi-row INSERTs of every table shape.
        conn.set_prepared_statement_cache_capacity(256);
        Sqlite { conn }
    }

    /// Opens the file `path` (with `create`, a missing one is made, private to its owner).
    pub(crate) fn connect(path: &Path, create: bool) -> Result<Sqlite> {
        let flags = if create {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let shown = path.display().to_string();
        let named = |e: rusqlite::Error| opening(path, &shown, e);
        if path.is_dir() {
            return Err(StoreError::CannotOpen(shown));
        }
        if create {
            // A new target holds password hashes and member data: only its owner reads it
            // (SQLite gives its -wal and -shm files the database file's permissions).
            private_file(path, false)
                .map_err(|e| StoreError::CannotOpen(format!("{shown}: {e}")))?;
        }
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(named)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(named)?;
        crate::fold::register(&conn).map_err(named)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;")
            .map_err(named)?;
        // Checkpoints every 8,192 pages (32 MiB of WAL at the 4 KiB page size) instead of 1,000:
        // a bulk load rewrites the same last pages of each table and index many times between
        // two checkpoints, and each page is copied back once per checkpoint. Durability is the
        // WAL's either way (a checkpoint only moves committed pages into the main file), and
        // the WAL file is cut back to 64 MiB when it is reset.
        conn.execute_batch("PRAGMA wal_autocheckpoint=8192; PRAGMA journal_size_limit=67108864;")
            .map_err(named)?;
        // Test hook (fault injection): a tiny database size limit behaves like a full disk.
        if let Some(pages) = crate::test_hooks::max_pages() {
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}"))
                .map_err(named)?;
        }
        Ok(Sqlite::new(conn))
    }
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn is_postgres(&self) -> bool {
        false
    }

    fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .execute(params_from_iter(params.iter()))?)
    }

    fn each(
        &self,
        sql: &str,
        params: &[Cell],
        f: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(params_from_iter(params.iter()))?;
        while let Some(r) = rows.next()? {
            let row = Row((0..n)
                .map(|i| r.get::<_, Cell>(i))
                .collect::<rusqlite::Result<_>>()?);
            f(&row)?;
        }
        Ok(())
    }

    fn begin(&self) -> Result<()> {
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }
    fn commit(&self) -> Result<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }
    fn rollback(&self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn write_rows(&self, table: &str, columns: &[String], cells: &[Cell]) -> Result<()> {
        bulk::write_rows(&self.conn, table, columns, cells)
    }

    fn streams(&self, _: &Target, sqls: &[String], body: &mut StreamsBody<'_>) -> Result<()> {
        streams::streams(&self.conn, sqls, body)
    }

    fn connected(&self) -> bool {
        true
    }

    fn backup_to(&self, dest: &Path) -> Result<()> {
        // A copy is as secret as the target: private before a byte is written.
        private_file(dest, true)
            .map_err(|e| StoreError::Other(format!("{}: {e}", dest.display())))?;
        self.conn.backup(
            rusqlite::MAIN_DB,
            dest,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }

    fn migrations(&self) -> &'static [(i64, &'static str)] {
        schema::MIGRATIONS
    }
    fn count_tables_sql(&self) -> &'static str {
        "SELECT count(*) FROM sqlite_master"
    }
    fn has_table_sql(&self) -> &'static str {
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name = ?1"
    }
    fn init_lock_sql(&self, _exclusive: bool) -> Option<&'static str> {
        None
    }

    fn schema_objects(&self, t: &Target) -> Result<Vec<Object>> {
        super::upgrade::schema_objects(t)
    }
    fn expected_objects(&self, _: &Target, version: i64) -> Result<Vec<Object>> {
        super::upgrade::expected_objects(version)
    }
    fn before_scrub(&self, t: &Target) -> Result<()> {
        super::upgrade::before_scrub(t)
    }
    fn scrub(&self, t: &Target, _: &BTreeSet<String>) -> BTreeMap<String, String> {
        super::upgrade::scrub(t)
    }

    fn lock_writer(&self, _: &Target) -> Result<()> {
        Ok(())
    }
    fn unlock_writer(&self, _: &Target) -> Result<()> {
        Ok(())
    }
    fn record_holder_alive(&self, t: &Target, h: &Holder) -> bool {
        t.sqlite_holder_alive(h)
    }
    fn writer_process_alive(&self, _: &Target, pid: i64) -> bool {
        journal::pid_alive(pid)
    }
}
