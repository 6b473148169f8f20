//! The run's lifecycle through the library (no binary): a live import, a test-only run, a
//! rollback, a ledger phase, and a run interrupted at a checkpoint then resumed — on small
//! inputs written into a temporary folder, into a SQLite target.

use ferry_engine::rollback::rollback;
use ferry_engine::{import, ImportOptions, Progress, RunError, Silent, Summary};
use ferry_store::journal::{RunMode, RunStatus};
use ferry_store::Target;
use std::cell::Cell;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// A temporary folder with a new SQLite target in it.
struct Place {
    dir: tempfile::TempDir,
    target: Target,
}

fn place() -> Place {
    let dir = tempfile::tempdir().unwrap();
    let (target, created) = Target::init(&dir.path().join("ferry.db")).unwrap();
    assert!(created);
    Place { dir, target }
}

impl Place {
    fn write(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    fn int(&self, sql: &str) -> i64 {
        self.target.int(sql, &[]).unwrap()
    }

    fn balance(&self, user: &str) -> (String, i64, String) {
        let b = ferry_report::balances::balance_of(&self.target, user)
            .unwrap()
            .unwrap();
        (b.balance, b.open_invoices, b.undisbursed)
    }
}

fn options(inputs: &[&Path]) -> ImportOptions {
    ImportOptions {
        inputs: inputs.iter().map(|p| p.to_path_buf()).collect(),
        ..ImportOptions::default()
    }
}

fn count(s: &Summary, entity: &str) -> ferry_store::journal::Counts {
    s.counts
        .iter()
        .find(|(e, _)| e == entity)
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| panic!("no {entity} counts in {:?}", s.counts))
}

/// Two accounts (one with a bad owner), their contacts, and nothing else.
fn accounts(p: &Place) -> PathBuf {
    p.write(
        "accounts.xml",
        r#"<Import>
  <User Name="A" Owner="admin" Role="Customer"/>
  <User Name="B" Owner="admin" Role="Customer"/>
  <User Name="X" Owner="nobody" Role="Customer"/>
  <Contact User="A" ContactFirstName="Ann" ContactLastName="Lee" ContactType="Billing Contact"/>
</Import>
"#,
    )
}

#[test]
fn a_live_import_writes_its_records_and_closes_the_run() {
    let p = place();
    let input = accounts(&p);
    let s = import(&p.target, &options(&[&input]), &Silent).unwrap();
    assert_eq!(s.mode, RunMode::Live);
    assert_eq!(s.status, RunStatus::CompletedWithErrors);
    assert_eq!(s.exit_code, 1);
    assert_eq!(s.errors, 1, "the unknown owner: {s:?}");
    let users = count(&s, "User");
    assert_eq!((users.read, users.imported, users.rejected), (3, 2, 1));
    assert_eq!(count(&s, "Contact").imported, 1);
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), 2);
    assert_eq!(p.int("SELECT count(*) FROM \"user\" WHERE name = 'A'"), 1);
    assert_eq!(p.int("SELECT count(*) FROM contact"), 1);
    // The journal holds the run, its finding and its counters; a SQLite target was backed up.
    let info = p.target.run(s.run).unwrap().unwrap();
    assert_eq!(info.status, RunStatus::CompletedWithErrors);
    assert_eq!(
        p.int(&format!(
            "SELECT count(*) FROM run_finding WHERE run_id = {}",
            s.run
        )),
        1
    );
    assert!(
        s.backup.as_ref().is_some_and(|b| b.exists()),
        "{:?}",
        s.backup
    );
    // The same inputs again: every record is already there.
    let again = import(
        &p.target,
        &ImportOptions {
            on_existing: ferry_engine::OnExisting::Skip,
            ..options(&[&input])
        },
        &Silent,
    )
    .unwrap();
    assert_eq!(count(&again, "User").skipped, 2);
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), 2);
}

#[test]
fn a_test_only_run_keeps_no_data() {
    let p = place();
    let input = accounts(&p);
    let before = p.int("SELECT count(*) FROM \"user\"");
    let s = import(
        &p.target,
        &ImportOptions {
            test_only: true,
            ..options(&[&input])
        },
        &Silent,
    )
    .unwrap();
    assert_eq!(s.mode, RunMode::TestOnly);
    assert_eq!(count(&s, "User").imported, 2);
    assert_eq!(s.errors, 1);
    assert!(s.backup.is_none());
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), before);
    assert_eq!(p.int("SELECT count(*) FROM contact"), 0);
    // Its findings and counters are kept in the journal all the same.
    let info = p.target.run(s.run).unwrap().unwrap();
    assert_eq!(info.mode, RunMode::TestOnly);
    assert_eq!(
        p.int(&format!(
            "SELECT count(*) FROM run_finding WHERE run_id = {}",
            s.run
        )),
        1
    );
}

#[test]
fn a_live_run_rolled_back_leaves_the_target_as_before() {
    let p = place();
    let input = accounts(&p);
    let users_before = p.int("SELECT count(*) FROM \"user\"");
    let s = import(&p.target, &options(&[&input]), &Silent).unwrap();
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), users_before + 2);
    rollback(&p.target, s.run).unwrap();
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), users_before);
    assert_eq!(p.int("SELECT count(*) FROM contact"), 0);
    let info = p.target.run(s.run).unwrap().unwrap();
    assert_eq!(info.status, RunStatus::RolledBack);
    // A test-only run has nothing to roll back.
    let t = import(
        &p.target,
        &ImportOptions {
            test_only: true,
            ..options(&[&input])
        },
        &Silent,
    )
    .unwrap();
    assert!(matches!(
        rollback(&p.target, t.run),
        Err(RunError::Options(_))
    ));
}

