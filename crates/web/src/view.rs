//! What every page shares: the frame (title, navigation, the signed-in staff member), errors as
//! pages, the stylesheet and script, and small formatting helpers.

use crate::auth::Staff;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The frame of a page.
pub struct Base {
    pub title: String,
    pub staff: Option<Staff>,
    /// Which navigation entry is current.
    pub nav: &'static str,
}

impl Base {
    pub fn new(title: impl Into<String>, staff: &Staff, nav: &'static str) -> Base {
        Base {
            title: title.into(),
            staff: Some(staff.clone()),
            nav,
        }
    }
    pub fn csrf(&self) -> &str {
        self.staff.as_ref().map(|s| s.csrf.as_str()).unwrap_or("")
    }
    pub fn admin(&self) -> bool {
        self.staff.as_ref().is_some_and(|s| s.is_admin())
    }
    pub fn email(&self) -> &str {
        self.staff.as_ref().map(|s| s.email.as_str()).unwrap_or("")
    }
    pub fn role(&self) -> &str {
        self.staff.as_ref().map(|s| s.role.as_str()).unwrap_or("")
    }
    pub fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav {
            "current"
        } else {
            ""
        }
    }
}

/// Renders a page.
pub fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => Failure::internal(format!("the page could not be drawn: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    base: Base,
    status: u16,
    heading: &'a str,
    message: &'a str,
}

/// A request that could not be served, shown as a page with a plain message.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
    pub fn internal(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    pub fn bad(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ferry_store::StoreError> for Failure {
    fn from(e: ferry_store::StoreError) -> Self {
        Failure::internal(format!("{e}"))
    }
}

impl From<crate::auth::AuthError> for Failure {
    fn from(e: crate::auth::AuthError) -> Self {
        Failure::internal(format!("{e}"))
    }
}

impl From<tokio::task::JoinError> for Failure {
    fn from(_: tokio::task::JoinError) -> Self {
        Failure::internal("the request's work stopped unexpectedly")
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let heading = match self.status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::BAD_REQUEST => "That did not work",
            StatusCode::PAYLOAD_TOO_LARGE => "Too large",
            StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
            _ => "Something went wrong",
        };
        let body = ErrorPage {
            base: Base {
                title: heading.to_string(),
                staff: None,
                nav: "",
            },
            status: self.status.as_u16(),
            heading,
            message: &self.message,
        }
        .render()
        .unwrap_or_else(|_| self.message.clone());
        (self.status, Html(body)).into_response()
    }
}

pub fn not_found() -> Response {
    Failure::new(StatusCode::NOT_FOUND, "There is no such page.").into_response()
}

pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("../static/ferry.css"),
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        include_str!("../static/ferry.js"),
    )
        .into_response()
}

/// What a query value keeps unencoded: letters, digits and `-_.~` (RFC 3986's unreserved).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// `text` without the server folder `dir` in it: staff see file names, never where the
/// console keeps them. `dir` is an upload folder, or (`upload_root`) the folder of all uploads,
/// whose next folder (the upload's random name) goes too. The `csv`, `attachments` and `draft`
/// folders of an upload go with it.
pub fn hide_paths(text: &str, dir: &std::path::Path, upload_root: bool) -> String {
    let prefix = format!("{}/", dir.display());
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&prefix) {
        out.push_str(&rest[..i]);
        rest = &rest[i + prefix.len()..];
        if upload_root {
            rest = rest.find('/').map_or(rest, |j| &rest[j + 1..]);
        }
        for sub in ["csv/", "attachments/", "draft/"] {
            rest = rest.strip_prefix(sub).unwrap_or(rest);
        }
    }
    out.push_str(rest);
    out.replace(&dir.display().to_string(), "the upload")
}

/// The advice findings and messages give in the terminal's words (`--on-existing skip`,
/// `ferry certification migrate`), told in the console's: the option of the new-run form or
/// the page to use. The engine writes one message for both; the console words it for staff
/// who never see a command line.
const CONSOLE_WORDS: &[(&str, &str)] = &[
    // Whole pieces of advice first, then the flags alone (longer before shorter).
    (
        "run again with --add-missing-components to add the component to the program for the migration",
        "migrate again with “Add components a registration uses but its program lacks” ticked on the Certification page to add the component to the program",
    ),
    (
        "(use --on-existing skip or update)",
        "(to skip or update such records, start a new run with “A record whose key already exists” set to “is skipped” or “updates the existing record”)",
    ),
    (
        "use --on-existing skip to skip it",
        "to skip such records, start a new run with “A record whose key already exists” set to “is skipped”",
    ),
    (
        "migrate them with `ferry certification migrate`",
        "migrate them on the Certification page",
    ),
    (
        "`ferry certification migrate` leaves them out",
        "a certification migration leaves them out",
    ),
    ("`ferry import` leaves them out", "an import leaves them out"),
    (
        "import them with `ferry import`",
        "import them as a new run on the Runs page",
    ),
    (
        "beyond --max-records",
        "beyond “Only the first N accounts”",
    ),
    ("--max-records ", "“Only the first N accounts” = "),
    (
        "--on-existing skip or update",
        "“A record whose key already exists: is skipped” or “updates the existing record”",
    ),
    (
        "--on-existing error",
        "“A record whose key already exists: is an error”",
    ),
    (
        "--on-existing skip",
        "“A record whose key already exists: is skipped”",
    ),
    (
        "--on-existing update",
        "“A record whose key already exists: updates the existing record”",
    ),
    (
        "--add-missing-components",
        "“Add components a registration uses but its program lacks”",
    ),
    (
        "--fold-case",
        "“Accept references that differ only in case and spacing”",
    ),
    ("--all-or-nothing", "“All or nothing”"),
    ("--max-attachment-bytes", "the attachment size limit"),
];

