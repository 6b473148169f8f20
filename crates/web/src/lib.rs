//! `ferry serve`: the web console for staff (SPEC §14) — sign-in, runs, uploads, live progress,
//! findings, downloads, records, certification and upgrades — as server-rendered pages over the
//! same engine and journal as the command line. Glue only: every decision is in the library
//! crates; this crate turns them into pages.

pub mod auth;
mod hosts;
mod jobs;
mod logins;
mod pages;
mod records;
mod retention;
mod signin;
mod throttle;
mod view;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ferry_store::Target;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use auth::Role;

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
    /// Mark cookies `Secure` (when a TLS proxy is in front).
    pub secure_cookies: bool,
    /// Host names the console answers to besides `localhost`, `127.0.0.1`, `[::1]` and the
    /// bound address (`--allowed-host`).
    pub allowed_hosts: Vec<String>,
    /// The address staff open the console at, behind a proxy (`--public-url`).
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<IpAddr>,
    /// How long uploads are kept after their run ended (`--retain-uploads-days`).
    pub retain_uploads: Duration,
    /// The fingerprint key file of card and account numbers (`--fingerprint-key`); `None`:
    /// the default file of the target's key.
    pub fingerprint_key: Option<PathBuf>,
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
}

/// What every request handler shares.
pub(crate) struct App {
    pub db: String,
    pub data: PathBuf,
    pub jobs: jobs::Jobs,
    pub throttle: throttle::Throttle,
    pub hosts: hosts::Hosts,
    pub trusted_proxies: Vec<IpAddr>,
    pub secure_cookies: bool,
    pub max_upload_bytes: usize,
    pub retain_uploads: Duration,
    /// Given to every run the console starts.
    pub fingerprint_key: Option<PathBuf>,
}

pub(crate) type Shared = Arc<App>;

impl App {
    /// Opens the target for one request (a connection per request: the store is not shared
    /// between threads).
    pub fn target(&self) -> Result<Target, view::Failure> {
        Target::open_db(&self.db).map_err(view::Failure::from)
    }

    /// Removes the uploads and generated files no longer needed (logged, never fatal).
    pub fn sweep(&self, all_downloads: bool) {
        let r = Target::open_db(&self.db)
            .map_err(|e| e.to_string())
            .and_then(|t| retention::sweep(&t, &self.data, self.retain_uploads, all_downloads));
        if let Err(e) = r {
            tracing::warn!("cannot sweep the console's data folder: {e}");
        }
    }
}

/// The session cookie's name.
pub(crate) const COOKIE: &str = "ferry_session";

/// Creates (or resets) a staff member in the target; the console's first admin comes from here
/// (`ferry serve --create-admin EMAIL`).
pub fn create_staff(db: &str, email: &str, password: &str, role: Role) -> Result<(), WebError> {
    let t = Target::open_db(db)?;
    auth::upsert_staff(&t, email, password, role).map_err(WebError::Setup)
}

/// Runs the console until the process is stopped.
pub fn serve(config: Config) -> Result<(), WebError> {
    // The target must be readable before the server says it is listening.
    let t = Target::open_db(&config.db)?;
    let staff = t.int("SELECT count(*) FROM staff_user", &[])?;
    // A key file that is not the target's is refused now, not at the first upload.
    ferry_engine::fingerprint_key::check_given(&t, config.fingerprint_key.as_deref())
        .map_err(|e| WebError::Setup(e.to_string()))?;
    drop(t);
    retention::prepare(&config.data_dir)?;
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
    let hosts = hosts::Hosts::new(bound, &config.allowed_hosts, config.public_url.as_deref())
        .map_err(WebError::Setup)?;
    Ok(Arc::new(App {
        db: config.db.clone(),
        data: config.data_dir.canonicalize()?,
        jobs: jobs::Jobs::default(),
        throttle: throttle::Throttle::default(),
        hosts,
        trusted_proxies: config.trusted_proxies.clone(),
        secure_cookies: config.secure_cookies,
        max_upload_bytes: config.max_upload_bytes,
        retain_uploads: config.retain_uploads,
        fingerprint_key: config.fingerprint_key.clone(),
    }))
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
    let protected = Router::new()
        .route("/", get(|| async { Redirect::to("/runs") }))
        .route("/runs", get(pages::runs))
        .route("/runs/new", get(pages::new_run).post(pages::start_run))
        .route("/runs/{id}", get(pages::run))
        .route("/runs/{id}/progress", get(pages::progress))
        .route("/runs/{id}/findings", get(pages::findings_fragment))
        .route("/runs/{id}/download/{what}", get(pages::download))
        .route("/runs/{id}/live", post(pages::run_live))
        .route("/runs/{id}/resume", post(pages::resume))
        .route("/runs/{id}/cancel", post(pages::cancel))
        .route("/runs/{id}/rollback", post(pages::rollback))
        .route("/records", get(records::search))
        .route("/records/{name}", get(records::account))
        .route(
            "/certification",
            get(pages::certification).post(pages::start_certification),
        )
        .route("/upgrade", get(pages::upgrade))
        .route("/logins", get(logins::list))
        .route("/logins/username", post(logins::set_username))
        .route("/logins/password", post(logins::set_password))
        .route("/signout", post(pages::sign_out))
        .layer(middleware::from_fn_with_state(app.clone(), require_staff));
    Router::new()
        .route("/signin", get(signin::sign_in_page).post(signin::sign_in))
        .route("/static/ferry.css", get(view::css))
        .route("/static/ferry.js", get(view::js))
        .merge(protected)
        .fallback(|| async { view::not_found() })
        .layer(DefaultBodyLimit::max(app.max_upload_bytes))
        .layer(middleware::from_fn_with_state(app.clone(), allowed_host))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The cookie `name` of a request, if any.
pub(crate) fn cookie(req_headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The session cookie of a request, if any.
pub(crate) fn session_token(req_headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(req_headers, COOKIE)
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
    let token = session_token(req.headers());
    let staff = match token {
        Some(tok) => {
            let app = app.clone();
            tokio::task::spawn_blocking(move || {
                app.target()
                    .ok()
                    .and_then(|t| auth::session(&t, &tok).ok().flatten())
            })
            .await
            .ok()
            .flatten()
        }
        None => None,
    };
    let Some(staff) = staff else {
        if req.method() == Method::GET
            && req
                .headers()
                .get(header::ACCEPT)
                .and_then(|a| a.to_str().ok())
                .is_some_and(|a| a.contains("text/html"))
        {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            let to = format!("/signin?next={}", view::url_encode(&next));
            return Redirect::to(&to).into_response();
        }
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    };
    let changes = req.method() != Method::GET && req.method() != Method::HEAD;
    if changes && !app.hosts.same_site(req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    req.extensions_mut().insert(staff);
    next.run(req).await
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
