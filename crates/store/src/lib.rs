//! The target database: schema and migrations, entity rows with their run and source location,
//! the run journal, and transactions in chunks. SQLite (a file, no server) is the embedded
//! backend; errors are classified by kind so callers treat every backend alike.

pub mod cells;
pub mod journal;
pub mod schema;

pub use cells::Cell;
use ferry_catalogue::{Entity, INIT_DATA};
/// The SQLite error type, for callers that run their own statements on [`Target::conn`].
pub use rusqlite::Error as SqlError;
/// Parameters for [`Target::execute`] and [`Target::query_i64`].
pub use rusqlite::ToSql as ToSqlParam;
use rusqlite::{params_from_iter, Connection, OpenFlags, OptionalExtension};
use schema::{quote, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

/// What went wrong with the target, by kind (the same kinds for every backend).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the target {0} does not exist; create it with `ferry init --db {0}`")]
    Missing(String),
    #[error("{0} is a database but not a Ferry target (no schema version); give `--db` a new file name to create one")]
    NotATarget(String),
    #[error("the target {path} has schema version {found}, this Ferry needs version {wanted}; upgrade it with `ferry upgrade apply --db {path}`")]
    VersionMismatch {
        path: String,
        found: i64,
        wanted: i64,
    },
    #[error("the target is busy: another program or run holds it ({0})")]
    Busy(String),
    #[error("the target is read-only ({0})")]
    ReadOnly(String),
    #[error("the target's disk is full ({0})")]
    DiskFull(String),
    #[error("the target is damaged or not a database ({0})")]
    Corrupt(String),
    #[error("cannot open the target {0}: does its folder exist, and is it a file?")]
    CannotOpen(String),
    #[error("the target is being written by run {run} (process {pid}, started {since}); wait for it to finish, or stop it")]
    Held { run: i64, pid: i64, since: String },
    #[error("a key constraint failed: {0}")]
    Constraint(String),
    #[error("target: {0}")]
    Other(String),
}

