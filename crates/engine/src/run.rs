//! The run loop: spool, options, phases, records, chunks, journal.

mod admission;
mod chunks;
pub(crate) mod command_line;
mod context;
mod effective;
mod findings_log;
mod finish;
mod key;
pub(crate) mod lifecycle;
mod phases;
mod produce;
pub(crate) mod progress;
mod read;
mod resume;
mod stages;
mod writer;

pub(crate) use findings_log::FindingLog;

use crate::close_batch::BatchRow;
use crate::ledger_phase::{LedgerState, Plan};
use crate::options::{Effective, OnExisting};
use crate::positions::{FirstDetails, Position};
use crate::RunError;
use ferry_catalogue::{self as cat, Entity, EntityId, Phase};
use ferry_findings::{Code, Finding, Location};
use ferry_sources::{RawRecord, RawValue};
use ferry_store::journal::Counts;
use ferry_store::{cells, RowMeta, Target};
use ferry_validate::record::{display_key, KEY_SEP};
use ferry_validate::{parse_record, KeyIndex, Record, RecordOptions, Resolve, Slot};
use std::collections::{HashMap, HashSet};

/// The outcome of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Imported,
    Updated,
    Skipped,
    Rejected,
}

/// What the producer thread hands over for one spooled record, in spool order.
enum Item {
    /// Processed before the interruption (its admission was replayed).
    Done,
    /// A ledger row processed before the interruption: its batch is replayed.
    Replay(BatchRow),
    /// Left out by `--max-records`.
    LeftOut(RawRecord),
    /// (Boxed: batches stay small, and moving a record costs no copy.)
    Record(Box<Parsed>),
    /// Not parsed yet: sent while the main thread was waiting, which parses it itself.
    Raw(RawRecord),
}

/// A record parsed by the producer thread, with what is derived from its values alone. Its raw
/// record is freed as soon as it is parsed (what the main thread needs of it is copied here): a
/// record's allocations are best freed soon, and by the thread that made them.
struct Parsed {
    entity: EntityId,
    /// `RawRecord::broken`.
    broken: bool,
    /// The fields the record gives (for `--on-existing update` only).
    given: Vec<u16>,
    rec: Record,
    /// `parse_record`'s findings, logged by the main thread in their place.
    findings: Vec<Finding>,
    /// The values below are of the record as parsed; the main thread computes them again
    /// when a folded reference or an entity rule changed the record.
    hash: i64,
    key: Option<String>,
    /// One per `entity.refs`.
    refs: Vec<Option<String>>,
    /// One per `cat::lookup_keys(entity)`.
    lookups: Vec<Option<String>>,
    /// `LedgerState::ledger_key`, for ledger records.
    ledger_key: i64,
    /// `CreateAccounts`: what a User's login stores of its Password (hashed by the producer).
    login_password: Option<crate::logins::LoginPassword>,
    /// What its identity takes from the records before it (set by the producer).
    position: Position,
}

fn parse(raw: RawRecord, opts: &RecordOptions, given: bool, logins: bool) -> Parsed {
    let (rec, mut findings) = parse_record(&raw, opts);
    let entity = rec.entity;
    let mut login_password = None;
    if logins && entity.name == "User" {
        match crate::logins::judge(&rec) {
            Ok(p) => login_password = p,
            Err(f) => findings.push(*f),
        }
        // A record already known to be rejected is not worth hashing.
        if findings.iter().any(|f| f.is_error()) {
            login_password = None;
        }
    }
    Parsed {
        entity: raw.entity,
        broken: raw.broken,
        given: if given {
            raw.fields.iter().map(|f| f.field).collect()
        } else {
            vec![]
        },
        hash: rec.content_hash(),
        key: rec.key(),
        refs: entity.refs.iter().map(|r| rec.joined(r.from)).collect(),
        lookups: cat::lookup_keys(raw.entity)
            .iter()
            .map(|f| rec.joined(f))
            .collect(),
        ledger_key: if entity.is_ledger() {
            LedgerState::ledger_key(&rec)
        } else {
            0
        },
        rec,
        findings,
        login_password,
        position: Position::default(),
    }
}

