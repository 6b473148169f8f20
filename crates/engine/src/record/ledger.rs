//! The ledger stage of a record: its row for its account's batch, whether an earlier run
//! imported it already (`--on-existing` decides), and the plan of what it does to the
//! account's invoices (`crate::ledger_phase`).

use super::{Draft, Outcome, Parsed, State};
use crate::close_batch::BatchRow;
use crate::ledger_phase::LedgerState;
use crate::log_sink::FindingSink;
use crate::options::OnExisting;
use crate::RunError;
use ferry_catalogue::Known;
use ferry_findings::Code;

/// What the ledger stage decided.
pub(super) enum LedgerStep {
    /// Not a ledger record, or one to go on with (its plan, if valid, is in the draft).
    Continue,
    /// A duplicate of an earlier run's row: rejected or skipped.
    Done(Outcome),
}

impl State<'_> {
    pub(super) fn ledger_step(
        &mut self,
        p: &mut Parsed,
        d: &mut Draft,
        log: &mut dyn FindingSink,
    ) -> Result<LedgerStep, RunError> {
        let rec = &p.rec;
        let entity = rec.entity;
        if !entity.is_ledger() {
            return Ok(LedgerStep::Continue);
        }
        self.last_ledger = rec
            .text("User")
            .map(|u| (u.to_string(), LedgerState::source_amount(rec)));
        let ledger = self.ledger.as_mut().expect("prepared for the ledger phase");
        d.ledger_key = if d.changed {
            LedgerState::ledger_key(rec)
        } else {
            p.ledger_key
        };
        let row = BatchRow::of(rec, d.ledger_key);
        let unnamed_close = entity.is(Known::CloseInvoice) && rec.get("Invoice").is_none();
        let mut duplicate = ledger.is_earlier_duplicate(d.ledger_key);
        if let (Some(row), true, false) = (&row, unnamed_close, d.invalid) {
            // An unnamed close is the close of the rows before it (SPEC §6.3: only the same
            // rows again are a duplicate), or, with none, of the invoice it closes.
            let user = rec.text("User").unwrap_or_default();
            (d.ledger_key, duplicate) = ledger.unnamed_close(self.target, user, row)?;
        }
        self.last_row = row.map(|r| (r, duplicate && !d.invalid));
        if !d.invalid && duplicate {
            return self
                .duplicate(p, unnamed_close, d.ledger_key, log)
                .map(LedgerStep::Done);
        }
        if !d.invalid {
            let ledger = self.ledger.as_mut().expect("prepared for the ledger phase");
            let mut warnings = vec![];
            match ledger.plan(self.target, &p.rec, &mut warnings)? {
                Ok(plan) => {
                    for w in &warnings {
                        log.push(w)?;
                    }
                    d.plan = Some(plan);
                }
                Err(refusal) => {
                    log.push(&refusal)?;
                    d.invalid = true;
                }
            }
        }
        Ok(LedgerStep::Continue)
    }

    /// A row an earlier run imported: skipped when a run this one retries imported it (in every
    /// mode); otherwise an error, or skipped with `--on-existing skip`.
    fn duplicate(
        &mut self,
        p: &Parsed,
        unnamed_close: bool,
        key: i64,
        log: &mut dyn FindingSink,
    ) -> Result<Outcome, RunError> {
        let rec = &p.rec;
        let ledger = self.ledger.as_mut().expect("prepared for the ledger phase");
        if let Some(run) = ledger.claim_retried(key) {
            log.push(&rec.finding(
                Code::LedgerDuplicateSkipped,
                None,
                format!(
                    "Run {run} imported this ledger row already (this run retries it); skipped."
                ),
            ))?;
            return Ok(Outcome::Skipped);
        }
        if self.eff.on_existing == OnExisting::Error {
            let what = if unnamed_close {
                "the same CloseInvoice after the same rows of its account (none of them new), or of the same invoice"
            } else {
                "the same ledger row (User, Date, amount, Description, Invoice)"
            };
            log.push(&rec.finding(
                Code::LedgerDuplicate,
                None,
                format!("An earlier run imported {what}; use --on-existing skip to skip it."),
            ))?;
            return Ok(Outcome::Rejected);
        }
        log.push(&rec.finding(
            Code::LedgerDuplicateSkipped,
            None,
            "An earlier run imported the same ledger row; skipped.",
        ))?;
        Ok(Outcome::Skipped)
    }
}
