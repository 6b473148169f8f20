//! Durable runs (SPEC §6.4): a live run killed with SIGKILL at many points and then resumed ends
//! with the same target, the same findings and the same balances as an uninterrupted run; a
//! second writer is refused while the first holds the target; a resume with changed inputs is
//! refused.

mod common;
use common::*;
use std::fmt::Write;
use std::path::Path;
use std::process::Command;

/// About 3,000 records: accounts with contacts and e-mails (some rejected), child accounts,
/// and a ledger with invoices, closes and payments.
fn data(dir: &Path) {
    let mut x = String::from("<Import>\n  <TaxCode Name=\"Std\"/>\n  <TaxRate TaxCode=\"Std\" Rank=\"1\" Name=\"GST\" Percent=\"5\"/>\n");
    for i in 0..400 {
        let owner = if i % 97 == 13 { "nobody" } else { "admin" };
        writeln!(x, "  <User Name=\"U{i:04}\" Owner=\"{owner}\" Role=\"Customer\" TaxCode=\"Std\" BillDay=\"{}\"/>", 1 + i % 28).unwrap();
        writeln!(x, "  <Contact User=\"U{i:04}\" ContactFirstName=\"First{i}\" ContactLastName=\"Last{i}\" ContactType=\"Billing Contact\"/>").unwrap();
        writeln!(x, "  <ContactEmail User=\"U{i:04}\" ContactName=\"First{i} Last{i}\" Email=\"u{i}@example.org\"/>").unwrap();
        if i % 50 == 7 {
            writeln!(
                x,
                "  <User Name=\"U{i:04}\" Owner=\"admin\" Role=\"Customer\"/>"
            )
            .unwrap();
        }
        if i > 0 && i % 10 == 0 {
            writeln!(
                x,
                "  <ChildAccount Name=\"U{i:04}\" Parent=\"U{:04}\"/>",
                i - 1
            )
            .unwrap();
        }
        for k in 0..4 {
            writeln!(
                x,
                "  <Debit User=\"U{i:04}\" Date=\"2025-0{}-01\" Debit=\"{}.{:02}\" Tax1=\"1.50\"/>",
                k + 1,
                10 + k * 7,
                (i * 13 + k) % 100
            )
            .unwrap();
        }
        writeln!(x, "  <CloseInvoice User=\"U{i:04}\"/>").unwrap();
        let inv = if i % 3 == 0 {
            format!(" Invoice=\"U{i:04}-1\"")
        } else {
            String::new()
        };
        writeln!(
            x,
            "  <Payment User=\"U{i:04}\" Date=\"2025-06-01\" Credit=\"{}.25\"{inv}/>",
            20 + i % 40
        )
        .unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("big.xml"), x).unwrap();
}

fn ferry_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> i32 {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    out.status.code().unwrap_or(-1)
}

/// What a finished run left: the export's files, the balances report, the run's findings.
type Outcome = (Vec<(String, Vec<u8>)>, String, Vec<String>);

fn state(dir: &Path, db: &str, run: &str) -> Outcome {
    let out = format!("export-{db}");
    assert_eq!(
        ferry(dir, &["export", "--db", db, "--format", "csv", &out]).code,
        0
    );
    let balances = ferry(dir, &["report", "balances", "--db", db]).stdout;
    let log = format!("{db}.jsonl");
    assert_eq!(ferry(dir, &["runs", "--db", db]).code, 0);
    let r = ferry(dir, &["reconcile", run, "--db", db]);
    assert_eq!(r.code, 0, "{db}: the run does not reconcile: {}", r.stderr);
    // the run's findings, through a log written from the journal
    let _ = ferry(dir, &["runs", "show", run, "--db", db]);
    let findings: Vec<String> = rows(dir, db, &format!("SELECT code || '|' || coalesce(key,'') || '|' || coalesce(file,'') || '|' || coalesce(row,0) || '|' || message FROM run_finding WHERE run_id = {} ORDER BY seq", run.parse::<i64>().unwrap()))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let _ = log;
    let mut tree = tree(&dir.join(out));
    tree.sort();
    (tree, balances, findings)
}

