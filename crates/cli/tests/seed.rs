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
    assert!(r.stdout.contains("(config, live)"), "{}", r.stdout);
    assert!(!r.stdout.contains("certification"), "{}", r.stdout);
    assert!(!r.stderr.contains("certification"), "{}", r.stderr);
    let r = ferry(d, &["config", "import", "c.xml", "--test-only"]);
    assert!(r.stdout.contains("(config, test-only)"), "{}", r.stdout);
    // An import and a certification migration keep their words.
    let r = ferry(d, &["import", "c.xml"]);
    assert!(r.stdout.contains("(live)"), "{}", r.stdout);
}

// ---- Points 5 and 6: seed 003's close tag and the vendor's names, in every container -------

/// Setup and accounts the aliased records refer to.
const ALIAS_SETUP: &str = r#"<Service Name="Phone"/>
<Package Name="Home"/>
<PackageService Package="Home" Service="Phone"/>
<StatusType Name="Suspended"/>
<TicketStatus Name="Closed"/>
<ProfileQuestion Name="Colour" AppliesTo="Service" Target="Phone"/>
<User Name="u1" Owner="admin" Role="Customer"/>
<User Name="staff" Owner="admin" Role="Customer"/>
<Contact User="u1" ContactName="Ann Lee" ContactType="Billing Contact"/>
<UserPackage User="u1" Name="Home"/>
<UserService User="u1" UserPackage="Home" Name="Phone"/>"#;

/// (element or file name, [(field, value)]) of one record of each aliased type.
fn aliased_records() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let held = [
        ("User", "u1"),
        ("UserPackage", "Home"),
        ("UserService", "Phone"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut v = held.to_vec();
        v.extend_from_slice(extra);
        v
    };
    vec![
        (
            "UserAttributeChangeUserPackageStatusType",
            vec![
                ("User", "u1"),
                ("UserPackage", "Home"),
                ("StatusType", "Suspended"),
                ("Date", "2025-01-01"),
            ],
        ),
        (
            "UserServiceAttributeContact",
            with(&[("ContactName", "Ann Lee")]),
        ),
        (
            "UserServiceAttributeTelecomBucket",
            with(&[("Bucket", "Minutes"), ("Amount", "100")]),
        ),
        (
            "UserServiceAttributeProfileAnswers",
            with(&[("Question", "Colour"), ("Answer", "Blue")]),
        ),
        (
            "UserServiceTechData",
            with(&[("Name", "MAC"), ("Value", "00:11")]),
        ),
        (
            "Ticket",
            vec![
                ("TicketID", "T1"),
                ("User", "u1"),
                ("Subject", "Slow line"),
                ("Date", "2025-01-15"),
                ("Status", "Closed"),
                ("ClosedBy", "staff"),
                ("Loggedby", "staff"),
                ("Dateclosed", "2025-02-18"),
                ("Contactmethod", "Phone"),
                ("Fromaddress", "ann@example.com"),
                ("Totaltimespent", "30"),
                ("Currenttimespent", "10"),
                ("Lastmodifiedby", "staff"),
                ("Hiddenresolution", "Reset the modem"),
                ("Showtouser", "true"),
                ("Duedate", "2025-01-20"),
            ],
        ),
    ]
}

/// What the aliased records left in the target, and the notes naming the aliases.
fn check_aliased_import(dir: &Path, db: &str, f: &[Value]) {
    let one = |sql: &str| int(dir, db, sql);
    for table in [
        "user_package_status_change",
        "user_service_contact",
        "user_service_telecom_bucket",
        "user_service_profile_answer",
        "user_service_attribute",
    ] {
        assert_eq!(one(&format!("SELECT count(*) FROM {table}")), 1, "{table}");
    }
    let t = rows(dir, db, "SELECT logged_by, date_closed, contact_method, from_address, total_time_spent, current_time_spent, last_modified_by, hidden_resolution, show_to_user, due_date FROM ticket");
    assert_eq!(t.len(), 1);
    assert!(t[0].iter().all(|v| v != "NULL"), "{t:?}");
    assert_eq!(t[0][0], "staff");
    assert_eq!(t[0][7], "Reset the modem");
    let notes: Vec<&str> = f
        .iter()
        .filter(|f| f["code"] == "input.alias")
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    for name in [
        "UserServiceAttributeContact",
        "UserServiceTechData",
        "Loggedby",
        "Duedate",
    ] {
        assert_eq!(
            notes.iter().filter(|n| **n == name).count(),
            1,
            "one note for {name}: {notes:?}"
        );
    }
    assert!(
        f.iter().all(|f| f["severity"] == "info"),
        "nothing but notes: {f:#?}"
    );
}

