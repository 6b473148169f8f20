//! The one trait a database backend implements (as sqlx's per-database traits): statements,
//! transactions, bulk writes, merged streaming reads, and the few statements whose text differs
//! between backends. [`crate::Target`] delegates to it; it never asks which backend it has.

use crate::upgrade::Object;
use crate::writer::Holder;
use crate::{Cell, Result, Row, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Reads the next row of stream `i` (`None` when it is done).
pub(crate) type NextRow<'a> = dyn FnMut(usize) -> Result<Option<Row>> + 'a;

/// What a merged read does with its streams: pulls rows from them in the order it chooses.
pub(crate) type StreamsBody<'a> = dyn FnMut(&mut NextRow<'_>) -> Result<()> + 'a;

/// A connection to one target database. Every call takes `&self`: a backend keeps its own
/// mutable state (statement caches, the transaction flag) inside, so that a row callback of
/// [`Backend::each`] may run statements where the driver allows it (SQLite does).
pub(crate) trait Backend: Send {
    /// Which backend this is, as `ferry upgrade check` names it.
    fn name(&self) -> &'static str;
    /// Whether this is the PostgreSQL backend (for the few rules that differ, such as the writer
    /// lock).
    fn is_postgres(&self) -> bool;

    /// Runs several statements without parameters.
    fn batch(&self, sql: &str) -> Result<()>;
    /// Runs a statement written in the shared dialect (`?N` placeholders); returns the rows
    /// changed.
    fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize>;
    /// Calls `f` with every row of a query, as the rows are read.
    fn each(&self, sql: &str, params: &[Cell], f: &mut dyn FnMut(&Row) -> Result<()>)
        -> Result<()>;

    /// Begins a transaction (on SQLite `BEGIN IMMEDIATE`).
    fn begin(&self) -> Result<()>;
    fn commit(&self) -> Result<()>;
    /// Commits one chunk of a run that a later commit of the same run makes durable on its own
    /// (see [`crate::Tx::commit_then_begin`]): a backend may then skip waiting for the disk.
    fn commit_chunk(&self) -> Result<()> {
        self.commit()
    }
    /// Rolls back the open transaction, if there is one.
    fn rollback(&self) -> Result<()>;
    fn in_transaction(&self) -> bool;

    /// Writes rows (`columns.len()` cells each, one after another) in bulk: multi-row INSERTs
    /// on SQLite, binary COPY on PostgreSQL.
    fn write_rows(&self, table: &str, columns: &[String], cells: &[Cell]) -> Result<()>;
    /// [`Target::upsert`] of all `rows` in one statement, if the backend has a way (PostgreSQL:
    /// one array per column, `unnest`ed); `false` leaves them to multi-row statements.
    fn bulk_upsert(&self, _upsert: &Upsert<'_>, _rows: &[Vec<Cell>]) -> Result<bool> {
        Ok(false)
    }

    /// Reads the queries `sqls` side by side, one stream each, memory staying flat, and lets
    /// `body` pull their rows. `target` is the target this backend belongs to.
    fn streams(&self, target: &Target, sqls: &[String], body: &mut StreamsBody<'_>) -> Result<()>;

    /// Whether the connection is still up (a file target is always connected).
    fn connected(&self) -> bool;
    /// A consistent copy of the database in the file `dest`.
    fn backup_to(&self, dest: &Path) -> Result<()>;

    /// The migrations' text for this backend, by schema version.
    fn migrations(&self) -> &'static [(i64, &'static str)];
    /// A query of the number of tables of the target (no parameters).
    fn count_tables_sql(&self) -> &'static str;
    /// A query of the number of tables named `?1`.
    fn has_table_sql(&self) -> &'static str;
    /// The statement that waits for (and, exclusive, takes until the transaction ends) the lock
    /// that serialises creating the schema, if the backend needs one besides its write lock.
    fn init_lock_sql(&self, exclusive: bool) -> Option<&'static str>;

    /// `ferry upgrade`: the schema objects of the target `t` (on this backend).
    fn schema_objects(&self, t: &Target) -> Result<Vec<Object>>;
    /// `ferry upgrade`: the objects of Ferry's own schema at `version`, built where they cannot
    /// touch the target `t`.
    fn expected_objects(&self, t: &Target, version: i64) -> Result<Vec<Object>>;
    /// Before migrations that remove values: what makes the removed values unreadable later.
    fn before_scrub(&self, t: &Target) -> Result<()>;
    /// After them: nothing of the old row versions of `tables` stays in the target's files.
    /// Returns what could not be scrubbed, with why.
    fn scrub(&self, t: &Target, tables: &BTreeSet<String>) -> BTreeMap<String, String>;

    /// Takes the lock that goes with the `writer` record, before the record is read (PostgreSQL's
    /// advisory lock; on SQLite the record, written in a `BEGIN IMMEDIATE` transaction, is the
    /// lock).
    fn lock_writer(&self, t: &Target) -> Result<()>;
    /// Gives that lock back.
    fn unlock_writer(&self, t: &Target) -> Result<()>;
    /// Whether the holder the `writer` record names is alive, so that the record refuses a new
    /// writer (on PostgreSQL the lock has refused already: false).
    fn record_holder_alive(&self, t: &Target, h: &Holder) -> bool;
    /// Whether another process `pid` that started a run may still be running it.
    fn writer_process_alive(&self, t: &Target, pid: i64) -> bool;
}

/// What [`Target::upsert`](crate::Target::upsert) writes into: the table, its columns (one cell
/// of each per row), the conflict key and the `DO UPDATE SET` clause.
pub(crate) struct Upsert<'a> {
    pub table: &'a str,
    pub columns: &'a [&'a str],
    pub key: &'a [&'a str],
    pub set: &'a str,
}
