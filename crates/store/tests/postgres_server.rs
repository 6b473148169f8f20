//! The PostgreSQL backend against the real server on 127.0.0.1:5432: a target is created in a
//! uniquely named database (dropped at the end), written through the bulk path and the
//! statement calls, read back, and its errors classified. With FERRY_REQUIRE_PG set, a server
//! that does not answer is a failure, never a silent skip.

use ferry_store::{params, Cell, StoreError, Target};
use std::net::TcpStream;
use std::time::Duration;

const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

fn server_answers() -> bool {
    let required = std::env::var_os("FERRY_REQUIRE_PG").is_some();
    let addr = "127.0.0.1:5432".parse().unwrap();
    if TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_err() {
        assert!(
            !required,
            "FERRY_REQUIRE_PG is set but no PostgreSQL server answers on 127.0.0.1:5432"
        );
        eprintln!("skipped: no PostgreSQL server on 127.0.0.1:5432 (set FERRY_REQUIRE_PG=1 to make this a failure)");
        return false;
    }
    true
}

/// A database name unique to this test and process; dropped when the guard goes.
struct Db(String);
impl Db {
    fn new(tag: &str) -> Db {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000;
        Db(format!("ferry_st_{tag}_{}_{nanos}", std::process::id()))
    }
    fn url(&self) -> String {
        format!("{SERVER}/{}", self.0)
    }
}
impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&format!("{SERVER}/postgres"), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.0
            ));
        }
    }
}

const LEDGER_COLUMNS: [&str; 7] = [
    "id",
    "run_id",
    "user",
    "kind",
    "amount_e4",
    "entity",
    "row_id",
];

#[test]
fn a_target_is_created_written_in_bulk_and_read_back() {
    if !server_answers() {
        return;
    }
    let db = Db::new("bulk");
    // open refuses a database that does not exist; init creates it
    assert!(matches!(
        Target::open_db(&db.url()),
        Err(StoreError::Missing(_))
    ));
    let (t, created) = Target::init_db(&db.url()).unwrap();
    assert!(created);
    assert_eq!(
        t.schema_version().unwrap(),
        Some(ferry_store::schema::SCHEMA_VERSION)
    );
    drop(t);
    let (t, created) = Target::init_db(&db.url()).unwrap();
    assert!(!created, "a second init finds the target");
    bulk_rows_are_read_back_and_rolled_back(&t);
    values_survive_the_trip(&t);
    the_writer_lock_is_advisory(&t, &db.url());
}

/// 50,000 rows through the bulk path (binary COPY), visible to the next read; queued rows go
/// with a rollback.
fn bulk_rows_are_read_back_and_rolled_back(t: &Target) {
    let tx = t.transaction().unwrap();
    for i in 0..50_000i64 {
        tx.append(
            "ledger_line",
            &LEDGER_COLUMNS,
            params![
                i + 1,
                1i64,
                format!("U{i}"),
                "charge",
                i * 10_000 + 1,
                "Debit",
                i
            ]
            .to_vec(),
        )
        .unwrap();
    }
    assert_eq!(
        tx.int("SELECT count(*) FROM ledger_line", &[]).unwrap(),
        50_000
    );
    // exact sums come back as numbers (numeric from the server)
    let sum = tx
        .int("SELECT sum(amount_e4) FROM ledger_line", &[])
        .unwrap();
    assert_eq!(sum, (0..50_000i64).map(|i| i * 10_000 + 1).sum::<i64>());
    tx.append(
        "ledger_line",
        &LEDGER_COLUMNS,
        params![999_999i64, 1i64, "X", "charge", 1i64, "Debit", 1i64].to_vec(),
    )
    .unwrap();
    tx.rollback().unwrap();
    assert_eq!(t.int("SELECT count(*) FROM ledger_line", &[]).unwrap(), 0);
}

/// Text, bytes and nulls survive the trip; a key violation is classified as a constraint, like
/// SQLite's.
fn values_survive_the_trip(t: &Target) {
    let tx = t.transaction().unwrap();
    tx.exec(
        "INSERT INTO ferry_meta (key, value) VALUES (?1, ?2)",
        params!["k", "é \u{1F600} 'quoted' ?1"],
    )
    .unwrap();
    tx.commit().unwrap();
    let row = t
        .first(
            "SELECT value, NULL FROM ferry_meta WHERE key = ?1",
            params!["k"],
        )
        .unwrap()
        .unwrap();
    assert_eq!(row.text(0), "é \u{1F600} 'quoted' ?1");
    assert_eq!(row.0[1], Cell::Null);
    let e = t
        .exec(
            "INSERT INTO ferry_meta (key, value) VALUES ('k', 'again')",
            &[],
        )
        .unwrap_err();
    assert!(matches!(e, StoreError::Constraint(_)), "{e}");
}

