//! `ferry import --mapping`, `ferry map preview|save|list` (issue 14): legacy exports in their
//! own shape — a flat member list, a D/M/Y payments export with thousands separators and rows
//! to filter out, a workbook, XML elements, windows-1252 — through the real binary, on the
//! test's backend.

mod common;
use common::*;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &[u8])]) {
    for (p, c) in files {
        std::fs::write(dir.join(p), c).unwrap();
    }
}

fn logged(d: &Path, log: &str) -> Vec<serde_json::Value> {
    findings(&d.join(log))
}

fn codes(f: &[serde_json::Value]) -> Vec<String> {
    f.iter()
        .map(|x| x["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A UK member list: BOM, D.M.Y dates, two phone columns, legacy status codes, a deleted flag.
const MEMBERS: &str = "\u{feff}Member No,first_name,last_name,company_name,address,city,county,postal,phone1,phone2,email,Joined,Status,Deleted\n\
M-001,Ann,Smith,Smith & Co,1 High Street,Leeds,West Yorkshire,LS1 4AP,0113 496 0000,07700 900123,ann@example.com,03.01.2019,A,N\n\
M-002,Bob,Jones,,2 Low Road,York,North Yorkshire,YO1 7HH,01904 496 000,,bob@example.com,25.12.2018,L,N\n\
M-003,Cy,Doe,,3 Mill Lane,Hull,East Riding,HU1 2AA,,,cy@example.com,09.06.2016,A,Y\n";

const MEMBERS_MAPPING: &str = r#"version = 1

[[source]]
name = "UK member list"
match = { file = "members*.csv" }
account = "Member No"
skip = [{ column = "Deleted", equals = "Y" }]

[source.columns.Joined]
format = "%d.%m.%Y"

[[source.record]]
entity = "User"
fields.Owner = { value = "admin" }
fields.Role = { value = "Customer" }
fields.CreatedDate = "Joined"
fields.StatusType = { column = "Status", map = { A = "Active", L = "Active" } }

[[source.record]]
entity = "Contact"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.ContactFirstName = "first_name"
fields.ContactLastName = "last_name"
fields.ContactType = { value = "Billing Contact" }

[[source.record]]
entity = "ContactEmail"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Email = "email"

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone1"

[[source.record]]
entity = "ContactPhone"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Phone = "phone2"
fields.ContactPointType = { value = "Mobile Phone" }

[[source.record]]
entity = "ContactAddress"
fields.ContactName = { template = "{first_name} {last_name}" }
fields.Address1 = "address"
fields.City = "city"
fields.Region = "county"
fields.PostalCode = "postal"
fields.Country = { value = "GB" }
"#;

#[test]
fn a_flat_member_list_imports_through_a_mapping() {
    let s = scratch();
    let d = s.path();
    write(
        d,
        &[
            ("members.csv", MEMBERS.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "m.toml",
            "--phone-region",
            "GB",
            "--log",
            "f.jsonl",
        ],
    );
    let f = logged(d, "f.jsonl");
    assert_eq!(r.code, 0, "{}\n{f:#?}", r.stderr);
    // M-003 is deleted in the legacy system: left out by the filter, and said so.
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM \"user\""), 2);
    let left = f
        .iter()
        .find(|x| x["code"] == "mapping.filtered")
        .expect("filtered note");
    assert!(
        left["message"].as_str().unwrap().contains("1 row(s)"),
        "{left}"
    );
    // Company is read by no field: listed once, never lost silently.
    let unused: Vec<_> = f
        .iter()
        .filter(|x| x["code"] == "mapping.unused_column")
        .collect();
    assert_eq!(unused.len(), 1, "{f:#?}");
    assert!(unused[0]["message"]
        .as_str()
        .unwrap()
        .contains("\"company_name\""));
    // D.M.Y dates under their pattern: 3 January 2019, never 1 March.
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT name, created_date FROM \"user\" ORDER BY name"
        ),
        vec![
            vec!["M-001".to_string(), "2019-01-03".into()],
            vec!["M-002".into(), "2018-12-25".into()]
        ]
    );
    // One row gave a contact, its e-mail, two phones (the second only where phone2 is given)
    // and an address.
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM contact_phone"), 3);
    assert_eq!(
        int(
            d,
            "ferry.db",
            "SELECT COUNT(*) FROM contact_phone WHERE contact_point_type = 'Mobile Phone'"
        ),
        1
    );
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT contact_name, region, country FROM contact_address WHERE \"user\" = 'M-001'"
        ),
        vec![vec![
            "Ann Smith".to_string(),
            "West Yorkshire".into(),
            "GB".into()
        ]]
    );
    // Findings point at the source cell: a phone of line 2, column 9 (phone1).
    let runs = rows(d, "ferry.db", "SELECT options FROM run");
    assert!(runs[0][0].contains("\"mapping\""), "{:?}", runs[0][0]);
    assert!(
        runs[0][0].contains("\"given\":\"m.toml\""),
        "{:?}",
        runs[0][0]
    );
}

