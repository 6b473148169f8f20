//! The acceptance points of the import foundation, run on the real binary: the same example in
//! three containers, test-only against live, export round trips.

mod common;
use common::*;

const CONTAINERS: [&str; 3] = ["xml", "xlsx", "csv"];

fn club(c: &str) -> std::path::PathBuf {
    match c {
        "xml" => example("club/club.xml"),
        "xlsx" => example("club/club.xlsx"),
        _ => example("club/club_csv"),
    }
}

fn mistakes(c: &str) -> std::path::PathBuf {
    match c {
        "xml" => example("mistakes/mistakes.xml"),
        "xlsx" => example("mistakes/mistakes.xlsx"),
        _ => example("mistakes/mistakes_csv"),
    }
}

#[test]
fn three_containers_give_the_same_target_and_findings() {
    let dir = scratch();
    let d = dir.path();
    let mut exports = vec![];
    for c in CONTAINERS {
        let db = format!("{c}.db");
        let r = ferry(
            d,
            &[
                "import",
                club(c).to_str().unwrap(),
                "--db",
                &db,
                "--log",
                &format!("{c}.jsonl"),
            ],
        );
        assert_eq!(r.code, 0, "{c}: {}", r.stderr);
        assert!(
            findings(&d.join(format!("{c}.jsonl"))).is_empty(),
            "{c}: the clean example has findings"
        );
        let out = format!("{c}-export");
        assert_eq!(
            ferry(d, &["export", "--db", &db, "--format", "csv", &out]).code,
            0
        );
        exports.push(tree(&d.join(&out)));
    }
    assert!(exports[0].len() > 10);
    assert_eq!(exports[0], exports[1], "xml and xlsx targets differ");
    assert_eq!(exports[0], exports[2], "xml and csv targets differ");

    let mut sets = vec![];
    for c in CONTAINERS {
        let db = format!("m-{c}.db");
        let log = format!("m-{c}.jsonl");
        let r = ferry(
            d,
            &[
                "import",
                mistakes(c).to_str().unwrap(),
                "--db",
                &db,
                "--log",
                &log,
            ],
        );
        assert_eq!(r.code, 1, "{c}: {}", r.stderr);
        let mut s: Vec<String> = findings(&d.join(&log)).iter().map(sans_location).collect();
        s.sort();
        sets.push(s);
    }
    assert!(sets[0].len() >= 20, "{:#?}", sets[0]);
    assert_eq!(sets[0], sets[1], "xml and xlsx findings differ");
    assert_eq!(sets[0], sets[2], "xml and csv findings differ");
}

#[test]
fn test_only_finds_what_live_finds_and_changes_nothing() {
    let dir = scratch();
    let d = dir.path();
    for c in CONTAINERS {
        let db = format!("{c}.db");
        assert_eq!(ferry(d, &["init", "--db", &db]).code, 0);
        let before = row_counts(&d.join(&db));
        assert_eq!(
            ferry(d, &["export", "--db", &db, "--format", "xml", "before.xml"]).code,
            0
        );
        let t = ferry(
            d,
            &[
                "import",
                mistakes(c).to_str().unwrap(),
                "--db",
                &db,
                "--test-only",
                "--log",
                "t.jsonl",
                "--json",
            ],
        );
        assert_eq!(t.code, 1, "{}", t.stderr);
        assert_eq!(
            row_counts(&d.join(&db)),
            before,
            "{c}: test-only changed the target"
        );
        assert_eq!(
            ferry(d, &["export", "--db", &db, "--format", "xml", "after.xml"]).code,
            0
        );
        assert_eq!(
            std::fs::read(d.join("before.xml")).unwrap(),
            std::fs::read(d.join("after.xml")).unwrap()
        );
        let l = ferry(
            d,
            &[
                "import",
                mistakes(c).to_str().unwrap(),
                "--db",
                &db,
                "--log",
                "l.jsonl",
                "--json",
            ],
        );
        assert_eq!(l.code, 1);
        let strip = |v: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
            v.into_iter()
                .map(|mut f| {
                    f["run"] = serde_json::Value::Null;
                    f
                })
                .collect()
        };
        assert_eq!(
            strip(findings(&d.join("t.jsonl"))),
            strip(findings(&d.join("l.jsonl"))),
            "{c}: test-only and live findings differ"
        );
        let ts: serde_json::Value = serde_json::from_str(&t.stdout).unwrap();
        let ls: serde_json::Value = serde_json::from_str(&l.stdout).unwrap();
        assert_eq!(ts["counts"], ls["counts"], "{c}: counters differ");
        assert_eq!(ts["mode"], "test-only");
        assert_eq!(ls["mode"], "live");
        assert_ne!(
            row_counts(&d.join(&db)),
            before,
            "{c}: live imported nothing"
        );
        // both runs are in the journal
        let runs = ferry(d, &["runs", "--db", &db]);
        assert!(
            runs.stdout.contains("test-only") && runs.stdout.contains("live"),
            "{}",
            runs.stdout
        );
    }
}

