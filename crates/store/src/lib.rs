//! The target database: schema and migrations, entity rows with their run and source location,
//! the run journal, and transactions in chunks. SQLite (a file, no server) is the embedded
//! backend, PostgreSQL (a `postgres://` URL) the production one; both sit behind the same calls,
//! and their errors are classified by the same kinds so callers treat every backend alike.

pub mod cells;
mod guard;
pub mod journal;
pub mod pg;
pub mod schema;
pub mod test_hooks;
pub mod tls;
pub mod upgrade;
mod writer;

pub use cells::Cell;
use ferry_catalogue::{Entity, INIT_DATA};
pub use guard::{Tx, WriterRole};
use rusqlite::{params_from_iter, Connection, OpenFlags};
use schema::{quote, SCHEMA_VERSION};
use std::cell::{Cell as Flag, RefCell, RefMut};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What went wrong with the target, by kind (the same kinds for every backend).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the target {0} does not exist; create it with `ferry init --db {0}`")]
    Missing(String),
    #[error("{0} is a database but not a Ferry target (no schema version); give `--db` a new file or database name to create one")]
    NotATarget(String),
    #[error("{}", version_message(path, *found, *wanted))]
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
    #[error(
        "cannot reach the database server of {0}; is it running, and does it accept connections?"
    )]
    Unreachable(String),
    /// The server could not be reached securely as the URL's `sslmode` asks (no TLS, or a
    /// certificate that does not verify).
    #[error("cannot connect securely to the database server of {0}")]
    Tls(String),
    #[error("{}", held_message(*run, *pid, since))]
    Held { run: i64, pid: i64, since: String },
    /// Held by a process whose run is not known (it has not recorded it yet, or is not Ferry).
    #[error("the target is being written by {0}; wait for it to finish, or stop it")]
    HeldBy(String),
    /// A run in the journal whose mode, kind or status this Ferry does not know.
    #[error(
        "run {run} in the target's journal has an {source}: is the target from a newer Ferry?"
    )]
    Journal {
        run: i64,
        #[source]
        source: journal::UnknownValue,
    },
    #[error("a key constraint failed: {0}")]
    Constraint(String),
    #[error("target: {0}")]
    Other(String),
}

fn held_message(run: i64, pid: i64, since: &str) -> String {
    if run == 0 {
        // Run 0 is `ferry upgrade apply`, which holds the target without a run.
        format!("the target is held by an upgrade (process {pid}, since {since}); wait for it to finish")
    } else {
        format!("the target is being written by run {run} (process {pid}, started {since}); wait for it to finish, or stop it")
    }
}

