//! The run loop: spool, options, phases, records, chunks, journal.

use crate::close_batch::BatchRow;
use crate::ledger_phase::{self, LedgerState, Plan};
use crate::mapping::RunMapping;
use crate::options::{self, Effective, ImportOptions, OnExisting, OptionRow};
use crate::positions::{FirstDetails, Position, Positions};
use crate::RunError;
use ferry_catalogue::{self as cat, Entity, EntityId, Phase};
use ferry_findings::{Code, Finding, Location, Severity};
use ferry_plan::Spool;
use ferry_sources::{RawRecord, RawValue, ReadOptions, SourceError, Visitor};
use ferry_store::journal::{Counts, RunKind, RunMode, RunStatus};
use ferry_store::{cells, RowMeta, StoreError, Target, WriterRole};
use ferry_validate::record::{display_key, KEY_SEP};
use ferry_validate::{
    parse_record, DateOrder, DateTally, KeyIndex, Record, RecordOptions, Resolve, Slot,
    ValueContext,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::TryRecvError;

/// Reports progress to whoever watches (a progress bar, the web console, nobody).
pub trait Progress {
    /// The run is recorded in the journal under this number.
    fn started(&self, _run: i64) {}
    fn stage(&self, _name: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn done(&self) {}
    /// Whether whoever watches asked the run to stop (checked every few hundred records; a
    /// stopped run is interrupted at its last checkpoint, resumable or undone by rollback).
    fn cancelled(&self) -> bool {
        false
    }
}

/// Progress that nobody watches.
pub struct Silent;
impl Progress for Silent {}

/// What a run did, for people (stderr) and scripts (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run: i64,
    /// `import`, `certification` or `config`.
    pub kind: RunKind,
    pub mode: RunMode,
    pub status: RunStatus,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    pub counts: Vec<(String, Counts)>,
    pub backup: Option<PathBuf>,
    pub options: Effective,
    pub exit_code: i32,
    /// Certification: the components `--add-missing-components` added to programs (to remove
    /// afterwards if they are no longer required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub added_components: Vec<crate::rules::certification::AddedComponent>,
    /// `CreateAccounts`: logins made, passwords hashed (and on how many threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logins: Option<crate::logins::LoginSummary>,
    /// A new fingerprint key file this run made for the target (to back up, apart from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_created: Option<PathBuf>,
    /// A test-only run on a target without a fingerprint key used a throwaway key (the live
    /// run makes the target's key).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fingerprint_key_temporary: bool,
    /// Test-only: the target's fingerprint key is not here, so the live run would stop (why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_key_missing: Option<String>,
}

/// Findings of a run, numbered in the order found, kept in a temporary file until the run ends
/// (so a test-only run keeps them across its rollback and memory stays flat). The file has no
/// name (only this process can open it, and it goes with the process however it ends).
pub(crate) struct FindingLog {
    file: BufWriter<std::fs::File>,
    seq: u64,
    totals: [u64; 3],
    run: i64,
    /// Entity types that got their one `run.max_records` info.
    max_records_noted: HashSet<EntityId>,
    /// The last sequence number written to the journal, and how far the file was read for it.
    stored_seq: i64,
    offset: u64,
    /// A resumed run replays reading and options silently: those findings are already stored.
    mute: bool,
}

impl FindingLog {
    fn new(run: i64) -> std::io::Result<FindingLog> {
        Ok(FindingLog {
            file: BufWriter::new(tempfile::tempfile()?),
            seq: 0,
            totals: [0; 3],
            run,
            max_records_noted: HashSet::new(),
            stored_seq: 0,
            offset: 0,
            mute: false,
        })
    }

    pub(crate) fn push(&mut self, f: &Finding) -> std::io::Result<()> {
        if self.mute {
            return Ok(());
        }
        self.seq += 1;
        self.totals[match f.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        }] += 1;
        serde_json::to_writer(&mut self.file, &f.to_json(self.run))?;
        self.file.write_all(b"\n")
    }

    /// Writes the findings found since the last call into the journal (inside the caller's
    /// transaction: a live run's chunk, or the end of the run).
    fn store_new(&mut self, target: &Target) -> Result<(), RunError> {
        use std::io::{Seek, SeekFrom};
        self.file.flush()?;
        // The same open file (one position): read from where the journal stopped, then go back
        // to the end for the findings that follow.
        let mut f = self.file.get_ref().try_clone()?;
        f.seek(SeekFrom::Start(self.offset))?;
        let stored = self.read_into(&mut f, target);
        f.seek(SeekFrom::End(0))?;
        stored
    }

    fn read_into(&mut self, f: &mut std::fs::File, target: &Target) -> Result<(), RunError> {
        let mut reader = std::io::BufReader::new(f);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line)?;
            if n == 0 {
                break;
            }
            self.offset += n as u64;
            let v: serde_json::Value =
                serde_json::from_str(line.trim_end()).map_err(std::io::Error::other)?;
            if let Some(finding) = Finding::from_json(&v) {
                self.stored_seq += 1;
                target.insert_finding(self.run, self.stored_seq, &finding)?;
            }
        }
        Ok(())
    }
}

/// The reader's visitor: records to the spool, findings to the log, options aside.
struct Collect<'a> {
    spool: &'a mut Spool,
    log: &'a mut FindingLog,
    options: Vec<OptionRow>,
    input: usize,
    read: Vec<u64>,
    /// Ledger-sheet rows without a valid Type: read and rejected, under "Ledger".
    untyped: u64,
    progress: &'a dyn Progress,
    /// Which entity types this run reads: an import all but the legacy certification types, a
    /// certification migration only those.
    kind: RunKind,
    /// (input, entity type) pairs left out for the run's kind, each noted once.
    left_out: HashSet<(usize, EntityId)>,
    /// Whether a record carries a card or account number to fingerprint: the run then needs
    /// the target's fingerprint key, found before the first write.
    needs_key: bool,
    /// The first detail of each payment method, in read order.
    first_details: FirstDetails,
    /// Per column, which orders its slash dates fit (`ferry_validate::date_columns`).
    dates: DateTally,
}

