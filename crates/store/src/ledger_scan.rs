//! Reading the ledger in stream order: every ledger table read side by side (one stream each,
//! as the backend streams them) and merged by (ledger_seq, id), so memory stays flat.

use crate::backend::NextRow;
use crate::schema::{quote, quote_list};
use crate::{cells, Result, Row, StoreError, Target};
use ferry_catalogue::Entity;

/// The next row of one ledger table while merging: (ledger_seq, id, field texts).
type LedgerHead = (i64, i64, Vec<Option<String>>);

/// Gives the next head of stream `i`.
type NextHead<'a> = dyn FnMut(usize) -> Result<Option<LedgerHead>> + 'a;

/// Receives the field texts of a row of stream `i`.
type Emit<'a> = dyn FnMut(usize, &[Option<String>]) -> Result<()> + 'a;

impl Target {
    /// Every ledger row of every ledger table in stream order (ledger_seq, then id): the tables
    /// are read side by side and merged, one cursor each, so memory stays flat.
    pub fn scan_ledger(
        &self,
        mut f: impl FnMut(&'static Entity, &[Option<String>]) -> std::io::Result<()>,
    ) -> Result<()> {
        let ents: Vec<&'static Entity> = ferry_catalogue::LEDGER_TYPES
            .iter()
            .map(|t| ferry_catalogue::entity(t).expect("ledger type"))
            .collect();
        let sqls: Vec<String> = ents.iter().map(|e| ledger_query(e)).collect();
        let mut emit = |i: usize, texts: &[Option<String>]| -> Result<()> {
            f(ents[i], texts).map_err(|io| StoreError::Other(io.to_string()))
        };
        self.backend
            .streams(self, &sqls, &mut |next_row: &mut NextRow<'_>| {
                let mut next = |i: usize| -> Result<Option<LedgerHead>> {
                    Ok(next_row(i)?.map(|r| head(ents[i], &r)))
                };
                merge(ents.len(), &mut next, &mut emit)
            })
    }
}

/// The rows of one ledger table in stream order.
fn ledger_query(e: &Entity) -> String {
    let cols = cells::field_column_names(e);
    format!(
        "SELECT coalesce(ledger_seq, 0), id, {} FROM {} ORDER BY coalesce(ledger_seq, 0), id",
        quote_list(&cols),
        quote(&e.table())
    )
}

fn head(e: &Entity, r: &Row) -> LedgerHead {
    (r.int(0), r.int(1), cells::to_texts(e, &r.0[2..]))
}

/// Merges per-table ledger streams by (seq, id), the order rows were written in.
fn merge(n: usize, next: &mut NextHead<'_>, emit: &mut Emit<'_>) -> Result<()> {
    let mut heads: Vec<Option<LedgerHead>> = Vec::with_capacity(n);
    for i in 0..n {
        heads.push(next(i)?);
    }
    loop {
        let pick = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|(seq, id, _)| (*seq, i, *id)))
            .min();
        let Some((_, i, _)) = pick else { break };
        let (_, _, texts) = heads[i].take().expect("picked");
        emit(i, &texts)?;
        heads[i] = next(i)?;
    }
    Ok(())
}
