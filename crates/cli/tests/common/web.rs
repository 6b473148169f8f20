//! A running `ferry serve` for tests: a fresh target (on the test's backend), an admin and a
//! viewer, the console on a free port of 127.0.0.1; stopped when dropped.
#![allow(dead_code)]

use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

pub const ADMIN: &str = "admin@example.org";
pub const VIEWER: &str = "viewer@example.org";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Console {
    pub url: String,
    /// The `--db` value of the target (a path in the scratch folder, or a PostgreSQL URL).
    pub db: String,
    child: Child,
}

impl Console {
    /// Starts a console on a new target named `name` in `dir`, with one admin and one viewer.
    pub fn start(dir: &Path, name: &str) -> Console {
        Console::start_with(dir, name, &[])
    }

    /// As [`Console::start`], with more `ferry serve` flags.
    pub fn start_with(dir: &Path, name: &str, flags: &[&str]) -> Console {
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
        let mut args = vec!["serve", "--db", name, "--bind", "127.0.0.1:0"];
        args.extend(flags);
        let mut child = command(dir, &args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        // Keep reading stderr so the console never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while err.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Console {
            url,
            db: db(dir, name),
            child,
        }
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

/// Signs `email` in with [`PASSWORD`]; returns the `Set-Cookie` header of the answer.
pub fn sign_in_cookie(console: &Console, email: &str) -> String {
    let r = agent()
        .post(format!("{}/signin", console.url))
        .send_form([("email", email), ("password", PASSWORD)])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "sign-in of {email}");
    r.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}
