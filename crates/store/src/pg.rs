//! PostgreSQL specifics: connecting by URL (creating the database on `init`), the dialect the
//! shared SQL is rewritten into, how cells travel over the wire, and error kinds.
//!
//! The rest of the store writes SQLite-flavoured SQL with `?N` placeholders; [`translate`] turns
//! it into PostgreSQL once per statement (the text is cached with its prepared statement).

use crate::{Cell, StoreError};
use postgres::error::SqlState;
use postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use postgres::{Client, Config, Statement};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;

/// The advisory-lock key of the writer lock ("FERRYWRT" as a number).
pub const WRITER_LOCK: i64 = 0x4645_5252_5957_5254;

/// The advisory-lock key that serialises creating the schema in an empty database
/// ("FERRYINI" as a number).
pub const INIT_LOCK: i64 = 0x4645_5252_5949_4E49;

/// How long `init` waits for a database that another session is creating (or that the server
/// is still creating for a client that was killed meanwhile).
const CREATE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// This machine's name.
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The session name of this process: `ferry <pid>@<host>`.
pub fn session_name() -> String {
    format!("ferry {}@{}", std::process::id(), host())
}

/// The (pid, host) of a session name made by [`session_name`].
pub fn parse_session_name(name: &str) -> Option<(i64, String)> {
    let rest = name.strip_prefix("ferry ")?;
    let (pid, host) = rest.split_once('@')?;
    Some((pid.parse().ok()?, host.to_string()))
}

/// Whether a `--db` value names a PostgreSQL target.
pub fn is_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL as shown in messages: a password in it — in the user part, even one holding a raw
/// `/`, `?` or `@`, or as any parameter whose name contains `password` — is replaced by `***`;
/// the other parameters (`sslmode`, `sslrootcert`, …) stay. When in doubt it hides too much.
pub fn shown(url: &str) -> String {
    let url = shown_userinfo(url);
    match url.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().contains("password") => {
                        format!("{k}=***")
                    }
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => url,
    }
}

/// The URL with the password of its user part replaced by `***`. The user part ends at the
/// last `@` of the URL: a password written without percent-encoding may hold `/`, `?` or `@`,
/// and an `@` further on (in a parameter) only makes more of the URL hidden, never less.
fn shown_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// The URL with another database name (the path of the URL; query parameters are kept).
pub fn with_dbname(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    // The user part ends at the first `@`, as the driver reads it (a raw `/` or `?` may be in
    // the password).
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    let authority_end = rest[host_start..]
        .find(['/', '?'])
        .map_or(rest.len(), |i| host_start + i);
    let after = &rest[authority_end..];
    let query = after.find('?').map(|i| &after[i..]).unwrap_or("");
    format!("{}/{name}{query}", &url[..scheme_end + authority_end])
}

/// The database name of a URL (the user's name when the URL names none).
pub fn dbname(url: &str) -> Result<String, StoreError> {
    let (config, _) = crate::tls::config(url)?;
    Ok(config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres")
        .to_string())
}

/// A connection to the server's maintenance database, for creating and dropping databases.
fn admin(url: &str) -> Result<Client, StoreError> {
    let (mut config, tls) = crate::tls::config(url)?;
    config.dbname("postgres");
    config.application_name(&session_name());
    tls.connect(&config).map_err(|e| classify(e, &shown(url)))
}

