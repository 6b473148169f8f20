//! Formula-like values in exports (issue 13, 19). `ferry export --format csv` is exact, so that
//! export → import → export gives the same files (SPEC §13); `--formula-safe` writes the form to
//! open in a spreadsheet (a leading `'`, as the findings logs do); `--format xlsx` writes text
//! cells only, never formulas, and reads back exactly.

mod common;
use common::*;
use std::io::Read;

/// Values a spreadsheet would run as formulas, and a plain one.
const NAMES: [&str; 5] = [
    "=HYPERLINK(\"http://evil.example/\",\"click\")",
    "+1",
    "-2",
    "@SUM(1+1)",
    "Harbour",
];

fn csv_field(v: &str) -> String {
    if v.contains([',', '"']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn setup(d: &std::path::Path) {
    std::fs::create_dir(d.join("in")).unwrap();
    let mut csv = String::from("Name,Owner,Role,DisableReason\n");
    for n in NAMES {
        csv += &format!("{},admin,Customer,{}\n", csv_field(n), csv_field(n));
    }
    std::fs::write(d.join("in/User.csv"), csv).unwrap();
    assert_eq!(ferry(d, &["init", "--db", "a.db"]).code, 0);
    let r = ferry(d, &["import", "in", "--db", "a.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The `User` records of an exported CSV folder, as (Name, DisableReason).
fn users(folder: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(folder.join("User.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (name, reason) = (at("Name"), at("DisableReason"));
    let mut out: Vec<(String, String)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[name].to_string(), r[reason].to_string())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn csv_export_is_exact_and_formula_safe_on_request() {
    let s = scratch();
    let d = s.path();
    setup(d);
    let mut want: Vec<(String, String)> = NAMES
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .collect();
    want.sort();

    // Exact, and a round trip: export → import into a fresh target → export, same files.
    assert_eq!(
        ferry(d, &["export", "--db", "a.db", "--format", "csv", "out1"]).code,
        0
    );
    assert_eq!(users(&d.join("out1")), want);
    assert_eq!(ferry(d, &["init", "--db", "b.db"]).code, 0);
    let r = ferry(d, &["import", "out1", "--db", "b.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ferry(d, &["export", "--db", "b.db", "--format", "csv", "out2"]).code,
        0
    );
    assert_eq!(tree(&d.join("out1")), tree(&d.join("out2")));

    // For a spreadsheet: every formula-like value starts with ', the plain one is as it was.
    let r = ferry(
        d,
        &[
            "export",
            "--db",
            "a.db",
            "--format",
            "csv",
            "--formula-safe",
            "safe",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (name, reason) in users(&d.join("safe")) {
        assert_eq!(name, reason);
        if name == "Harbour" {
            continue;
        }
        assert!(name.starts_with('\''), "{name}");
        assert!(NAMES.contains(&&name[1..]), "{name}");
    }
    // Other formats have no such form: a usage error.
    let r = ferry(
        d,
        &[
            "export",
            "--db",
            "a.db",
            "--format",
            "xml",
            "--formula-safe",
            "x.xml",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--formula-safe is for --format csv"),
        "{}",
        r.stderr
    );
}

#[test]
fn xlsx_export_holds_text_cells_never_formulas() {
    let s = scratch();
    let d = s.path();
    setup(d);
    let r = ferry(
        d,
        &["export", "--db", "a.db", "--format", "xlsx", "out.xlsx"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut z = zip::ZipArchive::new(std::fs::File::open(d.join("out.xlsx")).unwrap()).unwrap();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        if e.name().unwrap().starts_with("xl/worksheets/") {
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            assert!(
                !text.contains("<f>") && !text.contains("<f "),
                "a formula in the export"
            );
        }
    }
    // Read back as a spreadsheet would: every value is the text as stored.
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(d.join("out.xlsx")).unwrap();
    let range = wb.worksheet_range("User").unwrap();
    let mut got: Vec<String> = range
        .rows()
        .skip(1)
        .map(|r| match &r[0] {
            Data::String(s) => s.clone(),
            other => panic!("not a text cell: {other:?}"),
        })
        .collect();
    got.sort();
    let mut want: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    // And it imports back to the same records.
    assert_eq!(ferry(d, &["init", "--db", "c.db"]).code, 0);
    let r = ferry(d, &["import", "out.xlsx", "--db", "c.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ferry(d, &["export", "--db", "c.db", "--format", "csv", "back"]).code,
        0
    );
    let mut pairs: Vec<(String, String)> = NAMES
        .iter()
        .map(|n| (n.to_string(), n.to_string()))
        .collect();
    pairs.sort();
    assert_eq!(users(&d.join("back")), pairs);
}