impl Visitor for Collect<'_> {
    type Error = SourceError;
    fn record(&mut self, record: RawRecord) -> Result<(), SourceError> {
        let e = cat::by_id(record.entity);
        if !self.kind.reads(e) {
            // Not this run's data: one warning per input and entity type, and (as an unknown
            // sheet) no count.
            if self.left_out.insert((self.input, record.entity)) {
                let (code, message) = if e.is_certification() {
                    (Code::CertificationEntity, format!("{} records are legacy certification data: `ferry {}` leaves them out; migrate them with `ferry certification migrate`.", e.name, if self.kind == RunKind::Config { "config import" } else { "import" }))
                } else if self.kind == RunKind::Config {
                    (Code::NotConfiguration, format!("{} records are not configuration: `ferry config import` leaves them out; import them with `ferry import`.", e.name))
                } else {
                    (Code::NotCertification, format!("{} records are not legacy certification data: `ferry certification migrate` leaves them out; import them with `ferry import`.", e.name))
                };
                let mut at = record.location.clone();
                at.column = None;
                self.log
                    .push(&Finding::new(code, at, message).entity(e.name))
                    .map_err(|e| SourceError::Sink(format!("findings: {e}")))?;
            }
            return Ok(());
        }
        self.read[record.entity as usize] += 1;
        if !self.needs_key && crate::rules::needs_fingerprint(e, &record) {
            self.needs_key = true;
        }
        self.first_details.note(&record);
        self.dates.observe(self.input, &record);
        self.spool
            .push(&record)
            .map_err(|e| SourceError::Sink(format!("spool: {e}")))?;
        self.progress.advance(1);
        Ok(())
    }
    fn finding(&mut self, finding: Finding) -> Result<(), SourceError> {
        // What the reader says about records this run leaves out (their columns, broken rows,
        // Ledger-sheet rows without a Type in a certification run) is not this run's business:
        // the one warning per input and type says they were left out.
        let other_kind = match finding.entity.and_then(cat::entity) {
            Some(e) => !self.kind.reads(e),
            None => self.kind != RunKind::Import && finding.code == Code::UnknownType,
        };
        if other_kind {
            return Ok(());
        }
        if finding.code == Code::UnknownType {
            self.untyped += 1;
        }
        self.log
            .push(&finding)
            .map_err(|e| SourceError::Sink(format!("findings: {e}")))
    }
    fn option(
        &mut self,
        name: String,
        value: RawValue,
        location: Location,
    ) -> Result<(), SourceError> {
        self.options.push(OptionRow {
            input: self.input,
            name,
            value,
            location,
        });
        Ok(())
    }
}

/// The outcome of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Imported,
    Updated,
    Skipped,
    Rejected,
}

/// `--max-records`: which records are left out. It depends only on the records in spool order
/// (across phases), so the producer thread decides it, also for records replayed on resume.
#[derive(Default)]
struct Admission {
    max_records: u64,
    /// How many User records were seen, and the accounts admitted.
    users_seen: u64,
    admitted: HashSet<String>,
    /// Records left out, by (entity, key): what refers to them is left out too.
    excluded: HashSet<(EntityId, String)>,
}

