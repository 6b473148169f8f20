//! Creating a target: the schema and the default setup data in a new SQLite file or an empty
//! PostgreSQL database, safe against other processes creating the same target at once.

use crate::postgres::{self, Postgres};
use crate::schema::SCHEMA_VERSION;
use crate::sqlite::{private_file, Sqlite};
use crate::{cells, journal, params, Result, RowMeta, StoreError, Target};
use ferry_catalogue::INIT_DATA;
use std::path::Path;

impl Target {
    /// Creates (or checks) the target named by `--db`; a PostgreSQL database that does not exist
    /// yet is created on the server. Returns whether the target was created.
    pub fn init_db(db: &str) -> Result<(Target, bool)> {
        if !postgres::is_url(db) {
            return Target::init(Path::new(db));
        }
        let t = Target::server(Postgres::connect(db, true)?);
        if t.has_table("ferry_meta")? {
            return t.checked().map(|t| (t, false));
        }
        // Processes that find the database empty at once create the schema one at a time:
        // the others wait for the first and then find a target.
        let created = {
            let tx = t.transaction()?;
            if let Some(sql) = t.backend.init_lock_sql(true) {
                tx.exec(sql, params![postgres::INIT_LOCK])?;
            }
            let created = tx.create_schema_if_empty()?;
            tx.commit()?;
            created
        };
        t.finish_init(created)
    }

    /// Inside the caller's transaction (which serialises initialisers): creates the schema in
    /// an empty database; a database that has it already is left alone (false), one with other
    /// tables is not a target.
    fn create_schema_if_empty(&self) -> Result<bool> {
        if self.has_table("ferry_meta")? {
            return Ok(false);
        }
        if self.int(self.backend.count_tables_sql(), &[])? > 0 {
            return Err(StoreError::NotATarget(self.name()));
        }
        self.create_schema()?;
        Ok(true)
    }

    /// Creates a SQLite target with the schema and the default setup data, or checks an
    /// existing one. Returns whether it was created.
    pub fn init(path: &Path) -> Result<(Target, bool)> {
        let shown = path.display().to_string();
        let made_here = private_file(path, false)
            .map_err(|e| StoreError::CannotOpen(format!("{shown}: {e}")))?;
        // Processes that create one target at the same moment can meet SQLite's "busy" without
        // its busy handler being asked (a database switching to WAL, a read that must become a
        // write): such a meeting is retried, for a while, from a fresh connection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        loop {
            match Self::init_once(path) {
                Err(StoreError::Busy(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(
                        20 + u64::from(std::process::id() % 40),
                    ));
                }
                Err(e) => {
                    // A file this process made and nobody wrote into goes again; anything
                    // else may be another process's target in the making, so it stays.
                    let untouched = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
                    if made_here && untouched && !matches!(e, StoreError::Busy(_)) {
                        let _ = std::fs::remove_file(path);
                    }
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    fn init_once(path: &Path) -> Result<(Target, bool)> {
        let t = Target::file_at(Sqlite::connect(path, true)?, path);
        if t.schema_version()?.is_some() {
            return t.checked().map(|t| (t, false));
        }
        // An empty database: new, made by `touch`, left by a process killed while creating it,
        // or being created by another process right now. `BEGIN IMMEDIATE` waits for such a
        // process; the schema is then found, or created here.
        let created = {
            let tx = t.transaction()?;
            let created = tx.create_schema_if_empty()?;
            tx.commit()?;
            created
        };
        t.finish_init(created)
    }

    /// After an initialiser's committed transaction: the target with the schema it created
    /// (true), or the schema found checked (false).
    fn finish_init(self, created: bool) -> Result<(Target, bool)> {
        if created {
            Ok((self, true))
        } else {
            self.checked().map(|t| (t, false))
        }
    }

    fn create_schema(&self) -> Result<()> {
        for (_, sql) in self.backend.migrations() {
            self.batch(sql)?;
        }
        self.exec(
            "INSERT INTO ferry_meta (key, value) VALUES ('schema_version', ?1)",
            params![SCHEMA_VERSION.to_string()],
        )?;
        self.exec(
            "INSERT INTO ferry_meta (key, value) VALUES ('created_at', ?1)",
            params![journal::now()],
        )?;
        for (entity, fields) in INIT_DATA {
            let e = ferry_catalogue::entity(entity).expect("init data uses catalogue types");
            let mut values = vec![None; e.fields.len()];
            for (f, v) in *fields {
                let i = e.field(f).expect("init field") as usize;
                let raw = ferry_sources::RawValue::Text(v.to_string());
                values[i] =
                    ferry_validate::values::parse(e.fields[i].kind, &raw, &Default::default()).ok();
            }
            let rec = ferry_validate::Record {
                entity: e,
                location: Default::default(),
                columns: vec![None; e.fields.len()],
                invalid: vec![false; e.fields.len()],
                values,
            };
            let id = self.next_id(e)?;
            self.insert(
                e,
                id,
                cells::to_cells(e, &rec.values),
                vec![],
                RowMeta::default(),
                rec.content_hash(),
            )?;
        }
        Ok(())
    }
}
