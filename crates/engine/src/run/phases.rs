//! The phases of a run, in dependency order: each phase's records come from its producer thread
//! and are processed here, on the main thread, in spool order, chunk after chunk.

use super::admission::Admission;
use super::chunks::{Checkpoint, Chunks};
use super::findings_log::FindingLog;
use super::produce::{produce, Batch, IN_FLIGHT};
use super::progress::Progress;
use super::{Item, Outcome, State};
use crate::ledger_phase;
use crate::options::OnExisting;
use crate::positions::Positions;
use crate::RunError;
use ferry_catalogue::{self as cat, Phase};
use ferry_spool::Spool;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};

/// What the main thread of a phase works with.
struct Work<'s, 'a, 't> {
    state: &'s mut State<'a>,
    log: &'s mut FindingLog,
    progress: &'s dyn Progress,
    chunks: &'s mut Chunks<'t>,
}

/// One phase of the spool: its index, its records, and how many were processed before the
/// interruption.
struct PhaseAt<'p> {
    pi: usize,
    phase: &'p Phase,
    total: u64,
    done_before: u64,
}

/// Processes every phase of the spool (from the checkpoint of a resumed run).
pub(super) fn run_phases(
    state: &mut State<'_>,
    log: &mut FindingLog,
    progress: &dyn Progress,
    chunks: &mut Chunks<'_>,
    spool: &Spool,
    cp: Checkpoint,
) -> Result<(), RunError> {
    let phases: Vec<Phase> = spool.phases().to_vec();
    let mut admission = Admission::new(state.eff.max_records);
    progress.planned((0..phases.len()).map(|pi| spool.count(pi)).sum());
    for (pi, phase) in phases.iter().enumerate() {
        let total = spool.count(pi);
        if total == 0 {
            continue;
        }
        let done_before = cp.done_before(pi, total);
        if done_before < total {
            state.prepare_phase(phase)?;
        }
        let at = PhaseAt {
            pi,
            phase,
            total,
            done_before,
        };
        let mut work = Work {
            state: &mut *state,
            log: &mut *log,
            progress,
            chunks: &mut *chunks,
        };
        run_phase(&mut work, spool, &mut admission, &at)?;
        // The phase's indexes are complete: what their growth left unused goes back.
        for ix in state.indexes.values_mut().flatten() {
            ix.1.shrink_to_fit();
        }
        progress.done();
    }
    Ok(())
}

/// The password hasher of the phase that holds the accounts (passwords are hashed by its
/// producer), after naming the phase's stage to whoever watches.
fn stage(
    state: &State<'_>,
    progress: &dyn Progress,
    at: &PhaseAt<'_>,
) -> Option<std::sync::Arc<crate::logins::Hasher>> {
    let hashing = state.rules.logins.is_some()
        && at
            .phase
            .entities()
            .into_iter()
            .any(|e| cat::by_id(e).is(cat::Known::User));
    if hashing {
        progress.stage(&format!("{} + passwords", at.phase.name()), at.total);
    } else {
        progress.stage(at.phase.name(), at.total);
    }
    state
        .rules
        .logins
        .as_ref()
        .filter(|_| hashing)
        .map(|l| l.hasher.clone())
}

/// One phase. Spool decoding and parsing run on a producer thread, the indexes, references,
/// keys and writes here, on records in spool order: the sequence numbers (and checkpoints),
/// the findings and every decision are those of one thread.
fn run_phase(
    work: &mut Work<'_, '_, '_>,
    spool: &Spool,
    admission: &mut Admission,
    at: &PhaseAt<'_>,
) -> Result<(), RunError> {
    let hasher = stage(work.state, work.progress, at);
    let hasher = hasher.as_deref();
    let reader = spool.read(at.pi)?;
    let parse_opts = work.state.rec_opts.clone();
    let hungry = AtomicBool::new(false);
    let update = work.state.eff.on_existing == OnExisting::Update;
    let positions = Positions::default();
    let done_before = at.done_before;
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
        let consumed = consume(work, &rx, &back_tx, hungry, at.pi);
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
                at.phase.name()
            ))));
        }
        if seen != at.total {
            return Err(RunError::Io(std::io::Error::other(format!(
                "the spool gave {seen} of the {} {} records",
                at.total,
                at.phase.name()
            ))));
        }
        Ok(())
    })
}

/// The main thread's side of a phase: every batch the producer sends, record by record.
/// Returns how many records it was given.
fn consume(
    work: &mut Work<'_, '_, '_>,
    rx: &Receiver<Batch>,
    back_tx: &Sender<Batch>,
    hungry: &AtomicBool,
    pi: usize,
) -> Result<u64, RunError> {
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
                Err(e) => return Err(std::mem::replace(e, std::io::Error::other("spool")).into()),
            };
            if take(work, item)? {
                work.chunks
                    .record_done(work.state, work.log, work.progress, (pi, seq))?;
            }
        }
        // Back to the producer, which frees its records.
        let _ = back_tx.send(batch);
    }
    Ok(seen)
}

/// One item of a batch. Returns whether it was a record processed now (not one done before
/// the interruption).
fn take(work: &mut Work<'_, '_, '_>, item: &mut Item) -> Result<bool, RunError> {
    let state = &mut *work.state;
    let eid = match item {
        Item::Record(p) => p.entity as usize,
        Item::LeftOut(raw) | Item::Raw(raw) => raw.entity as usize,
        Item::Done => {
            work.progress.advance(1);
            return Ok(false);
        }
        Item::Replay(row) => {
            if let Some(ledger) = state.ledger.as_mut() {
                ledger.replay(row);
            }
            work.progress.advance(1);
            return Ok(false);
        }
    };
    state.last_ledger = None;
    state.last_row = None;
    let outcome = state.process(item, work.log)?;
    note_ledger(state, outcome);
    let c = &mut state.counts[eid];
    match outcome {
        Outcome::Imported => c.imported += 1,
        Outcome::Updated => c.updated += 1,
        Outcome::Skipped => c.skipped += 1,
        Outcome::Rejected => c.rejected += 1,
    }
    work.progress.advance(1);
    Ok(true)
}

/// The ledger record just processed, for its account's batch and the run's ledger sums.
fn note_ledger(state: &mut State<'_>, outcome: Outcome) {
    if let (Some((row, stored)), Some(ledger)) = (state.last_row.take(), state.ledger.as_mut()) {
        ledger.note_row(&row, stored, outcome == Outcome::Imported);
    }
    if let (Some((user, amount)), Some(ledger)) = (state.last_ledger.take(), state.ledger.as_mut())
    {
        let o = match outcome {
            Outcome::Imported | Outcome::Updated => ledger_phase::Outcome::Imported,
            Outcome::Skipped => ledger_phase::Outcome::Skipped,
            Outcome::Rejected => ledger_phase::Outcome::Rejected,
        };
        ledger.count(&user, amount, o);
    }
}
