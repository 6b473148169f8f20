//! The target's schema: one table per entity type, generated from the catalogue, plus the run
//! journal; versioned, applied by numbered migrations that are frozen once released.

use ferry_catalogue::{Entity, Kind, Known, ENTITIES};

/// The schema version this build of Ferry reads and writes.
pub const SCHEMA_VERSION: i64 = 2;

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
    match e.known() {
        Some(Known::UserPaymentMethodCreditCard) => &[
            ("card_brand", "TEXT"),
            ("card_last4", "TEXT"),
            ("card_fingerprint", "TEXT"),
        ],
        Some(Known::UserPaymentMethodACH) => {
            &[("account_last4", "TEXT"), ("account_fingerprint", "TEXT")]
        }
        Some(Known::TicketAttachment) => &[("content", "BLOB"), ("size", "INTEGER")],
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

/// Identifiers quoted and joined by `, ` (a column list).
pub fn quote_list<S: AsRef<str>>(idents: &[S]) -> String {
    idents
        .iter()
        .map(|c| quote(c.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
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
    // and reconciliation scan by run id. Contact e-mails are looked up by account (logins). (An
    // account's services of one name in one package are counted by their key's first columns.)
    let lookup: &[&str] = match e.known() {
        Some(Known::ContactEmail) => &["User"],
        _ => &[],
    };
    if !lookup.is_empty() {
        let cols: Vec<String> = lookup
            .iter()
            .map(|f| quote(&e.field_def(f).expect("lookup field").column()))
            .collect();
        sql.push_str(&format!(
            "CREATE INDEX {} ON {} ({});\n",
            quote(&format!("{}_account", e.table())),
            quote(&e.table()),
            cols.join(", ")
        ));
    }
    sql
}

/// The journal and metadata tables (`run_event`: who started, resumed or rolled back each run).
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
  pid INTEGER,
  kind TEXT NOT NULL DEFAULT 'import'
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
  tax_rank INTEGER,
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
  must_reset INTEGER NOT NULL,
  must_change INTEGER NOT NULL DEFAULT 0,
  password_changed_at TEXT
);
CREATE TABLE reset_token (
  id INTEGER PRIMARY KEY,
  login_id INTEGER NOT NULL,
  token_hash TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE INDEX reset_token_hash ON reset_token (token_hash);
CREATE INDEX reset_token_login ON reset_token (login_id, used_at);
CREATE TABLE login_event (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  login_id INTEGER,
  \"user\" TEXT,
  username TEXT,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX login_event_login ON login_event (login_id);
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
CREATE INDEX pending_login_user ON pending_login (run_id, \"user\");
CREATE TABLE run_ledger_sum (
  run_id INTEGER NOT NULL,
  \"user\" TEXT NOT NULL,
  source_e4 INTEGER NOT NULL,
  imported_e4 INTEGER NOT NULL,
  rejected_e4 INTEGER NOT NULL,
  skipped_e4 INTEGER NOT NULL,
  PRIMARY KEY (run_id, \"user\")
);
CREATE TABLE run_event (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX run_event_run ON run_event (run_id);
";

/// The references between Ferry's own tables (table, column, referenced table, its column), which
/// the post-upgrade checks verify with the catalogue's references between entity tables.
pub const INTERNAL_REFERENCES: &[(&str, &str, &str, &str)] = &[
    ("invoice", "user", "user", "name"),
    ("ledger_line", "user", "user", "name"),
    ("ledger_line", "invoice_id", "invoice", "id"),
    ("disbursement", "payment_line_id", "ledger_line", "id"),
    ("disbursement", "invoice_id", "invoice", "id"),
    ("login", "user", "user", "name"),
    ("reset_token", "login_id", "login", "id"),
    (
        "cert_program_component",
        "program_code",
        "cert_program",
        "code",
    ),
    (
        "cert_program_component",
        "component_code",
        "cert_component",
        "code",
    ),
    ("cert_registration", "user", "user", "name"),
    ("cert_registration", "program_code", "cert_program", "code"),
    (
        "cert_enrollment",
        "registration_id",
        "cert_registration",
        "id",
    ),
    (
        "cert_enrollment",
        "component_code",
        "cert_component",
        "code",
    ),
];

/// The certification model that `ferry certification migrate` writes from the legacy records
/// (SPEC §11): fixed tables, not generated from the catalogue. Every row carries the run that
/// wrote it (`ferry rollback` deletes by run).
pub const CERTIFICATION_DDL: &str = "\
CREATE TABLE cert_program (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT,
  requires_approval INTEGER NOT NULL
);
CREATE TABLE cert_component (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT,
  requires_approval INTEGER NOT NULL,
  requires_grade INTEGER NOT NULL
);
CREATE TABLE cert_program_component (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  program_code TEXT NOT NULL,
  component_code TEXT NOT NULL,
  required INTEGER NOT NULL DEFAULT 0,
  added_by_migration INTEGER NOT NULL DEFAULT 0,
  UNIQUE (program_code, component_code)
);
CREATE TABLE cert_registration (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  \"user\" TEXT NOT NULL,
  program_code TEXT NOT NULL,
  status TEXT,
  registered_date TEXT,
  completed_date TEXT,
  UNIQUE (\"user\", program_code)
);
CREATE TABLE cert_enrollment (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  seqn INTEGER NOT NULL UNIQUE,
  registration_id INTEGER NOT NULL,
  \"user\" TEXT NOT NULL,
  program_code TEXT NOT NULL,
  component_code TEXT NOT NULL,
  status TEXT,
  grade TEXT,
  registered_date TEXT,
  completed_date TEXT
);
";

/// Staff of the web console (`ferry serve`, SPEC §14): accounts with an Argon2id hash, a role,
/// whether they are disabled and when they last signed in,
/// sessions named by the hash of their random token, and the browsers (devices) each signed in
/// from, named the same way (their device cookie lifts the sign-in throttle's e-mail limit).
pub const STAFF_DDL: &str = "\
CREATE TABLE staff_user (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  last_sign_in_at TEXT
);
CREATE TABLE staff_session (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  staff_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE staff_device (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  staff_id INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL
);
";

/// The complete schema of the current version, generated from the catalogue.
pub fn current_ddl() -> String {
    let mut sql =
        String::from("-- Ferry schema, generated from the catalogue. Frozen once released.\n");
    sql.push_str(JOURNAL_DDL);
    sql.push_str(CERTIFICATION_DDL);
    sql.push_str(STAFF_DDL);
    for e in ENTITIES {
        sql.push_str(&entity_ddl(e));
    }
    sql
}

/// Numbered migrations. Each is frozen text once released: a change to the catalogue needs a
/// new migration, and `migrations_match_catalogue` fails until it exists. Version 1 was released
/// (targets made by it exist: `tests/fixtures/targets/`); the last one may still be re-blessed
/// while unreleased (its hand-written part, above [`GENERATED_MARK`], is kept).
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_initial.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_certification_config.sql"),
    ),
];

/// The same migrations in PostgreSQL's dialect ([`crate::pg::ddl`] of the SQLite text, frozen
/// beside it; `migrations_agree_across_backends` keeps the two in step).
pub const MIGRATIONS_PG: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_initial.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_certification_config.sql"),
    ),
];

/// The file names of the migrations (for blessing the last one).
#[cfg(test)]
const MIGRATION_FILES: &[&str] = &["0001_initial.sql", "0002_certification_config.sql"];

/// In a migration, the line after which the statements are generated: the tables and indexes
/// that are new in its version, from the catalogue. What is above it is written by hand.
pub const GENERATED_MARK: &str = "-- Generated below by `FERRY_BLESS=1 cargo test -p ferry-store` while unreleased: the tables and indexes new in this version.";

/// The statements of a DDL text (statements end with `;` at the end of a line; comment lines
/// are dropped).
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if t.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// The name of the table or index a `CREATE TABLE` / `CREATE [UNIQUE] INDEX` statement creates.
pub fn created_name(statement: &str) -> Option<String> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    let name = match words.as_slice() {
        ["CREATE", "TABLE", name, ..] => name,
        ["CREATE", "INDEX", name, ..] => name,
        ["CREATE", "UNIQUE", "INDEX", name, ..] => name,
        _ => return None,
    };
    Some(unquote(name.trim_end_matches('(')))
}

/// An identifier without its double quotes.
pub fn unquote(ident: &str) -> String {
    let t = ident.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].replace("\"\"", "\"")
    } else {
        t.to_string()
    }
}