impl Admission {
    /// `--max-records`: whether the record's account is admitted (User records admit themselves).
    fn admit(&mut self, e: &'static Entity, raw: &RawRecord) -> bool {
        if self.max_records == 0 {
            return true;
        }
        let value_of = |name: &str| {
            e.field(name)
                .and_then(|fid| raw.get(fid))
                .map(|f| f.value.display().trim().to_string())
        };
        let joined = |fields: &[&str]| -> Option<String> {
            let parts: Option<Vec<String>> = fields.iter().map(|f| value_of(f)).collect();
            parts.map(|p| p.join(&KEY_SEP.to_string()))
        };
        let admitted = if e.name == "User" {
            self.users_seen += 1;
            self.users_seen <= self.max_records
        } else if e.refs.iter().any(|r| {
            // A record that names a left-out record anywhere (a child's parent, a ticket's
            // assignee, a payment method's detail, a ticket's tracking) is left out with it,
            // not rejected for a reference it could not see.
            let target = cat::entity(r.target).expect("catalogue").id();
            joined(r.from).is_some_and(|k| self.excluded.contains(&(target, k)))
        }) {
            false
        } else {
            match e.account_field.and_then(value_of) {
                Some(a) => self.admitted.contains(&a),
                None => true,
            }
        };
        if e.name == "User" && admitted {
            if let Some(a) = value_of("Name") {
                self.admitted.insert(a);
            }
        }
        if !admitted && !e.key_fields().is_empty() {
            if let Some(k) = joined(e.key_fields()) {
                self.excluded.insert((e.id(), k));
            }
        }
        // Records referred to by a key other than their own (a held package by User and Name).
        if !admitted {
            for fields in cat::lookup_keys(e.id())
                .iter()
                .filter(|f| **f != e.key_fields())
            {
                if let Some(k) = joined(fields) {
                    self.excluded.insert((e.id(), k));
                }
            }
        }
        admitted
    }
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

/// Records per message between the producer and the main thread, and messages in flight.
const BATCH: usize = 64;
const IN_FLIGHT: usize = 4;
type Batch = Vec<std::io::Result<Item>>;

/// The producer thread of a phase: decodes the spool and parses each record (the work that
/// needs no index and no target), in order. It stops at the first read error (sent in its
/// place) or when the main thread stops listening. When the main thread had to wait (`hungry`),
/// the next batch goes unparsed, and both threads parse: the phase is parsing-bound.
#[allow(clippy::too_many_arguments)]
fn produce(
    reader: ferry_plan::PhaseReader<'_>,
    done_before: u64,
    opts: &RecordOptions,
    given: bool,
    hasher: Option<&crate::logins::Hasher>,
    admission: &mut Admission,
    mut positions: Positions,
    hungry: &AtomicBool,
    tx: std::sync::mpsc::SyncSender<Batch>,
    back: std::sync::mpsc::Receiver<Batch>,
) {
    // Processed batches come back: their records are freed here, on the thread that allocated
    // them (freeing them on the main thread costs it much more in the allocator), and their
    // vectors are used again.
    let mut spare: Vec<Batch> = vec![];
    let mut next = |back: &std::sync::mpsc::Receiver<Batch>| {
        while let Ok(mut b) = back.try_recv() {
            b.clear();
            spare.push(b);
        }
        spare.pop().unwrap_or_else(|| Vec::with_capacity(BATCH))
    };
    let mut batch = next(&back);
    let mut unparsed = false;

    for (seq, raw) in reader.enumerate() {
        if batch.is_empty() {
            // Passwords are hashed here, on every core: never hand records over unparsed then.
            unparsed = hungry.swap(false, Ordering::Relaxed) && hasher.is_none();
        }
        let item = raw.map(|raw| {
            let e = cat::by_id(raw.entity);
            // Records whose identity depends on the ones before them are always parsed here.
            let tracked = Positions::tracks(e);
            if (seq as u64) < done_before {
                // Done before the interruption: only replay what later records depend on.
                if !(admission.admit(e, &raw) && tracked) {
                    return Item::Done;
                }
                let p = parse(raw, opts, given, false);
                positions.step(&p.rec);
                match BatchRow::of(&p.rec, p.ledger_key) {
                    Some(row) if e.is_ledger() => Item::Replay(row),
                    _ => Item::Done,
                }
            } else if !admission.admit(e, &raw) {
                Item::LeftOut(raw)
            } else if unparsed && !tracked {
                Item::Raw(raw)
            } else {
                let mut p = parse(raw, opts, given, hasher.is_some());
                if tracked {
                    p.position = positions.step(&p.rec);
                    p.fill_occurrence();
                }
                Item::Record(Box::new(p))
            }
        });
        let failed = item.is_err();
        batch.push(item);
        if batch.len() >= BATCH || failed {
            if let Some(h) = hasher {
                hash_passwords(h, &mut batch);
            }
            let full = std::mem::replace(&mut batch, next(&back));
            if tx.send(full).is_err() || failed {
                break;
            }
        }
    }
    if !batch.is_empty() {
        if let Some(h) = hasher {
            hash_passwords(h, &mut batch);
        }
        let _ = tx.send(batch);
    }
    drop(tx);
    // The last batches, until the main thread is done.
    while let Ok(b) = back.recv() {
        drop(b);
    }
}

/// Hashes the plain passwords of a batch's records, all at once on the hashing pool.
fn hash_passwords(h: &crate::logins::Hasher, batch: &mut Batch) {
    let work = batch
        .iter_mut()
        .filter_map(|item| match item {
            Ok(Item::Record(p)) => Some(&mut **p),
            _ => None,
        })
        .filter(|p| matches!(p.login_password, Some(crate::logins::LoginPassword::Plain)))
        .filter_map(|p| match p.rec.get("Password") {
            Some(ferry_validate::Value::Secret(s)) => Some((s.as_str(), &mut p.login_password)),
            _ => None,
        })
        .collect();
    h.hash_all(work);
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

fn input_hash(inputs: &[PathBuf], eff_json: &str) -> Result<String, RunError> {
    let mut h = blake3::Hasher::new();
    for input in inputs {
        for f in ferry_sources::input_files(input)? {
            h.update(f.display().to_string().as_bytes());
            let mut file = std::fs::File::open(&f).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
            std::io::copy(&mut file, &mut h).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
        }
    }
    h.update(eff_json.as_bytes());
    Ok(h.finalize().to_hex().to_string())
}

/// The command-line options of a run, as stored in the journal (what `ferry resume` reruns).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct CommandLine {
    pub inputs: Vec<String>,
    pub test_only: bool,
    pub max_records: Option<u64>,
    pub on_existing: OnExisting,
    pub all_or_nothing: bool,
    pub create_accounts: Option<bool>,
    pub date_order: Option<String>,
    pub fold_case: bool,
    pub no_backup: bool,
    pub encoding: Option<String>,
    pub phone_region: String,
    pub max_attachment_bytes: u64,
    pub chunk_size: usize,
    /// Left out for imports, so that an import's input hash is what it was before run kinds.
    #[serde(default, skip_serializing_if = "RunKind::is_import")]
    pub kind: RunKind,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub add_missing_components: bool,
    /// `--mapping` as given (a file or a saved mapping's name); left out when none, so that
    /// the input hash of a run without one is what it was before mappings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl CommandLine {
    pub fn of(opts: &ImportOptions) -> CommandLine {
        CommandLine {
            inputs: opts
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            test_only: opts.test_only,
            max_records: opts.max_records,
            on_existing: opts.on_existing,
            all_or_nothing: opts.all_or_nothing,
            create_accounts: opts.create_accounts,
            date_order: opts.date_order.map(|d| {
                if d == DateOrder::Dmy {
                    "dmy".into()
                } else {
                    "mdy".into()
                }
            }),
            fold_case: opts.fold_case,
            no_backup: opts.no_backup,
            encoding: opts.encoding.map(|e| e.name().to_string()),
            phone_region: format!("{:?}", opts.phone_region),
            max_attachment_bytes: opts.max_attachment_bytes,
            chunk_size: opts.chunk_size,
            kind: opts.kind,
            add_missing_components: opts.add_missing_components,
            mapping: opts.mapping.clone(),
        }
    }

    /// The options to run these inputs again (`ferry resume`).
    pub fn options(&self) -> ImportOptions {
        ImportOptions {
            inputs: self.inputs.iter().map(PathBuf::from).collect(),
            test_only: self.test_only,
            max_records: self.max_records,
            on_existing: self.on_existing,
            all_or_nothing: self.all_or_nothing,
            create_accounts: self.create_accounts,
            date_order: self.date_order.as_deref().map(|d| {
                if d == "dmy" {
                    DateOrder::Dmy
                } else {
                    DateOrder::Mdy
                }
            }),
            fold_case: self.fold_case,
            resume: true,
            no_backup: self.no_backup,
            encoding: self
                .encoding
                .as_deref()
                .and_then(|e| encoding_rs::Encoding::for_label(e.as_bytes())),
            phone_region: self
                .phone_region
                .parse()
                .unwrap_or(phonenumber::country::Id::US),
            max_attachment_bytes: self.max_attachment_bytes,
            chunk_size: self.chunk_size,
            kind: self.kind,
            add_missing_components: self.add_missing_components,
            mapping: self.mapping.clone(),
            ..ImportOptions::default()
        }
    }
}

/// The command line a run was started with, from the journal.
pub fn command_line(target: &Target, run: i64) -> Result<Option<CommandLine>, RunError> {
    Ok(target
        .run(run)?
        .and_then(|r| serde_json::from_value(r.options.get("command_line")?.clone()).ok()))
}

/// Test hook: sleeps for as many milliseconds as the environment variable `var` says.
fn hold(var: &str) {
    if let Some(ms) = std::env::var(var).ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Test hook: `FERRY_FAIL_AT=<point>:<n>` makes the process die (as `kill -9` would) the n-th
/// time it passes the named point: `before-commit`, `after-commit`, `mid-chunk`.
fn fail_point(point: &str, n: u64) {
    if let Ok(spec) = std::env::var("FERRY_FAIL_AT") {
        if let Some((p, k)) = spec.split_once(':') {
            if p == point && k.parse::<u64>().ok() == Some(n) {
                // A real SIGKILL: no destructors, no unwinding, no flushing.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &std::process::id().to_string()])
                    .status();
                std::process::abort();
            }
        }
    }
}

/// The identity of this build's phase order (a checkpoint is a phase's index in it), kept with
/// each run: a run interrupted by a Ferry that ordered its phases otherwise cannot be resumed.
fn phase_order() -> String {
    let names: Vec<&str> = cat::dependency_order().iter().map(Phase::name).collect();
    blake3::hash(names.join(",").as_bytes()).to_hex()[..16].to_string()
}

/// Refuses to resume a run whose checkpoint counts phases in another order than this build's
/// (a run started by an older Ferry records no order: refused too).
fn same_phase_order(info: &ferry_store::journal::RunInfo) -> Result<(), RunError> {
    let theirs = info.options.get("phases").and_then(|p| p.as_str());
    if theirs == Some(phase_order().as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was interrupted by a Ferry whose import phases differ from this one's (another version); its checkpoint cannot be resumed by this Ferry — finish it with the Ferry that started it, or undo it with `ferry rollback {r}` and import again"
    )))
}

