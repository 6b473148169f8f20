//! The console's pages: sign-out, runs (list, the new-run form; its post is `upload.rs`, one
//! run's page `run_page.rs`, its actions `run_actions.rs`), certification migration and upgrade.

use crate::auth::{self, Staff};
use crate::cookies::Kind;
use crate::jobs::{JobState, Jobs, Work};
use crate::view::{self, page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use ferry_engine::{ImportOptions, OptionTexts, RunKind};
use ferry_store::Target;
use serde::Deserialize;
use std::path::{Path as FsPath, PathBuf};

/// Runs blocking work (the store, the engine) off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    tokio::task::spawn_blocking(f).await?
}

pub(crate) fn need_admin(staff: &Staff) -> Result<(), Failure> {
    if staff.is_admin() {
        Ok(())
    } else {
        Err(Failure::forbidden(
            "Your role is viewer: you can look at everything, but only an admin can change anything.",
        ))
    }
}

pub(crate) fn check_csrf(staff: &Staff, given: &str) -> Result<(), Failure> {
    if auth::same_token(&staff.csrf, given) {
        Ok(())
    } else {
        Err(Failure::forbidden(
            "This form is out of date or did not come from this console (its security token does not match). Reload the page and try again.",
        ))
    }
}

// ---- sign-out ------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(crate) csrf: String,
}

pub async fn sign_out(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Failure> {
    check_csrf(&staff, &f.csrf)?;
    let gone = app.cookies.clear(Kind::Session);
    if let Some(tok) = app.cookies.get(&headers, Kind::Session) {
        blocking(move || {
            let t = app.target()?;
            Ok(auth::sign_out(&t, &tok)?)
        })
        .await?;
    }
    Ok(([(header::SET_COOKIE, gone)], Redirect::to("/signin")).into_response())
}

// ---- runs ----------------------------------------------------------------------------------

pub struct RunRow {
    pub id: i64,
    pub kind: String,
    pub mode: String,
    pub status: String,
    pub started: String,
    pub finished: String,
    pub errors: String,
    pub warnings: String,
    pub inputs: String,
    /// Records imported or updated (a test run: what a live run would import, marked so).
    pub imported: String,
    pub rejected: String,
    /// Who started (or ran live), resumed and rolled back the run.
    pub by: String,
}

/// Who did what to a run, in words: "run live by a@example.org; rolled back by b@…".
fn actors(r: &ferry_report::runs::RunLine) -> String {
    let mut said = vec![];
    if !r.started_by.is_empty() {
        let how = if r.mode == ferry_store::journal::RunMode::Live.as_str() {
            "run live by"
        } else {
            "started by"
        };
        said.push(format!("{how} {}", r.started_by));
    }
    for who in &r.resumed_by {
        said.push(format!("resumed by {who}"));
    }
    if !r.rolled_back_by.is_empty() {
        said.push(format!("rolled back by {}", r.rolled_back_by));
    }
    said.join("; ")
}

/// A run's inputs (the journal's JSON array of paths) as staff know them, `folder_files` as
/// its options recorded them.
pub(crate) fn input_names(inputs: &str, folder_files: &[Vec<String>]) -> String {
    let v: Vec<String> = serde_json::from_str::<Vec<String>>(inputs)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, p)| input_shown(p, folder_files.get(i).map_or(&[], Vec::as_slice)))
        .collect();
    v.join(", ")
}

/// An input as staff know it: a file's name, or a CSV folder's files (the console keeps the
/// CSV files of an upload in a folder of its own; `recorded`: the folder's files as the run's
/// options recorded them, which name it once the upload is gone).
pub(crate) fn input_shown(p: &str, recorded: &[String]) -> String {
    if !recorded.is_empty() {
        return recorded.join(", ");
    }
    let path = FsPath::new(p);
    if path.is_dir() {
        let names = file_names(path);
        if !names.is_empty() {
            return names.join(", ");
        }
    }
    display_name(p)
}

