//! What staff do to a run from its page: run a clean test run live, or import the valid records
//! of a test run with errors (only if its upload is still kept and its mapping did not change),
//! resume an interrupted run, cancel a running one, roll a live run back. Whether the run's
//! lifecycle allows it is `RunInfo`'s to say. Run live, import the valid rows, cancel and roll
//! back act only on a post that carries `confirm=yes` (the confirmation page's form,
//! `confirm.rs`); any other post is sent to that page.

use crate::auth::Staff;
use crate::jobs::{Jobs, Work};
use crate::pages::{blocking, check_csrf, display_name, need_admin, start_work, CsrfForm};
use crate::view::Failure;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use ferry_engine::ImportOptions;
use ferry_store::Target;
use serde::Deserialize;

/// The options a recorded run was started with (to run it live, or to resume it).
fn recorded_options(t: &Target, id: i64) -> Result<ImportOptions, Failure> {
    ferry_engine::recorded_options(t, id)
        .map_err(|e| Failure::internal(e.to_string()))?
        .ok_or_else(|| Failure::bad(format!("Run {id} cannot be repeated or resumed.")))
}

/// Why a test run may not be run live.
pub(crate) enum LiveRefusal {
    /// It did not succeed without errors (its lifecycle says no).
    NotClean,
    /// The sweep would not keep its upload now (not just: it is no longer there).
    UploadGone,
}

/// What a live run of a test run's files is to do: the whole clean run, or the valid records
/// of a run with errors.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoLive {
    Clean,
    ValidRows,
}

/// The one rule for running a test run live, for its page's button and for the action: its
/// lifecycle allows it (`allowed`, from `RunStatus`) and its upload is still kept.
pub(crate) fn live_refusal(
    app: &Shared,
    t: &Target,
    allowed: bool,
    inputs: &[String],
) -> Result<Option<LiveRefusal>, Failure> {
    if !allowed {
        return Ok(Some(LiveRefusal::NotClean));
    }
    let kept = crate::retention::kept(t, &app.data, app.retain_uploads, inputs)
        .map_err(|e| Failure::internal(e.to_string()))?;
    Ok((!kept).then_some(LiveRefusal::UploadGone))
}

/// A run action's form: the CSRF token, and `confirm=yes` from the confirmation page.
#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub(crate) csrf: String,
    #[serde(default)]
    pub(crate) confirm: String,
}

/// Checks the staff member and the token; a post without `confirm=yes` does not act: it is sent
/// to the action's confirmation page. `Some`: the answer to give now instead of acting.
fn unconfirmed(staff: &Staff, f: &ActionForm, id: i64, action: &str) -> Option<Response> {
    if let Err(e) = need_admin(staff).and_then(|_| check_csrf(staff, &f.csrf)) {
        return Some(e.into_response());
    }
    (f.confirm != "yes")
        .then(|| Redirect::to(&format!("/runs/{id}/confirm/{action}")).into_response())
}

