//! The PostgreSQL connection: connecting by URL (creating the database on `init`), prepared
//! statements of the shared dialect, and streaming rows.

use super::admin::create_database;
use super::dialect::translate;
use super::error::{classify, describe};
use super::url::{session_name, shown};
use crate::{Cell, StoreError};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Statement};
use std::collections::HashMap;

/// How long `init` waits for a database that another session is creating (or that the server
/// is still creating for a client that was killed meanwhile).
const CREATE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// An open connection with its prepared statements.
pub(crate) struct Pg {
    pub client: Client,
    statements: HashMap<String, Statement>,
    /// Column types by table, for binary COPY.
    pub(super) types: HashMap<String, HashMap<String, Type>>,
    pub in_tx: bool,
    /// The URL as shown (no password).
    pub shown: String,
}

impl Pg {
    /// Connects; with `create`, a database that does not exist yet is created first.
    pub fn connect(url: &str, create: bool) -> Result<Pg, StoreError> {
        let shown = shown(url);
        let (config, tls) = super::tls::config(url)?;
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

    /// Streams the rows of a query (the server sends them as they are read).
    pub fn each(
        &mut self,
        sql: &str,
        params: &[Cell],
        f: &mut dyn FnMut(&crate::Row) -> Result<(), StoreError>,
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
            f(&row(&r, n, &shown)?)?;
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
