//! The second step of a new run, drawn: each uploaded part's first rows and what Ferry reads it
//! as, the mapping's column view (fields per column, value maps, formats, constants, the
//! account column) or its text, every problem of the mapping beside its place, the preview of
//! the first rows as records, the saved mappings and the run's options.

use crate::draft::{State, StoredGuess};
use crate::mapping_form::{self as form, edited_sources, source_of};
use crate::sample::{Part, Sampled, SHOWN};
use crate::view::{hide_paths, Base};
use askama::Template;
use ferry_catalogue as cat;
use ferry_engine::mapping::Saved;
use ferry_engine::preview::PreviewRow;
use ferry_findings::{Finding, Severity};
use ferry_mapping::outline::{self, How, Place};
use ferry_mapping::{Issue, Mapping, MappingError};
use std::path::Path;

/// Something the page says at its top.
pub struct Notice {
    /// `ok`, `warning` or `error`.
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    pub fn ok(t: impl Into<String>) -> Notice {
        Notice {
            kind: "ok",
            text: t.into(),
        }
    }
    pub fn warning(t: impl Into<String>) -> Notice {
        Notice {
            kind: "warning",
            text: t.into(),
        }
    }
    pub fn error(t: impl Into<String>) -> Notice {
        Notice {
            kind: "error",
            text: t.into(),
        }
    }
}

/// A choice of a select list.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The fields of one entity type, for the field select lists.
pub struct FieldGroup {
    pub entity: &'static str,
    pub fields: Vec<Choice>,
}

/// Every field a column can go to, by entity type (not configuration or certification types).
fn field_groups() -> Vec<FieldGroup> {
    cat::ENTITIES
        .iter()
        .filter(|e| e.in_template())
        .map(|e| FieldGroup {
            entity: e.name,
            fields: e
                .fields
                .iter()
                .map(|f| Choice {
                    value: format!("{}.{}", e.name, f.name),
                    label: if f.is_required() && f.default.is_none() {
                        format!("{} · {} *", e.name, f.name)
                    } else {
                        format!("{} · {}", e.name, f.name)
                    },
                })
                .collect(),
        })
        .collect()
}

fn is_field(value: &str) -> bool {
    value.split_once('.').is_some_and(|(e, f)| {
        cat::entity(e).is_some_and(|e| e.in_template() && e.field_def(f).is_some())
    })
}

pub struct TargetView {
    pub key: String,
    pub selected: String,
    /// Not a field of the catalogue (a text edit): shown as it is, so that it stays.
    pub unknown: bool,
}

pub struct ColumnView {
    /// The form's prefix of this column (`s0c3`).
    pub key: String,
    pub name: String,
    pub examples: String,
    pub targets: Vec<TargetView>,
    /// The key of the select that adds another field (none when the first select is free).
    pub also: String,
    /// Fields the column feeds through a template or split (changed in the text view).
    pub derived: Vec<String>,
    pub confidence: String,
    pub confidence_class: &'static str,
    pub map: String,
    pub fmt: String,
    pub pivot: String,
    pub dec: String,
    pub grp: String,
    pub cur: bool,
    pub issues: Vec<String>,
    /// Its "more" part is open (something is set there, or wrong).
    pub open: bool,
}

pub struct ConstantView {
    pub key: String,
    pub label: String,
    pub value: String,
    pub issues: Vec<String>,
}

pub struct RecordSummary {
    pub entity: String,
    pub fields: Vec<String>,
    pub issues: Vec<String>,
}

pub struct EditorView {
    pub s: usize,
    pub columns: Vec<ColumnView>,
    pub constants: Vec<ConstantView>,
    pub records: Vec<RecordSummary>,
    pub account: Vec<Choice>,
    pub account_selected: String,
    pub account_issues: Vec<String>,
    pub issues: Vec<String>,
}

pub struct RowView {
    pub row: u64,
    pub cells: Vec<String>,
}

pub struct FindingView {
    pub severity: &'static str,
    pub message: String,
    pub hint: String,
}

pub struct FieldView {
    pub name: String,
    pub value: String,
    /// `error`, `warning` or "" by the worst finding on the field.
    pub class: &'static str,
}

pub struct RecordView {
    pub entity: String,
    pub rejected: bool,
    pub fields: Vec<FieldView>,
    pub findings: Vec<FindingView>,
}

