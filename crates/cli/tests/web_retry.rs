//! A run page's way from a failed test to a fix, over HTTP against a real `ferry serve`
//! (issue 17): Run live, Import the valid rows, Roll back and Cancel act only after their
//! confirmation page; a test run with errors gives its rejected rows (original layout, a
//! "Ferry findings" column, secrets blanked or masked) and can be retried with a corrected file
//! (same options, linked both ways) or have its valid rows imported; banners have the colour of
//! the outcome and name runs as links.

mod common;
use common::web::{
    act, agent, csrf, get, location, multipart, run_of, run_status as status, session,
    wait_job_over, Console, ADMIN,
};
use common::xlsx::{secrets_workbook, sheets};
use common::*;
use std::path::Path;
use std::time::Duration;

/// Posts files to `path` (the new-run form, or a run's retry form) as a test run; returns the
/// status and where it sends to.
fn upload_to(
    console: &Console,
    cookie: &str,
    path: &str,
    files: &[(&str, Vec<u8>)],
) -> (u16, String) {
    let token = csrf(console, cookie);
    let mut parts: Vec<(&str, &str, &[u8])> = vec![];
    for (n, b) in files {
        // A ticket attachment goes in its own field.
        let field = if n.ends_with(".txt") {
            "attachments"
        } else {
            "files"
        };
        parts.push((field, *n, &b[..]));
    }
    let (ct, body) = multipart(&parts, &[("csrf", &token), ("test_only", "on")]);
    let mut r = agent()
        .post(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let to = location(&r);
    let status = r.status().as_u16();
    if status != 303 {
        panic!(
            "{path} refused ({status}): {}",
            r.body_mut().read_to_string().unwrap_or_default()
        );
    }
    (status, to)
}

fn get_bytes(console: &Console, cookie: &str, path: &str) -> (u16, Vec<u8>) {
    let mut r = agent()
        .get(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .call()
        .unwrap();
    (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
}

fn runs(dir: &Path) -> i64 {
    int(dir, "console.db", "SELECT count(*) FROM run")
}

/// Run live and Roll back: the page links to their confirmation pages, a post without
/// `confirm=yes` does nothing but send there, and the confirmed post acts. A rollback done is a
/// green banner (no red one); a refused one is red, naming the run as a link.
#[test]
fn run_live_and_roll_back_act_only_once_confirmed() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let club = std::fs::read(example("club/club.xml")).unwrap();
    let map = std::fs::read(example("club/attachments/berth-map.txt")).unwrap();
    let (_, to) = upload_to(
        &console,
        &cookie,
        "/runs/new",
        &[("club.xml", club), ("berth-map.txt", map)],
    );
    let test = run_of(&to);
    wait_job_over(&console, &cookie, test, Duration::from_millis(300));
    let (_, page) = get(&console, &cookie, &format!("/runs/{test}"));
    assert!(
        page.contains(&format!("href=\"/runs/{test}/confirm/live\"")),
        "{page}"
    );
    assert!(
        !page.contains(&format!("action=\"/runs/{test}/live\"")),
        "no one-click form"
    );

    assert_eq!(
        act(&console, &cookie, test, "live", false),
        (303, format!("/runs/{test}/confirm/live"))
    );
    assert_eq!(runs(dir), 1, "not confirmed: nothing started");
    let (code, confirm) = get(&console, &cookie, &format!("/runs/{test}/confirm/live"));
    assert_eq!(code, 200);
    assert!(
        confirm.contains("records will be written to the target for real"),
        "{confirm}"
    );
    assert!(
        confirm.contains("name=\"confirm\" value=\"yes\""),
        "{confirm}"
    );
    assert!(
        confirm.contains(&format!("action=\"/runs/{test}/live\"")),
        "{confirm}"
    );

    let (code, to) = act(&console, &cookie, test, "live", true);
    assert_eq!(code, 303);
    let live = run_of(&to);
    wait_job_over(&console, &cookie, live, Duration::from_millis(300));
    assert_eq!(status(dir, live), "succeeded");

    assert_eq!(act(&console, &cookie, live, "rollback", false).0, 303);
    assert_eq!(
        status(dir, live),
        "succeeded",
        "not confirmed: not rolled back"
    );
    let (_, confirm) = get(&console, &cookie, &format!("/runs/{live}/confirm/rollback"));
    assert!(confirm.contains("are removed from the target"), "{confirm}");
    assert_eq!(act(&console, &cookie, live, "rollback", true).0, 303);
    wait_job_over(&console, &cookie, live, Duration::from_millis(300));
    assert_eq!(status(dir, live), "rolled-back");
    let (_, page) = get(&console, &cookie, &format!("/runs/{live}"));
    assert!(
        page.contains("class=\"notice ok\" id=\"outcome\""),
        "{page}"
    );
    assert!(!page.contains("class=\"notice error\""), "{page}");
    assert!(!page.contains("notice warning"), "{page}");

    // Cancel asks first too; confirmed on a run that is not running, it is refused.
    assert_eq!(
        act(&console, &cookie, live, "cancel", false),
        (303, format!("/runs/{live}/confirm/cancel"))
    );
    let (code, confirm) = get(&console, &cookie, &format!("/runs/{live}/confirm/cancel"));
    assert_eq!(code, 200);
    assert!(
        confirm.contains("stops at its next checkpoint"),
        "{confirm}"
    );
    assert_eq!(act(&console, &cookie, live, "cancel", true).0, 400);

    // Again: refused (it is rolled back already), in red.
    assert_eq!(act(&console, &cookie, live, "rollback", true).0, 303);
    wait_job_over(&console, &cookie, live, Duration::from_millis(300));
    let (_, page) = get(&console, &cookie, &format!("/runs/{live}"));
    assert!(
        page.contains("class=\"notice error\" id=\"outcome\""),
        "{page}"
    );
    assert!(
        page.contains(&format!("<a href=\"/runs/{live}\">run {live}</a>")),
        "{page}"
    );
}

/// A test run of `mistakes.xlsx` with errors: its rejected rows come as a workbook of the same
/// sheets and headers, one row per rejected source row with its findings, passwords and card
/// numbers gone; uploading that file retries the run (linked both ways, the findings column
/// ignored); and its valid rows can be imported after a confirmation that says what will land.
#[test]
fn a_test_run_with_errors_gives_rejected_rows_a_retry_and_its_valid_rows() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let source = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let (_, to) = upload_to(
        &console,
        &cookie,
        "/runs/new",
        &[("mistakes.xlsx", source.clone())],
    );
    let test = run_of(&to);
    wait_job_over(&console, &cookie, test, Duration::from_millis(300));
    assert_eq!(status(dir, test), "completed-with-errors");
    let (_, page) = get(&console, &cookie, &format!("/runs/{test}"));
    assert!(
        page.contains(&format!("href=\"/runs/{test}/confirm/import-valid\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/runs/{test}/rejected/1\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("action=\"/runs/{test}/retry\"")),
        "{page}"
    );

    // The rejected rows.
    let (code, bytes) = get_bytes(&console, &cookie, &format!("/runs/{test}/rejected/1"));
    assert_eq!(code, 200);
    let got = sheets(&bytes);
    let src = sheets(&source);
    let names =
        |v: &[(String, Vec<Vec<String>>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let rejected_rows: usize = got
        .iter()
        .filter(|(n, _)| n != "Options")
        .map(|(_, r)| r.len() - 1)
        .sum();
    let with_errors = int(dir, "console.db", &format!("SELECT count(*) FROM (SELECT DISTINCT sheet, row FROM run_finding WHERE run_id = {test} AND severity = 'error' AND row > 0) x"));
    assert_eq!(
        rejected_rows as i64, with_errors,
        "one row per rejected source row"
    );
    for (name, rows) in &got {
        let (_, orig) = src
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} is a source sheet: {:?}", names(&src)));
        if name == "Options" {
            assert_eq!(rows, orig, "Options copied whole");
            continue;
        }
        let header = &rows[0];
        assert_eq!(header.last().unwrap(), "Ferry findings");
        assert_eq!(
            &header[..header.len() - 1],
            &orig[0][..header.len() - 1],
            "{name}'s header"
        );
        for r in &rows[1..] {
            assert!(r.last().unwrap().contains(": "), "{name}: {r:?}");
        }
    }
    let text = format!("{got:?}");
    let at = text.find("/uploads/").unwrap_or(0);
    assert!(
        !text.contains("/uploads/"),
        "no server folder in the findings column: {}",
        text.get(at.saturating_sub(300)..(at + 300).min(text.len()))
            .unwrap_or("")
    );
    for secret in MISTAKES_SECRETS {
        assert!(!text.contains(secret), "{secret}");
    }
    if let Some((_, users)) = src.iter().find(|(n, _)| n == "User") {
        let col = users[0].iter().position(|h| h == "Password");
        for u in users[1..].iter().filter(|_| col.is_some()) {
            let col = col.unwrap_or_default();
            if u[col].len() > 3 {
                assert!(!text.contains(&format!("\"{}\"", u[col])), "a password");
            }
        }
    }

    // Retry with the rejected rows as the corrected file.
    let (_, to) = upload_to(
        &console,
        &cookie,
        &format!("/runs/{test}/retry"),
        &[("mistakes-rejected.xlsx", bytes)],
    );
    let retry = run_of(&to);
    wait_job_over(&console, &cookie, retry, Duration::from_millis(300));
    assert_eq!(
        rows(
            dir,
            "console.db",
            &format!("SELECT mode FROM run WHERE id = {retry}")
        )[0][0],
        "test-only"
    );
    assert_eq!(
        int(dir, "console.db", &format!("SELECT count(*) FROM run_finding WHERE run_id = {retry} AND (field = 'Ferry findings' OR message LIKE '%Ferry findings%')")),
        0,
        "the findings column is ignored"
    );
    // Its findings name the corrected file as uploaded, not the old run's file.
    let named = |cond: &str| {
        int(
            dir,
            "console.db",
            &format!("SELECT count(*) FROM run_finding WHERE run_id = {retry} AND {cond}"),
        )
    };
    assert!(named("file = 'mistakes-rejected.xlsx'") > 0);
    assert_eq!(named("file <> 'mistakes-rejected.xlsx'"), 0);
    let (_, page) = get(&console, &cookie, &format!("/runs/{retry}"));
    assert!(
        page.contains(&format!("retry of <a href=\"/runs/{test}\">run {test}</a>")),
        "{page}"
    );
    let (_, page) = get(&console, &cookie, &format!("/runs/{test}"));
    assert!(
        page.contains(&format!("<a href=\"/runs/{retry}\">run {retry}</a>")),
        "{page}"
    );

    // Import the valid rows.
    assert_eq!(
        act(&console, &cookie, test, "import-valid", false),
        (303, format!("/runs/{test}/confirm/import-valid"))
    );
    let before = runs(dir);
    let (_, confirm) = get(
        &console,
        &cookie,
        &format!("/runs/{test}/confirm/import-valid"),
    );
    let land = int(
        dir,
        "console.db",
        &format!("SELECT sum(imported + updated) FROM run_count WHERE run_id = {test}"),
    );
    let out = int(
        dir,
        "console.db",
        &format!("SELECT sum(rejected) FROM run_count WHERE run_id = {test}"),
    );
    assert!(
        confirm.contains(&format!("{land} records will be written")) || land >= 1000,
        "{confirm}"
    );
    assert!(
        confirm.contains("records will NOT be imported"),
        "{confirm}"
    );
    assert!(
        confirm.contains("reference.unknown") || confirm.contains("value."),
        "by code: {confirm}"
    );
    assert!(out > 0);
    assert_eq!(runs(dir), before);
    let (code, to) = act(&console, &cookie, test, "import-valid", true);
    assert_eq!(code, 303);
    let live = run_of(&to);
    wait_job_over(&console, &cookie, live, Duration::from_millis(300));
    assert_eq!(
        rows(
            dir,
            "console.db",
            &format!("SELECT mode, status FROM run WHERE id = {live}")
        )[0],
        ["live", "completed-with-errors"]
    );
    assert_eq!(
        int(
            dir,
            "console.db",
            &format!("SELECT sum(imported + updated) FROM run_count WHERE run_id = {live}")
        ),
        land,
        "what the confirmation said lands"
    );
    let (_, page) = get(&console, &cookie, &format!("/runs/{test}"));
    assert!(!page.contains("confirm/import-valid"), "not twice");
}

/// A CSV folder's rejected rows come as a zip of its CSV files, each with the findings column.
#[test]
fn a_csv_folders_rejected_rows_are_a_zip_of_csv_files() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let folder = example("mistakes/mistakes_csv");
    let mut files = vec![];
    for e in std::fs::read_dir(&folder).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            continue;
        }
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        files.push((name, std::fs::read(&p).unwrap()));
    }
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let (_, to) = upload_to(&console, &cookie, "/runs/new", &files);
    let test = run_of(&to);
    wait_job_over(&console, &cookie, test, Duration::from_millis(300));
    let (code, bytes) = get_bytes(&console, &cookie, &format!("/runs/{test}/rejected/1"));
    assert_eq!(code, 200);
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(zip.len() > 1);
    let mut seen_rows = 0;
    for i in 0..zip.len() {
        let f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut r = csv::Reader::from_reader(f);
        let header = r.headers().unwrap().clone();
        if name == "Options.csv" {
            continue;
        }
        assert_eq!(
            header.iter().next_back().unwrap(),
            "Ferry findings",
            "{name}"
        );
        seen_rows += r.records().count();
    }
    assert!(seen_rows > 0);
}

