//! The console's defences, over plain HTTP against a real `ferry serve`: every route refuses a
//! request without a live session; sign-in issues a new session every time (no fixation) and
//! is rate-limited; state-changing requests need the session's CSRF token and this site's
//! origin; viewers cannot change anything; upload names cannot escape the upload folder; uploads
//! are size-limited; the security headers are on every response.

mod common;
use common::web::{agent, sign_in_cookie, Console, ADMIN, PASSWORD, VIEWER};
use common::*;

struct Reply {
    status: u16,
    location: String,
    set_cookie: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("the console answers");
    let h = |k: &str| {
        r.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (location, set_cookie) = (h("location"), h("set-cookie"));
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Reply {
        status: r.status().as_u16(),
        location,
        set_cookie,
        headers,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

fn get(url: &str, cookie: Option<&str>, accept_html: bool) -> Reply {
    let mut req = agent().get(url);
    if let Some(c) = cookie {
        req = req.header("Cookie", format!("ferry_session={c}"));
    }
    if accept_html {
        req = req.header("Accept", "text/html");
    }
    reply(req.call())
}

fn post_form(url: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
    let mut req = agent().post(url);
    if let Some(c) = cookie {
        req = req.header("Cookie", format!("ferry_session={c}"));
    }
    reply(req.send_form(form.iter().copied()))
}

/// Signs in; returns the session token.
fn sign_in(console: &Console, email: &str) -> String {
    token_of(&sign_in_cookie(console, email))
}

fn token_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("ferry_session="))
        .unwrap_or_else(|| panic!("no session cookie in {set_cookie:?}"))
        .to_string()
}

/// The CSRF token the pages carry for this session.
fn csrf(console: &Console, token: &str) -> String {
    let r = get(&format!("{}/runs", console.url), Some(token), true);
    let at = r
        .body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    r.body[at..].split('"').next().unwrap().to_string()
}

/// A multipart body with one file part and text fields.
fn multipart(files: &[(&str, &str, &[u8])], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "ferrytestboundary7d91";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .bytes(),
        );
    }
    for (field, name, data) in files {
        b.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").bytes());
        b.extend_from_slice(data);
        b.extend(b"\r\n");
    }
    b.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

fn post_multipart(url: &str, token: &str, content_type: &str, body: &[u8]) -> Reply {
    reply(
        agent()
            .post(url)
            .header("Cookie", format!("ferry_session={token}"))
            .header("Content-Type", content_type)
            .send(body),
    )
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/runs"),
    ("GET", "/runs/new"),
    ("POST", "/runs/new"),
    ("GET", "/runs/1"),
    ("GET", "/runs/1/progress"),
    ("GET", "/runs/1/download/findings.csv"),
    ("GET", "/runs/1/download/annotated-1.xlsx"),
    ("POST", "/runs/1/live"),
    ("POST", "/runs/1/resume"),
    ("POST", "/runs/1/cancel"),
    ("POST", "/runs/1/rollback"),
    ("GET", "/records"),
    ("GET", "/records?q=a"),
    ("GET", "/records/HSC-0001"),
    ("GET", "/certification"),
    ("POST", "/certification"),
    ("GET", "/upgrade"),
    ("POST", "/signout"),
];

#[test]
fn every_route_refuses_a_request_without_a_live_session() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    // A run exists, so that refusals are not just "not found".
    let r = ferry(
        s.path(),
        &[
            "import",
            example("club/club.xlsx").to_str().unwrap(),
            "--db",
            "console.db",
            "--test-only",
        ],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    for forged in [None, Some("not-a-session"), Some("")] {
        for (method, path) in ROUTES {
            let url = format!("{}{path}", console.url);
            let (page, api) = if *method == "GET" {
                (get(&url, forged, true), get(&url, forged, false))
            } else {
                let r = post_form(&url, forged, &[("csrf", "x")]);
                (r, post_form(&url, forged, &[]))
            };
            if *method == "GET" {
                assert_eq!(page.status, 303, "{method} {path} ({forged:?})");
                assert!(
                    page.location.starts_with("/signin?next="),
                    "{path}: {}",
                    page.location
                );
            } else {
                assert_eq!(page.status, 401, "{method} {path} ({forged:?})");
            }
            assert_eq!(api.status, 401, "{method} {path} without HTML ({forged:?})");
            assert!(!api.body.contains("HSC-"), "{path} leaked data");
        }
    }
    // Only the sign-in page and the stylesheet and script are public.
    for path in ["/signin", "/static/ferry.css", "/static/ferry.js"] {
        assert_eq!(
            get(&format!("{}{path}", console.url), None, true).status,
            200,
            "{path}"
        );
    }
}

