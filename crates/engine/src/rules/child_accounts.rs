//! Child accounts: no account is its own parent, links make no cycle (earlier links stand), and
//! a child must not already have ledger entries. Keeps the child → parent links of the target
//! and the run, which the ledger phase also reads.

use super::{Accepted, AcceptedRecord, EntityRule, Env};
use crate::log_sink::FindingSink;
use crate::RunError;
use ferry_catalogue::{self as cat, Known};
use ferry_findings::Code;
use ferry_store::cells::Cell;
use ferry_store::Target;
use ferry_validate::Record;
use std::collections::HashMap;

/// The child-account rule, with the links and ledger counts it checks against.
#[derive(Default)]
pub(crate) struct ChildAccounts {
    /// child → parent links (target + run), for cycle checks
    parents: Option<HashMap<String, String>>,
    /// accounts → ledger entries before the run
    ledger_accounts: Option<HashMap<String, i64>>,
}

impl EntityRule for ChildAccounts {
    fn check(
        &mut self,
        env: &mut Env<'_, '_>,
        rec: &mut Record,
        log: &mut dyn FindingSink,
        _extra: &mut Vec<Cell>,
    ) -> Result<bool, RunError> {
        self.rules(env, rec, log)
    }

    fn accepted(
        &mut self,
        env: &mut Env<'_, '_>,
        acc: &mut AcceptedRecord<'_>,
        _log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        if acc.how == Accepted::Inserted {
            let rec = acc.rec;
            let (c, p) = (
                rec.text("Name").unwrap_or("").to_string(),
                rec.text("Parent").unwrap_or("").to_string(),
            );
            self.parents(env.target)?.insert(c, p);
        }
        Ok(())
    }
}

impl ChildAccounts {
    /// The child → parent links of the target and the run (loaded on first use).
    pub(crate) fn parents(
        &mut self,
        target: &Target,
    ) -> Result<&mut HashMap<String, String>, RunError> {
        if self.parents.is_none() {
            let e = Known::ChildAccount.entity();
            let mut map = HashMap::new();
            let sql = format!(
                "SELECT name, parent FROM {}",
                ferry_store::schema::quote(&e.table())
            );
            target.each(&sql, &[], |r| {
                map.insert(r.text(0), r.text(1));
                Ok(())
            })?;
            self.parents = Some(map);
        }
        Ok(self.parents.as_mut().expect("loaded"))
    }

    /// Accounts with ledger entries in the target before the run, and how many (loaded once).
    fn ledger_accounts(
        &mut self,
        target: &Target,
        run: i64,
    ) -> Result<&HashMap<String, i64>, RunError> {
        if self.ledger_accounts.is_none() {
            let mut map: HashMap<String, i64> = HashMap::new();
            for t in cat::LEDGER_TYPES {
                let e = cat::entity(t).expect("ledger type");
                let sql = format!("SELECT \"user\", count(*) FROM {} WHERE coalesce(run_id, 0) <> ?1 GROUP BY \"user\"", ferry_store::schema::quote(&e.table()));
                target.each(&sql, ferry_store::params![run], |r| {
                    if let Some(u) = r.opt_text(0) {
                        *map.entry(u).or_default() += r.int(1);
                    }
                    Ok(())
                })?;
            }
            self.ledger_accounts = Some(map);
        }
        Ok(self.ledger_accounts.as_ref().expect("loaded"))
    }

    /// Self-parent, cycles (earlier links stand), and children that already have ledger entries.
    fn rules(
        &mut self,
        env: &Env<'_, '_>,
        rec: &Record,
        log: &mut dyn FindingSink,
    ) -> Result<bool, RunError> {
        let (child, parent) = match (rec.text("Name"), rec.text("Parent")) {
            (Some(c), Some(p)) => (c.to_string(), p.to_string()),
            _ => return Ok(false),
        };
        if child == parent {
            log.push(&rec.finding(
                Code::ChildSelf,
                Some("Parent"),
                format!("Account \"{child}\" cannot be its own parent."),
            ))?;
            return Ok(true);
        }
        let parents = self.parents(env.target)?;
        if parents.get(&child) == Some(&parent) {
            // The same link again (a re-run): nothing changes, the key check skips it.
            return Ok(false);
        }
        if closes_cycle(parents, &child, &parent) {
            log.push(&rec.finding(Code::ChildCycle, Some("Parent"), format!("Making \"{child}\" a child of \"{parent}\" would close a cycle (\"{parent}\" is already below \"{child}\").")))?;
            return Ok(true);
        }
        let ledger = self
            .ledger_accounts(env.target, env.run)?
            .get(&child)
            .copied()
            .unwrap_or(0);
        if ledger > 0 {
            log.push(&rec.finding(Code::ChildHasLedger, Some("Name"), format!("Account \"{child}\" already has {ledger} ledger entries in the target; its invoices would not follow it to \"{parent}\".")))?;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Whether making `child` a child of `parent` closes a cycle among `parents`.
fn closes_cycle(parents: &HashMap<String, String>, child: &str, parent: &str) -> bool {
    let mut at = parent.to_string();
    let mut steps = 0usize;
    while let Some(next) = parents.get(&at) {
        if *next == child || at == child {
            return true;
        }
        at = next.clone();
        steps += 1;
        if steps > parents.len() {
            break;
        }
    }
    false
}
