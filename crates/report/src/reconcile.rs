//! The reconciliation of a run (SPEC §10): per entity type, read = imported + updated +
//! skipped + rejected; per account, the ledger's source sum = imported + rejected + skipped,
//! and (for a live run) what was imported is what the target holds from that run.

use ferry_store::cells::money_from_e4;
use ferry_store::journal::{Counts, RunMode};
use ferry_store::{StoreError, Target};
use ferry_validate::values::money_text;
use std::collections::HashMap;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AccountSums {
    pub user: String,
    pub source: String,
    pub imported: String,
    pub rejected: String,
    pub skipped: String,
    /// What the target holds from this run (live runs only).
    pub target: Option<String>,
    pub balanced: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Reconciliation {
    pub run: i64,
    pub counts: Vec<(String, Counts)>,
    pub accounts: Vec<AccountSums>,
    pub balanced: bool,
}

pub fn reconcile(target: &Target, run: i64) -> Result<Option<Reconciliation>, StoreError> {
    let Some(info) = target.run(run)? else {
        return Ok(None);
    };
    let counts = target.counts(run)?;
    let mut balanced = counts.iter().all(|(_, c)| c.balanced());
    let live = info.mode == RunMode::Live && info.status.as_str() != "rolled-back";
    let mut held: HashMap<String, i64> = HashMap::new();
    if live {
        let sql = "SELECT u, sum(a) FROM (
              SELECT \"user\" AS u, debit_e4 AS a FROM debit WHERE run_id = ?1
              UNION ALL SELECT \"user\", -amount_e4 FROM ledger_line WHERE run_id = ?1 AND kind = 'credit'
              UNION ALL SELECT \"user\", -credit_e4 FROM payment WHERE run_id = ?1
            ) AS held GROUP BY u";
        target.each(sql, ferry_store::params![run], |r| {
            held.insert(r.text(0), r.int(1));
            Ok(())
        })?;
    }
    let mut accounts = vec![];
    let mut rows: Vec<(String, i64, i64, i64, i64)> = vec![];
    target.each(
        "SELECT \"user\", source_e4, imported_e4, rejected_e4, skipped_e4 FROM run_ledger_sum WHERE run_id = ?1 ORDER BY \"user\"",
        ferry_store::params![run],
        |r| {
            rows.push((r.text(0), r.int(1), r.int(2), r.int(3), r.int(4)));
            Ok(())
        },
    )?;
    for (user, source, imported, rejected, skipped) in rows {
        let t = live.then(|| held.get(&user).copied().unwrap_or(0));
        let ok = source == imported + rejected + skipped && t.is_none_or(|t| t == imported);
        balanced &= ok;
        let m = |v: i64| money_text(money_from_e4(v));
        accounts.push(AccountSums {
            user,
            source: m(source),
            imported: m(imported),
            rejected: m(rejected),
            skipped: m(skipped),
            target: t.map(m),
            balanced: ok,
        });
    }
    Ok(Some(Reconciliation {
        run,
        counts,
        accounts,
        balanced,
    }))
}
