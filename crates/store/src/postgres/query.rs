//! A saved query on PostgreSQL: a connection of its own, the statement inside `BEGIN READ ONLY`
//! with `SET LOCAL statement_timeout`, its rows cut by an outer `LIMIT`, every value as the
//! server's text, then rolled back.

use super::conn::Pg;
use super::error::describe;
use crate::saved_query::{QueryError, QueryLimits, QueryResult};
use postgres::error::SqlState;
use postgres::SimpleQueryMessage;

/// Runs the checked statement `sql` on the target database `url`.
pub(crate) fn run_query(
    url: &str,
    sql: &str,
    limits: QueryLimits,
) -> Result<QueryResult, QueryError> {
    let mut pg = Pg::connect(url, false)?;
    let ms = limits.time.as_millis().max(1);
    pg.batch(&format!(
        "BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; SET LOCAL lock_timeout = {ms}"
    ))?;
    // A line break before the closing parenthesis: a query ending in a `--` comment stays one.
    let wrapped = format!(
        "SELECT * FROM (\n{sql}\n) AS ferry_saved_query LIMIT {}",
        limits.rows + 1
    );
    let r = pg.client.simple_query(&wrapped);
    let _ = pg.client.batch_execute("ROLLBACK");
    let messages = r.map_err(|e| match e.code() {
        Some(c) if *c == SqlState::QUERY_CANCELED => QueryError::TimedOut(limits.time),
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => QueryError::Writes(describe(&e)),
        _ => QueryError::Failed(describe(&e)),
    })?;
    let mut out = QueryResult::default();
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                out.columns = cols.iter().map(|c| c.name().to_string()).collect();
            }
            SimpleQueryMessage::Row(row) => {
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                if out.rows.len() == limits.rows {
                    out.more = true;
                    continue;
                }
                out.rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Ok(out)
}