/// Rejected rows never carry a password or a whole card or bank number: passwords are blanked,
/// card and account numbers masked to their last four digits, as the annotated workbook does.
#[test]
fn rejected_rows_blank_passwords_and_mask_card_numbers() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let bytes = secrets_workbook();
    let (_, to) = upload_to(&console, &cookie, "/runs/new", &[("secrets.xlsx", bytes)]);
    let test = run_of(&to);
    wait_job_over(&console, &cookie, test, Duration::from_millis(300));
    let (code, out) = get_bytes(&console, &cookie, &format!("/runs/{test}/rejected/1"));
    assert_eq!(code, 200);
    let got = sheets(&out);
    let text = format!("{got:?}");
    assert!(!text.contains("Tr0ub4dor"), "{text}");
    assert!(
        !text.contains("4111 1111 1111 1111") && !text.contains("4111111111111111"),
        "{text}"
    );
    let (_, users) = got
        .iter()
        .find(|(n, _)| n == "User")
        .expect("the User sheet");
    assert_eq!(users[1][0], "HSC-9001", "{text}");
    assert_eq!(users[1][1], "", "the password blanked: {text}");
    let (_, cards) = got
        .iter()
        .find(|(n, _)| n == "UserPaymentMethodCreditCard")
        .expect("the card sheet");
    assert_eq!(cards[1][1], "************1111", "{text}");
    assert!(!text.contains("/uploads/"), "no server folder: {text}");
}