#[test]
fn a_value_the_mapping_cannot_read_rejects_its_record_only() {
    let s = scratch();
    let d = s.path();
    let bad = MEMBERS.replace("25.12.2018,L", "31.02.2019,Q");
    write(
        d,
        &[
            ("members.csv", bad.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "m.toml",
            "--phone-region",
            "GB",
            "--log",
            "f.jsonl",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = logged(d, "f.jsonl");
    let mapped: Vec<_> = f.iter().filter(|x| x["code"] == "mapping.value").collect();
    assert_eq!(mapped.len(), 2, "{f:#?}");
    // Located at the cell: line 3, the Joined column (12th) and the Status column (13th).
    assert_eq!(mapped[0]["row"], 3);
    assert_eq!(mapped[0]["column"], "12");
    assert!(mapped[0]["message"]
        .as_str()
        .unwrap()
        .contains("31.02.2019"));
    assert!(mapped[1]["message"]
        .as_str()
        .unwrap()
        .contains("\"Q\" is not in the value map"));
    // The account is rejected with what it could read, so its contacts follow as rejected
    // children (not as unknown accounts).
    assert!(
        codes(&f).contains(&"reference.rejected_parent".to_string()),
        "{f:#?}"
    );
    assert!(!codes(&f).contains(&"value.required".to_string()), "{f:#?}");
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM \"user\""), 1);
}

#[test]
fn a_mapping_reading_a_column_the_file_lacks_stops_before_writing() {
    let s = scratch();
    let d = s.path();
    let renamed = MEMBERS.replace("postal,", "postcode,");
    write(
        d,
        &[
            ("members.csv", renamed.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(d, &["import", "members.csv", "--mapping", "m.toml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("postal"), "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean \"postcode\""),
        "{}",
        r.stderr
    );
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM \"user\""), 0);
}

#[test]
fn a_broken_mapping_lists_every_problem_with_its_line() {
    let s = scratch();
    let d = s.path();
    let broken = MEMBERS_MAPPING
        .replace("entity = \"ContactEmail\"", "entity = \"ContactMail\"")
        .replace("fields.City = \"city\"", "fields.Town = \"city\"");
    write(
        d,
        &[
            ("members.csv", MEMBERS.as_bytes()),
            ("m.toml", broken.as_bytes()),
        ],
    );
    let r = ferry(d, &["import", "members.csv", "--mapping", "m.toml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("ContactMail"), "{}", r.stderr);
    assert!(r.stderr.contains("Town"), "{}", r.stderr);
    assert!(r.stderr.contains("line "), "{}", r.stderr);
    let r = ferry(d, &["import", "members.csv", "--mapping", "nosuch"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no such file"), "{}", r.stderr);
}

/// A PayPal-style activity download: D/M/Y dates, thousands separators, a currency symbol,
/// fees, and rows that are not incoming completed payments.
const PAYPAL: &str = "\u{feff}\"Date\",\"Time\",\"Name\",\"Type\",\"Status\",\"Currency\",\"Gross\",\"Fee\",\"Net\",\"From Email Address\",\"Transaction ID\",\"Customer ID\"\n\
\"09/06/2016\",\"10:01:02\",\"Ann Smith\",\"Subscription Payment\",\"Completed\",\"GBP\",\"£1,234.50\",\"-35.85\",\"1,198.65\",\"ann@example.com\",\"7AB12345CD678901E\",\"M-001\"\n\
\"25/06/2016\",\"11:00:00\",\"Bob Jones\",\"Subscription Payment\",\"Completed\",\"GBP\",\"£12.00\",\"-0.55\",\"11.45\",\"bob@example.com\",\"8AB12345CD678901E\",\"M-002\"\n\
\"26/06/2016\",\"11:00:00\",\"Bob Jones\",\"Subscription Payment\",\"Pending\",\"GBP\",\"£12.00\",\"-0.55\",\"11.45\",\"bob@example.com\",\"9AB12345CD678901E\",\"M-002\"\n\
\"30/06/2016\",\"09:00:00\",\"\",\"General Withdrawal\",\"Completed\",\"GBP\",\"-500.00\",\"0.00\",\"-500.00\",\"\",\"0AB12345CD678901E\",\"\"\n";

const PAYPAL_MAPPING: &str = r#"version = 1

[[source]]
match = { file = "paypal*.csv" }
account = "Customer ID"
keep = [{ column = "Status", equals = "Completed" }]
skip = [{ column = "Type", in = ["General Withdrawal", "Fee"] }]

[source.columns.Date]
format = "%d/%m/%Y"

[source.columns.Gross]
decimalChar = "."
groupChar = ","
bareNumber = false

[[source.record]]
entity = "Payment"
fields.Date = "Date"
fields.Credit = "Gross"
fields.Reference = "Transaction ID"
"#;

#[test]
fn a_dmy_payments_export_with_thousands_separators_and_filters() {
    let s = scratch();
    let d = s.path();
    write(
        d,
        &[
            ("members.csv", MEMBERS.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
            ("paypal.csv", PAYPAL.as_bytes()),
            ("p.toml", PAYPAL_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "m.toml",
            "--phone-region",
            "GB",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "import",
            "paypal.csv",
            "--mapping",
            "p.toml",
            "--log",
            "f.jsonl",
        ],
    );
    let f = logged(d, "f.jsonl");
    assert_eq!(r.code, 0, "{}\n{f:#?}", r.stderr);
    // 9 June, not 6 September; £1,234.50 is 1234.50 (money is stored in ten-thousandths).
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT \"user\", date, credit_e4 FROM payment ORDER BY date"
        ),
        vec![
            vec!["M-001".to_string(), "2016-06-09".into(), "12345000".into()],
            vec!["M-002".into(), "2016-06-25".into(), "120000".into()]
        ]
    );
    let left: Vec<_> = f
        .iter()
        .filter(|x| x["code"] == "mapping.filtered")
        .collect();
    assert_eq!(left.len(), 2, "{left:#?}");
}

#[test]
fn a_resume_refuses_a_changed_mapping() {
    let s = scratch();
    let d = s.path();
    let mut many = String::from("\u{feff}Member No,Joined\n");
    for i in 0..40 {
        many.push_str(&format!("N{i:03},0{}.01.2019\n", 1 + i % 9));
    }
    let mapping = "version = 1\n[[source]]\nmatch = { file = \"many.csv\" }\naccount = \"Member No\"\n[source.columns.Joined]\nformat = \"%d.%m.%Y\"\n[[source.record]]\nentity = \"User\"\nfields.Owner = { value = \"admin\" }\nfields.Role = { value = \"Customer\" }\nfields.CreatedDate = \"Joined\"\n";
    write(
        d,
        &[
            ("many.csv", many.as_bytes()),
            ("m.toml", mapping.as_bytes()),
        ],
    );
    let args = [
        "import",
        "many.csv",
        "--mapping",
        "m.toml",
        "--chunk-size",
        "5",
    ];
    let out = command(d, &args)
        .env("FERRY_FAIL_AT", "after-commit:2")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(int(d, "ferry.db", "SELECT COUNT(*) FROM \"user\"") > 0);
    // The mapping changed meanwhile (a role): the run cannot be resumed with it.
    std::fs::write(d.join("m.toml"), mapping.replace("Customer", "Member")).unwrap();
    let mut resume = args.to_vec();
    resume.push("--resume");
    let r = ferry(d, &resume);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("mapping"), "{}", r.stderr);
    let r = ferry(d, &["resume", "1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("mapping"), "{}", r.stderr);
    // With the mapping it started with, it finishes.
    std::fs::write(d.join("m.toml"), mapping).unwrap();
    let r = ferry(d, &["resume", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM \"user\""), 40);
}

#[test]
fn a_saved_mapping_is_listed_exported_imported_and_applied() {
    let s = scratch();
    let d = s.path();
    write(
        d,
        &[
            ("members.csv", MEMBERS.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(d, &["map", "save", "UK members", "m.toml", "--db", "a.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["map", "list", "--db", "a.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("UK members"), "{}", r.stdout);
    assert!(r.stdout.contains("UK member list"), "{}", r.stdout);
    // config export carries it; config import into another target; applied by name there.
    let r = ferry(d, &["config", "export", "--db", "a.db", "config.xml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["config", "import", "config.xml", "--db", "b.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["map", "list", "--db", "b.db", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(listed["name"], "UK members");
    std::fs::remove_file(d.join("m.toml")).unwrap();
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "UK members",
            "--db",
            "b.db",
            "--phone-region",
            "GB",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(int(d, "b.db", "SELECT COUNT(*) FROM \"user\""), 2);
    let opts = rows(d, "b.db", "SELECT options FROM run WHERE kind = 'import'");
    assert!(opts[0][0].contains("\"from\":\"saved\""), "{:?}", opts);
    // `saved:NAME` never reads a file, even one of that name beside the command.
    std::fs::write(d.join("saved:UK members"), "not a mapping").unwrap();
    std::fs::write(d.join("UK members"), "not a mapping").unwrap();
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "saved:UK members",
            "--db",
            "b.db",
            "--test-only",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "import",
            "members.csv",
            "--mapping",
            "saved:nosuch",
            "--db",
            "b.db",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn preview_shows_records_and_findings_before_anything_runs() {
    let s = scratch();
    let d = s.path();
    let bad = MEMBERS.replace("25.12.2018,L", "31.02.2019,L");
    write(
        d,
        &[
            ("members.csv", bad.as_bytes()),
            ("m.toml", MEMBERS_MAPPING.as_bytes()),
        ],
    );
    let r = ferry(
        d,
        &[
            "map",
            "preview",
            "members.csv",
            "--mapping",
            "m.toml",
            "--rows",
            "2",
            "--phone-region",
            "GB",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("✓ User                   Name=M-001"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("CreatedDate=2019-01-03"), "{}", r.stdout);
    assert!(r.stdout.contains("✗ User"), "{}", r.stdout);
    assert!(r.stdout.contains("31.02.2019"), "{}", r.stdout);
    assert!(!r.stdout.contains("M-003"), "only 2 rows: {}", r.stdout);
    let r = ferry(
        d,
        &[
            "map",
            "preview",
            "members.csv",
            "--mapping",
            "m.toml",
            "--rows",
            "3",
            "--json",
        ],
    );
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["left_out"], "skipped where Deleted = \"Y\"");
    assert_eq!(lines[0]["records"][0]["entity"], "User");
    // Nothing was created.
    assert!(!d.join("ferry.db").exists());
}

#[test]
fn xml_elements_and_windows_1252_exports_are_mapped() {
    let s = scratch();
    let d = s.path();
    let xml = "<?xml version=\"1.0\"?>\n<Export>\n<Member id=\"X1\" joined=\"2019-01-03T23:30:00-08:00\" first=\"Zoë\" last=\"Ötzi\"/>\n<Member id=\"X2\" joined=\"2020-02-29T00:10:00.000Z\" first=\"Al\"/>\n</Export>\n";
    let xml_map = "version = 1\n[[source]]\nmatch = { element = \"Member\" }\naccount = \"id\"\n[source.columns.joined]\nformat = \"iso\"\n[[source.record]]\nentity = \"User\"\nfields.Owner = { value = \"admin\" }\nfields.Role = { value = \"Customer\" }\nfields.CreatedDate = \"joined\"\n[[source.record]]\nentity = \"Contact\"\nfields.ContactName = { template = \"{first} {last}\" }\nfields.ContactType = { value = \"Billing Contact\" }\n";
    // A Salesforce-style account export saved in windows-1252: "Müller & Söhne – Café".
    let mut csv =
        b"Id,Name,CreatedDate\n001A,M\xfcller & S\xf6hne \x96 Caf\xe9,2019-01-03T10:15:30.000Z\n"
            .to_vec();
    csv.extend_from_slice(b"001B,Plain Ltd,2018-12-31T23:59:59+01:00\n");
    let csv_map = "version = 1\n[[source]]\nmatch = { file = \"accounts.csv\" }\naccount = \"Id\"\n[source.columns.CreatedDate]\nformat = \"iso\"\n[[source.record]]\nentity = \"User\"\nfields.Owner = { value = \"admin\" }\nfields.Role = { value = \"Customer\" }\nfields.CreatedDate = \"CreatedDate\"\n[[source.record]]\nentity = \"Contact\"\nfields.ContactName = \"Name\"\nfields.ContactType = { value = \"Billing Contact\" }\n";
    write(
        d,
        &[
            ("export.xml", xml.as_bytes()),
            ("x.toml", xml_map.as_bytes()),
            ("accounts.csv", &csv),
            ("c.toml", csv_map.as_bytes()),
        ],
    );
    let r = ferry(d, &["import", "export.xml", "--mapping", "x.toml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(
        d,
        &[
            "import",
            "accounts.csv",
            "--mapping",
            "c.toml",
            "--encoding",
            "windows-1252",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Dates as written: the zone is dropped, never converted (2019-01-03 stays the 3rd).
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT name, created_date FROM \"user\" ORDER BY name"
        ),
        vec![
            vec!["001A".to_string(), "2019-01-03 10:15:30".into()],
            vec!["001B".into(), "2018-12-31 23:59:59".into()],
            vec!["X1".into(), "2019-01-03 23:30:00".into()],
            vec!["X2".into(), "2020-02-29 00:10:00".into()]
        ]
    );
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT contact_name FROM contact WHERE \"user\" IN ('001A', 'X1') ORDER BY \"user\""
        ),
        vec![
            vec!["Müller & Söhne – Café".to_string()],
            vec!["Zoë Ötzi".into()]
        ]
    );
}

#[test]
fn a_workbook_of_companies_and_their_people() {
    let s = scratch();
    let d = s.path();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let c = wb.add_worksheet().set_name("Companies").unwrap();
    for (i, h) in ["Company ID", "Company", "Since"].iter().enumerate() {
        c.write_string(0, i as u16, *h).unwrap();
    }
    let date = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    for (r, (id, name, day)) in [("C1", "Acme Ltd", 9u8), ("C2", "Globex", 25)]
        .iter()
        .enumerate()
    {
        let r = r as u32 + 1;
        c.write_string(r, 0, *id).unwrap();
        c.write_string(r, 1, *name).unwrap();
        let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(2016, 6, *day).unwrap();
        c.write_datetime_with_format(r, 2, &dt, &date).unwrap();
    }
    let p = wb.add_worksheet().set_name("People").unwrap();
    for (i, h) in ["Company ID", "Full Name", "E-mail", "Phone"]
        .iter()
        .enumerate()
    {
        p.write_string(0, i as u16, *h).unwrap();
    }
    for (r, row) in [
        ["C1", "Ann Smith", "ann@acme.example", "+44 113 496 0000"],
        ["C2", "Bob Jones", "bob@globex.example", ""],
    ]
    .iter()
    .enumerate()
    {
        for (i, v) in row.iter().enumerate() {
            if !v.is_empty() {
                p.write_string(r as u32 + 1, i as u16, *v).unwrap();
            }
        }
    }
    wb.save(d.join("crm.xlsx")).unwrap();
    let mapping = r#"version = 1
[[source]]
match = { sheet = "Companies" }
account = "Company ID"
[source.columns.Since]
format = "%d/%m/%Y"
[[source.record]]
entity = "User"
fields.Owner = { value = "admin" }
fields.Role = { value = "Customer" }
fields.CreatedDate = "Since"
[[source.record]]
entity = "Contact"
fields.ContactName = "Company"
fields.ContactType = { value = "Billing Contact" }

[[source]]
match = { sheet = "People" }
account = "Company ID"
[[source.record]]
entity = "Contact"
fields.ContactName = "Full Name"
fields.ContactFirstName = { split = { column = "Full Name", part = 1, max = 2 } }
fields.ContactLastName = { split = { column = "Full Name", part = 2, max = 2 } }
fields.ContactType = { value = "Billing Contact" }
[[source.record]]
entity = "ContactEmail"
fields.ContactName = "Full Name"
fields.Email = "E-mail"
[[source.record]]
entity = "ContactPhone"
fields.ContactName = "Full Name"
fields.Phone = "Phone"
"#;
    write(d, &[("crm.toml", mapping.as_bytes())]);
    let r = ferry(
        d,
        &[
            "import",
            "crm.xlsx",
            "--mapping",
            "crm.toml",
            "--log",
            "f.jsonl",
        ],
    );
    let f = logged(d, "f.jsonl");
    assert_eq!(r.code, 0, "{}\n{f:#?}", r.stderr);
    // A real date cell (no text to misread) keeps its day: 9 June 2016.
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT name, created_date FROM \"user\" ORDER BY name"
        ),
        vec![
            vec!["C1".to_string(), "2016-06-09".into()],
            vec!["C2".into(), "2016-06-25".into()]
        ]
    );
    assert_eq!(
        rows(d, "ferry.db", "SELECT contact_first_name, contact_last_name FROM contact WHERE contact_name = 'Ann Smith'"),
        vec![vec!["Ann".to_string(), "Smith".into()]]
    );
    assert_eq!(int(d, "ferry.db", "SELECT COUNT(*) FROM contact_phone"), 1);
    // Findings name the sheet and the cell.
    assert!(f
        .iter()
        .all(|x| x["sheet"].is_string() || x["sheet"].is_null()));
}
