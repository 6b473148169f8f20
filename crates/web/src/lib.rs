//! `ferry serve`: the web console for staff (SPEC §14) — sign-in, runs, uploads, live progress,
//! findings, downloads, records, staff, certification and upgrades — as server-rendered pages over the
//! same engine and journal as the command line. Glue only: every decision is in the library
//! crates; this crate turns them into pages.

mod attachments_zip;
pub mod auth;
mod confirm;
mod cookies;
mod devices;
mod downloads;
mod draft;
mod hosts;
mod jobs;
mod logins;
mod mapping_form;
mod mapping_pages;
mod mapping_view;
mod pages;
mod pool;
mod proxy;
mod queries;
mod records;
mod rejected_rows;
mod restart;
mod retention;
mod retry;
mod run_actions;
mod run_findings;
mod run_page;
mod sample;
mod signin;
mod suggestion;
mod team;
mod throttle;
mod upload;
mod view;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ferry_store::Target;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use auth::Role;
pub use proxy::TrustedProxy;

/// The largest request body of every route but the two uploads (a sign-in or another form).
pub const FORM_LIMIT: usize = 16 * 1024;

/// What hands freed memory back to the system, set by the binary that chose the allocator.
static RELEASE_MEMORY: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the function the console calls after each background job and each annotated download
/// (the binary's allocator keeps freed memory for reuse; a console is idle most of the time).
pub fn set_memory_release(release: fn()) {
    let _ = RELEASE_MEMORY.set(release);
}

/// Hands freed memory back to the system, if the binary said how.
pub(crate) fn release_memory() {
    if let Some(release) = RELEASE_MEMORY.get() {
        release();
    }
}

/// How the console is served.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target (`--db`).
    pub db: String,
    pub bind: SocketAddr,
    /// Where uploads and generated files are kept: never a served path.
    pub data_dir: PathBuf,
    /// Largest upload request.
    pub max_upload_bytes: usize,
    /// Mark cookies `Secure` (when a TLS proxy is in front); an `https://` public URL does too.
    pub secure_cookies: bool,
    /// Host names the console answers to besides `localhost`, `127.0.0.1`, `[::1]` and the
    /// bound address (`--allowed-host`).
    pub allowed_hosts: Vec<String>,
    /// The address staff open the console at, behind a proxy (`--public-url`).
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<TrustedProxy>,
    /// How long uploads are kept after their run ended (`--retain-uploads-days`).
    pub retain_uploads: Duration,
    /// The fingerprint key file of card and account numbers (`--fingerprint-key`); `None`:
    /// the default file of the target's key.
    pub fingerprint_key: Option<PathBuf>,
    /// How long a saved query may run (`--query-seconds`).
    pub query_time: Duration,
}

