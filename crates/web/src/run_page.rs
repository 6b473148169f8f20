//! One run's page: its summary, live progress, findings (`run_findings`: summed up first, then
//! filtered and paged), counts, downloads (offered once the run has ended) and the actions its
//! lifecycle allows (decided by `RunStatus`, never by comparing status words).

use crate::auth::Staff;
use crate::pages::{blocking, display_name, input_shown};
use crate::run_actions::live_refusal;
use crate::run_findings::{self, FindingFilter, FindingsView};
use crate::view::{self, page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use ferry_report::runs::{self, RecordedRun};
use ferry_store::Target;

pub struct CountRow {
    pub entity: String,
    pub read: String,
    pub imported: String,
    pub updated: String,
    pub skipped: String,
    pub rejected: String,
}

pub struct Download {
    pub href: String,
    pub label: String,
}

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    base: Base,
    id: i64,
    kind: String,
    mode: String,
    status: String,
    started: String,
    finished: String,
    inputs: String,
    /// The recorded error as HTML (escaped, run numbers linked).
    error: String,
    errors: String,
    warnings: String,
    infos: String,
    running: bool,
    live_state: String,
    counts: Vec<CountRow>,
    findings: FindingsView,
    downloads: Vec<Download>,
    can_live: bool,
    can_resume: bool,
    /// Interrupted (by a failure, a cancel or a stop of the console): its error is a yellow
    /// banner saying how to go on, with Resume for admins.
    interrupted: bool,
    can_cancel: bool,
    can_rollback: bool,
    can_import_valid: bool,
    can_retry: bool,
    fix: Fix,
    /// The colour of the job's outcome banner: `ok`, `warning` or `error`.
    live_tone: &'static str,
    /// The banner's text as HTML, run numbers linked.
    live_html: String,
    /// The mapping the run read its files with, in words, and its content hash.
    mapping: String,
    mapping_hash: String,
    /// The draft the run's files were uploaded with, if it is still there.
    draft: String,
}

/// The mapping a run recorded (`options.mapping`: given, from, hash), in words: a saved
/// mapping's name, or a file's name (never its folder).
fn mapping_words(m: &serde_json::Value) -> (String, String) {
    let given = m.get("given").and_then(|v| v.as_str()).unwrap_or_default();
    let hash = m
        .get("hash")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    let words = match m.get("from").and_then(|v| v.as_str()) {
        Some("saved") => format!("“{}”, a mapping saved in the target", display_name(given)),
        _ => {
            let name = display_name(given);
            if name.starts_with("mapping-") && name.ends_with(".toml") {
                "edited in the console for this upload (not saved by name)".to_string()
            } else {
                format!("the file {name}")
            }
        }
    };
    (words, hash)
}

pub(crate) fn workbook_inputs(inputs: &[String]) -> Vec<String> {
    inputs
        .iter()
        .filter(|p| p.to_ascii_lowercase().ends_with(".xlsx"))
        .cloned()
        .collect()
}

/// The run's recorded state and whether this console's job for it is still going.
pub(crate) fn is_running(
    t: &Target,
    r: &RecordedRun,
    live: Option<&crate::jobs::JobState>,
) -> Result<bool, Failure> {
    // As recorded: a run whose process died shows `running` until this page sees it is not.
    Ok(live.is_some_and(|s| !s.finished)
        || (r.running()
            && live.is_none()
            && t.run(r.id)?
                .and_then(|i| i.pid)
                .is_some_and(ferry_store::journal::pid_alive)))
}

fn count_rows(t: &Target, id: i64) -> Result<Vec<CountRow>, Failure> {
    Ok(t.counts(id)?
        .into_iter()
        .filter(|(_, c)| c.read > 0)
        .map(|(e, c)| CountRow {
            entity: e,
            read: view::count(c.read as i64),
            imported: view::count(c.imported as i64),
            updated: view::count(c.updated as i64),
            skipped: view::count(c.skipped as i64),
            rejected: view::count(c.rejected as i64),
        })
        .collect())
}

