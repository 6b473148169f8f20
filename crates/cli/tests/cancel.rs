//! Cancelling a run (the console's Cancel button, `Progress::cancelled`): the run stops at its
//! last checkpoint as interrupted, and resuming it ends with the same target as a run that was
//! never stopped.

mod common;
use common::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Asks the run to stop once it has seen `after` records.
struct CancelAfter {
    after: u64,
    seen: AtomicU64,
    run: AtomicU64,
}

impl ferry_engine::Progress for CancelAfter {
    fn started(&self, run: i64) {
        self.run.store(run as u64, Ordering::Relaxed);
    }
    fn advance(&self, n: u64) {
        self.seen.fetch_add(n, Ordering::Relaxed);
    }
    fn cancelled(&self) -> bool {
        self.seen.load(Ordering::Relaxed) >= self.after
    }
}

#[test]
fn a_cancelled_run_is_interrupted_and_resumes_to_the_same_target() {
    let s = scratch();
    let dir = s.path();
    let input = example("club/club.xlsx");
    assert_eq!(ferry(dir, &["init", "--db", "a.db"]).code, 0);
    let t = target(dir, "a.db");
    // The run is in this process: its fingerprint key file is named (not the user's folder),
    // and the resume is given it again.
    let key = dir.join("a.key");
    let opts = ferry_engine::ImportOptions {
        inputs: vec![input.clone()],
        chunk_size: 50,
        no_backup: true,
        fingerprint_key: Some(key.clone()),
        ..Default::default()
    };
    // Reading counts too: the run sees about 600 records in all; stop in the middle.
    let p = CancelAfter {
        after: 900,
        seen: AtomicU64::new(0),
        run: AtomicU64::new(0),
    };
    let r = ferry_engine::import(&t, &opts, &p);
    let run = p.run.load(Ordering::Relaxed) as i64;
    assert!(run > 0, "the run told its number");
    match r {
        Err(ferry_engine::RunError::Interrupted { run: r, cause }) => {
            assert_eq!(r, run);
            assert!(cause.to_string().contains("cancelled"), "{cause}");
        }
        other => panic!("expected an interrupted run, got {other:?}"),
    }
    drop(t);
    let status = |name: &str| {
        rows(dir, name, "SELECT status FROM run ORDER BY id DESC LIMIT 1")[0][0].clone()
    };
    assert_eq!(status("a.db"), "interrupted");
    assert!(key.exists(), "the interrupted run made its key");
    let r = ferry(dir, &["resume", &run.to_string(), "--db", "a.db"]);
    assert_eq!(r.code, 2, "without the key the resume stops before writing");
    assert!(r.stderr.contains("a.key"), "{}", r.stderr);
    assert_eq!(status("a.db"), "interrupted", "and the run stays resumable");
    let r = ferry(
        dir,
        &[
            "resume",
            &run.to_string(),
            "--db",
            "a.db",
            "--fingerprint-key",
            "a.key",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(status("a.db"), "succeeded");

    let r = ferry(
        dir,
        &[
            "import",
            input.to_str().unwrap(),
            "--db",
            "b.db",
            "--no-backup",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let balances = |name: &str| ferry(dir, &["report", "balances", "--db", name]).stdout;
    assert_eq!(balances("a.db"), balances("b.db"));
    assert_eq!(row_counts(&dir.join("a.db")), row_counts(&dir.join("b.db")));
}