/// The run to resume, if any: `ferry resume RUN`'s run, which must be interrupted, or for
/// `--resume` the newest interrupted live run of the same inputs and options.
/// What the journal keeps of a run's mapping.
fn mapping_json(mapping: Option<&RunMapping>) -> serde_json::Value {
    match mapping {
        Some(m) => serde_json::json!({ "given": m.given, "from": m.from, "hash": m.hash }),
        None => serde_json::Value::Null,
    }
}

/// Refuses to resume a run with another mapping than the one it started with (a changed file
/// or saved mapping, or a mapping given or left out).
fn same_mapping(
    info: &ferry_store::journal::RunInfo,
    mapping: Option<&RunMapping>,
) -> Result<(), RunError> {
    let theirs = info
        .options
        .get("mapping")
        .and_then(|m| m.get("hash"))
        .and_then(|h| h.as_str());
    if theirs == mapping.map(|m| m.hash.as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was started with {}, and it is {} now; it cannot be resumed — resume it with the mapping it started with, or undo it with `ferry rollback {r}` and import again",
        match theirs { Some(h) => format!("a mapping whose content hash is {h}"), None => "no mapping".into() },
        match mapping { Some(m) => format!("{} (content hash {})", m.given, m.hash), None => "without one".into() },
    )))
}

