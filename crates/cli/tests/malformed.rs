//! Malformed and hostile inputs: each ends with exit 1 or 2 and a clear message, never a panic
//! or a hang, and never reads a file it was not given.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn check(input: &str, want_code: i32, want_msg: &str) {
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let r = ferry(
        dir.path(),
        &["import", input, "--test-only", "--log", "f.jsonl"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(30),
        "{input}: too slow"
    );
    assert_eq!(r.code, want_code, "{input}: {}", r.stderr);
    let all = format!(
        "{}{}",
        r.stderr,
        std::fs::read_to_string(dir.path().join("f.jsonl")).unwrap_or_default()
    );
    assert!(
        all.contains(want_msg),
        "{input}: expected «{want_msg}» in {all}"
    );
    assert!(!all.contains("root:x:0"), "{input}: leaked /etc/passwd");
}

#[test]
fn truncated_workbook() {
    check(
        fixture("truncated.xlsx").to_str().unwrap(),
        2,
        "damaged or truncated",
    );
}

#[test]
fn zip_that_is_not_a_workbook() {
    check(
        fixture("zip_not_xlsx.xlsx").to_str().unwrap(),
        2,
        "no xl/workbook.xml",
    );
    check(
        fixture("not_a_zip.xlsx").to_str().unwrap(),
        2,
        "not a readable workbook",
    );
}

#[test]
fn invalid_utf8_csv_names_the_place_and_the_way_out() {
    check(
        fixture("invalid_utf8_csv").to_str().unwrap(),
        2,
        "line 2, field 1",
    );
    check(
        fixture("invalid_utf8_csv").to_str().unwrap(),
        2,
        "--encoding",
    );
}

#[test]
fn other_encodings_with_encoding_flag() {
    let dir = tempfile::tempdir().unwrap();
    let r = ferry(
        dir.path(),
        &[
            "import",
            fixture("latin1_csv").to_str().unwrap(),
            "--encoding",
            "windows-1252",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        ferry(
            dir.path(),
            &["export", "--format", "xml", "x.xml", "--entities", "User"]
        )
        .code,
        0
    );
    let x = std::fs::read_to_string(dir.path().join("x.xml")).unwrap();
    assert!(x.contains("José") && x.contains("Déménagé"), "{x}");
}

#[test]
fn doctype_with_entities_is_refused_without_reading_them() {
    check(
        fixture("doctype_entities.xml").to_str().unwrap(),
        2,
        "DOCTYPE",
    );
}

#[test]
fn empty_files() {
    check(fixture("empty.xml").to_str().unwrap(), 2, "empty");
    check(
        fixture("empty.xlsx").to_str().unwrap(),
        2,
        "not a readable workbook",
    );
}

#[test]
fn unclosed_xml_says_where() {
    check(
        fixture("unclosed.xml").to_str().unwrap(),
        2,
        "unclosed.xml:",
    );
}

#[test]
fn ragged_csv_rows() {
    check(
        fixture("ragged_csv").to_str().unwrap(),
        1,
        "input.extra_values",
    );
}

#[test]
fn ten_thousand_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let attrs: String = (0..10_000).map(|i| format!(" A{i}=\"{i}\"")).collect();
    std::fs::write(
        dir.path().join("many.xml"),
        format!("<Import><User Name=\"x\" Owner=\"admin\" Role=\"Customer\"{attrs}/></Import>"),
    )
    .unwrap();
    check(
        dir.path().join("many.xml").to_str().unwrap(),
        1,
        "input.too_many_fields",
    );
}

#[test]
fn deep_nesting_and_huge_values_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!(
        "<Import>{}{}</Import>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    std::fs::write(dir.path().join("deep.xml"), deep).unwrap();
    check(
        dir.path().join("deep.xml").to_str().unwrap(),
        2,
        "nested deeper",
    );
    let big = format!(
        "<Import><User Name=\"{}\" Owner=\"admin\" Role=\"Customer\"/></Import>",
        "x".repeat(3 << 20)
    );
    std::fs::write(dir.path().join("big.xml"), big).unwrap();
    check(
        dir.path().join("big.xml").to_str().unwrap(),
        1,
        "value.too_long",
    );
}

#[test]
fn a_missing_input_or_bad_flag_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(ferry(dir.path(), &["import", "nope.xml"]).code, 2);
    assert_eq!(
        ferry(
            dir.path(),
            &[
                "import",
                fixture("unclosed.xml").to_str().unwrap(),
                "--log",
                "x.txt"
            ]
        )
        .code,
        2
    );
    assert_eq!(
        ferry(
            dir.path(),
            &[
                "import",
                fixture("unclosed.xml").to_str().unwrap(),
                "--encoding",
                "klingon"
            ]
        )
        .code,
        2
    );
}

#[test]
fn schema_version_mismatch_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(ferry(dir.path(), &["init"]).code, 0);
    let c = rusqlite::Connection::open(dir.path().join("ferry.db")).unwrap();
    c.execute(
        "UPDATE ferry_meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(c);
    let r = ferry(
        dir.path(),
        &["import", fixture("unclosed.xml").to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ferry upgrade apply"), "{}", r.stderr);
}