pub struct PreviewRowView {
    pub row: u64,
    pub left_out: String,
    pub findings: Vec<FindingView>,
    pub records: Vec<RecordView>,
}

pub struct PartView {
    pub index: usize,
    pub label: String,
    pub status: String,
    pub status_class: &'static str,
    pub explain: String,
    pub headers: Vec<String>,
    pub rows: Vec<RowView>,
    pub more: String,
    pub can_map: bool,
    pub editor: Option<EditorView>,
    pub previewed: bool,
    pub preview: Vec<PreviewRowView>,
    pub preview_summary: String,
}

pub struct SavedView {
    pub name: String,
    pub label: String,
}

/// The run's options as the form shows them.
pub struct OptionsView(pub std::collections::BTreeMap<String, String>);

impl OptionsView {
    /// Whether a checkbox is on (`test_only` is, until the form says otherwise).
    pub fn checked(&self, k: &str) -> bool {
        match self.0.get(k) {
            Some(v) => v == "on" || v == "true",
            None => k == "test_only" && !self.0.contains_key("posted"),
        }
    }
    pub fn value(&self, k: &str) -> &str {
        self.0
            .get(k)
            .map(String::as_str)
            .unwrap_or(if k == "phone_region" { "US" } else { "" })
    }
    pub fn selected(&self, k: &str, v: &str) -> bool {
        self.value(k) == v
    }
}

#[derive(Template)]
#[template(path = "draft.html")]
pub struct DraftPage {
    pub base: Base,
    pub id: String,
    pub mode: &'static str,
    pub text: String,
    pub files: Vec<String>,
    pub problems: Vec<String>,
    pub notices: Vec<Notice>,
    pub origin: String,
    pub has_mapping: bool,
    pub issue_count: usize,
    pub top_issues: Vec<String>,
    pub text_issues: Vec<String>,
    pub elsewhere: Vec<String>,
    pub saved: Vec<SavedView>,
    pub saved_selected: String,
    pub save_name: String,
    /// Whether the text is a saved mapping's, in words (and `ok` or `warning`).
    pub save_status: String,
    pub save_status_class: &'static str,
    /// What saving said (shown in the save card, where the page opens after it).
    pub save_notices: Vec<Notice>,
    pub parts: Vec<PartView>,
    pub groups: Vec<FieldGroup>,
    pub decs: Vec<Choice>,
    pub grps: Vec<Choice>,
    pub date_formats: Vec<Choice>,
    pub admin: bool,
    pub opts: OptionsView,
}

/// What a page is drawn from.
pub struct Inputs<'a> {
    pub base: Base,
    pub id: &'a str,
    pub samples: &'a Sampled,
    pub state: &'a State,
    pub text: String,
    /// `columns` or `text`.
    pub mode: &'static str,
    pub notices: Vec<Notice>,
    pub save_notices: Vec<Notice>,
    pub preview: Option<Vec<PreviewRow>>,
    pub saved: Vec<Saved>,
    pub files: Vec<String>,
    /// The upload folder, kept out of every message.
    pub folder: &'a Path,
}

/// A mapping's problems, each with its place.
struct Problems {
    list: Vec<(Place, Issue)>,
}

impl Problems {
    /// The mapping's issues, each at its place in `mapping` (nowhere without one).
    fn placed(issues: Vec<Issue>, mapping: Option<&Mapping>, text: &str) -> Problems {
        Problems {
            list: issues
                .into_iter()
                .map(|i| {
                    let p =
                        mapping.map_or(Place::Nowhere, |m| outline::place_of(m, text, i.location));
                    (p, i)
                })
                .collect(),
        }
    }

    /// The messages of the problems at places `at` picks (taken, so each is shown once).
    fn take(&mut self, at: impl Fn(&Place) -> bool) -> Vec<String> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.list)
            .into_iter()
            .partition(|(p, _)| at(p));
        self.list = rest;
        mine.into_iter().map(|(_, i)| i.message).collect()
    }
}