fn downloads(id: i64, inputs: &[String]) -> Vec<Download> {
    let mut downloads = vec![
        Download {
            href: format!("/runs/{id}/download/findings.csv"),
            label: "Findings (CSV)".into(),
        },
        Download {
            href: format!("/runs/{id}/download/findings.jsonl"),
            label: "Findings (JSON Lines)".into(),
        },
        Download {
            href: format!("/runs/{id}/download/report.html"),
            label: "Report (HTML)".into(),
        },
        Download {
            href: format!("/runs/{id}/download/reconciliation.txt"),
            label: "Reconciliation".into(),
        },
    ];
    for (i, w) in workbook_inputs(inputs).iter().enumerate() {
        downloads.push(Download {
            href: format!("/runs/{id}/download/annotated-{}.xlsx", i + 1),
            label: format!("Annotated workbook: {}", display_name(w)),
        });
    }
    downloads
}

/// What staff may do with the run now.
struct Actions {
    live: bool,
    import_valid: bool,
    retry: bool,
    resume: bool,
    cancel: bool,
    rollback: bool,
}

/// The actions an admin may take on run `r`: its lifecycle is `RunStatus`'s to decide, running
/// live (the whole run, or its valid records) [`live_refusal`]'s (and neither is offered once a
/// later live run used the same files).
fn actions(
    app: &Shared,
    t: &Target,
    r: &RecordedRun,
    running: bool,
    admin: bool,
    inputs: &[String],
) -> Result<Actions, Failure> {
    let finished = !running && !r.running();
    let later_live = runs::later_live(t, r.id, &r.inputs)?;
    let may_run_live = live_refusal(app, t, r.can_run_live(), inputs)?.is_none();
    let valid = r.status.can_import_valid(r.mode);
    let may_import_valid = valid && live_refusal(app, t, true, inputs)?.is_none();
    Ok(Actions {
        live: admin && finished && may_run_live && !later_live,
        import_valid: admin && finished && may_import_valid && !later_live,
        retry: admin && finished && r.kind == "import" && r.errors > 0,
        resume: admin && finished && r.can_resume(),
        cancel: admin && running,
        rollback: admin && finished && r.can_roll_back(),
    })
}

/// A run's way to a fix: the run it retried with corrected files, the runs that retried it,
/// and its "Rejected rows" downloads (one per workbook or CSV folder).
pub struct Fix {
    pub retry_of: Option<i64>,
    pub retries: Vec<i64>,
    /// The test run this live run ran, and the live runs made from this test run.
    pub live_of: Option<i64>,
    pub lives: Vec<i64>,
    pub rejected: Vec<crate::rejected_rows::RejectedLink>,
}

fn fix(t: &Target, id: i64, inputs: &[String]) -> Result<Fix, Failure> {
    let info = t.run(id)?;
    Ok(Fix {
        retry_of: info
            .as_ref()
            .and_then(|i| ferry_report::retries::retry_of(&i.options)),
        retries: ferry_report::retries::retries_of(t, id)?,
        live_of: info
            .as_ref()
            .and_then(|i| ferry_report::retries::live_of(&i.options)),
        lives: ferry_report::retries::lives_of(t, id)?,
        rejected: info
            .as_ref()
            .map(|i| crate::rejected_rows::links(i, inputs))
            .unwrap_or_default(),
    })
}

/// The run's banners: its recorded error, and the outcome of this console's job on it.
struct Banners {
    error: String,
    outcome: String,
}

fn banners(
    live: Option<&crate::jobs::JobState>,
    r: &RecordedRun,
    uploads: &std::path::Path,
) -> Banners {
    let outcome = live.and_then(|s| s.outcome.clone()).unwrap_or_default();
    // A failed job's outcome is the run's error: one red banner, not two. A rolled-back run's
    // recorded "rolled back" is no error: its badge and the job's outcome say it.
    let said = live.is_some_and(|s| s.failed && s.outcome.is_some())
        || r.status == ferry_store::journal::RunStatus::RolledBack;
    Banners {
        error: if said {
            String::new()
        } else {
            view::console_words(&view::hide_paths(&r.error, uploads, true))
        },
        outcome: view::console_words(&view::hide_paths(&outcome, uploads, true)),
    }
}

