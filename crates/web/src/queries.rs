//! The Queries page: the target's saved queries listed, one run read-only (time limit, row
//! cap) and shown as a table or downloaded as CSV; a refusal, a timeout or a database error
//! is a message on the page. Admins and viewers alike; only saved queries run.

use crate::auth::Staff;
use crate::view::{self, page, Base, Failure};
use crate::Shared;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ferry_report::saved_queries::{self, SavedQuery};
use ferry_store::saved_query::{run_read_only, QueryLimits, QueryResult};

/// Most rows the page shows.
pub const PAGE_ROWS: usize = 1_000;
/// Most rows a CSV download holds.
pub const CSV_ROWS: usize = 100_000;

#[derive(Template)]
#[template(path = "queries.html")]
struct ListPage {
    base: Base,
    queries: Vec<SavedQuery>,
    time: u64,
}

pub async fn list(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
) -> Result<Response, Failure> {
    let a = app.clone();
    let queries = tokio::task::spawn_blocking(move || -> Result<_, Failure> {
        Ok(saved_queries::list(&*a.target()?)?)
    })
    .await??;
    Ok(page(&ListPage {
        base: Base::new("Queries", &staff, "queries"),
        queries,
        time: app.query_time.as_secs(),
    }))
}

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    base: Base,
    query: SavedQuery,
    result: QueryResult,
    error: String,
    page_rows: String,
    csv_rows: String,
    time: u64,
}

/// The saved query `name`, or a 404.
async fn find(app: &Shared, name: String) -> Result<SavedQuery, Failure> {
    let a = app.clone();
    let found = tokio::task::spawn_blocking(move || -> Result<_, Failure> {
        Ok(saved_queries::find(&*a.target()?, &name)?)
    })
    .await??;
    found.ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            "There is no saved query of that name.",
        )
    })
}

/// Runs `q` read-only within the console's time limit and `rows`; every value and message
/// without the console's data folder in it.
async fn run_capped(app: &Shared, q: &SavedQuery, rows: usize) -> Result<QueryResult, String> {
    let (db, sql, time) = (app.db.clone(), q.sql.clone(), app.query_time);
    let r =
        tokio::task::spawn_blocking(move || run_read_only(&db, &sql, QueryLimits { rows, time }))
            .await
            .map_err(|_| "The query's work stopped unexpectedly.".to_string())?;
    let uploads = crate::retention::uploads(&app.data);
    let hide = |s: &str| view::hide_paths(&view::hide_paths(s, &uploads, true), &app.data, false);
    match r {
        Ok(mut res) => {
            for v in res.rows.iter_mut().flatten().flatten() {
                if v.contains('/') {
                    *v = hide(v);
                }
            }
            Ok(res)
        }
        Err(e) => Err(hide(&e.to_string())),
    }
}

pub async fn run(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let query = find(&app, name).await?;
    let (result, error) = match run_capped(&app, &query, PAGE_ROWS).await {
        Ok(r) => (r, String::new()),
        Err(e) => (QueryResult::default(), e),
    };
    Ok(page(&QueryPage {
        base: Base::new(format!("Query {}", query.name), &staff, "queries"),
        query,
        result,
        error,
        page_rows: view::count(PAGE_ROWS as i64),
        csv_rows: view::count(CSV_ROWS as i64),
        time: app.query_time.as_secs(),
    }))
}

/// The query's rows as CSV, up to [`CSV_ROWS`]; a query that fails gives its page with the
/// message instead (422).
pub async fn csv(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    Path(name): Path<String>,
) -> Result<Response, Failure> {
    let query = find(&app, name).await?;
    match run_capped(&app, &query, CSV_ROWS).await {
        Ok(r) => {
            let bytes = saved_queries::to_csv(&r)
                .map_err(|e| Failure::internal(format!("the CSV could not be written: {e}")))?;
            let mut res = view::attachment(
                bytes,
                "text/csv; charset=utf-8",
                &format!("{}.csv", query.name),
            );
            if r.more {
                // Said in a header too: the file holds the first rows only.
                res.headers_mut().insert(
                    "x-ferry-rows-cut",
                    axum::http::HeaderValue::from_static("1"),
                );
            }
            Ok(res)
        }
        Err(error) => {
            let body = page(&QueryPage {
                base: Base::new(format!("Query {}", query.name), &staff, "queries"),
                query,
                result: QueryResult::default(),
                error,
                page_rows: view::count(PAGE_ROWS as i64),
                csv_rows: view::count(CSV_ROWS as i64),
                time: app.query_time.as_secs(),
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response())
        }
    }
}
