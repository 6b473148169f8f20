//! SQLite's merged reads: one prepared statement per stream, all open at once.

use crate::backend::StreamsBody;
use crate::{Cell, Result, Row};
use rusqlite::Connection;

/// Reads the queries `sqls` side by side and lets `body` pull their rows.
pub(crate) fn streams(c: &Connection, sqls: &[String], body: &mut StreamsBody<'_>) -> Result<()> {
    let mut stmts = Vec::new();
    for sql in sqls {
        stmts.push(c.prepare(sql)?);
    }
    let mut rows = Vec::new();
    for st in &mut stmts {
        let n = st.column_count();
        rows.push((st.query([])?, n));
    }
    body(&mut |i: usize| -> Result<Option<Row>> {
        let (r, n) = &mut rows[i];
        match r.next()? {
            Some(r) => {
                let cells = (0..*n)
                    .map(|k| r.get::<_, Cell>(k))
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Some(Row(cells)))
            }
            None => Ok(None),
        }
    })
}
