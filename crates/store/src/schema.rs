//! The target's schema: one table per entity type, generated from the catalogue, plus the run
//! journal; versioned, applied by numbered migrations that are frozen once released.

use ferry_catalogue::{Entity, Kind, ENTITIES};

/// The schema version this build of Ferry reads and writes.
pub const SCHEMA_VERSION: i64 = 1;

/// The columns a field occupies in its entity's table, with their SQLite types.
pub fn field_columns(kind: Kind, column: &str) -> Vec<(String, &'static str)> {
    match kind {
        // Secrets never get a plain column; what is kept of them is derived elsewhere.
        Kind::Password | Kind::SecretNumber => vec![],
        Kind::Phone => vec![
            (column.to_string(), "TEXT"),
            (format!("{column}_e164"), "TEXT"),
        ],
        // Money as integer ten-thousandths: exact, summable in SQL (SQLite has no decimal type).
        Kind::Money(_) => vec![(format!("{column}_e4"), "INTEGER")],
        Kind::Integer { .. } | Kind::Bool => vec![(column.to_string(), "INTEGER")],
        _ => vec![(column.to_string(), "TEXT")],
    }
}

/// Columns some entity tables have after their fields: what Ferry derives from a record.
pub fn extra_columns(e: &Entity) -> &'static [(&'static str, &'static str)] {
    if e.is_ledger() {
        // The position in the run's ledger stream, the invoice the record landed on (if any),
        // and the hash of (User, Date, amount, Description, Invoice as given) for `ledger.duplicate`.
        return &[
            ("ledger_seq", "INTEGER"),
            ("invoice_id", "INTEGER"),
            ("ledger_key", "INTEGER"),
        ];
    }
    match e.name {
        "UserPaymentMethodCreditCard" => &[
            ("card_brand", "TEXT"),
            ("card_last4", "TEXT"),
            ("card_fingerprint", "TEXT"),
        ],
        "UserPaymentMethodACH" => &[("account_last4", "TEXT"), ("account_fingerprint", "TEXT")],
        "TicketAttachment" => &[("content", "BLOB"), ("size", "INTEGER")],
        _ => &[],
    }
}

/// Columns every entity table has before its fields.
pub const SYSTEM_COLUMNS: &[(&str, &str)] = &[
    ("id", "INTEGER PRIMARY KEY"),
    ("run_id", "INTEGER"),
    ("src_file", "TEXT"),
    ("src_sheet", "TEXT"),
    ("src_row", "INTEGER"),
    ("src_col", "TEXT"),
    ("rec_hash", "INTEGER NOT NULL"),
];

pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The DDL of one entity's table (SQLite dialect).
pub fn entity_ddl(e: &Entity) -> String {
    let mut cols: Vec<String> = SYSTEM_COLUMNS
        .iter()
        .map(|(n, t)| format!("{} {t}", quote(n)))
        .collect();
    for f in e.fields {
        for (c, t) in field_columns(f.kind, &f.column()) {
            cols.push(format!("{} {t}", quote(&c)));
        }
    }
    for (c, t) in extra_columns(e) {
        cols.push(format!("{} {t}", quote(c)));
    }
    let mut sql = format!(
        "CREATE TABLE {} (\n  {}\n);\n",
        quote(&e.table()),
        cols.join(",\n  ")
    );
    let key = e.key_fields();
    if !key.is_empty() {
        let kc: Vec<String> = key
            .iter()
            .map(|k| quote(&e.field_def(k).expect("key field").column()))
            .collect();
        sql.push_str(&format!(
            "CREATE UNIQUE INDEX {} ON {} ({});\n",
            quote(&format!("{}_key", e.table())),
            quote(&e.table()),
            kc.join(", ")
        ));
    }
    // Only the indexes lookups need: every other index would cost each insert a B-tree write.
    // Keyless records are matched by content hash from memory (loaded once per run); rollback
    // and reconciliation scan by run id. Contact e-mails are looked up by account (logins).
    if e.name == "ContactEmail" {
        let col = e.field_def("User").expect("account field").column();
        sql.push_str(&format!(
            "CREATE INDEX {} ON {} ({});\n",
            quote(&format!("{}_account", e.table())),
            quote(&e.table()),
            quote(&col)
        ));
    }
    sql
}

