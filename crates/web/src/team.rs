//! The Staff page (admins only): the console's staff accounts listed (e-mail, role, created,
//! last sign-in, disabled), and adding one, disabling or enabling it, setting a new password
//! and changing its role — each a post with the session's CSRF token, disabling only once
//! confirmed. The rules (the last enabled admin stays, sessions end) are `ferry_logins::team`'s;
//! a password generated here is shown once on the answer to the form, and kept only as its hash.

use crate::auth::{self, Staff};
use crate::pages::{blocking, check_csrf};
use crate::view::{page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use ferry_logins::events::Event;
use ferry_logins::staff::Member;
use ferry_logins::team::{self, Change, TeamError};
use ferry_logins::Actor;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    base: Base,
    members: Vec<Row>,
    events: Vec<Event>,
    done: String,
    refused: String,
    me: i64,
}

#[derive(Template)]
#[template(path = "staff_password.html")]
struct PasswordPage {
    base: Base,
    email: String,
    password: String,
    added: bool,
}

#[derive(Template)]
#[template(path = "staff_confirm.html")]
struct ConfirmPage {
    base: Base,
    member: Member,
    /// The account is the signed-in staff member's own.
    own: bool,
}

/// A staff account as the page lists it.
struct Row {
    id: i64,
    email: String,
    role: String,
    created: String,
    /// Empty: never.
    last_sign_in: String,
    disabled: bool,
}

