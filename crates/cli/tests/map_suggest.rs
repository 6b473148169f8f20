//! `ferry map suggest` on the fixture exports of issue 14 (tests/fixtures/exports): the exact
//! `--json` line format, the answer key of each fixture (at least 90% of the columns placed
//! right), the mapping file `--out` writes, and the failures that exit 2.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Each fixture and the flags it needs.
const FIXTURES: &[(&str, &[&str])] = &[
    ("members.csv", &[]),
    ("paypal.csv", &[]),
    ("crm.xlsx", &[]),
    ("salesforce_accounts.csv", &["--encoding", "windows-1252"]),
    ("odoo_partners.csv", &[]),
    ("civicrm_contributions.csv", &[]),
];

fn exports() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/exports")
}

/// A scratch folder holding a copy of the fixture, named as the command line names it.
fn with_fixture(name: &str) -> Scratch {
    let s = scratch();
    std::fs::copy(exports().join(name), s.path().join(name)).unwrap();
    s
}

fn suggest_json(name: &str, flags: &[&str]) -> Vec<Value> {
    let s = with_fixture(name);
    let mut args = vec!["map", "suggest", "--json", name];
    args.extend(flags);
    let r = ferry(s.path(), &args);
    assert_eq!(r.code, 0, "{name}: {}", r.stderr);
    r.stdout.lines().map(|l| checked_line(name, l)).collect()
}

/// One line: exactly the six keys in order, each of its kind.
fn checked_line(name: &str, line: &str) -> Value {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"));
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {line}"));
    let keys = ["file", "sheet", "column", "entity", "field", "confidence"];
    assert_eq!(o.len(), keys.len(), "{line}");
    let text = |k: &str| serde_json::to_string(&v[k]).unwrap();
    let rebuilt = format!(
        "{{{}}}",
        keys.map(|k| format!("\"{k}\":{}", text(k))).join(",")
    );
    assert_eq!(line, rebuilt, "keys in order, nothing else");
    assert_eq!(v["file"], name, "the path as given");
    assert!(v["column"].is_string(), "{line}");
    if name.ends_with(".csv") {
        assert!(v["sheet"].is_null(), "{line}");
    } else {
        assert!(v["sheet"].is_string(), "{line}");
    }
    assert_eq!(v["entity"].is_null(), v["field"].is_null(), "{line}");
    let c = v["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&c), "{line}");
    if v["entity"].is_null() {
        assert_eq!(c, 0.0, "{line}");
    } else {
        assert!(c > 0.0, "{line}");
    }
    v
}

/// `<name>.expected.csv`: (sheet, column) → (entity, field); an empty entity means the
/// column should stay unmapped.
fn answer_key(name: &str) -> Vec<((String, String), (String, String))> {
    let stem = name.rsplit_once('.').unwrap().0;
    let path = exports().join(format!("{stem}.expected.csv"));
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let at = |h: &str| headers.iter().position(|x| x == h);
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let get = |h: &str| at(h).and_then(|i| r.get(i)).unwrap_or("").to_string();
            ((get("sheet"), get("column")), (get("entity"), get("field")))
        })
        .collect()
}

/// Columns placed right by the key, and the key's size.
fn score(name: &str, lines: &[Value]) -> (usize, usize, Vec<String>) {
    let key = answer_key(name);
    let str_of = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut wrong = Vec::new();
    for ((sheet, column), (entity, field)) in &key {
        let guesses: Vec<(String, String)> = lines
            .iter()
            .filter(|l| &str_of(&l["sheet"]) == sheet && &str_of(&l["column"]) == column)
            .map(|l| (str_of(&l["entity"]), str_of(&l["field"])))
            .collect();
        assert!(!guesses.is_empty(), "{name}: no line for {sheet}/{column}");
        let right = if entity.is_empty() {
            guesses.iter().all(|(e, _)| e.is_empty())
        } else {
            guesses.iter().any(|g| (&g.0, &g.1) == (entity, field))
        };
        if !right {
            wrong.push(format!(
                "{sheet}/{column}: {guesses:?}, key {entity}.{field}"
            ));
        }
    }
    // The key covers every column the suggester saw.
    let mut seen: Vec<(String, String)> = lines
        .iter()
        .map(|l| (str_of(&l["sheet"]), str_of(&l["column"])))
        .collect();
    seen.dedup();
    assert_eq!(seen.len(), key.len(), "{name}: columns {seen:?}");
    (key.len() - wrong.len(), key.len(), wrong)
}

#[test]
fn the_suggester_places_at_least_90_percent_of_the_fixture_columns_right() {
    let (mut right, mut total) = (0, 0);
    let mut report = Vec::new();
    for (name, flags) in FIXTURES {
        let lines = suggest_json(name, flags);
        let (r, t, wrong) = score(name, &lines);
        report.push(format!("{name}: {r}/{t} right {wrong:?}"));
        right += r;
        total += t;
    }
    let rate = right as f64 / total as f64;
    eprintln!(
        "{}\noverall {right}/{total} = {:.1}%",
        report.join("\n"),
        rate * 100.0
    );
    assert!(rate >= 0.9, "{}", report.join("\n"));
}

