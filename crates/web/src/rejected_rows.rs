//! The "Rejected rows" download of a run's page: for each workbook or CSV folder the run read
//! (without a mapping), the rows it rejected in their original layout with their findings
//! (`ferry_report::rejected`), to correct and upload again with "Retry with a corrected file".

use crate::pages::{blocking, input_shown};
use crate::view::Failure;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_store::journal::RunInfo;
use std::path::{Path as FsPath, PathBuf};

/// A "Rejected rows" link: where, and its words.
pub struct RejectedLink {
    pub href: String,
    pub label: String,
}

/// The inputs whose rejected rows can be given: workbooks and CSV folders.
fn offered(inputs: &[String]) -> Vec<PathBuf> {
    inputs
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_dir() || p.to_string_lossy().to_ascii_lowercase().ends_with(".xlsx"))
        .collect()
}

/// The links of run `info`: none unless it rejected records, read its files without a mapping
/// (a mapped file's secret columns are not known by their names) and its upload is still there.
pub fn links(info: &RunInfo, inputs: &[String]) -> Vec<RejectedLink> {
    let mapped = info.options.get("mapping").is_some_and(|m| !m.is_null());
    if info.errors == 0 || mapped {
        return vec![];
    }
    offered(inputs)
        .iter()
        .enumerate()
        .filter(|(_, p)| p.exists())
        .map(|(i, p)| RejectedLink {
            href: format!("/runs/{}/rejected/{}", info.id, i + 1),
            label: if p.is_dir() {
                "Rejected rows of the CSV files (zip)".to_string()
            } else {
                format!(
                    "Rejected rows: {}",
                    input_shown(&p.display().to_string(), &[])
                )
            },
        })
        .collect()
}

/// `/runs/{id}/rejected/{k}`: the rejected rows of the run's K-th workbook or CSV folder.
pub async fn download(
    State(app): State<Shared>,
    Path((id, k)): Path<(i64, usize)>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let (tmp, path, name) = blocking(move || make(&a, id, k)).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| Failure::internal(e.to_string()))?;
    drop(tmp);
    let mime = if name.ends_with(".zip") {
        "application/zip"
    } else {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    };
    Ok(crate::view::attachment(bytes, mime, &name))
}

fn make(app: &Shared, id: i64, k: usize) -> Result<(tempfile::TempDir, PathBuf, String), Failure> {
    let t = app.target()?;
    let info = t
        .run(id)?
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("There is no run {id}.")))?;
    let inputs: Vec<String> = serde_json::from_value(info.inputs.clone()).unwrap_or_default();
    let none = || Failure::new(StatusCode::NOT_FOUND, "There are no such rejected rows.");
    if links(&info, &inputs).is_empty() {
        return Err(none());
    }
    let src = k
        .checked_sub(1)
        .and_then(|i| offered(&inputs).get(i).cloned())
        .ok_or_else(none)?;
    // No sweep removes the upload while it is read.
    let _hold = app.uploads_lock.blocking_read();
    if !src.exists() {
        return Err(Failure::new(
            StatusCode::GONE,
            "The upload is no longer kept, so its rejected rows cannot be given.",
        ));
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{id}-"))
        .tempdir_in(crate::retention::downloads(&app.data))
        .map_err(|e| Failure::internal(e.to_string()))?;
    let name = out_name(&src);
    let out = tmp.path().join(&name);
    let opts = ferry_engine::recorded_options(&t, id)
        .map_err(|e| Failure::internal(e.to_string()))?
        .unwrap_or_default();
    let read = ferry_sources::ReadOptions {
        encoding: opts.encoding,
        limits: ferry_sources::Limits::from_env().unwrap_or_default(),
        raw: None,
        // The run's findings name its input as uploaded when the run recorded such names.
        shown_as: crate::pages::recorded_shown(&info)
            .then(|| (src.clone(), crate::pages::shown_name(&src))),
    };
    let written = ferry_report::rejected::write_rejected(&t, id, &src, &read, &out);
    crate::release_memory();
    written.map_err(|e| {
        Failure::internal(crate::view::hide_paths(
            &e.to_string(),
            &crate::retention::uploads(&app.data),
            true,
        ))
    })?;
    Ok((tmp, out, name))
}

/// The download's name: `<workbook>-rejected.xlsx`, or `rejected-rows.zip` for a CSV folder.
fn out_name(src: &FsPath) -> String {
    if src.is_dir() {
        return "rejected-rows.zip".into();
    }
    let stem = src
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{stem}-rejected.xlsx")
}
