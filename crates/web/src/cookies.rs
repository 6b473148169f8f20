//! The console's cookies: their names and attributes, and reading them from a request. All are
//! HttpOnly and SameSite=Strict; behind TLS (`--secure-cookies`, or an `https://` public URL)
//! they are Secure and prefixed, the session cookie with `__Host-` (a browser then takes it only
//! from this very host, over TLS, for the whole site, so no sibling domain can plant one).

use axum::http::HeaderMap;
use cookie::{Cookie, SameSite};

/// Which cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The session (its token; the session lives in the target).
    Session,
    /// The sign-in form's pre-session token (login CSRF).
    SignIn,
    /// The device cookie (`devices.rs`).
    Device,
}

/// The cookies of one console.
#[derive(Debug, Clone, Copy)]
pub struct Cookies {
    pub secure: bool,
}

impl Cookies {
    pub fn name(self, kind: Kind) -> &'static str {
        match (kind, self.secure) {
            (Kind::Session, false) => "ferry_session",
            (Kind::Session, true) => "__Host-ferry_session",
            (Kind::SignIn, false) => "ferry_signin",
            (Kind::SignIn, true) => "__Secure-ferry_signin",
            (Kind::Device, false) => "ferry_device",
            (Kind::Device, true) => "__Secure-ferry_device",
        }
    }

    fn path(kind: Kind) -> &'static str {
        match kind {
            Kind::Session => "/",
            Kind::SignIn | Kind::Device => "/signin",
        }
    }

    /// The `Set-Cookie` value that sets `kind` to `value` (for `max_age` seconds, or for the
    /// browser's session).
    pub fn set(self, kind: Kind, value: &str, max_age: Option<i64>) -> String {
        let mut c = Cookie::build((self.name(kind), value.to_string()))
            .path(Cookies::path(kind))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure);
        if let Some(s) = max_age {
            c = c.max_age(cookie::time::Duration::seconds(s));
        }
        c.build().to_string()
    }

    /// The `Set-Cookie` value that removes `kind`.
    pub fn clear(self, kind: Kind) -> String {
        self.set(kind, "", Some(0))
    }

    /// The value of `kind` in a request, if any.
    pub fn get(self, headers: &HeaderMap, kind: Kind) -> Option<String> {
        cookie(headers, self.name(kind))
    }
}

/// The cookie `name` of a request, if any (the first, as a browser sends the most specific
/// first); a malformed pair is skipped, not fatal.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_are_prefixed() {
        let c = Cookies { secure: true };
        let s = c.set(Kind::Session, "abc", Some(60));
        assert_eq!(
            s,
            "__Host-ferry_session=abc; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=60"
        );
        assert!(!s.contains("Domain"));
        let plain = Cookies { secure: false };
        assert_eq!(
            plain.set(Kind::Device, "d", None),
            "ferry_device=d; HttpOnly; SameSite=Strict; Path=/signin"
        );
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; ferry_session=x; b=2".parse().unwrap());
        assert_eq!(plain.get(&h, Kind::Session).as_deref(), Some("x"));
        assert_eq!(c.get(&h, Kind::Session), None);
    }
}