/// The structure of a SQLite schema by object name: a table's columns in order (name, type,
/// not null, default, primary key), an index's table, uniqueness and columns. Views and
/// triggers are listed by name only.
pub fn lite_shape(c: &rusqlite::Connection) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let objects: Vec<(String, String, String)> = c
        .prepare("SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .unwrap_or_default();
    for (kind, name, table) in objects {
        let shape = match kind.as_str() {
            "table" => {
                let cols: Vec<String> = c
                    .prepare("SELECT name, type, \"notnull\", coalesce(dflt_value, ''), pk FROM pragma_table_info(?1)")
                    .and_then(|mut st| {
                        st.query_map([&name], |r| {
                            Ok(format!(
                                "{} {} {} {} {}",
                                r.get::<_, String>(0)?,
                                r.get::<_, String>(1)?,
                                r.get::<_, i64>(2)?,
                                r.get::<_, String>(3)?,
                                r.get::<_, i64>(4)?
                            ))
                        })?
                        .collect()
                    })
                    .unwrap_or_default();
                format!("table: {}", cols.join(", "))
            }
            "index" => {
                let unique: i64 = c
                    .query_row(
                        "SELECT \"unique\" FROM pragma_index_list(?1) WHERE name = ?2",
                        [&table, &name],
                        |r| r.get(0),
                    )
                    .unwrap_or(0);
                let cols: Vec<String> = c
                    .prepare("SELECT coalesce(name, '') FROM pragma_index_info(?1) ORDER BY seqno")
                    .and_then(|mut st| st.query_map([&name], |r| r.get(0))?.collect())
                    .unwrap_or_default();
                format!("index on {table} unique {unique} ({})", cols.join(", "))
            }
            other => format!("{other} on {table}"),
        };
        out.insert(name, shape);
    }
    out
}

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

    /// The frozen migrations must produce exactly the schema the catalogue describes (compared
    /// by structure: tables with their columns in order, indexes with their columns).
    /// `FERRY_BLESS=1 cargo test -p ferry-store` rewrites the generated part of the last
    /// migration (and its PostgreSQL twin) while it is unreleased.
    #[test]
    fn migrations_match_catalogue() {
        assert_eq!(MIGRATIONS.last().unwrap().0, SCHEMA_VERSION);
        assert_eq!(MIGRATION_FILES.len(), MIGRATIONS.len());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        if std::env::var("FERRY_BLESS").is_ok() {
            let last = MIGRATION_FILES.last().unwrap();
            let path = format!("{dir}/sqlite/{last}");
            let text = std::fs::read_to_string(&path).unwrap();
            let hand = match text.find(GENERATED_MARK) {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let before = rusqlite::Connection::open_in_memory().unwrap();
            for (_, sql) in &MIGRATIONS[..MIGRATIONS.len() - 1] {
                before.execute_batch(sql).unwrap();
            }
            before.execute_batch(&hand).unwrap();
            let have = lite_shape(&before);
            let mut generated = String::new();
            for st in statements(&current_ddl()) {
                let name = created_name(&st).expect("current DDL creates tables and indexes");
                if !have.contains_key(&name) {
                    generated.push_str(&st);
                }
            }
            let text = format!("{hand}{GENERATED_MARK}\n{generated}");
            std::fs::write(&path, &text).unwrap();
            std::fs::write(format!("{dir}/postgres/{last}"), crate::pg::ddl(&text)).unwrap();
        }
        let applied = rusqlite::Connection::open_in_memory().unwrap();
        for (_, sql) in MIGRATIONS {
            applied.execute_batch(sql).unwrap();
        }
        let wanted = rusqlite::Connection::open_in_memory().unwrap();
        wanted.execute_batch(&current_ddl()).unwrap();
        let (a, w) = (lite_shape(&applied), lite_shape(&wanted));
        let differ: Vec<&String> = w
            .iter()
            .filter(|(k, v)| a.get(*k) != Some(v))
            .chain(a.iter().filter(|(k, _)| !w.contains_key(*k)))
            .map(|(n, _)| n)
            .collect();
        assert!(differ.is_empty(), "the catalogue changed: add a migration (or bless the last, unreleased one); differing: {differ:?}");
    }

    #[test]
    fn statements_are_split_at_line_ends() {
        let st = statements("-- a comment; with a semicolon\nCREATE TABLE a (\n  x TEXT\n);\nALTER TABLE a ADD COLUMN y TEXT;\n");
        assert_eq!(st.len(), 2);
        assert_eq!(created_name(&st[0]).as_deref(), Some("a"));
        assert_eq!(created_name(&st[1]), None);
    }
}
