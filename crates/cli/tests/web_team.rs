//! A console that runs a team's migration, over HTTP against a real `ferry serve`: a live run
//! whose console was killed (SIGKILL) mid-run is marked interrupted at the next start — not
//! resumed behind anyone's back — its page says so and offers Resume, and the resumed run ends
//! with the same target as an uninterrupted import; and the Staff page (admins only): add,
//! disable (sign-in refused, sessions ended), enable, reset a password, change a role, the last
//! admin kept, viewers refused, every change journaled, no password shown twice.

mod common;
use common::web::{
    agent, csrf, get, location, multipart, post_sign_in, run_status, sign_in_cookie, Console,
    ADMIN, PASSWORD, VIEWER,
};
use common::*;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

/// The `Cookie` header of a new session of `email` (with [`PASSWORD`]).
fn session(console: &Console, email: &str) -> String {
    let c = sign_in_cookie(console, email);
    c.split(';').next().unwrap().to_string()
}

/// The `Cookie` header of a new session of `email` with `password`, if it may sign in.
fn session_with(console: &Console, email: &str, password: &str) -> Option<String> {
    let r = post_sign_in(console, email, password, &[]);
    if r.status().as_u16() != 303 {
        return None;
    }
    let c = common::web::set_cookie(&r, "ferry_session")?;
    Some(c.split(';').next().unwrap().to_string())
}