pub async fn run_live(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, Failure> {
    go_live(app, staff, id, f, GoLive::Clean).await
}

pub async fn import_valid(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, Failure> {
    go_live(app, staff, id, f, GoLive::ValidRows).await
}

async fn go_live(
    app: Shared,
    staff: Staff,
    id: i64,
    f: ActionForm,
    how: GoLive,
) -> Result<Response, Failure> {
    let action = match how {
        GoLive::Clean => "live",
        GoLive::ValidRows => "import-valid",
    };
    if let Some(r) = unconfirmed(&staff, &f, id, action) {
        return Ok(r);
    }
    // Held until the live run is recorded: no sweep removes the upload in between.
    let hold = app.uploads_lock.clone().read_owned().await;
    let a = app.clone();
    let opts = blocking(move || live_options(&a, id, how)).await?;
    start_work(
        &app,
        &staff,
        Work::Import(Box::new(opts)),
        None,
        None,
        Some(hold),
    )
    .await
}

/// The options to run test run `id` live: a clean test run (or, for its valid rows, a test run
/// with errors) whose upload is still kept and that no later live run used.
fn live_options(app: &Shared, id: i64, how: GoLive) -> Result<ImportOptions, Failure> {
    let t = app.target()?;
    let info = t
        .run(id)?
        .ok_or_else(|| Failure::bad(format!("There is no run {id}.")))?;
    let inputs: Vec<String> = serde_json::from_value(info.inputs.clone()).unwrap_or_default();
    let allowed = match how {
        GoLive::Clean => info.can_run_live(),
        GoLive::ValidRows => info.status.can_import_valid(info.mode),
    };
    match live_refusal(app, &t, allowed, &inputs)? {
        Some(LiveRefusal::NotClean) => {
            return Err(Failure::bad(match how {
                GoLive::Clean => "Only a test run that succeeded without errors can be run live.",
                GoLive::ValidRows => "Only the valid rows of a test run that finished with errors can be imported this way.",
            }))
        }
        Some(LiveRefusal::UploadGone) => {
            return Err(Failure::new(
                StatusCode::GONE,
                "The upload of this test run is no longer kept (`ferry serve --retain-uploads-days`): start a new run with the files.",
            ))
        }
        None => {}
    }
    let recorded_inputs = info.inputs.to_string();
    if ferry_report::runs::later_live(&t, id, &recorded_inputs)? {
        return Err(Failure::bad(format!(
            "These files were already run live after test run {id}: running them again would import them twice."
        )));
    }
    let mut o = recorded_options(&t, id)?;
    o.test_only = false;
    o.resume = false;
    // `retry_of` stays: the live run of a retry skips what the retried runs imported, as its
    // test did (a test run's findings are those of the live run that follows it).
    o.live_of = Some(id);
    if how == GoLive::ValidRows {
        // The records without errors go in; the rejected ones stay out.
        o.all_or_nothing = false;
    }
    same_mapping_as_tested(&t, &info, &o)?;
    Ok(o)
}

/// Refuses to run a test run live when its mapping changed since (a saved mapping saved again
/// under its name): what goes live is what was tested.
pub(crate) fn same_mapping_as_tested(
    t: &Target,
    info: &ferry_store::journal::RunInfo,
    o: &ImportOptions,
) -> Result<(), Failure> {
    let Some(given) = &o.mapping else {
        return Ok(());
    };
    let tested = info
        .options
        .get("mapping")
        .and_then(|m| m.get("hash"))
        .and_then(|h| h.as_str())
        .unwrap_or_default();
    let now = ferry_engine::mapping::load(Some(t), given)
        .map(|m| m.hash)
        .map_err(|e| Failure::bad(format!("The test run's mapping cannot be read now: {e}")))?;
    if now != tested {
        return Err(Failure::bad(format!(
            "The mapping “{}” changed since this test run (content hash {tested}, now {now}): start a new test run with it, then run that one live.",
            display_name(given)
        )));
    }
    Ok(())
}

pub async fn resume(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    // A run is resumed once: a second Resume (another tab, a double click) is told so.
    if app.jobs.of_run(id).is_some_and(|s| !s.finished) {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            format!("Run {id} is running in this console now (it was resumed already): follow it on its page."),
        ));
    }
    let a = app.clone();
    let opts = blocking(move || {
        let t = a.target()?;
        let mut o = recorded_options(&t, id)?;
        o.resume_run = Some(id);
        Ok(o)
    })
    .await?;
    // An interrupted run's upload is kept while it can be resumed: no hold needed.
    let (a, by) = (app.clone(), staff.email.clone());
    let work = Work::Import(Box::new(opts));
    let (run, state) =
        tokio::task::spawn_blocking(move || Jobs::start(&a, work, None, &by)).await?;
    // Refused before it resumed anything (running elsewhere, inputs changed): say why.
    if run.is_none() && state.failed {
        let why = state
            .outcome
            .unwrap_or_else(|| format!("Run {id} could not be resumed."));
        let uploads = crate::retention::uploads(&app.data);
        return Err(Failure::new(
            StatusCode::CONFLICT,
            crate::view::hide_paths(&why, &uploads, true),
        ));
    }
    Ok(Redirect::to(&format!("/runs/{id}")).into_response())
}

pub async fn cancel(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, Failure> {
    if let Some(r) = unconfirmed(&staff, &f, id, "cancel") {
        return Ok(r);
    }
    if !app.jobs.cancel(id) {
        return Err(Failure::bad(format!(
            "Run {id} is not running in this console."
        )));
    }
    Ok(Redirect::to(&format!("/runs/{id}")).into_response())
}

pub async fn rollback(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Result<Response, Failure> {
    if let Some(r) = unconfirmed(&staff, &f, id, "rollback") {
        return Ok(r);
    }
    let a = app.clone();
    // A refused rollback ends at once, sometimes before this returns: either way the run page
    // says how it ended (a red banner when refused), so the answer does not depend on the race.
    tokio::task::spawn_blocking(move || Jobs::start(&a, Work::Rollback(id), None, &staff.email))
        .await?;
    Ok(Redirect::to(&format!("/runs/{id}")).into_response())
}
