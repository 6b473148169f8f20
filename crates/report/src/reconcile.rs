//! The reconciliation of a run (SPEC §10): per entity type, read = imported + updated +
//! skipped + rejected; per account, the ledger's source sum = imported + rejected + skipped,
//! and (for a live run) what was imported is what the target holds from that run.

use ferry_store::cells::money_from_e4;
use ferry_store::journal::{Counts, RunMode};
use ferry_store::{StoreError, Target};
use ferry_validate::values::money_text;

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
    /// Why the account is listed: ledger records rejected, skipped, or sums that do not
    /// balance.
    pub why: String,
}

/// How many accounts a reconciliation lists one by one (those that do not balance or have
/// rejected ledger records); the rest are counted. A million accounts must not become
/// a million rows in memory.
pub const MAX_LISTED: usize = 1000;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Reconciliation {
    pub run: i64,
    pub counts: Vec<(String, Counts)>,
    /// The accounts worth a look (not balanced, or with rejected ledger records), in User order,
    /// at most [`MAX_LISTED`].
    pub accounts: Vec<AccountSums>,
    /// Accounts with ledger records in the run.
    pub ledger_accounts: u64,
    /// Of those, the ones that do not balance.
    pub unbalanced: u64,
    /// Accounts worth a look beyond those listed.
    pub unlisted: u64,
    /// Accounts that balance with nothing rejected but some ledger records skipped as already in
    /// the target (a re-run, a retry): counted, not listed.
    #[serde(default)]
    pub already_there: u64,
    /// Whether what the target holds was compared (a live run not rolled back).
    pub live: bool,
    pub balanced: bool,
}

pub fn reconcile(target: &Target, run: i64) -> Result<Option<Reconciliation>, StoreError> {
    let Some(info) = target.run(run)? else {
        return Ok(None);
    };
    let counts = target.counts(run)?;
    let mut balanced = counts.iter().all(|(_, c)| c.balanced());
    let live = info.mode == RunMode::Live && info.status.as_str() != "rolled-back";
    // One pass in User order: the run's sums beside what the target holds from the run.
    let sql = if live {
        "SELECT s.\"user\", s.source_e4, s.imported_e4, s.rejected_e4, s.skipped_e4, coalesce(h.held, 0)
         FROM run_ledger_sum s LEFT JOIN (
            SELECT u, sum(a) AS held FROM (
              SELECT \"user\" AS u, debit_e4 AS a FROM debit WHERE run_id = ?1
              UNION ALL SELECT \"user\", -amount_e4 FROM ledger_line WHERE run_id = ?1 AND kind = 'credit'
              UNION ALL SELECT \"user\", -credit_e4 FROM payment WHERE run_id = ?1
            ) AS x GROUP BY u
         ) AS h ON h.u = s.\"user\"
         WHERE s.run_id = ?1 ORDER BY s.\"user\""
    } else {
        "SELECT \"user\", source_e4, imported_e4, rejected_e4, skipped_e4, NULL FROM run_ledger_sum WHERE run_id = ?1 ORDER BY \"user\""
    };
    let (mut accounts, mut ledger_accounts, mut unbalanced, mut unlisted) = (vec![], 0, 0, 0);
    let mut already_there = 0;
    target.each(sql, ferry_store::params![run], |r| {
        let (source, imported, rejected, skipped) = (r.int(1), r.int(2), r.int(3), r.int(4));
        let t = r.opt_int(5);
        let ok = source == imported + rejected + skipped && t.is_none_or(|t| t == imported);
        ledger_accounts += 1;
        if !ok {
            unbalanced += 1;
        }
        if ok && rejected == 0 {
            already_there += u64::from(skipped != 0);
            return Ok(());
        }
        if accounts.len() >= MAX_LISTED {
            unlisted += 1;
            return Ok(());
        }
        let m = |v: i64| money_text(money_from_e4(v));
        let why = why_listed(rejected, skipped, ok, t.map(|t| (t, imported)));
        accounts.push(AccountSums {
            user: r.text(0),
            source: m(source),
            imported: m(imported),
            rejected: m(rejected),
            skipped: m(skipped),
            target: t.map(m),
            balanced: ok,
            why,
        });
        Ok(())
    })?;
    balanced &= unbalanced == 0;
    Ok(Some(Reconciliation {
        run,
        counts,
        accounts,
        ledger_accounts,
        unbalanced,
        unlisted,
        already_there,
        live,
        balanced,
    }))
}

