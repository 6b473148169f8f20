//! The new-run page's second step (`/runs/new/{draft}`): an upload looked at before its run —
//! its first rows, the mapping Ferry suggests or a saved one, changed column by column or as
//! text, previewed, saved by name, and the run started with it. One plain form: everything
//! works without JavaScript. Viewers may look and preview; saving and running need an admin.

use crate::auth::Staff;
use crate::draft::{Draft, State, StoredGuess};
use crate::jobs::{Jobs, Work};
use crate::mapping_form::{self as form, Posted};
use crate::mapping_view::{self as view, DraftPage, Inputs, Notice};
use crate::pages::{blocking, check_csrf, need_admin, options_of, RunForm};
use crate::sample::{self, Part, Sampled};
use crate::suggestion::{sample_of, suggestion_for};
use crate::view::{hide_paths, page, Base, Failure};
use crate::Shared;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use ferry_engine::mapping::{self as saved_mappings, RunMapping};
use ferry_engine::{DateOrder, ImportOptions, RunKind};
use ferry_mapping::edit::Editor;
use ferry_mapping::Mapping;
use ferry_store::Target;
use std::sync::Arc;

/// Largest mapping text accepted from the form (the engine reads no larger file either).
pub const MAX_TEXT: usize = 1 << 20;
/// Largest body of the page's form: the mapping text twice over in URL encoding, and the rest.
pub const FORM_LIMIT: usize = 8 * MAX_TEXT;
/// Rows of each part a preview shows.
const PREVIEW_ROWS: usize = 10;
/// The run options of the form, kept with the draft.
const OPTION_KEYS: [&str; 9] = [
    "test_only",
    "all_or_nothing",
    "fold_case",
    "on_existing",
    "create_accounts",
    "date_order",
    "encoding",
    "phone_region",
    "max_records",
];

fn io(e: std::io::Error) -> Failure {
    Failure::internal(format!("cannot read or keep the upload's draft: {e}"))
}

fn open(app: &Shared, id: &str) -> Result<Draft, Failure> {
    Draft::open(&crate::retention::uploads(&app.data), id).ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            "There is no such upload (an upload no run used is kept a day): upload the files again.",
        )
    })
}

/// Makes the upload of a new-run form a draft (its first rows read, a mapping proposed) and
/// sends the browser to it. The upload goes when this fails.
pub(crate) async fn create(app: &Shared, form: RunForm) -> Result<Response, Failure> {
    let folder = form.folder.clone();
    let a = app.clone();
    let made = blocking(move || {
        let opts = options_of(&form, RunKind::Import)?;
        let samples = sample::sample(&form.inputs, &read_options(&opts), &form.folder);
        let t = a.target()?;
        let (text, saved, guesses, origin) = first_mapping(&t, &samples)?;
        let mut fields: std::collections::BTreeMap<String, String> = form
            .fields
            .iter()
            .filter(|(k, _)| OPTION_KEYS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fields.insert("posted".into(), "1".into());
        let state = State {
            inputs: form
                .inputs
                .iter()
                .filter_map(|p| p.strip_prefix(&form.folder).ok())
                .map(|p| p.display().to_string())
                .collect(),
            fields,
            saved,
            guesses,
            origin,
        };
        let d = Draft::create(&form.folder, &state, &samples, &text).map_err(io)?;
        Ok(d.id)
    })
    .await;
    match made {
        Ok(id) => Ok(Redirect::to(&format!("/runs/new/{id}")).into_response()),
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&folder).await;
            Err(e)
        }
    }
}

/// The mapping a new draft starts with: none when every part is in Ferry's shape; a saved
/// mapping that reads every other part; else the suggestion for them.
type First = (String, Option<String>, Vec<StoredGuess>, String);

