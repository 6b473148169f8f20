//! Issue 17's smaller points, against a real `ferry serve` over HTTP (and the real binary): a
//! refused upload brings the form back with its options; CSV uploads are named by their files;
//! the console words the terminal's flags as its own options; search folds accents and case;
//! the account page names the account and where each record came from; the runs list says who
//! did what and how many records each run imported and rejected; a test-only run leaves no
//! `ferry.db`; one is never "1 warnings".

mod common;
use common::web::{
    agent, data_dir, get, multipart, page_csrf, run_status, sign_in_cookie, wait_run_ended,
    Console, ADMIN,
};
use common::*;
use std::path::Path;
use std::time::Duration;

fn session(console: &Console) -> String {
    let c = sign_in_cookie(console, ADMIN);
    c.split(';').next().unwrap().to_string()
}

/// Posts a multipart form to `path`: (status, Location header, body).
fn post(
    console: &Console,
    cookie: &str,
    path: &str,
    files: &[(&str, &str, &[u8])],
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let (ct, body) = multipart(files, fields);
    let mut r = agent()
        .post(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (
        r.status().as_u16(),
        loc,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// Posts a urlencoded form (an action with `confirm=yes`): the status.
fn post_form(console: &Console, cookie: &str, path: &str, fields: &[(&str, &str)]) -> u16 {
    agent()
        .post(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .send_form(fields.iter().copied())
        .unwrap()
        .status()
        .as_u16()
}

/// The CSV files of an example folder as upload parts.
fn csv_parts(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(example(folder))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Uploads the CSV files of example `folder` to `path` (`/runs/new` or `/certification`) with
/// `fields`; returns the run, once it has ended.
fn upload_csv(
    dir: &Path,
    console: &Console,
    cookie: &str,
    path: &str,
    folder: &str,
    fields: &[(&str, &str)],
) -> i64 {
    let token = page_csrf(console, cookie.trim_start_matches("ferry_session="));
    let parts = csv_parts(folder);
    let files: Vec<(&str, &str, &[u8])> = parts
        .iter()
        .map(|(n, b)| ("files", n.as_str(), b.as_slice()))
        .collect();
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    let (code, loc, body) = post(console, cookie, path, &files, &all);
    assert_eq!(code, 303, "{body}");
    let run: i64 = loc.strip_prefix("/runs/").unwrap().parse().unwrap();
    wait_run_ended(dir, run);
    run
}

/// No count of one with a plural noun ("1 warnings").
fn no_false_plural(page: &str, what: &str) {
    let text = page.replace(['\n', '\t'], " ");
    for noun in [
        "errors", "warnings", "notes", "infos", "records", "rows", "accounts", "findings",
        "invoices", "changes", "files",
    ] {
        for pre in [" ", ">", "("] {
            let bad = format!("{pre}1 {noun}");
            assert!(!text.contains(&bad), "{what}: \"{bad}\" in {text}");
        }
    }
}

#[test]
fn a_wrong_upload_type_brings_the_form_back_with_its_options() {
    let s = scratch();
    let console = Console::start(s.path(), "console.db");
    let cookie = session(&console);
    let token = page_csrf(&console, cookie.trim_start_matches("ferry_session="));
    let (code, _, body) = post(
        &console,
        &cookie,
        "/runs/new",
        &[("files", "report.pdf", b"%PDF-1.4 not a workbook")],
        &[
            ("csrf", &token),
            ("on_existing", "skip"),
            ("date_order", "dmy"),
            ("phone_region", "GB"),
            ("encoding", "windows-1252"),
            ("max_records", "25"),
            ("fold_case", "on"),
            ("create_accounts", "false"),
            ("action", "start"),
        ],
    );
    assert_eq!(code, 400, "{body}");
    // The form, with the reason above it.
    assert!(body.contains("id=\"form-error\""), "{body}");
    assert!(body.contains("report.pdf"), "{body}");
    assert!(body.contains("is not a file Ferry reads"), "{body}");
    assert!(
        body.contains("<form method=\"post\" action=\"/runs/new\""),
        "{body}"
    );
    let banner = body.find("id=\"form-error\"").unwrap();
    let form = body
        .find("<form method=\"post\" action=\"/runs/new\"")
        .unwrap();
    assert!(banner < form, "the banner is above the form");
    // Every option as chosen; test only was left clear, and stays clear.
    assert!(body.contains("<option value=\"skip\" selected>"), "{body}");
    assert!(body.contains("<option value=\"dmy\" selected>"), "{body}");
    assert!(body.contains("<option value=\"false\" selected>"), "{body}");
    assert!(body.contains("value=\"GB\""), "{body}");
    assert!(body.contains("value=\"windows-1252\""), "{body}");
    assert!(body.contains("value=\"25\""), "{body}");
    assert!(body.contains("name=\"fold_case\" checked"), "{body}");
    assert!(!body.contains("name=\"test_only\" checked"), "{body}");
    // Nothing started, nothing kept.
    assert_eq!(int(s.path(), "console.db", "SELECT count(*) FROM run"), 0);
    let uploads = data_dir(s.path()).join("uploads");
    let left: Vec<_> = std::fs::read_dir(&uploads)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(
        left.iter()
            .all(|p| !p.is_dir() || std::fs::read_dir(p).unwrap().next().is_none()),
        "{left:?}"
    );
    // The certification page does the same with its own options.
    let (code, _, body) = post(
        &console,
        &cookie,
        "/certification",
        &[("files", "legacy.docx", b"PK")],
        &[("csrf", &token), ("add_missing_components", "on")],
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("id=\"form-error\""), "{body}");
    assert!(
        body.contains("name=\"add_missing_components\" checked"),
        "{body}"
    );
    assert!(!body.contains("name=\"test_only\" checked"), "{body}");
}

#[test]
fn csv_uploads_are_named_by_their_files_even_after_the_upload_is_gone() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    let cookie = session(&console);
    let run = upload_csv(
        d,
        &console,
        &cookie,
        "/runs/new",
        "club/club_csv",
        &[("test_only", "on")],
    );
    let check = |when: &str| {
        for path in ["/runs".to_string(), format!("/runs/{run}")] {
            let (code, body) = get(&console, &cookie, &path);
            assert_eq!(code, 200);
            assert!(body.contains("User.csv"), "{when} {path}: {body}");
            assert!(body.contains("ContactEmail.csv"), "{when} {path}");
            assert!(!body.contains(">csv<"), "{when} {path}: {body}");
        }
    };
    check("with the upload");
    // The upload leaves the data folder (retention, a rollback): the names stay.
    let uploads = data_dir(d).join("uploads");
    for e in std::fs::read_dir(&uploads).unwrap().flatten() {
        if e.path().is_dir() {
            std::fs::remove_dir_all(e.path()).unwrap();
        }
    }
    check("after the upload is gone");
}

#[test]
fn the_console_words_advice_as_its_own_options_not_cli_flags() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    for folder in ["club/club_csv", "certification/students"] {
        let input = example(folder).display().to_string();
        let r = ferry(d, &["import", &input, "--db", "console.db", "--no-backup"]);
        assert!(r.code <= 1, "{}", r.stderr);
    }
    let cookie = session(&console);
    let (code, page) = get(&console, &cookie, "/certification");
    assert_eq!(code, 200);
    for flag in ["--add-missing-components", "--on-existing", "--test-only"] {
        assert!(!page.contains(flag), "{flag}: {page}");
    }
    let run = upload_csv(
        d,
        &console,
        &cookie,
        "/certification",
        "certification/legacy_csv",
        &[("test_only", "on"), ("on_existing", "skip")],
    );
    let (code, body) = get(&console, &cookie, &format!("/runs/{run}?severity=warning"));
    assert_eq!(code, 200);
    assert!(body.contains("does not contain this component"), "{body}");
    assert!(!body.contains("--add-missing-components"), "{body}");
    assert!(
        body.contains("Add components a registration uses but its program lacks"),
        "{body}"
    );
    // An existing key in an import: the option to choose, not `--on-existing`.
    // The student again with another e-mail: its key exists, with other values.
    let token = page_csrf(&console, cookie.trim_start_matches("ferry_session="));
    let changed = b"Name,Owner,Role,Culture,Currency,Language,StatusType,Email\n101,Harbour Sailing Club,Member,English,USD,English,Active,other101@example.org\n";
    let (code, loc, body) = post(
        &console,
        &cookie,
        "/runs/new",
        &[("files", "User.csv", changed)],
        &[
            ("csrf", &token),
            ("test_only", "on"),
            ("on_existing", "error"),
        ],
    );
    assert_eq!(code, 303, "{body}");
    let again: i64 = loc.strip_prefix("/runs/").unwrap().parse().unwrap();
    wait_run_ended(d, again);
    let (_, body) = get(&console, &cookie, &format!("/runs/{again}"));
    assert!(body.contains("already exists"), "{body}");
    assert!(!body.contains("--on-existing"), "{body}");
    assert!(body.contains("A record whose key already exists"), "{body}");
    no_false_plural(&body, "run page");
}

#[test]
fn search_folds_accents_and_case_and_the_account_page_says_where_each_record_came_from() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    let cookie = session(&console);
    let run = upload_csv(d, &console, &cookie, "/runs/new", "club/club_csv", &[]);
    assert_ne!(run_status(d, run), "failed");
    // Zoë Lindqvist of HSC-0028, as staff type her name.
    for q in ["zoe", "ZOE", "Zoë", "ZOË", "zoe lindqvist", "lindqvist"] {
        let query = q
            .replace(' ', "+")
            .replace('ë', "%C3%AB")
            .replace('Ë', "%C3%8B");
        let (code, body) = get(&console, &cookie, &format!("/records?q={query}"));
        assert_eq!(code, 200);
        assert!(body.contains("/records/HSC-0028"), "{q}: {body}");
    }
    let (_, body) = get(&console, &cookie, "/records?q=bjorn");
    assert!(body.contains("/records/HSC-0033"), "bjorn: {body}");
    let (_, body) = get(&console, &cookie, "/records?q=zzzz-nobody");
    assert!(!body.contains("/records/HSC-"), "{body}");

    // The account page: its name, and for each record the run (linked), file and row.
    let (code, body) = get(&console, &cookie, "/records/HSC-0001");
    assert_eq!(code, 200);
    assert!(body.contains("Leila Takahashi"), "{body}");
    assert!(body.contains("id=\"account-title\""), "{body}");
    let link = format!("<a href=\"/runs/{run}\">run {run}</a>");
    assert!(body.contains(&link), "{body}");
    for file in ["User.csv", "Contact.csv", "ContactEmail.csv"] {
        assert!(body.contains(&format!("{file} › row")), "{file}: {body}");
    }
    assert!(!body.contains("/uploads/"), "{body}");
    let data = data_dir(d).canonicalize().unwrap();
    assert!(!body.contains(&data.display().to_string()), "{body}");
    // A company account is called by its company.
    let (_, body) = get(&console, &cookie, "/records/HSC-0028");
    assert!(body.contains("Cascade Yacht Brokerage"), "{body}");
    // Invoices and payments say which ledger record made them.
    let with_ledger = rows(
        d,
        "console.db",
        "SELECT \"user\" FROM ledger_line WHERE kind = 'payment' ORDER BY id LIMIT 1",
    );
    let account = &with_ledger[0][0];
    let (_, body) = get(&console, &cookie, &format!("/records/{account}"));
    assert!(body.contains("Ledger.csv › row"), "{body}");
    no_false_plural(&body, "account page");
}

#[test]
fn the_runs_list_says_who_did_what_and_how_many_records_landed() {
    let s = scratch();
    let d = s.path();
    let console = Console::start(d, "console.db");
    // A run from a terminal.
    let input = example("certification/students").display().to_string();
    let r = ferry(d, &["import", &input, "--db", "console.db", "--test-only"]);
    assert!(r.code <= 1, "{}", r.stderr);
    let cookie = session(&console);
    let test = upload_csv(
        d,
        &console,
        &cookie,
        "/runs/new",
        "club/club_csv",
        &[("test_only", "on")],
    );
    let token = page_csrf(&console, cookie.trim_start_matches("ferry_session="));
    let errors = int(
        d,
        "console.db",
        &format!("SELECT errors FROM run WHERE id = {test}"),
    );
    let action = if errors == 0 { "live" } else { "import-valid" };
    assert_eq!(
        post_form(
            &console,
            &cookie,
            &format!("/runs/{test}/{action}"),
            &[("csrf", &token), ("confirm", "yes")]
        ),
        303
    );
    let live = int(d, "console.db", "SELECT max(id) FROM run");
    assert!(live > test);
    wait_run_ended(d, live);
    let imported = int(
        d,
        "console.db",
        &format!("SELECT sum(imported + updated) FROM run_count WHERE run_id = {live}"),
    );
    let rejected = int(
        d,
        "console.db",
        &format!("SELECT sum(rejected) FROM run_count WHERE run_id = {live}"),
    );
    assert!(imported > 0);
    assert_eq!(
        post_form(
            &console,
            &cookie,
            &format!("/runs/{live}/rollback"),
            &[("csrf", &token), ("confirm", "yes")]
        ),
        303
    );
    for _ in 0..1200 {
        if run_status(d, live) == "rolled-back" {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(run_status(d, live), "rolled-back");
    let (code, body) = get(&console, &cookie, "/runs");
    assert_eq!(code, 200);
    assert!(body.contains("started by command line"), "{body}");
    assert!(body.contains(&format!("started by {ADMIN}")), "{body}");
    assert!(
        body.contains(&format!("run live by {ADMIN}; rolled back by {ADMIN}")),
        "{body}"
    );
    let row = |id: i64| {
        let at = body
            .find(&format!("<a href=\"/runs/{id}\">{id}</a>"))
            .unwrap();
        body[at..body[at..].find("</tr>").unwrap() + at].to_string()
    };
    let live_row = row(live);
    let count = |n: i64| ferry_findings::words::number(n as u64);
    assert!(
        live_row.contains(&format!(
            "<td class=\"num imported\">{}</td>",
            count(imported)
        )),
        "{live_row}"
    );
    assert!(
        live_row.contains(&format!(
            "<td class=\"num rejected\">{}</td>",
            count(rejected)
        )),
        "{live_row}"
    );
    assert!(row(test).contains("if live)"), "{}", row(test));
    // The journal keeps it, on both backends.
    let events = rows(
        d,
        "console.db",
        &format!("SELECT action, actor FROM run_event WHERE run_id = {live} ORDER BY id"),
    );
    assert_eq!(
        events,
        vec![
            vec!["started".to_string(), ADMIN.to_string()],
            vec!["rolled back".to_string(), ADMIN.to_string()]
        ]
    );
    // One, not "1 …s", on the run page of the rolled-back run.
    let (_, page) = get(&console, &cookie, &format!("/runs/{live}"));
    no_false_plural(&page, "run page");
}

#[test]
fn a_test_only_run_without_a_target_leaves_no_ferry_db() {
    let s = scratch();
    let d = s.path();
    let input = example("club/club.xlsx");
    std::fs::copy(&input, d.join("club.xlsx")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "import",
            "club.xlsx",
            "--test-only",
            "--log",
            "findings.jsonl",
        ])
        .current_dir(d)
        .env_remove("FERRY_DB")
        .env("XDG_DATA_HOME", data_home(d))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.code().unwrap() <= 1, "{stderr}");
    assert!(
        stderr.contains("There is no target at ferry.db"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Run 1 (test-only)"),
        "the summary: {stdout}"
    );
    let mut left: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    left.sort();
    assert_eq!(
        left,
        vec!["club.xlsx".to_string(), "findings.jsonl".to_string()],
        "{left:?}"
    );
    no_false_plural(&stdout, "summary");
    // With a target, a test-only run uses it as before.
    let r = ferry(d, &["init", "--db", "t.db"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = ferry(d, &["import", "club.xlsx", "--db", "t.db", "--test-only"]);
    assert!(r.code <= 1, "{}", r.stderr);
    assert!(!r.stderr.contains("There is no target"), "{}", r.stderr);
    assert_eq!(int(d, "t.db", "SELECT count(*) FROM run"), 1);
}
