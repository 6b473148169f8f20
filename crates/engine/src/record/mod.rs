//! One record's way from parsed to written, in named stages — check what was parsed and
//! resolve its references (`resolve`), apply the entity rules, plan a ledger row (`ledger`),
//! decide its key (`key`: new, identical, or existing per `--on-existing`), write it (`write`) —
//! each returning a typed decision; and the state those stages keep for a run.

mod key;
mod ledger;
mod parsed;
mod resolve;
mod write;

pub(crate) use parsed::{parse, Item, Parsed};

use crate::close_batch::BatchRow;
use crate::fingerprint_key::FingerprintKey;
use crate::indexes::Indexes;
use crate::ledger_phase::{LedgerState, Plan};
use crate::log_sink::FindingSink;
use crate::logins::Logins;
use crate::options::{Effective, OnExisting};
use crate::positions::FirstDetails;
use crate::rules::{certification::AddedComponent, Env, Proceed, Rules};
use crate::RunError;
use ferry_catalogue::{self as cat, EntityId, Phase};
use ferry_findings::{Code, Finding};
use ferry_sources::RawRecord;
use ferry_store::journal::Counts;
use ferry_store::{cells, Target};
use ferry_validate::RecordOptions;
use rustc_hash::{FxHashMap, FxHashSet};

/// The outcome of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Imported,
    Updated,
    Skipped,
    Rejected,
}

/// All in-memory state of the phases: key indexes, hash sets, the ledger, the entity rules.
pub(crate) struct State<'a> {
    pub(crate) target: &'a Target,
    pub(crate) run: i64,
    pub(crate) eff: Effective,
    pub(crate) rec_opts: RecordOptions,
    pub(crate) indexes: Indexes<'a>,
    /// keyless entity → hashes of stored records (content hashes: BLAKE3, Fx is enough)
    pub(crate) identities: FxHashMap<EntityId, FxHashSet<i64>>,
    pub(crate) next_id: FxHashMap<EntityId, i64>,
    pub(crate) ledger: Option<LedgerState>,
    /// The account and source amount of the ledger record just processed (for the sums).
    pub(crate) last_ledger: Option<(String, Option<rust_decimal::Decimal>)>,
    /// The ledger record just processed, for its account's batch, and whether it is a duplicate
    /// of a row an earlier run stored.
    pub(crate) last_row: Option<(BatchRow, bool)>,
    pub(crate) counts: Vec<Counts>,
    /// The entity rules, each with its state (`rules.logins`: `CreateAccounts`).
    pub(crate) rules: Rules,
}

/// What the stages decided so far about one record.
pub(super) struct Draft {
    /// Whether a finding rejects the record.
    invalid: bool,
    /// Whether the record changed since it was parsed (the parsed key and hash are then stale).
    changed: bool,
    /// What a rule derived (a card's fingerprint, an attachment's content).
    extra: Vec<cells::Cell>,
    /// A ledger row's key (`LedgerState::ledger_key`) and its plan, once decided.
    ledger_key: i64,
    plan: Option<Plan>,
}