fn first_mapping(t: &Target, samples: &Sampled) -> Result<First, Failure> {
    let todo: Vec<&Part> = samples
        .parts
        .iter()
        .filter(|p| p.native.is_none())
        .collect();
    if todo.is_empty() {
        let why = if samples.parts.is_empty() {
            "Nothing was read from these files."
        } else {
            "Every part is in Ferry's own shape: no mapping is needed."
        };
        return Ok((String::new(), None, Vec::new(), why.into()));
    }
    let engine = |e: ferry_engine::RunError| Failure::internal(e.to_string());
    for s in saved_mappings::list(t).map_err(engine)? {
        let Some(text) = saved_mappings::saved(t, &s.name).map_err(engine)? else {
            continue;
        };
        let Ok(m) = Mapping::load(&text) else {
            continue;
        };
        if todo.iter().all(|p| form::source_of(&m, p).is_some()) {
            let origin = format!(
                "The saved mapping “{}” reads these files, so it is used: check it below, or choose another.",
                s.name
            );
            return Ok((normal(&text), Some(s.name), Vec::new(), origin));
        }
    }
    let (text, guesses) = suggest(&todo);
    let origin = format!(
        "Ferry suggests a mapping for {} from {} headers and values: check each column, then preview.",
        names(&todo),
        if todo.len() == 1 { "its" } else { "their" }
    );
    Ok((text, None, guesses, origin))
}