/// Makes `copy` a copy of the database of `url` (`CREATE DATABASE … TEMPLATE`): a consistent
/// snapshot, which the server can take only while no session is connected to the original.
/// Returns the copy's URL.
pub fn copy_database(url: &str, copy: &str) -> Result<String, StoreError> {
    let source = dbname(url)?;
    let mut a = admin(url)?;
    let shown = shown(url);
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        crate::schema::quote(copy),
        crate::schema::quote(&source)
    );
    if let Err(e) = a.batch_execute(&sql) {
        if e.code() == Some(&SqlState::OBJECT_IN_USE) {
            let who: Vec<String> = a
                .query(
                    "SELECT coalesce(nullif(application_name, ''), 'a client') || ' from ' || coalesce(host(client_addr), 'local') FROM pg_catalog.pg_stat_activity WHERE datname = $1",
                    &[&source],
                )
                .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect())
                .unwrap_or_default();
            return Err(StoreError::Busy(format!(
                "{shown}: a copy of the database needs it idle, but {} session(s) are connected ({}); close them and try again",
                who.len(),
                who.join(", ")
            )));
        }
        return Err(classify(e, &shown));
    }
    Ok(with_dbname(url, copy))
}

/// Drops the database of `url` (a rehearsal's copy).
pub fn drop_database(url: &str) -> Result<(), StoreError> {
    let name = dbname(url)?;
    let mut a = admin(url)?;
    a.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {}",
        crate::schema::quote(&name)
    ))
    .map_err(|e| classify(e, &shown(url)))
}

/// Creates database `name` on the server of `config`. A database of that name that exists by
/// now is as good: another client created it meanwhile, or the server finished the `CREATE
/// DATABASE` of a client that was killed while sending it (the server completes a statement
/// whose client is gone). While such a creation is under way, this one waits for it on the
/// server, then fails with a duplicate name (42P04, or 23505 on `pg_database_datname_index`):
/// both mean "it exists now".
fn create_database(
    config: &Config,
    tls: &crate::tls::Tls,
    name: &str,
    shown: &str,
    deadline: std::time::Instant,
) -> Result<(), StoreError> {
    let mut admin = config.clone();
    admin.dbname("postgres");
    let mut a = tls.connect(&admin).map_err(|e| classify(e, shown))?;
    let sql = format!("CREATE DATABASE {}", crate::schema::quote(name));
    loop {
        let Err(e) = a.batch_execute(&sql) else {
            return Ok(());
        };
        match e.code() {
            Some(c) if *c == SqlState::DUPLICATE_DATABASE || *c == SqlState::UNIQUE_VIOLATION => {
                return Ok(())
            }
            // The template is briefly in use (a session connected to it): try again.
            Some(c) if *c == SqlState::OBJECT_IN_USE && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            _ => return Err(classify(e, shown)),
        }
    }
}

/// An open connection with its prepared statements.
pub struct Pg {
    pub client: Client,
    statements: HashMap<String, Statement>,
    /// Column types by table, for binary COPY.
    types: HashMap<String, HashMap<String, Type>>,
    pub in_tx: bool,
    /// The URL as shown (no password).
    pub shown: String,
}

impl Pg {
    /// Connects; with `create`, a database that does not exist yet is created first.
    pub fn connect(url: &str, create: bool) -> Result<Pg, StoreError> {
        let shown = shown(url);
        let (config, tls) = crate::tls::config(url)?;
        let dbname = config
            .get_dbname()
            .map(str::to_string)
            .or_else(|| config.get_user().map(str::to_string));
        let mut config = config;
        // Who holds the writer lock is told by the session's name: this process on this host.
        config.application_name(&session_name());
        let deadline = std::time::Instant::now() + CREATE_WAIT;
        let client = loop {
            match tls.connect(&config) {
                Ok(c) => break c,
                Err(e) if e.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {
                    let Some(name) = dbname.as_deref().filter(|_| create) else {
                        return Err(StoreError::Missing(shown));
                    };
                    if std::time::Instant::now() > deadline {
                        return Err(classify(e, &shown));
                    }
                    create_database(&config, &tls, name, &shown, deadline)?;
                }
                Err(e) => return Err(classify(e, &shown)),
            }
        };
        let mut pg = Pg {
            client,
            statements: HashMap::new(),
            types: HashMap::new(),
            in_tx: false,
            shown,
        };
        // Messages in English whatever the server's locale; quiet notices.
        pg.batch("SET client_min_messages = warning")?;
        Ok(pg)
    }

