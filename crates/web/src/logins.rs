//! The Logins page (seed 000 "usernames and passwords"): members' web logins after a migration —
//! the list (never a hash), the accounts without a login, the journal — and, for admins, giving
//! an account a username and setting a temporary password, which is shown once on the answer to
//! the form and kept only as its Argon2id hash. Viewers see the list without the actions.

use crate::auth::Staff;
use crate::view::{page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use ferry_logins::{events::Event, Actor, Filter, LoginError, LoginRow, NewPassword};
use serde::Deserialize;

/// Rows on one page of the list.
const PAGE: usize = 100;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    /// `all`, `must-reset`, `must-change` or `legacy`.
    #[serde(default)]
    state: String,
    #[serde(default)]
    page: usize,
    /// What the last action did (a username, never a secret).
    #[serde(default)]
    done: String,
}

#[derive(Template)]
#[template(path = "logins.html")]
struct LoginsPage {
    base: Base,
    q: String,
    state: String,
    page: usize,
    more: bool,
    logins: Vec<LoginRow>,
    without: Vec<String>,
    events: Vec<Event>,
    done: String,
}

fn actor(staff: &Staff) -> Actor {
    Actor(format!("console:{}", staff.email))
}

fn failure(e: LoginError) -> Failure {
    if e.is_refusal()
        || matches!(
            e,
            LoginError::BadUsername(..) | LoginError::NoAccount(_) | LoginError::NoLogin(_)
        )
    {
        Failure::bad(e.to_string())
    } else {
        Failure::internal(e.to_string())
    }
}

pub async fn list(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Query(q): Query<ListQuery>,
) -> Result<Response, Failure> {
    let filter = Filter {
        must_reset: q.state == "must-reset",
        must_change: q.state == "must-change",
        legacy: q.state == "legacy",
        search: Some(q.q.trim().to_string()).filter(|s| !s.is_empty()),
        limit: PAGE + 1,
        offset: q.page * PAGE,
    };
    let a = app.clone();
    let (mut logins, without, events) = tokio::task::spawn_blocking(move || {
        let t = a.target()?;
        let logins = ferry_logins::list(&t, &filter).map_err(failure)?;
        let without = ferry_logins::manage::without_login(&t, 50).map_err(failure)?;
        let events = ferry_logins::events::recent(&t, None, 20)?;
        Ok::<_, Failure>((logins, without, events))
    })
    .await??;
    let more = logins.len() > PAGE;
    logins.truncate(PAGE);
    Ok(page(&LoginsPage {
        base: Base::new("Logins", &staff, "logins"),
        q: q.q,
        state: if q.state.is_empty() {
            "all".into()
        } else {
            q.state
        },
        page: q.page,
        more,
        logins,
        without,
        events,
        done: q.done,
    }))
}

fn need_admin_and_csrf(staff: &Staff, csrf: &str) -> Result<(), Failure> {
    if !staff.is_admin() {
        return Err(Failure::forbidden(
            "Your role is viewer: you can look at the logins, but only an admin can change them.",
        ));
    }
    if !crate::auth::same_token(&staff.csrf, csrf) {
        return Err(Failure::forbidden(
            "This form is out of date or did not come from this console (its security token does not match). Reload the page and try again.",
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct UsernameForm {
    #[serde(default)]
    csrf: String,
    account: String,
    username: String,
}

pub async fn set_username(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Form(f): Form<UsernameForm>,
) -> Result<Response, Failure> {
    need_admin_and_csrf(&staff, &f.csrf)?;
    let who = actor(&staff);
    let (account, username) = (f.account.clone(), f.username.clone());
    tokio::task::spawn_blocking(move || {
        let t = app.target()?;
        ferry_logins::set_username(&t, &account, &username, &who).map_err(failure)
    })
    .await??;
    let done = format!(
        "Account {} has the username {}.",
        f.account,
        f.username.trim().to_lowercase()
    );
    let to = format!("/logins?done={}", crate::view::url_encode(&done));
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    account: String,
}

#[derive(Template)]
#[template(path = "login_password.html")]
struct PasswordPage {
    base: Base,
    account: String,
    username: String,
    password: String,
}

/// Sets a generated temporary password and shows it on this answer only (it is not kept:
/// reloading does not show it again; the page is never cached).
pub async fn set_password(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, Failure> {
    need_admin_and_csrf(&staff, &f.csrf)?;
    let who = actor(&staff);
    let account = f.account.clone();
    let (password, username) = tokio::task::spawn_blocking(move || {
        let t = app.target()?;
        let p = ferry_logins::set_password(&t, &account, NewPassword::Temporary, true, &who)
            .map_err(failure)?
            .ok_or_else(|| Failure::internal("no temporary password was made"))?;
        let username = ferry_logins::manage::username_of(&t, &account)
            .map_err(failure)?
            .unwrap_or_default();
        Ok::<_, Failure>((p, username))
    })
    .await??;
    Ok(page(&PasswordPage {
        base: Base::new("Temporary password", &staff, "logins"),
        account: f.account,
        username,
        password,
    }))
}