#[test]
fn vendor_names_are_read_in_xml() {
    let dir = scratch();
    let d = dir.path();
    write(&d.join("setup.xml"), xml(ALIAS_SETUP));
    assert_eq!(import(d, &["setup.xml"], &[]).0.code, 0);
    let mut body = String::new();
    // Twice each: one note per element name and per field spelling, not per record.
    for (i, (name, fields)) in aliased_records().iter().enumerate() {
        for copy in 0..2 {
            body.push_str(&format!("<{name}"));
            for (k, v) in fields {
                // (Ticket and service attributes have keys: their second copy is another one.)
                let v = if ["TicketID", "Bucket", "Name"].contains(k) && copy == 1 {
                    format!("{v}-{i}")
                } else {
                    v.to_string()
                };
                body.push_str(&format!(" {k}=\"{v}\""));
            }
            body.push_str("/>\n");
        }
    }
    write(&d.join("a.xml"), xml(&body));
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The second copies: identical records are skipped, the renamed ones imported.
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM ticket"), 2);
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM user_service_telecom_bucket"
        ),
        2
    );
    let f: Vec<Value> = f
        .into_iter()
        .filter(|f| f["code"] != "key.identical")
        .collect();
    assert!(!codes(&f).iter().any(|c| c != "input.alias"), "{f:#?}");
    let first = rows(
        d,
        "ferry.db",
        "SELECT count(*) FROM ticket WHERE ticket_id = 'T1'",
    );
    assert_eq!(first[0][0], "1");
    // A note is located at the first element that carries the name.
    let note = f.iter().find(|f| f["value"] == "Loggedby").unwrap();
    assert_eq!(note["field"], "LoggedBy");
    assert_eq!(note["entity"], "Ticket");
    assert!(note["row"].as_i64().unwrap() > 2);
}

