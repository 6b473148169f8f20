//! Hand-computed examples of every ledger rule of SPEC §7, through the real binary; the
//! arithmetic is in the comments. Balances come from `ferry report balances`.

mod common;
use common::*;
use std::collections::BTreeMap;

const SETUP: &str = r#"<Import>
  <TaxCode Name="Residential"/>
  <TaxCode Name="Business"/>
  <TaxRate TaxCode="Residential" Rank="1" Name="GST" Percent="5"/>
  <TaxRate TaxCode="Residential" Rank="2" Name="PST" Percent="7"/>
  <TaxRate TaxCode="Business" Rank="1" Name="HST" Percent="13"/>
  <PaymentType Name="Cheque"/>
</Import>"#;

const ACCOUNTS: &str = r#"<Import>
  <User Name="A" Owner="admin" Role="Customer" TaxCode="Residential"/>
  <User Name="B" Owner="admin" Role="Customer" TaxCode="Business"/>
  <User Name="C" Owner="admin" Role="Customer"/>
  <User Name="D" Owner="admin" Role="Customer"/>
  <User Name="E" Owner="admin" Role="Customer"/>
  <User Name="F" Owner="admin" Role="Customer"/>
  <User Name="P" Owner="admin" Role="Customer"/>
  <ChildAccount Name="C" Parent="P"/>
</Import>"#;

const LEDGER: &str = r#"<Import>
  <!-- 1. Taxes kept and ignored: Residential has ranks 1 and 2, so Tax1 and Tax2 are kept and
       Tax3 is ignored with a warning. A-1 total = 100 + 5 + 7 = 112. -->
  <Debit User="A" Date="2025-01-05" Debit="100" Tax1="5" Tax2="7" Tax3="2" Description="Dues"/>
  <!-- 5. Payment without invoice: nothing disbursed, auto-disburse, 50 undisbursed.
       A balance = 112 − 50 = 62. -->
  <Payment User="A" Date="2025-01-20" Credit="50" PaymentType="Cheque"/>

  <!-- 2. ApplyTax rounding: B-1 opens with a debit of 100. The credit of 12.50 with HST 13 %:
       12.50 × 13 / 100 = 1.625 → 1.63 (half away from zero), so 12.50 + 1.63 = 14.13 is credited.
       Bulk amount: 0.3333 × 2.5 = 0.83325 → 0.8333 (4 decimals, half away from zero), no tax.
       B-1 total = 100 − 14.13 − 0.8333 = 85.0367. -->
  <Debit User="B" Date="2025-01-05" Debit="100"/>
  <Credit User="B" Date="2025-01-06" Credit="12.50" ApplyTax="true"/>
  <Credit User="B" Date="2025-01-07" Credit="0.3333" BulkAmount="2.5"/>

  <!-- 3. Close and reopen: D-1 (10) is closed; the next debit opens D-2 (20).
       D open invoices = 1; invoice totals = 30. -->
  <Debit User="D" Date="2025-01-05" Debit="10"/>
  <CloseInvoice User="D"/>
  <Debit User="D" Date="2025-02-05" Debit="20"/>
  <!-- 4. Payment to an invoice with leftover: D-1 has 10 outstanding, the payment is 25:
       10 disbursed, 15 undisbursed. D balance = 30 − 25 = 5. -->
  <Payment User="D" Date="2025-02-10" Credit="25" Invoice="D-1"/>

  <!-- 6. Payment to a child account's invoice: the invoice C-SPECIAL (40) is on C, below P.
       P pays 30 on it: 30 disbursed to C's invoice. P balance = 0 − 30 = −30, nothing
       undisbursed; C balance = 40 (a parent's balance does not include its children's). -->
  <Debit User="C" Date="2025-01-05" Debit="40" Invoice="C-SPECIAL"/>
  <Payment User="P" Date="2025-01-25" Credit="30" Invoice="C-SPECIAL"/>

  <!-- 7. Opening balance: a debit of the legacy balance, closed and marked delivered, then
       paid on the closed invoice: E-1 = 250.75, 100 disbursed. E balance = 150.75, 0 open. -->
  <Debit User="E" Date="2024-12-31" Debit="250.75" Package="Opening Balance" Description="Balance forward"/>
  <CloseInvoice User="E" Delivered="true"/>
  <Payment User="E" Date="2025-01-15" Credit="100" Invoice="E-1"/>

  <!-- Named invoices: F's debit on "F-SPRING" opens it, and it is closed by name. The next
       automatic invoice counts it: F holds 1 invoice, so n = 2 and the name is F-2 (5). A credit
       naming F-2 joins it: F-2 = 5 − 3 = 2. Balance = 10 + 2 = 12; 1 open (F-SPRING is closed). -->
  <Debit User="F" Date="2025-01-01" Debit="10" Invoice="F-SPRING"/>
  <CloseInvoice User="F" Invoice="F-SPRING"/>
  <Debit User="F" Date="2025-01-02" Debit="5"/>
  <Credit User="F" Date="2025-01-03" Credit="3" Invoice="F-2"/>
