//! The terminal as a staff user reads it (issue 17): results (the import summary, the
//! reconciliation, `runs`, `runs show`) on stdout, progress and diagnostics on stderr, `--json`
//! alone on stdout; the summary's findings grouped by code with their places, the all-clean
//! entity types hidden unless `--verbose`, counts with their nouns in the singular for one; the
//! progress bar on a terminal; a closed stdout never crashes `ferry`.

mod common;
use common::*;
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;

fn mistakes() -> String {
    example("mistakes/mistakes.xlsx").display().to_string()
}

/// A legacy CSV export as they come: a byte-order mark, dates written day first, a column Ferry
/// does not know, one account without its Role.
fn csv_export(d: &Path) -> String {
    let dir = d.join("export");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("User.csv"),
        "\u{feff}Name,Owner,Role,CreatedDate,Email,Colour\n\
         M1,admin,Customer,25/6/2016,m1@example.org,blue\n\
         M2,admin,Customer,3/4/2015,m2@example.org,red\n\
         M3,admin,,13/1/2017,m3@example.org,green\n\
         M4,admin,Customer,14/2/2018,m4@example.org,\n",
    )
    .unwrap();
    dir.display().to_string()
}

/// Lines of `text` that look like a row of the counts table for `entity`.
fn row<'a>(text: &'a str, entity: &str) -> Option<&'a str> {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(entity) && l.split_whitespace().count() == 6)
}

