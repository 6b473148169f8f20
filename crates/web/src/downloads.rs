//! A run's downloads: its findings (CSV, JSON Lines, HTML report), its reconciliation and its
//! workbooks annotated with their findings, each written to a private temporary folder of the
//! console's data folder and removed once sent. A run that has not ended has no downloads yet
//! (409): mid-run they would be incomplete.

use crate::pages::blocking;
use crate::view::{attachment, Failure};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_store::Target;
use std::path::{Path as FsPath, PathBuf};

/// A file made for a download: where it is, its media type and the name it is sent under.
type Made = (PathBuf, &'static str, String);

/// A generated file of a run, written to the console's data folder and sent.
pub async fn download(
    State(app): State<Shared>,
    Path((id, what)): Path<(i64, String)>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let made = blocking(move || {
        let t = a.target()?;
        let info = t
            .run(id)?
            .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("There is no run {id}.")))?;
        refuse_while_running(&a, &t, id)?;
        // Written to a private temporary folder, removed once the file is sent.
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{id}-"))
            .tempdir_in(crate::retention::downloads(&a.data))
            .map_err(|e| Failure::internal(e.to_string()))?;
        let out = make(&a, &t, &info, &what, tmp.path())?;
        Ok((tmp, out))
    })
    .await?;
    let (tmp, (path, mime, name)) = made;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    drop(tmp);
    Ok(attachment(bytes, mime, &name))
}

/// A 409 while run `id` is still going (in this console or in another process).
fn refuse_while_running(app: &Shared, t: &Target, id: i64) -> Result<(), Failure> {
    let live = app.jobs.of_run(id);
    let Some(r) = ferry_report::runs::recorded(t, id)? else {
        return Ok(());
    };
    if crate::run_page::is_running(t, &r, live.as_ref())? {
        return Err(Failure::new(
            StatusCode::CONFLICT,
            format!("Run {id} has not ended yet, so its downloads would be incomplete. They are offered on the run's page once it ends."),
        ));
    }
    Ok(())
}

/// Writes download `what` of run `info` into `dir`.
fn make(
    app: &Shared,
    t: &Target,
    info: &ferry_store::journal::RunInfo,
    what: &str,
    dir: &FsPath,
) -> Result<Made, Failure> {
    let id = info.id;
    match what {
        "findings.csv" | "findings.jsonl" | "report.html" => {
            let p = dir.join(what);
            ferry_report::log::write_run_log(t, id, &p)
                .map_err(|e| Failure::internal(format!("{:#}", anyhow::Error::from(e))))?;
            let mime = match what {
                "findings.csv" => "text/csv; charset=utf-8",
                "findings.jsonl" => "application/x-ndjson",
                _ => "text/html; charset=utf-8",
            };
            Ok((p, mime, format!("run-{id}-{what}")))
        }
        "reconciliation.txt" => {
            let r = ferry_report::reconcile::reconcile(t, id)?
                .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "no such run"))?;
            let p = dir.join(what);
            std::fs::write(&p, ferry_report::reconcile::text(&r))
                .map_err(|e| Failure::internal(e.to_string()))?;
            Ok((
                p,
                "text/plain; charset=utf-8",
                format!("run-{id}-reconciliation.txt"),
            ))
        }
        w if w.starts_with("annotated-") && w.ends_with(".xlsx") => annotated(app, t, info, w, dir),
        _ => Err(Failure::new(
            StatusCode::NOT_FOUND,
            "There is no such download.",
        )),
    }
}

/// `annotated-K.xlsx`: the run's K-th workbook with its findings.
fn annotated(
    app: &Shared,
    t: &Target,
    info: &ferry_store::journal::RunInfo,
    w: &str,
    dir: &FsPath,
) -> Result<Made, Failure> {
    let k: usize = w["annotated-".len()..w.len() - 5]
        .parse()
        .map_err(|_| Failure::new(StatusCode::NOT_FOUND, "no such download"))?;
    let inputs: Vec<String> = serde_json::from_value(info.inputs.clone()).unwrap_or_default();
    let books = crate::run_page::workbook_inputs(&inputs);
    let src = k
        .checked_sub(1)
        .and_then(|i| books.get(i))
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "no such workbook in this run"))?;
    let src = PathBuf::from(src);
    // No sweep removes it between the check and the annotation.
    let _hold = app.uploads_lock.blocking_read();
    if !src.exists() {
        return Err(Failure::new(
            StatusCode::GONE,
            "The uploaded workbook is no longer kept, so it cannot be annotated.",
        ));
    }
    let p = dir.join(w);
    // The run's findings name the workbook as uploaded when the run recorded such names.
    let shown = if crate::pages::recorded_shown(info) {
        crate::pages::shown_name(&src)
    } else {
        src.display().to_string()
    };
    let written = ferry_report::annotated::write_annotated_as(
        t,
        info.id,
        &[(src.clone(), p.clone())],
        &[shown],
    );
    crate::release_memory();
    written.map_err(|e| Failure::internal(e.to_string()))?;
    let stem = src
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((
        p,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        format!("{stem}-annotated.xlsx"),
    ))
}
