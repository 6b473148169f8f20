//! What a record takes from the records before it in source order: the occurrence of a held
//! package or service (SPEC §4.4), the batch of ledger rows an unnamed CloseInvoice closes (SPEC
//! §7) — so that re-running the same rows finds them again and new rows are new — and which
//! detail of a payment method comes first (SPEC §4.6).

use ferry_catalogue::{self as cat, Entity, EntityId};
use ferry_findings::Location;
use ferry_sources::RawRecord;
use ferry_validate::Record;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Kept by the producer thread of a phase, which sees every record of the phase in spool order —
/// also those processed before an interruption, so that a resumed run numbers them exactly as an
/// uninterrupted one would.
#[derive(Default)]
pub(crate) struct Positions {
    /// Hash of (entity, the occurrence fields' values) → records seen with them.
    occurrences: HashMap<u64, u32>,
    /// Hash of an account → running hash of its ledger records since its last close (in the run),
    /// and whether they were all rows that earlier runs stored.
    batches: HashMap<u64, (u64, bool)>,
    /// The `ledger_key`s of the ledger rows stored before the run (for the ledger phase).
    earlier: Option<Arc<HashSet<i64>>>,
}

/// What one record takes from its position.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Position {
    /// For a type that counts occurrences: 1 for the run's first record with these values, 2 for
    /// the next… (0 for other types).
    pub occurrence: u32,
    /// For a CloseInvoice without `Invoice`: the hash of its account's ledger records that precede
    /// it in the run since the account's previous close (0 when there are none).
    pub close_batch: Option<u64>,
    /// Those records exist and were all stored by earlier runs: a re-run of an old batch. (A close
    /// stored by a Ferry before close batches were counted has the account as its only identity.)
    pub close_rerun: bool,
}

impl Positions {
    /// Positions for a phase; `earlier` are the keys of the ledger rows stored before the run
    /// (the ledger phase only).
    pub fn new(earlier: Option<Arc<HashSet<i64>>>) -> Positions {
        Positions {
            earlier,
            ..Positions::default()
        }
    }

    /// Whether records of this type take anything from their position (the producer then always
    /// parses them, also those done before an interruption).
    pub fn tracks(e: &Entity) -> bool {
        e.is_ledger() || !e.occurrence_fields().is_empty()
    }

    /// The position of the next record of the stream (parsed, with its `ledger_key`).
    pub fn step(&mut self, rec: &Record, ledger_key: i64) -> Position {
        let e = rec.entity;
        if !e.occurrence_fields().is_empty() {
            let Some(values) = rec.joined(e.occurrence_fields()) else {
                return Position::default();
            };
            let n = self.occurrences.entry(hash(&(e.name, values))).or_insert(0);
            *n += 1;
            return Position {
                occurrence: *n,
                ..Position::default()
            };
        }
        let Some(user) = rec.text("User") else {
            return Position::default();
        };
        let account = hash(&user);
        if e.name != "CloseInvoice" {
            let stored = self
                .earlier
                .as_ref()
                .is_some_and(|s| s.contains(&ledger_key));
            let b = self.batches.entry(account).or_insert((0, true));
            *b = (hash(&(b.0, ledger_key)), b.1 && stored);
            return Position::default();
        }
        // Any close ends the account's batch; only an unnamed one is identified by it.
        let (batch, all_stored) = self.batches.remove(&account).unwrap_or((0, false));
        let unnamed = rec.get("Invoice").is_none();
        Position {
            occurrence: 0,
            close_batch: unnamed.then_some(batch),
            close_rerun: unnamed && batch != 0 && all_stored,
        }
    }
}

/// The identity hash of occurrence `n` of a record whose content hash is `hash`. Occurrence 1 keeps
/// the content hash, so that rows stored before occurrences were counted are still found.
pub(crate) fn with_occurrence(hash: i64, n: u32) -> i64 {
    if n <= 1 {
        return hash;
    }
    let mut h = blake3::Hasher::new();
    h.update(&hash.to_le_bytes());
    h.update(b"occurrence");
    h.update(&n.to_le_bytes());
    i64::from_le_bytes(h.finalize().as_bytes()[..8].try_into().expect("8 bytes"))
}

/// A 64-bit hash for the maps above, which hold hashes rather than the names and values
/// themselves so that memory per account stays small (a collision only merges two counters).
fn hash(v: &impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
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
        e.refs.iter().any(|r| r.target == "UserPaymentMethod")
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
            .entry(hash(&method.trim()))
            .or_insert_with(|| (raw.entity, raw.location.clone()));
    }

    /// The first detail of the method `reference` in the inputs: its type and location.
    pub fn first(&self, reference: &str) -> Option<&(EntityId, Location)> {
        self.0.get(&hash(&reference))
    }
}