#[test]
fn export_import_export_is_identical() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(
        ferry(
            d,
            &["import", club("xml").to_str().unwrap(), "--db", "a.db"]
        )
        .code,
        0
    );
    for (fmt, out) in [("xml", "a.xml"), ("csv", "a_csv"), ("xlsx", "a.xlsx")] {
        assert_eq!(
            ferry(d, &["export", "--db", "a.db", "--format", fmt, out]).code,
            0
        );
        let fresh = format!("fresh-{fmt}.db");
        let r = ferry(
            d,
            &[
                "import",
                out,
                "--db",
                &fresh,
                "--log",
                &format!("{fmt}.jsonl"),
            ],
        );
        assert_eq!(r.code, 0, "{fmt}: {}", r.stderr);
        let again = format!("again-{out}");
        assert_eq!(
            ferry(d, &["export", "--db", &fresh, "--format", fmt, &again]).code,
            0
        );
        if fmt == "csv" {
            assert_eq!(tree(&d.join(out)), tree(&d.join(&again)));
        } else if fmt == "xml" {
            assert_eq!(
                std::fs::read_to_string(d.join(out)).unwrap(),
                std::fs::read_to_string(d.join(&again)).unwrap()
            );
        } else {
            // Workbooks carry timestamps in their metadata: compare what they hold.
            {
                let (a, b) = (out, again.as_str());
                let (x, y) = (format!("{a}.csv.d"), format!("{b}.csv.d"));
                let fa = format!("cmp-a-{fmt}.db");
                let fb = format!("cmp-b-{fmt}.db");
                assert_eq!(ferry(d, &["import", a, "--db", &fa]).code, 0);
                assert_eq!(ferry(d, &["import", b, "--db", &fb]).code, 0);
                assert_eq!(
                    ferry(d, &["export", "--db", &fa, "--format", "csv", &x]).code,
                    0
                );
                assert_eq!(
                    ferry(d, &["export", "--db", &fb, "--format", "csv", &y]).code,
                    0
                );
                assert_eq!(tree(&d.join(&x)), tree(&d.join(&y)));
            }
        }
    }
    // Re-running a finished import is harmless: every record is identical and skipped, and the
    // ledger rows are `ledger.duplicate` (errors under --on-existing error, skipped otherwise).
    let r = ferry(
        d,
        &[
            "import",
            club("xml").to_str().unwrap(),
            "--db",
            "a.db",
            "--json",
            "--log",
            "again.jsonl",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let errors: Vec<String> = findings(&d.join("again.jsonl"))
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !errors.is_empty() && errors.iter().all(|c| c == "ledger.duplicate"),
        "{errors:?}"
    );
    let r = ferry(
        d,
        &[
            "import",
            club("xml").to_str().unwrap(),
            "--db",
            "a.db",
            "--json",
            "--on-existing",
            "skip",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for c in s["counts"].as_array().unwrap() {
        assert_eq!(c[1]["imported"], 0, "{c}");
        assert_eq!(c[1]["skipped"], c[1]["read"], "{c}");
    }
}

#[test]
fn on_existing_modes() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(d.join("a.xml"), "<Import><User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"5\" DisableReason=\"moved\"/></Import>").unwrap();
    std::fs::write(d.join("b.xml"), "<Import><User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"7\"/>\n<Contact User=\"u1\" ContactFirstName=\"A\" ContactLastName=\"B\" ContactType=\"Billing Contact\"/></Import>").unwrap();
    assert_eq!(ferry(d, &["import", "a.xml"]).code, 0);
    let r = ferry(d, &["import", "b.xml", "--log", "e.jsonl"]);
    assert_eq!(r.code, 1);
    let f = findings(&d.join("e.jsonl"));
    assert_eq!(f[0]["code"], "key.exists");
    // the contact of a user rejected for an existing key is rejected with it
    assert_eq!(f[1]["code"], "reference.rejected_parent");
    assert_eq!(
        ferry(d, &["import", "b.xml", "--on-existing", "skip"]).code,
        0
    );
    assert_eq!(
        ferry(
            d,
            &[
                "import",
                "b.xml",
                "--on-existing",
                "update",
                "--log",
                "u.jsonl"
            ]
        )
        .code,
        0
    );
    assert_eq!(
        ferry(
            d,
            &["export", "--format", "xml", "x.xml", "--entities", "User"]
        )
        .code,
        0
    );
    let x = std::fs::read_to_string(d.join("x.xml")).unwrap();
    assert!(x.contains("BillDay=\"7\""), "{x}");
    assert!(
        x.contains("DisableReason=\"moved\""),
        "update keeps fields the record does not give: {x}"
    );
}

#[test]
fn all_or_nothing_writes_nothing_on_error() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(ferry(d, &["init"]).code, 0);
    let before = row_counts(&d.join("ferry.db"));
    let r = ferry(
        d,
        &[
            "import",
            mistakes("xml").to_str().unwrap(),
            "--all-or-nothing",
            "--json",
        ],
    );
    assert_eq!(r.code, 1);
    assert_eq!(row_counts(&d.join("ferry.db")), before);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for c in s["counts"].as_array().unwrap() {
        assert_eq!(c[1]["imported"], 0);
    }
    assert_eq!(
        ferry(
            d,
            &["import", club("xml").to_str().unwrap(), "--all-or-nothing"]
        )
        .code,
        0
    );
    assert_ne!(row_counts(&d.join("ferry.db")), before);
}

