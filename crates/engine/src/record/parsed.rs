//! A spooled record as the producer thread hands it over: parsed, with what is derived from its
//! values alone (hash, key, references, lookups, ledger key, a login's password).

use crate::close_batch::BatchRow;
use crate::ledger_phase::LedgerState;
use crate::logins::LoginPassword;
use crate::positions::Position;
use ferry_catalogue::{self as cat, EntityId, Known};
use ferry_findings::Finding;
use ferry_sources::RawRecord;
use ferry_validate::{parse_record, Record, RecordOptions};

/// What the producer thread hands over for one spooled record, in spool order.
pub(crate) enum Item {
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
pub(crate) struct Parsed {
    pub(crate) entity: EntityId,
    /// `RawRecord::broken`.
    pub(crate) broken: bool,
    /// The fields the record gives (for `--on-existing update` only).
    pub(crate) given: Vec<u16>,
    pub(crate) rec: Record,
    /// `parse_record`'s findings, logged by the main thread in their place.
    pub(crate) findings: Vec<Finding>,
    /// The values below are of the record as parsed; the main thread computes them again
    /// when a folded reference or an entity rule changed the record.
    pub(crate) hash: i64,
    pub(crate) key: Option<String>,
    /// One per `entity.refs`.
    pub(crate) refs: Vec<Option<String>>,
    /// One per `cat::lookup_keys(entity)`.
    pub(crate) lookups: Vec<Option<String>>,
    /// `LedgerState::ledger_key`, for ledger records.
    pub(crate) ledger_key: i64,
    /// `CreateAccounts`: what a User's login stores of its Password (hashed by the producer).
    pub(crate) login_password: Option<LoginPassword>,
    /// What its identity takes from the records before it (set by the producer).
    pub(crate) position: Position,
}

/// Parses a raw record: `given` keeps which fields it gives (`--on-existing update`), `logins`
/// judges a User's password (`CreateAccounts`).
pub(crate) fn parse(raw: RawRecord, opts: &RecordOptions, given: bool, logins: bool) -> Parsed {
    let (rec, mut findings) = parse_record(&raw, opts);
    let entity = rec.entity;
    let mut login_password = None;
    if logins && entity.is(Known::User) {
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
    pub(crate) fn fill_occurrence(&mut self) {
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
