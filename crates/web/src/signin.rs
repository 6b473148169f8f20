//! The sign-in page and its post: a pre-session CSRF token (a cookie and the same value in the
//! form), the same-site check, the throttle charged before the password is checked (a known
//! device's own limit instead of the others, `devices.rs`), and the page to go to afterwards
//! checked before any session exists.

use crate::auth;
use crate::cookies::Kind;
use crate::devices;
use crate::proxy;
use crate::throttle::{Attempt, Who};
use crate::view::{page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

// The pre-session cookie (`Kind::SignIn`): a random value the sign-in form must repeat. A page
// of another site can neither read it nor (SameSite=Strict) make the browser send it, so it
// cannot sign a browser in to an account of its choosing (login CSRF). A plain double-submit
// value, not a signed one: an attacker who could plant cookies could as well plant a value and
// signature it got from this page itself; the `Origin` check is what stops that case.

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    base: Base,
    csrf: String,
    next: String,
    email: String,
    error: String,
}

/// Where to go after signing in: a path of this console, or `/`.
///
/// The value as given (what reaches `Location`) must start with exactly one `/` (not `//`,
/// which browsers read as another host), have no backslash (read as `/`), and only visible
/// ASCII (a tab or line break is dropped by browsers, turning `/\t/evil` into `//evil`, and
/// would not fit in a header). Its path, percent-decoded, must not start with `//` nor hold a
/// backslash or a control character; anything else decoded is fine (`/records/Zo%C3%AB`).
/// Anything else, including `https://…`, gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    let raw_ok = n.len() <= 2048
        && n.starts_with('/')
        && !n.starts_with("//")
        && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let path = n.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    raw_ok && !decoded.starts_with("//") && !decoded.chars().any(|c| c == '\\' || c.is_control())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The request's pre-session token, when it has a well-formed one.
fn given_token(app: &Shared, headers: &HeaderMap) -> Option<String> {
    app.cookies
        .get(headers, Kind::SignIn)
        .filter(|t| devices::well_formed(t))
}

/// The sign-in page with `token` in its form and its cookie.
fn form_page(app: &Shared, token: &str, next: String, email: &str, error: &str) -> Response {
    let mut r = page(&SignInPage {
        base: Base {
            title: "Sign in".into(),
            staff: None,
            nav: "",
        },
        csrf: token.to_string(),
        next,
        email: email.chars().take(254).collect(),
        error: error.to_string(),
    });
    let c = app.cookies.set(Kind::SignIn, token, None);
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub async fn sign_in_page(
    State(app): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let token = given_token(&app, &headers).unwrap_or_else(auth::token);
    form_page(&app, &token, safe_next(q.next.as_deref()), "", "")
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// "Wait 15 minutes" / "Wait 30 seconds".
fn wait_words(wait: Duration) -> String {
    let s = wait.as_secs().max(1);
    if s < 120 {
        format!("{s} seconds")
    } else {
        format!("{} minutes", s.div_ceil(60))
    }
}

/// The sign-in form shown again (with `error`) for one posted form.
struct Again<'a> {
    app: &'a Shared,
    next: String,
    email: &'a str,
}

impl Again<'_> {
    fn show(&self, token: &str, error: &str, status: StatusCode) -> Response {
        let mut r = form_page(self.app, token, self.next.clone(), self.email, error);
        *r.status_mut() = status;
        r
    }

    fn stale(&self) -> Response {
        self.show(
            &auth::token(),
            "This sign-in form was out of date or did not come from this console. Sign in again.",
            StatusCode::FORBIDDEN,
        )
    }

    fn too_many(&self, token: &str, wait: Duration) -> Response {
        let words = format!(
            "Too many failed attempts. Wait {} and try again.",
            wait_words(wait)
        );
        let mut r = self.show(token, &words, StatusCode::TOO_MANY_REQUESTS);
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        r
    }

    fn wrong(&self, token: &str) -> Response {
        self.show(
            token,
            "That e-mail and password do not match a staff account.",
            StatusCode::UNAUTHORIZED,
        )
    }
}