#[test]
fn max_records_takes_the_first_accounts() {
    let dir = scratch();
    let d = dir.path();
    let r = ferry(
        d,
        &[
            "import",
            club("csv").to_str().unwrap(),
            "--max-records",
            "5",
            "--json",
            "--log",
            "m.jsonl",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let counts = s["counts"].as_array().unwrap();
    let user = counts.iter().find(|c| c[0] == "User").unwrap();
    assert_eq!(user[1]["imported"], 5);
    assert_eq!(user[1]["skipped"], 45);
    let tax = counts.iter().find(|c| c[0] == "TaxCode").unwrap();
    assert_eq!(
        tax[1]["imported"], tax[1]["read"],
        "setup data is always imported"
    );
    let f = findings(&d.join("m.jsonl"));
    assert!(f.iter().filter(|f| f["code"] == "run.max_records").count() >= 2);
    // The command line overrides the Options sheet, even at its default.
    let r = ferry(
        d,
        &[
            "import",
            club("csv").to_str().unwrap(),
            "--db",
            "b.db",
            "--max-records",
            "0",
            "--json",
        ],
    );
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["options"]["max_records"], 0);
}

#[test]
fn logs_in_csv_and_html_are_safe() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("a.xml"),
        "<Import><User Name=\"=HYPERLINK(1)\" Owner=\"admin\" Role=\"Nobody\"/></Import>",
    )
    .unwrap();
    let r = ferry(d, &["import", "a.xml", "--log", "f.csv"]);
    assert_eq!(r.code, 1);
    let csv = std::fs::read_to_string(d.join("f.csv")).unwrap();
    assert!(csv.starts_with(
        "run,severity,code,entity,key,file,sheet,row,column,field,value,message,hint"
    ));
    assert!(csv.contains("'=HYPERLINK(1)"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
    let r = ferry(d, &["import", "a.xml", "--log", "f.html"]);
    assert_eq!(r.code, 1);
    let html = std::fs::read_to_string(d.join("f.html")).unwrap();
    assert!(
        html.contains("reference.unknown") && !html.replace("http-equiv", "").contains("http"),
        "self-contained"
    );
}

#[test]
fn runs_show_and_reconcile() {
    let dir = scratch();
    let d = dir.path();
    assert_eq!(
        ferry(d, &["import", mistakes("xml").to_str().unwrap()]).code,
        1
    );
    let r = ferry(d, &["runs", "show", "1"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("reference.unknown"), "{}", r.stdout);
    let r = ferry(d, &["reconcile", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(ferry(d, &["reconcile", "99"]).code, 2);
}

#[test]
fn formats_doc_is_current() {
    let dir = scratch();
    let r = ferry(dir.path(), &["schema", "--markdown"]);
    assert_eq!(r.code, 0);
    let doc = std::fs::read_to_string(repo().join("docs/formats.md")).unwrap();
    assert!(
        doc == r.stdout,
        "docs/formats.md is stale: run `cargo run -- schema --markdown > docs/formats.md`"
    );
}

#[test]
fn max_records_leaves_out_what_names_a_left_out_account() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("a.xml"),
        "<Import><User Name=\"u1\" Owner=\"admin\" Role=\"Customer\"/><User Name=\"u3\" Owner=\"admin\" Role=\"Customer\"/>\n<ChildAccount Name=\"u1\" Parent=\"u3\"/></Import>",
    )
    .unwrap();
    let r = ferry(d, &["import", "a.xml", "--max-records", "1", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let child = s["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[0] == "ChildAccount")
        .unwrap()
        .clone();
    assert_eq!(child[1]["skipped"], 1);
}

#[test]
fn update_needs_only_the_key_and_what_changes() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("a.xml"),
        "<Import><User Name=\"u1\" Owner=\"admin\" Role=\"Customer\" BillDay=\"5\"/></Import>",
    )
    .unwrap();
    std::fs::write(
        d.join("b.xml"),
        "<Import><User Name=\"u1\" BillDay=\"9\"/></Import>",
    )
    .unwrap();
    std::fs::write(
        d.join("c.xml"),
        "<Import><User Name=\"u1\" BillDay=\"9\"/></Import>",
    )
    .unwrap();
    assert_eq!(ferry(d, &["import", "a.xml"]).code, 0);
    let r = ferry(d, &["import", "b.xml", "--on-existing", "update", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["counts"][0][1]["updated"], 1);
    // the same change again is identical, not another update
    let r = ferry(d, &["import", "c.xml", "--on-existing", "update", "--json"]);
    let s: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["counts"][0][1]["skipped"], 1, "{s}");
    // a new account still needs its required fields
    std::fs::write(
        d.join("n.xml"),
        "<Import><User Name=\"u2\" BillDay=\"9\"/></Import>",
    )
    .unwrap();
    assert_eq!(
        ferry(d, &["import", "n.xml", "--on-existing", "update"]).code,
        1
    );
}

#[test]
fn the_command_line_settles_options_that_disagree() {
    let dir = scratch();
    let d = dir.path();
    for (n, order) in [("o1", "DMY"), ("o2", "MDY")] {
        std::fs::create_dir_all(d.join(n)).unwrap();
        std::fs::write(
            d.join(n).join("Options.csv"),
            format!("Name,Value\nDateOrder,{order}\n"),
        )
        .unwrap();
        std::fs::write(d.join(n).join("Role.csv"), format!("Name\nR{n}\n")).unwrap();
    }
    let r = ferry(d, &["import", "o1", "o2"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("disagree"), "{}", r.stderr);
    assert_eq!(
        ferry(d, &["import", "o1", "o2", "--date-order", "dmy"]).code,
        0
    );
}

/// The mistakes example carries its own answer key (examples/mistakes/expected_*.csv, written by
/// the generator from what it planted): every expected error row is flagged, and no other.
#[test]
fn mistakes_match_their_answer_key() {
    let dir = scratch();
    let d = dir.path();
    let key = |name: &str, container: &str| -> std::collections::BTreeSet<(String, String, u64)> {
        let text = std::fs::read_to_string(example(&format!("mistakes/{name}"))).unwrap();
        let mut rows = csv_rows(&text);
        let head = rows.remove(0);
        let col = |n: &str| head.iter().position(|h| h == n).unwrap();
        rows.into_iter()
            .filter(|r| r[col("container")] == container)
            .map(|r| {
                (
                    r[col("file")].clone(),
                    if container == "xlsx" {
                        r[col("sheet")].clone()
                    } else {
                        String::new()
                    },
                    r[col("row")].parse().unwrap(),
                )
            })
            .collect()
    };
    for c in CONTAINERS {
        let log = format!("{c}.jsonl");
        assert_eq!(
            ferry(
                d,
                &[
                    "import",
                    mistakes(c).to_str().unwrap(),
                    "--db",
                    &format!("{c}.db"),
                    "--test-only",
                    "--log",
                    &log
                ]
            )
            .code,
            1
        );
        let f = findings(&d.join(&log));
        let got = |sev: &str| -> std::collections::BTreeSet<(String, String, u64)> {
            f.iter()
                .filter(|f| f["severity"] == sev)
                .map(|f| {
                    let file = std::path::Path::new(f["file"].as_str().unwrap())
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    (
                        file,
                        f["sheet"].as_str().unwrap().to_string(),
                        f["row"].as_u64().unwrap(),
                    )
                })
                .collect()
        };
        assert_eq!(
            got("error"),
            key("expected_errors.csv", c),
            "{c}: error rows"
        );
        let warnings = got("warning");
        for w in key("expected_warnings.csv", c) {
            assert!(warnings.contains(&w), "{c}: expected warning at {w:?}");
        }
    }
}

/// A tiny RFC 4180 reader for the answer keys (quoted fields with commas).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut row = vec![];
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(ch) = chars.next() {
            match (ch, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut cur)),
                (c, _) => cur.push(c),
            }
        }
        row.push(cur);
        rows.push(row);
    }
    rows
}
