//! The console's data folder, over HTTP against a real `ferry serve`: it is private (folders
//! 0700, files 0600, an existing one tightened at start), and uploads — the source files as
//! given, with their passwords and card numbers — leave it when their run is rolled back or
//! ended longer ago than `--retain-uploads-days`, but never while their run can be resumed;
//! generated downloads do not stay at all.

mod common;
use common::web::{
    act, agent, csrf, data_dir, multipart, run_status, session, wait_job_over, wait_run_ended,
    Console, ADMIN,
};
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Uploads `club.xml` as a new run (`test_only` or live); returns the run's number, once the
/// answer names it (`None`: the console gave no answer, as when it is killed mid-run).
fn upload(console: &Console, cookie: &str, test_only: bool) -> Option<i64> {
    upload_file(console, cookie, test_only, "club/club.xml")
}

/// Uploads the example `file` as a new run, as [`upload`] does.
fn upload_file(console: &Console, cookie: &str, test_only: bool, file: &str) -> Option<i64> {
    upload_with(console, cookie, test_only, file, false)
}

/// Uploads `club.xml` with its ticket attachment, as a test run that ends without errors.
fn upload_clean(console: &Console, cookie: &str) -> i64 {
    upload_with(console, cookie, true, "club/club.xml", true).unwrap()
}

fn upload_with(
    console: &Console,
    cookie: &str,
    test_only: bool,
    file: &str,
    attachment: bool,
) -> Option<i64> {
    let token = csrf(console, cookie);
    let data = std::fs::read(example(file)).unwrap();
    let map = std::fs::read(example("club/attachments/berth-map.txt")).unwrap();
    let mut fields = vec![("csrf", token.as_str())];
    if test_only {
        fields.push(("test_only", "on"));
    }
    let name = Path::new(file).file_name().unwrap().to_str().unwrap();
    let mut files: Vec<(&str, &str, &[u8])> = vec![("files", name, &data)];
    if attachment {
        files.push(("attachments", "berth-map.txt", &map));
    }
    let (ct, body) = multipart(&files, &fields);
    let mut r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .ok()?;
    if r.status().as_u16() != 303 {
        let body = r.body_mut().read_to_string().unwrap_or_default();
        panic!("the upload was refused ({}): {body}", r.status());
    }
    let loc = r.headers().get("location")?.to_str().ok()?;
    loc.strip_prefix("/runs/")?.parse().ok()
}

/// How long the uploads sweep may take after a job.
const SWEEP: Duration = Duration::from_millis(1500);

/// Waits until `cond` holds (at most 60 s).
fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1200 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// The upload folder a run's inputs are in.
fn folder_of(dir: &Path, run: i64) -> PathBuf {
    let inputs = rows(
        dir,
        "console.db",
        &format!("SELECT inputs FROM run WHERE id = {run}"),
    )[0][0]
        .clone();
    let inputs: Vec<String> = serde_json::from_str(&inputs).unwrap();
    let up = data_dir(dir).join("uploads").canonicalize().unwrap();
    let rest = Path::new(&inputs[0])
        .strip_prefix(&up)
        .unwrap()
        .to_path_buf();
    up.join(rest.components().next().unwrap())
}

/// Moves a run `days` into the past, as the journal records times.
fn age_run(dir: &Path, run: i64, days: i64) {
    let then = (chrono::Local::now() - chrono::Duration::days(days))
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    target(dir, "console.db")
        .exec(
            "UPDATE run SET started_at = ?1, finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE ?1 END WHERE id = ?2",
            ferry_store::params![then, run],
        )
        .unwrap();
}

/// Sets a file's or folder's modification time `days` into the past.
fn age_file(p: &Path, days: u64) {
    let then = std::time::SystemTime::now() - Duration::from_secs(days * 24 * 3600);
    std::fs::File::open(p).unwrap().set_modified(then).unwrap();
}

