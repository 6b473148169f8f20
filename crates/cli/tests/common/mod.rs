//! Helpers for tests that run the real `ferry` binary in a temporary folder, against either
//! backend: with `FERRY_TEST_BACKEND=postgres` every target a test names (`--db x.db`, or the
//! default `ferry.db`) becomes its own PostgreSQL database on 127.0.0.1:5432, created by Ferry
//! and dropped when the test's [`Scratch`] folder goes away. The tests are written once.
#![allow(dead_code)]

pub mod exports;
pub mod web;
pub mod xlsx;
pub mod xlsx_edit;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// Whether this test process runs against PostgreSQL.
pub fn pg() -> bool {
    std::env::var("FERRY_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The server the PostgreSQL tests use.
pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Databases handed out, by the scratch folder they belong to.
static DATABASES: Mutex<Option<HashMap<PathBuf, HashSet<String>>>> = Mutex::new(None);

/// A temporary folder for one test; on PostgreSQL, also the databases its targets became.
pub struct Scratch {
    dir: tempfile::TempDir,
}

pub fn scratch() -> Scratch {
    Scratch {
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Scratch {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let names: Vec<String> = DATABASES
            .lock()
            .map(|mut m| {
                m.get_or_insert_with(HashMap::new)
                    .remove(self.dir.path())
                    .map(|s| s.into_iter().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        if names.is_empty() {
            return;
        }
        if let Ok(mut c) =
            postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls)
        {
            for n in names {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)"));
            }
        }
    }
}

/// What `--db <name>` means in folder `dir`: the path itself on SQLite; on PostgreSQL the URL
/// of a database unique to this folder and name.
pub fn db(dir: &Path, name: &str) -> String {
    if !pg() || name.starts_with("postgres") {
        return name.to_string();
    }
    let full = dir.join(name);
    // The folder may be a sub-folder of the test's scratch folder: file the database under the
    // scratch folder.
    let scratch = scratch_root(dir);
    let h = blake3_like(full.to_string_lossy().as_bytes());
    let dbname = format!("ferry_t_{h:016x}");
    if let Ok(mut m) = DATABASES.lock() {
        m.get_or_insert_with(HashMap::new)
            .entry(scratch)
            .or_default()
            .insert(dbname.clone());
    }
    format!("{PG_SERVER}/{dbname}")
}

/// A stable 64-bit hash (FNV-1a) of a path, for database names.
fn blake3_like(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for x in b {
        h ^= *x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// Opens the target a test named, on whichever backend runs.
pub fn target(dir: &Path, name: &str) -> ferry_store::Target {
    let db = db(dir, name);
    if pg() {
        ferry_store::Target::open_db(&db).unwrap()
    } else {
        ferry_store::Target::open(&dir.join(name)).unwrap()
    }
}

/// One number from the target a test named.
pub fn int(dir: &Path, name: &str, sql: &str) -> i64 {
    target(dir, name).int(sql, &[]).unwrap()
}

/// Rows of a query as texts (`NULL` for a null), from the target a test named.
pub fn rows(dir: &Path, name: &str, sql: &str) -> Vec<Vec<String>> {
    target(dir, name)
        .rows(sql, &[])
        .unwrap()
        .into_iter()
        .map(|r| {
            r.0.iter()
                .map(|c| match c {
                    ferry_store::Cell::Null => "NULL".to_string(),
                    ferry_store::Cell::Int(i) => i.to_string(),
                    ferry_store::Cell::Text(t) => t.clone(),
                    ferry_store::Cell::Blob(b) => format!("{b:?}"),
                })
                .collect()
        })
        .collect()
}

/// Everything the target a test named holds, as bytes to search: the file on SQLite; every
/// text and byte value of every table on PostgreSQL.
pub fn target_bytes(dir: &Path, name: &str) -> Vec<u8> {
    if !pg() {
        return std::fs::read(dir.join(name)).unwrap();
    }
    let t = target(dir, name);
    let cols = t
        .rows(
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea')",
            &[],
        )
        .unwrap();
    let mut out = vec![];
    for c in cols {
        let sql = format!("SELECT \"{}\" FROM \"{}\"", c.text(1), c.text(0));
        for r in t.rows(&sql, &[]).unwrap() {
            match &r.0[0] {
                ferry_store::Cell::Text(s) => out.extend_from_slice(s.as_bytes()),
                ferry_store::Cell::Blob(b) => out.extend_from_slice(b),
                _ => {}
            }
            out.push(b'\n');
        }
    }
    out
}

/// The arguments with every `--db` value mapped by [`db`].
fn mapped(dir: &Path, args: &[&str]) -> (Vec<String>, bool) {
    let mut out = Vec::with_capacity(args.len());
    let mut named = false;
    let mut next_is_db = false;
    for a in args {
        if next_is_db {
            out.push(db(dir, a));
            next_is_db = false;
        } else if *a == "--db" {
            out.push(a.to_string());
            next_is_db = true;
            named = true;
        } else if let Some(v) = a.strip_prefix("--db=") {
            out.push(format!("--db={}", db(dir, v)));
            named = true;
        } else {
            out.push(a.to_string());
        }
    }
    (out, named)
}

/// The test's scratch folder that `dir` is in (the first temporary-folder component).
fn scratch_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|a| a.parent() == Some(&std::env::temp_dir()))
        .unwrap_or(dir)
        .to_path_buf()
}

/// The data folder (`XDG_DATA_HOME`) `ferry` gets in a test: inside the test's scratch folder,
/// so the fingerprint keys live runs make never reach the real user's folder.
pub fn data_home(dir: &Path) -> PathBuf {
    scratch_root(dir).join(".data-home")
}

/// The fingerprint key files `ferry` made in a test's data folder.
pub fn key_files(dir: &Path) -> Vec<PathBuf> {
    let keys = data_home(dir).join("ferry/fingerprint-keys");
    let mut out: Vec<PathBuf> = std::fs::read_dir(keys)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// A `ferry` command in `dir` with the test's backend applied (for tests that spawn it
/// themselves).
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let (args, named) = mapped(dir, args);
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferry"));
    c.args(&args)
        .current_dir(dir)
        .env_remove("FERRY_DB")
        .env_remove("FERRY_FINGERPRINT_KEY_FILE")
        .env("XDG_DATA_HOME", data_home(dir));
    if pg() && !named {
        c.env("FERRY_DB", db(dir, "ferry.db"));
    }
    c
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn example(p: &str) -> PathBuf {
    repo().join("examples").join(p)
}

/// Copies a folder (of the examples) to `to`, as a user has it.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// The card and bank account numbers in `examples/mistakes`, which no output may show whole.
pub const MISTAKES_SECRETS: [&str; 4] = [
    "4111111111111111",
    "5555555555554444",
    "378282246310005",
    "000123456789",
];

pub fn fixture(p: &str) -> PathBuf {
    repo().join("tests/fixtures").join(p)
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn ferry(dir: &Path, args: &[&str]) -> Run {
    let out: Output = command(dir, args).output().expect("ferry runs");
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
    let (dir, name) = (
        db.parent().unwrap(),
        db.file_name().unwrap().to_str().unwrap(),
    );
    let t = target(dir, name);
    let sql = if pg() {
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'run%' AND tablename <> 'ferry_meta' ORDER BY tablename COLLATE \"C\""
    } else {
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'run%' AND name <> 'ferry_meta' ORDER BY name"
    };
    let names: Vec<String> = t
        .rows(sql, &[])
        .unwrap()
        .iter()
        .map(|r| r.text(0))
        .collect();
    names
        .into_iter()
        .map(|n| {
            let k = t
                .int(&format!("SELECT count(*) FROM \"{n}\""), &[])
                .unwrap();
            (n, k)
        })
        .collect()
}