#[test]
fn the_import_summary_is_on_stdout_and_diagnostics_on_stderr() {
    let s = scratch();
    let d = s.path();
    let r = ferry(d, &["import", &mistakes(), "--test-only"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out = &r.stdout;
    assert!(
        out.starts_with("Run 1 (test-only): completed with errors — 21 errors, 7 warnings."),
        "{out}"
    );
    // Diagnostics only on stderr: the target made (on SQLite, with no ./ferry.db, a temporary
    // one), the throwaway fingerprint key.
    assert!(
        r.stderr.contains("Created target") || r.stderr.contains("There is no target at ferry.db"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("throwaway"), "{}", r.stderr);
    // A failing run says so on stderr too, in one last line: scripts often keep only stderr.
    assert_eq!(
        r.stderr.trim_end().lines().last(),
        Some("Run 1 (test-only): completed with errors — 21 errors, 7 warnings."),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("Run 1").count(), 1, "{}", r.stderr);
    for result in ["Errors by code", "imported", "ledger", "Test-only:"] {
        assert!(
            !r.stderr.contains(result),
            "{result} on stderr: {}",
            r.stderr
        );
    }
    assert!(!out.contains("Created target"), "{out}");
    // Where the rest is.
    assert!(out.contains("--log findings.csv"), "{out}");
    if r.stderr.contains("There is no target at ferry.db") {
        // A rehearsal in a temporary target: nothing of it is kept, and the summary says so.
        assert!(!out.contains("ferry runs show"), "{out}");
        assert!(
            out.trim_end().ends_with(
                "Test-only: nothing was kept (there was no target: it rehearsed in a temporary one)."
            ),
            "{out}"
        );
    } else {
        assert!(out.contains("All findings: `ferry runs show 1`"), "{out}");
        assert!(
            out.trim_end()
                .ends_with("Test-only: nothing was kept but the run record and its findings."),
            "{out}"
        );
    }
}

#[test]
fn the_summary_groups_findings_by_code_with_their_places() {
    let s = scratch();
    let d = s.path();
    let out = ferry(d, &["import", &mistakes(), "--test-only"]).stdout;
    // Errors before warnings, each code with its count and first places.
    let errors = out.find("Errors by code (21):").expect(&out);
    let warnings = out.find("Warnings by code (7):").expect(&out);
    assert!(errors < warnings, "{out}");
    assert!(out.contains("  reference.unknown — 5 errors\n"), "{out}");
    let unknown = out.find("reference.unknown —").unwrap();
    let next: Vec<&str> = out[unknown..].lines().skip(1).take(3).collect();
    assert!(
        next[0].trim_start().starts_with("mistakes.xlsx User!I56")
            && next[0].contains("\"Residental\" matches no TaxCode"),
        "{next:?}"
    );
    assert!(
        next[1].contains("User!I57") && next[1].contains("did you mean \"Standard\""),
        "{next:?}"
    );
    assert_eq!(next[2].trim(), "… and 3 more", "{next:?}");
    // A missing value: the row of the account and the field.
    assert!(out.contains("  value.required — 2 errors\n"), "{out}");
    assert!(
        out.lines().any(|l| l.contains("mistakes.xlsx User")
            && l.contains("52")
            && l.contains("Role is required.")),
        "{out}"
    );
    // One of each: the singular.
    assert!(out.contains("  account.child_self — 1 error\n"), "{out}");
    assert!(out.contains("  ledger.tax_ignored — 1 warning\n"), "{out}");
    // Knock-on records come after the root causes (here: counted on the `also` line).
    let also = out
        .lines()
        .find(|l| l.trim_start().starts_with("also:"))
        .expect(&out);
    assert!(also.contains("reference.rejected_parent 2"), "{also}");
    // No server-side path in what a person reads: the input's name only.
    assert!(
        !out.contains(&*example("mistakes").display().to_string()),
        "{out}"
    );
    for bad in ["1 errors", "1 warnings", "1 notes"] {
        assert!(!out.contains(&format!(" {bad}")), "{bad}: {out}");
    }
}

#[test]
fn clean_entity_types_are_hidden_unless_verbose() {
    let s = scratch();
    let d = s.path();
    let out = ferry(d, &["import", &mistakes(), "--test-only"]).stdout;
    assert_eq!(
        row(&out, "User").map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["User", "62", "53", "0", "0", "9"]),
        "{out}"
    );
    assert!(row(&out, "Currency").is_none(), "{out}");
    assert!(row(&out, "ContactPhone").is_none(), "{out}");
    assert!(out.contains("… 48 other types"), "{out}");
    assert!(out.contains("--verbose lists them"), "{out}");
    let total = out
        .lines()
        .find(|l| l.starts_with("total (55 entity types)"))
        .expect(&out);
    assert_eq!(
        total.split_whitespace().skip(4).collect::<Vec<_>>(),
        vec!["571", "550", "0", "0", "21"],
        "{total}"
    );

    let v = ferry(d, &["import", &mistakes(), "--test-only", "--verbose"]);
    assert_eq!(v.code, 1, "{}", v.stderr);
    assert_eq!(
        row(&v.stdout, "Currency").map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["Currency", "1", "1", "0", "0", "0"]),
        "{}",
        v.stdout
    );
    assert!(row(&v.stdout, "ContactPhone").is_some(), "{}", v.stdout);
    assert!(!v.stdout.contains("other types"), "{}", v.stdout);
    // Verbose lists every code with its places: no `also` line.
    assert!(
        v.stdout.contains("  reference.rejected_parent — 2 errors"),
        "{}",
        v.stdout
    );
    assert!(!v.stdout.contains("also:"), "{}", v.stdout);
}

#[test]
fn a_csv_export_with_a_bom_and_day_first_dates_reads_in_the_singular() {
    let s = scratch();
    let d = s.path();
    let export = csv_export(d);
    let r = ferry(d, &["import", &export, "--test-only", "--log", "f.csv"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let out = &r.stdout;
    assert!(
        out.starts_with("Run 1 (test-only): completed with errors — 1 error, 1 warning, 1 note."),
        "{out}"
    );
    assert!(out.contains("  value.required — 1 error\n"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("User.csv line 4") && l.contains("Role is required.")),
        "{out}"
    );
    assert!(out.contains("  input.unknown_field — 1 warning\n"), "{out}");
    // Notes are counted, with their codes; --verbose shows their places.
    assert!(
        out.contains("Notes (1): value.date_order_inferred 1"),
        "{out}"
    );
    assert_eq!(
        row(out, "User").map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["User", "4", "3", "0", "0", "1"]),
        "{out}"
    );
    assert!(out.contains("All findings: f.csv"), "{out}");
    // On stderr only the one-line verdict of the failing run.
    assert_eq!(r.stderr.matches("Run 1").count(), 1, "{}", r.stderr);
    assert!(!r.stderr.contains("Errors by code"), "{}", r.stderr);
}

#[test]
fn json_is_all_of_stdout_and_the_summary_goes_to_stderr() {
    let s = scratch();
    let d = s.path();
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    let r = ferry(d, &["import", &mistakes(), "--test-only", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect(&r.stdout);
    assert_eq!(v["run"], 1);
    assert_eq!(v["errors"], 21);
    assert_eq!(v["warnings"], 7);
    assert!(v["counts"].is_array(), "{v}");
    assert!(
        r.stderr
            .contains("Run 1 (test-only): completed with errors — 21 errors, 7 warnings."),
        "{}",
        r.stderr
    );
}

#[test]
fn reconcile_runs_and_runs_show_print_on_stdout() {
    let s = scratch();
    let d = s.path();
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    assert_eq!(ferry(d, &["import", &mistakes(), "--test-only"]).code, 1);

    let r = ferry(d, &["reconcile", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Run 1 reconciles"), "{}", r.stdout);
    assert!(row(&r.stdout, "Currency").is_some(), "{}", r.stdout);
    assert_eq!(r.stderr, "");

    let r = ferry(d, &["runs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().nth(1).expect(&r.stdout);
    assert!(
        line.contains("completed-with-errors") && line.contains("mistakes.xlsx"),
        "{line}"
    );
    assert_eq!(r.stderr, "");

    let r = ferry(d, &["runs", "show", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "");
    let out = &r.stdout;
    // Options: a readable list, one name and value a line, not a line of JSON.
    assert!(!out.contains("{\""), "{out}");
    assert!(out.contains("\noptions (as the run used them)\n"), "{out}");
    for line in [
        "  on-existing: error\n",
        "  date-order: MDY\n",
        "  phone-region: US\n",
        "  create-accounts: true\n",
    ] {
        assert!(out.contains(line), "{line:?} not in {out}");
    }
    // What was asked for where it differs from what the run went by.
    assert!(
        out.contains("\nasked for (command line or console)\n"),
        "{out}"
    );
    assert!(out.contains("  test-only: true\n"), "{out}");
    assert!(out.contains("  create-accounts: not set\n"), "{out}");
    assert!(
        out.contains("findings   21 errors, 7 warnings, 0 notes"),
        "{out}"
    );
    assert!(out.contains("  reference.unknown — 5 errors"), "{out}");
    // The ledger section says why each account is listed.
    let ledger = out.find("\nledger, per account").expect(out);
    let listed: Vec<&str> = out[ledger..].lines().collect();
    assert!(
        listed
            .iter()
            .any(|l| l.contains("Listed: the accounts with a rejected ledger record")),
        "{listed:?}"
    );
    let at = listed
        .iter()
        .position(|l| l.trim_start().starts_with("HSC-0044"))
        .expect(out);
    assert!(
        listed[at + 1].contains("↳ some of its ledger records were rejected"),
        "{listed:?}"
    );
    // --verbose lists the clean entity types too.
    let v = ferry(d, &["runs", "show", "1", "--verbose"]);
    assert!(row(&v.stdout, "Currency").is_some(), "{}", v.stdout);
}

/// `ferry … | head -1`: stdout closed after one line; `ferry` ends without a panic.
fn with_closed_stdout(d: &Path, args: &[&str]) {
    let mut c = command(d, args);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped: the pipe is closed.
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "{args:?}: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{args:?}: {stderr}"
    );
    assert!(!first.is_empty(), "{args:?}");
}

#[test]
fn a_closed_stdout_does_not_crash_ferry() {
    let s = scratch();
    let d = s.path();
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    with_closed_stdout(d, &["import", &mistakes(), "--test-only", "--verbose"]);
    with_closed_stdout(d, &["runs", "show", "1", "--verbose"]);
    with_closed_stdout(d, &["reconcile", "1"]);
    with_closed_stdout(d, &["runs"]);
}

/// On a terminal (a pseudo-terminal made by `script`), stderr shows one bar for the run:
/// while reading a count without a total, then the share of all records, the time since the
/// start, what is left, and rates in whole records per second. Skipped without `script`.
#[test]
fn the_progress_bar_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: no `script` (util-linux) to make a terminal");
        return;
    }
    let s = scratch();
    let d = s.path();
    let bin = env!("CARGO_BIN_EXE_ferry");
    let club = example("club/club.xlsx").display().to_string();
    let db = db(d, "t.db");
    let cmd = format!("{bin} import {club} --db {db} --test-only > out.txt");
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "typescript"])
        .current_dir(d)
        .env("XDG_DATA_HOME", data_home(d))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let term = std::fs::read_to_string(d.join("typescript")).unwrap();
    // The summary went to the file, not to the terminal.
    let summary = std::fs::read_to_string(d.join("out.txt")).unwrap();
    assert!(
        summary.starts_with("Run 1 (test-only): succeeded"),
        "{summary}"
    );
    assert!(!term.contains("Run 1 (test-only)"), "{term}");
    let frames: Vec<&str> = term
        .split(['\r', '\n'])
        .filter(|f| f.contains("records"))
        .collect();
    assert!(!frames.is_empty(), "no progress drawn: {term}");
    for f in &frames {
        // Never a position over a total of nothing (`59085/0`), never a fraction of a record.
        assert!(!f.contains("/0 "), "{f}");
        let rate = f.split(" records/s").next().unwrap();
        let figure = rate.rsplit(' ').next().unwrap();
        assert!(
            figure.chars().all(|c| c.is_ascii_digit() || c == ','),
            "{f}"
        );
    }
    let bar = frames
        .iter()
        .find(|f| f.contains('%') && f.contains("elapsed"))
        .expect(&term);
    assert!(bar.contains("/538 records"), "{bar}");
}