#[test]
fn signing_in_issues_a_new_session_so_a_planted_one_is_worthless() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    // An attacker plants a session id in the victim's browser, who then signs in with it.
    let planted = "attacker-chosen-session-id";
    let r = reply(
        agent()
            .post(format!("{}/signin", console.url))
            .header("Cookie", format!("ferry_session={planted}"))
            .send_form([("email", ADMIN), ("password", PASSWORD)]),
    );
    assert_eq!(r.status, 303);
    let issued = token_of(&r.set_cookie);
    assert_ne!(issued, planted);
    assert!(issued.len() >= 43, "a 256-bit token");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(r.set_cookie.contains(flag), "{flag} in {}", r.set_cookie);
    }
    assert_eq!(
        get(&format!("{}/runs", console.url), Some(planted), false).status,
        401
    );
    assert_eq!(
        get(&format!("{}/runs", console.url), Some(&issued), false).status,
        200
    );
    // Every sign-in is a new session; signing out ends it.
    let second = sign_in(&console, ADMIN);
    assert_ne!(second, issued);
    let token = csrf(&console, &second);
    let out = post_form(
        &format!("{}/signout", console.url),
        Some(&second),
        &[("csrf", &token)],
    );
    assert_eq!(out.status, 303);
    assert_eq!(
        get(&format!("{}/runs", console.url), Some(&second), false).status,
        401
    );
    // The session is stored only as a hash.
    let t = target(s.path(), "console.db");
    let stored = t.rows("SELECT token_hash FROM staff_session", &[]).unwrap();
    assert!(stored
        .iter()
        .all(|r| r.text(0) != issued && r.text(0).len() == 64));
}

#[test]
fn sign_in_is_rate_limited() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    for _ in 0..5 {
        let r = post_form(
            &format!("{}/signin", console.url),
            None,
            &[("email", ADMIN), ("password", "wrong password, try again")],
        );
        assert_eq!(r.status, 401);
        assert!(r.set_cookie.is_empty());
    }
    // Locked out now, even with the right password.
    let r = post_form(
        &format!("{}/signin", console.url),
        None,
        &[("email", ADMIN), ("password", PASSWORD)],
    );
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.set_cookie.is_empty());
    assert!(r.body.contains("Too many failed attempts"));
}

#[test]
fn changes_need_the_csrf_token_this_site_and_an_admin() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let r = ferry(
        s.path(),
        &[
            "import",
            example("club/club.xlsx").to_str().unwrap(),
            "--db",
            "console.db",
        ],
    );
    assert!(r.code <= 1, "{}", r.stderr);
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let rollback = format!("{}/runs/1/rollback", console.url);
    // No token, a wrong token: refused, and the run is not rolled back.
    assert_eq!(post_form(&rollback, Some(&admin), &[]).status, 403);
    assert_eq!(
        post_form(&rollback, Some(&admin), &[("csrf", "forged")]).status,
        403
    );
    // Another site's form, even with the token: refused.
    let cross = reply(
        agent()
            .post(&rollback)
            .header("Cookie", format!("ferry_session={admin}"))
            .header("Origin", "http://evil.example")
            .send_form([("csrf", token.as_str())]),
    );
    assert_eq!(cross.status, 403);
    let status = || {
        target(s.path(), "console.db")
            .rows("SELECT status FROM run WHERE id = 1", &[])
            .unwrap()[0]
            .text(0)
    };
    assert_eq!(status(), "succeeded");
    // A multipart upload without the token is refused and stores nothing.
    let (ct, body) = multipart(
        &[(
            "files",
            "club.xml",
            &std::fs::read(example("club/club.xml")).unwrap(),
        )],
        &[("test_only", "on")],
    );
    let r = post_multipart(&format!("{}/runs/new", console.url), &admin, &ct, &body);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        target(s.path(), "console.db")
            .int("SELECT count(*) FROM run", &[])
            .unwrap(),
        1
    );

    // A viewer sees everything and changes nothing.
    let viewer = sign_in(&console, VIEWER);
    let vtoken = csrf(&console, &viewer);
    let runs = get(&format!("{}/runs", console.url), Some(&viewer), true);
    assert_eq!(runs.status, 200);
    assert!(
        !runs.body.contains("href=\"/runs/new\""),
        "no New run for a viewer"
    );
    assert_eq!(
        get(&format!("{}/runs/new", console.url), Some(&viewer), true).status,
        403
    );
    let (ct, body) = multipart(
        &[(
            "files",
            "club.xml",
            &std::fs::read(example("club/club.xml")).unwrap(),
        )],
        &[("csrf", &vtoken), ("test_only", "on")],
    );
    assert_eq!(
        post_multipart(&format!("{}/runs/new", console.url), &viewer, &ct, &body).status,
        403
    );
    assert_eq!(
        post_form(&rollback, Some(&viewer), &[("csrf", &vtoken)]).status,
        403
    );
    assert_eq!(status(), "succeeded");
    // The admin, with the token, from this site: done.
    let ok = post_form(&rollback, Some(&admin), &[("csrf", &token)]);
    assert_eq!(ok.status, 303, "{}", ok.body);
    for _ in 0..100 {
        if status() == "rolled-back" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(status(), "rolled-back");
}

