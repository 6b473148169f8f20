//! What a run leaves where other users could look (issue 13 points 15 and 16): the spool of a
//! killed run is private (0700, files 0600) and the next run removes it, never a live run's;
//! `--detach` shows no database password in its messages, its log, or the detached process's
//! arguments (which `ps` shows every user).

mod common;
use common::*;
use std::fmt::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// About 1,200 records: accounts with contacts, e-mails and phones.
fn data(dir: &Path) {
    let mut x = String::from("<Import>\n");
    for i in 0..300 {
        writeln!(
            x,
            "  <User Name=\"U{i:04}\" Owner=\"admin\" Role=\"Customer\"/>"
        )
        .unwrap();
        writeln!(x, "  <Contact User=\"U{i:04}\" ContactFirstName=\"First{i}\" ContactLastName=\"Last{i}\" ContactType=\"Billing Contact\"/>").unwrap();
        writeln!(x, "  <ContactEmail User=\"U{i:04}\" ContactName=\"First{i} Last{i}\" Email=\"u{i}@example.org\"/>").unwrap();
        writeln!(x, "  <ContactPhone User=\"U{i:04}\" ContactName=\"First{i} Last{i}\" Phone=\"+1 415 555 {:04}\"/>", i % 10000).unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("big.xml"), x).unwrap();
}

/// The spool folders under `folder`.
fn spools(folder: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn ferry_in(dir: &Path, args: &[&str], tmp: &Path) -> (i32, String) {
    let out = command(dir, args).env("TMPDIR", tmp).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn a_killed_runs_spool_is_private_and_the_next_run_removes_it_but_never_a_live_ones() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    // Every temporary file of the test's runs goes here.
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // A SQLite target's spool is next to it; a server target's is in the temporary folder.
    let (folder, prefix) = if pg() {
        (tmp.clone(), "ferry-spool-")
    } else {
        (d.to_path_buf(), ".ferry-spool-")
    };
    let import = |db: &'static str| {
        vec![
            "import",
            "big.xml",
            "--db",
            db,
            "--chunk-size",
            "100",
            "--no-backup",
        ]
    };
    let killed = command(d, &import("a.db"))
        .env("TMPDIR", &tmp)
        .env("FERRY_FAIL_AT", "after-commit:2")
        .output()
        .unwrap();
    assert!(matches!(killed.status.code(), None | Some(137)));
    let left = spools(&folder, prefix);
    assert_eq!(left.len(), 1, "{left:?}");
    let spool = &left[0];
    // Private: the folder 0700, every file in it 0600.
    assert_eq!(mode(spool), 0o700, "{}", spool.display());
    let files: Vec<PathBuf> = std::fs::read_dir(spool)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(files.len() > 1, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // Nothing else was left in the temporary folder (the findings file has no name).
    let rest: Vec<PathBuf> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| !left.contains(p))
        .collect();
    assert!(rest.is_empty(), "{rest:?}");

    // A live run of another target in the same folder, its spool written, holding on.
    let mut live = command(d, &import("b.db"))
        .env("TMPDIR", &tmp)
        .env("FERRY_TEST_HOLD_SPOOL_MS", "4000")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let live_spool = loop {
        let now = spools(&folder, prefix);
        if let Some(p) = now
            .iter()
            .find(|p| !left.contains(p) && p.join("owner").exists())
        {
            break p.clone();
        }
        assert!(Instant::now() < deadline, "the live run made no spool");
        assert!(
            live.try_wait().unwrap().is_none(),
            "the live run ended early"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Resuming the killed run removes its spool, and only that.
    let (code, err) = ferry_in(d, &["resume", "1", "--db", "a.db"], &tmp);
    assert_eq!(code, 0, "{err}");
    assert!(!spool.exists(), "the killed run's spool is still there");
    assert!(live_spool.exists(), "the live run's spool was removed");
    assert!(
        live.try_wait().unwrap().is_none(),
        "the live run ended early"
    );
    let out = live.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(spools(&folder, prefix).is_empty());
}

/// Whether the test server answers (the SQLite suite may run where there is none).
fn server_answers() -> bool {
    postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls).is_ok()
}

/// A database of the test server, dropped at the end of the test.
struct ServerDb(String);
impl Drop for ServerDb {
    fn drop(&mut self) {
        if let Ok(mut c) =
            postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls)
        {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.0
            ));
        }
    }
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

#[test]
fn detach_shows_no_database_password() {
    // A PostgreSQL URL with a password, on either backend's run of the suite (the test server
    // trusts local connections, so any password works).
    if !pg() && !server_answers() && std::env::var("FERRY_REQUIRE_PG").is_err() {
        return;
    }
    let dir = scratch();
    let d = dir.path();
    data(d);
    let name = format!("ferry_t_detach_{}", std::process::id());
    let _drop = ServerDb(name.clone());
    // Written as users do, without percent-encoding: a `/` and a `?` in it.
    let secret = "Pw4/Detach?9x";
    let url = format!("postgres://postgres:{secret}@127.0.0.1:5432/{name}");
    let out = command(d, &["import", "big.xml", "--db", &url, "--detach"])
        .env("FERRY_TEST_HOLD_MS", "2000")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains(secret) && !err.contains("Detach?9x"), "{err}");
    assert!(err.contains("postgres://postgres:***@127.0.0.1"), "{err}");
    let pid = err
        .split("(process ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap()
        .to_string();
    // The detached process's arguments, as any user sees them (empty for a moment while the
    // process is still being set up by exec).
    let deadline = Instant::now() + Duration::from_secs(10);
    let args = loop {
        let args = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if !args.is_empty() || Instant::now() > deadline {
            break String::from_utf8_lossy(&args).replace('\0', " ");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(args.contains("big.xml"), "{args}");
    assert!(!args.contains(secret) && !args.contains("--db"), "{args}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !gone(&pid) {
        assert!(Instant::now() < deadline, "the detached run did not end");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Its log: only its owner may read it, and it holds no password.
    let logs: Vec<PathBuf> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("ferry-run-")
        })
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(!logs[0].to_string_lossy().contains(secret));
    assert_eq!(mode(&logs[0]), 0o600);
    let log = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(log.contains("Run 1 (live): succeeded"), "{log}");
    assert!(!log.contains(secret), "{log}");
    // The run went to the database the URL names.
    let r = ferry(d, &["runs", "--db", &url]);
    assert!(r.stdout.contains("succeeded"), "{}", r.stdout);
}

#[test]
fn a_sqlite_target_and_its_backups_are_readable_by_their_owner_only() {
    if pg() {
        return; // SQLite files only.
    }
    let dir = scratch();
    let d = dir.path();
    data(d);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let r = command(d, &["import", "big.xml"]).output().unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(mode(&d.join("ferry.db")), 0o600);
    let r = command(d, &["import", "big.xml", "--on-existing", "skip"])
        .output()
        .unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let r = command(d, &["rollback", "2"]).output().unwrap();
    assert_eq!(
        r.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    let mut baks = 0;
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("ferry.db") {
            assert_eq!(mode(&e.path()), 0o600, "{name}");
            baks += usize::from(name.ends_with(".bak"));
        }
    }
    assert!(baks >= 2, "a backup before run 2 and before its rollback");
}