pub async fn sign_in(
    State(app): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    // Checked first: whatever else happens, no session exists yet.
    let again = Again {
        app: &app,
        next: safe_next(f.next.as_deref()),
        email: &f.email,
    };
    if !app.hosts.same_site(&headers) {
        return Failure::forbidden("A sign-in from another site's page is refused.")
            .into_response();
    }
    let Some(token) = given_token(&app, &headers).filter(|t| auth::same_token(t, &f.csrf)) else {
        return again.stale();
    };
    let device = known_device(&app, &headers, &f.email).await;
    let who = Who {
        email: &f.email,
        client: proxy::client_address(peer.ip(), &headers, &app.trusted_proxies),
        device: device.as_ref().map(|d| d.0),
    };
    let attempt = match app.throttle.attempt(who) {
        Ok(a) => a,
        Err(wait) => return again.too_many(&token, wait),
    };
    match check_password(&app, &f.email, &f.password, device).await {
        Ok(Some(signed)) => signed_in(&app, attempt, signed, &again.next),
        Ok(None) => again.wrong(&token),
        Err(e) => {
            // Not a wrong password: the attempt is given back.
            app.throttle.refund(attempt);
            e.into_response()
        }
    }
}

/// The known device the request's device cookie names for `email`, with its token (a cookie
/// that names none, or a target that cannot say, is no device).
async fn known_device(app: &Shared, headers: &HeaderMap, email: &str) -> Option<(i64, String)> {
    let tok = app
        .cookies
        .get(headers, Kind::Device)
        .filter(|t| devices::well_formed(t))?;
    let (a, email) = (app.clone(), email.to_string());
    tokio::task::spawn_blocking(move || {
        let t = a.target().ok()?;
        let id = devices::known(&t, &tok, &email).ok()??;
        Some((id, tok))
    })
    .await
    .ok()?
}

/// A right password and what it gives: the new session, and the device cookie (new, or the
/// known one again so that it lasts another [`devices::DEVICE_DAYS`]).
struct Granted {
    session: String,
    device: String,
}

/// The answer to a right password: the attempt given back, the cookies, and the next page.
fn signed_in(app: &Shared, attempt: Attempt, g: Granted, next: &str) -> Response {
    app.throttle.succeeded(attempt);
    let c = app.cookies;
    let session = c.set(Kind::Session, &g.session, Some(auth::SESSION_HOURS * 3600));
    let device = c.set(
        Kind::Device,
        &g.device,
        Some(devices::DEVICE_DAYS * 24 * 3600),
    );
    let mut r = Redirect::to(next).into_response();
    for v in [session, device] {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// Checks the password (Argon2id, off the async threads); when right, a new session and the
/// device remembered.
async fn check_password(
    app: &Shared,
    email: &str,
    password: &str,
    device: Option<(i64, String)>,
) -> Result<Option<Granted>, Failure> {
    let (email, password, a) = (email.to_string(), password.to_string(), app.clone());
    tokio::task::spawn_blocking(move || {
        let t = a.target()?;
        let Some(s) = auth::sign_in(&t, &email, &password)? else {
            return Ok(None);
        };
        let device = devices::remember(&t, s.staff_id, device)?;
        Ok(Some(Granted {
            session: s.session,
            device,
        }))
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_a_path_of_this_console_or_the_start() {
        for ok in [
            "/runs/3?page=2",
            "/records?q=John%20Smith",
            "/",
            "/runs#findings",
            "/records/John%20Smith",
            "/records/Zo%C3%AB",
            "/records/O%27Brien?q=a%2Fb",
            "/runs/1?q=%2F%2Fnot-a-host",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.example",
            "/%09/evil.example",
            "//evil.example",
            "/\\evil.example",
            "/%5Cevil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%00",
            "/\r\nSet-Cookie:x=1",
            "/%0d%0aSet-Cookie:x=1",
            "/\u{b}/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/ evil",
            "/é",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