#[test]
fn upload_names_cannot_leave_the_upload_folder() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let data = b"<Import><Role Name=\"Member\"/></Import>";
    for name in [
        "../evil.xml",
        "../../evil.xml",
        "..\\evil.xml",
        "/tmp/evil.xml",
        "sub/evil.xml",
        ".evil.xml",
        "C:evil.xml",
        "evil.xml\u{0}.txt",
        "evil.exe",
    ] {
        for field in ["files", "attachments"] {
            if field == "attachments" && name == "evil.exe" {
                continue; // attachments may have any extension
            }
            let (ct, body) = multipart(
                &[(field, name, data)],
                &[("csrf", &token), ("test_only", "on")],
            );
            let r = post_multipart(&format!("{}/runs/new", console.url), &admin, &ct, &body);
            assert_eq!(r.status, 400, "{field} {name:?}: {}", r.body);
            assert!(r.body.contains("not an acceptable file name"), "{}", r.body);
        }
    }
    // Nothing was written anywhere but inside the console's data folder, and no run started.
    for p in ["evil.xml", "../evil.xml"] {
        assert!(!s.path().join(p).exists(), "{p}");
    }
    assert!(!std::path::Path::new("/tmp/evil.xml").exists());
    let leftovers: Vec<_> = walk(&uploads(s.path()));
    assert!(
        leftovers.is_empty(),
        "rejected uploads are removed: {leftovers:?}"
    );
    assert_eq!(
        target(s.path(), "console.db")
            .int("SELECT count(*) FROM run", &[])
            .unwrap(),
        0
    );
}

#[test]
fn uploads_are_size_limited() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--max-upload-mib", "1"]);
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let big = vec![b'x'; 2 * 1024 * 1024];
    let (ct, body) = multipart(&[("files", "big.xml", &big)], &[("csrf", &token)]);
    let r = post_multipart(&format!("{}/runs/new", console.url), &admin, &ct, &body);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(walk(&uploads(s.path())).is_empty());
}

/// Where the console keeps uploads (beside a SQLite target; `./ferry-console` for PostgreSQL).
fn uploads(dir: &std::path::Path) -> std::path::PathBuf {
    if pg() {
        dir.join("ferry-console/uploads")
    } else {
        dir.join("console.db.console/uploads")
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn responses_carry_the_security_headers() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let admin = sign_in(&console, ADMIN);
    for path in ["/signin", "/runs", "/records", "/nowhere"] {
        let r = get(&format!("{}{path}", console.url), Some(&admin), true);
        let h = |k: &str| {
            r.headers
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert!(
            h("content-security-policy").contains("default-src 'none'"),
            "{path}"
        );
        assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(h("x-frame-options"), "DENY");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("cache-control"), "no-store", "{path}");
    }
    // The console listens on 127.0.0.1 unless told otherwise.
    assert!(console.url.starts_with("http://127.0.0.1:"));
}