fn names(parts: &[&Part]) -> String {
    parts
        .iter()
        .map(|p| p.label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The suggestion for `parts`: its text and its guesses as the draft keeps them.
fn suggest(parts: &[&Part]) -> (String, Vec<StoredGuess>) {
    let samples: Vec<_> = parts.iter().map(|p| sample_of(p)).collect();
    let s = suggestion_for(&samples);
    let guesses = s
        .guesses
        .iter()
        .map(|g| StoredGuess {
            file: g.file.clone(),
            sheet: g.sheet.clone(),
            column: g.column.clone(),
            entity: g.entity.map(str::to_string),
            field: g.field.map(str::to_string),
            confidence: g.confidence,
        })
        .collect();
    (normal(&s.mapping), guesses)
}

/// A text as a form sends it back: `\n` line ends.
fn normal(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// How the files are read: the CSV encoding and the limits a run uses.
fn read_options(o: &ImportOptions) -> ferry_sources::ReadOptions {
    ferry_sources::ReadOptions {
        encoding: o.encoding,
        limits: ferry_sources::Limits::from_env().unwrap_or_default(),
        raw: None,
        shown_as: None,
    }
}

/// The file names of a draft's inputs (a CSV folder's files one by one).
fn file_names(d: &Draft, s: &State) -> Vec<String> {
    let mut out = Vec::new();
    for p in d.inputs(s) {
        let files = if p.is_dir() {
            ferry_sources::input_files(&p).unwrap_or_default()
        } else {
            vec![p]
        };
        for f in files {
            let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            out.push(format!(
                "{name} ({})",
                crate::view::count(size as i64) + " bytes"
            ));
        }
    }
    out
}

/// What a request changed and the page to draw after it.
struct Drawn {
    text: String,
    mode: &'static str,
    notices: Vec<Notice>,
    save_notices: Vec<Notice>,
    preview: Option<Vec<ferry_engine::preview::PreviewRow>>,
}

fn draw(
    app: &Shared,
    staff: &Staff,
    d: &Draft,
    state: &State,
    samples: &Sampled,
    x: Drawn,
) -> Result<DraftPage, Failure> {
    let t = app.target()?;
    let saved = saved_mappings::list(&t).map_err(|e| Failure::internal(e.to_string()))?;
    Ok(view::page(Inputs {
        base: Base::new("New run", staff, "new"),
        id: &d.id,
        samples,
        state,
        text: x.text,
        mode: x.mode,
        notices: x.notices,
        save_notices: x.save_notices,
        preview: x.preview,
        saved,
        files: file_names(d, state),
        folder: &d.folder,
    }))
}

pub async fn show(
    AxState(app): AxState<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let p = blocking(move || render(&app, &staff, &id, Vec::new())).await?;
    Ok(page(&p))
}

/// The draft as it is kept, with `notices`.
fn render(
    app: &Shared,
    staff: &Staff,
    id: &str,
    notices: Vec<Notice>,
) -> Result<DraftPage, Failure> {
    let d = open(app, id)?;
    let state = d.state().map_err(io)?;
    let samples = d.samples().map_err(io)?;
    let x = Drawn {
        text: d.text(),
        mode: "columns",
        notices,
        save_notices: Vec::new(),
        preview: None,
    };
    draw(app, staff, &d, &state, &samples, x)
}

enum Outcome {
    Page(Box<DraftPage>),
    Start(Box<ImportOptions>),
}

pub async fn post(
    AxState(app): AxState<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, Failure> {
    let posted = Posted::new(pairs);
    check_csrf(&staff, posted.trimmed("csrf"))?;
    let action = posted.trimmed("action").to_string();
    if matches!(action.as_str(), "save" | "start") {
        need_admin(&staff)?;
    }
    // Held from here until the run is recorded: no sweep takes the upload in between.
    let hold = if action == "start" {
        Some(app.uploads_lock.clone().read_owned().await)
    } else {
        None
    };
    let (a, st, i) = (app.clone(), staff.clone(), id.clone());
    let out = blocking(move || handle(&a, &st, &i, &posted, &action)).await?;
    let opts = match out {
        Outcome::Page(p) => return Ok(page(p.as_ref())),
        Outcome::Start(o) => o,
    };
    let a = app.clone();
    let by = staff.email.clone();
    let (run, state) =
        tokio::task::spawn_blocking(move || Jobs::start(&a, Work::Import(opts), hold, &by)).await?;
    if let Some(r) = run {
        return Ok(Redirect::to(&format!("/runs/{r}")).into_response());
    }
    let why = state
        .outcome
        .unwrap_or_else(|| "The run did not start.".into());
    let uploads = crate::retention::uploads(&app.data);
    let why = hide_paths(&why, &uploads, true);
    let p = blocking(move || {
        render(
            &app,
            &staff,
            &id,
            vec![Notice::error(format!("The run did not start: {why}"))],
        )
    })
    .await?;
    Ok(page(&p))
}

/// A posted mapping text, refused over [`MAX_TEXT`].
fn limited(text: &str) -> Result<String, Failure> {
    if text.len() > MAX_TEXT {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The mapping is {} bytes; a mapping is at most {MAX_TEXT} bytes (1 MiB).",
                text.len()
            ),
        ));
    }
    Ok(normal(text))
}

fn handle(
    app: &Shared,
    staff: &Staff,
    id: &str,
    f: &Posted,
    action: &str,
) -> Result<Outcome, Failure> {
    let d = open(app, id)?;
    let mut state = d.state().map_err(io)?;
    let mut samples = d.samples().map_err(io)?;
    let mut notices = Vec::new();
    let opts = posted_options(&d, &mut state, f, &mut notices);
    // The CSV files are read again when their encoding changed.
    if opts.encoding.map(|e| e.name().to_string()) != samples.encoding {
        samples = sample::sample(&d.inputs(&state), &read_options(&opts), &d.folder);
        if staff.is_admin() {
            d.set_samples(&samples).map_err(io)?;
        }
    }
    let (mut text, mut mode) = posted_text(f, &samples, &mut notices)?;
    let mut preview = None;
    let mut save_notices = Vec::new();
    let t = app.target()?;
    match action {
        "text" => mode = "text",
        "columns" => mode = "columns",
        "use_saved" => {
            use_saved(&t, f.trimmed("saved"), &mut text, &mut state, &mut notices)?;
            mode = "columns";
        }
        "suggest" if suggest_again(&samples, &mut text, &mut state, &mut notices) => {
            mode = "columns"
        }
        a if a.starts_with("map-") => {
            map_part(a, &samples, &mut text, &mut state, &mut notices);
            mode = "columns";
        }
        "preview" => preview = run_preview(&d, &state, &opts, &text, &mut notices),
        "save" => save(&t, f, &text, &mut state, &mut save_notices),
        "start" => {
            if let Some(o) = start_options(&t, &d, &state, opts, &text, &mut notices)? {
                d.set_text(&text).map_err(io)?;
                d.set_state(&state).map_err(io)?;
                return Ok(Outcome::Start(Box::new(o)));
            }
        }
        _ => {}
    }
    if staff.is_admin() {
        d.set_text(&text).map_err(io)?;
        d.set_state(&state).map_err(io)?;
    }
    let x = Drawn {
        text,
        mode,
        notices,
        save_notices,
        preview,
    };
    Ok(Outcome::Page(Box::new(draw(
        app, staff, &d, &state, &samples, x,
    )?)))
}

/// The run's options as posted (kept in the draft), checked as a new run's are; a bad one is
/// said, and the defaults are used meanwhile.
fn posted_options(
    d: &Draft,
    state: &mut State,
    f: &Posted,
    notices: &mut Vec<Notice>,
) -> ImportOptions {
    if f.has("posted") {
        state.fields = OPTION_KEYS
            .iter()
            .filter_map(|k| Some((k.to_string(), f.get(k)?.to_string())))
            .collect();
        state.fields.insert("posted".into(), "1".into());
    }
    let run_form = RunForm {
        inputs: d.inputs(state),
        fields: state.fields.clone().into_iter().collect(),
        ..Default::default()
    };
    options_of(&run_form, RunKind::Import).unwrap_or_else(|e| {
        notices.push(Notice::error(e.message));
        ImportOptions {
            inputs: d.inputs(state),
            ..Default::default()
        }
    })
}

/// The mapping the form stands for, and the view it came from: the text view's text, or the
/// text the column view was drawn from with its changes made.
fn posted_text(
    f: &Posted,
    samples: &Sampled,
    notices: &mut Vec<Notice>,
) -> Result<(String, &'static str), Failure> {
    if f.trimmed("mode") == "text" {
        return Ok((limited(f.get("text").unwrap_or(""))?, "text"));
    }
    let base = limited(f.get("base").unwrap_or(""))?;
    let text = match form::apply(&base, f, &samples.parts) {
        Ok((t, notes)) => {
            notices.extend(notes.into_iter().map(Notice::warning));
            t
        }
        Err(e) => {
            notices.push(Notice::error(format!(
                "The column changes were not made: {e}."
            )));
            base
        }
    };
    Ok((text, "columns"))
}

/// Ferry's suggestion again for every part not in its own shape; whether there was one.
fn suggest_again(
    samples: &Sampled,
    text: &mut String,
    state: &mut State,
    notices: &mut Vec<Notice>,
) -> bool {
    let todo: Vec<&Part> = samples
        .parts
        .iter()
        .filter(|p| p.native.is_none())
        .collect();
    if todo.is_empty() {
        notices.push(Notice::warning(
            "Every part is in Ferry's own shape: there is nothing to map.",
        ));
        return false;
    }
    let (new, guesses) = suggest(&todo);
    *text = new;
    state.guesses = guesses;
    state.saved = None;
    state.origin = format!("Ferry's suggestion for {}, made again.", names(&todo));
    true
}

/// The saved mapping `name` becomes the one edited ("": no mapping at all).
fn use_saved(
    t: &Target,
    name: &str,
    text: &mut String,
    state: &mut State,
    notices: &mut Vec<Notice>,
) -> Result<(), Failure> {
    if name.is_empty() {
        text.clear();
        state.saved = None;
        state.origin = "No mapping: every part is read by its own name.".into();
        return Ok(());
    }
    let found = saved_mappings::saved(t, name).map_err(|e| Failure::internal(e.to_string()))?;
    match found {
        Some(s) => {
            *text = normal(&s);
            state.saved = Some(name.to_string());
            state.guesses.clear();
            state.origin = format!("The saved mapping “{name}”.");
            notices.push(Notice::ok(format!(
                "The saved mapping “{name}” is used now."
            )));
        }
        None => notices.push(Notice::error(format!(
            "There is no saved mapping “{name}”."
        ))),
    }
    Ok(())
}

/// `map-N`: part N gets a source of its own, from the suggestion.
fn map_part(
    action: &str,
    samples: &Sampled,
    text: &mut String,
    state: &mut State,
    notices: &mut Vec<Notice>,
) {
    let Some(p) = action[4..]
        .parse::<usize>()
        .ok()
        .and_then(|i| samples.parts.get(i))
    else {
        return;
    };
    let (new, guesses) = suggest(&[p]);
    let appended = Editor::new(text).and_then(|mut e| {
        e.append_sources(&new)?;
        Ok(e.finish())
    });
    match appended {
        Ok(t) => {
            *text = t;
            state.guesses.retain(|g| {
                !(g.file == p.file
                    && g.sheet.as_deref() == p.sheet.as_deref().or(p.element.as_deref()))
            });
            state.guesses.extend(guesses);
            notices.push(Notice::ok(format!(
                "{} is mapped now, as Ferry suggests: check its columns.",
                p.label()
            )));
        }
        Err(e) => notices.push(Notice::error(format!(
            "{} could not be added to the mapping: {e}.",
            p.label()
        ))),
    }
}

fn run_preview(
    d: &Draft,
    state: &State,
    opts: &ImportOptions,
    text: &str,
    notices: &mut Vec<Notice>,
) -> Option<Vec<ferry_engine::preview::PreviewRow>> {
    if text.trim().is_empty() {
        notices.push(Notice::warning("There is no mapping to preview: every part is read by its own name. Start a test run to see what it gives."));
        return None;
    }
    let Ok(m) = Mapping::load(text) else {
        notices.push(Notice::error("The preview needs a mapping without problems: each problem is shown at its place below."));
        return None;
    };
    let rm = RunMapping {
        mapping: Arc::new(m),
        given: "console".into(),
        from: "file",
        hash: saved_mappings::hash_of(text),
        text: text.to_string(),
    };
    let values = ferry_validate::RecordOptions {
        values: ferry_validate::ValueContext {
            date_order: opts.date_order.unwrap_or(DateOrder::Mdy),
            phone_region: opts.phone_region,
        },
        ..Default::default()
    };
    match ferry_engine::preview::preview(
        &d.inputs(state),
        &rm,
        PREVIEW_ROWS,
        &read_options(opts),
        &values,
    ) {
        Ok(rows) => {
            let rejected = rows
                .iter()
                .flat_map(|r| &r.records)
                .filter(|r| r.rejected)
                .count();
            let records: usize = rows.iter().map(|r| r.records.len()).sum();
            notices.push(if rejected == 0 {
                Notice::ok(format!("Preview: the first rows give {}, none rejected by the value rules. Keys and references are judged by a test run.", crate::view::counted(records as i64, "record", "records")))
            } else {
                Notice::warning(format!("Preview: {rejected} of {} of the first rows would be rejected; see the red values below each file.", crate::view::counted(records as i64, "record", "records")))
            });
            Some(rows)
        }
        Err(e) => {
            notices.push(Notice::error(format!(
                "The preview could not read the files: {}",
                hide_paths(&e.to_string(), &d.folder, false)
            )));
            None
        }
    }
}

fn save(t: &Target, f: &Posted, text: &str, state: &mut State, notices: &mut Vec<Notice>) {
    let name = f.trimmed("save_name");
    let description = f.trimmed("save_description");
    if name.is_empty() {
        notices.push(Notice::error("Give the mapping a name to save it under."));
        return;
    }
    if text.trim().is_empty() {
        notices.push(Notice::error("There is no mapping to save."));
        return;
    }
    if Mapping::load(text).is_err() {
        notices.push(Notice::error(
            "The mapping is not saved: fix its problems first (each is shown at its place below).",
        ));
        return;
    }
    match saved_mappings::save(
        t,
        name,
        text,
        (!description.is_empty()).then_some(description),
    ) {
        Ok(replaced) => {
            state.saved = Some(name.to_string());
            state.origin = format!("The saved mapping “{name}”.");
            notices.push(Notice::ok(format!(
                "Saved as “{name}”{}: the next upload whose files it reads uses it.",
                if replaced {
                    " (it replaces the mapping of that name)"
                } else {
                    ""
                }
            )));
        }
        Err(e) => notices.push(Notice::error(format!("The mapping is not saved: {e}"))),
    }
}

/// The run's options with the mapping: the saved mapping's name when the text is still the
/// saved one, else a file of this text in the draft.
fn start_options(
    t: &Target,
    d: &Draft,
    state: &State,
    mut opts: ImportOptions,
    text: &str,
    notices: &mut Vec<Notice>,
) -> Result<Option<ImportOptions>, Failure> {
    if !notices.iter().all(|n| n.kind != "error") {
        notices.push(Notice::error("The run is not started: see above."));
        return Ok(None);
    }
    if !text.trim().is_empty() {
        if Mapping::load(text).is_err() {
            notices.push(Notice::error("The run is not started: fix the mapping's problems first (each is shown at its place below)."));
            return Ok(None);
        }
        let saved = state.saved.as_ref().filter(|n| {
            saved_mappings::saved(t, n)
                .ok()
                .flatten()
                .is_some_and(|s| normal(&s) == text)
        });
        opts.mapping = Some(match saved {
            // Named as saved only: a file of that name beside the console is never read.
            Some(n) => format!("{}{n}", saved_mappings::SAVED),
            None => d.run_file(text).map_err(io)?.display().to_string(),
        });
    }
    Ok(Some(opts))
}
