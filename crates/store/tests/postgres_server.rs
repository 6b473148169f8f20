//! The PostgreSQL switch: the PostgreSQL target arrives with its own backend; until then this
//! test keeps the rule of the project honest — with FERRY_REQUIRE_PG set, a server that does not
//! answer on 127.0.0.1:5432 is a failure, never a silent skip. It creates and drops a uniquely
//! named database, as every PostgreSQL test must.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

#[test]
fn postgres_answers_when_required() {
    let required = std::env::var_os("FERRY_REQUIRE_PG").is_some();
    let addr = "127.0.0.1:5432".parse().unwrap();
    if TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_err() {
        assert!(
            !required,
            "FERRY_REQUIRE_PG is set but no PostgreSQL server answers on 127.0.0.1:5432"
        );
        eprintln!("skipped: no PostgreSQL server on 127.0.0.1:5432 (set FERRY_REQUIRE_PG=1 to make this a failure)");
        return;
    }
    let name = format!(
        "ferry_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let psql = |sql: &str| {
        Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                sql,
            ])
            .status()
    };
    match psql(&format!("CREATE DATABASE {name}")) {
        Ok(s) => {
            assert!(s.success(), "could not create a test database");
            assert!(psql(&format!("DROP DATABASE {name}")).unwrap().success());
        }
        Err(e) => assert!(!required, "psql is not installed: {e}"),
    }
}