impl<'a> State<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        target: &'a Target,
        run: i64,
        eff: Effective,
        rec_opts: RecordOptions,
        counts: Vec<Counts>,
        logins: Option<Logins>,
        add_missing_components: bool,
        fingerprint_key: Option<FingerprintKey>,
        first_details: FirstDetails,
    ) -> State<'a> {
        State {
            target,
            run,
            eff,
            rec_opts,
            indexes: Indexes::new(target, run),
            identities: FxHashMap::default(),
            next_id: FxHashMap::default(),
            ledger: None,
            last_ledger: None,
            last_row: None,
            counts,
            rules: Rules::new(
                logins,
                add_missing_components,
                fingerprint_key,
                first_details,
            ),
        }
    }

    /// The rules, and what they may use of the rest.
    fn rules_env(&mut self) -> (&mut Rules, Env<'_, 'a>) {
        let env = Env {
            target: self.target,
            run: self.run,
            eff: &self.eff,
            indexes: &mut self.indexes,
        };
        (&mut self.rules, env)
    }

    /// Loads, before a phase writes anything, every index on its entity types.
    pub(crate) fn prepare_phase(&mut self, phase: &Phase) -> Result<(), RunError> {
        if *phase == Phase::Ledger && self.ledger.is_none() {
            let parents = self.rules.child_accounts.parents(self.target)?.clone();
            let mut ledger = LedgerState::load(self.target, self.run, &parents)?;
            if let Some(retried) = self.eff.retry_of {
                let family = crate::retry_family::family(self.target, retried, self.run)?;
                ledger.load_retried(self.target, &family)?;
            }
            self.ledger = Some(ledger);
        }
        for eid in phase.entities() {
            let e = cat::by_id(eid);
            if !e.key_fields().is_empty() {
                self.indexes.index(e, e.key_fields())?;
            }
            for fields in cat::lookup_keys(eid) {
                self.indexes.index(e, fields)?;
            }
            // Ledger records are never skipped as identical (`ledger.duplicate` matches them), so
            // their hashes are not kept: that would be one entry per ledger row.
            if e.key_fields().is_empty() && !e.is_ledger() && !self.identities.contains_key(&eid) {
                let mut set = FxHashSet::default();
                self.target.hashes(e, |h| {
                    set.insert(h);
                })?;
                self.identities.insert(eid, set);
            }
            if !self.next_id.contains_key(&eid) {
                self.next_id.insert(eid, self.target.next_id(e)?);
            }
            let (rules, mut env) = self.rules_env();
            rules.prepare(&mut env, e)?;
        }
        Ok(())
    }

    /// One record, through every stage.
    pub(crate) fn process(
        &mut self,
        item: &mut Item,
        log: &mut dyn FindingSink,
    ) -> Result<Outcome, RunError> {
        let p = match self.take_up(item, log)? {
            Ok(p) => p,
            Err(outcome) => return Ok(outcome),
        };
        let mut d = self.check_parsed(p, log)?;
        self.resolve_references(p, &mut d, log)?;
        self.apply_rules(p, &mut d, log)?;
        if let ledger::LedgerStep::Done(outcome) = self.ledger_step(p, &mut d, log)? {
            return Ok(outcome);
        }
        let (hash, key) = d.identity(p);
        let update_of = match self.decide_key(p, &d, hash, key.as_deref(), log)? {
            key::KeyDecision::Done(outcome) => return Ok(outcome),
            key::KeyDecision::New => None,
            key::KeyDecision::Update(id) => Some(id),
        };
        let (rules, mut env) = self.rules_env();
        if rules.before_write(&mut env, &p.rec, log)? == Proceed::Skip {
            return Ok(Outcome::Skipped);
        }
        match (update_of, key) {
            (Some(id), Some(k)) => self.update(p, d, id, k, log),
            _ => self.insert(p, d, hash, log),
        }
    }

    /// The parsed record of an item (parsed here if the producer did not), or the outcome of an
    /// item that is not processed again.
    fn take_up<'i>(
        &mut self,
        item: &'i mut Item,
        log: &mut dyn FindingSink,
    ) -> Result<Result<&'i mut Parsed, Outcome>, RunError> {
        if let Item::Raw(_) = item {
            if let Item::Raw(raw) = std::mem::replace(item, Item::Done) {
                let given = self.eff.on_existing == OnExisting::Update;
                let logins = self.rules.logins.is_some();
                *item = Item::Record(Box::new(parse(raw, &self.rec_opts, given, logins)));
            }
        }
        match item {
            Item::Record(p) => Ok(Ok(&mut **p)),
            // (`Raw` was parsed just above; `Done` is not processed again.)
            Item::Done | Item::Replay(_) | Item::Raw(_) => Ok(Err(Outcome::Skipped)),
            Item::LeftOut(raw) => self.left_out(raw, log).map(Err),
        }
    }

    /// The entity rules, when nothing rejected the record so far.
    fn apply_rules(
        &mut self,
        p: &mut Parsed,
        d: &mut Draft,
        log: &mut dyn FindingSink,
    ) -> Result<(), RunError> {
        if !d.invalid {
            let (rules, mut env) = self.rules_env();
            let (rejected, changed) = rules.check(&mut env, &mut p.rec, log, &mut d.extra)?;
            d.invalid |= rejected;
            d.changed |= changed;
        }
        if cfg!(debug_assertions) && !d.changed {
            // What the producer derived must be what the record gives now.
            let rec = &p.rec;
            debug_assert_eq!(p.hash, rec.content_hash(), "{}", rec.entity.name);
            debug_assert_eq!(p.key, rec.key(), "{}", rec.entity.name);
            if rec.entity.is_ledger() {
                debug_assert_eq!(p.ledger_key, LedgerState::ledger_key(rec));
            }
        }
        Ok(())
    }

    /// A record left out by `--max-records` (the first of its type gets one info).
    fn left_out(
        &mut self,
        raw: &RawRecord,
        log: &mut dyn FindingSink,
    ) -> Result<Outcome, RunError> {
        let entity = cat::by_id(raw.entity);
        if log.first_left_out(raw.entity) {
            log.push(
                &Finding::new(
                    Code::MaxRecords,
                    raw.location.clone(),
                    format!("--max-records {}: {} records of accounts beyond the first {} are skipped, from here on.", self.eff.max_records, entity.name, self.eff.max_records),
                )
                .entity(entity.name),
            )?;
        }
        Ok(Outcome::Skipped)
    }

    /// What this run added with `--add-missing-components`.
    pub(crate) fn added_components(&self) -> Vec<AddedComponent> {
        self.rules.added_components()
    }
}

impl Draft {
    /// The record's hash and key as it is now. What a rule derived (a card's fingerprint, an
    /// attachment's content) is part of its identity, since the secret or file it came from is
    /// not stored.
    fn identity(&self, p: &mut Parsed) -> (i64, Option<String>) {
        if self.changed {
            (self.with_derived(p.rec.content_hash()), p.rec.key())
        } else {
            (self.with_derived(p.hash), p.key.take())
        }
    }

    /// `h` with the derived cells mixed in (`h` itself when there are none).
    fn with_derived(&self, h: i64) -> i64 {
        if self.extra.is_empty() {
            return h;
        }
        let mut x = blake3::Hasher::new();
        x.update(&h.to_le_bytes());
        for c in &self.extra {
            match c {
                cells::Cell::Null => x.update(&[0]),
                cells::Cell::Int(i) => x.update(&i.to_le_bytes()),
                cells::Cell::Text(t) => x.update(t.as_bytes()),
                cells::Cell::Blob(b) => x.update(b),
            };
        }
        i64::from_le_bytes(x.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
    }
}