fn resumable(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
    cmd_key: &CommandLine,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<Option<i64>, RunError> {
    if let Some(r) = opts.resume_run {
        let info = target
            .run(r)?
            .ok_or_else(|| RunError::Options(format!("there is no run {r} in this target")))?;
        match info.status {
            RunStatus::Interrupted => {}
            RunStatus::Running => {
                return Err(RunError::Options(format!(
                    "run {r} is running now (process {}): another process is writing it; wait for it to finish",
                    info.pid.unwrap_or(0)
                )))
            }
            other => {
                return Err(RunError::Options(format!(
                    "nothing to resume: run {r} is {}, not interrupted",
                    other.as_str()
                )))
            }
        }
        same_phase_order(&info)?;
        same_mapping(&info, mapping)?;
        if info.input_hash != hash {
            return Err(RunError::Options(format!(
                "the inputs of run {r} changed since it started (their content no longer matches); it cannot be resumed — undo it with `ferry rollback {r}` and import again"
            )));
        }
        return Ok(Some(r));
    }
    if !opts.resume || mode != RunMode::Live {
        return Ok(None);
    }
    for r in target.runs()?.into_iter().rev() {
        let same_command = r
            .options
            .get("command_line")
            .and_then(|c| serde_json::from_value::<CommandLine>(c.clone()).ok())
            .is_some_and(|mut c| {
                c.chunk_size = 0;
                c.test_only == cmd_key.test_only
                    && c.kind == cmd_key.kind
                    && c.inputs == cmd_key.inputs
            });
        if r.mode != RunMode::Live || !same_command {
            continue;
        }
        if !r.can_resume() {
            return Ok(None);
        }
        same_phase_order(&r)?;
        same_mapping(&r, mapping)?;
        if r.input_hash != hash {
            return Err(RunError::Options(format!(
                "run {} was interrupted, but its inputs or options changed since it started; it cannot be resumed (start a new run without --resume, or roll it back with `ferry rollback {}`)",
                r.id, r.id
            )));
        }
        return Ok(Some(r.id));
    }
    Ok(None)
}

/// Takes the writer role for the run: the interrupted run to resume, or a new run (recorded
/// only once the role is taken, so a run refused because another holds the target leaves
/// nothing in the journal). Returns the run and whether it is resumed.
///
/// Several processes may set out to resume the same run at once: the run is looked at again
/// once the role is held. If another process resumed (and finished) it meanwhile, `ferry
/// resume RUN` stops, and `--resume` looks again, finding no interrupted run and starting a new
/// one (SPEC §6.4).
fn take_target<'t>(
    target: &'t Target,
    opts: &ImportOptions,
    mode: RunMode,
    cmd: &CommandLine,
    cmd_key: &CommandLine,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<(WriterRole<'t>, bool), RunError> {
    for _ in 0..3 {
        let Some(r) = resumable(target, opts, mode, cmd_key, hash, mapping)? else {
            let role = target.hold_writer_for_new_run(|t| {
                t.create_run(
                    opts.kind,
                    mode,
                    &serde_json::json!(cmd.inputs),
                    &serde_json::json!({ "command_line": cmd, "phases": phase_order(), "mapping": mapping_json(mapping) }),
                    hash,
                )
            })?;
            return Ok((role, false));
        };
        let role = target.hold_writer(r)?;
        let now = target.run(r)?.map(|i| i.status);
        if now == Some(RunStatus::Interrupted) {
            return Ok((role, true));
        }
        role.release()?;
        if opts.resume_run.is_some() {
            return Err(RunError::Options(format!(
                "nothing to resume: run {r} is {} now (another process resumed it meanwhile)",
                now.map_or("gone", RunStatus::as_str)
            )));
        }
    }
    Err(RunError::Options(
        "other processes keep resuming runs of these inputs; try again".into(),
    ))
}

/// Runs one import against an open target (or resumes the interrupted run of the same inputs).
pub fn import(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Summary, RunError> {
    let mode = if opts.test_only {
        RunMode::TestOnly
    } else {
        RunMode::Live
    };
    let cmd = CommandLine::of(opts);
    let mut cmd_key = cmd.clone();
    cmd_key.chunk_size = 0;
    let mapping = match &opts.mapping {
        Some(m) => Some(crate::mapping::load(Some(target), m)?),
        None => None,
    };
    // A changed mapping changes the hash: a resume refuses it like changed inputs.
    let mut key_json = serde_json::to_string(&cmd_key).unwrap_or_default();
    if let Some(m) = &mapping {
        key_json.push_str(&m.hash);
    }
    let hash = input_hash(&opts.inputs, &key_json)?;
    // A key file given explicitly that is not this target's key stops the run before it is
    // even recorded.
    crate::fingerprint_key::check_given(target, opts.fingerprint_key.as_deref())?;
    let (writer, resumed) =
        take_target(target, opts, mode, &cmd, &cmd_key, &hash, mapping.as_ref())?;
    // From here on every way out releases the target (a console process outlives its runs).
    let run = writer.run();
    target.mark_running(run)?;
    progress.started(run);
    // Test hook: hold the target a while (the concurrent-writer test).
    hold("FERRY_TEST_HOLD_MS");
    let mut log = FindingLog::new(run)?;
    if resumed {
        let (seq, totals, noted) = target.finding_state(run)?;
        log.stored_seq = seq;
        log.seq = seq as u64;
        log.totals = totals;
        log.max_records_noted = noted.iter().filter_map(|n| cat::entity_id(n)).collect();
        log.mute = seq > 0;
    }
    let result = run_inner(
        target,
        opts,
        progress,
        run,
        mode,
        &mut log,
        resumed,
        &cmd,
        mapping.as_ref(),
    );
    let outcome = match result {
        Ok(s) => Ok(s),
        Err(e) => {
            // (run_inner's transaction was rolled back when its guard dropped.)
            // A problem with an input or the options stops before the first write: failed.
            // A problem with the target after writing began leaves committed chunks: interrupted,
            // resumable.
            let (status, e) = match e {
                // A resumed run without its key stays resumable: it wrote nothing more.
                RunError::Key(_) if resumed => (RunStatus::Interrupted, e),
                RunError::Input(_) | RunError::Options(_) | RunError::Key(_) => {
                    (RunStatus::Failed, e)
                }
                other => (
                    RunStatus::Interrupted,
                    RunError::Interrupted {
                        run,
                        cause: Box::new(other),
                    },
                ),
            };
            let _ = (|| -> Result<(), RunError> {
                let tx = target.transaction()?;
                log.mute = false;
                log.store_new(target)?;
                target.finish_run(
                    run,
                    status,
                    Some(&e.to_string()),
                    (log.totals[0], log.totals[1], log.totals[2]),
                )?;
                tx.commit()?;
                Ok(())
            })();
            Err(e)
        }
    };
    drop(writer);
    outcome
}

#[allow(clippy::too_many_arguments)]
fn run_inner(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
    run: i64,
    mode: RunMode,
    log: &mut FindingLog,
    resumed: bool,
    cmd: &CommandLine,
    mapping: Option<&RunMapping>,
) -> Result<Summary, RunError> {
    // 1. Read every input once into the spool.
    // Next to a SQLite target (same disk, same permissions; `ferry.db` is in the current
    // folder); in the temporary folder otherwise.
    let spool_parent = target.file().and_then(|f| f.parent()).map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    let mut spool = Spool::new(spool_parent.as_deref()).or_else(|_| Spool::new(None))?;
    let mut limits = opts.limits.clone();
    limits.max_base64_bytes = ferry_sources::Limits::base64_for(opts.max_attachment_bytes);
    let read_opts = ReadOptions {
        raw: mapping.map(|m| ferry_mapping::raw_parts(m.mapping.clone())),
        encoding: opts.encoding,
        limits,
    };
    let mut collect = Collect {
        spool: &mut spool,
        log,
        options: vec![],
        input: 0,
        read: vec![0; cat::ENTITIES.len()],
        untyped: 0,
        progress,
        kind: opts.kind,
        left_out: HashSet::new(),
        needs_key: false,
        first_details: FirstDetails::default(),
        dates: DateTally::default(),
    };
    progress.stage("reading", 0);
    for (i, input) in opts.inputs.iter().enumerate() {
        collect.input = i;
        match mapping {
            // Between the readers and the spool: the mapped parts' rows become records.
            Some(m) => {
                let mut mapped = ferry_mapping::Mapped::new(&mut collect, &m.mapping);
                ferry_sources::read_input(input, &read_opts, &mut mapped)
                    .map_err(|e| crate::mapping::unmatched(e, m))?;
                mapped.finish()?;
            }
            None => {
                ferry_sources::read_input(input, &read_opts, &mut collect)?;
            }
        }
    }
    let Collect {
        options: option_rows,
        read,
        untyped,
        needs_key,
        first_details,
        dates,
        ..
    } = collect;
    spool.finish()?;
    progress.done();
    // Test hook: a live run with its spool written (the spool-sweeping test).
    hold("FERRY_TEST_HOLD_SPOOL_MS");
    let (fingerprint_key, key_note) = if needs_key {
        let (k, n) = key_for_run(target, opts, mode)?;
        (Some(k), n)
    } else {
        (None, KeyNote::default())
    };

    // 2. Options.
    let (eff, warnings) = options::merge(opts, &option_rows).map_err(RunError::Options)?;
    let (dates, date_notes) = dates.decide(options::explicit_date_order(opts, &option_rows));
    for w in warnings.iter().chain(&date_notes) {
        log.push(w)?;
    }
    target.set_run_options(
        run,
        &serde_json::to_string(
            &serde_json::json!({ "command_line": cmd, "effective": eff, "phases": phase_order(), "mapping": mapping_json(mapping) }),
        )
        .unwrap_or_default(),
    )?;
    let rec_opts = RecordOptions {
        values: ValueContext {
            date_order: if eff.date_order == "DMY" {
                DateOrder::Dmy
            } else {
                DateOrder::Mdy
            },
            phone_region: opts.phone_region,
        },
        default_owner: eff.default_owner.clone(),
        dates: Some(std::sync::Arc::new(dates)),
    };

    // 3. Backup (not again when resuming), then the data transaction(s).
    // A PostgreSQL target is not copied: each chunk is a transaction, `ferry rollback` undoes a
    // run, and whole-database backups are the server's (pg_dump).
    let mut backup = None;
    if let (RunMode::Live, false, Some(file)) = (mode, opts.no_backup, target.file()) {
        let name = format!(
            "{}.before-{run}.bak",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("ferry.db")
        );
        let path = file.with_file_name(name);
        if !(resumed && path.exists()) {
            target.backup_to(&path)?;
        }
        backup = Some(path);
    }
    let single_tx = mode == RunMode::TestOnly || eff.all_or_nothing;
    let mut counts: Vec<Counts> = read
        .iter()
        .map(|r| Counts {
            read: *r,
            ..Default::default()
        })
        .collect();
    let (mut cp_phase, mut cp_seq) = (0i64, 0i64);
    if resumed {
        let (p, q) = target.checkpoint_of(run)?;
        cp_phase = p;
        cp_seq = q;
        for (name, c) in target.counts(run)? {
            if let Some(id) = cat::entity_id(&name) {
                let read = counts[id as usize].read;
                counts[id as usize] = Counts { read, ..c };
            }
        }
    }
    let mut state = State {
        target,
        run,
        eff: eff.clone(),
        rec_opts,
        indexes: HashMap::new(),
        identities: HashMap::new(),
        next_id: HashMap::new(),
        parents: None,
        ledger_accounts: None,
        ledger: None,
        logins: if eff.create_accounts {
            Some(crate::logins::Logins::load(target, run)?)
        } else {
            None
        },
        last_ledger: None,
        last_row: None,
        counts,
        dups: Default::default(),
        cert: None,
        add_missing_components: opts.add_missing_components,
        fingerprint_key,
        first_details,
    };
    log.mute = false;
    let mut writes = target.transaction()?;
    let mut in_chunk = 0usize;
    let mut chunks = 0u64;
    let mut records = 0u64;
    let phases: Vec<Phase> = spool.phases().to_vec();
    let mut admission = Admission {
        max_records: eff.max_records,
        ..Admission::default()
    };
    for (pi, phase) in phases.iter().enumerate() {
        let total = spool.count(pi);
        if total == 0 {
            continue;
        }
        let done_before = if (pi as i64) < cp_phase {
            total
        } else if pi as i64 == cp_phase {
            cp_seq as u64
        } else {
            0
        };
        if done_before < total {
            state.prepare_phase(phase)?;
        }
        // Passwords are hashed by the producer of the phase that holds the accounts.
        let hashing = state.logins.is_some()
            && phase
                .entities()
                .into_iter()
                .any(|e| cat::by_id(e).name == "User");
        if hashing {
            progress.stage(&format!("{} + passwords", phase.name()), total);
        } else {
            progress.stage(phase.name(), total);
        }
        let hasher = state
            .logins
            .as_ref()
            .filter(|_| hashing)
            .map(|l| l.hasher.clone());
        let hasher = hasher.as_deref();
        // Spool decoding and parsing run on a producer thread, the indexes, references, keys and
        // writes here, on records in spool order: the sequence numbers (and checkpoints), the
        // findings and every decision are those of one thread.
        let reader = spool.read(pi)?;
        let parse_opts = state.rec_opts.clone();
        let admission = &mut admission;
        let hungry = AtomicBool::new(false);
        let update = state.eff.on_existing == OnExisting::Update;
        let positions = Positions::default();
        std::thread::scope(|s| -> Result<(), RunError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(IN_FLIGHT);
            let (back_tx, back_rx) = std::sync::mpsc::channel::<Batch>();
            let hungry = &hungry;
            let producer = std::thread::Builder::new()
                .name("ferry-parse".into())
                .spawn_scoped(s, move || {
                    produce(
                        reader,
                        done_before,
                        &parse_opts,
                        update,
                        hasher,
                        admission,
                        positions,
                        hungry,
                        tx,
                        back_rx,
                    )
                })?;
            let mut consume = || -> Result<u64, RunError> {
                let mut seen = 0u64;
                loop {
                    let mut batch = match rx.try_recv() {
                        Ok(b) => b,
                        Err(TryRecvError::Disconnected) => break,
                        Err(TryRecvError::Empty) => {
                            hungry.store(true, Ordering::Relaxed);
                            match rx.recv() {
                                Ok(b) => b,
                                Err(_) => break,
                            }
                        }
                    };
                    for slot in batch.iter_mut() {
                        let seq = seen;
                        seen += 1;
                        let item = match slot {
                            Ok(item) => item,
                            Err(e) => {
                                return Err(
                                    std::mem::replace(e, std::io::Error::other("spool")).into()
                                )
                            }
                        };
                        let eid = match item {
                            Item::Record(p) => p.entity as usize,
                            Item::LeftOut(raw) | Item::Raw(raw) => raw.entity as usize,
                            Item::Done => {
                                progress.advance(1);
                                continue;
                            }
                            Item::Replay(row) => {
                                if let Some(ledger) = state.ledger.as_mut() {
                                    ledger.replay(row);
                                }
                                progress.advance(1);
                                continue;
                            }
                        };
                        state.last_ledger = None;
                        state.last_row = None;
                        let outcome = state.process(item, log)?;
                        if let (Some((row, stored)), Some(ledger)) =
                            (state.last_row.take(), state.ledger.as_mut())
                        {
                            ledger.note_row(&row, stored, outcome == Outcome::Imported);
                        }
                        if let (Some((user, amount)), Some(ledger)) =
                            (state.last_ledger.take(), state.ledger.as_mut())
                        {
                            let o = match outcome {
                                Outcome::Imported | Outcome::Updated => {
                                    ledger_phase::Outcome::Imported
                                }
                                Outcome::Skipped => ledger_phase::Outcome::Skipped,
                                Outcome::Rejected => ledger_phase::Outcome::Rejected,
                            };
                            ledger.count(&user, amount, o);
                        }
                        let c = &mut state.counts[eid];
                        match outcome {
                            Outcome::Imported => c.imported += 1,
                            Outcome::Updated => c.updated += 1,
                            Outcome::Skipped => c.skipped += 1,
                            Outcome::Rejected => c.rejected += 1,
                        }
                        progress.advance(1);
                        records += 1;
                        fail_point("mid-chunk", records);
                        if records.is_multiple_of(256) && progress.cancelled() {
                            return Err(RunError::Cancelled);
                        }
                        in_chunk += 1;
                        if single_tx && in_chunk >= opts.chunk_size {
                            // One transaction for the whole run: still write the invoices a chunk changed,
                            // so that memory stays flat (the transaction is rolled back or committed at the end).
                            if let Some(ledger) = state.ledger.as_mut() {
                                ledger.flush_invoices(target)?;
                                ledger.spill_sums()?;
                            }
                            in_chunk = 0;
                        }
                        if !single_tx && in_chunk >= opts.chunk_size {
                            // The chunk's records, its findings, counters, ledger sums and the checkpoint
                            // commit together: after a crash, a resume starts exactly here.
                            if let Some(ledger) = state.ledger.as_mut() {
                                ledger.flush_invoices(target)?;
                            }
                            persist(&mut state, log, untyped)?;
                            target.checkpoint(run, pi as i64, seq as i64 + 1)?;
                            chunks += 1;
                            fail_point("before-commit", chunks);
                            writes.commit_then_begin(|| fail_point("after-commit", chunks))?;
                            in_chunk = 0;
                        }
                    }
                    // Back to the producer, which frees its records.
                    let _ = back_tx.send(batch);
                }
                Ok(seen)
            };
            let consumed = consume();
            // Stops a producer that is still sending (after an error here) or waiting.
            drop(rx);
            drop(back_tx);
            let joined = producer.join();
            let seen = consumed?;
            if let Err(panic) = joined {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                return Err(RunError::Io(std::io::Error::other(format!(
                    "reading the {} records of the spool failed: {what}",
                    phase.name()
                ))));
            }
            if seen != total {
                return Err(RunError::Io(std::io::Error::other(format!(
                    "the spool gave {seen} of the {total} {} records",
                    phase.name()
                ))));
            }
            Ok(())
        })?;
        // The phase's indexes are complete: what their growth left unused goes back.
        for ix in state.indexes.values_mut().flatten() {
            ix.1.shrink_to_fit();
        }
        progress.done();
    }
    let login_summary = match state.logins.take() {
        Some(logins) => Some(logins.finish(target, run, log)?),
        None => None,
    };
    let errors_found = log.totals[0] > 0;
    let status;
    if let Some(ledger) = state.ledger.as_mut() {
        if mode == RunMode::TestOnly || (eff.all_or_nothing && log.totals[0] > 0) {
            ledger.discard_invoices();
        } else {
            ledger.flush_invoices(target)?;
        }
    }
    if mode == RunMode::TestOnly {
        // A test-only run keeps nothing: its transaction is rolled back on purpose.
        writes.rollback()?;
        status = if errors_found {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Succeeded
        };
    } else if eff.all_or_nothing && errors_found {
        writes.rollback()?;
        for (i, c) in state.counts.iter_mut().enumerate() {
            let unwritten = c.imported + c.updated;
            if unwritten > 0 {
                c.skipped += unwritten;
                c.imported = 0;
                c.updated = 0;
                let name = cat::ENTITIES[i].name;
                log.push(
                    &Finding::new(Code::NotWritten, Location::default(), format!("--all-or-nothing: {unwritten} valid {name} records were not written because the run found errors."))
                        .entity(name),
                )?;
            }
        }
        status = RunStatus::CompletedWithErrors;
    } else {
        target.checkpoint(run, phases.len() as i64, 0)?;
        writes.commit()?;
        status = if errors_found {
            RunStatus::CompletedWithErrors
        } else {
            RunStatus::Succeeded
        };
    }
    // 4. Close the run in the journal: what was not yet stored, and the final status.
    let tx = target.transaction()?;
    persist(&mut state, log, untyped)?;
    if mode == RunMode::Live && eff.all_or_nothing && errors_found {
        // Nothing was written: the ledger amounts the run would have imported were skipped, as
        // the counters say (run.not_written), so that the reconciliation balances.
        target.exec(
            "UPDATE run_ledger_sum SET skipped_e4 = skipped_e4 + imported_e4, imported_e4 = 0 WHERE run_id = ?1",
            ferry_store::params![run],
        )?;
    }
    target.finish_run(
        run,
        status,
        None,
        (log.totals[0], log.totals[1], log.totals[2]),
    )?;
    tx.commit()?;
    let counts = counts_of(&state, untyped);
    let added_components = state.added_components();
    Ok(Summary {
        run,
        kind: opts.kind,
        mode,
        status,
        errors: log.totals[0],
        warnings: log.totals[1],
        infos: log.totals[2],
        counts,
        backup,
        options: eff,
        exit_code: if errors_found { 1 } else { 0 },
        added_components,
        logins: login_summary,
        fingerprint_key_created: key_note.created,
        fingerprint_key_temporary: key_note.temporary,
        fingerprint_key_missing: key_note.missing,
    })
}

/// The fingerprint key of a run whose records carry card or account numbers: the target's, or
/// a new one for a live run on a target without one, or a throwaway one for a test-only run on
/// such a target. (Said in the summary, not as a finding: it is about the target, not a record,
/// and test-only and live runs find the same.)
fn key_for_run(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
) -> Result<(crate::fingerprint_key::FingerprintKey, KeyNote), RunError> {
    use crate::fingerprint_key::{resolve, Origin};
    let r = resolve(
        target,
        opts.fingerprint_key.as_deref(),
        mode == RunMode::Live,
    )?;
    let note = match r.origin {
        Origin::Created(path) => KeyNote {
            created: Some(path),
            ..KeyNote::default()
        },
        Origin::Temporary(missing) => KeyNote {
            temporary: true,
            missing: missing.map(|e| e.to_string()),
            ..KeyNote::default()
        },
        Origin::Found(_) => KeyNote::default(),
    };
    Ok((r.key, note))
}

/// What a run says about the fingerprint key in its summary.
#[derive(Default)]
struct KeyNote {
    created: Option<PathBuf>,
    temporary: bool,
    missing: Option<String>,
}

/// The run's counters per entity type (and Ledger-sheet rows without a Type).
fn counts_of(state: &State<'_>, untyped: u64) -> Vec<(String, Counts)> {
    let mut counts: Vec<(String, Counts)> = cat::ENTITIES
        .iter()
        .zip(&state.counts)
        .filter(|(_, c)| c.read > 0)
        .map(|(e, c)| (e.name.to_string(), c.clone()))
        .collect();
    if untyped > 0 {
        counts.push((
            cat::LEDGER_SHEET.to_string(),
            Counts {
                read: untyped,
                rejected: untyped,
                ..Default::default()
            },
        ));
    }
    counts
}

/// Stores what the journal must hold with the chunk: new findings, counters, changed ledger sums.
fn persist(state: &mut State<'_>, log: &mut FindingLog, untyped: u64) -> Result<(), RunError> {
    let target = state.target;
    // Writing on into a file that was deleted or replaced would lose everything at the end.
    if !target.file_unchanged() {
        return Err(RunError::Store(StoreError::Other(match target.file() {
            Some(f) => format!(
                "the target file {} was deleted or replaced during the run; what this process wrote since is lost with it",
                f.display()
            ),
            None => format!("the connection to the target {} was lost", target.name()),
        })));
    }
    log.store_new(target)?;
    let counts = counts_of(state, untyped);
    let refs: Vec<(&str, Counts)> = counts
        .iter()
        .map(|(e, c)| (e.as_str(), c.clone()))
        .collect();
    target.set_counts(state.run, &refs)?;
    if let Some(ledger) = state.ledger.as_mut() {
        ledger.store_sums(target)?;
    }
    Ok(())
}