impl StoreError {
    pub fn classify(e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode as C;
        let text = e.to_string();
        match e.sqlite_error_code() {
            Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => StoreError::Busy(text),
            Some(C::ReadOnly) | Some(C::CannotOpen) | Some(C::PermissionDenied) => {
                StoreError::ReadOnly(text)
            }
            Some(C::DiskFull) => StoreError::DiskFull(text),
            Some(C::DatabaseCorrupt) | Some(C::NotADatabase) => StoreError::Corrupt(text),
            Some(C::ConstraintViolation) => StoreError::Constraint(text),
            _ => StoreError::Other(text),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::classify(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

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

/// The next row of one ledger table while merging: (ledger_seq, id, field texts).
type LedgerHead = (i64, i64, Vec<Option<String>>);

/// The identity of a file (device, inode).
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// An open target.
pub struct Target {
    conn: Connection,
    path: PathBuf,
    /// The file's identity when it was opened.
    opened: Option<(u64, u64)>,
    /// INSERT statements by (entity, derived columns given): built once, not per row.
    insert_sql:
        std::cell::RefCell<std::collections::HashMap<(&'static str, usize), std::rc::Rc<str>>>,
}

impl Target {
    fn connect(path: &Path, create: bool) -> Result<Connection> {
        let flags = if create {
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        };
        let shown = path.display().to_string();
        let named = |e: rusqlite::Error| match StoreError::classify(e) {
            StoreError::Corrupt(m) => StoreError::Corrupt(format!("{shown}: {m}")),
            StoreError::Other(m) if path.is_dir() => {
                StoreError::CannotOpen(format!("{shown} ({m})"))
            }
            StoreError::ReadOnly(_) if !path.exists() || path.is_dir() => {
                StoreError::CannotOpen(shown.clone())
            }
            StoreError::ReadOnly(m) => StoreError::ReadOnly(format!("{shown}: {m}")),
            other => other,
        };
        if path.is_dir() {
            return Err(StoreError::CannotOpen(shown));
        }
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(named)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(named)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;")
            .map_err(named)?;
        // Test hook (fault injection): a tiny database size limit behaves like a full disk.
        if let Some(pages) = std::env::var("FERRY_TEST_MAX_PAGES")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}"))
                .map_err(named)?;
        }
        Ok(conn)
    }

    /// Opens an existing target and checks its schema version.
    pub fn open(path: &Path) -> Result<Target> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let conn = Self::connect(path, false)?;
        let t = Target {
            conn,
            path: path.to_path_buf(),
            opened: file_identity(path),
            insert_sql: Default::default(),
        };
        match t.schema_version()? {
            None => Err(StoreError::NotATarget(path.display().to_string())),
            Some(v) if v != SCHEMA_VERSION => Err(StoreError::VersionMismatch {
                path: path.display().to_string(),
                found: v,
                wanted: SCHEMA_VERSION,
            }),
            Some(_) => Ok(t),
        }
    }

    /// Creates a target with the schema and the default setup data, or checks an existing one.
    /// Returns whether it was created.
    pub fn init(path: &Path) -> Result<(Target, bool)> {
        // An empty file (made by `touch`, or a failed earlier attempt) is a new target.
        if path.is_file()
            && std::fs::metadata(path)
                .map(|m| m.len() == 0)
                .unwrap_or(false)
        {
            std::fs::remove_file(path)
                .map_err(|e| StoreError::ReadOnly(format!("{}: {e}", path.display())))?;
        }
        if path.exists() {
            return Target::open(path).map(|t| (t, false));
        }
        let conn = Self::connect(path, true)?;
        let t = Target {
            conn,
            path: path.to_path_buf(),
            opened: file_identity(path),
            insert_sql: Default::default(),
        };
        t.conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = t.create_schema();
        match r {
            Ok(()) => t.conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = t.conn.execute_batch("ROLLBACK");
                drop(t);
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
        }
        Ok((t, true))
    }

    fn create_schema(&self) -> Result<()> {
        for (_, sql) in schema::MIGRATIONS {
            self.conn.execute_batch(sql)?;
        }
        self.conn.execute(
            "INSERT INTO ferry_meta (key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        self.conn.execute(
            "INSERT INTO ferry_meta (key, value) VALUES ('created_at', ?1)",
            [journal::now()],
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
                &cells::to_cells(e, &rec.values),
                &[],
                &RowMeta::default(),
                rec.content_hash(),
            )?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the target file is still the one that was opened (not deleted or replaced).
    pub fn file_unchanged(&self) -> bool {
        file_identity(&self.path) == self.opened
    }

    pub fn schema_version(&self) -> Result<Option<i64>> {
        let has_meta: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='ferry_meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?;
        if !has_meta {
            return Ok(None);
        }
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM ferry_meta WHERE key='schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.and_then(|v| v.parse().ok()))
    }

    // ---- one writer -------------------------------------------------------------------------

    /// Takes the target for run `run`: only one run writes at a time. A holder whose process is
    /// gone (killed, crashed) is a stale lock and is taken over. Returns the run whose stale lock
    /// was taken over, if any.
    pub fn acquire_writer(&self, run: i64) -> Result<Option<i64>> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = (|| -> Result<Option<i64>> {
            let held: Option<String> = self
                .conn
                .query_row(
                    "SELECT value FROM ferry_meta WHERE key = 'writer'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            let mut stale = None;
            if let Some(h) = held {
                let mut parts = h.splitn(3, '|');
                let (r_run, r_pid, since) = (
                    parts.next().unwrap_or("0"),
                    parts.next().unwrap_or("0"),
                    parts.next().unwrap_or(""),
                );
                let (r_run, r_pid): (i64, i64) =
                    (r_run.parse().unwrap_or(0), r_pid.parse().unwrap_or(0));
                if r_run != run && journal::pid_alive(r_pid) && r_pid != std::process::id() as i64 {
                    return Err(StoreError::Held {
                        run: r_run,
                        pid: r_pid,
                        since: since.to_string(),
                    });
                }
                if r_run != run {
                    stale = Some(r_run);
                }
            }
            let value = format!("{run}|{}|{}", std::process::id(), journal::now());
            self.conn.execute("INSERT INTO ferry_meta (key, value) VALUES ('writer', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [value])?;
            Ok(stale)
        })();
        match r {
            Ok(v) => {
                self.conn.execute_batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Gives the target back (only if `run` holds it).
    pub fn release_writer(&self, run: i64) -> Result<()> {
        let autocommit = self.conn.is_autocommit();
        self.conn.execute(
            "DELETE FROM ferry_meta WHERE key = 'writer' AND value LIKE ?1",
            [format!("{run}|%")],
        )?;
        let _ = autocommit;
        Ok(())
    }

    // ---- transactions -----------------------------------------------------------------------

    pub fn begin(&self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }
    pub fn commit(&self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }
    pub fn rollback(&self) -> Result<()> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// A consistent copy of the target (online backup).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        self.conn.backup(
            rusqlite::MAIN_DB,
            dest,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }

    // ---- entity rows ------------------------------------------------------------------------

    pub fn next_id(&self, e: &Entity) -> Result<i64> {
        let sql = format!("SELECT coalesce(max(id), 0) + 1 FROM {}", quote(&e.table()));
        Ok(self.conn.query_row(&sql, [], |r| r.get(0))?)
    }

    /// Inserts a row: its field cells in table order, then its derived cells in the order of
    /// [`schema::extra_columns`] (fewer may be given; the rest stay NULL).
    pub fn insert(
        &self,
        e: &'static Entity,
        id: i64,
        cells: &[Cell],
        extra: &[Cell],
        meta: &RowMeta,
        hash: i64,
    ) -> Result<()> {
        let sql = self
            .insert_sql
            .borrow_mut()
            .entry((e.name, extra.len()))
            .or_insert_with(|| {
                let mut cols = cells::field_column_names(e);
                cols.extend(schema::extra_columns(e).iter().take(extra.len()).map(|(c, _)| c.to_string()));
                format!(
                    "INSERT INTO {} (id, run_id, src_file, src_sheet, src_row, src_col, rec_hash{}{}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7{})",
                    quote(&e.table()),
                    if cols.is_empty() { "" } else { ", " },
                    cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                    (0..cols.len()).map(|i| format!(", ?{}", i + 8)).collect::<String>()
                )
                .into()
            })
            .clone();
        let mut st = self.conn.prepare_cached(&sql)?;
        let head: [Cell; 7] = [
            Cell::Int(id),
            meta.run_id.map(Cell::Int).unwrap_or(Cell::Null),
            meta.file.clone().map(Cell::Text).unwrap_or(Cell::Null),
            meta.sheet.clone().map(Cell::Text).unwrap_or(Cell::Null),
            meta.row.map(Cell::Int).unwrap_or(Cell::Null),
            meta.col.clone().map(Cell::Text).unwrap_or(Cell::Null),
            Cell::Int(hash),
        ];
        st.execute(params_from_iter(
            head.iter().chain(cells.iter()).chain(extra.iter()),
        ))?;
        Ok(())
    }

    /// Overwrites a row's field cells (an update), keeping its origin.
    pub fn update(&self, e: &Entity, id: i64, cells: &[Cell], hash: i64) -> Result<()> {
        let cols = cells::field_column_names(e);
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = ?{}", quote(c), i + 3))
            .collect();
        let sql = format!(
            "UPDATE {} SET rec_hash = ?2{}{} WHERE id = ?1",
            quote(&e.table()),
            if sets.is_empty() { "" } else { ", " },
            sets.join(", ")
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let head = [Cell::Int(id), Cell::Int(hash)];
        st.execute(params_from_iter(head.iter().chain(cells.iter())))?;
        Ok(())
    }

    /// Overwrites a row's derived cells (in the order of [`schema::extra_columns`]).
    pub fn update_extra(&self, e: &Entity, id: i64, extra: &[Cell]) -> Result<()> {
        let cols = schema::extra_columns(e);
        let sets: Vec<String> = cols
            .iter()
            .take(extra.len())
            .enumerate()
            .map(|(i, (c, _))| format!("{} = ?{}", quote(c), i + 2))
            .collect();
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ?1",
            quote(&e.table()),
            sets.join(", ")
        );
        let head = [Cell::Int(id)];
        self.conn
            .prepare_cached(&sql)?
            .execute(params_from_iter(head.iter().chain(extra.iter())))?;
        Ok(())
    }

    /// A row's field cells in table order.
    pub fn fetch(&self, e: &Entity, id: i64) -> Result<Vec<Cell>> {
        let cols = cells::field_column_names(e);
        if cols.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE id = ?1",
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
            quote(&e.table())
        );
        let mut st = self.conn.prepare_cached(&sql)?;
        let row = st.query_row([id], |r| {
            (0..cols.len())
                .map(|i| r.get::<_, Cell>(i))
                .collect::<rusqlite::Result<Vec<Cell>>>()
        })?;
        Ok(row)
    }

    /// Every row's key (the given fields' canonical texts joined), id, hash, and — for rows of
    /// run `run` — where in the source it came from (a resumed run's own records).
    pub fn keys(
        &self,
        e: &Entity,
        fields: &[&str],
        run: Option<i64>,
        mut f: impl FnMut(String, i64, i64, Option<RowMeta>),
    ) -> Result<()> {
        let cols = cells::field_column_names(e);
        let sql = format!(
            "SELECT id, rec_hash, run_id, src_file, src_sheet, src_row, src_col{}{} FROM {}",
            if cols.is_empty() { "" } else { ", " },
            cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
            quote(&e.table())
        );
        let idx: Vec<usize> = fields
            .iter()
            .map(|k| e.field(k).expect("key field") as usize)
            .collect();
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let hash: i64 = r.get(1)?;
            let row_run: Option<i64> = r.get(2)?;
            let cells: Vec<Cell> = (0..cols.len())
                .map(|i| r.get::<_, Cell>(i + 7))
                .collect::<rusqlite::Result<_>>()?;
            let texts = cells::to_texts(e, &cells);
            let parts: Option<Vec<&str>> = idx.iter().map(|&i| texts[i].as_deref()).collect();
            if let Some(parts) = parts {
                let origin = match (run, row_run) {
                    (Some(a), Some(b)) if a == b => Some(RowMeta {
                        run_id: Some(b),
                        file: r.get(3)?,
                        sheet: r.get(4)?,
                        row: r.get(5)?,
                        col: r.get(6)?,
                    }),
                    _ => None,
                };
                f(
                    parts.join(&ferry_validate::record::KEY_SEP.to_string()),
                    id,
                    hash,
                    origin,
                );
            }
        }
        Ok(())
    }

    /// Every row's content hash (for keyless entity types).
    pub fn hashes(&self, e: &Entity, mut f: impl FnMut(i64)) -> Result<()> {
        let sql = format!("SELECT rec_hash FROM {}", quote(&e.table()));
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            f(r.get(0)?);
        }
        Ok(())
    }

    /// Every row's fields as canonical texts, in id order, as an export shows them: a card or
    /// account number as its mask (from the stored last four digits), an attachment as `Data`
    /// (base64 of the stored content) rather than the `Path` it was read from.
    pub fn scan(
        &self,
        e: &Entity,
        mut f: impl FnMut(&[Option<String>]) -> std::io::Result<()>,
    ) -> Result<()> {
        let cols = cells::field_column_names(e);
        let extras: Vec<&str> = schema::extra_columns(e).iter().map(|(c, _)| *c).collect();
        let all: Vec<String> = cols
            .iter()
            .map(|c| quote(c))
            .chain(extras.iter().map(|c| quote(c)))
            .collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY id",
            all.join(", "),
            quote(&e.table())
        );
        let mut st = self.conn.prepare(&sql)?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let cells: Vec<Cell> = (0..cols.len())
                .map(|i| r.get::<_, Cell>(i))
                .collect::<rusqlite::Result<_>>()?;
            let extra: Vec<Cell> = (0..extras.len())
                .map(|i| r.get::<_, Cell>(cols.len() + i))
                .collect::<rusqlite::Result<_>>()?;
            let mut texts = cells::to_texts(e, &cells);
            for (name, cell) in extras.iter().zip(&extra) {
                match (*name, cell) {
                    (n, Cell::Text(last4)) if n.ends_with("_last4") => {
                        if let Some(i) = e
                            .fields
                            .iter()
                            .position(|f| f.kind == ferry_catalogue::Kind::SecretNumber)
                        {
                            texts[i] = Some(ferry_findings::mask_number(last4));
                        }
                    }
                    ("content", Cell::Blob(bytes)) => {
                        use base64::Engine as _;
                        if let (Some(d), Some(p)) = (e.field("Data"), e.field("Path")) {
                            texts[d as usize] =
                                Some(base64::engine::general_purpose::STANDARD.encode(bytes));
                            texts[p as usize] = None;
                        }
                    }
                    _ => {}
                }
            }
            f(&texts).map_err(|io| StoreError::Other(io.to_string()))?;
        }
        Ok(())
    }

    pub fn scan_ledger(
        &self,
        mut f: impl FnMut(&'static Entity, &[Option<String>]) -> std::io::Result<()>,
    ) -> Result<()> {
        let ents: Vec<&'static Entity> = ferry_catalogue::LEDGER_TYPES
            .iter()
            .map(|t| ferry_catalogue::entity(t).expect("ledger type"))
            .collect();
        let mut stmts = Vec::new();
        for e in &ents {
            let cols = cells::field_column_names(e);
            let sql = format!(
                "SELECT coalesce(ledger_seq, 0), id, {} FROM {} ORDER BY coalesce(ledger_seq, 0), id",
                cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                quote(&e.table())
            );
            stmts.push((self.conn.prepare(&sql)?, cols.len()));
        }
        let mut rows = Vec::new();
        for (st, n) in stmts.iter_mut() {
            rows.push((st.query([])?, *n));
        }
        // The head row of each table: (seq, id, texts).
        let mut heads: Vec<Option<LedgerHead>> = Vec::new();
        let next =
            |rows: &mut rusqlite::Rows<'_>, n: usize, e: &Entity| -> Result<Option<LedgerHead>> {
                match rows.next()? {
                    Some(r) => {
                        let cells: Vec<Cell> = (0..n)
                            .map(|i| r.get::<_, Cell>(i + 2))
                            .collect::<rusqlite::Result<_>>()?;
                        Ok(Some((r.get(0)?, r.get(1)?, cells::to_texts(e, &cells))))
                    }
                    None => Ok(None),
                }
            };
        for (i, (r, n)) in rows.iter_mut().enumerate() {
            heads.push(next(r, *n, ents[i])?);
        }
        loop {
            let pick = heads
                .iter()
                .enumerate()
                .filter_map(|(i, h)| h.as_ref().map(|(seq, id, _)| (*seq, i, *id)))
                .min();
            let Some((_, i, _)) = pick else { break };
            let (_, _, texts) = heads[i].take().expect("picked");
            f(ents[i], &texts).map_err(|io| StoreError::Other(io.to_string()))?;
            let (r, n) = &mut rows[i];
            heads[i] = next(r, *n, ents[i])?;
        }
        Ok(())
    }

    pub fn count(&self, e: &Entity) -> Result<i64> {
        Ok(self.conn.query_row(
            &format!("SELECT count(*) FROM {}", quote(&e.table())),
            [],
            |r| r.get(0),
        )?)
    }

    // ---- statements for the rest of Ferry ------------------------------------------------
    //
    // Everything outside this crate talks to the target through these four calls, with `?N`
    // placeholders and `Cell` parameters, so that no caller depends on the SQLite driver.

    /// Runs a statement; returns the rows changed.
    pub fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .execute(params_from_iter(params.iter()))?)
    }

    /// Calls `f` with every row of a query.
    pub fn each(
        &self,
        sql: &str,
        params: &[Cell],
        mut f: impl FnMut(&Row) -> Result<()>,
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

    /// The first row of a query, if any.
    pub fn first(&self, sql: &str, params: &[Cell]) -> Result<Option<Row>> {
        let mut out = None;
        let mut st = self.conn.prepare_cached(sql)?;
        let n = st.column_count();
        let mut rows = st.query(params_from_iter(params.iter()))?;
        if let Some(r) = rows.next()? {
            out = Some(Row((0..n)
                .map(|i| r.get::<_, Cell>(i))
                .collect::<rusqlite::Result<_>>()?));
        }
        Ok(out)
    }

    /// The first column of the first row as a number (0 when there is none).
    pub fn int(&self, sql: &str, params: &[Cell]) -> Result<i64> {
        Ok(self.first(sql, params)?.map(|r| r.int(0)).unwrap_or(0))
    }
}

/// One row of a query.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    pub fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or(0)
    }
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Some(*v),
            Some(Cell::Text(t)) => t.parse().ok(),
            _ => None,
        }
    }
    pub fn text(&self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }
    pub fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Cell::Text(t)) => Some(t.clone()),
            Some(Cell::Int(v)) => Some(v.to_string()),
            Some(Cell::Blob(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}