#[test]
fn the_data_folder_is_private() {
    let s = scratch();
    let dir = s.path();
    // A data folder left open by an older console, with an upload in it.
    let data = data_dir(dir);
    let old = data.join("uploads/old-upload");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("club.xml"), b"<Import/>").unwrap();
    for p in [&data, &data.join("uploads"), &old] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(old.join("club.xml"), std::fs::Permissions::from_mode(0o644)).unwrap();
    // And one no run ever used, two days old: removed at start.
    let stray = data.join("uploads/stray");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::write(stray.join("members.xml"), b"<Import/>").unwrap();
    age_file(&stray, 2);

    let console = Console::start(dir, "console.db");
    assert!(!stray.exists(), "an upload no run used, older than a day");
    for p in [&data, &data.join("uploads"), &data.join("runs"), &old] {
        assert_eq!(mode(p), 0o700, "{}", p.display());
    }
    assert_eq!(mode(&old.join("club.xml")), 0o600);
    // A new upload: its folder and files are private too.
    let cookie = session(&console, ADMIN);
    let run = upload(&console, &cookie, true).unwrap();
    wait_run_ended(dir, run);
    let folder = folder_of(dir, run);
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&folder.join("club.xml")), 0o600);
}

#[test]
fn uploads_go_after_a_rollback_or_the_retention_period() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let live = upload(&console, &cookie, false).unwrap();
    wait_run_ended(dir, live);
    // One run at a time: the target has one writer.
    let old = upload(&console, &cookie, true).unwrap();
    wait_run_ended(dir, old);
    let recent = upload(&console, &cookie, true).unwrap();
    wait_run_ended(dir, recent);
    let folder = |run| folder_of(dir, run);
    for run in [live, old, recent] {
        assert!(
            folder(run).join("club.xml").exists(),
            "run {run} keeps its upload"
        );
    }
    // A download is written for the moment it is sent, then removed.
    let r = agent()
        .get(format!("{}/runs/{old}/download/findings.csv", console.url))
        .header("Cookie", &cookie)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let generated = std::fs::read_dir(data_dir(dir).join("runs"))
        .unwrap()
        .count();
    assert_eq!(generated, 0, "no generated file stays");

    // Rolled back: its upload is removed.
    assert_eq!(act(&console, &cookie, live, "rollback", true).0, 303);
    until("the rollback", || run_status(dir, live) == "rolled-back");
    let live_folder = folder(live);
    until("the rolled-back run's upload to go", || {
        !live_folder.exists()
    });

    // Ended 31 days ago, past the 30 days kept by default: removed when the console starts.
    drop(console);
    age_run(dir, old, 31);
    age_run(dir, recent, 29);
    let _console = Console::serve(dir, "console.db", &[], &[]);
    assert!(!folder(old).exists(), "an upload past the retention period");
    assert!(
        folder(recent).join("club.xml").exists(),
        "an upload within it"
    );
}

/// The run's page (as a browser asks for it).
fn run_page(console: &Console, cookie: &str, run: i64) -> String {
    let mut r = agent()
        .get(format!("{}/runs/{run}", console.url))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.body_mut().read_to_string().unwrap()
}

fn can_run_live(console: &Console, cookie: &str, run: i64) -> bool {
    run_page(console, cookie, run).contains(&format!("href=\"/runs/{run}/confirm/live\""))
}

/// `--retain-uploads-days 0` removes an upload as soon as nothing can still use it: a test
/// run's only once it has been run live, its valid rows imported (or after a day), so that "Run
/// live" and "Import the valid rows" still work after the test run.
#[test]
fn with_no_retention_an_upload_goes_once_nothing_can_use_it() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start_with(dir, "console.db", &["--retain-uploads-days", "0"]);
    let cookie = session(&console, ADMIN);
    let faulty = upload_file(&console, &cookie, true, "mistakes/mistakes.xml").unwrap();
    wait_run_ended(dir, faulty);
    wait_job_over(&console, &cookie, faulty, SWEEP);
    let folder = folder_of(dir, faulty);
    assert!(folder.exists(), "kept for Import the valid rows");
    let (status, to) = act(&console, &cookie, faulty, "import-valid", true);
    assert_eq!(status, 303);
    let valid: i64 = to.trim_start_matches("/runs/").parse().unwrap();
    wait_run_ended(dir, valid);
    until(
        "the faulty test run's upload to go once its valid rows are in",
        || !folder.exists(),
    );
    assert_eq!(act(&console, &cookie, valid, "rollback", true).0, 303);
    until("the rollback", || run_status(dir, valid) == "rolled-back");
    wait_job_over(&console, &cookie, valid, SWEEP);

    let test = upload_clean(&console, &cookie);
    wait_run_ended(dir, test);
    assert_eq!(
        rows(
            dir,
            "console.db",
            &format!("SELECT status, errors FROM run WHERE id = {test}")
        )[0],
        ["succeeded", "0"]
    );
    wait_job_over(&console, &cookie, test, SWEEP);
    let folder = folder_of(dir, test);
    assert!(folder.join("club.xml").exists(), "kept for Run live");
    assert!(can_run_live(&console, &cookie, test));
    let (status, to) = act(&console, &cookie, test, "live", true);
    assert_eq!(status, 303);
    let live: i64 = to.trim_start_matches("/runs/").parse().unwrap();
    wait_run_ended(dir, live);
    assert_eq!(run_status(dir, live), "succeeded");
    until("the upload to go once run live", || !folder.exists());
}