    pub fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        let shown = self.shown.clone();
        self.client
            .batch_execute(sql)
            .map_err(|e| classify(e, &shown))
    }

    /// The prepared statement for a shared-dialect SQL text.
    pub fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let shown = self.shown.clone();
        let st = self
            .client
            .prepare(&translate(sql))
            .map_err(|e| classify(e, &shown))?;
        if self.statements.len() > 512 {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    pub fn exec(&mut self, sql: &str, params: &[Cell]) -> Result<usize, StoreError> {
        let st = self.statement(sql)?;
        let shown = self.shown.clone();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|c| c as _).collect();
        self.client
            .execute(&st, &refs)
            .map(|n| n as usize)
            .map_err(|e| classify(e, &shown))
    }

    /// Writes rows (`columns.len()` cells each, one after another) with binary COPY.
    pub fn copy_in(
        &mut self,
        table: &str,
        columns: &[&str],
        cells: &[Cell],
    ) -> Result<(), StoreError> {
        use postgres::binary_copy::BinaryCopyInWriter;
        let shown = self.shown.clone();
        if !self.types.contains_key(table) {
            let mut map = HashMap::new();
            let rows = self
                .client
                .query(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                    &[&table],
                )
                .map_err(|e| classify(e, &shown))?;
            for r in rows {
                let (name, ty): (String, String) = (r.get(0), r.get(1));
                let ty = match ty.as_str() {
                    "bigint" => Type::INT8,
                    "integer" => Type::INT4,
                    "smallint" => Type::INT2,
                    "bytea" => Type::BYTEA,
                    "boolean" => Type::BOOL,
                    "numeric" => Type::NUMERIC,
                    _ => Type::TEXT,
                };
                map.insert(name, ty);
            }
            self.types.insert(table.to_string(), map);
        }
        let known = &self.types[table];
        let types: Vec<Type> = columns
            .iter()
            .map(|c| {
                known.get(*c).cloned().ok_or_else(|| {
                    StoreError::Other(format!("{shown}: table {table} has no column {c}"))
                })
            })
            .collect::<Result<_, _>>()?;
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            crate::schema::quote(table),
            columns
                .iter()
                .map(|c| crate::schema::quote(c))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let writer = self.client.copy_in(&sql).map_err(|e| classify(e, &shown))?;
        let mut w = BinaryCopyInWriter::new(writer, &types);
        for row in cells.chunks(columns.len().max(1)) {
            let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|c| c as _).collect();
            w.write(&refs).map_err(|e| classify(e, &shown))?;
        }
        w.finish().map_err(|e| classify(e, &shown))?;
        Ok(())
    }

    /// Streams the rows of a query (the server sends them as they are read).
    pub fn each(
        &mut self,
        sql: &str,
        params: &[Cell],
        f: &mut dyn FnMut(crate::Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let st = self.statement(sql)?;
        let shown = self.shown.clone();
        let n = st.columns().len();
        let mut rows = self
            .client
            .query_raw(&st, params.iter())
            .map_err(|e| classify(e, &shown))?;
        while let Some(r) = rows.next().map_err(|e| classify(e, &shown))? {
            f(row(&r, n, &shown)?)?;
        }
        Ok(())
    }
}

fn row(r: &postgres::Row, n: usize, shown: &str) -> Result<crate::Row, StoreError> {
    (0..n)
        .map(|i| {
            r.try_get::<_, Cell>(i)
                .map_err(|e| StoreError::Other(format!("{shown}: {}", describe(&e))))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(crate::Row)
}

/// The full text of a driver error (its source carries the server's message).
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(d) = db.detail() {
                s.push_str(&format!(" ({d})"));
            }
            s
        }
        None => match e.source() {
            Some(src) => format!("{e}: {src}"),
            None => e.to_string(),
        },
    }
}

