//! The target database: schema and migrations, entity rows with their run and source location,
//! the run journal, and transactions in chunks. SQLite (a file, no server) is the embedded
//! backend, PostgreSQL (a `postgres://` URL) the production one; both implement one
//! [`backend::Backend`] trait that [`Target`] delegates to, and their errors are classified by
//! the same kinds so callers treat every backend alike.

mod backend;
pub mod cells;
mod deferred;
mod error;
pub mod fold;
pub(crate) mod guard;
mod handoff;
mod init;
pub mod journal;
mod ledger_scan;
mod open;
mod pending;
pub mod pg;
mod postgres;
pub mod query_guard;
mod rows;
pub mod saved_query;
pub mod schema;
mod sqlite;
mod statements;
pub mod test_hooks;
pub mod upgrade;
pub(crate) mod writer;

pub use cells::Cell;
pub use error::{Result, StoreError};
pub use guard::{Tx, WriterRole};
pub use postgres::tls;
pub use statements::Row;

use handoff::Conn;
use pending::{Pending, Shape};
use std::cell::{Cell as Flag, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a stored row came from.
#[derive(Debug, Clone, Default)]
pub struct RowMeta {
    pub run_id: Option<i64>,
    pub file: Option<String>,
    pub sheet: Option<String>,
    pub row: Option<i64>,
    /// The column as shown (a letter in a workbook, a number elsewhere).
    pub col: Option<String>,
}

/// Where the target lives.
enum Place {
    File(PathBuf),
    /// A PostgreSQL URL as shown (without its password).
    Server(String),
}

/// An open target. It is `Send` (a console may keep a few in a pool and hand one to a request
/// at a time), not `Sync`: one thread uses it at a time.
pub struct Target {
    /// The connection, shared with the writer thread (see `handoff.rs`).
    backend: Conn,
    place: Place,
    /// The file's identity when it was opened.
    opened: Option<(u64, u64)>,
    /// Insert shapes by (entity, derived columns given): built once, not per row.
    shapes: RefCell<HashMap<(&'static str, usize), Arc<Shape>>>,
    /// Rows queued for the bulk path, written before anything could see them missing.
    pending: RefCell<Pending>,
    /// Whether this connection holds the writer role (see `writer.rs`).
    holds_writer: Flag<bool>,
    /// Whether full queues go to the writer thread: inside a transaction begun by
    /// [`Target::transaction`] (see `handoff.rs`).
    overlap: Flag<bool>,
    /// Rows per hand-off to the writer thread.
    handoff_rows: Flag<usize>,
}

impl Target {
    fn new(backend: Box<dyn backend::Backend>, place: Place) -> Target {
        let opened = match &place {
            Place::File(p) => sqlite::file_identity(p),
            Place::Server(_) => None,
        };
        let handoff = test_hooks::handoff_rows().unwrap_or(match place {
            Place::File(_) => pending::HANDOFF_ROWS,
            Place::Server(_) => pending::HANDOFF_ROWS_SERVER,
        });
        Target {
            backend: Conn::new(backend),
            place,
            opened,
            shapes: RefCell::default(),
            pending: RefCell::default(),
            holds_writer: Flag::new(false),
            overlap: Flag::new(false),
            handoff_rows: Flag::new(handoff),
        }
    }

    /// The target's file, for a SQLite target.
    pub fn file(&self) -> Option<&Path> {
        match &self.place {
            Place::File(p) => Some(p),
            Place::Server(_) => None,
        }
    }

    /// The target as shown in messages (a path, or a URL without its password).
    pub fn name(&self) -> String {
        match &self.place {
            Place::File(p) => p.display().to_string(),
            Place::Server(u) => u.clone(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.backend.is_postgres()
    }

    /// The backend's name as `ferry upgrade check` shows it (`sqlite`, `postgresql`).
    pub(crate) fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Whether the target is still the one that was opened: for a file, not deleted or
    /// replaced; for a server, the connection is still up.
    pub fn file_unchanged(&self) -> bool {
        match &self.place {
            Place::File(p) => sqlite::file_identity(p) == self.opened,
            Place::Server(_) => self.backend.connected(),
        }
    }

    /// A consistent copy of a SQLite target (online backup). PostgreSQL targets are backed up
    /// with the server's own tools (`pg_dump`); this refuses them.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.backend.backup_to(dest)
    }

    /// The migrations' text for this target's backend, by schema version.
    pub(crate) fn migrations(&self) -> &'static [(i64, &'static str)] {
        self.backend.migrations()
    }
}

impl Drop for Target {
    /// Rows queued outside a transaction are written; inside one they go with it.
    fn drop(&mut self) {
        if !self.in_transaction() {
            let _ = self.flush();
        }
        self.note_held(false);
    }
}

#[cfg(test)]
mod tests {
    /// A target can move to another thread (a console's pool hands one to a request).
    #[test]
    fn a_target_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<super::Target>();
        assert_send::<super::StoreError>();
    }

    /// ... and works there: opened on one thread, used on another, handed back.
    #[test]
    fn a_target_is_used_on_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = super::Target::init(&dir.path().join("t.db")).unwrap();
        let t = std::thread::spawn(move || {
            let version = t.schema_version().unwrap();
            assert_eq!(version, Some(super::schema::SCHEMA_VERSION));
            t
        })
        .join()
        .unwrap();
        assert_eq!(t.int("SELECT 1", &[]).unwrap(), 1);
    }
}