impl Parsed {
    /// A held package or service that does not say which occurrence it is: the n-th of the run
    /// with its values is occurrence n (SPEC §4.4). Its key and lookups change with it.
    fn fill_occurrence(&mut self) {
        let e = self.rec.entity;
        let Some(f) = e.occurrence_field() else {
            return;
        };
        let n = self.position.occurrence;
        if n == 0 || self.rec.get(f).is_some() || self.rec.field_invalid(f) {
            return;
        }
        self.rec.set(f, Some(ferry_validate::Value::Int(n.into())));
        self.key = self.rec.key();
        self.lookups = cat::lookup_keys(self.entity)
            .iter()
            .map(|k| self.rec.joined(k))
            .collect();
    }
}

/// Whether `State::entity_rules` may change a record of this type (every type it has rules for).
fn rules_may_change(e: &Entity) -> bool {
    matches!(
        e.name,
        "UserPaymentMethodCash"
            | "UserPaymentMethodCheck"
            | "UserPaymentMethodCreditCard"
            | "UserPaymentMethodACH"
            | "Ticket"
            | "TicketAttachment"
            | "UserService"
            | "UserPackageAttributeDiscount"
            | "UserAttributeExpiryDate"
            | "ProfileAnswer"
            | "UserServiceProfileAnswer"
    )
}

/// All in-memory state of the phases: key indexes, hash sets, account filters.
pub(crate) struct State<'a> {
    pub(crate) target: &'a Target,
    pub(crate) run: i64,
    pub(crate) eff: Effective,
    pub(crate) rec_opts: RecordOptions,
    /// entity → (fields, index), one per set of fields (found without building a lookup key)
    pub(crate) indexes: HashMap<EntityId, Vec<(Vec<String>, KeyIndex)>>,
    /// keyless entity → hashes of stored records
    pub(crate) identities: HashMap<EntityId, HashSet<i64>>,
    pub(crate) next_id: HashMap<EntityId, i64>,
    /// accounts → ledger entries before the run (ChildAccount rule)
    pub(crate) ledger_accounts: Option<HashMap<String, i64>>,
    /// child → parent links (target + run), for cycle checks
    pub(crate) parents: Option<HashMap<String, String>>,
    pub(crate) ledger: Option<LedgerState>,
    /// `CreateAccounts`: accounts and e-mails waiting for their logins.
    pub(crate) logins: Option<crate::logins::Logins>,
    /// The account and source amount of the ledger record just processed (for the sums).
    pub(crate) last_ledger: Option<(String, Option<rust_decimal::Decimal>)>,
    /// The ledger record just processed, for its account's batch, and whether it is a duplicate
    /// of a row an earlier run stored.
    pub(crate) last_row: Option<(BatchRow, bool)>,
    pub(crate) counts: Vec<Counts>,
    /// Likely duplicate accounts (SPEC §9).
    pub(crate) dups: crate::rules::Duplicates,
    /// The certification model a certification run knows (loaded on first use).
    pub(crate) cert: Option<crate::rules::Certification>,
    /// `--add-missing-components`.
    pub(crate) add_missing_components: bool,
    /// The key card and account numbers are fingerprinted with (when the run has any).
    pub(crate) fingerprint_key: Option<crate::fingerprint_key::FingerprintKey>,
    /// The first detail of each payment method in the inputs (SPEC §4.6).
    pub(crate) first_details: FirstDetails,
}

