//! A running `ferry serve` for tests: a fresh target (on the test's backend), an admin and a
//! viewer, the console on a free port of 127.0.0.1; stopped when dropped.
#![allow(dead_code)]

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

pub const ADMIN: &str = "admin@example.org";
pub const VIEWER: &str = "viewer@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Console {
    pub url: String,
    /// The `--db` value of the target (a path in the scratch folder, or a PostgreSQL URL).
    pub db: String,
    child: Child,
    /// Everything the console wrote to stderr so far, a line each.
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Console {
    /// Starts a console on a new target named `name` in `dir`, with one admin and one viewer.
    pub fn start(dir: &Path, name: &str) -> Console {
        Console::start_with(dir, name, &[])
    }

    /// As [`Console::start`], with more `ferry serve` flags.
    pub fn start_with(dir: &Path, name: &str, flags: &[&str]) -> Console {
        Console::prepare(dir, name);
        Console::serve(dir, name, flags, &[])
    }

    /// Creates the target `name` in `dir` with one admin and one viewer.
    pub fn prepare(dir: &Path, name: &str) {
        let r = ferry(dir, &["init", "--db", name]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        for (flag, email) in [("--create-admin", ADMIN), ("--create-viewer", VIEWER)] {
            let out = command(dir, &["serve", "--db", name, flag, email])
                .env("FERRY_ADMIN_PASSWORD", PASSWORD)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// Starts a console on the existing target `name` (again, after a restart) with `flags`
    /// and environment `env`.
    pub fn serve(dir: &Path, name: &str, flags: &[&str], env: &[(&str, &str)]) -> Console {
        Console::serve_at(dir, name, "127.0.0.1:0", flags, env)
    }

    /// As [`Console::serve`], listening on `bind` (e.g. `[::]:0`); the URL is then the one to
    /// reach it at from this machine (`127.0.0.1` for an unspecified address).
    pub fn serve_at(
        dir: &Path,
        name: &str,
        bind: &str,
        flags: &[&str],
        env: &[(&str, &str)],
    ) -> Console {
        let mut args = vec!["serve", "--db", name, "--bind", bind];
        args.extend(flags);
        let mut cmd = command(dir, &args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        // The lines up to the one that says where it listens (warnings may come first).
        let mut before = vec![];
        let url = loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap() == 0 {
                panic!("the console ended: {}", before.concat());
            }
            let url = line.split_whitespace().find(|w| w.starts_with("http://"));
            if let Some(url) = url.map(str::to_string) {
                before.push(line);
                break url
                    .replace("http://0.0.0.0:", "http://127.0.0.1:")
                    .replace("http://[::]:", "http://127.0.0.1:");
            }
            before.push(line);
        };
        // Keep reading stderr so the console never blocks on a full pipe.
        let stderr = Arc::new(Mutex::new(before));
        let lines = stderr.clone();
        std::thread::spawn(move || {
            let mut l = String::new();
            while err.read_line(&mut l).map(|n| n > 0).unwrap_or(false) {
                lines.lock().unwrap().push(std::mem::take(&mut l));
            }
        });
        Console {
            url,
            db: db(dir, name),
            child,
            stderr,
        }
    }

    /// What the console wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().concat()
    }

    /// Waits (up to `secs`) for the console process to end; returns whether it did.
    pub fn wait_exit(&mut self, secs: u64) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }
}

impl Console {
    /// The process id of the running `ferry serve` (to read its memory in /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that shows every answer as it is (no redirects followed, no status as error).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// A fresh sign-in form: the `Cookie` header value that carries its pre-session token, and the
/// token the form's hidden `csrf` field holds.
pub fn signin_form(console: &Console) -> (String, String) {
    let mut r = agent()
        .get(format!("{}/signin", console.url))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "the sign-in page");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ferry_signin="))
        .and_then(|c| c.split(';').next())
        .expect("a pre-session cookie")
        .to_string();
    let body = r.body_mut().read_to_string().unwrap();
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a token in the sign-in form")
        + 19;
    let token = body[at..].split('"').next().unwrap().to_string();
    (cookie, token)
}

/// Posts the sign-in form (fetched first, as a browser does) with `headers` added.
pub fn post_sign_in(
    console: &Console,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> ureq::http::Response<ureq::Body> {
    let (cookie, token) = signin_form(console);
    let mut req = agent()
        .post(format!("{}/signin", console.url))
        .header("Cookie", &cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send_form([("email", email), ("password", password), ("csrf", &token)])
        .unwrap()
}

/// Signs `email` in with [`PASSWORD`]; returns the `Set-Cookie` header of the session.
pub fn sign_in_cookie(console: &Console, email: &str) -> String {
    let r = post_sign_in(console, email, PASSWORD, &[]);
    assert_eq!(r.status().as_u16(), 303, "sign-in of {email}");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ferry_session="))
        .unwrap_or("")
        .to_string()
}

/// The CSRF token the pages carry for the session `token`.
pub fn page_csrf(console: &Console, token: &str) -> String {
    let mut r = agent()
        .get(format!("{}/runs", console.url))
        .header("Cookie", format!("ferry_session={token}"))
        .header("Accept", "text/html")
        .call()
        .unwrap();
    let body = r.body_mut().read_to_string().unwrap();
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("a form with a token")
        + 19;
    body[at..].split('"').next().unwrap().to_string()
}

/// A multipart body with file parts `(field, file name, bytes)` and text fields; returns its
/// `Content-Type` and the body.
pub fn multipart(files: &[(&str, &str, &[u8])], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
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

/// Where a console started by [`Console::start`] in `dir` on `console.db` keeps its data
/// (beside a SQLite target; `./ferry-console` for PostgreSQL).
pub fn data_dir(dir: &Path) -> PathBuf {
    if pg() {
        dir.join("ferry-console")
    } else {
        dir.join("console.db.console")
    }
}

/// What a raw request got back: the status (0: none), and what was read of the answer.
pub struct RawAnswer {
    pub status: u16,
    pub text: String,
}

/// Sends `head` (a request line and headers, ending in a blank line) and then `body` on a raw
/// connection, reading the answer *while* sending: a server that answers (413)
/// and closes before the body is all sent makes the rest fail to send, which is not an error
/// here, and its answer is still read. Written by hand because an HTTP client sends the whole
/// body before it reads, and so reports a broken pipe instead of the answer.
pub fn raw_send(console: &Console, head: &str, body: Vec<u8>) -> RawAnswer {
    use std::io::{Read, Write};
    let addr = console.url.trim_start_matches("http://");
    let stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = head.to_string();
    let sender = std::thread::spawn(move || {
        if writer.write_all(head.as_bytes()).is_err() {
            return;
        }
        for piece in body.chunks(16 * 1024) {
            if writer.write_all(piece).is_err() {
                return; // the server closed: it has answered
            }
        }
    });
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    let mut reader = stream;
    // Until the server closes (or resets) the connection; what arrived before stays.
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    let _ = reader.shutdown(std::net::Shutdown::Both);
    sender.join().unwrap();
    let text = String::from_utf8_lossy(&got).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawAnswer { status, text }
}

/// The value (`name=value`) of the cookie `name` set by a response, if any.
pub fn set_cookie(r: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// Signs `email` in; the `ferry_session=…` pair to send back as a `Cookie` header.
pub fn session(console: &Console, email: &str) -> String {
    sign_in_cookie(console, email)
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Signs `email` in; the session token alone (the value of `ferry_session`).
pub fn session_token(console: &Console, email: &str) -> String {
    token_of(&sign_in_cookie(console, email))
}

/// The session token a `Set-Cookie` header carries.
pub fn token_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("ferry_session="))
        .unwrap_or_else(|| panic!("no session cookie in {set_cookie:?}"))
        .to_string()
}

/// The CSRF token the pages carry for the session cookie `cookie` (`ferry_session=…`).
pub fn csrf(console: &Console, cookie: &str) -> String {
    page_csrf(console, cookie.trim_start_matches("ferry_session="))
}

/// A GET of `url` as a browser asks for a page (`Cookie: cookie`): its status and text (up to
/// 64 MiB).
pub fn get_page(url: &str, cookie: &str) -> (u16, String) {
    let mut r = agent()
        .get(url)
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    (
        r.status().as_u16(),
        r.body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .unwrap(),
    )
}

/// A GET of the console's `path` as a browser asks for a page: its status and bytes (a page,
/// or a download such as a workbook or a zip; up to 64 MiB).
pub fn get_bytes(console: &Console, cookie: &str, path: &str) -> (u16, Vec<u8>) {
    let mut r = agent()
        .get(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (r.status().as_u16(), body)
}

/// [`get_page`] of the console's `path`.
pub fn get(console: &Console, cookie: &str, path: &str) -> (u16, String) {
    get_page(&format!("{}{path}", console.url), cookie)
}

/// Where an answer sends to (its `Location`), or `""`.
pub fn location(r: &ureq::http::Response<ureq::Body>) -> String {
    r.headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The run a run page's path names (`/runs/N`).
pub fn run_of(location: &str) -> i64 {
    location
        .strip_prefix("/runs/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a run's page: {location}"))
}

/// Posts `files` (`(field, file name, bytes)`) to the new-run form as a test run; returns the
/// run's number.
pub fn upload_test_run(console: &Console, cookie: &str, files: &[(&str, &str, &[u8])]) -> i64 {
    let token = csrf(console, cookie);
    let (ct, body) = multipart(files, &[("csrf", &token), ("test_only", "on")]);
    let r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the upload is taken");
    run_of(&location(&r))
}

/// Posts run `run`'s `action` (`live`, `rollback`, `import-valid`, …), with `confirm=yes` when
/// `confirm`; returns the status and where it sends to.
pub fn act(
    console: &Console,
    cookie: &str,
    run: i64,
    action: &str,
    confirm: bool,
) -> (u16, String) {
    let token = csrf(console, cookie);
    let mut form = vec![("csrf", token.as_str())];
    if confirm {
        form.push(("confirm", "yes"));
    }
    let r = agent()
        .post(format!("{}/runs/{run}/{action}", console.url))
        .header("Cookie", cookie)
        .send_form(form)
        .unwrap();
    (r.status().as_u16(), location(&r))
}

/// The status of run `run` in the target `console.db` of a console started in `dir`.
pub fn run_status(dir: &Path, run: i64) -> String {
    rows(
        dir,
        "console.db",
        &format!("SELECT status FROM run WHERE id = {run}"),
    )[0][0]
        .clone()
}

/// Waits (up to two minutes) until run `run` of the target `console.db` has ended.
pub fn wait_run_ended(dir: &Path, run: i64) {
    for _ in 0..2400 {
        if run_status(dir, run) != "running" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("run {run} did not end");
}

/// Waits (up to a minute) until the console's job for `run` is over, as its progress says;
/// then `settle` more (for what the job does after the run, e.g. the uploads sweep).
pub fn wait_job_over(console: &Console, cookie: &str, run: i64, settle: std::time::Duration) {
    for _ in 0..1200 {
        let mut r = agent()
            .get(format!("{}/runs/{run}/progress", console.url))
            .header("Cookie", cookie)
            .call()
            .unwrap();
        if r.body_mut()
            .read_to_string()
            .unwrap()
            .contains("\"running\":false")
        {
            std::thread::sleep(settle);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the job of run {run} did not end");
}

/// An answer, as the security and logins tests look at it.
pub struct Reply {
    pub status: u16,
    pub location: String,
    pub cache: String,
    pub set_cookie: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub fn reply(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut r = r.expect("the console answers");
    let h = |k: &str| {
        r.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (location, cache, set_cookie) = (h("location"), h("cache-control"), h("set-cookie"));
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    Reply {
        status: r.status().as_u16(),
        location,
        cache,
        set_cookie,
        headers,
        body: r.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// A GET of `url` with the session `token` (if any), as a page (`Accept: text/html`) or not.
pub fn get_reply(url: &str, token: Option<&str>, accept_html: bool) -> Reply {
    let mut req = agent().get(url);
    if let Some(c) = token {
        req = req.header("Cookie", format!("ferry_session={c}"));
    }
    if accept_html {
        req = req.header("Accept", "text/html");
    }
    reply(req.call())
}

/// A form posted to `url` with the session `token` and the `Origin` header, each if any.
pub fn post_reply(
    url: &str,
    token: Option<&str>,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> Reply {
    let mut req = agent().post(url);
    if let Some(c) = token {
        req = req.header("Cookie", format!("ferry_session={c}"));
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    reply(req.send_form(form.iter().copied()))
}
