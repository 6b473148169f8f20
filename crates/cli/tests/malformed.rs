//! Malformed and hostile inputs: each ends with exit 1 or 2 and a clear message, never a panic
//! or a hang, and never reads a file it was not given.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn check(input: &str, want_code: i32, want_msg: &str) {
    let dir = scratch();
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
    let dir = scratch();
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
    let dir = scratch();
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
    let dir = scratch();
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
    let dir = scratch();
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
    let dir = scratch();
    assert_eq!(ferry(dir.path(), &["init"]).code, 0);
    target(dir.path(), "ferry.db")
        .exec(
            "UPDATE ferry_meta SET value = '99' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    let r = ferry(
        dir.path(),
        &["import", fixture("unclosed.xml").to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    // A newer target: this Ferry cannot upgrade it (an older one is tested in upgrade.rs).
    assert!(
        r.stderr.contains("newer than this Ferry's version"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_date_with_a_multibyte_character_is_an_error_not_a_crash() {
    let dir = scratch();
    std::fs::create_dir_all(dir.path().join("d")).unwrap();
    std::fs::write(
        dir.path().join("d/User.csv"),
        "Name,Owner,Role,CreatedDate\nu1,admin,Customer,2020-01-0é\n",
    )
    .unwrap();
    check(
        dir.path().join("d").to_str().unwrap(),
        1,
        "value.date_invalid",
    );
}

#[test]
fn csv_lines_are_right_for_crlf_cr_and_blank_lines() {
    let dir = scratch();
    let d = dir.path();
    for (name, content, rows) in [
        (
            "crlf",
            "Name,Owner,Role\r\nu1,admin,x1\r\nu2,admin,x2\r\n",
            vec![2, 3],
        ),
        (
            "cr",
            "Name,Owner,Role\ru1,admin,x1\ru2,admin,x2\r",
            vec![2, 3],
        ),
        (
            "blank",
            "Name,Owner,Role\nu1,admin,x1\n\n\nu2,admin,\"x\n2\"\nu3,admin,x3\n",
            vec![2, 5, 7],
        ),
    ] {
        std::fs::create_dir_all(d.join(name)).unwrap();
        std::fs::write(d.join(name).join("User.csv"), content).unwrap();
        let log = format!("{name}.jsonl");
        assert_eq!(
            ferry(d, &["import", name, "--test-only", "--log", &log]).code,
            1
        );
        let got: Vec<u64> = findings(&d.join(&log))
            .iter()
            .map(|f| f["row"].as_u64().unwrap())
            .collect();
        assert_eq!(got, rows, "{name}");
    }
}

#[test]
fn bad_excel_date_cells_are_findings() {
    use std::io::Write;
    let dir = scratch();
    // A workbook with date-formatted cells holding serials that are no dates.
    let src = zip_parts(&fixture("cells.xlsx"));
    let path = dir.path().join("dates.xlsx");
    let mut z = zip_writer(&path);
    for (name, data) in src {
        let data = match name.as_str() {
            "xl/worksheets/sheet1.xml" => br#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c><c r="B1" t="inlineStr"><is><t>Owner</t></is></c><c r="C1" t="inlineStr"><is><t>Role</t></is></c><c r="D1" t="inlineStr"><is><t>CreatedDate</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>a</t></is></c><c r="B2" t="inlineStr"><is><t>admin</t></is></c><c r="C2" t="inlineStr"><is><t>Customer</t></is></c><c r="D2" s="1"><v>-1000000000000</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>b</t></is></c><c r="B3" t="inlineStr"><is><t>admin</t></is></c><c r="C3" t="inlineStr"><is><t>Customer</t></is></c><c r="D3" s="1"><v>3000000</v></c></row><row r="4"><c r="A4" t="inlineStr"><is><t>c</t></is></c><c r="B4" t="inlineStr"><is><t>admin</t></is></c><c r="C4" t="inlineStr"><is><t>Customer</t></is></c><c r="D4" s="1"><v>45000</v></c></row></sheetData></worksheet>"#.to_vec(),
            _ => data,
        };
        z.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(&data).unwrap();
    }
    z.start_file("xl/styles.xml", zip::write::SimpleFileOptions::default())
        .unwrap();
    z.write_all(br#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#).unwrap();
    z.finish().unwrap();
    let r = ferry(
        dir.path(),
        &[
            "import",
            path.to_str().unwrap(),
            "--log",
            "f.jsonl",
            "--json",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let f = findings(&dir.path().join("f.jsonl"));
    let bad: Vec<u64> = f
        .iter()
        .filter(|f| f["code"] == "value.date_invalid")
        .map(|f| f["row"].as_u64().unwrap())
        .collect();
    assert_eq!(bad, vec![2, 3], "{f:#?}");
    assert_eq!(
        ferry(
            dir.path(),
            &["export", "--format", "xml", "x.xml", "--entities", "User"]
        )
        .code,
        0
    );
    assert!(std::fs::read_to_string(dir.path().join("x.xml"))
        .unwrap()
        .contains("CreatedDate=\"2023-03-15\""));
}

fn zip_parts(p: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::fs::File::open(p).unwrap()).unwrap();
    (0..a.len())
        .map(|i| {
            let mut f = a.by_index(i).unwrap();
            let mut v = vec![];
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().to_string(), v)
        })
        .collect()
}

fn zip_writer(p: &std::path::Path) -> zip::ZipWriter<std::fs::File> {
    zip::ZipWriter::new(std::fs::File::create(p).unwrap())
}

#[test]
fn an_empty_first_row_is_an_error_not_a_silent_skip() {
    check(
        fixture("no_header.xlsx").to_str().unwrap(),
        1,
        "input.no_header",
    );
}

#[test]
fn unwritable_log_and_repeated_inputs_stop_before_the_run() {
    let dir = scratch();
    let d = dir.path();
    let club = example("club/club.xml");
    let r = ferry(
        d,
        &[
            "import",
            club.to_str().unwrap(),
            "--log",
            "/nonexistent/x.csv",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        !d.join("ferry.db").exists()
            || row_counts(&d.join("ferry.db"))
                .iter()
                .all(|(t, n)| *n == 0 || !t.starts_with("user"))
    );
    let r = ferry(
        d,
        &["import", club.to_str().unwrap(), club.to_str().unwrap()],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("given twice"), "{}", r.stderr);
}

#[test]
fn target_problems_are_named() {
    let dir = scratch();
    let d = dir.path();
    if pg() {
        // The server's counterparts of a missing file, a foreign database and an absent server.
        let r = ferry(
            d,
            &[
                "runs",
                "--db",
                &format!("{PG_SERVER}/ferry_no_such_database"),
            ],
        );
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
        let r = ferry(
            d,
            &["runs", "--db", "postgres://postgres:hunter2@127.0.0.1:1/x"],
        );
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("cannot reach"), "{}", r.stderr);
        assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
        let r = ferry(d, &["runs", "--db", &format!("{PG_SERVER}/postgres")]);
        assert_eq!(r.code, 2);
        assert!(r.stderr.contains("not a Ferry target"), "{}", r.stderr);
        return;
    }
    let r = ferry(d, &["init", "--db", "no/such/folder/t.db"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot open the target"), "{}", r.stderr);
    std::fs::write(
        d.join("junk.db"),
        "this is not a database, just some text that is long enough",
    )
    .unwrap();
    let r = ferry(d, &["runs", "--db", "junk.db"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("junk.db"), "{}", r.stderr);
    std::fs::write(d.join("empty.db"), "").unwrap();
    assert_eq!(ferry(d, &["init", "--db", "empty.db"]).code, 0);
    // one message, said once
    let r = ferry(d, &["import", fixture("unclosed.xml").to_str().unwrap()]);
    assert_eq!(
        r.stderr.matches("ends inside an element").count(),
        1,
        "{}",
        r.stderr
    );
}

#[test]
fn xml_in_utf16_or_a_declared_encoding() {
    let dir = scratch();
    let d = dir.path();
    for (f, name) in [("utf16.xml", "Zoë"), ("windows1252.xml", "José")] {
        let db = format!("{f}.db");
        let r = ferry(
            d,
            &[
                "import",
                fixture(f).to_str().unwrap(),
                "--db",
                &db,
                "--log",
                "f.jsonl",
            ],
        );
        assert_eq!(r.code, 0, "{f}: {}", r.stderr);
        assert_eq!(
            ferry(
                d,
                &[
                    "export",
                    "--db",
                    &db,
                    "--format",
                    "xml",
                    "x.xml",
                    "--entities",
                    "Role"
                ]
            )
            .code,
            0
        );
        assert!(
            std::fs::read_to_string(d.join("x.xml"))
                .unwrap()
                .contains(name),
            "{f}"
        );
    }
    // the unknown attribute of windows1252.xml is located on its line
    let f = findings(&d.join("f.jsonl"));
    assert_eq!(f[0]["row"], 4);
}

#[test]
fn a_closed_output_pipe_does_not_crash_a_run() {
    let dir = scratch();
    let mut child = command(
        dir.path(),
        &[
            "import",
            example("club/club.xml").to_str().unwrap(),
            "--json",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}