pub fn page(i: Inputs) -> DraftPage {
    let mut notices = i.notices;
    let text = i.text;
    let (mapping, issues) = parsed(&text);
    let mode = view_mode(i.mode, &text, mapping.is_some(), &mut notices);
    let text_issues: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
    let mut problems = Problems::placed(issues, mapping.as_ref(), &text);
    let issue_count = problems.list.len();
    let edited = mapping
        .as_ref()
        .map(|m| edited_sources(m, &i.samples.parts))
        .unwrap_or_default();
    let parts: Vec<PartView> = i
        .samples
        .parts
        .iter()
        .enumerate()
        .map(|(pi, p)| {
            let preview = i.preview.as_deref();
            part_view(
                pi,
                p,
                mapping.as_ref(),
                &edited,
                i.state,
                &mut problems,
                preview,
                i.folder,
                mode,
            )
        })
        .collect();
    let elsewhere = mapping
        .as_ref()
        .map(|m| not_edited_here(m, &edited))
        .unwrap_or_default();
    let top_issues = problems.take(|_| true);
    let admin = i.base.admin();
    let (save_status, save_status_class) = save_status(&text, i.state.saved.as_deref(), &i.saved);
    DraftPage {
        save_status,
        save_status_class,
        save_notices: i.save_notices,
        base: i.base,
        id: i.id.to_string(),
        mode,
        has_mapping: !text.trim().is_empty(),
        text,
        files: i.files,
        problems: i.samples.problems.clone(),
        notices,
        origin: i.state.origin.clone(),
        issue_count,
        top_issues,
        text_issues,
        elsewhere,
        saved_selected: i.state.saved.clone().unwrap_or_default(),
        save_name: i
            .state
            .saved
            .clone()
            .unwrap_or_else(|| default_name(&i.samples.parts)),
        saved: i.saved.iter().map(saved_view).collect(),
        parts,
        groups: field_groups(),
        decs: choices(DECIMAL_MARKS),
        grps: choices(GROUP_MARKS),
        date_formats: choices(DATE_FORMATS),
        admin,
        opts: OptionsView(i.state.fields.clone()),
    }
}

/// The decimal marks a number column may be read with.
const DECIMAL_MARKS: &[(&str, &str)] =
    &[("", "as written (.)"), (".", ". point"), (",", ", comma")];
/// The grouping marks a number column may be read with.
const GROUP_MARKS: &[(&str, &str)] = &[
    ("", "none"),
    (",", ", comma"),
    (".", ". point"),
    (" ", "space"),
    ("'", "' apostrophe"),
];
/// The date formats offered for a date column.
const DATE_FORMATS: &[(&str, &str)] = &[
    ("%d/%m/%Y", "day/month/year: 31/01/2024"),
    ("%m/%d/%Y", "month/day/year: 01/31/2024"),
    ("%d.%m.%Y", "31.01.2024"),
    ("%Y-%m-%d", "2024-01-31"),
    ("%d-%b-%Y", "31-Jan-2024"),
    ("iso", "ISO 8601 with time: 2024-01-31T10:00:00Z"),
];

/// A saved mapping in the list to open, with the sources it reads.
fn saved_view(s: &Saved) -> SavedView {
    SavedView {
        name: s.name.clone(),
        label: if s.sources.is_empty() {
            s.name.clone()
        } else {
            format!("{} (reads {})", s.name, s.sources.join(", "))
        },
    }
}

/// The labels of the mapping's sources that no part of this upload is edited with.
fn not_edited_here(m: &Mapping, edited: &[(usize, usize)]) -> Vec<String> {
    m.sources
        .iter()
        .enumerate()
        .filter(|(si, _)| !edited.iter().any(|(s, _)| s == si))
        .map(|(_, s)| s.label())
        .collect()
}

/// Whether the text is a saved mapping's: the one it came from, or any.
fn save_status(text: &str, from: Option<&str>, saved: &[Saved]) -> (String, &'static str) {
    if text.trim().is_empty() {
        return (String::new(), "");
    }
    let hash = ferry_engine::mapping::hash_of(text);
    if let Some(s) = saved.iter().find(|s| s.hash == hash) {
        return (format!("This mapping is saved as “{}”.", s.name), "ok-text");
    }
    match from {
        Some(n) if saved.iter().any(|s| s.name == n) => (
            format!("Changed since it was saved as “{n}”: save it again to keep the changes."),
            "warn-text",
        ),
        _ => ("Not saved yet.".into(), "muted"),
    }
}