impl From<Member> for Row {
    fn from(m: Member) -> Row {
        Row {
            id: m.id,
            created: crate::view::when(&m.created_at),
            last_sign_in: m
                .last_sign_in_at
                .as_deref()
                .map(crate::view::when)
                .unwrap_or_default(),
            email: m.email,
            role: m.role,
            disabled: m.disabled,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

/// Every staff form: the token, and what the form gives.
#[derive(Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    /// Empty: generate one and show it once.
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

fn need_admin(staff: &Staff) -> Result<(), Failure> {
    if staff.is_admin() {
        Ok(())
    } else {
        Err(Failure::forbidden(
            "Only an admin can see and manage the console's staff.",
        ))
    }
}

fn actor(staff: &Staff) -> Actor {
    Actor(format!("console:{}", staff.email))
}

/// The page, with what the last action did (`done`) or why it was refused (`refused`).
fn staff_page(
    app: &Shared,
    staff: &Staff,
    done: String,
    refused: String,
) -> Result<StaffPage, Failure> {
    let t = app.target()?;
    Ok(StaffPage {
        base: Base::new("Staff", staff, "staff"),
        members: ferry_logins::staff::members(&t)?
            .into_iter()
            .map(Row::from)
            .collect(),
        events: ferry_logins::events::recent_staff(&t, 20)?
            .into_iter()
            .map(|e| Event {
                at: crate::view::when(&e.at),
                ..e
            })
            .collect(),
        done,
        refused,
        me: staff.id,
    })
}

pub async fn list(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Query(q): Query<Done>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    blocking(move || Ok(page(&staff_page(&app, &staff, q.done, String::new())?))).await
}

/// The answer to a refused request: the page again, saying why, with a status that says it.
async fn refused(app: Shared, staff: Staff, status: StatusCode, why: String) -> Response {
    match blocking(move || staff_page(&app, &staff, String::new(), why)).await {
        Ok(p) => (status, page(&p)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// What to answer when `r` failed: a refusal shows the page again, anything else an error.
async fn answer<T>(
    app: &Shared,
    staff: &Staff,
    r: Result<T, Failure>,
    ok: impl FnOnce(T) -> Response,
) -> Response {
    match r {
        Ok(v) => ok(v),
        Err(f) if f.status == StatusCode::CONFLICT || f.status == StatusCode::BAD_REQUEST => {
            refused(app.clone(), staff.clone(), f.status, f.message).await
        }
        Err(f) => f.into_response(),
    }
}

fn team_failure(e: TeamError) -> Failure {
    match e {
        TeamError::LastAdmin(_) | TeamError::Taken(_) => {
            Failure::new(StatusCode::CONFLICT, e.to_string())
        }
        e if e.is_refusal() => Failure::bad(e.to_string()),
        e => Failure::internal(e.to_string()),
    }
}

fn auth_failure(e: auth::AuthError) -> Failure {
    match e {
        auth::AuthError::NotEmail(_) | auth::AuthError::ShortPassword => {
            Failure::bad(e.to_string())
        }
        e => Failure::internal(e.to_string()),
    }
}

/// The password a form asks for: the one given, or a generated one (`true`: show it once).
fn password_of(given: &str) -> Result<(String, bool, String), Failure> {
    let (pass, generated) = if given.is_empty() {
        (auth::generated_password(), true)
    } else {
        (given.to_string(), false)
    };
    let hash = auth::staff_password_hash(&pass).map_err(auth_failure)?;
    Ok((pass, generated, hash))
}

fn done(message: &str) -> Response {
    Redirect::to(&format!("/staff?done={}", crate::view::url_encode(message))).into_response()
}

pub async fn add(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Form(f): Form<StaffForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    let (a, who) = (app.clone(), actor(&staff));
    let r = blocking(move || {
        let email = auth::staff_email(&f.email).map_err(auth_failure)?;
        let (pass, generated, hash) = password_of(&f.password)?;
        let t = a.target()?;
        let m = team::add(&t, &email, &hash, f.role.trim(), &who).map_err(team_failure)?;
        Ok((m, pass, generated))
    })
    .await;
    let base = Base::new("New staff member", &staff, "staff");
    Ok(answer(&app, &staff, r, |(m, pass, generated)| {
        if generated {
            page(&PasswordPage {
                base,
                email: m.email,
                password: pass,
                added: true,
            })
        } else {
            done(&format!("{} was added as {}.", m.email, m.role))
        }
    })
    .await)
}

/// Makes `change` to staff account `id` after the checks; `Ok` the account as it was.
async fn apply(app: &Shared, staff: &Staff, id: i64, change: Change) -> Result<Member, Failure> {
    let (a, who) = (app.clone(), actor(staff));
    blocking(move || {
        let t = a.target()?;
        team::change(&t, id, &change, &who).map_err(team_failure)
    })
    .await
}

pub async fn disable(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<StaffForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    if f.confirm != "yes" {
        let (a, s) = (app.clone(), staff.clone());
        let member = blocking(move || {
            ferry_logins::staff::member_by_id(&*a.target()?, id)?.ok_or_else(|| {
                Failure::new(
                    StatusCode::NOT_FOUND,
                    format!("There is no staff account {id}."),
                )
            })
        })
        .await?;
        return Ok(page(&ConfirmPage {
            base: Base::new("Disable a staff account", &s, "staff"),
            own: member.id == s.id,
            member,
        }));
    }
    let r = apply(&app, &staff, id, Change::Disable).await;
    Ok(answer(&app, &staff, r, |m| {
        done(&format!(
            "{} is disabled: they cannot sign in, and their sessions have ended.",
            m.email
        ))
    })
    .await)
}

pub async fn enable(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<StaffForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    let r = apply(&app, &staff, id, Change::Enable).await;
    Ok(answer(&app, &staff, r, |m| {
        done(&format!("{} can sign in again.", m.email))
    })
    .await)
}

pub async fn role(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<StaffForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    let role = f.role.trim().to_string();
    let r = apply(&app, &staff, id, Change::Role(role.clone())).await;
    Ok(answer(&app, &staff, r, |m| {
        done(&format!("{} is now {role}.", m.email))
    })
    .await)
}

pub async fn password(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(id): Path<i64>,
    Form(f): Form<StaffForm>,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    check_csrf(&staff, &f.csrf)?;
    let given = f.password;
    let r = match blocking(move || password_of(&given)).await {
        Ok((pass, generated, hash)) => apply(&app, &staff, id, Change::Password(hash))
            .await
            .map(|m| (m, pass, generated)),
        Err(e) => Err(e),
    };
    let base = Base::new("New password", &staff, "staff");
    Ok(answer(&app, &staff, r, |(m, pass, generated)| {
        if generated {
            page(&PasswordPage {
                base,
                email: m.email,
                password: pass,
                added: false,
            })
        } else {
            done(&format!(
                "{} has a new password; their sessions have ended.",
                m.email
            ))
        }
    })
    .await)
}
