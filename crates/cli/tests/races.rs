//! Races for the target (SPEC §6.4, issue 13 points 14 and 18): many processes resuming one
//! killed run, many processes creating one fresh target, a PostgreSQL database whose creation
//! a killed client left running on the server, and imports killed in their first moments. In
//! every case exactly one process writes, the others stop with a clear message and leave
//! nothing in the journal, and the target ends as an uninterrupted run leaves it.

mod common;
use common::*;
use std::fmt::Write;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// About 1,800 records: accounts (a few rejected), contacts, e-mails, child accounts and a
/// ledger with closes and payments.
fn data(dir: &Path) {
    let mut x = String::from("<Import>\n  <TaxCode Name=\"Std\"/>\n  <TaxRate TaxCode=\"Std\" Rank=\"1\" Name=\"GST\" Percent=\"5\"/>\n");
    for i in 0..200 {
        let owner = if i % 47 == 13 { "nobody" } else { "admin" };
        writeln!(
            x,
            "  <User Name=\"U{i:04}\" Owner=\"{owner}\" Role=\"Customer\" TaxCode=\"Std\"/>"
        )
        .unwrap();
        writeln!(x, "  <Contact User=\"U{i:04}\" ContactFirstName=\"First{i}\" ContactLastName=\"Last{i}\" ContactType=\"Billing Contact\"/>").unwrap();
        writeln!(x, "  <ContactEmail User=\"U{i:04}\" ContactName=\"First{i} Last{i}\" Email=\"u{i}@example.org\"/>").unwrap();
        if i > 0 && i % 10 == 0 {
            let parent = i - 1;
            writeln!(
                x,
                "  <ChildAccount Name=\"U{i:04}\" Parent=\"U{parent:04}\"/>"
            )
            .unwrap();
        }
        for k in 0..3 {
            let (month, cents) = (k + 1, (i * 13 + k) % 100);
            writeln!(x, "  <Debit User=\"U{i:04}\" Date=\"2025-0{month}-01\" Debit=\"{}.{cents:02}\" Tax1=\"1.50\"/>", 10 + k * 7).unwrap();
        }
        writeln!(x, "  <CloseInvoice User=\"U{i:04}\"/>").unwrap();
        writeln!(
            x,
            "  <Payment User=\"U{i:04}\" Date=\"2025-06-01\" Credit=\"{}.25\"/>",
            20 + i % 40
        )
        .unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("big.xml"), x).unwrap();
}

