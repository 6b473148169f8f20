//! Which run a run is: the hash of its inputs and options, the phase order and mapping it
//! started with, and the interrupted run it may resume.

use crate::mapping::RunMapping;
use crate::options::recorded::{self, input_names};
use crate::options::ImportOptions;
use crate::RunError;
use ferry_catalogue::{self as cat, Phase};
use ferry_sources::SourceError;
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::Target;
use std::path::PathBuf;

pub(super) fn input_hash(inputs: &[PathBuf], eff_json: &str) -> Result<String, RunError> {
    let mut h = blake3::Hasher::new();
    for input in inputs {
        for f in ferry_sources::input_files(input)? {
            h.update(f.display().to_string().as_bytes());
            let mut file = std::fs::File::open(&f).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
            std::io::copy(&mut file, &mut h).map_err(|e| SourceError::Io {
                path: f.display().to_string(),
                source: e,
            })?;
        }
    }
    h.update(eff_json.as_bytes());
    Ok(h.finalize().to_hex().to_string())
}

/// Whether the inputs of run `run` still hold what they held when it started (the same files
/// with the same content, checked against the journal's hash of inputs and options); `None`
/// when there is no such run or it records no options to check with.
pub fn inputs_unchanged(target: &Target, run: i64) -> Result<Option<bool>, RunError> {
    let Some(info) = target.run(run)? else {
        return Ok(None);
    };
    let Some(opts) = recorded::read(&info.options) else {
        return Ok(None);
    };
    let mapping = info.options.get("mapping").and_then(|m| m.get("hash"));
    let key = run_key(&opts, mapping.and_then(|h| h.as_str()));
    Ok(Some(input_hash(&opts.inputs, &key)? == info.input_hash))
}

/// What identifies a run besides its inputs' content: its options without what does not change
/// the run (the chunk size), then its mapping's content hash when it has one.
pub(super) fn run_key(opts: &ImportOptions, mapping_hash: Option<&str>) -> String {
    let key = ImportOptions {
        chunk_size: 0,
        ..opts.clone()
    };
    let mut json = serde_json::to_string(&key).unwrap_or_default();
    if let Some(h) = mapping_hash {
        json.push_str(h);
    }
    json
}

/// The identity of this build's phase order (a checkpoint is a phase's index in it), kept with
/// each run: a run interrupted by a Ferry that ordered its phases otherwise cannot be resumed.
pub(super) fn phase_order() -> String {
    let names: Vec<&str> = cat::dependency_order().iter().map(Phase::name).collect();
    blake3::hash(names.join(",").as_bytes()).to_hex()[..16].to_string()
}

/// Refuses to resume a run whose checkpoint counts phases in another order than this build's
/// (a run started by an older Ferry records no order: refused too).
fn same_phase_order(info: &ferry_store::journal::RunInfo) -> Result<(), RunError> {
    let theirs = info.options.get("phases").and_then(|p| p.as_str());
    if theirs == Some(phase_order().as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was interrupted by a Ferry whose import phases differ from this one's (another version); its checkpoint cannot be resumed by this Ferry — finish it with the Ferry that started it, or undo it with `ferry rollback {r}` and import again"
    )))
}

/// What the journal keeps of a run's mapping.
pub(super) fn mapping_json(mapping: Option<&RunMapping>) -> serde_json::Value {
    match mapping {
        Some(m) => serde_json::json!({ "given": m.given, "from": m.from, "hash": m.hash }),
        None => serde_json::Value::Null,
    }
}

/// Refuses to resume a run with another mapping than the one it started with (a changed file
/// or saved mapping, or a mapping given or left out).
fn same_mapping(
    info: &ferry_store::journal::RunInfo,
    mapping: Option<&RunMapping>,
) -> Result<(), RunError> {
    let theirs = info
        .options
        .get("mapping")
        .and_then(|m| m.get("hash"))
        .and_then(|h| h.as_str());
    if theirs == mapping.map(|m| m.hash.as_str()) {
        return Ok(());
    }
    let r = info.id;
    Err(RunError::Options(format!(
        "run {r} was started with {}, and it is {} now; it cannot be resumed — resume it with the mapping it started with, or undo it with `ferry rollback {r}` and import again",
        match theirs { Some(h) => format!("a mapping whose content hash is {h}"), None => "no mapping".into() },
        match mapping { Some(m) => format!("{} (content hash {})", m.given, m.hash), None => "without one".into() },
    )))
}

/// The run to resume, if any: `ferry resume RUN`'s run, which must be interrupted, or for
/// `--resume` the newest interrupted live run of the same inputs and options.
pub(super) fn resumable(
    target: &Target,
    opts: &ImportOptions,
    mode: RunMode,
    hash: &str,
    mapping: Option<&RunMapping>,
) -> Result<Option<i64>, RunError> {
    if let Some(r) = opts.resume_run {
        let info = target
            .run(r)?
            .ok_or_else(|| RunError::Options(format!("there is no run {r} in this target")))?;
        match info.status {
            RunStatus::Interrupted => {}
            RunStatus::Running => {
                return Err(RunError::Options(format!(
                    "run {r} is running now (process {}): another process is writing it; wait for it to finish",
                    info.pid.unwrap_or(0)
                )))
            }
            other => {
                return Err(RunError::Options(format!(
                    "nothing to resume: run {r} is {}, not interrupted",
                    other.as_str()
                )))
            }
        }
        same_phase_order(&info)?;
        same_mapping(&info, mapping)?;
        if info.input_hash != hash {
            return Err(RunError::Options(format!(
                "the inputs of run {r} changed since it started (their content no longer matches); it cannot be resumed — undo it with `ferry rollback {r}` and import again"
            )));
        }
        return Ok(Some(r));
    }
    if !opts.resume || mode != RunMode::Live {
        return Ok(None);
    }
    for r in target.runs()?.into_iter().rev() {
        let same_command = recorded::read(&r.options).is_some_and(|c| {
            c.test_only == opts.test_only
                && c.kind == opts.kind
                && input_names(&c.inputs) == input_names(&opts.inputs)
        });
        if r.mode != RunMode::Live || !same_command {
            continue;
        }
        if !r.can_resume() {
            return Ok(None);
        }
        same_phase_order(&r)?;
        same_mapping(&r, mapping)?;
        if r.input_hash != hash {
            return Err(RunError::Options(format!(
                "run {} was interrupted, but its inputs or options changed since it started; it cannot be resumed (start a new run without --resume, or roll it back with `ferry rollback {}`)",
                r.id, r.id
            )));
        }
        return Ok(Some(r.id));
    }
    Ok(None)
}