#[test]
fn vendor_names_are_read_in_a_csv_folder_and_a_workbook() {
    let dir = scratch();
    let d = dir.path();
    write(&d.join("setup.xml"), xml(ALIAS_SETUP));
    // CSV folder: files named as the vendor names the types, headers spelled as it spells them.
    for (name, fields) in aliased_records() {
        let head: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        let vals: Vec<&str> = fields.iter().map(|(_, v)| *v).collect();
        write(
            &d.join(format!("c/{name}.csv")),
            format!("{}\n{}\n", head.join(","), vals.join(",")),
        );
    }
    assert_eq!(import(d, &["setup.xml", "--db", "c.db"], &[]).0.code, 0);
    let (r, f) = import(d, &["c", "--db", "c.db"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_aliased_import(d, "c.db", &f);
    let note = f
        .iter()
        .find(|f| f["value"] == "UserServiceTechData")
        .unwrap();
    assert!(note["file"]
        .as_str()
        .unwrap()
        .ends_with("UserServiceTechData.csv"));

    // Workbook: a sheet name has at most 31 characters, so the longer vendor names go in XML or
    // CSV; the others are sheets.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let mut long = String::new();
    for (name, fields) in aliased_records() {
        if name.len() > 31 {
            long.push_str(&format!("<{name}"));
            for (k, v) in &fields {
                long.push_str(&format!(" {k}=\"{v}\""));
            }
            long.push_str("/>\n");
            continue;
        }
        let ws = wb.add_worksheet().set_name(name).unwrap();
        for (c, (k, v)) in fields.iter().enumerate() {
            ws.write_string(0, c as u16, *k).unwrap();
            ws.write_string(1, c as u16, *v).unwrap();
        }
    }
    wb.save(d.join("w.xlsx")).unwrap();
    write(&d.join("long.xml"), xml(&long));
    assert_eq!(import(d, &["setup.xml", "--db", "w.db"], &[]).0.code, 0);
    let (r, f) = import(d, &["w.xlsx", "long.xml", "--db", "w.db"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    check_aliased_import(d, "w.db", &f);
    let note = f.iter().find(|f| f["value"] == "Dateclosed").unwrap();
    assert_eq!(note["sheet"], "Ticket");
    assert_eq!(note["row"], 1);
    assert_eq!(note["column"], "H");
}

/// Seed 003's close tag: its `CloseInvoice` attribute (column) is ignored without a warning.
#[test]
fn seed_close_tag_is_accepted_silently() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("a.xml"),
        xml("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2025-01-05\" Debit=\"10\"/>\n<CloseInvoice CloseInvoice=\"\"/>\n<Debit User=\"u1\" Date=\"2025-02-05\" Debit=\"20\"/>\n<CloseInvoice CloseInvoice=\"\"/>"),
    );
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(balances(d)["u1"], ("30.00".to_string(), 0));
    // The same as a CSV file with a CloseInvoice column.
    write(
        &d.join("c/User.csv"),
        "Name,Owner,Role\nu2,admin,Customer\n",
    );
    write(
        &d.join("c/Debit.csv"),
        "User,Date,Debit\nu2,2025-01-05,10\n",
    );
    write(&d.join("c/CloseInvoice.csv"), "User,CloseInvoice\nu2,\n");
    let (r, f) = import(d, &["c"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(f.is_empty(), "{f:#?}");
    assert_eq!(balances(d)["u2"], ("10.00".to_string(), 0));
}

// ---- Point 2: a later batch closes its own invoice ------------------------------------------

fn ferry_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> i32 {
    let mut c = command(dir, args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap().status.code().unwrap_or(-1)
}

/// Seed 003 imports history in batches, each closing its invoice "before adding more". Only the
/// same rows again are duplicates; a re-run of an old batch does not close a newer invoice.
#[test]
fn each_batch_closes_its_own_invoice() {
    let dir = scratch();
    let d = dir.path();
    let batch = |file: &str, date: &str, amount: &str| {
        write(
            &d.join(file),
            xml(&format!("<Debit User=\"A\" Date=\"{date}\" Debit=\"{amount}\"/>\n<CloseInvoice CloseInvoice=\"\"/>")),
        );
    };
    write(
        &d.join("u.xml"),
        xml("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    batch("jan.xml", "2024-01-05", "10");
    batch("feb.xml", "2024-02-05", "20");
    assert_eq!(import(d, &["u.xml"], &[]).0.code, 0);
    assert_eq!(import(d, &["jan.xml"], &[]).0.code, 0);
    // Test-only finds what the live run does.
    let (r, f) = import(d, &["feb.xml", "--test-only"], &[]);
    assert_eq!((r.code, f.len()), (0, 0), "{f:#?}");
    let (r, f) = import(d, &["feb.xml"], &[]);
    assert_eq!((r.code, f.len()), (0, 0), "{}\n{f:#?}", r.stderr);
    assert_eq!(balances(d)["A"], ("30.00".to_string(), 0));

    // The same rows again: duplicates (an error by default, skipped under skip).
    let (r, f) = import(d, &["feb.xml"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(codes(&f), vec!["ledger.duplicate", "ledger.duplicate"]);
    assert_eq!(f[1]["entity"], "CloseInvoice");
    let (r, f) = import(d, &["feb.xml", "jan.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(codes(&f), vec!["ledger.duplicate_skipped"; 4]);

    // March is left open; re-running January's batch must not close it.
    write(
        &d.join("mar.xml"),
        xml("<Debit User=\"A\" Date=\"2024-03-05\" Debit=\"5\"/>"),
    );
    assert_eq!(import(d, &["mar.xml"], &[]).0.code, 0);
    let (r, _) = import(d, &["jan.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(balances(d)["A"], ("35.00".to_string(), 1));

    // A close on its own closes the invoice a run left open; the same close again is a
    // duplicate of it.
    write(&d.join("close.xml"), xml("<CloseInvoice User=\"A\"/>"));
    let (r, f) = import(d, &["close.xml"], &[]);
    assert_eq!((r.code, f.len()), (0, 0), "{f:#?}");
    assert_eq!(balances(d)["A"], ("35.00".to_string(), 0));
    let (r, f) = import(d, &["close.xml"], &[]);
    assert_eq!(
        (r.code, codes(&f)),
        (1, vec!["ledger.duplicate".to_string()])
    );
}

/// A re-run killed between a duplicate charge and its close resumes to the same outcome: the
/// close is still recognised as the batch's (the producer replays the rows before the
/// checkpoint).
#[test]
fn a_resumed_rerun_still_knows_the_batch() {
    let dir = scratch();
    let d = dir.path();
    let mut body = String::from("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>\n");
    for m in 1..=6 {
        body.push_str(&format!(
            "<Debit User=\"A\" Date=\"2024-{m:02}-05\" Debit=\"{m}\"/>\n<Debit User=\"A\" Date=\"2024-{m:02}-06\" Debit=\"1\"/>\n<CloseInvoice User=\"A\"/>\n"
        ));
    }
    write(&d.join("h.xml"), xml(&body));
    assert_eq!(import(d, &["h.xml"], &[]).0.code, 0);
    // Open a newer invoice that a wrong identity would close.
    write(
        &d.join("n.xml"),
        xml("<Debit User=\"A\" Date=\"2024-07-05\" Debit=\"100\"/>"),
    );
    assert_eq!(import(d, &["n.xml"], &[]).0.code, 0);
    for n in 1..=6 {
        let args = [
            "import",
            "h.xml",
            "--on-existing",
            "skip",
            "--chunk-size",
            "2",
        ];
        let point = format!("after-commit:{n}");
        assert_eq!(
            ferry_env(d, &args, &[("FERRY_FAIL_AT", &point)]),
            -1,
            "killed"
        );
        let r = ferry(
            d,
            &[
                "import",
                "h.xml",
                "--on-existing",
                "skip",
                "--chunk-size",
                "2",
                "--resume",
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(
            balances(d)["A"],
            ("127.00".to_string(), 1),
            "after a kill at {point}"
        );
    }
}

/// A batch with a rejected row (`B`, a bad amount) closes the invoice of the rows it has. Fixed
/// in a later run, `B` is new: it lands on a new invoice, which the same close closes (it is not
/// a duplicate, since one of its rows is new). The same file again: nothing new, nothing open.
#[test]
fn a_row_fixed_in_a_later_run_is_closed_by_its_batch() {
    let dir = scratch();
    let d = dir.path();
    let batch = |b: &str| {
        write(
            &d.join("h.xml"),
            xml(&format!("<Debit User=\"A\" Date=\"2024-01-05\" Debit=\"10\"/>\n<Debit User=\"A\" Date=\"2024-01-06\" Debit=\"{b}\"/>\n<CloseInvoice CloseInvoice=\"\"/>")),
        );
    };
    write(
        &d.join("u.xml"),
        xml("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    assert_eq!(import(d, &["u.xml"], &[]).0.code, 0);
    batch("ten");
    let (r, f) = import(d, &["h.xml"], &[]);
    assert_eq!(
        (r.code, codes(&f)),
        (1, vec!["value.money_invalid".to_string()])
    );
    assert_eq!(balances(d)["A"], ("10.00".to_string(), 0));
    // B still rejected: nothing new, the close is the stored one.
    let (r, f) = import(d, &["h.xml"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        codes(&f),
        vec![
            "ledger.duplicate",
            "value.money_invalid",
            "ledger.duplicate"
        ]
    );
    assert_eq!(balances(d)["A"], ("10.00".to_string(), 0));
    // B fixed: new, on a new invoice, closed by the batch's close.
    batch("20");
    let (r, f) = import(d, &["h.xml"], &[]);
    assert_eq!(
        (r.code, codes(&f)),
        (1, vec!["ledger.duplicate".to_string()])
    );
    assert_eq!(balances(d)["A"], ("30.00".to_string(), 0));
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM invoice WHERE closed = 1"
        ),
        2
    );
    // The same file again: every row a duplicate, nothing new, no open invoice.
    let (r, f) = import(d, &["h.xml"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(codes(&f), vec!["ledger.duplicate"; 3]);
    let (r, f) = import(d, &["h.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 0);
    assert_eq!(codes(&f), vec!["ledger.duplicate_skipped"; 3]);
    assert_eq!(balances(d)["A"], ("30.00".to_string(), 0));
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM invoice"), 2);
}

/// A row rejected in this run does not make its batch new, nor does it hide a new row.
#[test]
fn rows_rejected_in_this_run_leave_the_batch_as_it_is() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("u.xml"),
        xml("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    assert_eq!(import(d, &["u.xml"], &[]).0.code, 0);
    let row = |date: &str, amount: &str| {
        format!("<Debit User=\"A\" Date=\"{date}\" Debit=\"{amount}\"/>\n")
    };
    write(
        &d.join("h1.xml"),
        xml(&format!(
            "{}<CloseInvoice User=\"A\"/>",
            row("2024-01-05", "10")
        )),
    );
    assert_eq!(import(d, &["h1.xml"], &[]).0.code, 0);
    // A newer invoice, left open, that a wrong close would close.
    write(&d.join("n.xml"), xml(&row("2024-03-05", "5")));
    assert_eq!(import(d, &["n.xml"], &[]).0.code, 0);
    // The old batch with a row that is rejected now: still only the same rows, a duplicate.
    write(
        &d.join("h2.xml"),
        xml(&format!(
            "{}{}<CloseInvoice User=\"A\"/>",
            row("2024-01-05", "10"),
            row("2024-01-07", "x")
        )),
    );
    let (r, f) = import(d, &["h2.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        codes(&f),
        vec![
            "ledger.duplicate_skipped",
            "value.money_invalid",
            "ledger.duplicate_skipped"
        ]
    );
    assert_eq!(balances(d)["A"], ("15.00".to_string(), 1));
    // A rejected row and a new one: the new one makes the close new (it closes the open
    // invoice, where the new row went).
    write(
        &d.join("h3.xml"),
        xml(&format!(
            "{}{}{}<CloseInvoice User=\"A\"/>",
            row("2024-01-05", "10"),
            row("2024-01-07", "x"),
            row("2024-03-06", "1")
        )),
    );
    let (r, f) = import(d, &["h3.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(
        codes(&f),
        vec!["ledger.duplicate_skipped", "value.money_invalid"]
    );
    assert_eq!(balances(d)["A"], ("16.00".to_string(), 0));
}

/// A batch does not run across files: a close in a file whose rows are all duplicates is the
/// stored close, although the file read before it in the same run had a new row of the account.
#[test]
fn a_batch_does_not_run_across_files() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("u.xml"),
        xml("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    assert_eq!(import(d, &["u.xml"], &[]).0.code, 0);
    write(
        &d.join("jan.xml"),
        xml("<Debit User=\"A\" Date=\"2024-01-05\" Debit=\"10\"/>\n<CloseInvoice User=\"A\"/>"),
    );
    assert_eq!(import(d, &["jan.xml"], &[]).0.code, 0);
    write(
        &d.join("mar.xml"),
        xml("<Debit User=\"A\" Date=\"2024-03-05\" Debit=\"5\"/>"),
    );
    let (r, f) = import(d, &["mar.xml", "jan.xml", "--on-existing", "skip"], &[]);
    assert_eq!(r.code, 0, "{f:#?}");
    assert_eq!(codes(&f), vec!["ledger.duplicate_skipped"; 2]);
    assert_eq!(balances(d)["A"], ("15.00".to_string(), 1));
}

/// Killed after the fixed row was imported, the resumed run still knows that row is new in
/// this run: the close closes its invoice.
#[test]
fn a_resumed_run_knows_which_rows_it_imported() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("u.xml"),
        xml("<User Name=\"A\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    assert_eq!(import(d, &["u.xml"], &[]).0.code, 0);
    let batch = |b: &str| {
        write(
            &d.join("h.xml"),
            xml(&format!("<Debit User=\"A\" Date=\"2024-01-05\" Debit=\"10\"/>\n<Debit User=\"A\" Date=\"2024-01-06\" Debit=\"{b}\"/>\n<CloseInvoice CloseInvoice=\"\"/>")),
        );
    };
    batch("ten");
    assert_eq!(import(d, &["h.xml"], &[]).0.code, 1);
    batch("20");
    let args = [
        "import",
        "h.xml",
        "--on-existing",
        "skip",
        "--chunk-size",
        "1",
    ];
    assert_eq!(
        ferry_env(d, &args, &[("FERRY_FAIL_AT", "after-commit:2")]),
        -1,
        "killed"
    );
    let mut resume = args.to_vec();
    resume.push("--resume");
    let r = ferry(d, &resume);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(balances(d)["A"], ("30.00".to_string(), 0));
}

// ---- Point 3: identical subscriptions are occurrences 1 and 2 --------------------------------

#[test]
fn two_identical_lines_are_two_holdings_and_a_rerun_skips_both() {
    let dir = scratch();
    let d = dir.path();
    let setup = "<Service Name=\"Line\"/>\n<Package Name=\"Phone\"/>\n<PackageService Package=\"Phone\" Service=\"Line\"/>\n<User Name=\"fam\" Owner=\"admin\" Role=\"Customer\"/>";
    let lines = "<UserPackage User=\"fam\" Name=\"Phone\"/>\n<UserPackage User=\"fam\" Name=\"Phone\"/>\n<UserService User=\"fam\" UserPackage=\"Phone\" Name=\"Line\"/>\n<UserService User=\"fam\" UserPackage=\"Phone\" Name=\"Line\"/>";
    write(&d.join("a.xml"), xml(&format!("{setup}\n{lines}")));
    let count = |t: &str| int(d, "ferry.db", &format!("SELECT count(*) FROM {t}"));
    // The target first: a test-only run on a missing ./ferry.db rehearses in a temporary one.
    assert_eq!(ferry(d, &["init"]).code, 0);
    let (r, f) = import(d, &["a.xml", "--test-only"], &[]);
    assert_eq!((r.code, f.len()), (0, 0), "{f:#?}");
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!((r.code, f.len()), (0, 0), "{f:#?}");
    assert_eq!((count("user_package"), count("user_service")), (2, 2));
    // The same file again: both skipped as identical, in every mode.
    for flags in [&[][..], &["--on-existing", "update"][..]] {
        let (r, f) = import(d, &["a.xml"], flags);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let identical = f.iter().filter(|f| f["code"] == "key.identical").count();
        assert_eq!(identical, 8, "{f:#?}");
        assert_eq!((count("user_package"), count("user_service")), (2, 2));
    }
    // A family that takes a third line lists all three: the first two are the stored ones.
    write(
        &d.join("b.xml"),
        xml("<UserPackage User=\"fam\" Name=\"Phone\"/>\n<UserPackage User=\"fam\" Name=\"Phone\"/>\n<UserPackage User=\"fam\" Name=\"Phone\"/>"),
    );
    assert_eq!(import(d, &["b.xml"], &[]).0.code, 0);
    assert_eq!(count("user_package"), 3);
    // The occurrence is a stored key column; a line that differs from its stored occurrence is
    // that holding changed, not a new one.
    let occ = rows(
        d,
        "ferry.db",
        "SELECT occurrence FROM user_package ORDER BY id",
    );
    assert_eq!(occ, vec![vec!["1"], vec!["2"], vec!["3"]]);
    write(
        &d.join("c.xml"),
        xml("<UserPackage User=\"fam\" Name=\"Phone\" Quantity=\"2\"/>"),
    );
    let (r, f) = import(d, &["c.xml"], &[]);
    assert_eq!((r.code, codes(&f)), (1, vec!["key.exists".to_string()]));
    assert_eq!(count("user_package"), 3);
    // Export and import into a fresh target keeps both occurrences.
    let r = ferry(d, &["export", "--format", "xml", "out.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["import", "out.xml", "--db", "fresh.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(int(d, "fresh.db", "SELECT count(*) FROM user_package"), 3);
    assert_eq!(int(d, "fresh.db", "SELECT count(*) FROM user_service"), 2);
}

// ---- Point 4: a profile answer's Occurrence must exist --------------------------------------

#[test]
fn an_occurrence_beyond_the_held_services_is_an_error() {
    let dir = scratch();
    let d = dir.path();
    let setup = "<Service Name=\"Line\"/>\n<Package Name=\"Phone\"/>\n<PackageService Package=\"Phone\" Service=\"Line\"/>\n<ProfileQuestion Name=\"Number\" AppliesTo=\"Service\" Target=\"Line\"/>\n<User Name=\"fam\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPackage User=\"fam\" Name=\"Phone\"/>\n<UserService User=\"fam\" UserPackage=\"Phone\" Name=\"Line\"/>";
    let answer = |n: u32| {
        format!("<UserServiceProfileAnswer User=\"fam\" UserPackage=\"Phone\" UserService=\"Line\" Question=\"Number\" Answer=\"555-010{n}\" Occurrence=\"{n}\"/>")
    };
    write(
        &d.join("a.xml"),
        xml(&format!(
            "{setup}\n{}\n{}\n{}",
            answer(1),
            answer(3),
            answer(2)
        )),
    );
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!(r.code, 1);
    let bad: Vec<(&str, &str, i64)> = f
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            (
                f["code"].as_str().unwrap(),
                f["field"].as_str().unwrap(),
                f["row"].as_i64().unwrap(),
            )
        })
        .collect();
    // Occurrence 1 stands; 3 and 2 name services the account does not hold (it holds one).
    assert_eq!(
        bad,
        vec![
            ("subscription.occurrence_unknown", "Occurrence", 11),
            ("subscription.occurrence_unknown", "Occurrence", 12)
        ],
        "{f:#?}"
    );
    assert!(
        f[0]["message"].as_str().unwrap().contains("1 time."),
        "{f:#?}"
    );
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM user_service_profile_answer"
        ),
        1
    );
    // With a second line held (the same run), occurrence 2 is there.
    write(
        &d.join("b.xml"),
        xml(&format!(
            "<UserService User=\"fam\" UserPackage=\"Phone\" Name=\"Line\"/>\n<UserService User=\"fam\" UserPackage=\"Phone\" Name=\"Line\"/>\n{}",
            answer(2)
        )),
    );
    let (r, f) = import(d, &["b.xml"], &[]);
    assert_eq!(r.code, 0, "{f:#?}");
    // The count behind the check is a keyed lookup, not a scan of every account's services.
    let count = "SELECT count(*) FROM user_service WHERE \"user\" = 'fam' AND user_package = 'Phone' AND name = 'Line'";
    assert_eq!(int(d, "ferry.db", count), 2);
    if pg() {
        let q = "SELECT count(*) FROM pg_indexes WHERE indexname = 'user_service_key'";
        assert_eq!(int(d, "ferry.db", q), 1);
    } else {
        let plan = rows(d, "ferry.db", &format!("EXPLAIN QUERY PLAN {count}"));
        assert!(
            plan.iter().any(|r| r[3].contains("INDEX user_service_key")),
            "{plan:?}"
        );
    }
}

// ---- Point 7: reversed periods, raw '<', payment-method details in source order -------------

#[test]
fn a_period_that_ends_before_it_starts_is_an_error() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("a.xml"),
        xml("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<Debit User=\"u1\" Date=\"2025-02-01\" Debit=\"10\" PeriodStart=\"2025-02-01\" PeriodEnd=\"2025-01-31\"/>\n<Debit User=\"u1\" Date=\"2025-02-01\" Debit=\"5\" PeriodStart=\"2025-02-01 10:00\" PeriodEnd=\"2025-02-01\"/>\n<Debit User=\"u1\" Date=\"2025-02-01\" Debit=\"7\" PeriodStart=\"2025-02-01\" PeriodEnd=\"2025-02-28\"/>"),
    );
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(codes(&f), vec!["ledger.period_reversed"], "{f:#?}");
    assert_eq!(
        (f[0]["row"].as_i64(), f[0]["field"].as_str()),
        (Some(4), Some("PeriodEnd"))
    );
    // The rejected charge is not on the invoice: 5 + 7.
    assert_eq!(balances(d)["u1"].0, "12.00");
}

#[test]
fn a_raw_less_than_in_an_attribute_is_malformed_xml() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("a.xml"),
        xml("<Role Name=\"Member\"/>\n<User Name=\"a<b\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    let r = ferry(d, &["import", "a.xml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("a.xml:4:"), "{}", r.stderr);
    assert!(r.stderr.contains("'<'"), "{}", r.stderr);
    // Nothing was written: the run stops before the first write.
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM role WHERE name = 'Member'"
        ),
        0
    );
    // Escaped, it is a value like any other.
    write(
        &d.join("b.xml"),
        xml("<User Name=\"a&lt;b\" Owner=\"admin\" Role=\"Customer\"/>"),
    );
    assert_eq!(ferry(d, &["import", "b.xml"]).code, 0);
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM \"user\" WHERE name = 'a<b'"
        ),
        1
    );
    // On every element: the root, an unknown or ignored element, a nested one, an ignored field.
    for (n, doc) in [
        "<?xml version=\"1.0\"?>\n<Import note=\"a<b\">\n<Role Name=\"M\"/>\n</Import>\n",
        "<?xml version=\"1.0\"?>\n<Import>\n<Role Name=\"M\"/>\n<Nothing x=\"a<b\"/>\n</Import>\n",
        "<?xml version=\"1.0\"?>\n<Import>\n<Role Name=\"M\"/>\n<_Notes x=\"a<b\"/>\n</Import>\n",
        "<?xml version=\"1.0\"?>\n<Import>\n<Role Name=\"M\"><Inner x=\"a<b\"/></Role>\n</Import>\n",
        "<?xml version=\"1.0\"?>\n<Import>\n<Role Name=\"M\"/>\n<CloseInvoice User=\"u\" CloseInvoice=\"<\"/>\n</Import>\n",
    ]
    .iter()
    .enumerate()
    {
        let file = format!("c{n}.xml");
        write(&d.join(&file), doc);
        let r = ferry(d, &["import", &file, "--test-only"]);
        assert_eq!(r.code, 2, "{doc}: {}", r.stderr);
        assert!(r.stderr.contains("'<'"), "{doc}: {}", r.stderr);
    }
}

/// A vendor's spelling and Ferry's name of one field on one element: the record is rejected
/// (neither value is taken); the file is read.
#[test]
fn an_alias_and_the_field_on_one_element_reject_the_record() {
    let dir = scratch();
    let d = dir.path();
    for (file, attrs) in [
        ("a.xml", "BillDay=\"1\" BilllDay=\"2\""),
        ("b.xml", "BilllDay=\"2\" BillDay=\"\""),
    ] {
        write(
            &d.join(file),
            xml(&format!("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" {attrs}/>\n<User Name=\"u2\" Owner=\"admin\" Role=\"Customer\"/>")),
        );
        let (r, f) = import(d, &[file, "--test-only"], &[]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let errors: Vec<(&str, &str)> = f
            .iter()
            .filter(|f| f["severity"] == "error")
            .map(|f| (f["code"].as_str().unwrap(), f["field"].as_str().unwrap()))
            .collect();
        assert_eq!(errors, vec![("input.field_twice", "BillDay")], "{f:#?}");
    }
    // The same name twice is still malformed XML.
    write(
        &d.join("c.xml"),
        xml("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"1\" BillDay=\"2\"/>"),
    );
    assert_eq!(ferry(d, &["import", "c.xml"]).code, 2);
}

/// Check (line 5) before Cash (line 6): the Check stands and the Cash is the error naming line 5,
/// although Cash is processed first.
#[test]
fn the_first_payment_detail_in_source_order_stands() {
    let dir = scratch();
    let d = dir.path();
    write(
        &d.join("a.xml"),
        xml("<User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/>\n<UserPaymentMethod User=\"u1\" Ref=\"m1\"/>\n<UserPaymentMethodCheck Ref=\"m1\" BankName=\"First Bank\"/>\n<UserPaymentMethodCash Ref=\"m1\"/>"),
    );
    let (r, f) = import(d, &["a.xml"], &[]);
    assert_eq!(r.code, 1);
    assert_eq!(codes(&f), vec!["payment.method_conflict"], "{f:#?}");
    assert_eq!(f[0]["entity"], "UserPaymentMethodCash");
    assert_eq!(f[0]["row"], 6);
    let msg = f[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("Check detail earlier in this run (at a.xml:5)"),
        "{msg}"
    );
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM user_payment_method_check"
        ),
        1
    );
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM user_payment_method_cash"
        ),
        0
    );
}

// ---- Phases renumbered: a checkpoint of another phase order is not resumed --------------------

/// A run interrupted by a Ferry whose phases are in another order (or that recorded none, as
/// every Ferry before this check did) is refused on resume with what to do; with the order
/// this Ferry records, it resumes.
#[test]
fn a_checkpoint_of_another_phase_order_is_refused() {
    let dir = scratch();
    let d = dir.path();
    let mut body = String::new();
    for i in 1..=6 {
        body.push_str(&format!("<Role Name=\"R{i}\"/>\n"));
    }
    write(&d.join("a.xml"), xml(&body));
    let args = ["import", "a.xml", "--chunk-size", "2"];
    assert_eq!(
        ferry_env(d, &args, &[("FERRY_FAIL_AT", "after-commit:1")]),
        -1,
        "killed"
    );
    let t = target(d, "ferry.db");
    let run = t.int("SELECT max(id) FROM run", &[]).unwrap();
    let options = |t: &ferry_store::Target| {
        t.rows(
            "SELECT options FROM run WHERE id = ?1",
            ferry_store::params![&run],
        )
        .unwrap()
        .remove(0)
        .0
        .remove(0)
    };
    let original = options(&t);
    let ferry_store::Cell::Text(original) = original else {
        panic!("options {original:?}")
    };
    assert!(original.contains("\"phases\""), "{original}");
    let mut resume = args.to_vec();
    resume.push("--resume");
    for (what, changed) in [
        (
            "another order",
            original.replace("\"phases\":\"", "\"phases\":\"0"),
        ),
        ("no order", original.replace("\"phases\"", "\"older\"")),
    ] {
        t.exec(
            "UPDATE run SET options = ?1 WHERE id = ?2",
            ferry_store::params![&changed, &run],
        )
        .unwrap();
        let r = ferry(d, &resume);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
        assert!(
            r.stderr.contains("phases differ")
                && r.stderr.contains(&format!("ferry rollback {run}")),
            "{what}: {}",
            r.stderr
        );
        let r = ferry(d, &["resume", &run.to_string()]);
        assert_eq!(r.code, 2, "{what}: {}", r.stderr);
    }
    t.exec(
        "UPDATE run SET options = ?1 WHERE id = ?2",
        ferry_store::params![&original, &run],
    )
    .unwrap();
    drop(t);
    let r = ferry(d, &resume);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT count(*) FROM role WHERE name LIKE 'R%'"
        ),
        6
    );
}