/// Why the console could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    #[error(transparent)]
    Store(#[from] ferry_store::StoreError),
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Staff(#[from] auth::AuthError),
    #[error(transparent)]
    Hosts(#[from] hosts::HostsError),
}

/// What every request handler shares.
pub(crate) struct App {
    pub db: String,
    /// Open targets for the requests' pages (never a job's run, nor the upgrade page's).
    pub pool: pool::Pool,
    pub data: PathBuf,
    pub jobs: jobs::Jobs,
    pub throttle: throttle::Throttle,
    pub hosts: hosts::Hosts,
    pub trusted_proxies: Vec<TrustedProxy>,
    pub cookies: cookies::Cookies,
    pub max_upload_bytes: usize,
    pub retain_uploads: Duration,
    /// Given to every run the console starts.
    pub fingerprint_key: Option<PathBuf>,
    /// How long a saved query may run.
    pub query_time: Duration,
    /// The uploads' lock: a sweep takes it to write, and whatever needs an upload to stay
    /// (a job until its run is recorded, an annotated download) holds it to read.
    pub uploads_lock: Arc<tokio::sync::RwLock<()>>,
}

pub(crate) type Shared = Arc<App>;

/// The uploads' lock held to read: no sweep runs while it is held.
pub(crate) type UploadsHold = tokio::sync::OwnedRwLockReadGuard<()>;

impl App {
    /// A target for one request, from the pool: given back when dropped.
    pub fn target(&self) -> Result<pool::Pooled<'_>, view::Failure> {
        self.pool.take().map_err(view::Failure::from)
    }

    /// Removes the uploads and generated files no longer needed (logged, never fatal). It holds
    /// the uploads' lock to write: nothing that needs an upload to stay runs meanwhile. Call it
    /// from a thread that may block, holding no [`UploadsHold`].
    pub fn sweep(&self, all_downloads: bool) {
        let _sweeping = self.uploads_lock.blocking_write();
        let r = self
            .pool
            .take()
            .map_err(retention::RetentionError::from)
            .and_then(|t| retention::sweep(&t, &self.data, self.retain_uploads, all_downloads));
        if let Err(e) = r {
            // The console has no log but its standard error.
            eprintln!("Warning: cannot sweep the console's data folder: {e}");
        }
    }
}

/// Creates (or resets) a staff member in the target; the console's first admin comes from here
/// (`ferry serve --create-admin EMAIL`).
pub fn create_staff(db: &str, email: &str, password: &str, role: Role) -> Result<(), WebError> {
    let t = Target::open_db(db)?;
    Ok(auth::upsert_staff(&t, email, password, role)?)
}

/// Runs the console until the process is stopped.
pub fn serve(config: Config) -> Result<(), WebError> {
    // The target must be readable before the server says it is listening.
    let t = Target::open_db(&config.db)?;
    let staff = ferry_logins::staff::count(&t)?;
    // A key file that is not the target's is refused now, not at the first upload.
    ferry_engine::fingerprint_key::check_given(&t, config.fingerprint_key.as_deref())
        .map_err(|e| WebError::Setup(e.to_string()))?;
    retention::prepare(&config.data_dir)?;
    // Before anything sweeps or starts: the runs the last console was running when it stopped.
    match restart::mark_stopped_runs(&t, &config.data_dir.canonicalize()?) {
        Ok(runs) => {
            for run in runs {
                eprintln!(
                    "Run {run} was interrupted when the console stopped: its page offers Resume."
                );
            }
        }
        Err(e) => eprintln!(
            "Warning: cannot tell which runs the console was running when it stopped: {e}"
        ),
    }
    drop(t);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let bound = listener.local_addr()?;
        let app = new_app(&config, bound)?;
        // At start nothing is being sent: every generated file left behind goes too.
        let a = app.clone();
        tokio::task::spawn_blocking(move || a.sweep(true))
            .await
            .ok();
        tokio::spawn(sweep_hourly(app.clone()));
        let shown = ferry_store::pg::shown(&config.db);
        eprintln!(
            "Ferry console for {shown} on http://{bound} ({staff} staff account{}){}",
            if staff == 1 { "" } else { "s" },
            if staff == 0 {
                "; create the first with `ferry serve --create-admin EMAIL`"
            } else {
                ""
            }
        );
        for w in warnings(&config) {
            eprintln!("Warning: {w}");
        }
        axum::serve(
            listener,
            router(app).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await?;
        Ok::<(), WebError>(())
    })
}

/// What the requests of a console listening on `bound` share.
fn new_app(config: &Config, bound: SocketAddr) -> Result<Shared, WebError> {
    let hosts = hosts::Hosts::new(bound, &config.allowed_hosts, config.public_url.as_deref())?;
    Ok(Arc::new(App {
        db: config.db.clone(),
        pool: pool::Pool::new(&config.db),
        data: config.data_dir.canonicalize()?,
        jobs: jobs::Jobs::default(),
        throttle: throttle::Throttle::default(),
        hosts,
        trusted_proxies: config.trusted_proxies.clone(),
        cookies: cookies::Cookies {
            secure: secure_cookies(config),
        },
        max_upload_bytes: config.max_upload_bytes,
        retain_uploads: config.retain_uploads,
        fingerprint_key: config.fingerprint_key.clone(),
        query_time: config.query_time,
        uploads_lock: Default::default(),
    }))
}

/// Whether cookies are Secure: asked for, or implied by an `https://` public URL.
fn secure_cookies(config: &Config) -> bool {
    config.secure_cookies
        || config
            .public_url
            .as_deref()
            .is_some_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"))
}

