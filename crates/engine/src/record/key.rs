//! The key stage of a record: new, a duplicate of an earlier record of this run, identical to
//! the stored one, or an existing one that `--on-existing` rejects, skips or updates. A keyless
//! record identical to a stored one is skipped. An invalid record is rejected here, its key
//! marked rejected so that what refers to it is rejected too.

use super::{Draft, Outcome, Parsed, State};
use crate::log_sink::FindingSink;
use crate::options::OnExisting;
use crate::rules::Accepted;
use crate::RunError;
use ferry_findings::Code;
use ferry_validate::record::display_key;
use ferry_validate::Slot;

/// What the key stage decided.
pub(super) enum KeyDecision {
    /// Write it as a new row.
    New,
    /// Write it over the stored row with this id (`--on-existing update`).
    Update(i64),
    /// Not written: rejected or skipped (its findings are logged).
    Done(Outcome),
}

impl State<'_> {
    pub(super) fn decide_key(
        &mut self,
        p: &mut Parsed,
        d: &Draft,
        hash: i64,
        key: Option<&str>,
        log: &mut dyn FindingSink,
    ) -> Result<KeyDecision, RunError> {
        let entity = p.rec.entity;
        if let Some(k) = key {
            let existing = self
                .indexes
                .index(entity, entity.key_fields())?
                .get(k)
                .cloned();
            match existing {
                Some(Slot::Run { location, .. }) | Some(Slot::Rejected { location }) => {
                    log.push(&p.rec.finding(Code::KeyDuplicate, Some(entity.key_fields()[0]), format!("{} \"{}\" appears earlier in this run (at {location}); this later record is rejected.", entity.name, display_key(k))))?;
                    return Ok(KeyDecision::Done(Outcome::Rejected));
                }
                Some(Slot::Target { id, hash: stored }) => {
                    return self.existing(p, d, k, id, stored == hash, log);
                }
                None => {}
            }
        } else if !d.invalid
            && !entity.is_ledger()
            && self
                .identities
                .get(&p.entity)
                .is_some_and(|s| s.contains(&hash))
        {
            log.push(&p.rec.finding(
                Code::KeyIdentical,
                None,
                format!("An identical {} is already stored; skipped.", entity.name),
            ))?;
            return Ok(KeyDecision::Done(Outcome::Skipped));
        }
        if d.invalid {
            if let Some(k) = key {
                self.indexes.reject_key(entity, k, &p.rec.location)?;
            }
            return Ok(KeyDecision::Done(Outcome::Rejected));
        }
        Ok(KeyDecision::New)
    }

    /// A record whose key the target holds (row `id`; `identical` when its hash is the same).
    fn existing(
        &mut self,
        p: &mut Parsed,
        d: &Draft,
        k: &str,
        id: i64,
        identical: bool,
        log: &mut dyn FindingSink,
    ) -> Result<KeyDecision, RunError> {
        let entity = p.rec.entity;
        if d.invalid {
            self.indexes.reject_key(entity, k, &p.rec.location)?;
            return Ok(KeyDecision::Done(Outcome::Rejected));
        }
        if identical {
            self.indexes.seen_in_run(entity, k, id, &p.rec.location)?;
            // CreateAccounts on an account already stored: its login, if it has none.
            self.accepted(p, Accepted::Identical, log)?;
            log.push(&p.rec.finding(
                Code::KeyIdentical,
                None,
                format!(
                    "{} \"{}\" is already in the target, identical; skipped.",
                    entity.name,
                    display_key(k)
                ),
            ))?;
            return Ok(KeyDecision::Done(Outcome::Skipped));
        }
        match self.eff.on_existing {
            OnExisting::Error => {
                log.push(&p.rec.finding(Code::KeyExists, Some(entity.key_fields()[0]), format!("{} \"{}\" already exists in the target (use --on-existing skip or update).", entity.name, display_key(k))))?;
                self.indexes.reject_key(entity, k, &p.rec.location)?;
                Ok(KeyDecision::Done(Outcome::Rejected))
            }
            OnExisting::Skip => {
                self.indexes.seen_in_run(entity, k, id, &p.rec.location)?;
                log.push(&p.rec.finding(
                    Code::KeySkipped,
                    None,
                    format!(
                        "{} \"{}\" already exists in the target; skipped (--on-existing skip).",
                        entity.name,
                        display_key(k)
                    ),
                ))?;
                Ok(KeyDecision::Done(Outcome::Skipped))
            }
            OnExisting::Update => Ok(KeyDecision::Update(id)),
        }
    }
}
