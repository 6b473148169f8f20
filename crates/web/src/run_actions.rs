//! What staff do to a run from its page: run a clean test run live (only if its upload is still
//! kept and its mapping did not change), resume an interrupted run, cancel a running one, roll a
//! live run back. Whether the run's lifecycle allows it is `RunInfo`'s to say.

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

/// The one rule for running a test run live, for its page's button and for the action: its
/// lifecycle allows it (`can_run_live`, from `RunStatus`) and its upload is still kept.
pub(crate) fn live_refusal(
    app: &Shared,
    t: &Target,
    can_run_live: bool,
    inputs: &[String],
) -> Result<Option<LiveRefusal>, Failure> {
    if !can_run_live {
        return Ok(Some(LiveRefusal::NotClean));
    }
    let kept = crate::retention::kept(t, &app.data, app.retain_uploads, inputs)
        .map_err(|e| Failure::internal(e.to_string()))?;
    Ok((!kept).then_some(LiveRefusal::UploadGone))
}

pub async fn run_live(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    // Held until the live run is recorded: no sweep removes the upload in between.
    let hold = app.uploads_lock.clone().read_owned().await;
    let a = app.clone();
    let opts = blocking(move || live_options(&a, id)).await?;
    start_work(&app, Work::Import(Box::new(opts)), None, None, Some(hold)).await
}

/// The options to run test run `id` live: only a clean test run whose upload is still kept.
fn live_options(app: &Shared, id: i64) -> Result<ImportOptions, Failure> {
    let t = app.target()?;
    let info = t
        .run(id)?
        .ok_or_else(|| Failure::bad(format!("There is no run {id}.")))?;
    let inputs: Vec<String> = serde_json::from_value(info.inputs.clone()).unwrap_or_default();
    match live_refusal(app, &t, info.can_run_live(), &inputs)? {
        Some(LiveRefusal::NotClean) => {
            return Err(Failure::bad(
                "Only a test run that succeeded without errors can be run live.",
            ))
        }
        Some(LiveRefusal::UploadGone) => {
            return Err(Failure::new(
                StatusCode::GONE,
                "The upload of this test run is no longer kept (`ferry serve --retain-uploads-days`): start a new run with the files.",
            ))
        }
        None => {}
    }
    let mut o = recorded_options(&t, id)?;
    o.test_only = false;
    same_mapping_as_tested(&t, &info, &o)?;
    Ok(o)
}

/// Refuses to run a test run live when its mapping changed since (a saved mapping saved again
/// under its name): what goes live is what was tested.
fn same_mapping_as_tested(
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
    let a = app.clone();
    let opts = blocking(move || {
        let t = a.target()?;
        let mut o = recorded_options(&t, id)?;
        o.resume_run = Some(id);
        Ok(o)
    })
    .await?;
    // An interrupted run's upload is kept while it can be resumed: no hold needed.
    start_work(&app, Work::Import(Box::new(opts)), Some(id), None, None).await
}

pub async fn cancel(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
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
    Form(f): Form<CsrfForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    let a = app.clone();
    let (_, state) =
        tokio::task::spawn_blocking(move || Jobs::start(&a, Work::Rollback(id), None)).await?;
    if state.failed {
        return Err(Failure::bad(state.outcome.unwrap_or_default()));
    }
    Ok(Redirect::to(&format!("/runs/{id}")).into_response())
}