#[test]
fn killed_runs_resume_to_the_same_target() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    let chunk = ["--chunk-size", "97", "--create-accounts"];
    let mut args = vec!["import", "big.xml", "--db", "clean.db", "--no-backup"];
    args.extend(chunk);
    let r = ferry(d, &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let want = state(d, "clean.db", "1");
    assert!(want.0.iter().any(|(n, _)| n == "Ledger.csv"));

    let points: Vec<String> = (1..=8)
        .map(|k| format!("after-commit:{}", k * 4 - 3))
        .chain((1..=6).map(|k| format!("before-commit:{}", k * 5)))
        .chain(
            [1, 120, 555, 1234, 2101, 2600, 2999]
                .iter()
                .map(|n| format!("mid-chunk:{n}")),
        )
        .collect();
    assert!(points.len() >= 20);
    for (i, point) in points.iter().enumerate() {
        let db = format!("k{i}.db");
        let mut args = vec!["import", "big.xml", "--db", db.as_str(), "--no-backup"];
        args.extend(chunk);
        let code = ferry_env(d, &args, &[("FERRY_FAIL_AT", point)]);
        assert!(
            code == -1 || code == 137,
            "{point}: the run was not killed (exit {code})"
        );
        // The killed run shows as interrupted; `--resume` (the same command) continues it.
        let runs = ferry(d, &["runs", "--db", &db]);
        assert!(
            runs.stdout.contains("interrupted"),
            "{point}: {}",
            runs.stdout
        );
        let mut args = vec![
            "import",
            "big.xml",
            "--db",
            db.as_str(),
            "--no-backup",
            "--resume",
        ];
        args.extend(chunk);
        let r = ferry(d, &args);
        assert_eq!(r.code, 1, "{point}: {}", r.stderr);
        let got = state(d, &db, "1");
        assert_eq!(got.1, want.1, "{point}: balances differ");
        assert!(
            got.0 == want.0,
            "{point}: the target differs from an uninterrupted run"
        );
        assert_eq!(got.2, want.2, "{point}: findings differ");
        let n = int(d, &db, "SELECT count(*) FROM run");
        assert_eq!(n, 1, "{point}: the resume made a new run");
        let logins = int(d, &db, "SELECT count(*) FROM login");
        let want_logins = int(d, "clean.db", "SELECT count(*) FROM login");
        assert_eq!(logins, want_logins, "{point}: logins");
    }
}