/// What the operator should know about the flags at start.
fn warnings(config: &Config) -> Vec<String> {
    let behind_proxy = config.public_url.is_some() || config.secure_cookies;
    if behind_proxy && config.trusted_proxies.is_empty() {
        vec!["--public-url or --secure-cookies says a proxy is in front, but no --trusted-proxy names it: every request then seems to come from the proxy's address, and the sign-in throttle's per-address limits apply to all staff together. Give the proxy's address (or range) with --trusted-proxy.".into()]
    } else {
        vec![]
    }
}

/// Sweeps the data folder every [`retention::SWEEP_EVERY`] while the console runs.
async fn sweep_hourly(app: Shared) {
    let mut every = tokio::time::interval(retention::SWEEP_EVERY);
    every.tick().await; // the first tick is at once: the start already swept
    loop {
        every.tick().await;
        let a = app.clone();
        tokio::task::spawn_blocking(move || a.sweep(false))
            .await
            .ok();
    }
}

/// Every route. Only the sign-in page and the stylesheet and script are public.
pub(crate) fn router(app: Shared) -> Router {
    // The two uploads may be large; every other body is a small form (`FORM_LIMIT`).
    let upload = DefaultBodyLimit::max(app.max_upload_bytes);
    let protected = Router::new()
        .route("/", get(|| async { Redirect::to("/runs") }))
        .route("/runs", get(pages::runs))
        .route(
            "/runs/new",
            get(pages::new_run).post(upload::start_run.layer(upload)),
        )
        .route(
            "/runs/new/{draft}",
            get(mapping_pages::show)
                .post(mapping_pages::post.layer(DefaultBodyLimit::max(mapping_pages::FORM_LIMIT))),
        )
        .route("/runs/{id}", get(run_page::run))
        .route("/runs/{id}/progress", get(run_page::progress))
        .route("/runs/{id}/findings", get(run_page::findings_fragment))
        .route("/runs/{id}/download/{what}", get(downloads::download))
        .route("/runs/{id}/confirm/{action}", get(confirm::confirm))
        .route("/runs/{id}/rejected/{k}", get(rejected_rows::download))
        .route("/runs/{id}/live", post(run_actions::run_live))
        .route("/runs/{id}/import-valid", post(run_actions::import_valid))
        .route("/runs/{id}/retry", post(retry::retry.layer(upload)))
        .route("/runs/{id}/resume", post(run_actions::resume))
        .route("/runs/{id}/cancel", post(run_actions::cancel))
        .route("/runs/{id}/rollback", post(run_actions::rollback))
        .route("/records", get(records::search))
        .route("/queries", get(queries::list))
        .route("/queries/{name}", get(queries::run))
        .route("/queries/{name}/csv", get(queries::csv))
        .route("/records/{name}", get(records::account))
        .route(
            "/certification",
            get(pages::certification).post(upload::start_certification.layer(upload)),
        )
        .route("/upgrade", get(pages::upgrade))
        .route("/logins", get(logins::list))
        .route("/logins/username", post(logins::set_username))
        .route("/logins/password", post(logins::set_password))
        .route("/staff", get(team::list))
        .route("/staff/add", post(team::add))
        .route("/staff/{id}/disable", post(team::disable))
        .route("/staff/{id}/enable", post(team::enable))
        .route("/staff/{id}/role", post(team::role))
        .route("/staff/{id}/password", post(team::password))
        .route("/signout", post(pages::sign_out))
        .layer(middleware::from_fn_with_state(app.clone(), require_staff));
    Router::new()
        .route("/signin", get(signin::sign_in_page).post(signin::sign_in))
        .route("/static/ferry.css", get(view::css))
        .route("/static/ferry.js", get(view::js))
        .merge(protected)
        .fallback(|| async { view::not_found() })
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .layer(middleware::from_fn_with_state(app.clone(), allowed_host))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// Answers only requests sent to a host name on the allow-list (`--allowed-host`); anything
/// else gets 421 before any route sees it. A page of another site whose name now points at
/// this machine (DNS rebinding) sends its own name as `Host`, and so reaches nothing.
async fn allowed_host(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if app.hosts.request_allowed(req.headers(), req.uri()) {
        return next.run(req).await;
    }
    (
        StatusCode::MISDIRECTED_REQUEST,
        "This console does not answer to that host name. Open it at the address it printed at start, or start it with --allowed-host NAME (or --public-url URL).",
    )
        .into_response()
}

/// Lets a request through only with a live session; the staff member goes into the request.
/// A page asked for without one is sent to sign in; anything else is refused (401). A request
/// that changes something must also come from this console's own pages (its `Origin`, or its
/// `Referer`, names an allowed host).
async fn require_staff(State(app): State<Shared>, mut req: Request, next: Next) -> Response {
    let Some(staff) = session_staff(&app, req.headers()).await else {
        return not_signed_in(&req);
    };
    let changes = req.method() != Method::GET && req.method() != Method::HEAD;
    if changes && !app.hosts.same_site(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "cross-site request refused: post from a page of this console, opened at an address it was started with (--public-url, --allowed-host NAME:PORT)",
        )
            .into_response();
    }
    req.extensions_mut().insert(staff);
    next.run(req).await
}