impl<'a> State<'a> {
    /// The index of `entity` by `fields`, loaded from the target on first use.
    pub(crate) fn index(
        &mut self,
        entity: &'static Entity,
        fields: &[&str],
    ) -> Result<&mut KeyIndex, RunError> {
        let eid = entity.id();
        let found = self
            .indexes
            .get(&eid)
            .and_then(|v| v.iter().position(|(f, _)| f.iter().eq(fields.iter())));
        let i = if let Some(i) = found {
            i
        } else {
            let mut ix = KeyIndex::new();
            let is_key = entity.key_fields() == fields;
            // A resumed run finds its own earlier records as records of this run, where they came from.
            let run = self.run;
            self.target
                .keys(entity, fields, Some(run), |k, rid, hash, origin| {
                    let slot = match origin {
                        Some(m) => Slot::Run {
                            id: rid,
                            location: ix.at(&Location {
                                file: m.file.unwrap_or_default().into(),
                                sheet: m.sheet.map(Into::into),
                                row: m.row.unwrap_or(0) as u64,
                                column: None,
                            }),
                        },
                        None => Slot::Target { id: rid, hash },
                    };
                    if is_key {
                        ix.set(&k, slot);
                    } else {
                        ix.set_if_absent(&k, slot);
                    }
                })?;
            if is_key {
                for (k, location) in self.target.rejected_keys(run, entity.name)? {
                    let location = ix.at(&location);
                    ix.set(&k, Slot::Rejected { location });
                }
            }
            let v = self.indexes.entry(eid).or_default();
            v.push((fields.iter().map(|f| f.to_string()).collect(), ix));
            v.len() - 1
        };
        Ok(&mut self.indexes.get_mut(&eid).expect("present")[i].1)
    }

    /// Loads, before a phase writes anything, every index on its entity types.
    fn prepare_phase(&mut self, phase: &Phase) -> Result<(), RunError> {
        if *phase == Phase::Ledger && self.ledger.is_none() {
            let parents = self.parents()?.clone();
            self.ledger = Some(LedgerState::load(self.target, self.run, &parents)?);
        }
        for eid in phase.entities() {
            let e = cat::by_id(eid);
            if !e.key_fields().is_empty() {
                self.index(e, e.key_fields())?;
            }
            for fields in cat::lookup_keys(eid) {
                self.index(e, fields)?;
            }
            // Ledger records are never skipped as identical (`ledger.duplicate` matches them), so
            // their hashes are not kept: that would be one entry per ledger row.
            if e.key_fields().is_empty() && !e.is_ledger() && !self.identities.contains_key(&eid) {
                let mut set = HashSet::new();
                self.target.hashes(e, |h| {
                    set.insert(h);
                })?;
                self.identities.insert(eid, set);
            }
            if !self.next_id.contains_key(&eid) {
                self.next_id.insert(eid, self.target.next_id(e)?);
            }
            self.prepare_duplicates(e)?;
        }
        Ok(())
    }