#[test]
fn resume_refuses_changed_inputs_and_a_second_writer_is_refused() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    let code = ferry_env(
        d,
        &["import", "big.xml", "--chunk-size", "100"],
        &[("FERRY_FAIL_AT", "after-commit:2")],
    );
    assert!(code == -1 || code == 137);
    // change the input: resuming is refused (exit 2)
    let mut x = std::fs::read_to_string(d.join("big.xml")).unwrap();
    x = x.replace("U0399", "U9399");
    std::fs::write(d.join("big.xml"), &x).unwrap();
    let r = ferry(d, &["import", "big.xml", "--chunk-size", "100", "--resume"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("changed"), "{}", r.stderr);
    let r = ferry(d, &["resume", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    // a writer that holds the target: a second import is refused, naming the run
    let fresh = scratch();
    let f = fresh.path();
    data(f);
    assert_eq!(ferry(f, &["init"]).code, 0);
    let c = target(f, "ferry.db");
    // a live process (this test) holds it as run 41 (on PostgreSQL: holds the advisory lock)
    c.exec(
        "INSERT INTO ferry_meta (key, value) VALUES ('writer', ?1)",
        &[format!("41|{}|2026-01-01T00:00:00", std::process::id()).into()],
    )
    .unwrap();
    if pg() {
        let got = c
            .int(
                "SELECT pg_try_advisory_lock(?1)",
                &[ferry_store::pg::WRITER_LOCK.into()],
            )
            .unwrap();
        assert_eq!(got, 1);
    }
    let r = ferry(f, &["import", "big.xml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("run 41"), "{}", r.stderr);
    // a stale lock of a dead process is taken over (on PostgreSQL: its session ended)
    if pg() {
        drop(c);
    } else {
        c.exec(
            "UPDATE ferry_meta SET value = '41|999999999|2026-01-01' WHERE key = 'writer'",
            &[],
        )
        .unwrap();
    }
    let r = ferry(f, &["import", "big.xml", "--test-only"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

fn export_xml(dir: &Path, db: &str, out: &str) -> String {
    assert_eq!(
        ferry(dir, &["export", "--db", db, "--format", "xml", out]).code,
        0
    );
    let balances = ferry(dir, &["report", "balances", "--db", db]).stdout;
    format!(
        "{}\n{balances}",
        std::fs::read_to_string(dir.join(out)).unwrap()
    )
}

#[test]
fn rollback_undoes_creations_and_updates_exactly() {
    let dir = scratch();
    let d = dir.path();
    let club = example("club/club.xml");
    assert_eq!(ferry(d, &["init"]).code, 0);
    let empty = export_xml(d, "ferry.db", "e0.xml");
    assert_eq!(
        ferry(d, &["import", club.to_str().unwrap(), "--create-accounts"]).code,
        0
    );
    let after1 = export_xml(d, "ferry.db", "e1.xml");
    // run 2 updates accounts, adds ledger rows on run 1's invoices... and a company
    std::fs::write(
        d.join("two.xml"),
        r#"<Import>
  <User Name="HSC-0001" BillDay="15" DisableReason="moved away"/>
  <User Name="NEW-1" Owner="admin" Role="Customer"/>
  <Debit User="NEW-1" Date="2026-01-01" Debit="99.99"/>
  <UserCompany User="NEW-1" Company="New Co"/>
</Import>"#,
    )
    .unwrap();
    let r = ferry(d, &["import", "two.xml", "--on-existing", "update"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(export_xml(d, "ferry.db", "e2.xml"), after1);
    // run 1 cannot go while run 2 built on it (it updated run 1's records)
    let r = ferry(d, &["rollback", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("run 2"), "{}", r.stderr);
    // run 2 goes: everything is as after run 1
    let r = ferry(d, &["rollback", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(export_xml(d, "ferry.db", "e3.xml"), after1);
    assert!(ferry(d, &["runs"]).stdout.contains("rolled-back"));
    assert_eq!(ferry(d, &["rollback", "2"]).code, 2, "twice is refused");
    // then run 1: everything is as before it
    let r = ferry(d, &["rollback", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(export_xml(d, "ferry.db", "e4.xml"), empty);
    for t in ["invoice", "ledger_line", "disbursement", "login"] {
        let n = int(d, "ferry.db", &format!("SELECT count(*) FROM {t}"));
        assert_eq!(n, 0, "{t}");
    }
}

#[test]
fn rollback_restores_invoices_a_later_run_changed() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("a.xml"), "<Import><User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/><Debit User=\"A\" Date=\"2025-01-01\" Debit=\"10\"/></Import>").unwrap();
    std::fs::write(d.join("b.xml"), "<Import><Debit User=\"A\" Date=\"2025-02-01\" Debit=\"5\"/><CloseInvoice User=\"A\"/><Payment User=\"A\" Date=\"2025-03-01\" Credit=\"20\" Invoice=\"A-1\"/></Import>").unwrap();
    assert_eq!(ferry(d, &["import", "a.xml"]).code, 0);
    let after1 = export_xml(d, "ferry.db", "1.xml");
    assert_eq!(ferry(d, &["import", "b.xml"]).code, 0);
    assert_eq!(
        ferry(d, &["rollback", "1"]).code,
        1,
        "run 2 charged, closed and paid run 1's invoice"
    );
    assert_eq!(ferry(d, &["rollback", "2"]).code, 0);
    assert_eq!(export_xml(d, "ferry.db", "2.xml"), after1);
    let open = int(
        d,
        "ferry.db",
        "SELECT is_current FROM invoice WHERE name = 'A-1'",
    );
    assert_eq!(open, 1, "A-1 is the current invoice again");
}

#[test]
fn two_live_imports_at_once_one_proceeds_the_other_is_told_who_holds_the_target() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    assert_eq!(ferry(d, &["init"]).code, 0);
    let first = command(d, &["import", "big.xml", "--chunk-size", "100"])
        .env("FERRY_TEST_HOLD_MS", "2500")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let second = command(d, &["import", "big.xml"]).output().unwrap();
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("being written by run 1"), "{err}");
    // The target holds exactly one import.
    let alone = scratch();
    data(alone.path());
    assert_eq!(ferry(alone.path(), &["import", "big.xml"]).code, 1);
    assert_eq!(ferry(d, &["reconcile", "1"]).code, 0);
    assert_eq!(
        export_xml(d, "ferry.db", "x.xml"),
        export_xml(alone.path(), "ferry.db", "x.xml")
    );
}

#[test]
fn a_full_disk_interrupts_the_run_and_resume_finishes_it() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    if pg() {
        // The injected full disk is SQLite's page limit; PostgreSQL's disk-full error (53100)
        // maps to the same kind (crates/store/src/pg.rs), and the run/resume path is shared.
        return;
    }
    assert_eq!(ferry(d, &["init"]).code, 0);
    let pages: i64 = rusqlite::Connection::open(d.join("ferry.db"))
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    // Room for a few chunks only, then SQLite reports a full database (as a full disk would).
    let limit = (pages + 40).to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["import", "big.xml", "--chunk-size", "100", "--no-backup"])
        .current_dir(d)
        .env("FERRY_TEST_MAX_PAGES", &limit)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("full") && err.contains("ferry resume"),
        "{err}"
    );
    assert!(ferry(d, &["runs"]).stdout.contains("interrupted"));
    // Space again: the resume completes the run, the same as an uninterrupted one.
    let r = ferry(d, &["resume", "1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let alone = scratch();
    data(alone.path());
    assert_eq!(
        ferry(alone.path(), &["import", "big.xml", "--no-backup"]).code,
        1
    );
    assert_eq!(
        export_xml(d, "ferry.db", "x.xml"),
        export_xml(alone.path(), "ferry.db", "x.xml")
    );
    assert_eq!(ferry(d, &["reconcile", "1"]).code, 0);
}

#[test]
fn a_target_deleted_during_the_run_is_noticed() {
    let dir = scratch();
    let d = dir.path();
    data(d);
    assert_eq!(ferry(d, &["init"]).code, 0);
    let child = command(
        d,
        &["import", "big.xml", "--chunk-size", "100", "--no-backup"],
    )
    .env("FERRY_TEST_HOLD_MS", "1500")
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    if pg() {
        // The server side of a deleted file: the run's connection is cut.
        let url = db(d, "ferry.db");
        let name = url.rsplit('/').next().unwrap().to_string();
        let mut admin =
            postgres::Client::connect(&format!("{PG_SERVER}/postgres"), postgres::NoTls).unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .unwrap();
    } else {
        std::fs::remove_file(d.join("ferry.db")).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    if pg() {
        assert!(
            err.contains("cannot reach") || err.contains("lost"),
            "{err}"
        );
    } else {
        assert!(err.contains("deleted or replaced"), "{err}");
    }
    // The hint names the run to resume or roll back.
    assert!(
        err.contains("`ferry resume 1`") && err.contains("`ferry rollback 1`"),
        "{err}"
    );
}
