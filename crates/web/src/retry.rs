//! "Retry with a corrected file": files uploaded on a finished run's page start a new test run
//! with the old run's options and mapping, recorded as a retry of it (`retry_of`), so that each
//! run's page links the other.

use crate::auth::Staff;
use crate::jobs::Work;
use crate::pages::{blocking, check_csrf, need_admin, start_work, RunForm};
use crate::view::Failure;
use crate::Shared;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use ferry_engine::ImportOptions;
use std::path::{Path as FsPath, PathBuf};

pub async fn retry(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    m: Multipart,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    let form = crate::pages::read_upload(&app, &headers, m).await?;
    let folder = form.folder.clone();
    let a = app.clone();
    let checked = match check_csrf(&staff, &form.csrf) {
        Ok(()) => blocking(move || retry_options(&a, id, &form)).await,
        Err(e) => Err(e),
    };
    let opts = match checked {
        Ok(o) => o,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            return Err(e);
        }
    };
    start_work(
        &app,
        &staff,
        Work::Import(Box::new(opts)),
        None,
        Some(folder),
        None,
    )
    .await
}

/// Run `id`'s options for the files of `form`: a test run, the same options and mapping (a
/// mapping file of the old upload is copied into the new one), recorded as a retry of `id`.
fn retry_options(app: &Shared, id: i64, form: &RunForm) -> Result<ImportOptions, Failure> {
    if form.inputs.is_empty() {
        return Err(Failure::bad(
            "Choose the corrected file (or files) to upload.",
        ));
    }
    let t = app.target()?;
    let info = t
        .run(id)?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("There is no run {id}.")))?;
    if info.status == ferry_store::journal::RunStatus::Running {
        return Err(Failure::bad(format!(
            "Run {id} is still running: retry it once it has finished."
        )));
    }
    let mut o = ferry_engine::recorded_options(&t, id)
        .map_err(|e| Failure::internal(e.to_string()))?
        .ok_or_else(|| Failure::bad(format!("Run {id} keeps no options to retry with.")))?;
    o.inputs = form.inputs.clone();
    o.folder_files = crate::pages::folder_files(&form.inputs);
    // The new files' own names, as uploaded (the old run's would name the wrong files).
    o.shown = form
        .inputs
        .iter()
        .map(|p| crate::pages::shown_name(p))
        .collect();
    o.test_only = true;
    o.resume = false;
    o.resume_run = None;
    o.retry_of = Some(id);
    o.live_of = None;
    if let Some(m) = &o.mapping {
        o.mapping = Some(mapping_for(m, &form.folder)?);
    }
    crate::run_actions::same_mapping_as_tested(&t, &info, &o)?;
    Ok(o)
}

/// The mapping the retry reads its files with: a saved mapping by its name; a mapping file of
/// the old upload copied into the new upload's folder (the old one may be swept before the
/// new run ends).
fn mapping_for(given: &str, folder: &FsPath) -> Result<String, Failure> {
    if given.starts_with(ferry_engine::mapping::SAVED) {
        return Ok(given.to_string());
    }
    let old = PathBuf::from(given);
    let name = old
        .file_name()
        .ok_or_else(|| Failure::bad("The run's mapping has no file name."))?;
    let new = folder.join(name);
    std::fs::copy(&old, &new).map_err(|_| {
        Failure::new(
            StatusCode::GONE,
            "The mapping this run read its files with is no longer kept: start a new run and map the files again.",
        )
    })?;
    Ok(new.display().to_string())
}
