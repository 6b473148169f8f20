//! The web console in a real browser (headless Chromium through chromedriver): sign in, upload
//! the mistakes example and see its findings, download the annotated workbook, upload the fixed
//! example with its ticket attachment, test it, run it live and watch it to the end, find an
//! account and compare its balance with `ferry report balances`; a viewer cannot start a run and
//! a form without its CSRF token is refused. Every page is saved as a 1280×800 screenshot in
//! `target/screenshots/` (under the workspace root).
//!
//! Without `/usr/bin/chromedriver` the tests say so and pass, unless `FERRY_REQUIRE_BROWSER=1`.

mod common;

use common::exports::members_fixture;
use common::web::{Console, ADMIN, PASSWORD, VIEWER};
use common::*;
use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;
use thirtyfour::session::http::{Body, HttpClient};
use ureq::http;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long any one thing may take to appear (runs on a busy two-core machine included).
const PATIENCE: Duration = Duration::from_secs(180);

// ---- the browser ---------------------------------------------------------------------------

/// Whether the browser tests can run here; `false` means skip (after saying why).
fn browser_available() -> bool {
    let present = std::path::Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("FERRY_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!(
                "FERRY_REQUIRE_BROWSER=1 but {CHROMEDRIVER} is missing (install chromium-driver)"
            );
        }
        eprintln!("skipped: {CHROMEDRIVER} is missing (install chromium-driver, or set FERRY_REQUIRE_BROWSER=1 to fail instead)");
    }
    present
}

/// A chromedriver on a free port, stopped when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start() -> Chromedriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let d = Chromedriver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = agent()
                .get(&format!("{}/status", d.url))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .is_some_and(|b| b.contains("\"ready\":true"));
            if ready {
                return d;
            }
            assert!(Instant::now() < until, "chromedriver did not get ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // Asked to shut down, chromedriver closes its browsers too (killed, it would leave them
        // running when a test fails before quitting its session).
        let _ = agent().get(&format!("{}/shutdown", self.url)).call();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP agent that reports every status as a response (the tests look at the codes).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// thirtyfour's transport, over ureq (thirtyfour is used without its reqwest feature).
struct UreqClient(ureq::Agent);

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send(
        &self,
        request: http::Request<Body<'_>>,
    ) -> WebDriverResult<http::Response<bytes::Bytes>> {
        let (parts, body) = request.into_parts();
        let json = match body {
            Body::Empty => None,
            Body::Json(v) => Some(serde_json::to_vec(v)?),
        };
        let agent = self.0.clone();
        let fail = |e: String| WebDriverError::RequestFailed(e);
        tokio::task::spawn_blocking(move || {
            let mut b = http::Request::builder()
                .method(parts.method.clone())
                .uri(parts.uri.clone());
            for (k, v) in parts.headers.iter() {
                b = b.header(k, v);
            }
            let res = match json {
                Some(j) => agent.run(b.body(j).map_err(|e| fail(e.to_string()))?),
                None if parts.method == http::Method::POST => {
                    agent.run(b.body(b"{}".to_vec()).map_err(|e| fail(e.to_string()))?)
                }
                None => agent.run(b.body(()).map_err(|e| fail(e.to_string()))?),
            };
            let mut res = res.map_err(|e| fail(e.to_string()))?;
            let status = res.status();
            let bytes = res
                .body_mut()
                .with_config()
                .limit(256 * 1024 * 1024)
                .read_to_vec()
                .map_err(|e| fail(e.to_string()))?;
            let mut out = http::Response::builder().status(status);
            for (k, v) in res.headers() {
                out = out.header(k, v);
            }
            out.body(bytes::Bytes::from(bytes))
                .map_err(|e| fail(e.to_string()))
        })
        .await
        .map_err(|e| fail(e.to_string()))?
    }

    async fn new(&self) -> Arc<dyn HttpClient> {
        Arc::new(UreqClient(agent()))
    }
}

/// A headless Chromium at 1280×800.
async fn browser(driver: &Chromedriver) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    if std::path::Path::new(CHROMIUM).exists() {
        caps.set_binary(CHROMIUM).unwrap();
    }
    for a in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ] {
        caps.add_arg(a).unwrap();
    }
    let d = WebDriver::builder(driver.url.clone(), caps)
        .client(UreqClient(agent()))
        .connect()
        .await
        .expect("a Chromium session");
    // The window is 1280×800; then grown by what the browser's own frame takes, so that the
    // page itself (and every screenshot) is 1280×800.
    d.set_window_rect(0, 0, 1280, 800).await.unwrap();
    let inner = d
        .execute(
            "return [window.innerWidth, window.innerHeight]",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    let (w, h) = (
        inner.json()[0].as_u64().unwrap() as u32,
        inner.json()[1].as_u64().unwrap() as u32,
    );
    if (w, h) != (1280, 800) {
        d.set_window_rect(0, 0, 1280 + 1280 - w, 800 + 800 - h)
            .await
            .unwrap();
    }
    d
}

