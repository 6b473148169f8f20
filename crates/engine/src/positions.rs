//! What a record takes from the records before it in source order: the occurrence of a held
//! package or service (SPEC §4.4) and which detail of a payment method comes first (SPEC §4.6).
//! (The batch an unnamed CloseInvoice closes depends on the outcome of the rows before it: see
//! `close_batch`.) The maps hold 64-bit hashes rather than names and values, so that memory per
//! account stays small (a collision only merges two counters).

use crate::close_batch::hash as stable_hash;
use ferry_catalogue::{self as cat, Entity, EntityId};
use ferry_findings::Location;
use ferry_sources::RawRecord;
use ferry_validate::Record;
use std::collections::HashMap;

/// Kept by the producer thread of a phase, which sees every record of the phase in spool order —
/// also those processed before an interruption, so that a resumed run numbers them exactly as an
/// uninterrupted one would.
#[derive(Default)]
pub(crate) struct Positions {
    /// Hash of (entity, the occurrence fields' values) → records seen with them.
    occurrences: HashMap<u64, u32>,
}

/// What one record takes from its position.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Position {
    /// For a type that counts occurrences: 1 for the run's first record with these values, 2 for
    /// the next… (0 for other types).
    pub occurrence: u32,
}

impl Positions {
    /// Whether records of this type take anything from their position, or (ledger records) are
    /// replayed on resume (the producer then always parses them, also those done before an
    /// interruption).
    pub fn tracks(e: &Entity) -> bool {
        e.is_ledger() || !e.occurrence_fields().is_empty()
    }

    /// The position of the next record of the stream (parsed).
    pub fn step(&mut self, rec: &Record) -> Position {
        let e = rec.entity;
        if e.occurrence_fields().is_empty() {
            return Position::default();
        }
        let Some(values) = rec.joined(e.occurrence_fields()) else {
            return Position::default();
        };
        let n = self
            .occurrences
            .entry(stable_hash(&[e.name.as_bytes(), values.as_bytes()]))
            .or_insert(0);
        *n += 1;
        Position { occurrence: *n }
    }
}

/// The first detail record (Cash, Check, CreditCard, ACH) of each payment method, in the order the
/// inputs were read: a method has exactly one, so a later detail of another type is the error
/// and names this one, whatever order the types are processed in. Noted by the reader's visitor
/// (every input is read before the first phase, also when resuming).
#[derive(Default)]
pub(crate) struct FirstDetails(HashMap<u64, (EntityId, Location)>);

impl FirstDetails {
    /// Whether records of `e` are details of a payment method (they refer to one by `Ref`).
    fn is_detail(e: &Entity) -> bool {
        e.refs
            .iter()
            .any(|r| cat::Known::UserPaymentMethod.is_named(r.target))
    }

    pub fn note(&mut self, raw: &RawRecord) {
        let e = cat::by_id(raw.entity);
        if !Self::is_detail(e) {
            return;
        }
        let Some(r) = e.field("Ref").and_then(|f| raw.get(f)) else {
            return;
        };
        let method = r.value.display();
        self.0
            .entry(stable_hash(&[method.trim().as_bytes()]))
            .or_insert_with(|| (raw.entity, raw.location.clone()));
    }

    /// The first detail of the method `reference` in the inputs: its type and location.
    pub fn first(&self, reference: &str) -> Option<&(EntityId, Location)> {
        self.0.get(&stable_hash(&[reference.as_bytes()]))
    }
}