/// The mapping of a text (none when it is empty or not of the mapping's shape) and every
/// problem of it.
fn parsed(text: &str) -> (Option<Mapping>, Vec<Issue>) {
    if text.trim().is_empty() {
        return (None, Vec::new());
    }
    match Mapping::parse(text) {
        Ok(m) => {
            let issues = m.check(text);
            (Some(m), issues)
        }
        Err(MappingError::Syntax(e)) => (None, vec![e]),
        Err(MappingError::Invalid(e)) => (None, e),
    }
}

/// The view asked for, unless the column view cannot show the text (then the text view, and
/// why when the text is valid TOML of another form).
fn view_mode(
    asked: &'static str,
    text: &str,
    parsed: bool,
    notices: &mut Vec<Notice>,
) -> &'static str {
    if asked != "columns" || text.trim().is_empty() {
        return asked;
    }
    match ferry_mapping::edit::Editor::new(text) {
        Err(e @ ferry_mapping::edit::EditError::Shape(_)) => {
            notices.push(Notice::warning(format!("{e}.")));
            return "text";
        }
        Err(_) => return "text", // not TOML: the problem is listed with the text
        Ok(_) => {}
    }
    if parsed {
        asked
    } else {
        "text"
    }
}

fn choices(list: &[(&str, &str)]) -> Vec<Choice> {
    list.iter()
        .map(|(v, l)| Choice {
            value: v.to_string(),
            label: l.to_string(),
        })
        .collect()
}

