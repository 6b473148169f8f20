//! The end of a run: the data transaction committed (or rolled back: test-only, or
//! `--all-or-nothing` with errors), the run closed in the journal, and its summary.

use super::chunks::{counts_of, persist, Chunks};
use super::context::Ctx;
use super::findings_log::FindingLog;
use super::key::KeyNote;
use super::progress::Summary;
use super::State;
use crate::options::Effective;
use crate::RunError;
use ferry_catalogue as cat;
use ferry_findings::{Code, Finding, Location};
use ferry_store::journal::{RunMode, RunStatus};
use std::path::PathBuf;

/// What the run's summary says besides its counters and findings.
pub(super) struct Aside {
    pub(super) eff: Effective,
    pub(super) backup: Option<PathBuf>,
    pub(super) key_note: KeyNote,
    /// The phases of the spool (a finished live run's checkpoint is past the last).
    pub(super) phases: usize,
}

/// Ends the run after its last phase.
pub(super) fn finish(
    ctx: &Ctx<'_>,
    mut state: State<'_>,
    log: &mut FindingLog,
    chunks: Chunks<'_>,
    aside: Aside,
) -> Result<Summary, RunError> {
    let (target, run) = (ctx.target, ctx.run);
    let login_summary = match state.rules.logins.take() {
        Some(logins) => Some(logins.finish(target, run, log)?),
        None => None,
    };
    let errors_found = log.totals[0] > 0;
    let untyped = chunks.untyped;
    let status = settle_writes(ctx, &mut state, log, chunks, aside.phases)?;
    close_journal(ctx, &mut state, log, untyped, (status, errors_found))?;
    let counts = counts_of(&state, untyped);
    let added_components = state.added_components();
    Ok(Summary {
        run,
        kind: ctx.opts.kind,
        mode: ctx.mode,
        status,
        errors: log.totals[0],
        warnings: log.totals[1],
        infos: log.totals[2],
        counts,
        backup: aside.backup,
        options: aside.eff,
        exit_code: if errors_found { 1 } else { 0 },
        added_components,
        logins: login_summary,
        fingerprint_key_created: aside.key_note.created,
        fingerprint_key_temporary: aside.key_note.temporary,
        fingerprint_key_missing: aside.key_note.missing,
    })
}

/// Commits what the run wrote, or rolls it back: a test-only run keeps nothing, and an
/// `--all-or-nothing` run with errors writes nothing. Returns the run's final status.
fn settle_writes(
    ctx: &Ctx<'_>,
    state: &mut State<'_>,
    log: &mut FindingLog,
    chunks: Chunks<'_>,
    phases: usize,
) -> Result<RunStatus, RunError> {
    let target = ctx.target;
    let all_or_nothing = state.eff.all_or_nothing;
    let errors_found = log.totals[0] > 0;
    if let Some(ledger) = state.ledger.as_mut() {
        if ctx.mode == RunMode::TestOnly || (all_or_nothing && log.totals[0] > 0) {
            ledger.discard_invoices();
        } else {
            ledger.flush_invoices(target)?;
        }
    }
    let writes = chunks.writes;
    if ctx.mode == RunMode::TestOnly {
        // A test-only run keeps nothing: its transaction is rolled back on purpose.
        writes.rollback()?;
    } else if all_or_nothing && errors_found {
        writes.rollback()?;
        not_written(state, log)?;
        return Ok(RunStatus::CompletedWithErrors);
    } else {
        // The indexes the run's first chunk dropped, in its last (ferry_store `deferred.rs`).
        target.build_deferred_indexes()?;
        target.checkpoint(ctx.run, phases as i64, 0)?;
        writes.commit()?;
    }
    Ok(if errors_found {
        RunStatus::CompletedWithErrors
    } else {
        RunStatus::Succeeded
    })
}

/// `--all-or-nothing` with errors: the valid records are counted skipped, one finding per
/// entity type says how many were not written.
fn not_written(state: &mut State<'_>, log: &mut FindingLog) -> Result<(), RunError> {
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
    Ok(())
}

/// Closes the run in the journal: what was not yet stored, and the final status.
fn close_journal(
    ctx: &Ctx<'_>,
    state: &mut State<'_>,
    log: &mut FindingLog,
    untyped: u64,
    (status, errors_found): (RunStatus, bool),
) -> Result<(), RunError> {
    let (target, run) = (ctx.target, ctx.run);
    let tx = target.transaction()?;
    persist(state, log, untyped)?;
    if ctx.mode == RunMode::Live && state.eff.all_or_nothing && errors_found {
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
    Ok(())
}