    /// Accounts with ledger entries in the target before the run, and how many (loaded once,
    /// for the ChildAccount rule).
    fn ledger_accounts(&mut self) -> Result<&HashMap<String, i64>, RunError> {
        if self.ledger_accounts.is_none() {
            let mut map: HashMap<String, i64> = HashMap::new();
            for t in cat::LEDGER_TYPES {
                let e = cat::entity(t).expect("ledger type");
                let sql = format!("SELECT \"user\", count(*) FROM {} WHERE coalesce(run_id, 0) <> ?1 GROUP BY \"user\"", ferry_store::schema::quote(&e.table()));
                self.target
                    .each(&sql, ferry_store::params![self.run], |r| {
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

    pub(crate) fn parents(&mut self) -> Result<&mut HashMap<String, String>, RunError> {
        if self.parents.is_none() {
            let e = cat::entity("ChildAccount").expect("catalogue");
            let mut map = HashMap::new();
            let sql = format!(
                "SELECT name, parent FROM {}",
                ferry_store::schema::quote(&e.table())
            );
            self.target.each(&sql, &[], |r| {
                map.insert(r.text(0), r.text(1));
                Ok(())
            })?;
            self.parents = Some(map);
        }
        Ok(self.parents.as_mut().expect("loaded"))
    }

    /// `CreateAccounts`: the login of an accepted (inserted or updated) `User`, or the first
    /// `ContactEmail` of an account waiting for one.
    fn logins_of(
        &mut self,
        rec: &ferry_validate::Record,
        login_password: &mut Option<crate::logins::LoginPassword>,
        log: &mut FindingLog,
    ) -> Result<(), RunError> {
        let entity = rec.entity;
        if let Some(logins) = self.logins.as_mut() {
            let email_at = || {
                rec.text("Email").map(|e| {
                    (
                        e.to_string(),
                        rec.location.with_column(rec.column_of("Email")),
                    )
                })
            };
            if entity.name == "User" {
                let mut password = login_password.take();
                if let (
                    Some(crate::logins::LoginPassword::Plain),
                    Some(ferry_validate::Value::Secret(p)),
                ) = (&password, rec.get("Password"))
                {
                    // Not hashed by the producer (parsed here): hash it on this thread.
                    password = Some(logins.hasher.hash_one(p));
                }
                let name = rec.text("Name").unwrap_or_default();
                logins.user(
                    self.target,
                    self.run,
                    name,
                    &rec.location.with_column(rec.column_of("Password")),
                    email_at(),
                    password,
                    log,
                )?;
            } else if entity.name == "ContactEmail" {
                if let (Some(user), Some((email, at))) = (rec.text("User"), email_at()) {
                    logins.contact_email(self.target, self.run, user, &email, at, log)?;
                }
            }
        }
        Ok(())
    }

    fn process(&mut self, item: &mut Item, log: &mut FindingLog) -> Result<Outcome, RunError> {
        if let Item::Raw(_) = item {
            if let Item::Raw(raw) = std::mem::replace(item, Item::Done) {
                let given = self.eff.on_existing == OnExisting::Update;
                let logins = self.logins.is_some();
                *item = Item::Record(Box::new(parse(raw, &self.rec_opts, given, logins)));
            }
        }
        let p = match item {
            Item::Record(p) => p,
            // (`Raw` was parsed just above; `Done` is not processed again.)
            Item::Done | Item::Replay(_) | Item::Raw(_) => return Ok(Outcome::Skipped),
            Item::LeftOut(raw) => return self.left_out(raw, log),
        };
        let Parsed {
            entity: eid,
            broken,
            given,
            rec,
            findings,
            hash: parsed_hash,
            key: parsed_key,
            refs: parsed_refs,
            lookups: parsed_lookups,
            ledger_key: parsed_ledger_key,
            login_password,
            position: _,
        } = &mut **p;
        let (parsed_hash, parsed_ledger_key) = (*parsed_hash, *parsed_ledger_key);
        let entity = rec.entity;
        // Whether `rec` changed since it was parsed (the parsed key and hash are then stale).
        let mut changed = false;
        // An update needs only the key and the fields it changes: the stored record has the rest.
        if self.eff.on_existing == OnExisting::Update {
            if let Some(k) = &parsed_key {
                if matches!(
                    self.index(entity, entity.key_fields())?.get(k),
                    Some(Slot::Target { .. })
                ) {
                    let key_fields = entity.key_fields();
                    findings.retain(|f| {
                        !(f.code == Code::Required
                            && f.field
                                .as_deref()
                                .is_some_and(|name| !key_fields.contains(&name)))
                    });
                }
            }
        }
        let eid = *eid;
        let mut errors = findings.iter().any(|f| f.is_error()) || *broken;
        for f in findings.iter() {
            log.push(f)?;
        }
        if entity.name == "CloseInvoice" && rec.get("User").is_none() && !rec.field_invalid("User")
        {
            log.push(&rec.finding(
                Code::ParentMissing,
                None,
                "CloseInvoice has no User and no ledger record precedes it in its file or sheet.",
            ))?;
            errors = true;
        }
        // References. A field whose reference failed is not reported again by a wider reference.
        let mut failed: Vec<&str> = vec![];
        for (j, r) in entity.refs.iter().enumerate() {
            if r.from
                .iter()
                .any(|f| rec.field_invalid(f) || failed.contains(f))
            {
                continue;
            }
            let key = if changed {
                rec.joined(r.from)
            } else {
                parsed_refs.get_mut(j).and_then(Option::take)
            };
            let Some(key) = key else {
                continue;
            };
            let target = cat::entity(r.target).expect("catalogue");
            let fold_case = self.eff.fold_case;
            let at = *r.from.last().expect("a reference has fields");
            let resolved = self.index(target, r.to)?.resolve(&key, fold_case);
            if matches!(resolved, Resolve::Found(_)) {
                continue;
            }
            let shown = display_key(&key);
            match resolved {
                Resolve::Found(_) => {}
                Resolve::Folded { actual, .. } => {
                    changed = true;
                    log.push(&rec.finding(Code::ReferenceCaseFolded, Some(at), format!("{} \"{shown}\" was matched to \"{}\" ignoring case and spacing (--fold-case).", r.target, display_key(&actual))))?;
                    for (f, part) in r.from.iter().zip(actual.split(KEY_SEP)) {
                        let kind = entity.field_def(f).expect("field").kind;
                        rec.set(
                            f,
                            ferry_validate::values::parse(
                                kind,
                                &RawValue::Text(part.to_string()),
                                &self.rec_opts.values,
                            )
                            .ok(),
                        );
                    }
                }
                Resolve::RejectedParent(loc) => {
                    errors = true;
                    failed.extend(r.from.iter().copied());
                    log.push(&rec.finding(
                        Code::RejectedParent,
                        Some(at),
                        format!(
                            "{} \"{shown}\" was rejected (at {loc}), so this {} is rejected too.",
                            r.target, entity.name
                        ),
                    ))?;
                }
                Resolve::Unknown { hint } => {
                    errors = true;
                    failed.extend(r.from.iter().copied());
                    let what = if r.from.len() == 1 {
                        format!("{} \"{shown}\"", r.from[0])
                    } else {
                        format!("{} ({}) \"{shown}\"", r.target, r.from.join(", "))
                    };
                    log.push(
                        &rec.finding(
                            Code::ReferenceUnknown,
                            Some(at),
                            format!(
                                "{what} matches no {} in the target or earlier in this run.",
                                r.target
                            ),
                        )
                        .hint(hint),
                    )?;
                }
            }
        }
        if entity.name == "ProfileQuestion" && !errors {
            if let (Some(applies), Some(t)) = (
                rec.text("AppliesTo").map(str::to_string),
                rec.text("Target").map(str::to_string),
            ) {
                let te = cat::entity(&applies).expect("Role or Service");
                match self.index(te, &["Name"])?.resolve(&t, false) {
                    Resolve::Found(_) | Resolve::Folded { .. } => {}
                    Resolve::RejectedParent(loc) => {
                        errors = true;
                        log.push(&rec.finding(
                            Code::RejectedParent,
                            Some("Target"),
                            format!("{applies} \"{t}\" was rejected (at {loc})."),
                        ))?;
                    }
                    Resolve::Unknown { hint } => {
                        errors = true;
                        log.push(
                            &rec.finding(
                                Code::ReferenceUnknown,
                                Some("Target"),
                                format!("Target \"{t}\" matches no {applies}."),
                            )
                            .hint(hint),
                        )?;
                    }
                }
            }
        }
        if entity.name == "ChildAccount" && !errors {
            errors |= self.child_account_rules(rec, log)?;
        }
        let mut rule_extra: Vec<cells::Cell> = vec![];
        if !errors {
            changed |= rules_may_change(entity);
            errors |= self.entity_rules(rec, log, &mut rule_extra)?;
        }
        if cfg!(debug_assertions) && !changed {
            // What the producer derived must be what the record gives now.
            debug_assert_eq!(parsed_hash, rec.content_hash(), "{}", entity.name);
            debug_assert_eq!(*parsed_key, rec.key(), "{}", entity.name);
            if entity.is_ledger() {
                debug_assert_eq!(parsed_ledger_key, LedgerState::ledger_key(rec));
            }
        }
        let mut ledger_plan: Option<Plan> = None;
        let mut ledger_key = 0i64;
        if entity.is_ledger() {
            self.last_ledger = rec
                .text("User")
                .map(|u| (u.to_string(), LedgerState::source_amount(rec)));
            let ledger = self.ledger.as_mut().expect("prepared for the ledger phase");
            ledger_key = if changed {
                LedgerState::ledger_key(rec)
            } else {
                parsed_ledger_key
            };
            let row = BatchRow::of(rec, ledger_key);
            let unnamed_close = entity.name == "CloseInvoice" && rec.get("Invoice").is_none();
            let mut duplicate = ledger.is_earlier_duplicate(ledger_key);
            if let (Some(row), true, false) = (&row, unnamed_close, errors) {
                // An unnamed close is the close of the rows before it (SPEC §6.3: only the same
                // rows again are a duplicate), or, with none, of the invoice it closes.
                let user = rec.text("User").unwrap_or_default();
                (ledger_key, duplicate) = ledger.unnamed_close(self.target, user, row)?;
            }
            self.last_row = row.map(|r| (r, duplicate && !errors));
            if !errors && duplicate {
                if self.eff.on_existing == OnExisting::Error {
                    let what = if unnamed_close {
                        "the same CloseInvoice after the same rows of its account (none of them new), or of the same invoice"
                    } else {
                        "the same ledger row (User, Date, amount, Description, Invoice)"
                    };
                    log.push(&rec.finding(
                        Code::LedgerDuplicate,
                        None,
                        format!(
                            "An earlier run imported {what}; use --on-existing skip to skip it."
                        ),
                    ))?;
                    return Ok(Outcome::Rejected);
                }
                log.push(&rec.finding(
                    Code::LedgerDuplicateSkipped,
                    None,
                    "An earlier run imported the same ledger row; skipped.",
                ))?;
                return Ok(Outcome::Skipped);
            }
            if !errors {
                let mut warnings = vec![];
                match ledger.plan(self.target, rec, &mut warnings)? {
                    Ok(plan) => {
                        for w in &warnings {
                            log.push(w)?;
                        }
                        ledger_plan = Some(plan);
                    }
                    Err(refusal) => {
                        log.push(&refusal)?;
                        errors = true;
                    }
                }
            }
        }
        // What a rule derived (a card's fingerprint, an attachment's content) is part of the
        // record's identity, since the secret or file it came from is not stored.
        let with_derived = |h: i64| -> i64 {
            if rule_extra.is_empty() {
                return h;
            }
            let mut x = blake3::Hasher::new();
            x.update(&h.to_le_bytes());
            for c in &rule_extra {
                match c {
                    cells::Cell::Null => x.update(&[0]),
                    cells::Cell::Int(i) => x.update(&i.to_le_bytes()),
                    cells::Cell::Text(t) => x.update(t.as_bytes()),
                    cells::Cell::Blob(b) => x.update(b),
                };
            }
            i64::from_le_bytes(x.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
        };
        let (hash, key) = if changed {
            (with_derived(rec.content_hash()), rec.key())
        } else {
            (with_derived(parsed_hash), parsed_key.take())
        };
        // Keys and existing records.
        let mut update_of: Option<i64> = None;
        if let Some(k) = &key {
            let existing = self.index(entity, entity.key_fields())?.get(k).cloned();
            match existing {
                Some(Slot::Run { location, .. }) | Some(Slot::Rejected { location }) => {
                    log.push(&rec.finding(Code::KeyDuplicate, Some(entity.key_fields()[0]), format!("{} \"{}\" appears earlier in this run (at {location}); this later record is rejected.", entity.name, display_key(k))))?;
                    return Ok(Outcome::Rejected);
                }
                Some(Slot::Target { id, hash: stored }) => {
                    if errors {
                        self.reject_key(entity, k, &rec.location)?;
                        return Ok(Outcome::Rejected);
                    }
                    if stored == hash {
                        // CreateAccounts on an account already stored: its login, if it has
                        // none (the record is not applied, so its Password changes no login).
                        if self
                            .logins
                            .as_ref()
                            .is_some_and(|l| !l.has_login(rec.text("Name").unwrap_or("")))
                        {
                            self.logins_of(rec, login_password, log)?;
                        }
                        log.push(&rec.finding(
                            Code::KeyIdentical,
                            None,
                            format!(
                                "{} \"{}\" is already in the target, identical; skipped.",
                                entity.name,
                                display_key(k)
                            ),
                        ))?;
                        return Ok(Outcome::Skipped);
                    }
                    match self.eff.on_existing {
                        OnExisting::Error => {
                            log.push(&rec.finding(Code::KeyExists, Some(entity.key_fields()[0]), format!("{} \"{}\" already exists in the target (use --on-existing skip or update).", entity.name, display_key(k))))?;
                            self.reject_key(entity, k, &rec.location)?;
                            return Ok(Outcome::Rejected);
                        }
                        OnExisting::Skip => {
                            log.push(&rec.finding(Code::KeySkipped, None, format!("{} \"{}\" already exists in the target; skipped (--on-existing skip).", entity.name, display_key(k))))?;
                            return Ok(Outcome::Skipped);
                        }
                        OnExisting::Update => update_of = Some(id),
                    }
                }
                None => {}
            }
        } else if !errors
            && !entity.is_ledger()
            && self.identities.get(&eid).is_some_and(|s| s.contains(&hash))
        {
            log.push(&rec.finding(
                Code::KeyIdentical,
                None,
                format!("An identical {} is already stored; skipped.", entity.name),
            ))?;
            return Ok(Outcome::Skipped);
        }
        if errors {
            if let Some(k) = &key {
                self.reject_key(entity, k, &rec.location)?;
            }
            return Ok(Outcome::Rejected);
        }
        if entity.is_certification() {
            if let crate::rules::certification::Check::Skip = self.certification_check(rec, log)? {
                return Ok(Outcome::Skipped);
            }
        }
        // Write.
        if let Some(id) = update_of {
            let stored = self.target.fetch(entity, id)?;
            let before = cells::to_texts(entity, &stored);
            // Keep the stored value of every field the record does not give.
            let given: HashSet<u16> = given.iter().copied().collect();
            for (i, f) in entity.fields.iter().enumerate() {
                if !given.contains(&(i as u16)) && !entity.key_fields().contains(&f.name) {
                    if let Some(t) = &before[i] {
                        rec.values[i] = ferry_validate::values::parse(
                            f.kind,
                            &RawValue::Text(t.clone()),
                            &self.rec_opts.values,
                        )
                        .ok();
                    }
                }
            }
            let new_hash = with_derived(rec.content_hash());
            let k = key.expect("updates have keys");
            if let Some(Slot::Target { hash: stored, .. }) =
                self.index(entity, entity.key_fields())?.get(&k)
            {
                if *stored == new_hash {
                    self.logins_of(rec, login_password, log)?;
                    log.push(&rec.finding(
                        Code::KeyIdentical,
                        None,
                        format!(
                            "{} \"{}\" is already in the target with these values; skipped.",
                            entity.name,
                            display_key(&k)
                        ),
                    ))?;
                    return Ok(Outcome::Skipped);
                }
            }
            self.target.record_change(
                self.run,
                entity.name,
                id,
                "update",
                Some(&serde_json::to_string(&before).unwrap_or_default()),
            )?;
            self.target
                .update(entity, id, &cells::to_cells(entity, &rec.values), new_hash)?;
            if !rule_extra.is_empty() {
                self.target.update_extra(entity, id, &rule_extra)?;
            }
            self.index(entity, entity.key_fields())?
                .set(&k, Slot::Target { id, hash: new_hash });
            if entity.is_certification() {
                self.certification_write(rec)?;
            }
            self.logins_of(rec, login_password, log)?;
            return Ok(Outcome::Updated);
        }
        let id = {
            let n = self.next_id.get_mut(&eid).expect("prepared");
            let id = *n;
            *n += 1;
            id
        };
        let mut extra = rule_extra;
        if let Some(plan) = ledger_plan {
            let ledger = self.ledger.as_mut().expect("prepared");
            ledger.seq += 1;
            let seq = ledger.seq;
            let invoice = ledger.apply(self.target, plan, entity.name, id)?;
            extra = vec![
                cells::Cell::Int(seq),
                invoice.map(cells::Cell::Int).unwrap_or(cells::Cell::Null),
                cells::Cell::Int(ledger_key),
            ];
        }
        let meta = RowMeta {
            run_id: Some(self.run),
            file: Some(rec.location.file.to_string()),
            sheet: rec.location.sheet.as_ref().map(|s| s.to_string()),
            row: Some(rec.location.row as i64),
            col: rec.location.column.map(|c| c.render()),
        };
        self.target.insert(
            entity,
            id,
            cells::to_cells(entity, &rec.values),
            extra,
            meta,
            hash,
        )?;
        // Make the record visible to references and duplicate checks.
        let index_fields = cat::lookup_keys(eid);
        for (j, fields) in index_fields.iter().copied().enumerate() {
            let k = if changed {
                rec.joined(fields)
            } else {
                parsed_lookups.get_mut(j).and_then(Option::take)
            };
            if let Some(k) = k {
                let ix = self.index(entity, fields)?;
                if ix.get(&k).is_none() {
                    let location = ix.at(&rec.location);
                    ix.set(&k, Slot::Run { id, location });
                }
            }
        }
        if let Some(set) = self.identities.get_mut(&eid) {
            set.insert(hash);
        }
        if entity.is_certification() {
            self.certification_write(rec)?;
        }
        self.likely_duplicates(rec, log)?;
        if entity.name == "ChildAccount" {
            let (c, p) = (
                rec.text("Name").unwrap_or("").to_string(),
                rec.text("Parent").unwrap_or("").to_string(),
            );
            self.parents()?.insert(c, p);
        }
        self.logins_of(rec, login_password, log)?;
        if entity.name == "UserCompany" {
            let (u, c) = (
                rec.text("User").unwrap_or(""),
                rec.text("Company").unwrap_or(""),
            );
            // Which contacts get the company is kept for rollback.
            self.target.exec(
                "INSERT INTO run_change (run_id, entity, row_id, action, before)
                 SELECT CAST(?1 AS BIGINT), 'Contact', id, 'set_company', NULL FROM \"contact\" WHERE \"user\" = ?2 AND contact_company IS NULL",
                ferry_store::params![&self.run, &u],
            )?;
            self.target.exec(
                "UPDATE \"contact\" SET contact_company = ?1 WHERE \"user\" = ?2 AND contact_company IS NULL",
                ferry_store::params![&c, &u],
            )?;
        }
        Ok(Outcome::Imported)
    }

    /// A record left out by `--max-records` (the first of its type gets one info).
    fn left_out(&mut self, raw: &RawRecord, log: &mut FindingLog) -> Result<Outcome, RunError> {
        let entity = cat::by_id(raw.entity);
        if log.max_records_noted.insert(raw.entity) {
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

    fn reject_key(
        &mut self,
        entity: &'static Entity,
        key: &str,
        loc: &Location,
    ) -> Result<(), RunError> {
        let ix = self.index(entity, entity.key_fields())?;
        match ix.get(key) {
            Some(Slot::Run { .. }) | Some(Slot::Rejected { .. }) => {}
            _ => {
                let location = ix.at(loc);
                ix.set(key, Slot::Rejected { location });
                // Kept with the chunk, so that a resumed run still rejects what refers to it.
                self.target
                    .record_rejected(self.run, entity.name, key, loc)?;
            }
        }
        Ok(())
    }

    /// Self-parent, cycles (earlier links stand), and children that already have ledger entries.
    fn child_account_rules(
        &mut self,
        rec: &Record,
        log: &mut FindingLog,
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
        let parents = self.parents()?;
        if parents.get(&child) == Some(&parent) {
            // The same link again (a re-run): nothing changes, the key check skips it.
            return Ok(false);
        }
        let mut at = parent.clone();
        let mut steps = 0usize;
        while let Some(next) = parents.get(&at) {
            if *next == child || at == child {
                log.push(&rec.finding(Code::ChildCycle, Some("Parent"), format!("Making \"{child}\" a child of \"{parent}\" would close a cycle (\"{parent}\" is already below \"{child}\").")))?;
                return Ok(true);
            }
            at = next.clone();
            steps += 1;
            if steps > parents.len() {
                break;
            }
        }
        let ledger = self.ledger_accounts()?.get(&child).copied().unwrap_or(0);
        if ledger > 0 {
            log.push(&rec.finding(Code::ChildHasLedger, Some("Name"), format!("Account \"{child}\" already has {ledger} ledger entries in the target; its invoices would not follow it to \"{parent}\".")))?;
            return Ok(true);
        }
        Ok(false)
    }
}
