//! Data safety with real exports' shapes (issue 14, point 6): slash-date order decided per
//! column, money hints right or absent, inputs that yield no record, headers matched across
//! case, accents, spaces and punctuation. Every test runs the real binary.

mod common;
use common::*;
use std::path::Path;

const USERS: &str = "\u{feff}Name,Owner,Role\nP1,admin,Customer\nP2,admin,Customer\n";

/// A D/M/Y payments export (BOM, its own order of columns): 18 dates whose day is over 12
/// (they can only be D/M/Y) and 8 that fit both orders (9/6/2016 is 9 June 2016).
fn dmy_payments() -> String {
    let mut s = String::from("\u{feff}Reference,User,Date,Credit\n");
    for i in 0..18 {
        s.push_str(&format!("R{i},P1,{}/6/2016,10.00\n", 13 + i % 16));
    }
    for i in 0..8 {
        s.push_str(&format!("A{i},P2,{}/6/2016,5.00\n", 1 + i));
    }
    s
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let p = dir.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
}

fn of_code<'a>(f: &'a [serde_json::Value], code: &str) -> Vec<&'a serde_json::Value> {
    f.iter().filter(|x| x["code"] == code).collect()
}

fn stored_dates(d: &Path, user: &str) -> Vec<String> {
    rows(
        d,
        "ferry.db",
        &format!("SELECT date FROM payment WHERE \"user\" = '{user}' ORDER BY reference"),
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect()
}

#[test]
fn a_dmy_column_is_read_dmy_without_an_order_and_says_so_once() {
    let dir = scratch();
    let d = dir.path();
    write(
        d,
        &[
            ("pay/User.csv", USERS),
            ("pay/Payment.csv", &dmy_payments()),
        ],
    );
    let r = ferry(d, &["import", "pay", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let notes = of_code(&f, "value.date_order_inferred");
    assert_eq!(notes.len(), 1, "{f:#?}");
    let m = notes[0]["message"].as_str().unwrap();
    assert!(
        m.contains("\"Date\"") && m.contains("D/M/Y") && m.contains("13/6/2016"),
        "{m}"
    );
    assert_eq!(notes[0]["severity"], "info");
    // 9 June 2016, never 6 September.
    let dates = stored_dates(d, "P2");
    assert_eq!(dates.len(), 8);
    assert!(
        dates.iter().all(|x| x.starts_with("2016-06-0")),
        "{dates:?}"
    );
    assert_eq!(dates[0], "2016-06-01");
    assert_eq!(stored_dates(d, "P1").len(), 18);
}

#[test]
fn an_explicit_order_the_column_contradicts_imports_no_doubtful_date() {
    let dir = scratch();
    let d = dir.path();
    write(
        d,
        &[
            ("pay/User.csv", USERS),
            ("pay/Payment.csv", &dmy_payments()),
        ],
    );
    for flags in [&["--date-order", "mdy"][..], &[][..]] {
        let mut args = vec!["import", "pay", "--log", "f.jsonl"];
        args.extend(flags);
        if flags.is_empty() {
            // The same order from an Options file.
            write(d, &[("pay/Options.csv", "Name,Value\nDateOrder,MDY\n")]);
        }
        let r = ferry(d, &args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        let f = findings(&d.join("f.jsonl"));
        let conflicts = of_code(&f, "value.date_order_conflict");
        let ambiguous = of_code(&f, "value.date_ambiguous");
        assert_eq!(conflicts.len(), 18, "{f:#?}");
        assert_eq!(ambiguous.len(), 8, "{f:#?}");
        let m = ambiguous[0]["message"].as_str().unwrap();
        assert!(
            m.contains("column \"Date\"") && m.contains("18 slash dates that can only be D/M/Y"),
            "{m}"
        );
        assert_eq!(
            ambiguous[0]["hint"],
            "write it as 2016-01-06 (if M/D/Y) or 2016-06-01 (if D/M/Y)"
        );
        assert_eq!(conflicts[0]["hint"], "write it as 2016-06-13");
        assert!(of_code(&f, "value.date_order_inferred").is_empty());
        assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM payment"), 0);
    }
    // The order the column proves, given explicitly: all imported, no note needed.
    std::fs::remove_file(d.join("pay/Options.csv")).unwrap();
    let r = ferry(
        d,
        &["import", "pay", "--date-order", "dmy", "--log", "f.jsonl"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    assert!(
        f.iter()
            .all(|x| !x["code"].as_str().unwrap().starts_with("value.date")),
        "{f:#?}"
    );
    assert_eq!(stored_dates(d, "P2")[0], "2016-06-01");
}

#[test]
fn values_that_contradict_each_other_are_errors_where_they_are_doubtful() {
    let dir = scratch();
    let d = dir.path();
    let pay = "\u{feff}User,Date,Credit,Reference\nP1,25/6/2016,1.00,a\nP1,6/25/2016,1.00,b\nP1,9/6/2016,1.00,c\nP1,2016-06-09,1.00,d\n";
    write(d, &[("pay/User.csv", USERS), ("pay/Payment.csv", pay)]);
    let r = ferry(d, &["import", "pay", "--log", "f.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    assert_eq!(of_code(&f, "value.date_order_conflict").len(), 1, "{f:#?}");
    assert_eq!(
        of_code(&f, "value.date_order_conflict")[0]["value"],
        "25/6/2016"
    );
    assert_eq!(of_code(&f, "value.date_ambiguous").len(), 1);
    assert_eq!(of_code(&f, "value.date_ambiguous")[0]["value"], "9/6/2016");
    // The value that can only be M/D/Y, and the ISO date, are imported as they are.
    assert_eq!(stored_dates(d, "P1"), vec!["2016-06-25", "2016-06-09"]);
}

#[test]
fn a_column_of_only_ambiguous_dates_gets_one_warning_naming_it() {
    let dir = scratch();
    let d = dir.path();
    let users = "\u{feff}Name,Owner,Role,CreatedDate\nU1,admin,Customer,1/2/2020\nU2,admin,Customer,3/4/2020 10:15\nU3,admin,Customer,5/6/2020\n";
    write(d, &[("u/User.csv", users)]);
    let r = ferry(d, &["import", "u", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let w = of_code(&f, "value.date_order_assumed");
    assert_eq!(w.len(), 1, "{f:#?}");
    assert_eq!(w[0]["severity"], "warning");
    let m = w[0]["message"].as_str().unwrap();
    assert!(
        m.contains("column \"CreatedDate\"") && m.contains("M/D/Y"),
        "{m}"
    );
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT created_date FROM \"user\" WHERE name = 'U1'"
        )[0][0],
        "2020-01-02"
    );
    // With the order given, no warning.
    let r = ferry(
        d,
        &[
            "import",
            "u",
            "--date-order",
            "mdy",
            "--log",
            "g.jsonl",
            "--db",
            "g.db",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(of_code(&findings(&d.join("g.jsonl")), "value.date_order_assumed").is_empty());
}

#[test]
fn a_resumed_run_reads_the_columns_the_same_way() {
    let dir = scratch();
    let d = dir.path();
    write(
        d,
        &[
            ("pay/User.csv", USERS),
            ("pay/Payment.csv", &dmy_payments()),
        ],
    );
    let out = command(d, &["import", "pay", "--chunk-size", "5"])
        .env("FERRY_FAIL_AT", "after-commit:2")
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let r = ferry(
        d,
        &[
            "import",
            "pay",
            "--chunk-size",
            "5",
            "--resume",
            "--log",
            "f.jsonl",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dates = stored_dates(d, "P2");
    assert_eq!(dates.len(), 8);
    assert!(
        dates.iter().all(|x| x.starts_with("2016-06-0")),
        "{dates:?}"
    );
    // The column's note was recorded once, by the first attempt.
    let f = findings(&d.join("f.jsonl"));
    assert_eq!(of_code(&f, "value.date_order_inferred").len(), 1, "{f:#?}");
}

#[test]
fn money_hints_are_the_same_amount_or_absent() {
    let dir = scratch();
    let d = dir.path();
    let ps = "\u{feff}Package,Service,Amount\nP,S1,\"1.234,50\"\nP,S2,\"1\u{a0}234,50\"\nP,S3,(12.00)\nP,S4,12.00-\nP,S5,\"1,234\"\nP,S6,\"EUR 1.234,50\"\n";
    let services = "Name\nS1\nS2\nS3\nS4\nS5\nS6\n";
    let pay = "\u{feff}User,Date,Credit\nP1,2016-06-09,(12.00)\n";
    write(
        d,
        &[
            ("m/Service.csv", services),
            ("m/Package.csv", "Name\nP\n"),
            ("m/PackageService.csv", ps),
            ("m/User.csv", USERS),
            ("m/Payment.csv", pay),
        ],
    );
    let r = ferry(d, &["import", "m", "--log", "f.jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let hints: Vec<(String, serde_json::Value)> = of_code(&f, "value.money_invalid")
        .iter()
        .map(|x| (x["value"].as_str().unwrap().to_string(), x["hint"].clone()))
        .collect();
    let want = [
        ("1.234,50", "write 1234.50"),
        ("1\u{a0}234,50", "write 1234.50"),
        ("(12.00)", "write -12.00"),
        ("12.00-", "write -12.00"),
        ("EUR 1.234,50", "write 1234.50"),
    ];
    for (v, h) in want {
        assert!(
            hints.iter().any(|(x, y)| x == v && y == h),
            "{v}: {hints:?}"
        );
    }
    // 1,234 is 1234 in one country and 1.234 in another: no hint.
    assert!(
        hints
            .iter()
            .any(|(x, y)| x == "1,234" && (y.is_null() || y == "")),
        "{hints:?}"
    );
    // A negative where the field takes none: the error says so.
    let neg = of_code(&f, "value.negative");
    assert_eq!(neg.len(), 1, "{f:#?}");
    assert!(neg[0]["message"]
        .as_str()
        .unwrap()
        .contains("negative amount (-12.00)"));
}

#[test]
fn headers_that_name_a_field_in_other_words_are_read_and_near_misses_get_a_hint() {
    let dir = scratch();
    let d = dir.path();
    let users = "\u{feff}name,Owner,ROLE,E-mail,Bill Day,Colour,Crated Date\nU1,admin,Customer,a@example.com,5,red,2020-01-02\n";
    write(d, &[("u/User.csv", users)]);
    let r = ferry(d, &["import", "u", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let matched: Vec<&str> = of_code(&f, "input.header_matched")
        .iter()
        .map(|x| x["field"].as_str().unwrap())
        .collect();
    assert_eq!(matched, ["Name", "Role", "Email", "BillDay"], "{f:#?}");
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT email, bill_day FROM \"user\" WHERE name = 'U1'"
        ),
        vec![vec!["a@example.com".to_string(), "5".to_string()]]
    );
    let unknown = of_code(&f, "input.unknown_field");
    assert_eq!(unknown.len(), 2, "{f:#?}");
    assert_eq!(unknown[0]["field"], "Colour");
    assert!(unknown[0]["hint"].is_null() || unknown[0]["hint"] == "");
    assert_eq!(unknown[1]["hint"], "did you mean \"CreatedDate\"?");

    // A field given exactly keeps its column; the look-alike is listed, not read.
    let both = "Name,Owner,Role,E-mail,Email\nU2,admin,Customer,x@example.com,b@example.com\n";
    write(d, &[("v/User.csv", both)]);
    let r = ferry(d, &["import", "v", "--log", "g.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let g = findings(&d.join("g.jsonl"));
    assert!(of_code(&g, "input.header_matched").is_empty(), "{g:#?}");
    assert_eq!(of_code(&g, "input.unknown_field")[0]["field"], "E-mail");
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT email FROM \"user\" WHERE name = 'U2'"
        )[0][0],
        "b@example.com"
    );
}

#[test]
fn every_unknown_column_is_named_once_per_source() {
    let dir = scratch();
    let d = dir.path();
    let extra: Vec<String> = (1..=30).map(|i| format!("Extra{i}")).collect();
    let users = format!(
        "Name,Owner,Role,{}\nU1,admin,Customer,{}\n",
        extra.join(","),
        vec!["x"; 30].join(",")
    );
    write(d, &[("u/User.csv", &users)]);
    let r = ferry(d, &["import", "u", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let f = findings(&d.join("f.jsonl"));
    let unknown = of_code(&f, "input.unknown_field");
    assert_eq!(unknown.len(), 21, "{f:#?}");
    let text: String = unknown.iter().map(|x| x.to_string()).collect();
    for name in &extra {
        assert!(
            text.contains(&format!("{name}\"")) || text.contains(&format!("\\\"{name}\\\"")),
            "{name} not listed"
        );
    }
}

/// A UK customer list's header, as a third-party export writes it.
const CUSTOMERS: &str = "\u{feff}first_name,last_name,company_name,address,city,county,postal,phone1,phone2,email,web\nJames,Butt,Benton,6649 N Blue Gum St,New Orleans,Orleans,70116,504-621-8927,504-845-1427,jbutt@example.com,http://www.bentonjohnbjr.com\n";

fn sheet_workbook(path: &Path, sheets: &[(&str, &[&str])]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, header) in sheets {
        let ws = wb.add_worksheet().set_name(*name).unwrap();
        for (c, v) in header.iter().enumerate() {
            ws.write_string(0, c as u16, *v).unwrap();
            ws.write_string(1, c as u16, "x").unwrap();
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn an_input_that_yields_no_record_fails_and_says_what_it_resembles() {
    let dir = scratch();
    let d = dir.path();
    write(d, &[("customers.csv", CUSTOMERS)]);
    sheet_workbook(
        &d.join("book.xlsx"),
        &[("Customers", &["Name", "E-mail", "Bill Day", "Owner"])],
    );
    write(d, &[("a.xml", "<?xml version=\"1.0\"?>\n<Import>\n<Customer Name=\"c1\" Email=\"a@example.com\"/>\n</Import>\n")]);
    for (input, what, like) in [
        (
            "customers.csv",
            "no file names an entity type",
            "ContactAddress",
        ),
        (
            "book.xlsx",
            "no sheet names an entity type",
            "User (Name, Email, BillDay, Owner)",
        ),
        (
            "a.xml",
            "no element names an entity type",
            "User (Name, Email)",
        ),
    ] {
        let r = ferry(d, &["import", input]);
        assert_eq!(r.code, 2, "{input}: {}", r.stderr);
        assert!(r.stderr.contains(what), "{input}: {}", r.stderr);
        assert!(r.stderr.contains(like), "{input}: {}", r.stderr);
        assert!(r.stderr.contains("name each"), "{input}: {}", r.stderr);
        assert!(r.stderr.contains("ferry map suggest"), "{}", r.stderr);
    }
    // With a real entity file beside it, the same input is fine: a folder with User.csv and
    // an unrelated notes.csv imports the users (notes.csv gets its warning).
    write(
        d,
        &[
            ("f/User.csv", USERS),
            ("f/notes.csv", "when,what\nmonday,call\n"),
        ],
    );
    let r = ferry(d, &["import", "f", "--log", "f.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        of_code(&findings(&d.join("f.jsonl")), "input.unknown_entity").len(),
        1
    );
    // An entity-type file with a header and no rows is no such case: a warning, exit 0.
    write(d, &[("e/User.csv", "Name,Owner,Role\n")]);
    let r = ferry(d, &["import", "e", "--log", "e.jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        of_code(&findings(&d.join("e.jsonl")), "input.empty").len(),
        1
    );
    // Each input counts: a good input does not carry one that yields nothing.
    let r = ferry(d, &["import", "f", "customers.csv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM \"user\""), 2);
}

/// The Options files' mistakes are told all at once, before anything is written (exit 2).
#[test]
fn every_options_problem_is_told_at_once() {
    let dir = scratch();
    let d = dir.path();
    write(
        d,
        &[
            ("a/User.csv", USERS),
            (
                "a/Options.csv",
                "Name,Value\nMaxRecords,many\nCreateAccounts,perhaps\nDateOrder,DMY\n",
            ),
            ("b/Options.csv", "Name,Value\nDateOrder,MDY\n"),
        ],
    );
    let r = ferry(d, &["import", "a", "b"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for part in [
        "option MaxRecords must be a whole number ≥ 0, not \"many\"",
        "option CreateAccounts must be TRUE or FALSE, not \"perhaps\"",
        "the inputs' Options disagree: DateOrder is \"DMY\"",
        "nothing was imported",
    ] {
        assert!(r.stderr.contains(part), "missing {part}:\n{}", r.stderr);
    }
    if d.join("ferry.db").exists() {
        assert_eq!(int(d, "ferry.db", "SELECT count(*) FROM \"user\""), 0);
    }
}
