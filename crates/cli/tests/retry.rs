//! Re-running and retrying after a live run, through the real binary: the same file again keeps
//! blaming the later of two rows with one key (never the first, nor the first's dependants), and
//! `--retry-of RUN` reports only what is still wrong — the ledger rows the retried runs
//! imported are skipped as already imported, in every `--on-existing` mode, each stored row once.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn xml(body: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<Import>\n{body}\n</Import>\n")
}

/// An account `u1` given twice (the second differs), its contact, an account `u2`, and ledger
/// rows — one of them (`bad`) with a bad amount unless `fixed`.
fn club(fixed: bool) -> String {
    let bad = if fixed { "12.50" } else { "12,5x" };
    xml(&format!(
        "<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>
<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>
<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"3\"/>
<Contact User=\"u1\" ContactFirstName=\"Ann\" ContactLastName=\"Lee\" ContactType=\"Billing Contact\"/>
<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" Description=\"Dues\"/>
<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" Description=\"Dues\"/>
<Payment User=\"u1\" Date=\"2024-01-05\" Credit=\"5\"/>
<Debit User=\"u2\" Date=\"2024-01-01\" Debit=\"{bad}\" Description=\"Fee\"/>"
    ))
}

/// Runs an import and returns (exit code, findings).
fn import(d: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let _ = std::fs::remove_file(d.join("f.jsonl"));
    let mut all = vec!["import"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--log", "f.jsonl"]);
    let r = ferry(d, &all);
    (r.code, findings(&d.join("f.jsonl")))
}

/// The (code, row) of every finding of `severity`.
fn of(f: &[serde_json::Value], severity: &str) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = f
        .iter()
        .filter(|f| f["severity"] == severity)
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["row"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

fn counts(f: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for x in f {
        *m.entry(x["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

fn balance(d: &Path, user: &str) -> String {
    let r = ferry(d, &["report", "balances", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|b| b["User"] == user)
        .map(|b| b["Balance"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn the_same_file_again_blames_the_later_duplicate_not_the_first_or_its_dependants() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("club.xml"), club(false)).unwrap();
    let (code, first) = import(d, &["club.xml"]);
    assert_eq!(code, 1);
    let first_errors = of(&first, "error");
    assert_eq!(
        first_errors,
        vec![
            ("key.duplicate".into(), 5),
            ("value.money_invalid".into(), 10)
        ],
        "{first:#?}"
    );
    for mode in ["error", "skip", "update"] {
        let (code, again) = import(d, &["club.xml", "--on-existing", mode]);
        assert_eq!(code, 1, "{mode}");
        let errors: Vec<_> = of(&again, "error")
            .into_iter()
            .filter(|(c, _)| c != "ledger.duplicate")
            .collect();
        // The second u1 is still the duplicate; the contact of the first u1 is not rejected.
        assert_eq!(errors, first_errors, "{mode}: {again:#?}");
        let dup = again.iter().find(|f| f["code"] == "key.duplicate").unwrap();
        assert!(
            dup["message"].as_str().unwrap().contains("club.xml:3"),
            "{dup}"
        );
        assert!(!again
            .iter()
            .any(|f| f["code"] == "reference.rejected_parent" || f["code"] == "key.exists"));
    }
}

#[test]
fn a_retry_reports_only_what_is_still_wrong() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("club.xml"), club(false)).unwrap();
    let (code, first) = import(d, &["club.xml"]);
    assert_eq!(code, 1);
    assert_eq!(balance(d, "u1"), "15.00");

    // Without --retry-of the same ledger rows are duplicates of an earlier run (SPEC §6.3).
    let (code, plain) = import(d, &["club.xml", "--test-only"]);
    assert_eq!(code, 1);
    assert_eq!(
        counts(&plain).get("ledger.duplicate"),
        Some(&3),
        "{plain:#?}"
    );

    // A retry of run 1 with the same file: only what is still wrong, test-only and live alike.
    let (code, test) = import(d, &["club.xml", "--retry-of", "1", "--test-only"]);
    assert_eq!(code, 1);
    assert_eq!(of(&test, "error"), of(&first, "error"), "{test:#?}");
    assert_eq!(counts(&test).get("ledger.duplicate_skipped"), Some(&3));
    let (code, live) = import(d, &["club.xml", "--retry-of", "1"]);
    assert_eq!(code, 1);
    assert_eq!(of(&live, "error"), of(&test, "error"));
    assert_eq!(of(&live, "info"), of(&test, "info"));
    assert_eq!(balance(d, "u1"), "15.00", "nothing imported twice");
    let m = live
        .iter()
        .find(|f| f["code"] == "ledger.duplicate_skipped")
        .unwrap();
    assert!(m["message"].as_str().unwrap().contains("Run 1"), "{m}");

    // The corrected file, as a retry of the retry: the fixed row lands, nothing else changes.
    std::fs::write(d.join("fixed.xml"), club(true)).unwrap();
    let (code, fixed) = import(d, &["fixed.xml", "--retry-of", "4"]);
    assert_eq!(code, 1, "the duplicate account row is still there");
    assert_eq!(of(&fixed, "error"), vec![("key.duplicate".into(), 5)]);
    assert_eq!(balance(d, "u1"), "15.00");
    assert_eq!(balance(d, "u2"), "12.50");
}

#[test]
fn two_equal_rows_are_skipped_once_each_and_a_third_is_a_duplicate() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("club.xml"), club(true)).unwrap();
    let (code, _) = import(d, &["club.xml"]);
    assert_eq!(code, 1);
    // The corrected file has a third equal Dues row: the retried run stored two, so one is
    // still a duplicate of an earlier run.
    let three = club(true).replace(
        "<Payment",
        "<Debit User=\"u1\" Date=\"2024-01-01\" Debit=\"10\" Description=\"Dues\"/>\n<Payment",
    );
    std::fs::write(d.join("three.xml"), three).unwrap();
    let (code, f) = import(d, &["three.xml", "--retry-of", "1", "--test-only"]);
    assert_eq!(code, 1);
    let c = counts(&f);
    assert_eq!(c.get("ledger.duplicate_skipped"), Some(&4), "{f:#?}");
    assert_eq!(c.get("ledger.duplicate"), Some(&1), "{f:#?}");
}

#[test]
fn retry_of_an_unknown_run_is_refused_before_anything_is_written() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("club.xml"), club(true)).unwrap();
    let r = ferry(d, &["import", "club.xml", "--retry-of", "7"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no run 7"), "{}", r.stderr);
    assert!(balance_rows(d).is_empty());
}

fn balance_rows(d: &Path) -> Vec<serde_json::Value> {
    let r = ferry(d, &["report", "balances", "--format", "json"]);
    serde_json::from_str::<serde_json::Value>(&r.stdout)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// The example workbook's (code, sheet, row) of each error finding.
fn sheet_errors(f: &[serde_json::Value]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = f
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["sheet"].as_str().unwrap_or("").to_string(),
                f["row"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

/// The example with mistakes, imported live; then the workbook as a user corrects it (a Role
/// filled in), retried: the fixed account and its records land, every other error is the same,
/// and nothing that went live is reported again.
#[test]
fn a_corrected_workbook_retried_after_live_lands_the_fixed_rows_only() {
    let dir = scratch();
    let d = dir.path();
    let source = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    std::fs::write(d.join("mistakes.xlsx"), &source).unwrap();
    std::fs::create_dir(d.join("attachments")).unwrap();
    std::fs::copy(
        example("mistakes/attachments/berth-map.txt"),
        d.join("attachments/berth-map.txt"),
    )
    .unwrap();
    let (code, first) = import(d, &["mistakes.xlsx"]);
    assert_eq!(code, 1);
    let before = sheet_errors(&first);
    assert!(before.contains(&("value.required".into(), "User".into(), 52)));

    let fixed = common::xlsx_edit::set_cells(&source, "User", &[("C52", "Customer")]);
    std::fs::write(d.join("mistakes-fixed.xlsx"), fixed).unwrap();
    let (code, retry) = import(d, &["mistakes-fixed.xlsx", "--retry-of", "1"]);
    assert_eq!(code, 1);
    let after = sheet_errors(&retry);
    assert!(!after.contains(&("value.required".into(), "User".into(), 52)));
    assert!(
        after.iter().all(|e| before.contains(e)),
        "nothing new is wrong: {:#?}",
        after
            .iter()
            .filter(|e| !before.contains(e))
            .collect::<Vec<_>>()
    );
    assert!(after.len() < before.len());
    assert!(!retry
        .iter()
        .any(|f| f["code"] == "ledger.duplicate" || f["code"] == "key.exists"));
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM \"user\" WHERE name = 'HSC-0051' AND run_id = 2"
        ),
        1
    );
}
