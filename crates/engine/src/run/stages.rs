//! The stages of a run that holds the target, in order: read, key, options, backup, phases,
//! finish.

use super::chunks::{self, Chunks};
use super::context::Ctx;
use super::effective::settle;
use super::findings_log::FindingLog;
use super::finish::{finish, Aside};
use super::key::{key_for_run, KeyNote};
use super::phases::run_phases;
use super::progress::Summary;
use super::read::{read_inputs, Reading};
use super::writer::backup;
use super::State;
use crate::fingerprint_key::FingerprintKey;
use crate::options::Effective;
use crate::positions::FirstDetails;
use crate::RunError;
use ferry_store::journal::{Counts, RunMode};
use ferry_store::test_hooks::{hold, Hold};
use ferry_validate::RecordOptions;

/// Runs the stages of one run; the caller closes the run in the journal when one fails.
pub(super) fn run_stages(ctx: &Ctx<'_>, log: &mut FindingLog) -> Result<Summary, RunError> {
    let (target, opts) = (ctx.target, ctx.opts);
    let reading = read_inputs(target, opts, ctx.progress, log, ctx.mapping)?;
    // Test hook: a live run with its spool written (the spool-sweeping test).
    hold(Hold::Spool);
    let (fingerprint_key, key_note) = if reading.needs_key {
        let (k, n) = key_for_run(target, opts, ctx.mode)?;
        (Some(k), n)
    } else {
        (None, KeyNote::default())
    };
    let Reading {
        spool,
        options,
        read,
        untyped,
        first_details,
        dates,
        ..
    } = reading;
    let (eff, rec_opts) = settle(ctx, log, &options, dates)?;
    let backup = backup(ctx)?;
    let single_tx = ctx.mode == RunMode::TestOnly || eff.all_or_nothing;
    let (counts, cp) = chunks::start(target, ctx.run, ctx.resumed, &read)?;
    let mut state = new_state(
        ctx,
        (eff.clone(), rec_opts),
        counts,
        fingerprint_key,
        first_details,
    )?;
    log.mute = false;
    let mut chunks = Chunks::new(target.transaction()?, single_tx, opts.chunk_size, untyped);
    // Plain indexes of empty tables are built after the load (PostgreSQL; `settle_writes`).
    // Not in a run of one transaction: the dropped index locks its table against readers
    // until the first commit, which would be the run's end.
    if !single_tx {
        target.defer_indexes()?;
    }
    run_phases(&mut state, log, ctx.progress, &mut chunks, &spool, cp)?;
    let aside = Aside {
        eff,
        backup,
        key_note,
        phases: spool.phases().len(),
    };
    finish(ctx, state, log, chunks, aside)
}

/// The in-memory state of the run's phases, before the first.
fn new_state<'a>(
    ctx: &Ctx<'a>,
    (eff, rec_opts): (Effective, RecordOptions),
    counts: Vec<Counts>,
    fingerprint_key: Option<FingerprintKey>,
    first_details: FirstDetails,
) -> Result<State<'a>, RunError> {
    let (target, run) = (ctx.target, ctx.run);
    let logins = if eff.create_accounts {
        Some(crate::logins::Logins::load(target, run)?)
    } else {
        None
    };
    Ok(State::new(
        target,
        run,
        eff,
        rec_opts,
        counts,
        logins,
        ctx.opts.add_missing_components,
        fingerprint_key,
        first_details,
    ))
}
