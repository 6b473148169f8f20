//! Opening a target: by `--db` (a SQLite file or a `postgres://` URL), checked for Ferry's
//! schema version, or unchecked for `ferry upgrade`.

use crate::postgres::{self, Postgres};
use crate::schema::SCHEMA_VERSION;
use crate::sqlite::Sqlite;
use crate::{params, Place, Result, StoreError, Target};
use std::path::Path;

impl Target {
    /// Opens an existing target named by `--db`: a SQLite file path or a `postgres://` URL.
    pub fn open_db(db: &str) -> Result<Target> {
        if postgres::is_url(db) {
            Target::server(Postgres::connect(db, false)?).checked()
        } else {
            Target::open(Path::new(db))
        }
    }

    /// Opens an existing target of any schema version (for `ferry upgrade`); it must be a Ferry
    /// target.
    pub fn open_unchecked(db: &str) -> Result<Target> {
        let t = if postgres::is_url(db) {
            Target::server(Postgres::connect(db, false)?)
        } else {
            let path = Path::new(db);
            if !path.exists() {
                return Err(StoreError::Missing(db.to_string()));
            }
            Target::file_at(Sqlite::connect(path, false)?, path)
        };
        match t.schema_version()? {
            None => Err(StoreError::NotATarget(t.name())),
            Some(_) => Ok(t),
        }
    }

    /// Opens an existing SQLite target and checks its schema version.
    pub fn open(path: &Path) -> Result<Target> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        Target::file_at(Sqlite::connect(path, false)?, path).checked()
    }

    /// A target on a PostgreSQL connection.
    pub(crate) fn server(conn: Postgres) -> Target {
        let shown = conn.shown();
        Target::new(Box::new(conn), Place::Server(shown))
    }

    /// A target on a SQLite connection to the file `path`.
    pub(crate) fn file_at(conn: Sqlite, path: &Path) -> Target {
        Target::new(Box::new(conn), Place::File(path.to_path_buf()))
    }

    /// Waits until no other process is creating this target's schema (a target found without
    /// one may be in the middle of its creation): on PostgreSQL for the initialisers' lock, on
    /// SQLite for the write lock. Errors are left to the caller's own check.
    fn wait_for_initialisers(&self) {
        if let Ok(tx) = self.transaction() {
            if let Some(sql) = self.backend.init_lock_sql(false) {
                let _ = tx.exec(sql, params![postgres::INIT_LOCK]);
            }
            // Rolled back: it only waited.
            drop(tx);
        }
    }

    /// Checks the schema version of a just-opened target.
    pub(crate) fn checked(self) -> Result<Target> {
        let version = match self.schema_version()? {
            None => {
                self.wait_for_initialisers();
                self.schema_version()?
            }
            v => v,
        };
        match version {
            None => Err(StoreError::NotATarget(self.name())),
            Some(v) if v != SCHEMA_VERSION => Err(StoreError::VersionMismatch {
                path: self.name(),
                found: v,
                wanted: SCHEMA_VERSION,
            }),
            Some(_) => Ok(self),
        }
    }

    pub(crate) fn has_table(&self, name: &str) -> Result<bool> {
        Ok(self.int(self.backend.has_table_sql(), params![name])? > 0)
    }

    pub fn schema_version(&self) -> Result<Option<i64>> {
        if !self.has_table("ferry_meta")? {
            return Ok(None);
        }
        let v = self
            .first(
                "SELECT value FROM ferry_meta WHERE key='schema_version'",
                &[],
            )?
            .and_then(|r| r.opt_text(0));
        Ok(v.and_then(|v| v.parse().ok()))
    }
}