</Import>"#;

fn balances(dir: &std::path::Path) -> BTreeMap<String, (String, i64, String)> {
    let r = ferry(dir, &["report", "balances", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["User"].as_str().unwrap().to_string(),
                (
                    b["Balance"].as_str().unwrap().to_string(),
                    b["OpenInvoices"].as_i64().unwrap(),
                    b["Undisbursed"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

#[test]
fn every_ledger_rule_by_hand() {
    let dir = scratch();
    let d = dir.path();
    for (name, content) in [
        ("setup.xml", SETUP),
        ("accounts.xml", ACCOUNTS),
        ("ledger.xml", LEDGER),
    ] {
        std::fs::write(d.join(name), content).unwrap();
    }
    assert_eq!(ferry(d, &["import", "setup.xml"]).code, 0);
    // accounts and ledger in one run: ChildAccount comes before the ledger whatever the order
    let r = ferry(
        d,
        &["import", "ledger.xml", "accounts.xml", "--log", "f.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let warnings: Vec<(&str, &str)> = f
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["field"].as_str().unwrap()))
        .collect();
    assert_eq!(warnings, vec![("ledger.tax_ignored", "Tax3")], "{f:#?}");

    let b = balances(d);
    let row = |u: &str| b.get(u).cloned().unwrap();
    let s = |x: &str| x.to_string();
    assert_eq!(row("A"), (s("62.00"), 1, s("50.00")));
    assert_eq!(row("B"), (s("85.0367"), 1, s("0.00")));
    assert_eq!(row("C"), (s("40.00"), 1, s("0.00")));
    assert_eq!(row("D"), (s("5.00"), 1, s("15.00")));
    assert_eq!(row("E"), (s("150.75"), 0, s("0.00")));
    assert_eq!(row("F"), (s("12.00"), 1, s("0.00")));
    assert_eq!(row("P"), (s("-30.00"), 0, s("0.00")));
    assert_eq!(
        b.len(),
        7,
        "every account is listed, also those without ledger records"
    );

    // The reconciliation of the ledger run balances.
    assert_eq!(ferry(d, &["reconcile", "2"]).code, 0);
    // Invoice names: F-SPRING is named, F-2 automatic.
    let names: Vec<String> = rows(
        d,
        "ferry.db",
        "SELECT name FROM invoice WHERE \"user\" = 'F' ORDER BY id",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    assert_eq!(names, vec!["F-SPRING", "F-2"]);
}

#[test]
fn an_account_touched_again_in_a_later_chunk_finds_its_invoices() {
    // One record per chunk: A's book is written and forgotten after each chunk, and loaded again
    // from the target when A comes back (the run keeps only which accounts have invoices).
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("a.xml"), "<Import><User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/><User Name=\"B\" Owner=\"admin\" Role=\"Customer\"/>\
        <Debit User=\"A\" Date=\"2025-01-01\" Debit=\"10\"/><Debit User=\"B\" Date=\"2025-01-01\" Debit=\"5\"/>\
        <Debit User=\"A\" Date=\"2025-01-02\" Debit=\"7\"/><CloseInvoice User=\"A\"/><Debit User=\"B\" Date=\"2025-01-03\" Debit=\"1\"/>\
        <Debit User=\"A\" Date=\"2025-02-01\" Debit=\"3\"/></Import>").unwrap();
    let r = ferry(d, &["import", "a.xml", "--chunk-size", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let invoices = rows(
        d,
        "ferry.db",
        "SELECT \"user\", name, closed, total_e4 FROM invoice ORDER BY id",
    );
    let want = [
        ["A", "A-1", "1", "170000"],
        ["B", "B-1", "0", "60000"],
        ["A", "A-2", "0", "30000"],
    ];
    assert_eq!(
        invoices,
        want.map(|r| r.map(String::from).to_vec()).to_vec()
    );
    assert_eq!(ferry(d, &["reconcile", "1"]).code, 0);
}

#[test]
fn current_invoice_persists_across_runs_and_rejections_change_nothing() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("a.xml"), "<Import><User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/><Debit User=\"A\" Date=\"2025-01-01\" Debit=\"10\"/></Import>").unwrap();
    // run 2: a rejected debit (negative) takes no number and opens nothing; the next one joins A-1
    std::fs::write(d.join("b.xml"), "<Import><Debit User=\"A\" Date=\"2025-01-02\" Debit=\"-4\"/><Debit User=\"A\" Date=\"2025-01-03\" Debit=\"5\"/></Import>").unwrap();
    assert_eq!(ferry(d, &["import", "a.xml"]).code, 0);
    assert_eq!(ferry(d, &["import", "b.xml"]).code, 1);
    let b = balances(d);
    assert_eq!(b["A"], ("15.00".to_string(), 1, "0.00".to_string()));
    let r = ferry(d, &["reconcile", "2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // re-running the first file: the debit is a ledger duplicate of an earlier run
    let r = ferry(d, &["import", "a.xml", "--on-existing", "skip", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(balances(d)["A"].0, "15.00");
}

#[test]
fn ledger_exports_as_one_stream_and_round_trips() {
    let dir = scratch();
    let d = dir.path();
    for (name, content) in [
        ("setup.xml", SETUP),
        ("accounts.xml", ACCOUNTS),
        ("ledger.xml", LEDGER),
    ] {
        std::fs::write(d.join(name), content).unwrap();
    }
    assert_eq!(
        ferry(d, &["import", "setup.xml", "accounts.xml", "ledger.xml"]).code,
        0
    );
    let before = balances(d);
    for (fmt, out) in [("xml", "x.xml"), ("csv", "x_csv"), ("xlsx", "x.xlsx")] {
        assert_eq!(ferry(d, &["export", "--format", fmt, out]).code, 0);
        let db = format!("{fmt}.db");
        let r = ferry(d, &["import", out, "--db", &db]);
        assert_eq!(r.code, 0, "{fmt}: {}", r.stderr);
        let r = ferry(d, &["report", "balances", "--db", &db, "--format", "json"]);
        let again: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let again: BTreeMap<String, String> = again
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["User"].as_str().unwrap().to_string(), b.to_string()))
            .collect();
        assert_eq!(again.len(), before.len(), "{fmt}");
        for (u, (bal, open, und)) in &before {
            let a: serde_json::Value = serde_json::from_str(&again[u]).unwrap();
            assert_eq!(
                (
                    a["Balance"].as_str().unwrap(),
                    a["OpenInvoices"].as_i64().unwrap(),
                    a["Undisbursed"].as_str().unwrap()
                ),
                (bal.as_str(), *open, und.as_str()),
                "{fmt} {u}"
            );
        }
        let again_out = format!("again-{out}");
        assert_eq!(
            ferry(d, &["export", "--db", &db, "--format", fmt, &again_out]).code,
            0
        );
        if fmt == "csv" {
            assert_eq!(tree(&d.join(out)), tree(&d.join(&again_out)));
            assert!(d.join(out).join("Ledger.csv").exists());
        } else if fmt == "xml" {
            assert_eq!(
                std::fs::read(d.join(out)).unwrap(),
                std::fs::read(d.join(&again_out)).unwrap()
            );
        }
    }
}

/// A run that writes only at its end (--all-or-nothing, test-only) spills its per-account
/// ledger sums per chunk instead of holding them; the journal comes out the same, and an
/// all-or-nothing run stopped by errors reconciles (its ledger amounts count as skipped).
#[test]
fn runs_that_write_at_the_end_reconcile_with_small_chunks() {
    let dir = scratch();
    let d = dir.path();
    let input = example("mistakes/mistakes.xlsx");
    let input = input.to_str().unwrap();
    let sums = |db: &str| {
        rows(
            d,
            db,
            "SELECT \"user\", source_e4, imported_e4, rejected_e4, skipped_e4 FROM run_ledger_sum ORDER BY \"user\"",
        )
    };
    for (db, mode) in [("t3.db", "--test-only"), ("a3.db", "--all-or-nothing")] {
        let r = ferry(d, &["import", input, "--db", db, mode, "--chunk-size", "3"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let big = format!("big-{db}");
        let r = ferry(
            d,
            &[
                "import",
                input,
                "--db",
                &big,
                mode,
                "--chunk-size",
                "100000",
            ],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_eq!(sums(db), sums(&big), "{mode}");
        assert!(!sums(db).is_empty());
        let r = ferry(d, &["reconcile", "1", "--db", db]);
        assert_eq!(r.code, 0, "{mode}: {}", r.stderr);
    }
}