/// A live run made from a test run shares its upload. Rolling the live run back removes the
/// upload only if no other run still needs it: the test run can be run live again, so its
/// upload stays (and its page offers Run live again).
#[test]
fn rolling_back_a_live_run_keeps_the_upload_its_test_run_shares() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let test = upload_clean(&console, &cookie);
    wait_run_ended(dir, test);
    wait_job_over(&console, &cookie, test, SWEEP);
    let (status, to) = act(&console, &cookie, test, "live", true);
    assert_eq!(status, 303);
    let live: i64 = to.trim_start_matches("/runs/").parse().unwrap();
    wait_run_ended(dir, live);
    assert_eq!(folder_of(dir, live), folder_of(dir, test), "one upload");
    assert!(!can_run_live(&console, &cookie, test), "already run live");
    wait_job_over(&console, &cookie, live, SWEEP);
    assert_eq!(act(&console, &cookie, live, "rollback", true).0, 303);
    until("the rollback", || run_status(dir, live) == "rolled-back");
    wait_job_over(&console, &cookie, live, SWEEP);
    let folder = folder_of(dir, test);
    assert!(
        folder.join("club.xml").exists(),
        "the test run still needs it"
    );
    assert!(
        can_run_live(&console, &cookie, test),
        "it can be run live again"
    );
}

/// A test run past the retention period cannot be run live: its page no longer offers it and
/// the console refuses it (410), even while the upload is still on disk until the next sweep,
/// rather than start a run whose files the sweep may remove under it.
#[test]
fn past_the_retention_a_test_run_cannot_be_run_live() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let test = upload_clean(&console, &cookie);
    wait_run_ended(dir, test);
    // The run's status is committed before its console job ends; the page offers Run live
    // only once the job is over.
    wait_job_over(&console, &cookie, test, SWEEP);
    assert!(can_run_live(&console, &cookie, test));
    age_run(dir, test, 31);
    assert!(
        folder_of(dir, test).join("club.xml").exists(),
        "not swept yet"
    );
    assert!(!can_run_live(&console, &cookie, test));
    assert_eq!(act(&console, &cookie, test, "live", true).0, 410);
    assert_eq!(int(dir, "console.db", "SELECT count(*) FROM run"), 1);
}

/// A run whose recorded inputs cannot be read might name any upload: nothing is removed (a
/// warning says why) rather than remove an upload a run may need.
#[test]
fn a_run_whose_inputs_cannot_be_read_keeps_every_upload() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let old = upload(&console, &cookie, true).unwrap();
    wait_run_ended(dir, old);
    let other = upload(&console, &cookie, true).unwrap();
    wait_run_ended(dir, other);
    drop(console);
    let folder = folder_of(dir, old);
    age_run(dir, old, 400);
    age_file(&folder, 400);
    target(dir, "console.db")
        .exec(
            "UPDATE run SET inputs = 'not a list' WHERE id = ?1",
            ferry_store::params![other],
        )
        .unwrap();
    let console = Console::serve(dir, "console.db", &[], &[]);
    assert!(folder.join("club.xml").exists(), "kept");
    until("the warning", || {
        console.stderr().contains("cannot be read")
    });
    assert!(
        console.stderr().contains(&format!("run {other}")),
        "{}",
        console.stderr()
    );
}

