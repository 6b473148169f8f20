//! The web console in a real browser (headless Chromium through chromedriver): sign in, upload
//! the mistakes example and see its findings, download the annotated workbook, upload the fixed
//! example with its ticket attachment, test it, run it live and watch it to the end, find an
//! account and compare its balance with `ferry report balances`; a viewer cannot start a run and
//! a form without its CSRF token is refused. Every page is saved as a 1280×800 screenshot in
//! `target/screenshots/` (under the workspace root).
//!
//! Without `/usr/bin/chromedriver` the tests say so and pass, unless `FERRY_REQUIRE_BROWSER=1`.

#[path = "common/browser.rs"]
mod browser;
mod common;

use browser::*;
use common::exports::members_fixture;
use common::web::{Console, ADMIN, VIEWER};
use common::*;
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

#[tokio::test(flavor = "multi_thread")]
async fn staff_convert_the_examples_in_a_browser() {
    let Some((w, d)) = Walk::start("console.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());

    // Sign in.
    d.goto(format!("{base}/signin")).await.unwrap();
    wait_text(&d, "Sign in to Ferry").await;
    looks_like_a_page(&d).await;
    shot(&d, "signin").await;
    sign_in(&d, &base, ADMIN).await;
    let t = text(&d).await;
    assert!(t.contains(ADMIN) && t.contains("admin"), "{t}");
    assert!(t.contains("No runs yet"), "{t}");

    // The mistakes example, test-only: findings on the page.
    d.goto(format!("{base}/runs/new")).await.unwrap();
    wait_text(&d, "Ticket attachments").await;
    looks_like_a_page(&d).await;
    shot(&d, "new-run").await;
    let mistakes = new_run(&d, &base, &[example("mistakes/mistakes.xlsx")], &[]).await;
    let t = text(&d).await;
    assert!(t.contains("test-only"), "{t}");
    let rows = d.find_all(By::Css("#findings tbody tr")).await.unwrap();
    assert!(!rows.is_empty(), "no findings shown:\n{t}");
    let first = rows[0].text().await.unwrap();
    assert!(
        first.contains("mistakes.xlsx"),
        "a finding names its place: {first}"
    );
    let errors = d
        .find(By::Css("#findings .badge.error"))
        .await
        .expect("an error among the findings");
    assert_eq!(errors.text().await.unwrap(), "error");
    looks_like_a_page(&d).await;
    d.execute(
        "document.getElementById('findings').scrollIntoView()",
        Vec::<serde_json::Value>::new(),
    )
    .await
    .unwrap();
    shot(&d, "run-findings").await;
    // Filtering by severity keeps only that severity.
    d.goto(format!("{base}/runs/{mistakes}?severity=warning#findings"))
        .await
        .unwrap();
    let sev = until(&d, "the warnings filter", || async {
        let cells = d
            .find_all(By::Css("#findings tbody td:nth-child(2)"))
            .await
            .ok()?;
        let mut out = vec![];
        for c in cells {
            out.push(c.text().await.ok()?);
        }
        (!out.is_empty()).then_some(out)
    })
    .await;
    assert!(sev.iter().all(|s| s == "warning"), "{sev:?}");

    // The annotated workbook: its link, fetched with the browser's session.
    d.goto(format!("{base}/runs/{mistakes}")).await.unwrap();
    let link = d
        .find(By::XPath("//a[starts-with(., 'Annotated workbook')]"))
        .await
        .expect("an annotated-workbook link");
    let href = link.attr("href").await.unwrap().unwrap();
    let url = if href.starts_with("http") {
        href.clone()
    } else {
        format!("{base}{href}")
    };
    let session = cookie(&d).await;
    let (code, xlsx) = download(&url, &session);
    assert_eq!(code, 200, "{url}");
    assert_eq!(&xlsx[..2], b"PK", "the annotated workbook is a zip");
    let sheets = sheet_names(&xlsx);
    assert!(sheets.iter().any(|s| s == "Findings"), "{sheets:?}");
    // Without the session the download is refused.
    let res = agent().get(&url).call().unwrap();
    assert_eq!(res.status(), 401);

    // The fixed example with its ticket attachment: a clean test run (without the attachment
    // it would have an attachment.missing error).
    let club = new_run(
        &d,
        &base,
        &[example("club/club.xlsx")],
        &[example("club/attachments/berth-map.txt")],
    )
    .await;
    assert!(club > mistakes);
    let t = text(&d).await;
    assert_eq!(status(&d).await, "succeeded", "{t}");
    assert!(t.contains("0 errors"), "{t}");

    // A form without its CSRF token is refused: the run-live confirmation's form with the
    // token taken out.
    d.goto(format!("{base}/runs/{club}/confirm/live"))
        .await
        .unwrap();
    wait_text(&d, "What will happen").await;
    d.execute(
        "document.querySelector(\"form[action$='/live'] input[name=csrf]\").remove()",
        Vec::<serde_json::Value>::new(),
    )
    .await
    .unwrap();
    click(&d, By::Css("form[action$='/live'] button")).await;
    let t = wait_text(&d, "Status 403").await;
    assert!(
        t.contains("Not allowed") && t.contains("security token"),
        "{t}"
    );
    looks_like_a_page(&d).await;
    shot(&d, "error").await;
    // And the same without a browser: the session alone is not enough.
    let res = agent()
        .post(&format!("{base}/runs/{club}/live"))
        .header("Cookie", &session)
        .content_type("application/x-www-form-urlencoded")
        .send("")
        .unwrap();
    assert_eq!(res.status(), 403);
    let runs = sync(|| int(s.path(), "console.db", "SELECT count(*) FROM run"));
    assert_eq!(runs, 2, "a refused form starts nothing");

    // Run live from the test run's page, through its confirmation, and watch it to the end.
    d.goto(format!("{base}/runs/{club}")).await.unwrap();
    wait_text(&d, "Run live").await;
    open_confirmation(
        &d,
        "action-live",
        "records will be written to the target for real",
    )
    .await;
    confirm(&d).await;
    let live = run_page_after(&d, "the live run's page", club).await;
    // While it runs the page shows a progress bar that follows it; at the end it reloads.
    let seen_running = d.find(By::Id("live")).await.is_ok();
    let watched = finished_run(&d).await;
    assert_eq!(watched, live);
    eprintln!(
        "live run {live}: progress bar {}",
        if seen_running {
            "seen, followed to the end"
        } else {
            "not seen (the run ended before its page loaded)"
        }
    );
    // What the progress bar polls says the same.
    let mut res = agent()
        .get(&format!("{base}/runs/{live}/progress"))
        .header("Cookie", &session)
        .header("Accept", "application/json")
        .call()
        .unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&res.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(p["running"], false, "{p}");
    assert_eq!(p["status"], "succeeded", "{p}");
    let t = text(&d).await;
    assert_eq!(status(&d).await, "succeeded", "{t}");
    assert!(t.contains("live"), "{t}");
    assert!(
        !t.contains("Run live"),
        "a live run is not run live again: {t}"
    );
    let mut imported = 0;
    for c in d
        .find_all(By::XPath(
            "//h2[.='Records by entity type']/following-sibling::table/tbody/tr/td[3]",
        ))
        .await
        .unwrap()
    {
        imported += c
            .text()
            .await
            .unwrap()
            .replace(',', "")
            .parse::<i64>()
            .unwrap();
    }
    assert!(imported > 0, "counts per entity type are shown: {t}");
    d.find(By::Id("action-rollback"))
        .await
        .expect("a live run can be rolled back");
    looks_like_a_page(&d).await;
    shot(&d, "run-live-finished").await;

    d.goto(format!("{base}/runs")).await.unwrap();
    let t = wait_text(&d, "succeeded").await;
    assert_eq!(
        d.find_all(By::Css("tbody tr")).await.unwrap().len(),
        3,
        "{t}"
    );
    looks_like_a_page(&d).await;
    shot(&d, "runs").await;

    // Find an account by e-mail; its balance is what `ferry report balances` says.
    d.goto(format!("{base}/records")).await.unwrap();
    let q = d.find(By::Id("q")).await.unwrap();
    q.send_keys("ava.ferreira@example.com").await.unwrap();
    click(&d, By::Css("form[action='/records'] button")).await;
    let t = wait_text(&d, "HSC-0003").await;
    assert!(t.contains("ava.ferreira@example.com"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "records-search").await;
    click(&d, By::LinkText("HSC-0003")).await;
    until(&d, "the account page", || async {
        (path(&d).await == "/records/HSC-0003").then_some(())
    })
    .await;
    let shown = d
        .find(By::Id("balance"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = sync(|| ferry(s.path(), &["report", "balances", "--db", "console.db"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cli = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("HSC-0003,"))
        .and_then(|l| l.split(',').next())
        .expect("HSC-0003 in the balances")
        .to_string();
    assert_eq!(shown.trim(), cli, "the page's balance and the CLI's");
    assert_eq!(cli, "126.00", "the example's expected balance");
    let t = text(&d).await;
    assert!(t.contains("Ava Ferreira"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "account").await;

    // Certification and upgrade pages.
    d.goto(format!("{base}/certification")).await.unwrap();
    wait_text(&d, "Legacy certification migration").await;
    looks_like_a_page(&d).await;
    shot(&d, "certification").await;
    d.goto(format!("{base}/upgrade")).await.unwrap();
    wait_text(&d, "Customization audit").await;
    looks_like_a_page(&d).await;
    shot(&d, "upgrade").await;

    w.end(d).await;
}

/// The way from a failed test to a fix (issue 17), as staff walk it: a test run of the mistakes
/// workbook with errors, its rejected rows downloaded (a workbook with a "Ferry findings"
/// column), the workbook corrected in three cells and retried from the run's page (fewer errors,
/// linked both ways), the retry's valid rows imported live through their confirmation (which
/// says what lands and what does not), the same corrected file retried after that live run (only
/// what is still wrong is reported), and the live run rolled back through its confirmation, with
/// a green banner. Every page is saved as a screenshot (`retry-*.png` in `target/screenshots/`).
#[tokio::test(flavor = "multi_thread")]
async fn staff_fix_and_retry_in_a_browser() {
    let Some((w, d)) = Walk::start("console.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());
    sign_in(&d, &base, ADMIN).await;
    let session = cookie(&d).await;
    let attachment = example("mistakes/attachments/berth-map.txt");
    let errors = |run: i64| {
        let dir = s.path().to_path_buf();
        sync(move || {
            rows(&dir, "console.db", &format!("SELECT code, coalesce(sheet, ''), coalesce(row, 0), coalesce(col, '') FROM run_finding WHERE run_id = {run} AND severity = 'error' ORDER BY 1, 2, 3, 4"))
        })
    };

    // 1. A test run with errors.
    let test = new_run(
        &d,
        &base,
        &[example("mistakes/mistakes.xlsx")],
        std::slice::from_ref(&attachment),
    )
    .await;
    assert_eq!(status(&d).await, "completed-with-errors");
    looks_like_a_page(&d).await;
    shot(&d, "retry-1-test-with-errors").await;

    // 2. Its rejected rows, with the browser's session.
    let href = d
        .find(By::Css("a.rejected-link"))
        .await
        .expect("a Rejected rows link")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (code, bytes) = download(&format!("{base}{href}"), &session);
    assert_eq!(code, 200);
    assert!(sheet_names(&bytes).contains(&"User".to_string()));
    std::fs::write(s.path().join("mistakes-rejected.xlsx"), &bytes).unwrap();

    // 3. The workbook as the user corrects it (a Role, a date, a bill day), retried from the
    // run's page: fewer errors, the rest the same.
    let source = std::fs::read(example("mistakes/mistakes.xlsx")).unwrap();
    let fixed = common::xlsx_edit::set_cells(
        &source,
        "User",
        &[("C52", "Customer"), ("G53", "2/28/2007"), ("L54", "28")],
    );
    let fixed_path = s.path().join("mistakes-fixed.xlsx");
    std::fs::write(&fixed_path, fixed).unwrap();
    scroll_to(&d, "#retry").await;
    shot(&d, "retry-2-fix-and-retry-card").await;
    let retry_with = |d: &WebDriver| {
        let (f, a) = (fixed_path.clone(), attachment.clone());
        let d = d.clone();
        async move {
            type_into(&d, By::Id("retry-files"), f.to_str().unwrap()).await;
            type_into(&d, By::Id("retry-attachments"), a.to_str().unwrap()).await;
            click(&d, By::Id("retry-submit")).await;
        }
    };
    retry_with(&d).await;
    let retry = run_page_after(&d, "the retry's page", test).await;
    assert_eq!(finished_run(&d).await, retry);
    let t = text(&d).await;
    assert!(t.contains(&format!("retry of run {test}")), "{t}");
    assert_eq!(status(&d).await, "completed-with-errors", "{t}");
    let (first, corrected) = (errors(test), errors(retry));
    assert!(corrected.len() + 3 <= first.len(), "{corrected:?}");
    assert!(corrected.iter().all(|e| first.contains(e)), "{corrected:?}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-3-retry-run").await;

    // 4. Import the retry's valid rows, confirmed: live.
    let t = open_confirmation(&d, "action-import-valid", "What will not").await;
    assert!(t.contains("records will NOT be imported"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-4-confirm-import-valid").await;
    confirm(&d).await;
    let live = run_page_after(&d, "the live run's page", retry).await;
    assert_eq!(finished_run(&d).await, live);
    assert_eq!(status(&d).await, "completed-with-errors");
    assert_eq!(errors(live), corrected);
    let t = text(&d).await;
    assert!(
        t.contains(&format!(
            "This live run imports the files of test run {retry}"
        )),
        "{t}"
    );
    assert!(!t.contains("retry of run"), "{t}");
    assert!(!t.contains(".key"), "no key file named on a page: {t}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-5-valid-rows-imported").await;

    // 5. The same file again, retried from the live run's page: only what is still wrong is
    // reported; what went live is recognised (skipped, counted as notes), not an error.
    scroll_to(&d, "#retry").await;
    retry_with(&d).await;
    let again = run_page_after(&d, "the second retry's page", live).await;
    assert_eq!(finished_run(&d).await, again);
    let t = text(&d).await;
    assert!(t.contains(&format!("retry of run {live}")), "{t}");
    assert_eq!(errors(again), corrected, "only what is still wrong");
    assert!(!t.contains("ledger.duplicate "), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-6-same-file-after-live").await;

    // 6. Roll the live run back, confirmed.
    d.goto(format!("{base}/runs/{live}")).await.unwrap();
    open_confirmation(&d, "action-rollback", "are removed from the target").await;
    looks_like_a_page(&d).await;
    shot(&d, "retry-7-confirm-rollback").await;
    confirm(&d).await;
    until(&d, "the rollback", || async {
        d.goto(format!("{base}/runs/{live}")).await.ok()?;
        (status(&d).await == "rolled-back" && d.find(By::Css(".notice.ok#outcome")).await.is_ok())
            .then_some(())
    })
    .await;
    assert!(d.find(By::Css(".notice.error")).await.is_err());
    looks_like_a_page(&d).await;
    shot(&d, "retry-8-rolled-back").await;

    w.end(d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_cannot_start_a_run() {
    let Some((w, d)) = Walk::start("viewer.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());

    sign_in(&d, &base, VIEWER).await;
    let t = text(&d).await;
    assert!(t.contains(VIEWER) && t.contains("viewer"), "{t}");
    let links = d.find_all(By::Css("a[href='/runs/new']")).await.unwrap();
    assert!(links.is_empty(), "a viewer sees no New run link:\n{t}");
    assert!(!t.contains("New run"), "{t}");

    // Going there anyway is refused.
    d.goto(format!("{base}/runs/new")).await.unwrap();
    let t = wait_text(&d, "Status 403").await;
    assert!(t.contains("Not allowed") && t.contains("viewer"), "{t}");
    assert!(d.find(By::Css("input[type=file]")).await.is_err());
    shot(&d, "error-viewer").await;

    // So is the request behind it, even with the viewer's own valid CSRF token.
    let session = cookie(&d).await;
    let res = agent()
        .get(&format!("{base}/runs/new"))
        .header("Cookie", &session)
        .header("Accept", "text/html")
        .call()
        .unwrap();
    assert_eq!(res.status(), 403);
    d.goto(format!("{base}/runs")).await.unwrap();
    wait_text(&d, "Runs").await;
    let csrf = d
        .find(By::Css("form[action='/signout'] input[name=csrf]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    let boundary = "ferryboundary7MA4YWxkTrZu0gW";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"test_only\"\r\n\r\non\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"club.xml\"\r\n\
         Content-Type: application/xml\r\n\r\n{}\r\n--{boundary}--\r\n",
        std::fs::read_to_string(example("club/club.xml")).unwrap()
    );
    let res = agent()
        .post(&format!("{base}/runs/new"))
        .header("Cookie", &session)
        .content_type(format!("multipart/form-data; boundary={boundary}"))
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        sync(|| int(s.path(), "viewer.db", "SELECT count(*) FROM run")),
        0,
        "nothing ran"
    );

    w.end(d).await;
}

/// Open redirect after sign-in, as a real browser reads `Location`: Chromium drops a tab from a
/// URL, so `/\t/evil.example` would be `//evil.example`, another site. The console sends such a
/// `next` to its own start page instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_next_keeps_the_browser_on_the_console() {
    let Some((w, d)) = Walk::start("next.db").await else {
        return;
    };
    let base = w.base.clone();
    d.goto(format!("{base}/signin?next=/%09/evil.example"))
        .await
        .unwrap();
    wait_text(&d, "Sign in to Ferry").await;
    submit_sign_in(&d, ADMIN).await;
    let url = d.current_url().await.unwrap();
    assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
    w.end(d).await;
}

/// The Logins page as an admin uses it after a migration (seed 000): an account without a login
/// gets a username, then a temporary password that is shown once and never again.
#[tokio::test(flavor = "multi_thread")]
async fn an_admin_gives_a_member_a_username_and_a_temporary_password() {
    let Some((w, d)) = Walk::start("logins.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());
    std::fs::write(
        s.path().join("members.xml"),
        r#"<Import>
  <User Name="M-001" Owner="admin" Role="Customer" Email="ada@example.org"/>
  <User Name="M-002" Owner="admin" Role="Customer"/>
</Import>"#,
    )
    .unwrap();
    let r = sync(|| {
        ferry(
            s.path(),
            &[
                "import",
                "members.xml",
                "--db",
                "logins.db",
                "--create-accounts",
            ],
        )
    });
    assert_eq!(r.code, 0, "{}", r.stderr);
    sign_in(&d, &base, ADMIN).await;

    // The list: M-001's login from its e-mail, M-002 without one.
    d.goto(format!("{base}/logins")).await.unwrap();
    let t = wait_text(&d, "Accounts without a login").await;
    assert!(
        t.contains("ada@example.org") && t.contains("must reset"),
        "{t}"
    );
    looks_like_a_page(&d).await;
    shot(&d, "logins").await;

    // Give M-002 a username.
    let field = d
        .find(By::Css("input[aria-label='Username for M-002']"))
        .await
        .expect("a username field for the account without a login");
    field.send_keys("Bert@Example.org").await.unwrap();
    click(&d, By::XPath("//button[. = 'Give a login']")).await;
    let t = wait_text(&d, "bert@example.org").await;
    assert!(t.contains("Every account has a login"), "{t}");

    // A temporary password for M-002: shown once, on this page only.
    let row = d
        .find(By::XPath("//tr[td/a[. = 'M-002']]"))
        .await
        .expect("M-002's row");
    row.find(By::XPath(".//button[. = 'Set a temporary password']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&d, "It is shown only now").await;
    let password = d
        .find(By::Id("temporary-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(password.trim().len() >= 12, "{password:?}");
    looks_like_a_page(&d).await;
    shot(&d, "logins-temporary-password").await;

    // The list says it must be changed and never shows it; the journal names the admin.
    d.goto(format!("{base}/logins")).await.unwrap();
    let t = wait_text(&d, "Recent changes").await;
    assert!(t.contains("must change"), "{t}");
    assert!(t.contains(ADMIN), "the journal names who changed it:\n{t}");
    assert!(!t.contains(password.trim()), "the password is shown again");
    let source = d.source().await.unwrap();
    assert!(!source.contains(password.trim()));
    shot(&d, "logins-after").await;

    // The member signs in with it once and must choose their own.
    let (code, err) = sync(|| {
        let mut c = command(
            s.path(),
            &[
                "logins",
                "verify-password",
                "bert@example.org",
                "--db",
                "logins.db",
            ],
        )
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        use std::io::Write as _;
        writeln!(c.stdin.take().unwrap(), "{}", password.trim()).unwrap();
        let out = c.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    });
    assert!(
        code == 0 && err.contains("must change"),
        "exit {code}: {err}"
    );

    w.end(d).await;
}

/// Staff bring a member list of another system: upload and check it, correct the proposed
/// mapping column by column, preview, save it by name and test it, taking a screenshot of
/// each step.
#[tokio::test(flavor = "multi_thread")]
async fn staff_map_a_member_list_in_a_browser() {
    let Some((w, d)) = Walk::start("console.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());
    let screens = s.path().join("screenshots");
    let members = s.path().join("members.csv");
    std::fs::write(&members, members_fixture()).unwrap();
    sign_in(&d, &base, ADMIN).await;

    // Upload and check: the page shows the file's first rows and the mapping Ferry proposes.
    d.goto(format!("{base}/runs/new")).await.unwrap();
    wait_text(&d, "Upload and check").await;
    let region = d.find(By::Id("phone_region")).await.unwrap();
    region.clear().await.unwrap();
    region.send_keys("GB").await.unwrap();
    type_into(&d, By::Id("files"), members.to_str().unwrap()).await;
    let t = submit(&d, "button#look", "New run: check the files").await;
    assert!(path(&d).await.starts_with("/runs/new/"), "{t}");
    assert!(t.contains("members.csv") && t.contains("first_name"), "{t}");
    looks_like_a_page(&d).await;
    shot_to(&d, &screens, "map-01-uploaded").await;
    scroll_to(&d, "section.part").await;
    shot_to(&d, &screens, "map-02-first-rows").await;
    scroll_to(&d, "table.columns").await;
    shot_to(&d, &screens, "map-03-columns").await;

    // The suggestion: every column placed, with how sure Ferry is, and no problem.
    assert!(t.contains("The mapping has no problems"), "{t}");
    assert!(t.contains("% sure"), "{t}");

    // The whole mapping as text, and back: the same mapping.
    let before = d
        .find(By::Css("input[name=base]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    submit(&d, "button[value=text]", "The whole mapping as text").await;
    looks_like_a_page(&d).await;
    scroll_to(&d, "#mapping").await;
    shot_to(&d, &screens, "map-04-text").await;
    submit(&d, "button[value=columns]", "Records made of each row").await;
    let after = d
        .find(By::Css("input[name=base]"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before, "the text view gives back the same mapping");

    // Correct one column: the web address is not imported (the suggestion keeps it as an
    // attribute). The role every member gets is one the target has.
    let web = d
        .find(By::Css("select[aria-label='Field for column web']"))
        .await
        .unwrap();
    web.scroll_into_view().await.unwrap();
    SelectElement::new(&web)
        .await
        .unwrap()
        .select_by_value("")
        .await
        .unwrap();
    if let Ok(role) = d
        .find(By::Css("input[aria-label='Value of User · Role']"))
        .await
    {
        role.clear().await.unwrap();
        role.send_keys("Customer").await.unwrap();
    }
    scroll_to(&d, "select[aria-label='Field for column web']").await;
    d.execute("window.scrollBy(0, -300)", Vec::<serde_json::Value>::new())
        .await
        .unwrap();
    shot_to(&d, &screens, "map-05-corrected").await;

    // A mistake in a column's format is shown at that column, and stops the preview.
    let city = "//tr[td[@class='col-name' and normalize-space()='city']]";
    click(&d, By::XPath(format!("{city}//summary"))).await;
    type_into(
        &d,
        By::XPath(format!("{city}//input[@list='date-formats']")),
        "%d/%m/%y",
    )
    .await;
    let t = submit(
        &d,
        "section.part button[value=preview]",
        "The mapping has 1 problem",
    )
    .await;
    assert!(
        t.contains("The preview needs a mapping without problems"),
        "{t}"
    );
    let issue = d
        .find(By::XPath(format!("{city}//div[@class='issue']")))
        .await
        .expect("the problem beside the city column")
        .text()
        .await
        .unwrap();
    assert!(issue.contains("%y"), "{issue}");
    scroll_to(&d, "tr.has-issue").await;
    d.execute("window.scrollBy(0, -120)", Vec::<serde_json::Value>::new())
        .await
        .unwrap();
    shot_to(&d, &screens, "map-06-problem").await;
    d.find(By::XPath(format!("{city}//input[@list='date-formats']")))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();

    // Preview: the first rows as records, nothing rejected.
    let t = submit(&d, "section.part button[value=preview]", "Preview:").await;
    assert!(t.contains("none rejected"), "{t}");
    let shown = d
        .find(By::Css(".preview"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !shown.contains("http://www.") && !shown.contains("https://www."),
        "the web column is not imported:\n{shown}"
    );
    let records = d.find_all(By::Css(".preview-record")).await.unwrap();
    assert!(records.len() >= 10, "{t}");
    assert!(d.find(By::Css(".preview-record.rejected")).await.is_err());
    looks_like_a_page(&d).await;
    scroll_to(&d, ".preview").await;
    d.execute("window.scrollBy(0, -60)", Vec::<serde_json::Value>::new())
        .await
        .unwrap();
    shot_to(&d, &screens, "map-07-preview").await;

    // Save it by name.
    let name = d.find(By::Id("save_name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("uk-members").await.unwrap();
    let t = submit(&d, "button[value=save]", "Saved as").await;
    assert!(t.contains("Saved as “uk-members”"), "{t}");
    looks_like_a_page(&d).await;
    shot_to(&d, &screens, "map-08-saved").await;
    let saved = sync(|| {
        int(
            s.path(),
            "console.db",
            "SELECT count(*) FROM import_mapping WHERE name = 'uk-members'",
        )
    });
    assert_eq!(saved, 1);

    // A test run with it.
    scroll_to(&d, "#run").await;
    shot_to(&d, &screens, "map-09-run-options").await;
    click(&d, By::Css("button#start-run")).await;
    let run = finished_run(&d).await;
    let t = text(&d).await;
    assert!(
        t.contains("“uk-members”, a mapping saved in the target"),
        "{t}"
    );
    assert!(t.contains("content hash"), "{t}");
    let errors = sync(|| {
        int(
            s.path(),
            "console.db",
            &format!("SELECT errors FROM run WHERE id = {run}"),
        )
    });
    assert_eq!(errors, 0, "{t}");
    looks_like_a_page(&d).await;
    shot_to(&d, &screens, "map-10-test-run").await;

    w.end(d).await;
}

/// A run with errors at 1,024 px: its findings summed up first, the list beside it, and the
/// HTML report with the message column in sight; screenshots `findings-summary-1024`,
/// `findings-list-1024` and `report-1024` in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread")]
async fn a_runs_findings_read_at_1024_px() {
    let Some((w, d)) = Walk::start("console.db").await else {
        return;
    };
    let (s, base) = (&w.s, w.base.clone());
    let dir = s.path().to_path_buf();
    let input = example("mistakes/mistakes.xlsx");
    let r = sync(|| {
        ferry(
            &dir,
            &[
                "import",
                input.to_str().unwrap(),
                "--db",
                "console.db",
                "--test-only",
                "--log",
                "report.html",
            ],
        )
    });
    assert_eq!(r.code, 1, "{}", r.stderr);
    sign_in(&d, &base, ADMIN).await;
    page_size(&d, 1024, 768).await;

    d.goto(format!("{base}/runs/1")).await.unwrap();
    let t = wait_text(&d, "Findings by code").await;
    looks_like_a_page(&d).await;
    shot_any(&d, "run-page-1024").await;
    assert!(t.contains("records rejected"), "{t}");
    scroll_to(&d, "#findings-summary").await;
    shot_any(&d, "findings-summary-1024").await;
    scroll_to(&d, "#findings").await;
    shot_any(&d, "findings-list-1024").await;
    let wide = too_wide(&d).await;
    assert!(
        overflow_x(&d).await <= 0,
        "the run page scrolls sideways at 1,024 px: {wide}"
    );

    // The HTML report, opened from its file.
    d.goto(format!("file://{}", dir.join("report.html").display()))
        .await
        .unwrap();
    wait_text(&d, "Findings per code").await;
    shot_any(&d, "report-1024").await;
    scroll_to(&d, "#findings").await;
    shot_any(&d, "report-findings-1024").await;
    assert!(
        overflow_x(&d).await <= 0,
        "the report scrolls sideways at 1,024 px"
    );
    let msg = d
        .execute(
            "const r = document.querySelector('#table th[data-col=\"11\"]').getBoundingClientRect(); return [r.left, r.right, window.innerWidth];",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    let v: Vec<f64> = serde_json::from_value(msg.json().clone()).unwrap();
    assert!(
        v[1] <= v[2] && v[1] - v[0] >= 250.0,
        "the message column is in sight and wide enough: {v:?}"
    );
    // The findings come before the reconciliation and the counts.
    let order = d
        .execute(
            "return ['#findings', '#reconciliation', '#counts'].map(s => document.querySelector(s).getBoundingClientRect().top + window.scrollY)",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    let tops: Vec<f64> = serde_json::from_value(order.json().clone()).unwrap();
    assert!(tops[0] < tops[1] && tops[0] < tops[2], "{tops:?}");

    w.end(d).await;
}

/// A viewer runs saved queries from the Queries page (issue 17): the list, a result with its
/// CSV link, and a refused query's message; screenshots `queries`, `query-result` and
/// `query-refused` in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_runs_saved_queries_in_a_browser() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let dir = s.path().to_path_buf();
    let console = sync(|| {
        Console::prepare(&dir, "queries.db");
        let db = db(&dir, "queries.db");
        let club = example("club/club.xml");
        assert_eq!(
            ferry(&dir, &["import", club.to_str().unwrap(), "--db", &db]).code,
            0
        );
        std::fs::write(
            dir.join("q.xml"),
            r#"<Import>
  <SavedQuery Name="Open invoices" Description="Invoices not closed, by account" Sql="SELECT &quot;user&quot;, name, closed FROM invoice WHERE closed = 0 ORDER BY &quot;user&quot;, name"/>
  <SavedQuery Name="Login hashes" Description="Tries to read password hashes" Sql="SELECT username, password_hash FROM login"/>
</Import>"#,
        )
        .unwrap();
        assert_eq!(ferry(&dir, &["import", "q.xml", "--db", &db]).code, 0);
        Console::serve(&dir, "queries.db", &[], &[])
    });
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, VIEWER).await;

    d.find(By::Css("nav a[href='/queries']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "Open invoices").await;
    assert!(t.contains("Login hashes") && t.contains("read-only"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "queries").await;

    d.find(By::LinkText("Open invoices"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "Download as CSV").await;
    assert!(t.contains("first 1,000 rows"), "{t}");
    let cells = d.find_all(By::Css("#query-result tbody tr")).await.unwrap();
    assert!(!cells.is_empty(), "{t}");
    shot(&d, "query-result").await;

    d.goto(format!("{base}/queries/Login%20hashes"))
        .await
        .unwrap();
    let t = wait_text(&d, "saved queries may not read it").await;
    assert!(!t.contains("$argon2"), "{t}");
    shot(&d, "query-refused").await;

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// The Staff page as an admin uses it: open it from the navigation, add a viewer (a generated
/// password shown once), disable them after the confirmation page; screenshots `staff`,
/// `staff-password`, `staff-confirm` and `staff-disabled` in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread")]
async fn an_admin_manages_the_staff() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "staff.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;

    d.find(By::Css("nav a[href='/staff']"))
        .await
        .expect("a Staff link for admins")
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "Add a staff member").await;
    assert!(t.contains(ADMIN) && t.contains(VIEWER), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "staff").await;

    d.find(By::Id("new-email"))
        .await
        .unwrap()
        .send_keys("Grace@Example.org")
        .await
        .unwrap();
    let t = submit(&d, "#add-staff button[type=submit]", "shown only now").await;
    assert!(t.contains("grace@example.org was added"), "{t}");
    let shown = d
        .find(By::Id("staff-password"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(shown.chars().count(), 20, "{shown}");
    looks_like_a_page(&d).await;
    shot(&d, "staff-password").await;

    d.goto(format!("{base}/staff")).await.unwrap();
    let t = wait_text(&d, "grace@example.org").await;
    assert!(!t.contains(&shown), "the password is shown once only");
    let row = d
        .find(By::XPath("//tr[td[contains(., 'grace@example.org')]]"))
        .await
        .expect("grace's row");
    let b = row
        .find(By::XPath(".//button[. = 'Disable…']"))
        .await
        .unwrap();
    b.scroll_into_view().await.unwrap();
    b.click().await.unwrap();
    let t = wait_text(&d, "Disable grace@example.org?").await;
    assert!(t.contains("can no longer sign in"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "staff-confirm").await;
    let t = submit(&d, "#confirm-yes", "is disabled").await;
    assert!(t.contains("staff.disable"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "staff-disabled").await;

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// A run whose console was killed mid-run, seen after the console is started again: its page
/// says the console stopped and offers Resume, which finishes it; screenshots `run-interrupted`
/// and `run-resumed` in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_the_console_was_running_when_killed_is_resumed_from_its_page() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let dir = s.path().to_path_buf();
    let run = sync(|| {
        Console::prepare(&dir, "restart.db");
        let mut dying = Console::serve(
            &dir,
            "restart.db",
            &[],
            &[("FERRY_FAIL_AT", "mid-chunk:300")],
        );
        let cookie = common::web::sign_in_cookie(&dying, ADMIN);
        let cookie = cookie.split(';').next().unwrap().to_string();
        let token = common::web::page_csrf(&dying, cookie.trim_start_matches("ferry_session="));
        let data = std::fs::read(example("club/club.xml")).unwrap();
        let (ct, body) =
            common::web::multipart(&[("files", "club.xml", &data)], &[("csrf", &token)]);
        let _ = agent()
            .post(&format!("{}/runs/new", dying.url))
            .header("Cookie", &cookie)
            .content_type(ct)
            .send(&body[..]);
        assert!(dying.wait_exit(120), "the console was killed mid-run");
        int(&dir, "restart.db", "SELECT max(id) FROM run")
    });
    let console = sync(|| Console::serve(&dir, "restart.db", &[], &[]));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;
    d.goto(format!("{base}/runs/{run}")).await.unwrap();
    let t = wait_text(&d, "The console stopped while this run was running").await;
    assert!(
        t.contains("Resume continues it from its last checkpoint"),
        "{t}"
    );
    assert_eq!(status(&d).await, "interrupted");
    looks_like_a_page(&d).await;
    shot(&d, "run-interrupted").await;
    d.find(By::Css("#interrupted button[type=submit]"))
        .await
        .expect("Resume in the banner")
        .click()
        .await
        .unwrap();
    assert_eq!(finished_run(&d).await, run);
    let badge = status(&d).await;
    assert!(
        ["succeeded", "completed-with-errors"].contains(&badge.as_str()),
        "{badge}"
    );
    assert!(d.find(By::Id("interrupted")).await.is_err());
    shot(&d, "run-resumed").await;

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// Issue 17 item 10: a file of a type Ferry does not read (a PDF chosen as the input) brings the
/// new-run form back in the browser with a red banner above it and every option as chosen
/// (`target/screenshots/new-run-refused.png`).
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_upload_keeps_the_form_and_its_options() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "refused.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;

    let pdf = s.path().join("statement.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 not a workbook").unwrap();
    d.goto(format!("{base}/runs/new")).await.unwrap();
    d.find(By::Name("test_only"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::Css("#on_existing option[value=skip]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let region = d.find(By::Id("phone_region")).await.unwrap();
    region.clear().await.unwrap();
    region.send_keys("GB").await.unwrap();
    d.find(By::Id("files"))
        .await
        .unwrap()
        .send_keys(pdf.to_str().unwrap())
        .await
        .unwrap();
    d.find(By::Css("form[action='/runs/new'] button#start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "is not a file Ferry reads").await;
    assert!(
        t.contains("statement.pdf") && t.contains("your options are kept"),
        "{t}"
    );
    let banner = d.find(By::Id("form-error")).await.unwrap();
    assert!(banner.is_displayed().await.unwrap());
    assert!(
        !d.find(By::Name("test_only"))
            .await
            .unwrap()
            .is_selected()
            .await
            .unwrap(),
        "test only stays cleared"
    );
    let value = |id: &'static str| {
        let d = &d;
        async move {
            d.find(By::Id(id))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    assert_eq!(value("on_existing").await, "skip");
    assert_eq!(value("phone_region").await, "GB");
    looks_like_a_page(&d).await;
    shot(&d, "new-run-refused").await;
    assert_eq!(
        sync(|| int(s.path(), "refused.db", "SELECT count(*) FROM run")),
        0,
        "nothing ran"
    );
    d.quit().await.unwrap();
    drop(chromedriver);
}
