//! PostgreSQL's merged reads: one server-side cursor per stream, read a page at a time, inside
//! a transaction (the caller's, or a read-only one of its own).

use super::Postgres;
use crate::backend::StreamsBody;
use crate::{guard, Result, Row, Target};
use std::collections::VecDeque;

/// Rows fetched from a cursor at a time.
const PAGE: usize = 2000;

impl Postgres {
    /// Reads the queries `sqls` of `target` side by side and lets `body` pull their rows.
    pub(super) fn cursor_streams(
        &self,
        target: &Target,
        sqls: &[String],
        body: &mut StreamsBody<'_>,
    ) -> Result<()> {
        let own_tx = if target.in_transaction() {
            None
        } else {
            target.batch("BEGIN READ ONLY")?;
            self.pg()?.in_tx = true;
            Some(guard::Tx::begun(target))
        };
        let r = (|| -> Result<()> {
            for (i, sql) in sqls.iter().enumerate() {
                target.batch(&format!(
                    "DECLARE ferry_ledger_{i} NO SCROLL CURSOR FOR {sql}"
                ))?;
            }
            let mut pages: Vec<VecDeque<Row>> = vec![VecDeque::new(); sqls.len()];
            let mut done = vec![false; sqls.len()];
            body(&mut |i: usize| -> Result<Option<Row>> {
                if pages[i].is_empty() && !done[i] {
                    let sql = format!("FETCH {PAGE} FROM ferry_ledger_{i}");
                    let mut got = 0;
                    target.each(&sql, &[], |r| {
                        pages[i].push_back(r.clone());
                        got += 1;
                        Ok(())
                    })?;
                    done[i] = got == 0;
                }
                Ok(pages[i].pop_front())
            })?;
            for i in 0..sqls.len() {
                target.batch(&format!("CLOSE ferry_ledger_{i}"))?;
            }
            Ok(())
        })();
        // Rolled back: it only read.
        drop(own_tx);
        r
    }
}