/// A run's error findings as (code, sheet, row, column), sorted.
fn errors_of(dir: &Path, run: i64) -> Vec<Vec<String>> {
    rows(
        dir,
        "console.db",
        &format!("SELECT code, coalesce(sheet, ''), coalesce(row, 0), coalesce(col, '') FROM run_finding WHERE run_id = {run} AND severity = 'error' ORDER BY 1, 2, 3, 4"),
    )
}

/// Retry after live: a test with errors, its valid rows imported, then the same file retried
/// from the live run's page — the retry reports only what is still wrong (the test's errors,
/// no `ledger.duplicate` of the rows that went live; those are skipped, one note each), and its
/// page says which run it retries.
#[test]
fn retrying_the_same_file_after_its_valid_rows_went_live_reports_only_what_is_still_wrong() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let source = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let attachment = std::fs::read(example("mistakes/attachments/berth-map.txt")).unwrap();
    let files = [
        ("mistakes.xlsx", source.clone()),
        ("berth-map.txt", attachment.clone()),
    ];
    let (_, to) = upload_to(&console, &cookie, "/runs/new", &files);
    let test = run_of(&to);
    wait_job_over(&console, &cookie, test, Duration::from_millis(300));
    assert_eq!(status(dir, test), "completed-with-errors");
    let (code, to) = act(&console, &cookie, test, "import-valid", true);
    assert_eq!(code, 303);
    let live = run_of(&to);
    wait_job_over(&console, &cookie, live, Duration::from_millis(300));
    assert_eq!(status(dir, live), "completed-with-errors");
    assert_eq!(errors_of(dir, live), errors_of(dir, test));

    let (_, page) = get(&console, &cookie, &format!("/runs/{test}"));
    assert!(
        page.contains(&format!(
            "Run live in <a href=\"/runs/{live}\">run {live}</a>"
        )),
        "{page}"
    );
    assert!(!page.contains("Retried with corrected files"), "{page}");
    let (_, to) = upload_to(&console, &cookie, &format!("/runs/{live}/retry"), &files);
    let retry = run_of(&to);
    wait_job_over(&console, &cookie, retry, Duration::from_millis(300));
    assert_eq!(status(dir, retry), "completed-with-errors");
    assert_eq!(
        errors_of(dir, retry),
        errors_of(dir, test),
        "only what is still wrong"
    );
    let count = |code: &str| {
        int(
            dir,
            "console.db",
            &format!("SELECT count(*) FROM run_finding WHERE run_id = {retry} AND code = '{code}'"),
        )
    };
    assert_eq!(count("ledger.duplicate"), 0);
    assert!(count("ledger.duplicate_skipped") > 0);
    assert!(count("key.identical") > 0);
    let (_, page) = get(&console, &cookie, &format!("/runs/{retry}"));
    assert!(
        page.contains(&format!("retry of <a href=\"/runs/{live}\""))
            || page.contains(&format!("retry of run <a href=\"/runs/{live}\""))
            || page.contains(&format!("/runs/{live}\">run {live}</a>")),
        "{page}"
    );
}