/// The writer lock is an advisory lock: a second session is refused.
fn the_writer_lock_is_advisory(t: &Target, url: &str) {
    let held = t.hold_writer(7).unwrap();
    assert_eq!(held.took_over(), None);
    let other = Target::open_db(url).unwrap();
    match other.hold_writer(8) {
        Err(StoreError::Held { run, .. }) => assert_eq!(run, 7),
        Err(e) => panic!("expected Held, got {e:?}"),
        Ok(_) => panic!("expected Held, got the role"),
    }
    held.release().unwrap();
    let held = other.hold_writer(8).unwrap();
    assert_eq!(held.took_over(), None);
    held.release().unwrap();
    // A holder that lets go by dropping its role gives the target back too.
    drop(t.hold_writer(9).unwrap());
    t.hold_writer(10).unwrap().release().unwrap();
}

#[test]
fn a_database_that_is_not_a_target_is_refused() {
    if !server_answers() {
        return;
    }
    let db = Db::new("foreign");
    let mut c = postgres::Client::connect(&format!("{SERVER}/postgres"), postgres::NoTls).unwrap();
    c.batch_execute(&format!("CREATE DATABASE \"{}\"", db.0))
        .unwrap();
    let mut d = postgres::Client::connect(&db.url(), postgres::NoTls).unwrap();
    d.batch_execute("CREATE TABLE customers (id int)").unwrap();
    drop(d);
    assert!(matches!(
        Target::init_db(&db.url()),
        Err(StoreError::NotATarget(_))
    ));
    assert!(matches!(
        Target::open_db(&db.url()),
        Err(StoreError::NotATarget(_))
    ));
    // and a server that does not answer is told apart from a missing database
    let Err(e) = Target::open_db("postgres://postgres:secret@127.0.0.1:1/x") else {
        panic!("a closed port answered");
    };
    assert!(matches!(e, StoreError::Unreachable(_)), "{e:?}");
    assert!(!e.to_string().contains("secret"), "{e}");
}

/// The plain indexes a run builds after its load (`deferred.rs`): dropped only on empty tables,
/// back with a rollback, built at the end, and built by whoever takes the writer role after a
/// process that committed the drop and was killed before building them.
#[test]
fn deferred_indexes_come_back_after_a_rollback_a_build_or_a_crash() {
    if !server_answers() {
        return;
    }
    let db = Db::new("deferred");
    let (t, _) = Target::init_db(&db.url()).unwrap();
    let present = |t: &Target| {
        t.int(
            "SELECT count(*) FROM pg_indexes WHERE indexname IN ('ledger_line_user', 'contact_email_account')",
            &[],
        )
        .unwrap()
    };
    assert_eq!(present(&t), 2);
    // a rolled-back run (test-only) leaves them
    let tx = t.transaction().unwrap();
    t.defer_indexes().unwrap();
    assert_eq!(present(&t), 0);
    tx.rollback().unwrap();
    assert_eq!(present(&t), 2);
    // a run that ends builds them before its last commit
    let tx = t.transaction().unwrap();
    t.defer_indexes().unwrap();
    tx.append(
        "ledger_line",
        &LEDGER_COLUMNS,
        params![1i64, 1i64, "U1", "charge", 1i64, "Debit", 1i64].to_vec(),
    )
    .unwrap();
    t.build_deferred_indexes().unwrap();
    tx.commit().unwrap();
    assert_eq!(present(&t), 2);
    // a table with rows keeps its index
    let tx = t.transaction().unwrap();
    t.defer_indexes().unwrap();
    assert_eq!(present(&t), 1, "only contact_email's is dropped");
    // killed after the commit of its first chunk: the next writer builds it first
    tx.commit().unwrap();
    drop(t);
    let t = Target::open_db(&db.url()).unwrap();
    assert_eq!(present(&t), 1);
    t.hold_writer(1).unwrap().release().unwrap();
    assert_eq!(present(&t), 2);
    let def = t
        .first(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'contact_email_account'",
            &[],
        )
        .unwrap()
        .unwrap()
        .text(0);
    assert!(def.ends_with("USING btree (\"user\")"), "{def}");
}