/// A name to save the mapping as: the first mapped file's name without its extension.
fn default_name(parts: &[Part]) -> String {
    parts
        .iter()
        .find(|p| p.native.is_none())
        .map(|p| {
            Path::new(&p.file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn part_view(
    pi: usize,
    p: &Part,
    mapping: Option<&Mapping>,
    edited: &[(usize, usize)],
    state: &State,
    problems: &mut Problems,
    preview: Option<&[PreviewRow]>,
    folder: &Path,
    mode: &str,
) -> PartView {
    let si = mapping.and_then(|m| source_of(m, p));
    let rows = shown_rows(p, mapping.zip(si));
    let more = match p.rows.len() {
        0 => "No rows under the header.".to_string(),
        n if n > SHOWN => format!("The first {SHOWN} rows."),
        n => format!("All {n} row{}.", if n == 1 { "" } else { "s" }),
    };
    let (status, status_class, explain, can_map) = status(pi, p, mapping.zip(si), edited);
    let editor = match (mapping, si) {
        (Some(m), Some(s)) if mode == "columns" && edited.contains(&(s, pi)) => {
            Some(editor_view(m, s, p, state, problems))
        }
        _ => None,
    };
    let shown: Vec<&PreviewRow> = preview
        .into_iter()
        .flatten()
        .filter(|r| {
            base_name(&r.file) == p.file
                && r.sheet.as_deref() == p.sheet.as_deref()
                && r.element.as_deref() == p.element.as_deref()
        })
        .collect();
    let preview_summary = preview_summary(&shown);
    PartView {
        index: pi,
        label: p.label(),
        status,
        status_class,
        explain,
        headers: p.headers.clone(),
        rows,
        more,
        can_map,
        editor,
        previewed: preview.is_some() && si.is_some(),
        preview: shown.into_iter().map(|r| preview_row(r, folder)).collect(),
        preview_summary,
    }
}

/// The first rows of a part as shown: a column of secrets (by its name, or the field it goes
/// to through source `s`) masked.
fn shown_rows(p: &Part, source: Option<(&Mapping, usize)>) -> Vec<RowView> {
    let secret: Vec<bool> = (0..p.headers.len())
        .map(|c| p.secret_column(c) || source.is_some_and(|(m, s)| feeds_secret(m, s, p, c)))
        .collect();
    p.rows
        .iter()
        .take(SHOWN)
        .map(|r| RowView {
            row: r.row,
            cells: r
                .cells
                .iter()
                .zip(secret.iter().chain(std::iter::repeat(&false)))
                .map(|(v, hide)| {
                    if *hide && !v.is_empty() {
                        "••••".to_string()
                    } else {
                        v.clone()
                    }
                })
                .collect(),
        })
        .collect()
}

/// What a part is read as: its badge, the badge's class, a sentence, and whether it can be
/// mapped (nothing reads it).
fn status(
    pi: usize,
    p: &Part,
    source: Option<(&Mapping, usize)>,
    edited: &[(usize, usize)],
) -> (String, &'static str, String, bool) {
    if let Some((m, s)) = source {
        let src = &m.sources[s];
        let kinds = counted(src.records.iter().map(|r| r.entity.get_ref().as_str()));
        let first = edited.iter().find(|(x, _)| *x == s).map(|(_, pi)| *pi);
        let shared = match first {
            Some(f) if f != pi => {
                " The same mapping source reads another part above; change its columns there."
            }
            _ => "",
        };
        let becomes = if kinds.is_empty() {
            "nothing yet".to_string()
        } else {
            kinds
        };
        let explain = format!(
            "Read by the mapping's source {}: each row becomes {becomes}.{shared}",
            src.label()
        );
        return ("Mapped".into(), "info", explain, false);
    }
    match &p.native {
        Some(n) => (
            "Ferry's shape".into(),
            "succeeded",
            format!("Read as {} by its name: no mapping needed.", n.words()),
            false,
        ),
        None => (
            "Not read".into(),
            "error",
            "Not in Ferry's shape, and no mapping reads it: a run would leave it out. Map it to say what its columns are.".into(),
            true,
        ),
    }
}

fn base_name(f: &str) -> &str {
    f.rsplit(['/', '\\']).next().unwrap_or(f)
}

/// Whether column `c` of part `p` goes (as itself or split) to a secret field.
fn feeds_secret(m: &Mapping, s: usize, p: &Part, c: usize) -> bool {
    let uses = outline::column_uses(&m.sources[s], &p.headers);
    uses.get(c).is_some_and(|us| {
        us.iter().any(|u| {
            cat::entity(&u.entity)
                .and_then(|e| e.field_def(&u.field))
                .is_some_and(|f| f.is_secret())
        })
    })
}

fn editor_view(
    m: &Mapping,
    s: usize,
    p: &Part,
    state: &State,
    problems: &mut Problems,
) -> EditorView {
    let src = &m.sources[s];
    let uses = outline::column_uses(src, &p.headers);
    let cols = form::columns(src, &p.headers, &uses);
    let columns = cols
        .iter()
        .enumerate()
        .map(|(ci, c)| column_view(s, ci, p, c, &uses[ci], state, problems))
        .collect();
    let constants = outline::constants(src)
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let of_type = src
                .records
                .iter()
                .filter(|r| *r.entity.get_ref() == c.entity)
                .count();
            let nth = src.records[..c.record]
                .iter()
                .filter(|r| *r.entity.get_ref() == c.entity)
                .count()
                + 1;
            let label = if of_type > 1 {
                format!("{} #{nth} · {}", c.entity, c.field)
            } else {
                format!("{} · {}", c.entity, c.field)
            };
            let (r, f) = (c.record, c.field.clone());
            ConstantView {
                key: format!("s{s}k{n}"),
                label,
                value: c.value,
                issues: problems.take(|p| *p == Place::Field(s, r, f.clone())),
            }
        })
        .collect();
    let records = src
        .records
        .iter()
        .enumerate()
        .map(|(r, rec)| RecordSummary {
            entity: rec.entity.get_ref().clone(),
            fields: rec
                .fields
                .iter()
                .map(|(k, v)| format!("{} {}", k.get_ref(), outline::describe(v.get_ref())))
                .collect(),
            issues: problems.take(
                |p| matches!(p, Place::Record(x, y) | Place::Field(x, y, _) if *x == s && *y == r),
            ),
        })
        .collect();
    let account_selected = form::account_shown(src, &p.headers);
    let mut account: Vec<Choice> = vec![Choice {
        value: String::new(),
        label: "none: each record names its account".into(),
    }];
    if !account_selected.is_empty() && !p.headers.contains(&account_selected) {
        account.push(Choice {
            value: account_selected.clone(),
            label: format!("{account_selected} (not in this file)"),
        });
    }
    account.extend(p.headers.iter().map(|h| Choice {
        value: h.clone(),
        label: h.clone(),
    }));
    EditorView {
        s,
        columns,
        constants,
        records,
        account,
        account_selected,
        account_issues: problems.take(|p| *p == Place::Account(s)),
        issues: problems.take(|p| *p == Place::Source(s)),
    }
}

/// The problems of source `s`'s column `name`: those of the fields it fills, then those of the
/// column itself (taken from `problems`).
fn column_issues(s: usize, name: &str, c: &form::Column, problems: &mut Problems) -> Vec<String> {
    let mut issues: Vec<String> = Vec::new();
    for u in &c.direct {
        let (r, f) = (u.record, u.field.clone());
        issues.extend(problems.take(|x| *x == Place::Field(s, r, f.clone())));
    }
    issues.extend(problems.take(|x| match x {
        Place::Column(y, n) => *y == s && (n == name || cat::same_name(n, [name]).is_some()),
        _ => false,
    }));
    issues
}

/// Up to three non-blank values of column `ci`, or `••••` for a secret column (one the source
/// marks secret, or one that fills a secret field).
fn examples(p: &Part, ci: usize, c: &form::Column) -> String {
    let examples: Vec<&str> = p
        .rows
        .iter()
        .filter_map(|r| r.cells.get(ci).map(String::as_str))
        .filter(|v| !v.trim().is_empty())
        .take(3)
        .collect();
    let secret = p.secret_column(ci)
        || c.direct.iter().any(|u| {
            cat::entity(&u.entity)
                .and_then(|e| e.field_def(&u.field))
                .is_some_and(|f| f.is_secret())
        });
    if secret && !examples.is_empty() {
        "••••".into()
    } else {
        examples.join(" · ")
    }
}

fn column_view(
    s: usize,
    ci: usize,
    p: &Part,
    c: &form::Column,
    uses: &[outline::Use],
    state: &State,
    problems: &mut Problems,
) -> ColumnView {
    let name = p.headers[ci].clone();
    let key = format!("s{s}c{ci}");
    let mut targets: Vec<TargetView> = c
        .direct
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let v = form::target_value(u);
            TargetView {
                key: format!("{key}t{k}"),
                unknown: !is_field(&v),
                selected: v,
            }
        })
        .collect();
    let repeated = uses.iter().any(|u| matches!(u.how, How::Repeated { .. }));
    let also = if targets.is_empty() && repeated {
        String::new() // read by a repeated record: changed in the text view
    } else if targets.is_empty() {
        targets.push(TargetView {
            key: format!("{key}t0"),
            selected: String::new(),
            unknown: false,
        });
        String::new()
    } else {
        format!("{key}t{}", targets.len())
    };
    let derived = derived_uses(uses);
    let issues = column_issues(s, &name, c, problems);
    let now = targets.first().map_or("", |t| t.selected.as_str());
    let (confidence, confidence_class) = confidence(p, &name, now, state);
    let f = &c.format;
    ColumnView {
        open: !c.map.is_empty() || *f != Default::default() || !issues.is_empty(),
        key,
        examples: examples(p, ci, c),
        name,
        targets,
        also,
        derived,
        confidence,
        confidence_class,
        map: c.map.clone(),
        fmt: f.format.clone().unwrap_or_default(),
        pivot: f
            .two_digit_year_pivot
            .map(|p| p.to_string())
            .unwrap_or_default(),
        dec: f.decimal_char.clone().unwrap_or_default(),
        grp: f.group_char.clone().unwrap_or_default(),
        cur: f.strip_symbols,
        issues,
    }
}

