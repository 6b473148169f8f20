//! A saved query on SQLite: a connection of its own, opened read-only with `query_only`, the
//! statement checked read-only by SQLite itself, interrupted by a timer after the time limit.

use crate::saved_query::{QueryError, QueryLimits, QueryResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::mpsc;

/// Runs the checked statement `sql` on the target file `path`.
pub(crate) fn run_query(
    path: &Path,
    sql: &str,
    limits: QueryLimits,
) -> Result<QueryResult, QueryError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(crate::StoreError::Missing(shown).into());
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(super::classify)?;
    conn.busy_timeout(limits.time)
        .and_then(|_| conn.execute_batch("PRAGMA query_only = 1"))
        .map_err(super::classify)?;
    // The timer interrupts the statement once the limit has passed, unless told it ended.
    let handle = conn.get_interrupt_handle();
    let (done, wait) = mpsc::channel::<()>();
    let timer = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limits.time) {
            handle.interrupt();
            return true;
        }
        false
    });
    let r = read(&conn, sql, limits);
    let _ = done.send(());
    let fired = timer.join().unwrap_or(false);
    r.map_err(|e| match e {
        Failure::Sqlite(e) if fired && is_interrupt(&e) => QueryError::TimedOut(limits.time),
        Failure::Sqlite(e) => QueryError::Failed(e.to_string()),
        Failure::Writes => QueryError::Writes("SQLite says the statement writes".into()),
    })
}

enum Failure {
    Sqlite(rusqlite::Error),
    Writes,
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Sqlite(e)
    }
}

fn is_interrupt(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::OperationInterrupted)
}

/// The statement's columns and rows, at most `limits.rows` (one more read to tell there are
/// more).
fn read(conn: &Connection, sql: &str, limits: QueryLimits) -> Result<QueryResult, Failure> {
    let mut st = conn.prepare(sql)?;
    if !st.readonly() {
        return Err(Failure::Writes);
    }
    let columns: Vec<String> = st.column_names().map(str::to_string).collect();
    let n = columns.len();
    let mut out = QueryResult {
        columns,
        ..Default::default()
    };
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        if out.rows.len() == limits.rows {
            out.more = true;
            break;
        }
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(text(row.get_ref(i)?));
        }
        out.rows.push(cells);
    }
    Ok(out)
}

/// A value as text (a blob as its UTF-8 reading, lossy).
fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(ms: u64) -> QueryLimits {
        QueryLimits {
            rows: 2,
            time: Duration::from_millis(ms),
        }
    }

    /// The database's own guards, without the word check before them.
    #[test]
    fn reads_capped_never_writes_and_stops_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, 'z');")
            .unwrap();
        drop(c);
        let r = run_query(&path, "SELECT a, b FROM t ORDER BY a", limits(5000)).unwrap();
        assert_eq!(r.columns, ["a", "b"]);
        assert_eq!(
            r.rows,
            [
                vec![Some("1".into()), Some("x".into())],
                vec![Some("2".into()), None]
            ]
        );
        assert!(r.more);
        for write in [
            "DELETE FROM t",
            "INSERT INTO t VALUES (4, 'w')",
            "CREATE TABLE u (a)",
        ] {
            let e = run_query(&path, write, limits(5000)).unwrap_err();
            assert!(
                matches!(e, QueryError::Writes(_) | QueryError::Failed(_)),
                "{write}: {e}"
            );
        }
        let c = Connection::open(&path).unwrap();
        assert_eq!(
            c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap(),
            3
        );
        let forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";
        let started = std::time::Instant::now();
        let e = run_query(&path, forever, limits(200)).unwrap_err();
        assert!(matches!(e, QueryError::TimedOut(_)), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