#[test]
fn a_column_feeding_two_fields_gives_two_lines() {
    let lines = suggest_json("members.csv", &[]);
    let email: Vec<&Value> = lines.iter().filter(|l| l["column"] == "email").collect();
    let fields: Vec<String> = email
        .iter()
        .map(|l| {
            format!(
                "{}.{}",
                l["entity"].as_str().unwrap(),
                l["field"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(fields, ["User.Name", "ContactEmail.Email"]);
    let crm = suggest_json("crm.xlsx", &[]);
    let sheets: Vec<&str> = crm.iter().map(|l| l["sheet"].as_str().unwrap()).collect();
    assert!(sheets.contains(&"Companies") && sheets.contains(&"People"));
}

#[test]
fn out_writes_a_mapping_that_loads_and_the_table_goes_to_stdout() {
    let s = with_fixture("paypal.csv");
    std::fs::copy(exports().join("members.csv"), s.path().join("members.csv")).unwrap();
    let r = ferry(
        s.path(),
        &[
            "map",
            "suggest",
            "members.csv",
            "paypal.csv",
            "--out",
            "m.toml",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(s.path().join("m.toml")).unwrap();
    let m = ferry_mapping::Mapping::load(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(m.sources.len(), 2);
    assert!(m.source_for("members.csv", None, None).is_some());
    assert!(r.stdout.starts_with("SOURCE"), "{}", r.stdout);
    assert!(r.stdout.contains("members.csv  email"), "{}", r.stdout);
    assert!(r.stdout.contains("ContactEmail.Email"));
    assert!(
        !r.stdout.contains("[[source]]"),
        "the mapping went to the file"
    );
    assert!(r.stderr.contains("m.toml"), "{}", r.stderr);
    // Without --out, the mapping is printed after the table.
    let r = ferry(s.path(), &["map", "suggest", "members.csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let toml = &r.stdout[r.stdout.find("# Proposed").unwrap()..];
    ferry_mapping::Mapping::load(toml).unwrap();
    // --json and --out together: lines on stdout, the mapping in the file.
    let r = ferry(
        s.path(),
        &["map", "suggest", "--json", "paypal.csv", "--out", "p.toml"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r
        .stdout
        .lines()
        .all(|l| l.starts_with("{\"file\":\"paypal.csv\"")));
    let text = std::fs::read_to_string(s.path().join("p.toml")).unwrap();
    assert!(text.contains("format = \"%d/%m/%Y\""), "{text}");
    ferry_mapping::Mapping::load(&text).unwrap();
}

#[test]
fn an_unreadable_input_exits_2_with_a_clear_message() {
    let s = with_fixture("salesforce_accounts.csv");
    let r = ferry(s.path(), &["map", "suggest", "--json", "missing.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("missing.csv"), "{}", r.stderr);
    // windows-1252 read as UTF-8: the message names the way out.
    let r = ferry(s.path(), &["map", "suggest", "salesforce_accounts.csv"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--encoding"), "{}", r.stderr);
    let r = ferry(
        s.path(),
        &[
            "map",
            "suggest",
            "salesforce_accounts.csv",
            "--encoding",
            "klingon",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown encoding"), "{}", r.stderr);
    std::fs::write(s.path().join("empty.csv"), "").unwrap();
    let r = ferry(s.path(), &["map", "suggest", "empty.csv"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("no rows"), "{}", r.stderr);
}

/// Each fixture export imports as it stands through its corrected mapping (the suggestion
/// plus a consultant's edits): the members, then their PayPal payments, the Salesforce
/// accounts, the Odoo partners and the CRM workbook, into one target.
#[test]
fn the_fixture_exports_import_through_their_corrected_mappings() {
    let s = scratch();
    let d = s.path();
    let runs: &[(&str, &[&str])] = &[
        ("members.csv", &[]),
        ("paypal.csv", &[]),
        ("salesforce_accounts.csv", &["--encoding", "windows-1252"]),
        ("odoo_partners.csv", &[]),
        ("crm.xlsx", &[]),
    ];
    for (name, flags) in runs {
        let stem = name.rsplit_once('.').unwrap().0;
        let mapping = format!("{stem}.mapping.toml");
        for f in [name.to_string(), mapping.clone()] {
            std::fs::copy(exports().join(&f), d.join(&f)).unwrap();
        }
        let log = format!("{stem}.jsonl");
        let mut args = vec![
            "import",
            name,
            "--mapping",
            &mapping,
            "--phone-region",
            "GB",
            "--log",
            &log,
        ];
        args.extend(*flags);
        let r = ferry(d, &args);
        let errors: Vec<Value> = findings(&d.join(&log))
            .into_iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert_eq!(r.code, 0, "{name}: {}\n{errors:#?}", r.stderr);
    }
    let count = |sql: &str| int(d, "ferry.db", sql);
    assert_eq!(count("SELECT COUNT(*) FROM \"user\""), 40 + 28 + 32 + 22);
    assert_eq!(count("SELECT COUNT(*) FROM payment"), 38);
    // D/M/Y: 9 June 2016, never 6 September.
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT date FROM payment WHERE reference = '6YZCHVDYJZG675HH7'"
        ),
        vec![vec!["2016-06-09".to_string()]]
    );
    // windows-1252 read as such; ISO timestamps keep their written date and time.
    assert_eq!(
        rows(
            d,
            "ferry.db",
            "SELECT c.contact_name, u.created_date FROM contact c JOIN \"user\" u ON u.name = c.\"user\" WHERE u.name = '0015g00000XQ000AAA'"
        ),
        vec![vec![
            "Café Müller GmbH".to_string(),
            "2019-01-03 10:15:30".to_string()
        ]]
    );
    // Hierarchies: Odoo's people and Salesforce's subsidiaries are child accounts of their
    // parents; the rows without a parent gave no ChildAccount record.
    let children = count("SELECT COUNT(*) FROM child_account");
    assert!(children > 0, "no child accounts");
    assert_eq!(
        count("SELECT COUNT(*) FROM child_account WHERE parent IS NULL OR parent = ''"),
        0
    );
    // The workbook's people are contacts of their company's account.
    assert_eq!(
        count("SELECT COUNT(*) FROM contact WHERE \"user\" = 'C1001'"),
        1 + 2
    );
}