/// The colour of a job's outcome: red when it failed (a refused rollback too), yellow when an
/// import finished with errors, green otherwise (a rollback done, a clean run).
fn tone(live: Option<&crate::jobs::JobState>, r: &RecordedRun) -> &'static str {
    match live {
        Some(s) if s.failed => "error",
        _ if r.status == ferry_store::journal::RunStatus::CompletedWithErrors => "warning",
        _ => "ok",
    }
}

pub async fn run(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Query(filter): Query<FindingFilter>,
) -> Result<Response, Failure> {
    let live = app.jobs.of_run(id);
    blocking(move || {
        let t = app.target()?;
        let Some(r) = runs::recorded(&t, id)? else {
            return Err(Failure::new(
                StatusCode::NOT_FOUND,
                format!("There is no run {id}."),
            ));
        };
        let inputs: Vec<String> = serde_json::from_str(&r.inputs).unwrap_or_default();
        let uploads = crate::retention::uploads(&app.data);
        let info = t.run(id)?;
        let files = info
            .as_ref()
            .map(|i| ferry_report::runs::folder_files(&i.options))
            .unwrap_or_default();
        let (mapping, mapping_hash) = info
            .and_then(|i| {
                i.options
                    .get("mapping")
                    .filter(|m| !m.is_null())
                    .map(mapping_words)
            })
            .unwrap_or_default();
        let draft = crate::draft::of_run(&uploads, &inputs).unwrap_or_default();
        let running = is_running(&t, &r, live.as_ref())?;
        let counts = count_rows(&t, id)?;
        let said = banners(live.as_ref(), &r, &uploads);
        let findings = run_findings::view(&t, id, filter, &uploads)?;
        let can = actions(&app, &t, &r, running, staff.is_admin(), &inputs)?;
        Ok(page(&RunPage {
            base: Base::new(format!("Run {id}"), &staff, "runs"),
            id,
            mode: r.mode.to_string(),
            status: r.status.to_string(),
            started: view::when(&r.started_at),
            finished: view::when(&r.finished_at),
            inputs: inputs
                .iter()
                .enumerate()
                .map(|(i, p)| input_shown(p, files.get(i).map_or(&[], Vec::as_slice)))
                .collect::<Vec<_>>()
                .join(", "),
            error: view::run_links(&said.error),
            errors: view::counted(r.errors, "error", "errors"),
            warnings: view::counted(r.warnings, "warning", "warnings"),
            infos: view::counted(r.infos, "note", "notes"),
            running,
            live_html: view::run_links(&said.outcome),
            live_state: said.outcome,
            counts,
            findings,
            downloads: downloads(id, &inputs),
            can_live: can.live,
            can_resume: can.resume,
            interrupted: !running && r.can_resume(),
            can_cancel: can.cancel,
            can_rollback: can.rollback,
            can_import_valid: can.import_valid,
            can_retry: can.retry,
            fix: fix(&t, id, &inputs)?,
            live_tone: tone(live.as_ref(), &r),
            mapping,
            mapping_hash,
            draft,
            kind: r.kind,
        }))
    })
    .await
}

/// The live state of a run, for the page's progress bar (polled while it runs): the stage and
/// its records, the whole run's records, the seconds elapsed and (once known) an estimate of
/// the seconds left.
pub async fn progress(State(app): State<Shared>, Path(id): Path<i64>) -> Result<Response, Failure> {
    let live = app.jobs.of_run(id);
    let a = app.clone();
    let recorded = blocking(move || Ok(runs::recorded_status(&*a.target()?, id)?)).await?;
    let Some(r) = recorded else {
        return Err(Failure::new(StatusCode::NOT_FOUND, "no such run"));
    };
    let s = live.unwrap_or_default();
    let running = !s.finished && (s.run.is_some() || r.running());
    Ok(Json(serde_json::json!({
        "running": running,
        "status": r.status.as_str(),
        "errors": r.errors,
        "warnings": r.warnings,
        "stage": s.stage,
        "done": s.done,
        "total": s.total,
        "overall_done": s.overall_done,
        "overall_total": s.overall_total,
        "elapsed_s": s.elapsed_secs(),
        "eta_s": s.eta_secs(),
        "outcome": s.outcome,
    }))
    .into_response())
}

pub async fn findings_fragment() -> Response {
    view::not_found()
}
