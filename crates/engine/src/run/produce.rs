//! The producer thread of a phase: decodes the spool and parses its records, in order, for the
//! main thread (which resolves, checks and writes them).

use super::admission::Admission;
use super::{parse, Item};
use crate::close_batch::BatchRow;
use crate::positions::Positions;
use ferry_catalogue as cat;
use ferry_validate::RecordOptions;
use std::sync::atomic::{AtomicBool, Ordering};

/// Records per message between the producer and the main thread, and messages in flight.
const BATCH: usize = 64;
pub(super) const IN_FLIGHT: usize = 4;
pub(super) type Batch = Vec<std::io::Result<Item>>;

/// The producer thread of a phase: decodes the spool and parses each record (the work that
/// needs no index and no target), in order. It stops at the first read error (sent in its
/// place) or when the main thread stops listening. When the main thread had to wait (`hungry`),
/// the next batch goes unparsed, and both threads parse: the phase is parsing-bound.
#[allow(clippy::too_many_arguments)]
pub(super) fn produce(
    reader: ferry_spool::PhaseReader<'_>,
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