/// POSTs a form to `path`; the status, where it sends to, and the page.
fn post(
    console: &Console,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, String, String) {
    let mut r = agent()
        .post(format!("{}{path}", console.url))
        .header("Cookie", cookie)
        .send_form(form.iter().copied())
        .unwrap();
    let to = location(&r);
    let status = r.status().as_u16();
    (
        status,
        to,
        r.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn until(what: &str, secs: u64, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

// ---- runs survive a restart ---------------------------------------------------------------

/// About 11,200 records (more than one chunk of 10,000, so the kill comes after a commit):
/// accounts with contacts and e-mails (a few rejected), and a ledger.
fn big_xml(dir: &Path) -> Vec<u8> {
    let mut x = String::from("<Import>\n  <TaxCode Name=\"Std\"/>\n  <TaxRate TaxCode=\"Std\" Rank=\"1\" Name=\"GST\" Percent=\"5\"/>\n");
    for i in 0..1600 {
        let owner = if i % 97 == 13 { "nobody" } else { "admin" };
        writeln!(x, "  <User Name=\"U{i:04}\" Owner=\"{owner}\" Role=\"Customer\" TaxCode=\"Std\" BillDay=\"{}\"/>", 1 + i % 28).unwrap();
        writeln!(x, "  <Contact User=\"U{i:04}\" ContactFirstName=\"First{i}\" ContactLastName=\"Last{i}\" ContactType=\"Billing Contact\"/>").unwrap();
        writeln!(x, "  <ContactEmail User=\"U{i:04}\" ContactName=\"First{i} Last{i}\" Email=\"u{i}@example.org\"/>").unwrap();
        for k in 0..2 {
            writeln!(
                x,
                "  <Debit User=\"U{i:04}\" Date=\"2025-0{}-01\" Debit=\"{}.{:02}\" Tax1=\"1.50\"/>",
                k + 1,
                10 + k * 7,
                (i * 13 + k) % 100
            )
            .unwrap();
        }
        writeln!(x, "  <CloseInvoice User=\"U{i:04}\"/>").unwrap();
        writeln!(
            x,
            "  <Payment User=\"U{i:04}\" Date=\"2025-06-01\" Credit=\"{}.25\"/>",
            20 + i % 40
        )
        .unwrap();
    }
    x.push_str("</Import>\n");
    std::fs::write(dir.join("big.xml"), &x).unwrap();
    x.into_bytes()
}

/// Row counts of every entity table, the console's staff tables aside.
fn data_rows(db: &Path) -> Vec<(String, i64)> {
    row_counts(db)
        .into_iter()
        .filter(|(t, _)| !t.starts_with("staff_"))
        .collect()
}

/// The console is killed (SIGKILL, by `FERRY_FAIL_AT` right after its run's first chunk
/// committed). The next start marks the run interrupted and says so; nothing resumes it until
/// Resume is pressed (twice: the second is refused while the first runs); the resumed run is
/// the same run, and the target ends as an uninterrupted import of the same file leaves it.
#[test]
fn a_run_killed_with_the_console_is_interrupted_and_resumes_from_its_page() {
    let s = scratch();
    let dir = s.path();
    let data = big_xml(dir);
    assert_eq!(ferry(dir, &["init", "--db", "clean.db"]).code, 0);
    let clean = ferry(dir, &["import", "big.xml", "--db", "clean.db"]);
    assert!(clean.code <= 1, "{}", clean.stderr);

    Console::prepare(dir, "console.db");
    let mut dying = Console::serve(
        dir,
        "console.db",
        &[],
        &[("FERRY_FAIL_AT", "after-commit:1")],
    );
    let cookie = session(&dying, ADMIN);
    let token = csrf(&dying, &cookie);
    let (ct, body) = multipart(&[("files", "big.xml", &data)], &[("csrf", token.as_str())]);
    let _ = agent()
        .post(format!("{}/runs/new", dying.url))
        .header("Cookie", &cookie)
        .header("Content-Type", &ct)
        .send(&body[..]);
    assert!(dying.wait_exit(180), "the console was killed mid-run");
    let run = int(dir, "console.db", "SELECT max(id) FROM run");
    assert_eq!(run_status(dir, run), "running", "left as the kill found it");
    let committed = int(
        dir,
        "console.db",
        &format!("SELECT checkpoint_seq FROM run WHERE id = {run}"),
    );
    assert!(committed > 0, "a chunk was committed before the kill");

    // Held before reading: a resumed run stays running long enough for a second Resume.
    let console = Console::serve(dir, "console.db", &[], &[("FERRY_TEST_HOLD_MS", "3000")]);
    assert!(
        console.stderr().contains(&format!(
            "Run {run} was interrupted when the console stopped"
        )),
        "{}",
        console.stderr()
    );
    assert_eq!(run_status(dir, run), "interrupted");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(run_status(dir, run), "interrupted", "never resumed unasked");
    let cookie = session(&console, ADMIN);
    let (code, page) = get(&console, &cookie, &format!("/runs/{run}"));
    assert_eq!(code, 200);
    assert!(page.contains("id=\"interrupted\""), "{page}");
    assert!(
        page.contains("The console stopped while this run was running"),
        "{page}"
    );
    assert!(
        page.contains("Resume continues it from its last checkpoint"),
        "{page}"
    );
    assert!(
        page.contains(&format!("action=\"/runs/{run}/resume\"")),
        "{page}"
    );
    // A viewer sees the banner, not the button.
    let viewer = session(&console, VIEWER);
    let (_, page) = get(&console, &viewer, &format!("/runs/{run}"));
    assert!(page.contains("The console stopped while this run was running"));
    assert!(!page.contains(&format!("action=\"/runs/{run}/resume\"")));

    let token = csrf(&console, &cookie);
    let (code, to, _) = post(
        &console,
        &cookie,
        &format!("/runs/{run}/resume"),
        &[("csrf", &token)],
    );
    assert_eq!((code, to.as_str()), (303, format!("/runs/{run}").as_str()));
    let (code, _, page) = post(
        &console,
        &cookie,
        &format!("/runs/{run}/resume"),
        &[("csrf", &token)],
    );
    assert_eq!(
        code, 409,
        "a second Resume while it runs is refused: {page}"
    );
    assert!(page.contains("resumed already"), "{page}");
    until("the resumed run to end", 180, || {
        !matches!(run_status(dir, run).as_str(), "running" | "interrupted")
    });
    assert_eq!(run_status(dir, run), "completed-with-errors");
    assert_eq!(
        int(dir, "console.db", "SELECT count(*) FROM run"),
        1,
        "the same run"
    );
    assert_eq!(
        data_rows(&dir.join("console.db")),
        data_rows(&dir.join("clean.db")),
        "the target of the resumed run is that of an uninterrupted import"
    );
    let (_, page) = get(&console, &cookie, &format!("/runs/{run}"));
    assert!(!page.contains("id=\"interrupted\""), "{page}");
}

// ---- the Staff page -----------------------------------------------------------------------

fn staff_id(dir: &Path, email: &str) -> i64 {
    int(
        dir,
        "console.db",
        &format!("SELECT id FROM staff_user WHERE email = '{email}'"),
    )
}

/// The password a page shows once.
fn shown_password(page: &str) -> String {
    let at = page
        .find("id=\"staff-password\">")
        .expect("a password shown")
        + 20;
    page[at..].split('<').next().unwrap().to_string()
}

#[test]
fn staff_are_managed_in_the_console() {
    let s = scratch();
    let dir = s.path();
    let console = Console::start(dir, "console.db");
    let admin = session(&console, ADMIN);
    let token = csrf(&console, &admin);

    // Listed for admins, linked from the navigation; never a hash.
    let (code, page) = get(&console, &admin, "/staff");
    assert_eq!(code, 200);
    assert!(page.contains(ADMIN) && page.contains(VIEWER), "{page}");
    assert!(!page.contains("$argon2"), "no hash on the page");
    assert!(get(&console, &admin, "/runs").1.contains("href=\"/staff\""));

    // Viewers are refused, and not shown the link.
    let viewer = session(&console, VIEWER);
    let vtoken = csrf(&console, &viewer);
    assert_eq!(get(&console, &viewer, "/staff").0, 403);
    assert!(!get(&console, &viewer, "/runs")
        .1
        .contains("href=\"/staff\""));
    let form = [
        ("csrf", vtoken.as_str()),
        ("email", "x@example.org"),
        ("role", "admin"),
        ("password", ""),
    ];
    assert_eq!(post(&console, &viewer, "/staff/add", &form).0, 403);
    let vid = staff_id(dir, VIEWER).to_string();
    let form = [("csrf", vtoken.as_str()), ("role", "admin")];
    assert_eq!(
        post(&console, &viewer, &format!("/staff/{vid}/role"), &form).0,
        403
    );
    // A form without the token is refused too.
    let form = [
        ("csrf", "nope"),
        ("email", "x@example.org"),
        ("role", "admin"),
        ("password", ""),
    ];
    assert_eq!(post(&console, &admin, "/staff/add", &form).0, 403);

    // Add with a generated password, shown once; the new member signs in with it.
    let new = "New.Member@example.org";
    let form = [
        ("csrf", token.as_str()),
        ("email", new),
        ("role", "viewer"),
        ("password", ""),
    ];
    let (code, _, page) = post(&console, &admin, "/staff/add", &form);
    assert_eq!(code, 200, "{page}");
    let generated = shown_password(&page);
    assert_eq!(generated.chars().count(), 20);
    let new = "new.member@example.org";
    let member = session_with(&console, new, &generated).expect("signs in with the shown password");
    assert_eq!(get(&console, &member, "/staff").0, 403, "a viewer");
    let (_, list) = get(&console, &admin, "/staff");
    assert!(
        list.contains(new) && !list.contains(&generated),
        "shown once only"
    );
    // Added again: refused. A short password: refused, saying why.
    assert_eq!(post(&console, &admin, "/staff/add", &form).0, 409);
    let form = [
        ("csrf", token.as_str()),
        ("email", "short@example.org"),
        ("role", "viewer"),
        ("password", "tooshort"),
    ];
    let (code, _, page) = post(&console, &admin, "/staff/add", &form);
    assert_eq!(code, 400);
    assert!(page.contains("at least 12 characters"), "{page}");
    let form = [
        ("csrf", token.as_str()),
        ("email", "not an e-mail"),
        ("role", "viewer"),
        ("password", ""),
    ];
    assert_eq!(post(&console, &admin, "/staff/add", &form).0, 400);
    let form = [
        ("csrf", token.as_str()),
        ("email", "role@example.org"),
        ("role", "owner"),
        ("password", ""),
    ];
    assert_eq!(post(&console, &admin, "/staff/add", &form).0, 400);

    // Disable: confirmed first; then the member's session ends and sign-in is refused.
    let id = staff_id(dir, new).to_string();
    let (code, _, page) = post(
        &console,
        &admin,
        &format!("/staff/{id}/disable"),
        &[("csrf", &token)],
    );
    assert_eq!(code, 200);
    assert!(
        page.contains("id=\"confirm\"") && page.contains(&format!("Disable {new}?")),
        "{page}"
    );
    assert_eq!(
        get(&console, &member, "/runs").0,
        200,
        "not disabled before the confirmation"
    );
    let (code, to, _) = post(
        &console,
        &admin,
        &format!("/staff/{id}/disable"),
        &[("csrf", &token), ("confirm", "yes")],
    );
    assert_eq!(code, 303);
    assert!(to.starts_with("/staff?done="), "{to}");
    assert_ne!(get(&console, &member, "/runs").0, 200, "the session ended");
    assert!(
        session_with(&console, new, &generated).is_none(),
        "a disabled account cannot sign in"
    );
    assert!(get(&console, &admin, "/staff").1.contains("disabled"));
    // Enabled again: it signs in.
    assert_eq!(
        post(
            &console,
            &admin,
            &format!("/staff/{id}/enable"),
            &[("csrf", &token)]
        )
        .0,
        303
    );
    let member = session_with(&console, new, &generated).expect("enabled again");

    // Reset a password (set by the admin): the sessions end, the old password no longer works.
    let chosen = "a brand new passphrase 42";
    let (code, _, _) = post(
        &console,
        &admin,
        &format!("/staff/{id}/password"),
        &[("csrf", &token), ("password", chosen)],
    );
    assert_eq!(code, 303);
    assert_ne!(get(&console, &member, "/runs").0, 200, "the session ended");
    assert!(session_with(&console, new, &generated).is_none());
    let member = session_with(&console, new, chosen).expect("the new password");
    // Or generated, shown once.
    let (code, _, page) = post(
        &console,
        &admin,
        &format!("/staff/{id}/password"),
        &[("csrf", &token), ("password", "")],
    );
    assert_eq!(code, 200);
    let again = shown_password(&page);
    assert_ne!(get(&console, &member, "/runs").0, 200);
    let member = session_with(&console, new, &again).expect("the generated password");

    // Change a role: the member becomes an admin, and then a viewer again.
    let (code, _, _) = post(
        &console,
        &admin,
        &format!("/staff/{id}/role"),
        &[("csrf", &token), ("role", "admin")],
    );
    assert_eq!(code, 303);
    assert_eq!(get(&console, &member, "/staff").0, 200, "an admin now");
    let (code, _, _) = post(
        &console,
        &admin,
        &format!("/staff/{id}/role"),
        &[("csrf", &token), ("role", "viewer")],
    );
    assert_eq!(code, 303);
    assert_eq!(get(&console, &member, "/staff").0, 403, "a viewer again");

    // The last active admin can be neither disabled nor demoted, and is told why.
    let me = staff_id(dir, ADMIN).to_string();
    let (code, _, page) = post(
        &console,
        &admin,
        &format!("/staff/{me}/disable"),
        &[("csrf", &token), ("confirm", "yes")],
    );
    assert_eq!(code, 409);
    assert!(page.contains("last enabled admin"), "{page}");
    let (code, _, page) = post(
        &console,
        &admin,
        &format!("/staff/{me}/role"),
        &[("csrf", &token), ("role", "viewer")],
    );
    assert_eq!(code, 409);
    assert!(page.contains("last enabled admin"), "{page}");
    assert_eq!(get(&console, &admin, "/staff").0, 200, "still an admin");
    // With a second admin, the first may step down.
    post(
        &console,
        &admin,
        &format!("/staff/{id}/role"),
        &[("csrf", &token), ("role", "admin")],
    );
    let (code, _, _) = post(
        &console,
        &admin,
        &format!("/staff/{me}/role"),
        &[("csrf", &token), ("role", "viewer")],
    );
    assert_eq!(code, 303);
    assert_eq!(get(&console, &admin, "/staff").0, 403);

    // Journaled, without a password; and no password in the console's log.
    let member = session_with(&console, new, &again).unwrap();
    let (_, page) = get(&console, &member, "/staff");
    for action in [
        "staff.add",
        "staff.disable",
        "staff.enable",
        "staff.password",
        "staff.role",
    ] {
        assert!(page.contains(action), "{action}: {page}");
    }
    assert!(page.contains(&format!("console:{ADMIN}")));
    for secret in [generated.as_str(), chosen, again.as_str(), PASSWORD] {
        assert!(!page.contains(secret));
        assert!(!console.stderr().contains(secret));
    }
    // `--create-admin` of a disabled account enables it again (the way back in).
    let id_disabled = staff_id(dir, VIEWER).to_string();
    post(
        &console,
        &member,
        &format!("/staff/{id_disabled}/disable"),
        &[("csrf", &csrf(&console, &member)), ("confirm", "yes")],
    );
    assert!(session_with(&console, VIEWER, PASSWORD).is_none());
    let out = command(
        dir,
        &["serve", "--db", "console.db", "--create-viewer", VIEWER],
    )
    .env("FERRY_ADMIN_PASSWORD", PASSWORD)
    .output()
    .unwrap();
    assert!(out.status.success());
    assert!(
        session_with(&console, VIEWER, PASSWORD).is_some(),
        "enabled by --create-viewer"
    );
    let logins = get(&console, &member, "/logins").1;
    assert!(
        !logins.contains("staff.add"),
        "staff changes stay off the members' Logins page"
    );
}