/// The names of the files a folder input holds (empty: not a folder, or none).
fn file_names(folder: &FsPath) -> Vec<String> {
    if !folder.is_dir() {
        return vec![];
    }
    ferry_sources::input_files(folder)
        .map(|files| {
            files
                .iter()
                .map(|f| display_name(&f.display().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The file names of each of `inputs` that is a folder (an upload's CSV files), empty for a
/// file: `ImportOptions::folder_files`.
pub(crate) fn folder_files(inputs: &[PathBuf]) -> Vec<Vec<String>> {
    let files: Vec<Vec<String>> = inputs.iter().map(|p| file_names(p)).collect();
    if files.iter().all(Vec::is_empty) {
        vec![]
    } else {
        files
    }
}

/// An input as staff know it: its file name (uploads are kept under a random folder).
pub(crate) fn display_name(p: &str) -> String {
    if let Some(name) = p.strip_prefix(ferry_engine::mapping::SAVED) {
        return name.to_string();
    }
    FsPath::new(p)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.to_string())
}

fn run_rows(t: &Target, kind: Option<&str>) -> Result<Vec<RunRow>, Failure> {
    Ok(ferry_report::runs::list(t, kind, 500)?
        .into_iter()
        .map(|r| RunRow {
            by: actors(&r),
            imported: if r.mode == ferry_store::journal::RunMode::Live.as_str() {
                view::count(r.imported)
            } else {
                format!("({} if live)", view::count(r.imported))
            },
            rejected: view::count(r.rejected),
            id: r.id,
            kind: r.kind,
            mode: r.mode,
            status: r.status,
            started: view::when(&r.started_at),
            finished: view::when(&r.finished_at),
            errors: view::count(r.errors),
            warnings: view::count(r.warnings),
            inputs: input_names(&r.inputs, &r.folder_files),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "runs.html")]
struct RunsPage {
    base: Base,
    runs: Vec<RunRow>,
}

pub async fn runs(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, Failure> {
    let runs = blocking(move || run_rows(&*app.target()?, None)).await?;
    Ok(page(&RunsPage {
        base: Base::new("Runs", &staff, "runs"),
        runs,
    }))
}

#[derive(Template)]
#[template(path = "new_run.html")]
struct NewRunPage {
    base: Base,
    max_mib: usize,
    opts: crate::mapping_view::OptionsView,
    /// Why the form came back (a refused upload), shown above it; empty on a new form.
    error: String,
}

pub async fn new_run(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    Ok(page(&NewRunPage {
        base: Base::new("New run", &staff, "new"),
        max_mib: app.max_upload_bytes / (1024 * 1024),
        opts: crate::mapping_view::OptionsView(Default::default()),
        error: String::new(),
    }))
}

/// The options a refused form posted, as the form shows them again (`posted`: a checkbox the
/// staff member cleared stays clear).
fn posted(fields: &std::collections::HashMap<String, String>) -> crate::mapping_view::OptionsView {
    let mut kept: std::collections::BTreeMap<String, String> =
        fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    kept.insert("posted".into(), "yes".into());
    crate::mapping_view::OptionsView(kept)
}

/// The new-run form (or the certification page) again after a refused upload: `message` in a
/// banner above it, every option the staff member chose still set; status 400. Files cannot be
/// put back into a browser's file field, so the banner asks for them again.
pub(crate) async fn form_again(
    app: &Shared,
    staff: &Staff,
    kind: RunKind,
    fields: &std::collections::HashMap<String, String>,
    message: &str,
) -> Result<Response, Failure> {
    let error = if message.starts_with("Choose") {
        message.to_string()
    } else {
        format!("{message} Choose the files again: your options are kept.")
    };
    let max_mib = app.max_upload_bytes / (1024 * 1024);
    let body = if kind == RunKind::Certification {
        let a = app.clone();
        let runs = blocking(move || run_rows(&*a.target()?, Some("certification"))).await?;
        page(&CertificationPage {
            base: Base::new("Certification migration", staff, "certification"),
            runs,
            max_mib,
            opts: posted(fields),
            error,
        })
    } else {
        page(&NewRunPage {
            base: Base::new("New run", staff, "new"),
            max_mib,
            opts: posted(fields),
            error,
        })
    };
    Ok((StatusCode::BAD_REQUEST, body).into_response())
}

/// A file name from an upload, accepted only as a plain name with a known extension: never a
/// path, so nothing can be written outside the upload's own folder.
pub fn upload_name(raw: &str) -> Result<String, Failure> {
    let name = plain_name(raw)?;
    let lower = name.to_ascii_lowercase();
    if !(lower.ends_with(".xlsx") || lower.ends_with(".xml") || lower.ends_with(".csv")) {
        return Err(Failure::bad(format!(
            "“{}” is not a file Ferry reads: upload workbooks (.xlsx), XML files (.xml) or CSV files (.csv).",
            raw.chars().take(80).collect::<String>()
        )));
    }
    Ok(name)
}

/// A file name from an upload, accepted only as a plain name: no folder, no parent, nothing
/// hidden, no control characters.
pub fn plain_name(raw: &str) -> Result<String, Failure> {
    let bad = || {
        Failure::bad(format!(
            "\"{}\" is not an acceptable file name: give a plain file name, without folders",
            raw.chars().take(80).collect::<String>()
        ))
    };
    let name = raw.trim();
    if name.is_empty()
        || name.len() > 200
        || name.starts_with('.')
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c == ':' || c.is_control())
    {
        return Err(bad());
    }
    Ok(name.to_string())
}

/// The form of a new run or certification migration: uploaded files and the options.
#[derive(Default)]
pub(crate) struct RunForm {
    pub csrf: String,
    /// Why a file of the form was refused (not a type Ferry reads): the rest of the form is
    /// still read, so that the form can come back with its options.
    pub refused: Option<String>,
    pub folder: PathBuf,
    pub inputs: Vec<PathBuf>,
    pub csv: usize,
    pub fields: std::collections::HashMap<String, String>,
}

impl RunForm {
    fn flag(&self, k: &str) -> bool {
        self.fields.get(k).is_some_and(|v| v == "on" || v == "true")
    }
    fn text(&self, k: &str) -> Option<&str> {
        self.fields
            .get(k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

/// A run's upload form, refused (413) before it is read when its declared size is over the
/// console's limit, and refused (400) when a file is not of a type Ferry reads.
pub(crate) async fn read_upload(
    app: &Shared,
    headers: &axum::http::HeaderMap,
    m: axum::extract::Multipart,
) -> Result<RunForm, Failure> {
    let form = read_upload_form(app, headers, m).await?;
    match &form.refused {
        Some(why) => {
            let _ = tokio::fs::remove_dir_all(&form.folder).await;
            Err(Failure::bad(why.clone()))
        }
        None => Ok(form),
    }
}

/// As [`read_upload`], but a file of a type Ferry does not read leaves `RunForm::refused` set
/// (the files before it stored, the ones after it not) instead of failing: the one check for
/// the new-run and the retry forms.
pub(crate) async fn read_upload_form(
    app: &Shared,
    headers: &axum::http::HeaderMap,
    m: axum::extract::Multipart,
) -> Result<RunForm, Failure> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_upload_bytes as u64) {
        return Err(Failure::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE));
    }
    read_form(app, m).await
}

/// Reads a multipart form, writing each file into a new folder under the console's data folder
/// (CSV files together, as one CSV-folder input).
pub(crate) async fn read_form(app: &Shared, m: Multipart) -> Result<RunForm, Failure> {
    let folder = crate::retention::uploads(&app.data).join(auth::token());
    private_dir(&folder).await?;
    let r = read_parts(folder.clone(), m).await;
    if r.is_err() {
        // A refused upload leaves nothing behind.
        let _ = tokio::fs::remove_dir_all(&folder).await;
    }
    r
}

/// A folder of an upload, private to the console's user.
async fn private_dir(dir: &FsPath) -> Result<(), Failure> {
    let d = dir.to_path_buf();
    tokio::task::spawn_blocking(move || crate::retention::private_dir(&d))
        .await?
        .map_err(|e| Failure::internal(format!("cannot store the upload: {e}")))
}

/// An uploaded file, private to the console's user, and new: a name given twice in one form is
/// refused, never written over.
async fn write_private(path: &FsPath, name: &str, bytes: &[u8]) -> Result<(), Failure> {
    crate::retention::write_private(path, bytes)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                Failure::bad(format!("\"{name}\" is uploaded twice"))
            }
            _ => Failure::internal(format!("cannot store the upload: {e}")),
        })
}

/// What a refused upload says when it is too large.
pub(crate) const TOO_LARGE: &str =
    "The upload is larger than this console accepts (`ferry serve --max-upload-mib`).";

async fn read_parts(folder: PathBuf, mut m: Multipart) -> Result<RunForm, Failure> {
    let mut form = RunForm {
        folder: folder.clone(),
        ..Default::default()
    };
    // Zips of attachments, unpacked once every input is known (where they go depends on it).
    let mut zips = vec![];
    // Too large (413) or malformed (400), as the multipart reader says.
    let too_big = |e: axum::extract::multipart::MultipartError| {
        let status = e.status();
        let what = if status == StatusCode::PAYLOAD_TOO_LARGE {
            TOO_LARGE.to_string()
        } else {
            format!("The upload could not be read as a form (not an acceptable file name or form field): {e}")
        };
        Failure::new(status, what)
    };
    while let Some(field) = m.next_field().await.map_err(too_big)? {
        let key = field.name().unwrap_or("").to_string();
        match field.file_name().map(str::to_string) {
            Some(raw) if key == "files" => {
                if raw.is_empty() || form.refused.is_some() {
                    continue;
                }
                let name = match upload_name(&raw) {
                    Ok(n) => n,
                    Err(e) => {
                        // The field is skipped unread; the options after it are still read.
                        form.refused = Some(e.message);
                        continue;
                    }
                };
                let is_csv = name.to_ascii_lowercase().ends_with(".csv");
                let dir = if is_csv {
                    folder.join("csv")
                } else {
                    folder.clone()
                };
                private_dir(&dir).await?;
                let path = dir.join(&name);
                let bytes = field.bytes().await.map_err(too_big)?;
                write_private(&path, &name, &bytes).await?;
                if is_csv {
                    form.csv += 1;
                } else {
                    form.inputs.push(path);
                }
            }
            Some(raw) if key == "attachments" => {
                // Ticket attachments named by a `Path` such as `attachments/map.pdf`: kept in a
                // folder of that name beside the uploaded files.
                if raw.is_empty() {
                    continue;
                }
                let name = plain_name(&raw)?;
                let dir = folder.join("attachments");
                private_dir(&dir).await?;
                let bytes = field.bytes().await.map_err(too_big)?;
                write_private(&dir.join(&name), &name, &bytes).await?;
            }
            Some(raw) if key == "attachments_zip" => {
                if raw.is_empty() {
                    continue;
                }
                let bytes = field.bytes().await.map_err(too_big)?;
                zips.push((raw, bytes));
            }
            _ => {
                let v = field.text().await.map_err(too_big)?;
                if key == "csrf" {
                    form.csrf = v;
                } else {
                    form.fields.insert(key, v);
                }
            }
        }
    }
    if form.csv > 0 {
        form.inputs.push(folder.join("csv"));
    }
    unpack_zips(&form, zips).await?;
    Ok(form)
}

/// Unpacks the zips of ticket attachments where the inputs' attachment `Path`s start from:
/// beside the uploaded workbooks and XML files, and in the folder of the CSV files if any.
async fn unpack_zips(
    form: &RunForm,
    zips: Vec<(String, axum::body::Bytes)>,
) -> Result<(), Failure> {
    if zips.is_empty() {
        return Ok(());
    }
    let mut dirs = vec![];
    if form.csv == 0 || form.inputs.len() > 1 {
        dirs.push(form.folder.clone());
    }
    if form.csv > 0 {
        dirs.push(form.folder.join("csv"));
    }
    tokio::task::spawn_blocking(move || {
        for (shown, bytes) in &zips {
            for dir in &dirs {
                crate::attachments_zip::unpack(bytes, shown, dir)
                    .map_err(|e| Failure::bad(e.to_string()))?;
            }
        }
        Ok(())
    })
    .await?
}

pub(crate) fn options_of(form: &RunForm, kind: RunKind) -> Result<ImportOptions, Failure> {
    if form.inputs.is_empty() {
        return Err(Failure::bad("Choose at least one file to upload."));
    }
    let mut o = ImportOptions {
        inputs: form.inputs.clone(),
        test_only: form.flag("test_only"),
        all_or_nothing: form.flag("all_or_nothing"),
        fold_case: form.flag("fold_case"),
        kind,
        add_missing_components: form.flag("add_missing_components"),
        ..Default::default()
    };
    OptionTexts {
        encoding: form.text("encoding"),
        phone_region: form.text("phone_region"),
        date_order: form.text("date_order"),
        on_existing: form.text("on_existing"),
        create_accounts: form.text("create_accounts"),
        max_records: form.text("max_records"),
    }
    .apply(&mut o)
    .map_err(|e| Failure::bad(e.sentences()))?;
    // The form's 0 is "all": the Options sheet decides.
    o.max_records = o.max_records.filter(|n| *n > 0);
    // Findings and messages name each input as uploaded, never by its path in the data folder.
    o.shown = form.inputs.iter().map(|p| shown_name(p)).collect();
    o.folder_files = folder_files(&form.inputs);
    Ok(o)
}

/// The name an uploaded input is shown by: its file name as uploaded (`csv` for the folder of a
/// run's CSV files).
pub(crate) fn shown_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Starts `work` for `staff` in the background and sends the browser to its run's page
/// (`fallback`: the run to show when the work ended before naming one, as a refused resume
/// does; `upload`: the new upload folder of the work, removed when the work ended without
/// recording a run; `hold`: the uploads' lock, kept until the run is recorded).
pub(crate) async fn start_work(
    app: &Shared,
    staff: &Staff,
    work: Work,
    fallback: Option<i64>,
    upload: Option<PathBuf>,
    hold: Option<crate::UploadsHold>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let by = staff.email.clone();
    let (run, state) =
        tokio::task::spawn_blocking(move || Jobs::start(&a, work, hold, &by)).await?;
    if let (None, true, Some(folder)) = (run, state.finished, upload) {
        let _ = tokio::fs::remove_dir_all(&folder).await;
    }
    started(run.or(fallback), state)
}

/// Starts background work and sends the browser to the run's page.
fn started(run: Option<i64>, state: JobState) -> Result<Response, Failure> {
    match run {
        Some(r) => Ok(Redirect::to(&format!("/runs/{r}")).into_response()),
        None => Err(Failure::bad(
            state
                .outcome
                .unwrap_or_else(|| "The run did not start.".into()),
        )),
    }
}

// ---- certification -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "certification.html")]
struct CertificationPage {
    base: Base,
    runs: Vec<RunRow>,
    max_mib: usize,
    opts: crate::mapping_view::OptionsView,
    /// Why the form came back (a refused upload), shown above it; empty on a new form.
    error: String,
}

pub async fn certification(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let runs = blocking(move || run_rows(&*a.target()?, Some("certification"))).await?;
    Ok(page(&CertificationPage {
        base: Base::new("Certification migration", &staff, "certification"),
        runs,
        max_mib: app.max_upload_bytes / (1024 * 1024),
        opts: crate::mapping_view::OptionsView(Default::default()),
        error: String::new(),
    }))
}

// ---- upgrade --------------------------------------------------------------------------------

pub struct ChangeRow {
    pub version: i64,
    pub title: String,
    pub changes: Vec<String>,
}

pub struct CustomRow {
    pub kind: String,
    pub name: String,
    pub table: String,
    pub impacts: Vec<String>,
}

#[derive(Template)]
#[template(path = "upgrade.html")]
struct UpgradePage {
    base: Base,
    target: String,
    backend: String,
    version: i64,
    current: i64,
    pending: Vec<ChangeRow>,
    custom: Vec<CustomRow>,
    at_risk: usize,
}

pub async fn upgrade(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let c = blocking(move || {
        let t = Target::open_unchecked(&a.db)?;
        Ok(t.upgrade_check()?)
    })
    .await?;
    Ok(page(&UpgradePage {
        base: Base::new("Upgrade", &staff, "upgrade"),
        target: c.target.clone(),
        backend: c.backend.to_string(),
        version: c.version,
        current: c.current,
        at_risk: c.at_risk().count(),
        pending: c
            .pending
            .iter()
            .map(|p| ChangeRow {
                version: p.version,
                title: p.title.clone(),
                changes: p
                    .changes
                    .iter()
                    .map(ferry_store::upgrade::describe)
                    .collect(),
            })
            .collect(),
        custom: c
            .customizations
            .iter()
            .map(|x| CustomRow {
                kind: x.kind.word().to_string(),
                name: x.name.clone(),
                table: x.table.clone().unwrap_or_default(),
                impacts: x
                    .impacts
                    .iter()
                    .map(|i| format!("{}: {}", i.effect.word(), i.reason))
                    .collect(),
            })
            .collect(),
    }))
}

/// Whether the run's options name its inputs as uploaded (runs since issue 17).
pub(crate) fn recorded_shown(info: &ferry_store::journal::RunInfo) -> bool {
    info.options
        .get("command_line")
        .and_then(|c| c.get("shown"))
        .and_then(|s| s.as_array())
        .is_some_and(|a| !a.is_empty())
}
