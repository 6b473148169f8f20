//! The target a run writes: taking the writer role (for a new run or the one to resume), and
//! the backup of a SQLite target before a live run writes.

use super::context::Ctx;
use super::resume::{mapping_json, phase_order, resumable};
use crate::mapping::RunMapping;
use crate::options::recorded::input_names;
use crate::options::ImportOptions;
use crate::RunError;
use ferry_store::journal::{RunAction, RunMode, RunStatus};
use ferry_store::{Target, WriterRole};
use std::path::PathBuf;

/// Takes the writer role for the run: the interrupted run to resume, or a new run (recorded
/// only once the role is taken, so a run refused because another holds the target leaves
/// nothing in the journal). Returns the run and whether it is resumed.
///
/// Several processes may set out to resume the same run at once: the run is looked at again
/// once the role is held. If another process resumed (and finished) it meanwhile, `ferry
/// resume RUN` stops, and `--resume` looks again, finding no interrupted run and starting a new
/// one (SPEC §6.4).
/// Who starts or resumes the run, as the journal names them.
fn actor(opts: &ImportOptions) -> &str {
    opts.actor
        .as_deref()
        .unwrap_or(ferry_store::journal::COMMAND_LINE)
}

pub(super) fn take_target<'t>(
    target: &'t Target,
    opts: &ImportOptions,
    mode: RunMode,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<(WriterRole<'t>, bool), RunError> {
    if let Some(r) = opts.retry_of {
        if target.run(r)?.is_none() {
            return Err(RunError::Options(format!(
                "--retry-of {r}: there is no run {r} in this target"
            )));
        }
    }
    for _ in 0..3 {
        let Some(r) = resumable(target, opts, mode, hash, mapping)? else {
            let role = target.hold_writer_for_new_run(|t| {
                let run = t.create_run(
                    opts.kind,
                    mode,
                    &serde_json::json!(input_names(&opts.inputs)),
                    &serde_json::json!({ "command_line": opts, "phases": phase_order(), "mapping": mapping_json(mapping) }),
                    hash,
                )?;
                t.record_run_event(run, RunAction::Started, actor(opts))?;
                Ok(run)
            })?;
            return Ok((role, false));
        };
        let role = target.hold_writer(r)?;
        let now = target.run(r)?.map(|i| i.status);
        if now == Some(RunStatus::Interrupted) {
            target.record_run_event(r, RunAction::Resumed, actor(opts))?;
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

/// The backup of a SQLite target before a live run writes (not again when resuming), or
/// none. A PostgreSQL target is not copied: each chunk is a transaction, `ferry rollback`
/// undoes a run, and whole-database backups are the server's (pg_dump).
pub(super) fn backup(ctx: &Ctx<'_>) -> Result<Option<PathBuf>, RunError> {
    let (target, run) = (ctx.target, ctx.run);
    let mut backup = None;
    if let (RunMode::Live, false, Some(file)) = (ctx.mode, ctx.opts.no_backup, target.file()) {
        let name = format!(
            "{}.before-{run}.bak",
            file.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("ferry.db")
        );
        let path = file.with_file_name(name);
        if !(ctx.resumed && path.exists()) {
            target.backup_to(&path)?;
        }
        backup = Some(path);
    }
    Ok(backup)
}