/// The records and balances a target holds.
fn export(dir: &Path, db: &str) -> String {
    let out = format!("{db}.export.xml");
    let r = ferry(dir, &["export", "--db", db, "--format", "xml", &out]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let balances = ferry(dir, &["report", "balances", "--db", db]).stdout;
    let xml = std::fs::read_to_string(dir.join(out)).unwrap();
    format!("{xml}\n{balances}")
}

/// An uninterrupted run's target, to compare with.
fn reference(dir: &Path) -> String {
    let r = ferry(
        dir,
        &["import", "big.xml", "--db", "clean.db", "--no-backup"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    export(dir, "clean.db")
}

fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Child {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A finished process: (exit code, all it said: stdout — the summary — then stderr).
fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code().unwrap_or(-1), err)
}

/// What a loser must never say: raw driver errors, or a holder it could not name.
fn assert_clear(err: &str) {
    for raw in [
        "UNIQUE constraint",
        "duplicate key",
        "already exists",
        "run 0",
        "process 0",
        "not a Ferry target",
    ] {
        assert!(!err.contains(raw), "unclear message ({raw}): {err}");
    }
}

/// The runs of a target: (id, status), the status as `ferry runs` shows it.
fn runs(dir: &Path, db: &str) -> Vec<(i64, String)> {
    let r = ferry(dir, &["runs", "--db", db]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let id = w.next()?.parse().ok()?;
            Some((id, w.nth(2)?.to_string()))
        })
        .collect()
}

#[test]
fn of_many_resumes_of_one_killed_run_exactly_one_writes() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    let want = reference(d);
    for round in 0..3 {
        let db = format!("r{round}.db");
        let base = ["import", "big.xml", "--db", &db, "--no-backup"];
        let point = format!("after-commit:{}", 2 + round * 5);
        let mut kill = base.to_vec();
        kill.extend(["--chunk-size", "97"]);
        let (code, err) = finish(spawn(d, &kill, &[("FERRY_FAIL_AT", &point)]));
        assert!(code == -1 || code == 137, "{point}: not killed: {err}");
        // Six processes set out to resume run 1 at once: four by number, two by --resume.
        let by_number = ["resume", "1", "--db", &db];
        let mut again = base.to_vec();
        again.extend(["--chunk-size", "97", "--resume"]);
        let racers: Vec<Child> = (0..6)
            .map(|i| spawn(d, if i < 4 { &by_number } else { &again }, &[]))
            .collect();
        let done: Vec<(i32, String)> = racers.into_iter().map(finish).collect();
        let winners: Vec<&(i32, String)> = done
            .iter()
            .filter(|(_, e)| e.contains("Run 1 (live)"))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {done:#?}");
        assert_eq!(winners[0].0, 1, "round {round}: {}", winners[0].1);
        for (code, err) in done.iter().filter(|(_, e)| !e.contains("Run 1 (live)")) {
            assert_clear(err);
            // A loser was refused while the winner wrote, or found run 1 finished; a --resume
            // that came after the winner starts a new run (SPEC §6.4), which finds every
            // record already there — and may itself hold the target when another loser
            // arrives (refused naming that run).
            let refused = *code == 2
                && (["1", "2", "3"]
                    .iter()
                    .any(|n| err.contains(&format!("being written by run {n} ")))
                    || err.contains("nothing to resume: run 1")
                    || err.contains("run 1 is running now"));
            let fresh = err.contains("Run 2 (live)") || err.contains("Run 3 (live)");
            assert!(refused || fresh, "round {round}: exit {code}: {err}");
        }
        // Run 1 finished; no run is left failed or interrupted; the target is as if never
        // killed.
        let journal = runs(d, &db);
        assert_eq!(
            journal[0],
            (1, "completed-with-errors".into()),
            "{journal:?}"
        );
        assert!(
            journal
                .iter()
                .all(|(_, s)| s != "failed" && s != "interrupted" && s != "running"),
            "{journal:?}"
        );
        assert_eq!(export(d, &db), want, "round {round}: the target differs");
        assert_eq!(ferry(d, &["reconcile", "1", "--db", &db]).code, 0);
        // Later: nothing left to resume.
        let r = ferry(d, &["resume", "1", "--db", &db]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("nothing to resume: run 1 is completed-with-errors"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn of_many_first_imports_into_a_new_target_exactly_one_writes() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    let want = reference(d);
    for round in 0..2 {
        let db = format!("new{round}.db");
        // Whoever wins holds the target a while, so that the others meet it.
        let racers: Vec<Child> = (0..6)
            .map(|_| {
                spawn(
                    d,
                    &["import", "big.xml", "--db", &db, "--no-backup"],
                    &[("FERRY_TEST_HOLD_MS", "1500")],
                )
            })
            .collect();
        let done: Vec<(i32, String)> = racers.into_iter().map(finish).collect();
        let winners = done.iter().filter(|(c, _)| *c == 1).count();
        assert_eq!(winners, 1, "round {round}: {done:#?}");
        for (code, err) in done.iter().filter(|(c, _)| *c != 1) {
            assert_eq!(*code, 2, "round {round}: {err}");
            assert_clear(err);
            assert!(
                err.contains("being written by run 1"),
                "round {round}: {err}"
            );
        }
        // The losers left nothing in the journal.
        assert_eq!(runs(d, &db), vec![(1, "completed-with-errors".to_string())]);
        assert_eq!(export(d, &db), want, "round {round}");
    }
    // Creating (ferry init) at once: every process finds a target.
    let racers: Vec<Child> = (0..6)
        .map(|_| spawn(d, &["init", "--db", "inits.db"], &[]))
        .collect();
    for (code, err) in racers.into_iter().map(finish) {
        assert_eq!(code, 0, "{err}");
        assert_clear(&err);
    }
}

/// The URL of a new database on the test server, registered for dropping with the scratch
/// folder.
fn server_db(dir: &Path, name: &str) -> (String, String) {
    let url = db(dir, name);
    let dbname = url.rsplit('/').next().unwrap().to_string();
    (url, dbname)
}

#[test]
fn a_database_another_session_is_still_creating_is_used_once_it_exists() {
    if !pg() {
        // A SQLite target is a file: there is no creation on a server that outlives its client.
        // Its twin (a file that another process is initialising) is in the test above.
        return;
    }
    let dir = scratch();
    let d = dir.path();
    data(d);
    let want = reference(d);
    // A killed client's CREATE DATABASE still under way on the server: the database's name is
    // taken by a transaction that has not committed yet. (Renaming a database inside a
    // transaction holds the new name the same way, for as long as the test wants.)
    let (url, name) = server_db(d, "late.db");
    let (_, spare) = server_db(d, "spare.db");
    let mut admin =
        postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE \"{spare}\""))
        .unwrap();
    admin
        .batch_execute(&format!(
            "BEGIN; ALTER DATABASE \"{spare}\" RENAME TO \"{name}\""
        ))
        .unwrap();
    let child = spawn(d, &["import", "big.xml", "--db", &url, "--no-backup"], &[]);
    std::thread::sleep(Duration::from_millis(1500));
    admin.batch_execute("COMMIT").unwrap();
    let (code, err) = finish(child);
    assert_eq!(code, 1, "{err}");
    assert_clear(&err);
    assert_eq!(export(d, "late.db"), want);
    assert_eq!(
        runs(d, "late.db"),
        vec![(1, "completed-with-errors".to_string())]
    );
}

#[test]
fn an_import_killed_in_its_first_moments_resumes_to_the_same_target() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    let want = reference(d);
    let moments = [10, 40, 100, 200, 400, 800];
    for (i, ms) in moments.iter().enumerate() {
        let db = format!("early{i}.db");
        let args = [
            "import",
            "big.xml",
            "--db",
            &db,
            "--no-backup",
            "--chunk-size",
            "200",
        ];
        let mut child = spawn(d, &args, &[]);
        std::thread::sleep(Duration::from_millis(*ms));
        let _ = child.kill();
        let (code, err) = finish(child);
        let mut resume = args.to_vec();
        resume.push("--resume");
        let r = ferry(d, &resume);
        assert_clear(&format!("{}{}", r.stdout, r.stderr));
        if code == 1 {
            // It finished before the kill: --resume starts a new run, which finds every record.
            assert_ne!(r.code, 2, "{ms} ms: {}", r.stderr);
        } else {
            assert!(code == -1 || code == 137, "{ms} ms: exit {code}: {err}");
            assert_eq!(r.code, 1, "{ms} ms: {}", r.stderr);
        }
        assert_eq!(
            export(d, &db),
            want,
            "killed at {ms} ms: the target differs"
        );
        let journal = runs(d, &db);
        assert_eq!(
            journal[0].1, "completed-with-errors",
            "{ms} ms: {journal:?}"
        );
    }
}