/// The staff member whose live session the request's cookie names, if any.
async fn session_staff(app: &Shared, headers: &axum::http::HeaderMap) -> Option<auth::Staff> {
    let tok = app.cookies.get(headers, cookies::Kind::Session)?;
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        let t = app.target().ok()?;
        auth::session(&t, &tok).ok().flatten()
    })
    .await
    .ok()
    .flatten()
}

/// The answer without a session: a page asked for by a browser is sent to sign in first (and
/// back after), anything else is refused.
fn not_signed_in(req: &Request) -> Response {
    let wants_page = req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("text/html"));
    if !wants_page {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    }
    let here = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_default();
    Redirect::to(&format!("/signin?next={}", view::url_encode(here))).into_response()
}

/// Headers every response carries: no framing, no sniffing, no referrer to other sites, scripts
/// and styles only from this site, and no caching of pages that show member data.
async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` with
    // the console's own form posts, and the same-site check above refuses them all. Other sites
    // still get no referrer.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_store::journal::{RunKind, RunMode, RunStatus};

    /// The sweep and what holds an upload: while a job holds the uploads' lock (from its start
    /// until its run is recorded), a sweep waits, and then sees the new run and keeps the
    /// upload, though the only run that named it before is long past the retention.
    #[test]
    fn a_sweep_waits_for_whatever_holds_the_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db").to_string_lossy().into_owned();
        let (t, _) = Target::init_db(&db).unwrap();
        let config = Config {
            db: db.clone(),
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            max_upload_bytes: 1 << 20,
            secure_cookies: false,
            allowed_hosts: vec![],
            public_url: None,
            trusted_proxies: vec![],
            retain_uploads: Duration::from_secs(3600),
            query_time: Duration::from_secs(10),
            fingerprint_key: None,
        };
        retention::prepare(&config.data_dir).unwrap();
        let app = new_app(&config, config.bind).unwrap();
        let folder = retention::uploads(&app.data).join("upload-1");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("club.xml"), b"<Import/>").unwrap();
        let inputs = serde_json::json!([folder.join("club.xml")]);
        let record = |mode| {
            t.create_run(RunKind::Import, mode, &inputs, &serde_json::json!({}), "h")
                .unwrap()
        };
        let long_ago = "2001-01-01T00:00:00Z";
        let old = record(RunMode::TestOnly);
        t.backdate_run(old, RunStatus::Succeeded, long_ago).unwrap();
        // A job starts (run live) and holds the lock until the engine records its run.
        let hold = app.uploads_lock.clone().try_read_owned().unwrap();
        let a = app.clone();
        let sweeper = std::thread::spawn(move || a.sweep(false));
        std::thread::sleep(Duration::from_millis(300));
        assert!(folder.exists(), "the sweep waits for the job");
        let live = record(RunMode::Live);
        drop(hold);
        sweeper.join().unwrap();
        assert!(folder.join("club.xml").exists(), "the running run keeps it");
        // Once nothing uses it (the live run, too, ended long ago), the next sweep removes it.
        t.backdate_run(live, RunStatus::Succeeded, long_ago)
            .unwrap();
        app.sweep(false);
        assert!(!folder.exists());
    }
}