/// The journal and metadata tables.
pub const JOURNAL_DDL: &str = "\
CREATE TABLE ferry_meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
CREATE TABLE run (
  id INTEGER PRIMARY KEY,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  inputs TEXT NOT NULL,
  options TEXT NOT NULL,
  input_hash TEXT NOT NULL,
  error TEXT,
  checkpoint_phase INTEGER NOT NULL DEFAULT 0,
  checkpoint_seq INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  warnings INTEGER NOT NULL DEFAULT 0,
  infos INTEGER NOT NULL DEFAULT 0,
  pid INTEGER
);
CREATE TABLE run_count (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 0,
  imported INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, entity)
);
CREATE TABLE run_finding (
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  severity TEXT NOT NULL,
  code TEXT NOT NULL,
  entity TEXT,
  key TEXT,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  field TEXT,
  value TEXT,
  message TEXT NOT NULL,
  hint TEXT,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE run_change (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  row_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  before TEXT
);
CREATE INDEX run_change_run ON run_change (run_id);
CREATE TABLE invoice (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  \"user\" TEXT NOT NULL,
  name TEXT NOT NULL,
  closed INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  is_current INTEGER NOT NULL DEFAULT 0,
  total_e4 INTEGER NOT NULL DEFAULT 0,
  disbursed_e4 INTEGER NOT NULL DEFAULT 0,
  UNIQUE (\"user\", name)
);
CREATE TABLE ledger_line (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  \"user\" TEXT NOT NULL,
  invoice_id INTEGER,
  kind TEXT NOT NULL,
  rank INTEGER,
  amount_e4 INTEGER NOT NULL,
  disbursed_e4 INTEGER NOT NULL DEFAULT 0,
  auto_disburse INTEGER NOT NULL DEFAULT 0,
  entity TEXT NOT NULL,
  row_id INTEGER NOT NULL
);
CREATE INDEX ledger_line_user ON ledger_line (\"user\");
CREATE TABLE disbursement (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  payment_line_id INTEGER NOT NULL,
  invoice_id INTEGER NOT NULL,
  amount_e4 INTEGER NOT NULL
);
CREATE TABLE login (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  \"user\" TEXT NOT NULL UNIQUE,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  must_reset INTEGER NOT NULL
);
CREATE TABLE reset_token (
  id INTEGER PRIMARY KEY,
  login_id INTEGER NOT NULL,
  token_hash TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE TABLE run_rejected (
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  key TEXT NOT NULL,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  PRIMARY KEY (run_id, entity, key)
);
CREATE TABLE pending_login (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  \"user\" TEXT NOT NULL,
  email TEXT,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  password_hash TEXT
);
CREATE TABLE run_ledger_sum (
  run_id INTEGER NOT NULL,
  \"user\" TEXT NOT NULL,
  source_e4 INTEGER NOT NULL,
  imported_e4 INTEGER NOT NULL,
  rejected_e4 INTEGER NOT NULL,
  skipped_e4 INTEGER NOT NULL,
  PRIMARY KEY (run_id, \"user\")
);
";

/// The complete schema of the current version, generated from the catalogue.
pub fn current_ddl() -> String {
    let mut sql =
        String::from("-- Ferry schema, generated from the catalogue. Frozen once released.\n");
    sql.push_str(JOURNAL_DDL);
    for e in ENTITIES {
        sql.push_str(&entity_ddl(e));
    }
    sql
}

/// Numbered migrations. Each is frozen text once released: a change to the catalogue needs a
/// new migration, and `migration_matches_catalogue` fails until it exists.
pub const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../migrations/sqlite/0001_initial.sql"))];

/// The same migrations in PostgreSQL's dialect ([`crate::pg::ddl`] of the SQLite text, frozen
/// beside it; `migrations_agree_across_backends` keeps the two in step).
pub const MIGRATIONS_PG: &[(i64, &str)] =
    &[(1, include_str!("../migrations/postgres/0001_initial.sql"))];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every PostgreSQL migration is the dialect form of its SQLite twin.
    #[test]
    fn migrations_agree_across_backends() {
        assert_eq!(MIGRATIONS.len(), MIGRATIONS_PG.len());
        for ((a, lite), (b, pg)) in MIGRATIONS.iter().zip(MIGRATIONS_PG) {
            assert_eq!(a, b);
            assert_eq!(
                *pg,
                crate::pg::ddl(lite),
                "migration {a}: bless both with FERRY_BLESS=1"
            );
        }
    }

    /// The frozen migrations must produce exactly the schema the catalogue describes.
    /// `FERRY_BLESS=1 cargo test -p ferry-store` rewrites 0001 while it is unreleased.
    #[test]
    fn migration_matches_catalogue() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/sqlite/0001_initial.sql"
        );
        if std::env::var("FERRY_BLESS").is_ok() {
            std::fs::write(path, current_ddl()).unwrap();
            let pg = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/postgres/0001_initial.sql"
            );
            std::fs::write(pg, crate::pg::ddl(&current_ddl())).unwrap();
        }
        assert_eq!(MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
        let applied = rusqlite::Connection::open_in_memory().unwrap();
        for (_, sql) in MIGRATIONS {
            applied.execute_batch(sql).unwrap();
        }
        let wanted = rusqlite::Connection::open_in_memory().unwrap();
        wanted.execute_batch(&current_ddl()).unwrap();
        let schema = |c: &rusqlite::Connection| -> Vec<(String, String)> {
            let mut st = c
                .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
        };
        let (a, w) = (schema(&applied), schema(&wanted));
        let differ: Vec<&String> = w
            .iter()
            .filter(|x| !a.contains(x))
            .chain(a.iter().filter(|x| !w.contains(x)))
            .map(|(n, _)| n)
            .collect();
        assert!(differ.is_empty(), "the catalogue changed: add a migration (or bless 0001 before release); differing: {differ:?}");
    }
}
