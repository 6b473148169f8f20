//! The confirmation step of a run's destructive actions (Run live, Import the valid rows, Roll
//! back, Cancel): a page that states what the action will do and what it will not, with the
//! form that posts it with `confirm=yes`. Server-rendered: the console's CSP allows no inline
//! script, and the action works without any script.

use crate::auth::Staff;
use crate::pages::{blocking, need_admin};
use crate::view::{self, page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use ferry_report::retries::{self, Landing};
use ferry_store::journal::{RunInfo, RunMode};
use ferry_store::Target;

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    base: Base,
    id: i64,
    action: &'static str,
    heading: String,
    /// What will happen, a sentence each.
    will: Vec<String>,
    /// What will not happen (what stays out), a sentence each.
    will_not: Vec<String>,
    /// The error codes of what stays out, with their counts ("reference.unknown × 5").
    codes: Vec<String>,
    button: &'static str,
    danger: bool,
}

pub async fn confirm(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path((id, action)): Path<(i64, String)>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    let p = blocking(move || {
        let t = app.target()?;
        let info = t
            .run(id)?
            .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("There is no run {id}.")))?;
        words(&t, &info, &action)
    })
    .await?;
    Ok(page(&ConfirmPage {
        base: Base::new(p.heading.clone(), &staff, "runs"),
        ..p
    }))
}

/// The page for `action` on run `info`.
fn words(t: &Target, info: &RunInfo, action: &str) -> Result<ConfirmPage, Failure> {
    let id = info.id;
    let l = retries::landing(t, id)?;
    let p = |action, heading: String, will, will_not, button, danger| ConfirmPage {
        base: Base {
            title: String::new(),
            staff: None,
            nav: "runs",
        },
        id,
        action,
        heading,
        will,
        will_not,
        codes: vec![],
        button,
        danger,
    };
    Ok(match action {
        "live" => p(
            "live",
            format!("Run test run {id} live?"),
            live_will(&l, id),
            vec!["The test run itself stays as it is; it is not run again.".into()],
            "Yes, run it live",
            false,
        ),
        "import-valid" => ConfirmPage {
            codes: retries::errors_by_code(t, id)?
                .into_iter()
                .map(|(code, n)| format!("{code} × {}", view::count(n)))
                .collect(),
            ..p(
                "import-valid",
                format!("Import the valid rows of test run {id}?"),
                live_will(&l, id),
                valid_will_not(&l, id),
                "Yes, import the valid rows",
                false,
            )
        },
        "rollback" => p(
            "rollback",
            format!("Roll back run {id}?"),
            rollback_will(t, id)?,
            vec![format!("Nothing is rolled back if a later run refers to records of run {id}, charged its invoices or updated its rows: the rollback is then refused, and says which run.")],
            "Yes, roll it back",
            true,
        ),
        "cancel" => p(
            "cancel",
            format!("Cancel run {id}?"),
            cancel_will(info),
            vec!["Nothing already committed is undone by cancelling.".into()],
            "Yes, cancel it",
            true,
        ),
        _ => return Err(view::Failure::new(StatusCode::NOT_FOUND, "There is no such action.")),
    })
}

/// What a live run of a test run's files will land.
fn live_will(l: &Landing, id: i64) -> Vec<String> {
    let mut v = vec![format!(
        "{} will be written to the target for real: those test run {id} found would be imported or updated.",
        view::counted(l.land as i64, "record", "records")
    )];
    if l.skipped > 0 {
        v.push(format!(
            "{} {} identical to what the target holds and {} skipped.",
            view::counted(l.skipped as i64, "record", "records"),
            view::noun(l.skipped as i64, "is", "are"),
            view::noun(l.skipped as i64, "is", "are")
        ));
    }
    v.push("A SQLite target is backed up first, and the run can be rolled back afterwards. If the target changed since the test run, the live run finds what is true now.".into());
    v
}

/// What importing the valid rows leaves out: the rejected records (their codes are listed
/// apart).
fn valid_will_not(l: &Landing, id: i64) -> Vec<String> {
    vec![format!(
        "{} will NOT be imported: test run {id} rejected {}, with these errors. Download {} as \"Rejected rows\" from the run's page, correct {} and upload {} with \"Retry with a corrected file\".",
        view::counted(l.rejected as i64, "record", "records"),
        view::noun(l.rejected as i64, "it", "them"),
        view::noun(l.rejected as i64, "it", "them"),
        view::noun(l.rejected as i64, "it", "them"),
        view::noun(l.rejected as i64, "it", "them")
    )]
}

fn rollback_will(t: &Target, id: i64) -> Result<Vec<String>, Failure> {
    let l = retries::landing(t, id)?;
    Ok(vec![
        format!(
            "The records run {id} wrote ({} imported or updated) are removed from the target, and the rows it updated get their earlier values back, with its invoices, ledger lines and logins.",
            view::count(l.land as i64)
        ),
        format!("Run {id} is then marked rolled back; its findings stay in the journal."),
    ])
}

fn cancel_will(info: &RunInfo) -> Vec<String> {
    if info.mode == RunMode::Live {
        vec![
            format!("Run {} stops at its next checkpoint.", info.id),
            "The chunks it has committed so far stay in the target: resume the run later, or roll it back.".into(),
        ]
    } else {
        vec![
            format!("Test run {} stops at its next checkpoint.", info.id),
            "A test run keeps nothing in the target either way.".into(),
        ]
    }
}
