//! `ferry rejected RUN --out OUT` (issue 17): the rows a run rejected, in their own layout with
//! a `Ferry findings` column — fixed and imported again, only what is still wrong is rejected;
//! secrets blanked or masked; a CSV folder as a zip, a CSV file as a CSV, several inputs as a
//! folder of files; an unknown run, a changed or missing input, an XML input: exit 2.

mod common;
use calamine::{Data, Reader};
use common::xlsx::{secrets_workbook, sheets};
use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// `ferry import ARGS --db t.db` in `dir`, which must end with record errors (exit 1).
fn import_with_errors(dir: &Path, args: &[&str]) {
    let mut all = vec!["import"];
    all.extend(args);
    all.extend(["--db", "t.db"]);
    let r = ferry(dir, &all);
    assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
}

/// The (sheet, row) places of run `run`'s error findings.
fn error_rows(dir: &Path, run: i64) -> BTreeSet<(String, i64)> {
    rows(
        dir,
        "t.db",
        &format!("SELECT DISTINCT coalesce(sheet, file), row FROM run_finding WHERE run_id = {run} AND severity = 'error' AND row > 0"),
    )
    .into_iter()
    .map(|r| (r[0].clone(), r[1].parse().unwrap()))
    .collect()
}

/// Writes the workbook `from` again to `to` with the cell at `(sheet, row, col)` (0-based) set
/// to `value`; every other cell as it is (numbers stay numbers, dates dates).
fn rewrite_with(from: &Path, to: &Path, cell: (&str, usize, usize), value: &str) {
    let mut src = calamine::open_workbook::<calamine::Xlsx<_>, _>(from).unwrap();
    let mut out = rust_xlsxwriter::Workbook::new();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for name in src.sheet_names().to_vec() {
        let range = src.worksheet_range(&name).unwrap();
        let ws = out.add_worksheet().set_name(&name).unwrap();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (i, row) in range.rows().enumerate() {
            for (j, v) in row.iter().enumerate() {
                let (r, c) = (r0 + i as u32, (c0 as usize + j) as u16);
                match v {
                    Data::String(s) => ws.write_string(r, c, s).map(|_| ()),
                    Data::Float(f) => ws.write_number(r, c, *f).map(|_| ()),
                    Data::Int(n) => ws.write_number(r, c, *n as f64).map(|_| ()),
                    Data::Bool(b) => ws.write_boolean(r, c, *b).map(|_| ()),
                    Data::DateTime(d) => ws
                        .write_number_with_format(r, c, d.as_f64(), &date)
                        .map(|_| ()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => {
                        ws.write_string(r, c, s).map(|_| ())
                    }
                    Data::Empty | Data::Error(_) => Ok(()),
                }
                .unwrap();
            }
        }
        if name == cell.0 {
            ws.write_string(cell.1 as u32, cell.2 as u16, value)
                .unwrap();
        }
    }
    out.save(to).unwrap();
}

/// The mistakes workbook imported live, its rejected rows written, one of them fixed and the
/// file imported again: that row is imported, every other one is still rejected, nothing else
/// is; no card number or password is in the file.
#[test]
fn rejected_rows_are_fixed_and_imported_again() {
    let s = scratch();
    let dir = s.path();
    copy_tree(&example("mistakes"), &dir.join("mistakes"));
    import_with_errors(dir, &["mistakes/mistakes.xlsx", "--no-backup"]);
    let first = error_rows(dir, 1);

    let r = ferry(
        dir,
        &["rejected", "1", "--db", "t.db", "--out", "mistakes/r.xlsx"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.trim(),
        "mistakes/r.xlsx",
        "stdout: the path written"
    );
    assert!(r.stderr.contains("rejected rows written"), "{}", r.stderr);
    let bytes = std::fs::read(dir.join("mistakes/r.xlsx")).unwrap();
    let got = sheets(&bytes);
    let written: usize = got
        .iter()
        .filter(|(n, _)| n != "Options")
        .map(|(_, rows)| rows.len() - 1)
        .sum();
    assert_eq!(written, first.len(), "one row per rejected source row");
    for (name, rows) in got.iter().filter(|(n, _)| n != "Options") {
        assert_eq!(rows[0].last().unwrap(), "Ferry findings", "{name}");
    }
    let text = format!("{got:?}");
    for secret in MISTAKES_SECRETS {
        assert!(!text.contains(secret), "{secret}");
    }

    // Mistake 8: HSC-0041's ContactEmail without an e-mail. Give it one.
    let (_, emails) = got.iter().find(|(n, _)| n == "ContactEmail").unwrap();
    let at = emails
        .iter()
        .position(|r| r[0] == "HSC-0041" && r.last().unwrap().contains("value.required"))
        .expect("the empty e-mail among the rejected rows");
    let col = emails[0].iter().position(|h| h == "Email").unwrap();
    rewrite_with(
        &dir.join("mistakes/r.xlsx"),
        &dir.join("mistakes/r2.xlsx"),
        ("ContactEmail", at, col),
        "henry.brennan@example.org",
    );
    import_with_errors(dir, &["mistakes/r2.xlsx", "--test-only"]);
    let second = error_rows(dir, 2);
    let expected: BTreeSet<(String, i64)> = got
        .iter()
        .filter(|(n, _)| n != "Options")
        .flat_map(|(n, rows)| (2..=rows.len() as i64).map(move |i| (n.clone(), i)))
        .filter(|(n, i)| !(n == "ContactEmail" && *i == at as i64 + 1))
        .collect();
    assert_eq!(second, expected, "only the rows still wrong are rejected");
    let fixed = int(
        dir,
        "t.db",
        "SELECT count(*) FROM run_finding WHERE run_id = 2 AND sheet = 'ContactEmail' AND severity = 'error' AND message LIKE '%Email%required%'",
    );
    assert_eq!(fixed, 0);
}

/// Passwords blanked, card numbers masked to their last four digits.
#[test]
fn secrets_are_blanked_or_masked() {
    let s = scratch();
    let dir = s.path();
    std::fs::write(dir.join("secrets.xlsx"), secrets_workbook()).unwrap();
    import_with_errors(dir, &["secrets.xlsx", "--test-only"]);
    let r = ferry(dir, &["rejected", "1", "--db", "t.db", "--out", "out.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let got = sheets(&std::fs::read(dir.join("out.xlsx")).unwrap());
    let text = format!("{got:?}");
    assert!(!text.contains("Tr0ub4dor"), "{text}");
    assert!(!text.contains("4111 1111 1111 1111"), "{text}");
    let (_, users) = got.iter().find(|(n, _)| n == "User").unwrap();
    assert_eq!(users[1][0], "HSC-9001", "{text}");
    assert_eq!(users[1][1], "", "the password blanked: {text}");
    let (_, cards) = got
        .iter()
        .find(|(n, _)| n == "UserPaymentMethodCreditCard")
        .unwrap();
    assert_eq!(cards[1][1], "************1111", "{text}");
}

/// A CSV folder gives a zip of its CSV files; a CSV file a CSV file; a run of several inputs a
/// folder with `<input>-rejected.<ext>` each.
#[test]
fn csv_inputs_and_several_inputs() {
    let s = scratch();
    let dir = s.path();
    copy_tree(&example("mistakes"), &dir.join("mistakes"));
    import_with_errors(dir, &["mistakes/mistakes_csv", "--test-only"]);
    let r = ferry(dir, &["rejected", "1", "--db", "t.db", "--out", "r.csv"]);
    assert_eq!(r.code, 2, "a folder's rows are a zip: {}", r.stderr);
    assert!(r.stderr.contains(".zip"), "{}", r.stderr);
    let r = ferry(dir, &["rejected", "1", "--db", "t.db", "--out", "r.zip"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut zip = zip::ZipArchive::new(std::fs::File::open(dir.join("r.zip")).unwrap()).unwrap();
    let mut rows_in_zip = 0;
    for i in 0..zip.len() {
        let f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut csv = csv::Reader::from_reader(f);
        if name == "Options.csv" {
            continue;
        }
        let header = csv.headers().unwrap().clone();
        assert_eq!(header.iter().next_back().unwrap(), "Ferry findings");
        rows_in_zip += csv.records().count();
    }
    assert_eq!(rows_in_zip, error_rows(dir, 1).len());

    // One CSV file and a workbook in one run: a folder of two files.
    std::fs::copy(
        dir.join("mistakes/mistakes_csv/User.csv"),
        dir.join("User.csv"),
    )
    .unwrap();
    import_with_errors(dir, &["User.csv", "mistakes/mistakes.xlsx", "--test-only"]);
    let r = ferry(dir, &["rejected", "2", "--db", "t.db", "--out", "both"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let listed: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        listed,
        ["both/User-rejected.csv", "both/mistakes-rejected.xlsx"],
        "{}",
        r.stderr
    );
    let mut csv = csv::Reader::from_path(dir.join("both/User-rejected.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap().iter().next_back().unwrap(),
        "Ferry findings"
    );
    assert!(csv.records().count() > 0);
}

/// Exit 2, with the reason on stderr and nothing on stdout: an unknown run, an input changed or
/// gone since the run, an XML input, an output of the wrong kind or over an input.
#[test]
fn what_cannot_be_given_is_refused() {
    let s = scratch();
    let dir = s.path();
    copy_tree(&example("mistakes"), &dir.join("mistakes"));
    ferry(dir, &["init", "--db", "t.db"]);
    let refused = |args: &[&str], says: &str| {
        let mut all = vec!["rejected"];
        all.extend(args);
        all.extend(["--db", "t.db"]);
        let r = ferry(dir, &all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    };
    refused(&["7", "--out", "r.xlsx"], "there is no run 7");

    // Read through a mapping (its web column taken for e-mails): not offered yet.
    std::fs::write(dir.join("members.csv"), common::exports::members_csv()).unwrap();
    std::fs::write(dir.join("m.toml"), common::exports::MISTAKEN_MAPPING).unwrap();
    import_with_errors(dir, &["members.csv", "--mapping", "m.toml", "--test-only"]);
    refused(&["1", "--out", "r.csv"], "through a mapping");

    import_with_errors(dir, &["mistakes/mistakes.xml", "--test-only"]);
    refused(&["2", "--out", "r.xlsx"], "not yet for XML");

    std::fs::copy(dir.join("mistakes/mistakes.xlsx"), dir.join("m.xlsx")).unwrap();
    import_with_errors(dir, &["m.xlsx", "--test-only"]);
    refused(&["3", "--out", "r.csv"], "give a name ending in .xlsx");
    refused(&["3", "--out", "m.xlsx"], "is an input of the run");
    // Changed since the run: another workbook in its place.
    std::fs::copy(dir.join("m.xlsx"), dir.join("keep.xlsx")).unwrap();
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().set_name("User").unwrap();
    book.save(dir.join("m.xlsx")).unwrap();
    refused(&["3", "--out", "r.xlsx"], "changed since it ran");
    std::fs::remove_file(dir.join("m.xlsx")).unwrap();
    refused(&["3", "--out", "r.xlsx"], "no longer there");
    assert!(!dir.join("r.xlsx").exists(), "nothing written");
    // Back as it was: given.
    std::fs::rename(dir.join("keep.xlsx"), dir.join("m.xlsx")).unwrap();
    let r = ferry(dir, &["rejected", "3", "--db", "t.db", "--out", "r.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "r.xlsx");
}

/// A run without errors: nothing to write, and nothing written.
#[test]
fn a_clean_run_has_nothing_to_write() {
    let s = scratch();
    let dir = s.path();
    copy_tree(&example("club"), &dir.join("club"));
    let r = ferry(
        dir,
        &["import", "club/club.xlsx", "--db", "t.db", "--test-only"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(dir, &["rejected", "1", "--db", "t.db", "--out", "r.xlsx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("rejected no rows"), "{}", r.stderr);
    assert!(!dir.join("r.xlsx").exists());
}

/// A run started in the console, asked for on the server: its upload's rows, named as uploaded
/// (no upload folder in the messages or the file).
#[test]
fn a_console_runs_rejected_rows() {
    use common::web::{session, upload_test_run, wait_run_ended, Console, ADMIN};
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let data = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let run = upload_test_run(&console, &cookie, &[("files", "mistakes.xlsx", &data)]);
    wait_run_ended(dir, run);
    let r = ferry(
        dir,
        &[
            "rejected",
            &run.to_string(),
            "--db",
            "console.db",
            "--out",
            "r.xlsx",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("mistakes.xlsx: ") && !r.stderr.contains("/uploads/"),
        "{}",
        r.stderr
    );
    let text = format!("{:?}", sheets(&std::fs::read(dir.join("r.xlsx")).unwrap()));
    assert!(text.contains("Ferry findings"));
    assert!(!text.contains("/uploads/"), "{text}");
}