/// A data folder the console cannot make private stops it at start, with a message that names
/// the path (here one too long for the system to open).
#[test]
fn a_data_folder_that_cannot_be_made_private_is_named() {
    let s = scratch();
    let dir = s.path();
    Console::prepare(dir, "console.db");
    let data = data_dir(dir);
    std::fs::create_dir_all(data.join("uploads")).unwrap();
    // Folders nested past PATH_MAX: two chains of ten, each made where its path is short
    // enough, the second then moved to the end of the first.
    let name = "d".repeat(250);
    let chain = |root: &Path| root.join([name.as_str(); 10].join("/"));
    let deep = chain(&data.join("uploads"));
    std::fs::create_dir_all(&deep).unwrap();
    let aside = dir.join("aside");
    std::fs::create_dir_all(chain(&aside)).unwrap();
    std::fs::rename(aside.join(&name), deep.join(&name)).unwrap();
    let out = command(
        dir,
        &["serve", "--db", "console.db", "--bind", "127.0.0.1:0"],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{name}/{name}")), "{err}");
    assert!(err.contains("private"), "{err}");
}

/// A run interrupted (here: the console killed mid-run) needs its upload to be resumed: it is
/// kept however old, and the run resumes from it after the console is started again.
#[test]
fn a_resumable_runs_upload_is_kept() {
    let s = scratch();
    let dir = s.path();
    Console::prepare(dir, "console.db");
    let mut dying = Console::serve(dir, "console.db", &[], &[("FERRY_FAIL_AT", "mid-chunk:50")]);
    let cookie = session(&dying, ADMIN);
    let _ = upload(&dying, &cookie, false);
    assert!(dying.wait_exit(60), "the console was killed mid-run");
    let run = int(dir, "console.db", "SELECT max(id) FROM run");
    assert_eq!(run_status(dir, run), "running", "left as the kill found it");
    age_run(dir, run, 400);
    let folder = folder_of(dir, run);

    let console = Console::serve(dir, "console.db", &["--retain-uploads-days", "1"], &[]);
    assert!(
        folder.join("club.xml").exists(),
        "the upload of a run that can be resumed"
    );
    let cookie = session(&console, ADMIN);
    let token = csrf(&console, &cookie);
    let r = agent()
        .post(format!("{}/runs/{run}/resume", console.url))
        .header("Cookie", &cookie)
        .send_form([("csrf", token.as_str())])
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    until("the resumed run to end", || {
        !matches!(run_status(dir, run).as_str(), "running" | "interrupted")
    });
    let ended = run_status(dir, run);
    assert!(
        ["succeeded", "completed-with-errors"].contains(&ended.as_str()),
        "{ended}"
    );
}

/// A new run's form with bad option values is refused with every problem at once (each as a
/// sentence, as one alone was said before), and its upload goes.
#[test]
fn bad_option_values_are_all_told_and_the_upload_goes() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let cookie = session(&console, ADMIN);
    let token = csrf(&console, &cookie);
    let data = std::fs::read(example("club/club.xml")).unwrap();
    let (ct, body) = multipart(
        &[("files", "club.xml", &data)],
        &[
            ("csrf", &token),
            ("encoding", "nonsense"),
            ("phone_region", "XX"),
            ("max_records", "many"),
        ],
    );
    let mut r = agent()
        .post(format!("{}/runs/new", console.url))
        .header("Cookie", &cookie)
        .header("Content-Type", &ct)
        .send(&body[..])
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    assert_eq!(status, 400, "{text}");
    for told in [
        "Unknown encoding &#34;nonsense&#34; (try utf-8, windows-1252, latin1, utf-16le).",
        "Unknown phone region &#34;XX&#34; (an ISO 3166 alpha-2 code such as US, CA, GB).",
        "&#34;many&#34; is not a number of accounts.",
    ] {
        assert!(text.contains(told), "{told} in {text}");
    }
    let uploads = data_dir(dir).join("uploads");
    let left = std::fs::read_dir(&uploads).map_or(0, |d| d.count());
    assert_eq!(left, 0, "the refused upload goes");
}
