//! A live run's chunks: the records of a chunk, its findings, counters, ledger sums and the
//! checkpoint commit together, so that a resume starts exactly after the last one.

use super::findings_log::FindingLog;
use super::progress::Progress;
use super::State;
use crate::RunError;
use ferry_catalogue as cat;
use ferry_store::journal::Counts;
use ferry_store::test_hooks::{fail_at, FailPoint};
use ferry_store::{StoreError, Target, Tx};

/// Where an interrupted run stopped: the phase (its index in the spool's phases) and the
/// records of it already processed. A new run starts at (0, 0).
#[derive(Clone, Copy, Default)]
pub(super) struct Checkpoint {
    pub(super) phase: i64,
    pub(super) seq: i64,
}

impl Checkpoint {
    /// How many of the `total` records of phase `pi` were processed before the interruption.
    pub(super) fn done_before(self, pi: usize, total: u64) -> u64 {
        if (pi as i64) < self.phase {
            total
        } else if pi as i64 == self.phase {
            self.seq as u64
        } else {
            0
        }
    }
}

/// The run's counters to start from (records read; a resumed run's counters so far) and its
/// checkpoint.
pub(super) fn start(
    target: &Target,
    run: i64,
    resumed: bool,
    read: &[u64],
) -> Result<(Vec<Counts>, Checkpoint), RunError> {
    let mut counts: Vec<Counts> = read
        .iter()
        .map(|r| Counts {
            read: *r,
            ..Default::default()
        })
        .collect();
    let mut cp = Checkpoint::default();
    if resumed {
        let (p, q) = target.checkpoint_of(run)?;
        cp.phase = p;
        cp.seq = q;
        for (name, c) in target.counts(run)? {
            if let Some(id) = cat::entity_id(&name) {
                let read = counts[id as usize].read;
                counts[id as usize] = Counts { read, ..c };
            }
        }
    }
    Ok((counts, cp))
}

/// The data transaction(s) of a run: one per chunk of a live run, or one for the whole run
/// (test-only, `--all-or-nothing`).
pub(super) struct Chunks<'t> {
    pub(super) writes: Tx<'t>,
    pub(super) single_tx: bool,
    chunk_size: usize,
    /// Ledger-sheet rows without a valid Type (counted under "Ledger").
    pub(super) untyped: u64,
    in_chunk: usize,
    chunks: u64,
    records: u64,
}

impl<'t> Chunks<'t> {
    pub(super) fn new(writes: Tx<'t>, single_tx: bool, chunk_size: usize, untyped: u64) -> Self {
        Chunks {
            writes,
            single_tx,
            chunk_size,
            untyped,
            in_chunk: 0,
            chunks: 0,
            records: 0,
        }
    }

    /// After each processed record (the `seq`-th of phase `pi`): stops when staff cancelled,
    /// and ends the chunk when it is full.
    pub(super) fn record_done(
        &mut self,
        state: &mut State<'_>,
        log: &mut FindingLog,
        progress: &dyn Progress,
        (pi, seq): (usize, u64),
    ) -> Result<(), RunError> {
        self.records += 1;
        fail_at(FailPoint::MidChunk, self.records);
        if self.records.is_multiple_of(256) && progress.cancelled() {
            return Err(RunError::Cancelled);
        }
        self.in_chunk += 1;
        if self.in_chunk < self.chunk_size {
            return Ok(());
        }
        let target = state.target;
        if self.single_tx {
            // One transaction for the whole run: still write the invoices a chunk changed,
            // so that memory stays flat (the transaction is rolled back or committed at the end).
            if let Some(ledger) = state.ledger.as_mut() {
                ledger.flush_invoices(target)?;
                ledger.spill_sums()?;
            }
        } else {
            // The chunk's records, its findings, counters, ledger sums and the checkpoint
            // commit together: after a crash, a resume starts exactly here.
            if let Some(ledger) = state.ledger.as_mut() {
                ledger.flush_invoices(target)?;
            }
            persist(state, log, self.untyped)?;
            target.checkpoint(state.run, pi as i64, seq as i64 + 1)?;
            self.chunks += 1;
            let chunks = self.chunks;
            fail_at(FailPoint::BeforeCommit, chunks);
            self.writes
                .commit_then_begin(move || fail_at(FailPoint::AfterCommit, chunks))?;
        }
        self.in_chunk = 0;
        Ok(())
    }
}

/// The run's counters per entity type (and Ledger-sheet rows without a Type).
pub(super) fn counts_of(state: &State<'_>, untyped: u64) -> Vec<(String, Counts)> {
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
pub(super) fn persist(
    state: &mut State<'_>,
    log: &mut FindingLog,
    untyped: u64,
) -> Result<(), RunError> {
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