fn version_message(path: &str, found: i64, wanted: i64) -> String {
    if found < wanted {
        format!("the target {path} has schema version {found}, this Ferry needs version {wanted}; see what the upgrade changes with `ferry upgrade check --db {path}`, try it on a copy with `ferry upgrade rehearse --db {path}`, and upgrade it with `ferry upgrade apply --db {path}`")
    } else {
        format!("the target {path} has schema version {found}, newer than this Ferry's version {wanted}: use the Ferry that upgraded it (or a newer one)")
    }
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

/// The connection: one driver or the other. Every statement of the store goes through
/// [`Target::exec`], [`Target::each`], [`Target::batch`] and the transaction calls, which are
/// the only places that look at it.
enum Conn {
    Lite(Connection),
    Pg(RefCell<pg::Pg>),
}

/// Where the target lives.
enum Place {
    File(PathBuf),
    /// A PostgreSQL URL as shown (without its password).
    Server(String),
}

/// An open target.
pub struct Target {
    conn: Conn,
    place: Place,
    /// The file's identity when it was opened.
    opened: Option<(u64, u64)>,
    /// Insert shapes by (entity, derived columns given): built once, not per row.
    shapes: RefCell<std::collections::HashMap<(&'static str, usize), Rc<Shape>>>,
    /// Rows queued for the bulk path, written before anything could see them missing.
    pending: RefCell<Pending>,
    /// Whether this connection holds the writer role (see `writer.rs`).
    holds_writer: Flag<bool>,
}

/// The table and columns of queued rows.
#[derive(Debug, PartialEq)]
struct Shape {
    table: String,
    columns: Vec<String>,
}

/// One table's queued rows.
struct Batch {
    shape: Rc<Shape>,
    rows: Vec<Cell>,
}

/// Rows waiting to be written in bulk (multi-row INSERT on SQLite, binary COPY on PostgreSQL).
///
/// Rows are queued by [`Target::insert`] and [`Target::append`] and written: when the queue is
/// full, before the transaction commits, and before any statement that names a queued table (a
/// read must see them; the check is by name, so it can only ever write early, never late). A
/// rollback drops them with the transaction.
#[derive(Default)]
struct Pending {
    batches: Vec<Batch>,
    rows: usize,
    bytes: usize,
}

/// Queue limits: enough rows for the bulk path to pay off, little enough memory to stay flat.
const PENDING_ROWS: usize = 20_000;
const PENDING_BYTES: usize = 16 << 20;

/// Whether `sql` names `table` as a whole word (quoted or not).
fn mentions(sql: &str, table: &str) -> bool {
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = sql.as_bytes();
    let mut from = 0;
    while let Some(i) = sql[from..].find(table) {
        let at = from + i;
        let end = at + table.len();
        let before = at == 0 || !ident(b[at - 1]);
        let after = end >= b.len() || !ident(b[end]);
        if before && after {
            return true;
        }
        from = at + 1;
        while !sql.is_char_boundary(from) {
            from += 1;
        }
    }
    false
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
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;")
            .map_err(named)?;
        // Test hook (fault injection): a tiny database size limit behaves like a full disk.
        if let Some(pages) = test_hooks::max_pages() {
            conn.execute_batch(&format!("PRAGMA max_page_count = {pages}"))
                .map_err(named)?;
        }
        Ok(conn)
    }

    fn new(conn: Conn, place: Place) -> Target {
        let opened = match &place {
            Place::File(p) => file_identity(p),
            Place::Server(_) => None,
        };
        if let Conn::Lite(c) = &conn {
            // Room for the multi-row INSERTs of every table shape.
            c.set_prepared_statement_cache_capacity(256);
        }
        Target {
            conn,
            place,
            opened,
            shapes: Default::default(),
            pending: Default::default(),
            holds_writer: Flag::new(false),
        }
    }

    /// Opens an existing target named by `--db`: a SQLite file path or a `postgres://` URL.
    pub fn open_db(db: &str) -> Result<Target> {
        if pg::is_url(db) {
            let conn = pg::Pg::connect(db, false)?;
            let shown = conn.shown.clone();
            Target::new(Conn::Pg(RefCell::new(conn)), Place::Server(shown)).checked()
        } else {
            Target::open(Path::new(db))
        }
    }

    /// Opens an existing target of any schema version (for `ferry upgrade`); it must be a Ferry
    /// target.
    pub fn open_unchecked(db: &str) -> Result<Target> {
        let t = if pg::is_url(db) {
            let conn = pg::Pg::connect(db, false)?;
            let shown = conn.shown.clone();
            Target::new(Conn::Pg(RefCell::new(conn)), Place::Server(shown))
        } else {
            let path = Path::new(db);
            if !path.exists() {
                return Err(StoreError::Missing(db.to_string()));
            }
            Target::new(
                Conn::Lite(Self::connect(path, false)?),
                Place::File(path.to_path_buf()),
            )
        };
        match t.schema_version()? {
            None => Err(StoreError::NotATarget(t.name())),
            Some(_) => Ok(t),
        }
    }

    /// Creates (or checks) the target named by `--db`; a PostgreSQL database that does not exist
    /// yet is created on the server. Returns whether the target was created.
    pub fn init_db(db: &str) -> Result<(Target, bool)> {
        if !pg::is_url(db) {
            return Target::init(Path::new(db));
        }
        let conn = pg::Pg::connect(db, true)?;
        let shown = conn.shown.clone();
        let t = Target::new(Conn::Pg(RefCell::new(conn)), Place::Server(shown));
        if t.has_table("ferry_meta")? {
            return t.checked().map(|t| (t, false));
        }
        // Processes that find the database empty at once create the schema one at a time:
        // the others wait for the first and then find a target.
        let created = {
            let tx = t.transaction()?;
            tx.exec("SELECT pg_advisory_xact_lock(?1)", params![pg::INIT_LOCK])?;
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
        let tables = if self.is_postgres() {
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        } else {
            "SELECT count(*) FROM sqlite_master"
        };
        if self.int(tables, &[])? > 0 {
            return Err(StoreError::NotATarget(self.name()));
        }
        self.create_schema()?;
        Ok(true)
    }

    /// Waits until no other process is creating this target's schema (a target found without
    /// one may be in the middle of its creation): on PostgreSQL for the initialisers' lock, on
    /// SQLite for the write lock. Errors are left to the caller's own check.
    fn wait_for_initialisers(&self) {
        if let Ok(tx) = self.transaction() {
            if self.is_postgres() {
                let _ = tx.exec(
                    "SELECT pg_advisory_xact_lock_shared(?1)",
                    params![pg::INIT_LOCK],
                );
            }
            // Rolled back: it only waited.
            drop(tx);
        }
    }

    /// Checks the schema version of a just-opened target.
    fn checked(self) -> Result<Target> {
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

    /// Opens an existing SQLite target and checks its schema version.
    pub fn open(path: &Path) -> Result<Target> {
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let conn = Self::connect(path, false)?;
        Target::new(Conn::Lite(conn), Place::File(path.to_path_buf())).checked()
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
        let conn = Self::connect(path, true)?;
        let t = Target::new(Conn::Lite(conn), Place::File(path.to_path_buf()));
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
        let migrations = if self.is_postgres() {
            schema::MIGRATIONS_PG
        } else {
            schema::MIGRATIONS
        };
        for (_, sql) in migrations {
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
        matches!(self.conn, Conn::Pg(_))
    }

    /// Whether the target is still the one that was opened: for a file, not deleted or
    /// replaced; for a server, the connection is still up.
    pub fn file_unchanged(&self) -> bool {
        match (&self.place, &self.conn) {
            (Place::File(p), _) => file_identity(p) == self.opened,
            (_, Conn::Pg(c)) => c
                .try_borrow()
                .map(|c| !c.client.is_closed())
                .unwrap_or(true),
            _ => true,
        }
    }

    fn has_table(&self, name: &str) -> Result<bool> {
        let sql = if self.is_postgres() {
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = ?1"
        } else {
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name = ?1"
        };
        Ok(self.int(sql, params![name])? > 0)
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

    // ---- transactions -----------------------------------------------------------------------

    pub fn begin(&self) -> Result<()> {
        self.flush()?;
        match &self.conn {
            Conn::Lite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Pg(_) => {
                let mut p = self.pg()?;
                p.batch("BEGIN")?;
                p.in_tx = true;
            }
        }
        Ok(())
    }
    pub fn commit(&self) -> Result<()> {
        if let Err(e) = self.flush() {
            let _ = self.rollback();
            return Err(e);
        }
        match &self.conn {
            Conn::Lite(c) => c.execute_batch("COMMIT")?,
            Conn::Pg(_) => {
                let mut p = self.pg()?;
                // A failed COMMIT ends the transaction too (it is rolled back).
                p.in_tx = false;
                p.batch("COMMIT")?;
            }
        }
        Ok(())
    }
    pub fn rollback(&self) -> Result<()> {
        // Queued rows belong to the transaction that is undone.
        *self.pending.borrow_mut() = Pending::default();
        match &self.conn {
            Conn::Lite(c) => {
                if !c.is_autocommit() {
                    c.execute_batch("ROLLBACK")?;
                }
            }
            Conn::Pg(_) => {
                let mut p = self.pg()?;
                if p.in_tx {
                    p.in_tx = false;
                    p.batch("ROLLBACK")?;
                }
            }
        }
        Ok(())
    }
    pub fn in_transaction(&self) -> bool {
        match &self.conn {
            Conn::Lite(c) => !c.is_autocommit(),
            Conn::Pg(c) => c.try_borrow().map(|c| c.in_tx).unwrap_or(true),
        }
    }

    /// A consistent copy of a SQLite target (online backup). PostgreSQL targets are backed up
    /// with the server's own tools (`pg_dump`); this refuses them.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        match &self.conn {
            Conn::Lite(c) => {
                // A copy is as secret as the target: private before a byte is written.
                private_file(dest, true)
                    .map_err(|e| StoreError::Other(format!("{}: {e}", dest.display())))?;
                c.backup(
                    rusqlite::MAIN_DB,
                    dest,
                    None::<fn(rusqlite::backup::Progress)>,
                )?;
                Ok(())
            }
            Conn::Pg(_) => Err(StoreError::Other(
                "a PostgreSQL target is backed up with pg_dump, not by Ferry".into(),
            )),
        }
    }

    // ---- entity rows ------------------------------------------------------------------------

    pub fn next_id(&self, e: &Entity) -> Result<i64> {
        let sql = format!("SELECT coalesce(max(id), 0) + 1 FROM {}", quote(&e.table()));
        self.int(&sql, &[])
    }

    /// Inserts a row: its field cells in table order, then its derived cells in the order of
    /// [`schema::extra_columns`] (fewer may be given; the rest stay NULL). The row is queued for
    /// the bulk path (see [`Pending`]); its cells are moved there, not copied.
    pub fn insert(
        &self,
        e: &'static Entity,
        id: i64,
        cells: Vec<Cell>,
        extra: Vec<Cell>,
        meta: RowMeta,
        hash: i64,
    ) -> Result<()> {
        let shape = self
            .shapes
            .borrow_mut()
            .entry((e.name, extra.len()))
            .or_insert_with(|| {
                let mut columns: Vec<String> = schema::SYSTEM_COLUMNS
                    .iter()
                    .map(|(c, _)| c.to_string())
                    .collect();
                columns.extend(cells::field_column_names(e));
                columns.extend(
                    schema::extra_columns(e)
                        .iter()
                        .take(extra.len())
                        .map(|(c, _)| c.to_string()),
                );
                Rc::new(Shape {
                    table: e.table(),
                    columns,
                })
            })
            .clone();
        let mut row: Vec<Cell> = Vec::with_capacity(7 + cells.len() + extra.len());
        row.extend([
            Cell::Int(id),
            meta.run_id.map(Cell::Int).unwrap_or(Cell::Null),
            meta.file.map(Cell::Text).unwrap_or(Cell::Null),
            meta.sheet.map(Cell::Text).unwrap_or(Cell::Null),
            meta.row.map(Cell::Int).unwrap_or(Cell::Null),
            meta.col.map(Cell::Text).unwrap_or(Cell::Null),
            Cell::Int(hash),
        ]);
        row.extend(cells);
        row.extend(extra);
        self.queue(shape, row)
    }

    /// Inserts a row into a table by column names, through the bulk path like [`Self::insert`]
    /// (for plain inserts only: no conflict clause, no returned values).
    pub fn append(&self, table: &str, columns: &[&str], row: Vec<Cell>) -> Result<()> {
        debug_assert_eq!(columns.len(), row.len());
        let shape = {
            let p = self.pending.borrow();
            p.batches
                .iter()
                .find(|b| b.shape.table == table && b.shape.columns == columns)
                .map(|b| b.shape.clone())
        };
        let shape = shape.unwrap_or_else(|| {
            Rc::new(Shape {
                table: table.to_string(),
                columns: columns.iter().map(|c| c.to_string()).collect(),
            })
        });
        self.queue(shape, row)
    }

    fn queue(&self, shape: Rc<Shape>, row: Vec<Cell>) -> Result<()> {
        let full = {
            let mut p = self.pending.borrow_mut();
            p.rows += 1;
            p.bytes += row
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.len() + 24,
                    Cell::Blob(b) => b.len() + 24,
                    _ => 24,
                })
                .sum::<usize>();
            match p
                .batches
                .iter_mut()
                .find(|b| Rc::ptr_eq(&b.shape, &shape) || b.shape == shape)
            {
                Some(b) => b.rows.extend(row),
                None => p.batches.push(Batch { shape, rows: row }),
            }
            p.rows >= PENDING_ROWS || p.bytes >= PENDING_BYTES
        };
        if full {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes every queued row now.
    pub fn flush(&self) -> Result<()> {
        let batches = {
            let mut p = self.pending.borrow_mut();
            if p.rows == 0 {
                return Ok(());
            }
            p.rows = 0;
            p.bytes = 0;
            std::mem::take(&mut p.batches)
        };
        for b in batches {
            let n = b.shape.columns.len();
            match &self.conn {
                Conn::Lite(c) => {
                    // Up to 256 rows per statement, within SQLite's 32,766 parameters.
                    let per = (32_766 / n.max(1)).clamp(1, 256);
                    for rows in b.rows.chunks(per * n) {
                        let k = rows.len() / n;
                        let one =
                            format!("({})", (0..n).map(|_| "?").collect::<Vec<_>>().join(", "));
                        let sql = format!(
                            "INSERT INTO {} ({}) VALUES {}",
                            quote(&b.shape.table),
                            b.shape
                                .columns
                                .iter()
                                .map(|c| quote(c))
                                .collect::<Vec<_>>()
                                .join(", "),
                            vec![one; k].join(", ")
                        );
                        c.prepare_cached(&sql)?
                            .execute(params_from_iter(rows.iter()))?;
                    }
                }
                Conn::Pg(_) => {
                    let cols: Vec<&str> = b.shape.columns.iter().map(String::as_str).collect();
                    self.pg()?.copy_in(&b.shape.table, &cols, &b.rows)?;
                }
            }
        }
        Ok(())
    }

    /// Inserts or updates many rows at once: `INSERT … VALUES (…), (…) ON CONFLICT (key) DO
    /// UPDATE SET <set>` in statements of up to 256 rows (one round trip each on PostgreSQL).
    /// `set` may use `excluded.<column>` and `<table>.<column>`. No two rows may share a key.
    pub fn upsert(
        &self,
        table: &str,
        columns: &[&str],
        key: &[&str],
        set: &str,
        rows: &[Vec<Cell>],
    ) -> Result<()> {
        let n = columns.len();
        let per = (32_766 / n.max(1)).clamp(1, 256);
        let cols = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let keys = key.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        for group in rows.chunks(per) {
            let mut k = 0;
            let values: Vec<String> = group
                .iter()
                .map(|_| {
                    let one = (0..n)
                        .map(|_| {
                            k += 1;
                            format!("?{k}")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    format!("({one})")
                })
                .collect();
            let sql = format!(
                "INSERT INTO {} ({cols}) VALUES {} ON CONFLICT ({keys}) DO UPDATE SET {set}",
                quote(table),
                values.join(", ")
            );
            let params: Vec<Cell> = group.iter().flatten().cloned().collect();
            self.exec(&sql, &params)?;
        }
        Ok(())
    }

    /// Writes the queued rows first if `sql` names one of their tables.
    fn settle(&self, sql: &str) -> Result<()> {
        let hit = {
            let p = self.pending.borrow();
            p.rows > 0 && p.batches.iter().any(|b| mentions(sql, &b.shape.table))
        };
        if hit {
            self.flush()?;
        }
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
        let mut all = vec![Cell::Int(id), Cell::Int(hash)];
        all.extend_from_slice(cells);
        self.exec(&sql, &all)?;
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
        let mut all = vec![Cell::Int(id)];
        all.extend_from_slice(extra);
        self.exec(&sql, &all)?;
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
        match self.first(&sql, params![id])? {
            Some(r) => Ok(r.0),
            None => Err(StoreError::Other(format!(
                "{} row {id} is not in the target",
                e.name
            ))),
        }
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
        let sep = ferry_validate::record::KEY_SEP.to_string();
        self.each(&sql, &[], |r| {
            let id = r.int(0);
            let hash = r.int(1);
            let row_run = r.opt_int(2);
            let texts = cells::to_texts(e, &r.0[7..]);
            let parts: Option<Vec<&str>> = idx.iter().map(|&i| texts[i].as_deref()).collect();
            if let Some(parts) = parts {
                let origin = match (run, row_run) {
                    (Some(a), Some(b)) if a == b => Some(RowMeta {
                        run_id: Some(b),
                        file: r.opt_text(3),
                        sheet: r.opt_text(4),
                        row: r.opt_int(5),
                        col: r.opt_text(6),
                    }),
                    _ => None,
                };
                f(parts.join(&sep), id, hash, origin);
            }
            Ok(())
        })
    }

    /// Every row's content hash (for keyless entity types).
    pub fn hashes(&self, e: &Entity, mut f: impl FnMut(i64)) -> Result<()> {
        let sql = format!("SELECT rec_hash FROM {}", quote(&e.table()));
        self.each(&sql, &[], |r| {
            f(r.int(0));
            Ok(())
        })
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
        self.each(&sql, &[], |r| {
            let (cells, extra) = r.0.split_at(cols.len());
            let mut texts = cells::to_texts(e, cells);
            for (name, cell) in extras.iter().zip(extra) {
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
            f(&texts).map_err(|io| StoreError::Other(io.to_string()))
        })
    }

    /// Every ledger row of every ledger table in stream order (ledger_seq, then id): the tables
    /// are read side by side and merged, one cursor each, so memory stays flat.
    pub fn scan_ledger(
        &self,
        mut f: impl FnMut(&'static Entity, &[Option<String>]) -> std::io::Result<()>,
    ) -> Result<()> {
        let ents: Vec<&'static Entity> = ferry_catalogue::LEDGER_TYPES
            .iter()
            .map(|t| ferry_catalogue::entity(t).expect("ledger type"))
            .collect();
        let sqls: Vec<String> = ents
            .iter()
            .map(|e| {
                let cols = cells::field_column_names(e);
                format!(
                    "SELECT coalesce(ledger_seq, 0), id, {} FROM {} ORDER BY coalesce(ledger_seq, 0), id",
                    cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                    quote(&e.table())
                )
            })
            .collect();
        let head = |e: &Entity, r: &Row| -> LedgerHead {
            (r.int(0), r.int(1), cells::to_texts(e, &r.0[2..]))
        };
        let mut emit = |i: usize, texts: &[Option<String>]| -> Result<()> {
            f(ents[i], texts).map_err(|io| StoreError::Other(io.to_string()))
        };
        match &self.conn {
            Conn::Lite(c) => {
                let mut stmts = Vec::new();
                for sql in &sqls {
                    stmts.push(c.prepare(sql)?);
                }
                let mut rows = Vec::new();
                for st in stmts.iter_mut() {
                    let n = st.column_count();
                    rows.push((st.query([])?, n));
                }
                let mut next = |i: usize| -> Result<Option<LedgerHead>> {
                    let (r, n) = &mut rows[i];
                    match r.next()? {
                        Some(r) => {
                            let cells = (0..*n)
                                .map(|k| r.get::<_, Cell>(k))
                                .collect::<rusqlite::Result<Vec<_>>>()?;
                            Ok(Some(head(ents[i], &Row(cells))))
                        }
                        None => Ok(None),
                    }
                };
                merge(ents.len(), &mut next, &mut emit)
            }
            Conn::Pg(_) => {
                // One server-side cursor per table, read a page at a time, inside a
                // transaction (the caller's, or a read-only one of its own).
                let own_tx = if self.in_transaction() {
                    None
                } else {
                    self.batch("BEGIN READ ONLY")?;
                    self.pg()?.in_tx = true;
                    Some(guard::Tx::begun(self))
                };
                let r = (|| -> Result<()> {
                    for (i, sql) in sqls.iter().enumerate() {
                        self.batch(&format!(
                            "DECLARE ferry_ledger_{i} NO SCROLL CURSOR FOR {sql}"
                        ))?;
                    }
                    let mut pages: Vec<std::collections::VecDeque<LedgerHead>> =
                        vec![Default::default(); ents.len()];
                    let mut done = vec![false; ents.len()];
                    let mut next = |i: usize| -> Result<Option<LedgerHead>> {
                        if pages[i].is_empty() && !done[i] {
                            let sql = format!("FETCH 2000 FROM ferry_ledger_{i}");
                            let mut got = 0;
                            self.each(&sql, &[], |r| {
                                pages[i].push_back(head(ents[i], r));
                                got += 1;
                                Ok(())
                            })?;
                            done[i] = got == 0;
                        }
                        Ok(pages[i].pop_front())
                    };
                    merge(ents.len(), &mut next, &mut emit)?;
                    for i in 0..sqls.len() {
                        self.batch(&format!("CLOSE ferry_ledger_{i}"))?;
                    }
                    Ok(())
                })();
                // Rolled back: it only read.
                drop(own_tx);
                r
            }
        }
    }

    pub fn count(&self, e: &Entity) -> Result<i64> {
        self.int(&format!("SELECT count(*) FROM {}", quote(&e.table())), &[])
    }

    // ---- statements ------------------------------------------------------------------------
    //
    // Everything, in this crate and outside it, talks to the target through these calls, with
    // `?N` placeholders and `Cell` parameters, so that no caller depends on a driver. The SQL
    // is the common ground of SQLite and PostgreSQL; `pg::translate` handles the differences.

    fn pg(&self) -> Result<RefMut<'_, pg::Pg>> {
        match &self.conn {
            Conn::Pg(c) => c.try_borrow_mut().map_err(|_| {
                StoreError::Other(
                    "internal: a statement was started while the rows of another were being read"
                        .into(),
                )
            }),
            Conn::Lite(_) => Err(StoreError::Other(
                "internal: not a PostgreSQL target".into(),
            )),
        }
    }

    /// Runs several statements without parameters.
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.flush()?;
        match &self.conn {
            Conn::Lite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(_) => self.pg()?.batch(sql),
        }
    }

    /// Runs a statement; returns the rows changed.
    pub fn exec(&self, sql: &str, params: &[Cell]) -> Result<usize> {
        self.settle(sql)?;
        match &self.conn {
            Conn::Lite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(params_from_iter(params.iter()))?),
            Conn::Pg(_) => self.pg()?.exec(sql, params),
        }
    }

    /// Calls `f` with every row of a query, as the rows are read. `f` must not run statements
    /// on the same target (on PostgreSQL the connection is busy streaming the rows).
    pub fn each(
        &self,
        sql: &str,
        params: &[Cell],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        self.settle(sql)?;
        match &self.conn {
            Conn::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
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
            Conn::Pg(_) => self.pg()?.each(sql, params, &mut |r| f(&r)),
        }
    }

    /// The first row of a query, if any.
    pub fn first(&self, sql: &str, params: &[Cell]) -> Result<Option<Row>> {
        let mut out = None;
        self.each(sql, params, |r| {
            if out.is_none() {
                out = Some(r.clone());
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first column of the first row as a number (0 when there is none).
    pub fn int(&self, sql: &str, params: &[Cell]) -> Result<i64> {
        Ok(self.first(sql, params)?.map(|r| r.int(0)).unwrap_or(0))
    }

    /// The rows of a query, collected (for small results).
    pub fn rows(&self, sql: &str, params: &[Cell]) -> Result<Vec<Row>> {
        let mut out = vec![];
        self.each(sql, params, |r| {
            out.push(r.clone());
            Ok(())
        })?;
        Ok(out)
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

/// Merges per-table ledger streams by (seq, id), the order rows were written in.
fn merge(
    n: usize,
    next: &mut dyn FnMut(usize) -> Result<Option<LedgerHead>>,
    emit: &mut dyn FnMut(usize, &[Option<String>]) -> Result<()>,
) -> Result<()> {
    let mut heads: Vec<Option<LedgerHead>> = Vec::with_capacity(n);
    for i in 0..n {
        heads.push(next(i)?);
    }
    loop {
        let pick = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|(seq, id, _)| (*seq, i, *id)))
            .min();
        let Some((_, i, _)) = pick else { break };
        let (_, _, texts) = heads[i].take().expect("picked");
        emit(i, &texts)?;
        heads[i] = next(i)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_named_only_as_a_whole_word() {
        assert!(mentions("SELECT * FROM \"user\" WHERE x", "user"));
        assert!(mentions(
            "SELECT tax_code FROM user_attribute_tax_code WHERE \"user\" = ?1",
            "user"
        ));
        assert!(!mentions(
            "SELECT tax_code FROM user_attribute_tax_code",
            "user"
        ));
        assert!(mentions("DELETE FROM ledger_line", "ledger_line"));
        assert!(!mentions("DELETE FROM ledger_lines", "ledger_line"));
        assert!(!mentions("SELECT 1", "invoice"));
        assert!(mentions("x invoice", "invoice"));
    }

    /// Queued rows are written before a statement that reads their table, at commit, and in
    /// statements of many rows; a rollback drops them.
    #[test]
    fn the_bulk_path_is_invisible_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let (t, _) = Target::init(&dir.path().join("t.db")).unwrap();
        let cols = [
            "id",
            "run_id",
            "user",
            "kind",
            "amount_e4",
            "entity",
            "row_id",
        ];
        t.begin().unwrap();
        for i in 0..1000i64 {
            t.append(
                "ledger_line",
                &cols,
                params![i + 1, 1i64, format!("U{i}"), "charge", i, "Debit", i].to_vec(),
            )
            .unwrap();
        }
        assert_eq!(t.pending.borrow().rows, 1000);
        assert_eq!(
            t.int("SELECT count(*) FROM ledger_line", &[]).unwrap(),
            1000
        );
        assert_eq!(t.pending.borrow().rows, 0);
        // a statement about another table leaves the queue alone
        t.append(
            "ledger_line",
            &cols,
            params![5000i64, 1i64, "X", "charge", 1i64, "Debit", 1i64].to_vec(),
        )
        .unwrap();
        t.int("SELECT count(*) FROM invoice", &[]).unwrap();
        assert_eq!(t.pending.borrow().rows, 1);
        t.rollback().unwrap();
        assert_eq!(t.int("SELECT count(*) FROM ledger_line", &[]).unwrap(), 0);
        // upserts of many rows at once
        t.begin().unwrap();
        let rows: Vec<Vec<Cell>> = (0..600i64)
            .map(|i| params![1i64, format!("U{i}"), i, i, 0i64, 0i64].to_vec())
            .collect();
        let set = "source_e4 = run_ledger_sum.source_e4 + excluded.source_e4";
        let cols = [
            "run_id",
            "user",
            "source_e4",
            "imported_e4",
            "rejected_e4",
            "skipped_e4",
        ];
        t.upsert("run_ledger_sum", &cols, &["run_id", "user"], set, &rows)
            .unwrap();
        t.upsert("run_ledger_sum", &cols, &["run_id", "user"], set, &rows)
            .unwrap();
        t.commit().unwrap();
        assert_eq!(
            t.int("SELECT count(*) FROM run_ledger_sum", &[]).unwrap(),
            600
        );
        assert_eq!(
            t.int("SELECT sum(source_e4) FROM run_ledger_sum", &[])
                .unwrap(),
            2 * (0..600).sum::<i64>()
        );
    }
}

/// Makes `path` a file only its owner can read and write (0600): created empty when missing
/// (an empty file is an empty SQLite database), else left as it is unless `restrict` says to
/// take its permissions down to 0600 too. Returns whether this call created it.
fn private_file(path: &Path, restrict: bool) -> std::io::Result<bool> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if restrict {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