/// The same kinds as SQLite's errors (see [`StoreError::classify`]).
pub fn classify(e: postgres::Error, shown: &str) -> StoreError {
    if let Some(why) = crate::tls::explain(&e) {
        return StoreError::Tls(format!("{shown}: {why}"));
    }
    let text = format!("{shown}: {}", describe(&e));
    let Some(code) = e.code() else {
        return if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
            StoreError::Unreachable(text)
        } else {
            StoreError::Other(text)
        };
    };
    let c = code.code();
    match c {
        "40001" | "40P01" | "55P03" | "55006" => StoreError::Busy(text),
        "25006" | "42501" => StoreError::ReadOnly(text),
        "53100" => StoreError::DiskFull(text),
        "XX001" | "XX002" => StoreError::Corrupt(text),
        "3D000" => StoreError::Missing(shown.to_string()),
        _ if c.starts_with("23") => StoreError::Constraint(text),
        _ if c.starts_with("08") || c.starts_with("57P") => StoreError::Unreachable(text),
        _ => StoreError::Other(text),
    }
}

/// Rewrites the shared dialect for PostgreSQL: `?N` → `$N`, `json_object(` →
/// `json_build_object(`. String literals and quoted names are left alone.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            out.push(c);
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' if chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) => out.push('$'),
            'j' if sql[i..].starts_with("json_object(")
                && !sql[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|p| p.is_alphanumeric() || p == '_') =>
            {
                out.push_str("json_build_object(");
                for _ in 1.."json_object(".len() {
                    chars.next();
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// The PostgreSQL form of the generated (SQLite) DDL: 64-bit integers, byte arrays, ids that
/// number themselves when a statement gives none, and text compared byte by byte (`COLLATE "C"`,
/// as SQLite does), so that keys, `ORDER BY` and reports agree across backends whatever the
/// server's locale.
pub fn ddl(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 1024);
    for line in sqlite.lines() {
        let l = line
            .replace(
                "INTEGER PRIMARY KEY",
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            )
            .replace(" INTEGER", " BIGINT")
            .replace(" BLOB", " BYTEA")
            .replace(" TEXT", " TEXT COLLATE \"C\"");
        out.push_str(&l);
        out.push('\n');
    }
    out
}

impl ToSql for Cell {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let bad = || -> Box<dyn StdError + Sync + Send> {
            format!("a value of this kind cannot be stored as {ty}").into()
        };
        match self {
            Cell::Null => Ok(IsNull::Yes),
            Cell::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i).map_err(|_| bad())?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::NUMERIC => Decimal::from(*i).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(&Type::TEXT, out),
            },
            Cell::Text(s) => match *ty {
                Type::INT8 => s.parse::<i64>().map_err(|_| bad())?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>().map_err(|_| bad())?.to_sql(ty, out),
                Type::NUMERIC => Decimal::from_str(s).map_err(|_| bad())?.to_sql(ty, out),
                Type::BOOL => matches!(s.as_str(), "1" | "true" | "t").to_sql(ty, out),
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                // PostgreSQL text cannot hold NUL. Values with control characters never reach a
                // table (value.control_char rejects them); a finding quoting one shows U+FFFD.
                _ if s.contains('\0') => s
                    .replace('\0', "\u{FFFD}")
                    .as_str()
                    .to_sql(&Type::TEXT, out),
                _ => s.as_str().to_sql(&Type::TEXT, out),
            },
            Cell::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => String::from_utf8_lossy(b).as_ref().to_sql(&Type::TEXT, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Cell, Box<dyn StdError + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i32::from_sql(ty, raw)? as i64),
            Type::INT2 => Cell::Int(i16::from_sql(ty, raw)? as i64),
            Type::OID => Cell::Int(u32::from_sql(ty, raw)? as i64),
            Type::BOOL => Cell::Int(bool::from_sql(ty, raw)? as i64),
            Type::NUMERIC => {
                let d = Decimal::from_sql(ty, raw)?;
                match (d.fract().is_zero(), i64::try_from(d)) {
                    (true, Ok(i)) => Cell::Int(i),
                    _ => Cell::Text(d.normalize().to_string()),
                }
            }
            Type::FLOAT8 => Cell::Text(f64::from_sql(ty, raw)?.to_string()),
            Type::FLOAT4 => Cell::Text(f32::from_sql(ty, raw)?.to_string()),
            Type::BYTEA => Cell::Blob(raw.to_vec()),
            // jsonb's binary form is a version byte, then the text.
            Type::JSONB => {
                Cell::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or(&[])).into_owned())
            }
            _ => Cell::Text(String::from_utf8_lossy(raw).into_owned()),
        })
    }

    fn from_sql_null(_: &Type) -> Result<Cell, Box<dyn StdError + Sync + Send>> {
        Ok(Cell::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_every_spelling() {
        for (url, shown_as) in [
            ("postgres://u:s3cret@h/db", "postgres://u:***@h/db"),
            ("postgres://u:pa/ss@h/db", "postgres://u:***@h/db"),
            (
                "postgres://u:pa?ss@h/db?sslmode=require",
                "postgres://u:***@h/db?sslmode=require",
            ),
            ("postgres://u:p@ss@h:5432/db", "postgres://u:***@h:5432/db"),
            (
                "postgres://u@h/db?password=s3cret",
                "postgres://u@h/db?password=***",
            ),
            (
                "postgres://h/db?PassWord=s3cret&x=1",
                "postgres://h/db?PassWord=***&x=1",
            ),
            (
                "postgres://h/db?sslpassword=s3cret",
                "postgres://h/db?sslpassword=***",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
        ] {
            assert_eq!(shown(url), shown_as, "{url}");
        }
        assert_eq!(
            with_dbname("postgres://u:pa/ss@h/old?sslmode=require", "new"),
            "postgres://u:pa/ss@h/new?sslmode=require"
        );
    }

    #[test]
    fn placeholders_and_functions_are_rewritten_outside_literals() {
        assert_eq!(
            translate(
                "SELECT json_object('a', ?1) FROM t WHERE x = ?12 AND y = '?3' AND \"?4\" = 1"
            ),
            "SELECT json_build_object('a', $1) FROM t WHERE x = $12 AND y = '?3' AND \"?4\" = 1"
        );
        assert_eq!(translate("SELECT 'é?1', ?2"), "SELECT 'é?1', $2");
    }

    #[test]
    fn database_names_are_replaced() {
        assert_eq!(
            with_dbname("postgres://u:p@h:5432/live?sslmode=disable", "copy"),
            "postgres://u:p@h:5432/copy?sslmode=disable"
        );
        assert_eq!(with_dbname("postgres://h", "copy"), "postgres://h/copy");
        assert_eq!(dbname("postgres://u@h/live").unwrap(), "live");
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            shown("postgres://u:s3cret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(shown("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(shown("postgresql://h/db"), "postgresql://h/db");
        // With the TLS parameters, and a password given as a parameter.
        assert_eq!(
            shown("postgres://u:s3cret@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem"),
            "postgres://u:***@h/db?sslmode=verify-full&sslrootcert=/etc/ca.pem"
        );
        assert_eq!(
            shown("postgres://u@h/db?sslmode=require&password=s3cret&application_name=x"),
            "postgres://u@h/db?sslmode=require&password=***&application_name=x"
        );
    }

    #[test]
    fn ddl_uses_postgres_types() {
        assert_eq!(
            ddl("  id INTEGER PRIMARY KEY,\n  n INTEGER NOT NULL,\n  c BLOB,\n  t TEXT NOT NULL"),
            "  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n  n BIGINT NOT NULL,\n  c BYTEA,\n  t TEXT COLLATE \"C\" NOT NULL\n"
        );
    }
}