/// Why an account is among those listed, in words.
fn why_listed(rejected: i64, skipped: i64, ok: bool, held: Option<(i64, i64)>) -> String {
    let mut why = vec![];
    if rejected != 0 {
        why.push("some of its ledger records were rejected".to_string());
    }
    if skipped != 0 {
        why.push("some were skipped (already in the target)".to_string());
    }
    match held {
        Some((t, imported)) if t != imported => why.push(format!(
            "the target holds {} from this run, not the {} imported",
            money_text(money_from_e4(t)),
            money_text(money_from_e4(imported))
        )),
        _ if !ok => why.push("source ≠ imported + rejected + skipped".to_string()),
        _ => {}
    }
    why.join("; ")
}

/// Records read = imported + updated + skipped + rejected per entity type, as a text table;
/// and whether every line balances.
pub fn counts_text(counts: &[(String, Counts)]) -> (String, bool) {
    use std::fmt::Write as _;
    let mut ok = true;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<30} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "entity", "read", "imported", "updated", "skipped", "rejected"
    );
    for (e, c) in counts {
        let mark = if c.balanced() {
            ""
        } else {
            "  ← does not balance"
        };
        ok &= c.balanced();
        let _ = writeln!(
            out,
            "{:<30} {:>9} {:>9} {:>9} {:>9} {:>9}{mark}",
            e, c.read, c.imported, c.updated, c.skipped, c.rejected
        );
    }
    (out, ok)
}

/// Per-account ledger sums as text: every account with something rejected or that does not
/// balance, then those skipped as already in the target (counted), then the total (empty when the run had no ledger records).
pub fn ledger_text(r: &Reconciliation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if r.ledger_accounts == 0 {
        return out;
    }
    let _ = writeln!(
        out,
        "\nledger, per account: source = imported + rejected + skipped{}.\nListed: the accounts with a rejected ledger record, or whose sums do not balance.",
        if r.live {
            "; the target holds what was imported"
        } else {
            ""
        }
    );
    let listed = r.accounts.len() as u64 + r.unlisted;
    for a in r.accounts.iter().take(50) {
        let mark = if a.balanced {
            ""
        } else {
            "  ← does not balance"
        };
        let _ = writeln!(
            out,
            "  {:<24} source {:>12}  imported {:>12}  rejected {:>12}  skipped {:>12}{mark}\n  {:<24} ↳ {}",
            a.user, a.source, a.imported, a.rejected, a.skipped, "", a.why
        );
    }
    if listed > 50 {
        let _ = writeln!(
            out,
            "  … and {} more accounts with rejected ledger records",
            listed - 50
        );
    }
    if r.already_there > 0 {
        let _ = writeln!(
            out,
            "  {} with ledger records skipped as already in the target, balanced (not listed)",
            if r.already_there == 1 {
                "1 account".to_string()
            } else {
                format!("{} accounts", r.already_there)
            }
        );
    }
    let _ = writeln!(
        out,
        "  {} with ledger records, {} not balanced",
        ferry_findings::words::count(r.ledger_accounts, "account", "accounts"),
        r.unbalanced
    );
    out
}

/// The whole reconciliation of a run as text (what `ferry reconcile RUN` prints).
pub fn text(r: &Reconciliation) -> String {
    let (mut out, _) = counts_text(&r.counts);
    out.push_str(&ledger_text(r));
    out.push('\n');
    out.push_str(&if r.balanced {
        format!("Run {} reconciles: every record read is imported, updated, skipped or rejected with a finding.\n", r.run)
    } else {
        format!("Run {} does NOT reconcile: see the lines marked above.\n", r.run)
    });
    out
}
