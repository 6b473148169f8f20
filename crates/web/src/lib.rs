//! `ferry serve`: the web console for staff (SPEC §14) — sign-in, runs, uploads, live progress,
//! findings, downloads, records, certification and upgrades — as server-rendered pages over the
//! same engine and journal as the command line. Glue only: every decision is in the library
//! crates; this crate turns them into pages.

pub mod auth;
mod jobs;
mod pages;
mod records;
mod view;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ferry_store::Target;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use auth::Role;

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
    /// Mark cookies `Secure` (when a TLS proxy is in front).
    pub secure_cookies: bool,
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
    pub limiter: auth::Limiter,
    pub secure_cookies: bool,
    pub max_upload_bytes: usize,
}

pub(crate) type Shared = Arc<App>;

impl App {
    /// Opens the target for one request (a connection per request: the store is not shared
    /// between threads).
    pub fn target(&self) -> Result<Target, view::Failure> {
        Target::open_db(&self.db).map_err(view::Failure::from)
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
    drop(t);
    std::fs::create_dir_all(config.data_dir.join("uploads"))?;
    std::fs::create_dir_all(config.data_dir.join("runs"))?;
    let app = Arc::new(App {
        db: config.db.clone(),
        data: config.data_dir.canonicalize()?,
        jobs: jobs::Jobs::default(),
        limiter: auth::Limiter::default(),
        secure_cookies: config.secure_cookies,
        max_upload_bytes: config.max_upload_bytes,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.bind).await?;
        let shown = ferry_store::pg::shown(&config.db);
        eprintln!(
            "Ferry console for {shown} on http://{} ({staff} staff account{}){}",
            listener.local_addr()?,
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
        .route("/signout", post(pages::sign_out))
        .layer(middleware::from_fn_with_state(app.clone(), require_staff));
    Router::new()
        .route("/signin", get(pages::sign_in_page).post(pages::sign_in))
        .route("/static/ferry.css", get(view::css))
        .route("/static/ferry.js", get(view::js))
        .merge(protected)
        .fallback(|| async { view::not_found() })
        .layer(DefaultBodyLimit::max(app.max_upload_bytes))
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

/// The session cookie of a request, if any.
pub(crate) fn session_token(req_headers: &axum::http::HeaderMap) -> Option<String> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// Lets a request through only with a live session; the staff member goes into the request.
/// A page asked for without one is sent to sign in; anything else is refused (401). A request
/// that changes something must also come from this site (`Origin`, when the browser sends it).
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
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        {
            let same = origin
                .split_once("://")
                .map(|(_, rest)| rest == host)
                .unwrap_or(false);
            if !same {
                return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
            }
        }
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
