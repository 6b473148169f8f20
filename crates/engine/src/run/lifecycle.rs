//! One import from start to end: which run it is, the writer role, its stages, and how the
//! journal closes it when a stage fails.

use super::context::Ctx;
use super::findings_log::FindingLog;
use super::progress::{Progress, Summary};
use super::resume::{input_hash, run_key};
use super::stages::run_stages;
use super::writer::take_target;
use crate::mapping::RunMapping;
use crate::options::ImportOptions;
use crate::RunError;
use ferry_catalogue as cat;
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::test_hooks::{hold, Hold};
use ferry_store::Target;

/// What identifies a run before it takes the target.
struct Identity {
    mode: RunMode,
    mapping: Option<RunMapping>,
    /// Of the inputs, the options and the mapping: a resume refuses any change to them.
    hash: String,
}

/// Runs one import against an open target (or resumes the interrupted run of the same inputs).
pub fn import(
    target: &Target,
    opts: &ImportOptions,
    progress: &dyn Progress,
) -> Result<Summary, RunError> {
    let id = identify(target, opts)?;
    // A key file given explicitly that is not this target's key stops the run before it is
    // even recorded.
    crate::fingerprint_key::check_given(target, opts.fingerprint_key.as_deref())?;
    let (writer, resumed) = take_target(target, opts, id.mode, &id.hash, id.mapping.as_ref())?;
    // From here on every way out releases the target (a console process outlives its runs).
    let run = writer.run();
    target.mark_running(run)?;
    progress.started(run);
    // Test hook: hold the target a while (the concurrent-writer test).
    hold(Hold::Target);
    let mut log = open_log(target, run, resumed)?;
    let ctx = Ctx {
        target,
        opts,
        progress,
        run,
        mode: id.mode,
        resumed,
        mapping: id.mapping.as_ref(),
    };
    // (A failed stage's transaction was rolled back when its guard dropped.)
    let outcome = run_stages(&ctx, &mut log).map_err(|e| close_failed(&ctx, &mut log, e));
    drop(writer);
    outcome
}

/// The run's mode, command line, mapping and input hash.
fn identify(target: &Target, opts: &ImportOptions) -> Result<Identity, RunError> {
    let mode = if opts.test_only {
        RunMode::TestOnly
    } else {
        RunMode::Live
    };
    let mapping = match &opts.mapping {
        Some(m) => Some(crate::mapping::load(Some(target), m)?),
        None => None,
    };
    // A changed mapping changes the hash: a resume refuses it like changed inputs.
    let key = run_key(opts, mapping.as_ref().map(|m| m.hash.as_str()));
    let hash = input_hash(&opts.inputs, &key)?;
    Ok(Identity {
        mode,
        mapping,
        hash,
    })
}

/// The run's finding log; a resumed run's goes on from the findings already stored (and
/// replays reading and options silently when there are some).
fn open_log(target: &Target, run: i64, resumed: bool) -> Result<FindingLog, RunError> {
    let mut log = FindingLog::new(run)?;
    if resumed {
        let (seq, totals, noted) = target.finding_state(run)?;
        log.stored_seq = seq;
        log.seq = seq as u64;
        log.totals = totals;
        log.max_records_noted = noted.iter().filter_map(|n| cat::entity_id(n)).collect();
        log.mute = seq > 0;
    }
    Ok(log)
}

/// Closes a run a stage stopped, and says why. A problem with an input or the options stops
/// before the first write: failed. A problem with the target after writing began leaves
/// committed chunks: interrupted, resumable.
fn close_failed(ctx: &Ctx<'_>, log: &mut FindingLog, e: RunError) -> RunError {
    let (target, run) = (ctx.target, ctx.run);
    let (status, e) = match e {
        // A resumed run without its key stays resumable: it wrote nothing more.
        RunError::Key(_) if ctx.resumed => (RunStatus::Interrupted, e),
        RunError::Input(_)
        | RunError::Scratch(..)
        | RunError::Options(_)
        | RunError::OptionSheets(_)
        | RunError::Key(_) => (RunStatus::Failed, e),
        other => (
            RunStatus::Interrupted,
            RunError::Interrupted {
                run,
                cause: Box::new(other),
            },
        ),
    };
    // An index the run deferred, built on what its chunks committed (a connection that is
    // gone leaves it to whoever takes the writer role next).
    let _ = target.build_deferred_indexes();
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
    e
}
