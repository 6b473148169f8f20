//! The browser the console's browser tests walk it in (headless Chromium through
//! chromedriver, at 1280×800), and the steps of a walk: sign in, start a run and wait for it to
//! end, click, type, go through a confirmation, download with the browser's session, take
//! screenshots (`target/screenshots/`). Included by `web_browser.rs` only (`#[path]`), so that
//! the other tests do not build it.
#![allow(dead_code)]

use crate::common::web::{Console, PASSWORD};
use crate::common::{repo, scratch, Scratch};
use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;
use thirtyfour::session::http::{Body, HttpClient};
use ureq::http;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// How long any one thing may take to appear (runs on a busy two-core machine included).
pub const PATIENCE: Duration = Duration::from_secs(180);

/// Whether the browser tests can run here; `false` means skip (after saying why).
pub fn browser_available() -> bool {
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
pub struct Chromedriver {
    child: Child,
    pub url: String,
}

impl Chromedriver {
    pub fn start() -> Chromedriver {
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
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// thirtyfour's transport, over ureq (thirtyfour is used without its reqwest feature).
pub struct UreqClient(ureq::Agent);

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
pub async fn browser(driver: &Chromedriver) -> WebDriver {
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
    page_size(&d, 1280, 800).await;
    d
}

/// Where the screenshots go: `target/screenshots/` under the workspace root.
pub fn shots() -> PathBuf {
    let d = repo().join("target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Saves the page as `target/screenshots/<name>.png` and checks it is a 1280×800 PNG.
pub async fn shot(d: &WebDriver, name: &str) {
    shot_at(d, &shots().join(format!("{name}.png")), name).await;
}

/// Saves the page as the PNG `p` and checks it is 1280×800 (`name` in failures).
async fn shot_at(d: &WebDriver, p: &std::path::Path, name: &str) {
    d.screenshot(p).await.unwrap();
    let png = std::fs::read(p).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: not a PNG");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 800), "{name}: screenshot size");
}

/// Polls `f` until it gives something; fails after [`PATIENCE`], saying `what` and showing where
/// the browser is.
pub async fn until<T, F, Fut>(d: &WebDriver, what: &str, mut f: F) -> T
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
pub async fn text(d: &WebDriver) -> String {
    match d.find(By::Tag("body")).await {
        Ok(b) => b.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The path of the current page (`/runs/3`).
pub async fn path(d: &WebDriver) -> String {
    d.current_url().await.unwrap().path().to_string()
}

/// Waits for the page to show `needle`.
pub async fn wait_text(d: &WebDriver, needle: &str) -> String {
    until(d, &format!("the page to show {needle:?}"), || async {
        let t = text(d).await;
        t.contains(needle).then_some(t)
    })
    .await
}

/// Asserts the page is not a raw debug dump or an unstyled failure.
pub async fn looks_like_a_page(d: &WebDriver) {
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

/// Signs `email` in from the runs page (which sends to the sign-in page first).
pub async fn sign_in(d: &WebDriver, base: &str, email: &str) {
    d.goto(format!("{base}/runs")).await.unwrap();
    // Not signed in: sent to the sign-in page.
    until(d, "the sign-in page", || async {
        (path(d).await == "/signin").then_some(())
    })
    .await;
    submit_sign_in(d, email).await;
}

/// Fills in the sign-in form shown with `email` and [`PASSWORD`], sends it and waits for the
/// runs page.
pub async fn submit_sign_in(d: &WebDriver, email: &str) {
    type_into(d, By::Id("email"), email).await;
    type_into(d, By::Id("password"), PASSWORD).await;
    click(d, By::Css("form[action='/signin'] button[type=submit]")).await;
    until(d, "the runs page after signing in", || async {
        (path(d).await == "/runs").then_some(())
    })
    .await;
}

/// The session cookie of the browser, as a `Cookie` header.
pub async fn cookie(d: &WebDriver) -> String {
    let c = d.get_named_cookie("ferry_session").await.unwrap();
    format!("ferry_session={}", c.value)
}

/// Starts a run from the new-run page with `files` (and `attachments`), test-only as the form
/// says by default; returns the run's id once its page shows it finished.
pub async fn new_run(d: &WebDriver, base: &str, files: &[PathBuf], attachments: &[PathBuf]) -> i64 {
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
pub async fn finished_run(d: &WebDriver) -> i64 {
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
pub async fn status(d: &WebDriver) -> String {
    d.find(By::Css("h1 .badge"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Reads a zip (an .xlsx) and returns its sheet names.
pub fn sheet_names(xlsx: &[u8]) -> Vec<String> {
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
pub struct AsyncScratch(Option<Scratch>);

impl AsyncScratch {
    pub fn new() -> AsyncScratch {
        AsyncScratch(Some(scratch()))
    }
    pub fn path(&self) -> &std::path::Path {
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
pub fn sync<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// Saves the page as `<name>.png` in `dir` (the test's own folder) and in `target/screenshots/`
/// (not committed), for a person to look at; checks it is a 1280×800 PNG.
pub async fn shot_to(d: &WebDriver, dir: &std::path::Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{name}.png"));
    shot_at(d, &p, name).await;
    std::fs::copy(&p, shots().join(format!("{name}.png"))).unwrap();
}

/// Scrolls `css` to the top of the window (less the header's height).
pub async fn scroll_to(d: &WebDriver, css: &str) {
    d.execute(
        "const e = document.querySelector(arguments[0]); if (e) { e.scrollIntoView(); window.scrollBy(0, -8); }",
        vec![serde_json::json!(css)],
    )
    .await
    .unwrap();
}

/// Clicks the submit button `css` and waits for the page it brings to show `needle`.
pub async fn submit(d: &WebDriver, css: &str, needle: &str) -> String {
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

/// Resizes the window so that the page itself is `w`×`h`.
pub async fn page_size(d: &WebDriver, w: u32, h: u32) {
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
pub async fn shot_any(d: &WebDriver, name: &str) {
    let p = shots().join(format!("{name}.png"));
    d.screenshot(&p).await.unwrap();
    assert_eq!(&std::fs::read(&p).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
}

/// How far the page reaches past the window's width (0: no sideways scrolling).
pub async fn overflow_x(d: &WebDriver) -> i64 {
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

/// The elements that reach past the window's right edge (tag, id or class, right edge), for a
/// message that says what scrolls sideways.
pub async fn too_wide(d: &WebDriver) -> String {
    d.execute(
        "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 12).map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className && e.className.baseVal === undefined ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right)).join(', ')",
        Vec::<serde_json::Value>::new(),
    )
    .await
    .unwrap()
    .json()
    .as_str()
    .unwrap_or_default()
    .to_string()
}

/// A browser walk: a console on a new target in a scratch folder and the chromedriver of the
/// walk's browser; ended by [`Walk::end`].
pub struct Walk {
    chromedriver: Chromedriver,
    /// The console's address, without a trailing slash.
    pub base: String,
    pub console: Console,
    pub s: AsyncScratch,
}

impl Walk {
    /// Starts a console on the new target `db` and a browser; `None` (having said why) when the
    /// browser tests cannot run here.
    pub async fn start(db: &str) -> Option<(Walk, WebDriver)> {
        if !browser_available() {
            return None;
        }
        let s = AsyncScratch::new();
        let console = sync(|| Console::start(s.path(), db));
        let base = console.url.trim_end_matches('/').to_string();
        let chromedriver = Chromedriver::start();
        let d = browser(&chromedriver).await;
        let walk = Walk {
            chromedriver,
            base,
            console,
            s,
        };
        Some((walk, d))
    }

    /// Quits the browser `d` and stops chromedriver; then the console stops and the folder goes.
    pub async fn end(self, d: WebDriver) {
        d.quit().await.unwrap();
        drop(self.chromedriver);
    }
}

// ---- the steps of a walk ---------------------------------------------------------------------

/// Clicks the element `by`.
pub async fn click(d: &WebDriver, by: By) {
    d.find(by).await.unwrap().click().await.unwrap();
}

/// Types `keys` into the element `by` (a file input takes a path).
pub async fn type_into(d: &WebDriver, by: By, keys: &str) {
    d.find(by).await.unwrap().send_keys(keys).await.unwrap();
}

/// Waits for the browser to be on the page of a run newer than `after` (`what` names it when
/// it does not come); returns the run's id.
pub async fn run_page_after(d: &WebDriver, what: &str, after: i64) -> i64 {
    until(d, what, || async {
        path(d)
            .await
            .strip_prefix("/runs/")
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|id| *id > after)
    })
    .await
}

/// Clicks a run page's action button `action` (`action-live`, `action-rollback`, …) and waits
/// for its confirmation page to show `needle`; returns the page's text.
pub async fn open_confirmation(d: &WebDriver, action: &str, needle: &str) -> String {
    click(d, By::Id(action)).await;
    wait_text(d, needle).await
}

/// Confirms on a confirmation page ("Yes, …").
pub async fn confirm(d: &WebDriver) {
    click(d, By::Id("confirm-yes")).await;
}

/// A GET of `url` with the browser's session `cookie` (see [`cookie`]): the status and body.
pub fn download(url: &str, cookie: &str) -> (u16, Vec<u8>) {
    let mut res = agent().get(url).header("Cookie", cookie).call().unwrap();
    let bytes = res
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (res.status().as_u16(), bytes)
}