/// Where the screenshots go: `target/screenshots/` under the workspace root.
fn shots() -> PathBuf {
    let d = repo().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Saves the page as `target/screenshots/<name>.png` and checks it is a 1280×800 PNG.
async fn shot(d: &WebDriver, name: &str) {
    let p = shots().join(format!("{name}.png"));
    d.screenshot(&p).await.unwrap();
    let png = std::fs::read(&p).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 800), "{name}: screenshot size");
}

/// Polls `f` until it gives something; fails after [`PATIENCE`], saying `what` and showing where
/// the browser is.
async fn until<T, F, Fut>(d: &WebDriver, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() > end {
            let url = d
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            let _ = d.screenshot(&shots().join("timed-out.png")).await;
            panic!(
                "timed out waiting for {what}; the browser is at {url}:\n{}",
                text(d).await
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// The page's visible text.
async fn text(d: &WebDriver) -> String {
    match d.find(By::Tag("body")).await {
        Ok(b) => b.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The path of the current page (`/runs/3`).
async fn path(d: &WebDriver) -> String {
    d.current_url().await.unwrap().path().to_string()
}

/// Waits for the page to show `needle`.
async fn wait_text(d: &WebDriver, needle: &str) -> String {
    until(d, &format!("the page to show {needle:?}"), || async {
        let t = text(d).await;
        t.contains(needle).then_some(t)
    })
    .await
}

/// Asserts the page is not a raw debug dump or an unstyled failure.
async fn looks_like_a_page(d: &WebDriver) {
    let t = text(d).await;
    for bad in [
        "{{", "}}", "{%", "panicked", "Error(", "Some(", "Ok(", "\\n",
    ] {
        assert!(!t.contains(bad), "the page shows {bad:?}:\n{t}");
    }
    let styled = d
        .execute(
            "return getComputedStyle(document.body).backgroundColor",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        styled.json().as_str(),
        Some("rgb(245, 247, 250)"),
        "the stylesheet is not applied"
    );
    // The content security policy ignores style attributes in the markup: none may be relied on.
    let inline = d
        .execute(
            "return Array.from(document.querySelectorAll('[style]')).filter(e => !e.closest('.progress')).map(e => e.outerHTML.slice(0, 120))",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    assert_eq!(inline.json(), &serde_json::json!([]), "inline styles");
}

async fn sign_in(d: &WebDriver, base: &str, email: &str) {
    d.goto(format!("{base}/runs")).await.unwrap();
    // Not signed in: sent to the sign-in page.
    until(d, "the sign-in page", || async {
        (path(d).await == "/signin").then_some(())
    })
    .await;
    d.find(By::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    d.find(By::Id("password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    d.find(By::Css("form[action='/signin'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(d, "the runs page after signing in", || async {
        (path(d).await == "/runs").then_some(())
    })
    .await;
}

/// The session cookie of the browser, as a `Cookie` header.
async fn cookie(d: &WebDriver) -> String {
    let c = d.get_named_cookie("ferry_session").await.unwrap();
    format!("ferry_session={}", c.value)
}

/// Starts a run from the new-run page with `files` (and `attachments`), test-only as the form
/// says by default; returns the run's id once its page shows it finished.
async fn new_run(d: &WebDriver, base: &str, files: &[PathBuf], attachments: &[PathBuf]) -> i64 {
    d.goto(format!("{base}/runs/new")).await.unwrap();
    let test_only = d.find(By::Name("test_only")).await.unwrap();
    assert!(
        test_only.is_selected().await.unwrap(),
        "test-only is on by default"
    );
    let input = d.find(By::Id("files")).await.unwrap();
    for f in files {
        input.send_keys(f.to_str().unwrap()).await.unwrap();
    }
    let input = d.find(By::Id("attachments")).await.unwrap();
    for f in attachments {
        input.send_keys(f.to_str().unwrap()).await.unwrap();
    }
    d.find(By::Css("form[action='/runs/new'] button#start"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    finished_run(d).await
}

/// The id of the run whose page the browser is on, once it shows the run finished.
async fn finished_run(d: &WebDriver) -> i64 {
    let id = until(d, "a run's page", || async {
        path(d)
            .await
            .strip_prefix("/runs/")
            .and_then(|s| s.parse::<i64>().ok())
    })
    .await;
    // The page follows the run by itself and reloads when it ends.
    until(d, "the run to finish", || async {
        let live = d.find(By::Id("live")).await.is_ok();
        let badge = d.find(By::Css("h1 .badge")).await.ok()?.text().await.ok()?;
        (!live && badge != "running").then_some(())
    })
    .await;
    id
}

/// The status badge of the run page shown.
async fn status(d: &WebDriver) -> String {
    d.find(By::Css("h1 .badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Reads a zip (an .xlsx) and returns its sheet names.
fn sheet_names(xlsx: &[u8]) -> Vec<String> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).expect("a zip");
    let mut wb = String::new();
    z.by_name("xl/workbook.xml")
        .expect("a workbook")
        .read_to_string(&mut wb)
        .unwrap();
    wb.split("<sheet ")
        .skip(1)
        .filter_map(|s| s.split("name=\"").nth(1))
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// A scratch folder for an async test: the PostgreSQL client that drops its databases blocks,
/// so it is dropped outside the runtime's reach (also when the test fails).
struct AsyncScratch(Option<Scratch>);

impl AsyncScratch {
    fn new() -> AsyncScratch {
        AsyncScratch(Some(scratch()))
    }
    fn path(&self) -> &std::path::Path {
        self.0.as_ref().unwrap().path()
    }
}

impl Drop for AsyncScratch {
    fn drop(&mut self) {
        let s = self.0.take();
        tokio::task::block_in_place(move || drop(s));
    }
}

/// Blocking work (the CLI, the PostgreSQL client) from an async test.
fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

// ---- the tests -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn staff_convert_the_examples_in_a_browser() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "console.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;

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
    let mut res = agent().get(&url).header("Cookie", &session).call().unwrap();
    assert_eq!(res.status(), 200, "{url}");
    let xlsx = res
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
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
    d.find(By::Css("form[action$='/live'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
    d.find(By::Id("action-live"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&d, "records will be written to the target for real").await;
    d.find(By::Id("confirm-yes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let live = until(&d, "the live run's page", || async {
        path(&d)
            .await
            .strip_prefix("/runs/")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|id| *id > club)
    })
    .await;
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
    d.find(By::Css("form[action='/records'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "HSC-0003").await;
    assert!(t.contains("ava.ferreira@example.com"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "records-search").await;
    d.find(By::LinkText("HSC-0003"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// The way from a failed test to a fix (issue 17), as staff walk it: a test run of the mistakes
/// workbook, its rejected rows downloaded (a workbook with a "Ferry findings" column), a retry
/// with the fixed example from the run's page (linked both ways), the valid rows of the first
/// test imported through their confirmation (which says what lands and what does not), and the
/// live run rolled back through its confirmation, with a green banner. Every page is saved as a
/// screenshot (`retry-*.png` in `target/screenshots/`).
#[tokio::test(flavor = "multi_thread")]
async fn staff_fix_and_retry_in_a_browser() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "console.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;
    let session = cookie(&d).await;

    let test = new_run(&d, &base, &[example("mistakes/mistakes.xlsx")], &[]).await;
    assert_eq!(status(&d).await, "completed-with-errors");
    looks_like_a_page(&d).await;
    shot(&d, "retry-1-test-with-errors").await;

    // The rejected rows, with the browser's session.
    let href = d
        .find(By::Css("a.rejected-link"))
        .await
        .expect("a Rejected rows link")
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let mut res = agent()
        .get(&format!("{base}{href}"))
        .header("Cookie", &session)
        .call()
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.body_mut().read_to_vec().unwrap();
    assert!(sheet_names(&bytes).contains(&"User".to_string()));
    std::fs::write(s.path().join("mistakes-rejected.xlsx"), &bytes).unwrap();

    // Retry with the fixed example, from the run's page.
    scroll_to(&d, "#retry").await;
    shot(&d, "retry-2-fix-and-retry-card").await;
    d.find(By::Id("retry-files"))
        .await
        .unwrap()
        .send_keys(example("club/club.xlsx").to_str().unwrap())
        .await
        .unwrap();
    d.find(By::Id("retry-attachments"))
        .await
        .unwrap()
        .send_keys(example("club/attachments/berth-map.txt").to_str().unwrap())
        .await
        .unwrap();
    d.find(By::Id("retry-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let retry = until(&d, "the retry's page", || async {
        path(&d)
            .await
            .strip_prefix("/runs/")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|id| *id > test)
    })
    .await;
    assert_eq!(finished_run(&d).await, retry);
    let t = text(&d).await;
    assert!(t.contains(&format!("retry of run {test}")), "{t}");
    assert_eq!(status(&d).await, "succeeded", "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-3-retry-run").await;

    // Back to the first test: it lists its retry; import its valid rows.
    d.find(By::LinkText(format!("run {test}")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "Retried with corrected files in").await;
    assert!(t.contains(&format!("run {retry}")), "{t}");
    d.find(By::Id("action-import-valid"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = wait_text(&d, "What will not").await;
    assert!(t.contains("records will NOT be imported"), "{t}");
    looks_like_a_page(&d).await;
    shot(&d, "retry-4-confirm-import-valid").await;
    d.find(By::Id("confirm-yes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let live = until(&d, "the live run's page", || async {
        path(&d)
            .await
            .strip_prefix("/runs/")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|id| *id > retry)
    })
    .await;
    assert_eq!(finished_run(&d).await, live);
    assert_eq!(status(&d).await, "completed-with-errors");
    looks_like_a_page(&d).await;
    shot(&d, "retry-5-valid-rows-imported").await;

    // Roll it back, confirmed.
    d.find(By::Id("action-rollback"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(&d, "are removed from the target").await;
    looks_like_a_page(&d).await;
    shot(&d, "retry-6-confirm-rollback").await;
    d.find(By::Id("confirm-yes"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&d, "the rollback", || async {
        d.goto(format!("{base}/runs/{live}")).await.ok()?;
        (status(&d).await == "rolled-back" && d.find(By::Css(".notice.ok#outcome")).await.is_ok())
            .then_some(())
    })
    .await;
    assert!(d.find(By::Css(".notice.error")).await.is_err());
    looks_like_a_page(&d).await;
    shot(&d, "retry-7-rolled-back").await;

    d.quit().await.unwrap();
    drop(chromedriver);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_cannot_start_a_run() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "viewer.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;

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

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// Open redirect after sign-in, as a real browser reads `Location`: Chromium drops a tab from a
/// URL, so `/\t/evil.example` would be `//evil.example`, another site. The console sends such a
/// `next` to its own start page instead.
#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_next_keeps_the_browser_on_the_console() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "next.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    d.goto(format!("{base}/signin?next=/%09/evil.example"))
        .await
        .unwrap();
    wait_text(&d, "Sign in to Ferry").await;
    for (id, value) in [("email", ADMIN), ("password", PASSWORD)] {
        d.find(By::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    d.find(By::Css("form[action='/signin'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&d, "the runs page after signing in", || async {
        (path(&d).await == "/runs").then_some(())
    })
    .await;
    let url = d.current_url().await.unwrap();
    assert_eq!(url.host_str(), Some("127.0.0.1"), "{url}");
    d.quit().await.unwrap();
    drop(chromedriver);
}

/// The Logins page as an admin uses it after a migration (seed 000): an account without a login
/// gets a username, then a temporary password that is shown once and never again.
#[tokio::test(flavor = "multi_thread")]
async fn an_admin_gives_a_member_a_username_and_a_temporary_password() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "logins.db"));
    let base = console.url.trim_end_matches('/').to_string();
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
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
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
    d.find(By::XPath("//button[. = 'Give a login']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// Saves the page as `<name>.png` in `dir` (the test's own folder) and in `target/screenshots/`
/// (not committed), for a person to look at; checks it is a 1280×800 PNG.
async fn shot_to(d: &WebDriver, dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{name}.png"));
    d.screenshot(&p).await.unwrap();
    let png = std::fs::read(&p).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 800), "{name}: screenshot size");
    let kept = repo().join("target/screenshots");
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::copy(&p, kept.join(format!("{name}.png"))).unwrap();
}

/// Scrolls `css` to the top of the window (less the header's height).
async fn scroll_to(d: &WebDriver, css: &str) {
    d.execute(
        "const e = document.querySelector(arguments[0]); if (e) { e.scrollIntoView(); window.scrollBy(0, -8); }",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap();
}

/// Clicks the submit button `css` and waits for the page it brings to show `needle`.
async fn submit(d: &WebDriver, css: &str, needle: &str) -> String {
    let b = d.find(By::Css(css)).await.unwrap();
    b.scroll_into_view().await.unwrap();
    b.click().await.unwrap();
    until(
        d,
        &format!("the page after {css} to show {needle:?}"),
        || async {
            // The old page's element goes stale once the new page is there.
            let gone = b.tag_name().await.is_err();
            let t = text(d).await;
            (gone && t.contains(needle)).then_some(t)
        },
    )
    .await
}

/// Staff bring a member list of another system: upload and check it, correct the proposed
/// mapping column by column, preview, save it by name and test it, taking a screenshot of
/// each step.
#[tokio::test(flavor = "multi_thread")]
async fn staff_map_a_member_list_in_a_browser() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let console = sync(|| Console::start(s.path(), "console.db"));
    let base = console.url.trim_end_matches('/').to_string();
    let screens = s.path().join("screenshots");
    let members = s.path().join("members.csv");
    std::fs::write(&members, members_fixture()).unwrap();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;

    // Upload and check: the page shows the file's first rows and the mapping Ferry proposes.
    d.goto(format!("{base}/runs/new")).await.unwrap();
    wait_text(&d, "Upload and check").await;
    let region = d.find(By::Id("phone_region")).await.unwrap();
    region.clear().await.unwrap();
    region.send_keys("GB").await.unwrap();
    d.find(By::Id("files"))
        .await
        .unwrap()
        .send_keys(members.to_str().unwrap())
        .await
        .unwrap();
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
    d.find(By::XPath(format!("{city}//summary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    d.find(By::XPath(format!("{city}//input[@list='date-formats']")))
        .await
        .unwrap()
        .send_keys("%d/%m/%y")
        .await
        .unwrap();
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
    d.find(By::Css("button#start-run"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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

    d.quit().await.unwrap();
    drop(chromedriver);
}

/// Resizes the window so that the page itself is `w`×`h`.
async fn page_size(d: &WebDriver, w: u32, h: u32) {
    d.set_window_rect(0, 0, w, h).await.unwrap();
    let inner = d
        .execute(
            "return [window.innerWidth, window.innerHeight]",
            Vec::<serde_json::Value>::new(),
        )
        .await
        .unwrap();
    let (iw, ih) = (
        inner.json()[0].as_u64().unwrap() as u32,
        inner.json()[1].as_u64().unwrap() as u32,
    );
    if (iw, ih) != (w, h) {
        d.set_window_rect(0, 0, w + w - iw, h + h - ih)
            .await
            .unwrap();
    }
}

/// Saves the page as `target/screenshots/<name>.png` (any size).
async fn shot_any(d: &WebDriver, name: &str) {
    let p = shots().join(format!("{name}.png"));
    d.screenshot(&p).await.unwrap();
    assert_eq!(&std::fs::read(&p).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

/// How far the page reaches past the window's width (0: no sideways scrolling).
async fn overflow_x(d: &WebDriver) -> i64 {
    d.execute(
        "return document.documentElement.scrollWidth - window.innerWidth",
        Vec::<serde_json::Value>::new(),
    )
    .await
    .unwrap()
    .json()
    .as_i64()
    .unwrap()
}

/// A run with errors at 1,024 px: its findings summed up first, the list beside it, and the
/// HTML report with the message column in sight; screenshots `findings-summary-1024`,
/// `findings-list-1024` and `report-1024` in `target/screenshots/`.
#[tokio::test(flavor = "multi_thread")]
async fn a_runs_findings_read_at_1024_px() {
    if !browser_available() {
        return;
    }
    let s = AsyncScratch::new();
    let dir = s.path().to_path_buf();
    let console = sync(|| Console::start(&dir, "console.db"));
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
    let base = console.url.trim_end_matches('/').to_string();
    let chromedriver = Chromedriver::start();
    let d = browser(&chromedriver).await;
    sign_in(&d, &base, ADMIN).await;
    page_size(&d, 1024, 768).await;

    d.goto(format!("{base}/runs/1")).await.unwrap();
    let t = wait_text(&d, "Findings by code").await;
    looks_like_a_page(&d).await;
    assert!(t.contains("records rejected"), "{t}");
    scroll_to(&d, "#findings-summary").await;
    shot_any(&d, "findings-summary-1024").await;
    scroll_to(&d, "#findings").await;
    shot_any(&d, "findings-list-1024").await;
    assert!(
        overflow_x(&d).await <= 0,
        "the run page scrolls sideways at 1,024 px"
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
    assert!(t.contains("statement.pdf") && t.contains("your options are kept"), "{t}");
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