#[test]
fn a_ledger_phase_balances_an_account() {
    let p = place();
    // A debit of 100 opens A-1; a credit of 10 joins it (A-1 = 90); a payment of 30 without an
    // invoice disburses nothing (as SPEC §7 says of a payment without an invoice): balance
    // 90 − 30 = 60, one open invoice, 30 undisbursed.
    let input = p.write(
        "ledger.xml",
        r#"<Import>
  <User Name="A" Owner="admin" Role="Customer"/>
  <Debit User="A" Date="2025-01-05" Debit="100" Description="Dues"/>
  <Credit User="A" Date="2025-01-06" Credit="10"/>
  <Payment User="A" Date="2025-01-20" Credit="30"/>
</Import>
"#,
    );
    let s = import(&p.target, &options(&[&input]), &Silent).unwrap();
    assert_eq!(s.status, RunStatus::Succeeded, "{s:?}");
    assert_eq!(s.errors, 0);
    assert_eq!(count(&s, "Debit").imported, 1);
    assert_eq!(count(&s, "Credit").imported, 1);
    assert_eq!(count(&s, "Payment").imported, 1);
    assert_eq!(p.balance("A"), ("60.00".into(), 1, "30.00".into()));
    assert_eq!(
        p.int("SELECT count(*) FROM invoice WHERE \"user\" = 'A'"),
        1
    );
    // The run's reconciliation balances.
    let info = p.target.run(s.run).unwrap().unwrap();
    assert_eq!(info.status, RunStatus::Succeeded);
}

/// About 600 records: accounts with contacts, debits and payments.
fn many(p: &Place) -> PathBuf {
    let mut x = String::from("<Import>\n");
    for i in 0..100 {
        writeln!(
            x,
            "  <User Name=\"U{i:03}\" Owner=\"admin\" Role=\"Customer\"/>"
        )
        .unwrap();
        writeln!(x, "  <Contact User=\"U{i:03}\" ContactFirstName=\"F{i}\" ContactLastName=\"L{i}\" ContactType=\"Billing Contact\"/>").unwrap();
        for k in 0..3 {
            writeln!(
                x,
                "  <Debit User=\"U{i:03}\" Date=\"2025-0{}-01\" Debit=\"{}.{:02}\"/>",
                k + 1,
                10 + k * 7,
                (i * 13 + k) % 100
            )
            .unwrap();
        }
        writeln!(
            x,
            "  <Payment User=\"U{i:03}\" Date=\"2025-06-01\" Credit=\"{}.25\"/>",
            5 + i % 40
        )
        .unwrap();
    }
    x.push_str("</Import>\n");
    p.write("many.xml", &x)
}

/// Asks the run to stop once it has processed `after` records (the console's Cancel).
struct CancelAfter {
    after: u64,
    seen: Cell<u64>,
}

impl Progress for CancelAfter {
    fn advance(&self, n: u64) {
        self.seen.set(self.seen.get() + n);
    }
    fn stage(&self, _name: &str, _total: u64) {}
    fn cancelled(&self) -> bool {
        self.seen.get() >= self.after
    }
}

fn every_balance(t: &Target) -> Vec<ferry_report::balances::Balance> {
    let mut out = vec![];
    ferry_report::balances::balances(t, |b| {
        out.push(b);
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn an_interrupted_run_resumes_to_what_one_run_writes() {
    // The whole run at once, for comparison.
    let whole = place();
    let input = many(&whole);
    let opts = ImportOptions {
        chunk_size: 25,
        ..options(&[&input])
    };
    let once = import(&whole.target, &opts, &Silent).unwrap();
    assert_eq!(once.status, RunStatus::Succeeded, "{once:?}");

    // Stopped at a checkpoint (Cancel is looked at every 256 records: at the 512th, past many
    // committed chunks of 25).
    let p = place();
    let input = many(&p);
    let opts = ImportOptions {
        chunk_size: 25,
        ..options(&[&input])
    };
    let stop = CancelAfter {
        after: 300,
        seen: Cell::new(0),
    };
    let err = import(&p.target, &opts, &stop).unwrap_err();
    let run = match err {
        RunError::Interrupted { run, ref cause } => {
            assert!(matches!(**cause, RunError::Cancelled), "{err:?}");
            run
        }
        other => panic!("not interrupted: {other:?}"),
    };
    assert_eq!(err.exit_code(), 3);
    let info = p.target.run(run).unwrap().unwrap();
    assert_eq!(info.status, RunStatus::Interrupted);
    assert!(info.can_resume());
    // Accounts and contacts come first (200 records), then the ledger: some of it is written.
    let lines = p.int("SELECT count(*) FROM ledger_line");
    assert!(lines > 0 && lines < 400, "committed chunks stay: {lines}");

    // `--resume`: the same run goes on from its checkpoint, and ends where one run would.
    let resumed = import(
        &p.target,
        &ImportOptions {
            resume: true,
            ..opts.clone()
        },
        &Silent,
    )
    .unwrap();
    assert_eq!(resumed.run, run);
    assert_eq!(resumed.status, RunStatus::Succeeded);
    assert_eq!(resumed.counts, once.counts);
    assert_eq!(p.int("SELECT count(*) FROM \"user\""), 100);
    assert_eq!(p.int("SELECT count(*) FROM run"), 1);
    assert_eq!(every_balance(&p.target), every_balance(&whole.target));
    // Nothing is left to resume.
    let again = ImportOptions {
        resume_run: Some(run),
        ..opts
    };
    assert!(matches!(
        import(&p.target, &again, &Silent),
        Err(RunError::Options(m)) if m.contains("not interrupted")
    ));
}
