//! The sign-in page and its post: a pre-session CSRF token (a cookie and the same value in the
//! form), the same-site check, the throttle charged before the password is checked, and the
//! page to go to afterwards checked before any session exists.

use crate::auth;
use crate::throttle;
use crate::view::{page, Base, Failure};
use crate::{cookie, Shared, COOKIE};
use askama::Template;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// The pre-session cookie: a random value the sign-in form must repeat. A page of another site
/// can neither read it nor (SameSite=Strict) make the browser send it, so it cannot sign a
/// browser in to an account of its choosing (login CSRF). A plain double-submit value, not a
/// signed one: an attacker who could plant cookies could as well plant a value and signature
/// it got from this page itself; the `Origin` check is what stops that case.
const SIGNIN_COOKIE: &str = "ferry_signin";

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
/// A path here starts with exactly one `/` (not `//`, which browsers read as another host),
/// has no backslash (read as `/`), and only visible ASCII (a tab or line break is dropped by
/// browsers, turning `/\t/evil` into `//evil`, and would not fit in a header); its path part is
/// checked again after percent-decoding. Anything else, including `https://…`, gives `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if is_local_path(n) => n.to_string(),
        _ => "/".to_string(),
    }
}

fn is_local_path(n: &str) -> bool {
    let plain = |s: &str| {
        s.starts_with('/')
            && !s.starts_with("//")
            && s.chars().all(|c| c.is_ascii_graphic() && c != '\\')
    };
    let path = n.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    n.len() <= 2048 && plain(n) && plain(&decoded)
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The request's pre-session token, when it has a well-formed one.
fn given_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SIGNIN_COOKIE).filter(|t| {
        t.len() == 43
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
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
        email: email.to_string(),
        error: error.to_string(),
    });
    let c = format!(
        "{SIGNIN_COOKIE}={token}; Path=/signin; HttpOnly; SameSite=Strict{}",
        if app.secure_cookies { "; Secure" } else { "" }
    );
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
    let token = given_token(&headers).unwrap_or_else(auth::token);
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

pub async fn sign_in(
    State(app): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    // Checked first: whatever else happens, no session exists yet.
    let next = safe_next(f.next.as_deref());
    if !app.hosts.same_site(&headers) {
        return Failure::forbidden("A sign-in from another site's page is refused.")
            .into_response();
    }
    let again = |token: &str, error: &str, status: StatusCode| {
        let mut r = form_page(&app, token, next.clone(), &f.email, error);
        *r.status_mut() = status;
        r
    };
    let Some(token) = given_token(&headers).filter(|t| auth::same_token(t, &f.csrf)) else {
        return again(
            &auth::token(),
            "This sign-in form was out of date or did not come from this console. Sign in again.",
            StatusCode::FORBIDDEN,
        );
    };
    let client = throttle::client_address(peer.ip(), &headers, &app.trusted_proxies);
    let attempt = match app.throttle.attempt(&f.email, client) {
        Ok(a) => a,
        Err(wait) => {
            let words = format!(
                "Too many failed attempts. Wait {} and try again.",
                wait_words(wait)
            );
            let mut r = again(&token, &words, StatusCode::TOO_MANY_REQUESTS);
            r.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return r;
        }
    };
    match check_password(&app, &f.email, &f.password).await {
        Ok(Some(session)) => {
            app.throttle.succeeded(attempt);
            let cookie = format!(
                "{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
                auth::SESSION_HOURS * 3600,
                if app.secure_cookies { "; Secure" } else { "" }
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        Ok(None) => again(
            &token,
            "That e-mail and password do not match a staff account.",
            StatusCode::UNAUTHORIZED,
        ),
        Err(e) => e.into_response(),
    }
}

/// Checks the password (Argon2id, off the async threads); a new session's token if right.
async fn check_password(
    app: &Shared,
    email: &str,
    password: &str,
) -> Result<Option<String>, Failure> {
    let (email, password, a) = (email.to_string(), password.to_string(), app.clone());
    tokio::task::spawn_blocking(move || {
        let t = a.target()?;
        auth::sign_in(&t, &email, &password).map_err(Failure::internal)
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