/// `text` with the terminal's advice in the console's words ([`CONSOLE_WORDS`]).
pub fn console_words(text: &str) -> String {
    let mut out = text.to_string();
    for (cli, console) in CONSOLE_WORDS {
        if out.contains(cli) {
            out = out.replace(cli, console);
        }
    }
    out
}

/// Money in ten-thousandths as a plain decimal with two to four fractional digits.
pub fn money(e4: i64) -> String {
    ferry_report::balances::money(e4)
}

/// A journal timestamp shown without its offset noise.
pub fn when(ts: &str) -> String {
    ts.get(..19).unwrap_or(ts).replace('T', " ")
}

/// `1 warning`, `1,234 warnings`: a count with its noun, singular for one (the helper every
/// output shares).
pub fn counted(n: i64, one: &str, many: &str) -> String {
    ferry_findings::words::count(n.max(0) as u64, one, many)
}

/// `one` for a count of one, else `many` (a verb agreeing with a count: "is", "are").
pub fn noun<'a>(n: i64, one: &'a str, many: &'a str) -> &'a str {
    ferry_findings::words::noun(n.max(0) as u64, one, many)
}

/// A number with thousands separators.
pub fn count(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `text` as HTML (escaped), each "run N" (or "Run N", "runs N") a link to that run's page.
pub fn run_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some((before, word, digits, after)) = next_run_number(rest) {
        out.push_str(&escape(before));
        let n: i64 = digits.parse().unwrap_or(0);
        out.push_str(&format!(
            "<a href=\"/runs/{n}\">{} {digits}</a>",
            escape(word)
        ));
        rest = after;
    }
    out.push_str(&escape(rest));
    out
}

/// The first "run N" in `text`: what comes before it, the word, the digits and the rest.
fn next_run_number(text: &str) -> Option<(&str, &str, &str, &str)> {
    let mut from = 0;
    while let Some(i) = text[from..].find("un").map(|i| from + i) {
        from = i + 2;
        let Some(start) = i.checked_sub(1) else {
            continue;
        };
        if !matches!(text.as_bytes()[start], b'r' | b'R') {
            continue;
        }
        let boundary = start == 0 || !text.as_bytes()[start - 1].is_ascii_alphanumeric();
        let mut end = i + 2;
        if text[end..].starts_with('s') {
            end += 1;
        }
        let word = &text[start..end];
        let Some(after_space) = text[end..].strip_prefix(' ') else {
            continue;
        };
        let digits_len = after_space.bytes().take_while(u8::is_ascii_digit).count();
        if !boundary || digits_len == 0 {
            continue;
        }
        let digits = &after_space[..digits_len];
        return Some((&text[..start], word, digits, &after_space[digits_len..]));
    }
    None
}

/// `s` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `bytes` sent as an attachment named `name` (characters other than letters, digits, `-`, `_`
/// and `.` replaced by `_`).
pub fn attachment(bytes: Vec<u8>, mime: &str, name: &str) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_and_urls() {
        assert_eq!(super::count(1234567), "1,234,567");
        assert_eq!(super::count(12), "12");
        assert_eq!(
            super::url_encode("/runs/1?a=b c"),
            "%2Fruns%2F1%3Fa%3Db%20c"
        );
        // Unreserved characters stay; every other byte (UTF-8 included) is %XX, upper case.
        assert_eq!(
            super::url_encode("aZ09-_.~é%+&#"),
            "aZ09-_.~%C3%A9%25%2B%26%23"
        );
    }

    #[test]
    fn server_paths_are_hidden() {
        let up = std::path::Path::new("/srv/data/uploads");
        assert_eq!(
            super::hide_paths("/srv/data/uploads/Ab_9/csv/m.csv: line 3: bad", up, true),
            "m.csv: line 3: bad"
        );
        let one = std::path::Path::new("/srv/data/uploads/Ab_9");
        assert_eq!(
            super::hide_paths(
                "/srv/data/uploads/Ab_9/book.xlsx and /srv/data/uploads/Ab_9",
                one,
                false
            ),
            "book.xlsx and the upload"
        );
    }
}

#[cfg(test)]
mod run_links_tests {
    use super::run_links;

    #[test]
    fn run_numbers_become_links_and_the_rest_is_escaped() {
        assert_eq!(
            run_links("refused: run 7 <refers> to it; rerun 3, Run 12."),
            "refused: <a href=\"/runs/7\">run 7</a> &lt;refers&gt; to it; rerun 3, <a href=\"/runs/12\">Run 12</a>."
        );
        assert_eq!(run_links("runs 4"), "<a href=\"/runs/4\">runs 4</a>");
        assert_eq!(run_links("a running run"), "a running run");
    }
}