/// Names in their first order, each once, with how often it came when more than once:
/// `User, Contact, ContactPhone (2)`.
fn counted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for n in names {
        match seen.iter_mut().find(|(x, _)| *x == n) {
            Some((_, k)) => *k += 1,
            None => seen.push((n, 1)),
        }
    }
    seen.iter()
        .map(|(n, k)| {
            if *k > 1 {
                format!("{n} ({k})")
            } else {
                n.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a column feeds besides itself, a line per field and way: "joined into the
/// ContactName of Contact, ContactPhone (2), ContactEmail".
fn derived_uses(uses: &[outline::Use]) -> Vec<String> {
    let mut groups: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for u in uses {
        let how = match u.how {
            How::Template => "joined with other columns into",
            How::Split => "split into",
            How::Repeated { .. } => "read (change it in the text view) by a repeated record, as",
            How::Direct { .. } => continue,
        };
        match groups
            .iter_mut()
            .find(|(h, f, _)| *h == how && *f == u.field)
        {
            Some((_, _, es)) => es.push(&u.entity),
            None => groups.push((how, &u.field, vec![&u.entity])),
        }
    }
    groups
        .into_iter()
        .map(|(how, field, es)| format!("also {how} the {field} of {}", counted(es.into_iter())))
        .collect()
}

/// The suggestion's confidence in what the column does now (`""`: it made no guess for it).
fn confidence(p: &Part, column: &str, now: &str, state: &State) -> (String, &'static str) {
    let sheet = p.sheet.as_deref().or(p.element.as_deref());
    let guessed = |g: &StoredGuess| match (&g.entity, &g.field) {
        (Some(e), Some(f)) => format!("{e}.{f}"),
        _ => String::new(),
    };
    // A column guessed as the account's name is the source's account column: the column view
    // shows that apart, so such a guess says nothing about the fields it goes to.
    let mine: Vec<&StoredGuess> = state
        .guesses
        .iter()
        .filter(|g| g.file == p.file && g.sheet.as_deref() == sheet && g.column == column)
        .filter(|g| guessed(g) != "User.Name" || now == "User.Name")
        .collect();
    if mine.is_empty() {
        return (String::new(), "");
    }
    let Some(g) = mine.iter().find(|g| guessed(g) == now) else {
        return ("changed by you".into(), "mine");
    };
    if now.is_empty() {
        return ("no field found".into(), "unsure");
    }
    let pct = (g.confidence * 100.0).round() as i64;
    let class = if g.confidence >= 0.85 {
        "sure"
    } else if g.confidence >= 0.6 {
        "likely"
    } else {
        "unsure"
    };
    (format!("{pct}% sure"), class)
}

fn finding_view(f: &Finding, folder: &Path) -> FindingView {
    FindingView {
        severity: f.severity.as_str(),
        message: hide_paths(&f.message, folder, false),
        hint: f
            .hint
            .as_deref()
            .map(|h| hide_paths(h, folder, false))
            .unwrap_or_default(),
    }
}

fn preview_row(r: &PreviewRow, folder: &Path) -> PreviewRowView {
    PreviewRowView {
        row: r.row,
        left_out: r.left_out.clone().unwrap_or_default(),
        findings: r.findings.iter().map(|f| finding_view(f, folder)).collect(),
        records: r
            .records
            .iter()
            .map(|rec| RecordView {
                entity: rec.entity.to_string(),
                rejected: rec.rejected,
                fields: record_fields(rec),
                findings: rec
                    .findings
                    .iter()
                    .map(|f| finding_view(f, folder))
                    .collect(),
            })
            .collect(),
    }
}

/// A previewed record's fields, each marked by its worst finding; a value a rule refused is
/// shown as it was given (masked if secret), marked too.
fn record_fields(rec: &ferry_engine::preview::PreviewRecord) -> Vec<FieldView> {
    let class = |name: &str| {
        let on = |s: Severity| {
            rec.findings
                .iter()
                .any(|f| f.severity == s && f.field.as_deref() == Some(name))
        };
        if on(Severity::Error) {
            "error"
        } else if on(Severity::Warning) {
            "warning"
        } else {
            ""
        }
    };
    let mut out: Vec<FieldView> = rec
        .fields
        .iter()
        .map(|(name, value)| FieldView {
            name: name.to_string(),
            value: value.clone(),
            class: class(name),
        })
        .collect();
    for f in &rec.findings {
        let (Some(name), Some(value)) = (&f.field, &f.value) else {
            continue;
        };
        if !out.iter().any(|x| x.name == *name) {
            out.push(FieldView {
                name: name.clone(),
                value: value.clone(),
                class: class(name),
            });
        }
    }
    out
}

fn preview_summary(rows: &[&PreviewRow]) -> String {
    let records: usize = rows.iter().map(|r| r.records.len()).sum();
    let rejected = rows
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.rejected)
        .count();
    let left = rows.iter().filter(|r| r.left_out.is_some()).count();
    let mut s = format!(
        "{} row{} give {records} record{}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        if records == 1 { "" } else { "s" }
    );
    if rejected > 0 {
        s.push_str(&format!(", {rejected} of them rejected"));
    }
    if left > 0 {
        s.push_str(&format!(
            "; {left} row{} left out by a filter",
            if left == 1 { " is" } else { "s are" }
        ));
    }
    s.push('.');
    s
}
