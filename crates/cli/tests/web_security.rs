//! The console's defences, over plain HTTP against a real `ferry serve`: every route refuses a
//! request without a live session; sign-in issues a new session every time (no fixation) and
//! is rate-limited; state-changing requests need the session's CSRF token and this site's
//! origin; viewers cannot change anything; upload names cannot escape the upload folder; uploads
//! are size-limited; the security headers are on every response.

mod common;
use common::web::{
    agent, data_dir, get_reply as get, multipart, page_csrf as csrf, post_reply, post_sign_in,
    raw_send, reply, session_token as sign_in, signin_form, token_of, Console, Reply, ADMIN,
    PASSWORD, VIEWER,
};
use common::*;

fn post_form(url: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
    post_reply(url, cookie, None, form)
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
    ("GET", "/runs/1/confirm/live"),
    ("GET", "/runs/1/rejected/1"),
    ("POST", "/runs/1/live"),
    ("POST", "/runs/1/import-valid"),
    ("POST", "/runs/1/retry"),
    ("POST", "/runs/1/resume"),
    ("POST", "/runs/1/cancel"),
    ("POST", "/runs/1/rollback"),
    ("GET", "/records"),
    ("GET", "/records?q=a"),
    ("GET", "/records/HSC-0001"),
    ("GET", "/queries"),
    ("GET", "/queries/Open%20invoices"),
    ("GET", "/queries/Open%20invoices/csv"),
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
    let (form_cookie, form_token) = signin_form(&console);
    let r = reply(
        agent()
            .post(format!("{}/signin", console.url))
            .header("Cookie", format!("ferry_session={planted}; {form_cookie}"))
            .send_form([
                ("email", ADMIN),
                ("password", PASSWORD),
                ("csrf", &form_token),
            ]),
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

/// Signs in with the sign-in form (fetched first), as `reply`.
fn try_sign_in(console: &Console, email: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
    reply(Ok(post_sign_in(console, email, password, headers)))
}

#[test]
fn sign_in_is_rate_limited() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    for _ in 0..5 {
        let r = try_sign_in(&console, ADMIN, "wrong password, try again", &[]);
        assert_eq!(r.status, 401);
        assert!(!r.set_cookie.contains("ferry_session="));
    }
    // Locked out now, even with the right password.
    let r = try_sign_in(&console, ADMIN, PASSWORD, &[]);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(!r.set_cookie.contains("ferry_session="));
    assert!(r.body.contains("Too many failed attempts"));
    let retry = r.headers.iter().find(|(k, _)| k == "retry-after");
    assert!(
        retry.is_some_and(|(_, v)| v.parse::<u64>().unwrap() > 800),
        "{retry:?}"
    );
}

/// 199 wrong sign-ins at once: the throttle is charged before each Argon2 check, so at most
/// five passwords are checked; the right one, sent once all of them have answered, is refused
/// like the rest.
#[test]
fn parallel_sign_ins_check_at_most_five_passwords() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let (cookie, token) = signin_form(&console);
    let url = format!("{}/signin", console.url);
    let send = |password: &str| {
        reply(agent().post(&url).header("Cookie", &cookie).send_form([
            ("email", ADMIN),
            ("password", password),
            ("csrf", &token),
        ]))
    };
    let start = std::sync::Barrier::new(199);
    let answers: Vec<(usize, u16, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..199)
            .map(|i| {
                let (send, start) = (&send, &start);
                scope.spawn(move || {
                    start.wait();
                    let r = send(&format!("wrong guess number {i}"));
                    (i, r.status, r.set_cookie)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = answers.iter().filter(|(_, st, _)| *st != 429).count();
    let statuses: std::collections::BTreeSet<u16> = answers.iter().map(|a| a.1).collect();
    assert!(
        checked <= 5,
        "{checked} passwords were checked; statuses {statuses:?}"
    );
    assert_eq!(
        statuses,
        [401, 429].into_iter().collect(),
        "only wrong or refused"
    );
    // Every guess has answered: now the right password.
    let right = send(PASSWORD);
    assert_eq!(right.status, 429, "the right password after them");
    assert!(!right.set_cookie.contains("ferry_session="));
    assert_eq!(
        int(s.path(), "console.db", "SELECT count(*) FROM staff_session"),
        0
    );
}

/// Guesses lock out the guessing address only: the staff member signs in from another one. The
/// client address is the connection's; `X-Forwarded-For` counts only from a `--trusted-proxy`.
#[test]
fn guesses_from_one_client_do_not_lock_out_another() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--trusted-proxy", "127.0.0.1"]);
    let from = |ip: &'static str| [("X-Forwarded-For", ip)];
    let guesser = from("203.0.113.5");
    for i in 0..5 {
        let r = try_sign_in(&console, ADMIN, &format!("guess {i}"), &guesser);
        assert_eq!(r.status, 401);
    }
    assert_eq!(try_sign_in(&console, ADMIN, PASSWORD, &guesser).status, 429);
    let r = try_sign_in(&console, ADMIN, PASSWORD, &from("198.51.100.7"));
    assert_eq!(r.status, 303, "the staff member's own address: {}", r.body);
    // One address trying many e-mails is stopped after 20 failures in all.
    let sprayer = from("203.0.113.77");
    for i in 0..20 {
        let r = try_sign_in(&console, &format!("user{i}@example.org"), "guess", &sprayer);
        assert_eq!(r.status, 401, "attempt {i}");
    }
    assert_eq!(
        try_sign_in(&console, VIEWER, PASSWORD, &sprayer).status,
        429
    );
    assert_eq!(
        try_sign_in(&console, VIEWER, PASSWORD, &from("198.51.100.8")).status,
        303
    );

    // Without --trusted-proxy, X-Forwarded-For is whatever the client wrote: ignored.
    let s2 = scratch();
    let plain = Console::start(s2.path(), "console.db");
    for i in 0..5 {
        let xff = format!("203.0.113.{i}");
        let r = try_sign_in(&plain, ADMIN, "guess", &[("X-Forwarded-For", &xff)]);
        assert_eq!(r.status, 401);
    }
    let r = try_sign_in(
        &plain,
        ADMIN,
        PASSWORD,
        &[("X-Forwarded-For", "198.51.100.9")],
    );
    assert_eq!(
        r.status, 429,
        "a forged X-Forwarded-For does not escape the limit"
    );
}

/// Login CSRF: another site's page cannot sign a browser in (to an account of its choosing).
/// The sign-in form carries a pre-session token that must match its cookie, and a post from
/// another origin is refused; neither creates a session.
#[test]
fn the_sign_in_form_refuses_cross_site_posts() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let url = format!("{}/signin", console.url);
    let (cookie, token) = signin_form(&console);
    assert!(cookie.starts_with("ferry_signin=") && token.len() == 43);
    let post = |cookie: Option<&str>, fields: &[(&str, &str)], headers: &[(&str, &str)]| {
        let mut req = agent().post(&url);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        reply(req.send_form(fields.iter().copied()))
    };
    let creds = [("email", ADMIN), ("password", PASSWORD)];
    let with = |extra: (&'static str, &str)| -> Vec<(&str, String)> {
        creds
            .iter()
            .map(|(k, v)| (*k, v.to_string()))
            .chain([(extra.0, extra.1.to_string())])
            .collect()
    };
    let form = with(("csrf", &token));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let other = cookie.replace("ferry_signin=", "ferry_signin=x");
    let refused = [
        // Another site's form, even with a valid token pair.
        post(Some(&cookie), &form, &[("Origin", "http://evil.example")]),
        post(Some(&cookie), &form, &[("Origin", "null")]),
        post(
            Some(&cookie),
            &form,
            &[("Referer", "http://evil.example/login.html")],
        ),
        // No token, no cookie, or a token that is not the cookie's.
        post(Some(&cookie), &creds, &[]),
        post(None, &form, &[]),
        post(Some(&other), &form, &[]),
    ];
    for (i, r) in refused.iter().enumerate() {
        assert_eq!(r.status, 403, "case {i}: {}", r.body);
        assert!(!r.set_cookie.contains("ferry_session="), "case {i}");
    }
    assert_eq!(
        int(s.path(), "console.db", "SELECT count(*) FROM staff_session"),
        0
    );
    // From this console's own page (a browser sends its Origin): signed in.
    let own = console.url.clone();
    let r = post(Some(&cookie), &form, &[("Origin", &own)]);
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.set_cookie.contains("ferry_session="));
}

/// A raw HTTP/1.1 request to the console (to send any `Host`); returns the status and body.
fn raw(console: &Console, request: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = console.url.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// DNS rebinding: a page of another site whose name now points at 127.0.0.1 sends its own name
/// as `Host`. The console answers only the names it is configured for (421 otherwise, before
/// any route), and the same-site check of posts compares `Origin` with that list, not with the
/// request's own `Host`.
#[test]
fn only_allowed_host_names_are_answered() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--allowed-host", "ferry.test"]);
    let port = console.url.rsplit(':').next().unwrap().to_string();
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let (form_cookie, form_token) = signin_form(&console);
    let get = |host: &str, path: &str| {
        raw(
            &console,
            &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: ferry_session={admin}\r\nConnection: close\r\n\r\n"),
        )
    };
    let evil = format!("evil.example:{port}");
    for path in [
        "/signin",
        "/static/ferry.css",
        "/runs",
        "/runs/new",
        "/nowhere",
    ] {
        let (status, body) = get(&evil, path);
        assert_eq!(status, 421, "{path}");
        assert!(!body.contains("csrf"), "{path} showed a form");
        assert_eq!(
            get(&format!("localhost:{port}"), path).0 / 100 * 100,
            if path == "/nowhere" { 400 } else { 200 },
            "{path} via localhost"
        );
    }
    assert_eq!(get(&format!("ferry.test:{port}"), "/runs").0, 200);
    assert_eq!(
        get(
            &format!("127.0.0.1:{}", port.parse::<u16>().unwrap() + 1),
            "/runs"
        )
        .0,
        421
    );
    assert_eq!(get("", "/runs").0 / 100, 4);
    // A sign-in sent to another name creates no session, whatever its Origin says.
    let body = format!(
        "email={}&password={}&csrf={form_token}",
        view_enc(ADMIN),
        view_enc(PASSWORD)
    );
    let (status, answer) = raw(
        &console,
        &format!("POST /signin HTTP/1.1\r\nHost: {evil}\r\nOrigin: http://{evil}\r\nCookie: {form_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()),
    );
    assert_eq!(status, 421, "{answer}");
    assert!(!answer.contains("ferry_session="));
    // The rebinding case that the old check let through: Origin and Host both the other name.
    let logout = format!("csrf={token}");
    let (status, _) = raw(
        &console,
        &format!("POST /signout HTTP/1.1\r\nHost: {evil}\r\nOrigin: http://{evil}\r\nCookie: ferry_session={admin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{logout}", logout.len()),
    );
    assert_eq!(status, 421);
    // An allowed Host with another site's Origin: refused by the same-site check.
    let post_from = |origin: &str| {
        raw(
            &console,
            &format!("POST /signout HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nCookie: ferry_session={admin}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{logout}", logout.len()),
        )
        .0
    };
    assert_eq!(post_from(&format!("http://evil.example:{port}")), 403);
    assert_eq!(
        get(&format!("127.0.0.1:{port}"), "/runs").0,
        200,
        "still signed in"
    );
    // Exact origins: an allowed name given without a port (`--allowed-host ferry.test`) is
    // this console only on the scheme's default port (another service on that host is
    // another origin), and the console's own addresses only over plain http.
    assert_eq!(post_from(&format!("http://ferry.test:{port}")), 403);
    assert_eq!(post_from("http://ferry.test:8443"), 403);
    assert_eq!(post_from(&format!("https://127.0.0.1:{port}")), 403);
    // An allowed name as Origin (the console opened at http://ferry.test behind a proxy on
    // port 80): accepted.
    assert_eq!(post_from("http://ferry.test"), 303);
    assert_eq!(
        get(&format!("127.0.0.1:{port}"), "/runs").0,
        401,
        "signed out"
    );
}

/// Percent-encodes a form value.
fn view_enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Open redirect: `next` must be a path of this console. A tab or line break (which browsers
/// drop, making `/\t/evil` read `//evil`, another site), `//`, a backslash or a scheme sends
/// the new session to `/`, never elsewhere and never to an error after the session exists.
#[test]
fn next_after_sign_in_stays_on_this_console() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let (cookie, token) = signin_form(&console);
    let sign_in_to = |next: &str| {
        reply(
            agent()
                .post(format!("{}/signin", console.url))
                .header("Cookie", &cookie)
                .send_form([
                    ("email", ADMIN),
                    ("password", PASSWORD),
                    ("csrf", &token),
                    ("next", next),
                ]),
        )
    };
    for bad in [
        "/\t/evil.example",
        "/%09/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/\r\nSet-Cookie: planted=1",
        "/%0d%0aSet-Cookie:%20planted=1",
        "/\u{b}/evil.example",
        "/\n/evil.example",
        "https://evil.example",
        "/%2F%2Fevil.example",
    ] {
        let r = sign_in_to(bad);
        assert_eq!(r.status, 303, "{bad:?}: {}", r.body);
        assert_eq!(r.location, "/", "{bad:?}");
        assert!(!r.headers.iter().any(|(k, _)| k == "planted"));
    }
    // Deep links of this console, percent-encoded as browsers send them, are kept.
    for ok in [
        "/runs/3?page=2",
        "/records/John%20Smith",
        "/records/Zo%C3%AB",
        "/records?q=O%27Brien%2FSmith",
    ] {
        let r = sign_in_to(ok);
        assert_eq!((r.status, r.location.as_str()), (303, ok));
    }
    // The form itself never carries a hostile next.
    let page = get(
        &format!("{}/signin?next=/%09/evil.example", console.url),
        None,
        true,
    );
    assert!(
        page.body.contains("name=\"next\" value=\"/\""),
        "{}",
        page.body
    );
    let page = get(
        &format!("{}/signin?next=%2Fruns%2F3%3Fpage%3D2", console.url),
        None,
        true,
    );
    assert!(
        page.body.contains("value=\"/runs/3?page=2\""),
        "{}",
        page.body
    );
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
    // Without the confirmation step's `confirm=yes`: sent to that page, nothing done.
    let unconfirmed = post_form(&rollback, Some(&admin), &[("csrf", &token)]);
    assert_eq!(unconfirmed.status, 303, "{}", unconfirmed.body);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(status(), "succeeded");
    let ok = post_form(
        &rollback,
        Some(&admin),
        &[("csrf", &token), ("confirm", "yes")],
    );
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
            assert!(
                r.body.contains("not an acceptable file name")
                    || r.body.contains("is not a file Ferry reads"),
                "{}",
                r.body
            );
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

/// An upload larger than `--max-upload-mib` is refused (413) and leaves no file: at once when
/// its `Content-Length` says so, and when it comes without one (chunked), as soon as the limit
/// is passed. The answer is read while the body is still being sent (the console answers and
/// closes without reading the rest), so the test does not depend on how much the socket took.
#[test]
fn uploads_are_size_limited() {
    let s = scratch();
    let console = Console::start_with(s.path(), "console.db", &["--max-upload-mib", "1"]);
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let big = vec![b'x'; 2 * 1024 * 1024];
    let (ct, body) = multipart(&[("files", "big.xml", &big)], &[("csrf", &token)]);
    let host = console.url.trim_start_matches("http://");
    let head = |framing: String| {
        format!("POST /runs/new HTTP/1.1\r\nHost: {host}\r\nCookie: ferry_session={admin}\r\nContent-Type: {ct}\r\n{framing}\r\nConnection: close\r\n\r\n")
    };
    let declared = raw_send(
        &console,
        &head(format!("Content-Length: {}", body.len())),
        body.clone(),
    );
    assert_eq!(declared.status, 413, "{}", declared.text);
    assert!(
        declared.text.contains("larger than this console accepts"),
        "{}",
        declared.text
    );
    let mut chunked = Vec::new();
    for piece in body.chunks(64 * 1024) {
        chunked.extend(format!("{:x}\r\n", piece.len()).bytes());
        chunked.extend_from_slice(piece);
        chunked.extend(b"\r\n");
    }
    chunked.extend(b"0\r\n\r\n");
    let streamed = raw_send(
        &console,
        &head("Transfer-Encoding: chunked".into()),
        chunked,
    );
    assert_eq!(streamed.status, 413, "{}", streamed.text);
    assert!(walk(&uploads(s.path())).is_empty());
    assert_eq!(int(s.path(), "console.db", "SELECT count(*) FROM run"), 0);
    // Within the limit, the same upload goes through.
    let small = vec![b'x'; 1024];
    let (ct, body) = multipart(
        &[("files", "small.xml", &small)],
        &[("csrf", &token), ("test_only", "on")],
    );
    let r = post_multipart(&format!("{}/runs/new", console.url), &admin, &ct, &body);
    assert_eq!(r.status, 303, "{}", r.body);
}

/// An upload never overwrites a file: a name given twice in one form (a workbook, or an
/// attachment) is refused, and nothing is kept.
#[test]
fn an_upload_never_overwrites_a_file() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let admin = sign_in(&console, ADMIN);
    let token = csrf(&console, &admin);
    let xml = std::fs::read(example("club/club.xml")).unwrap();
    for field in ["files", "attachments"] {
        let files: Vec<(&str, &str, &[u8])> = vec![
            ("files", "club.xml", &xml[..]),
            (field, "map.xml", b"first"),
            (field, "map.xml", b"second"),
        ];
        let (ct, body) = multipart(&files, &[("csrf", &token), ("test_only", "on")]);
        let r = post_multipart(&format!("{}/runs/new", console.url), &admin, &ct, &body);
        assert_eq!(r.status, 400, "{field}: {}", r.body);
        assert!(r.body.contains("uploaded twice"), "{}", r.body);
    }
    assert!(walk(&uploads(s.path())).is_empty());
    assert_eq!(int(s.path(), "console.db", "SELECT count(*) FROM run"), 0);
}

/// Where the console keeps uploads.
fn uploads(dir: &std::path::Path) -> std::path::PathBuf {
    data_dir(dir).join("uploads")
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
