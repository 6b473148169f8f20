//! Helpers for tests that run the real `ferry` binary in a temporary folder.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn example(p: &str) -> PathBuf {
    repo().join("examples").join(p)
}

pub fn fixture(p: &str) -> PathBuf {
    repo().join("tests/fixtures").join(p)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn ferry(dir: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .current_dir(dir)
        .env_remove("FERRY_DB")
        .output()
        .expect("ferry runs");
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_ne!(r.code, 101, "ferry panicked: {}", r.stderr);
    assert!(
        !r.stderr.contains("panicked at"),
        "panic message: {}",
        r.stderr
    );
    r
}

/// Findings of a JSON Lines log.
pub fn findings(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A finding without its location, for comparing containers.
pub fn sans_location(f: &serde_json::Value) -> String {
    let g = |k: &str| f[k].as_str().unwrap_or("").to_string();
    let mut msg = g("message");
    // Messages may name another record's location; drop it.
    if let Some(i) = msg.find(" (at ") {
        if let Some(j) = msg[i..].find(')') {
            msg.replace_range(i..i + j + 1, "");
        }
    }
    format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        g("severity"),
        g("code"),
        g("entity"),
        g("key"),
        g("field"),
        g("value"),
        msg,
        g("hint")
    )
}

/// All files under a folder, relative path → bytes.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Row counts of every entity table (the journal tables aside).
pub fn row_counts(db: &Path) -> Vec<(String, i64)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'run%' AND name <> 'ferry_meta' ORDER BY name").unwrap();
    let names: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    names
        .into_iter()
        .map(|n| {
            let k: i64 = c
                .query_row(&format!("SELECT count(*) FROM \"{n}\""), [], |r| r.get(0))
                .unwrap();
            (n, k)
        })
        .collect()
}
