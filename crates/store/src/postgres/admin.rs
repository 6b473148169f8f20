//! The server's databases: creating one for `init`, copying one (a rehearsal) and dropping it.

use super::error::classify;
use super::url::{dbname, session_name, shown, with_dbname};
use crate::StoreError;
use postgres::error::SqlState;
use postgres::{Client, Config};

/// A connection to the server's maintenance database, for creating and dropping databases.
fn admin(url: &str) -> Result<Client, StoreError> {
    let (mut config, tls) = super::tls::config(url)?;
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
pub(super) fn create_database(
    config: &Config,
    tls: &super::tls::Tls,
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
