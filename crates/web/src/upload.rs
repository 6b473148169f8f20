//! A new run's upload (an import or a certification migration): the files stored, then either
//! looked at before running (the mapping pages) or run with the form's options.

use crate::auth::Staff;
use crate::jobs::Work;
use crate::pages::{check_csrf, need_admin, options_of, start_work};
use crate::view::Failure;
use crate::Shared;
use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use ferry_engine::RunKind;

pub async fn start_run(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    m: Multipart,
) -> Result<Response, Failure> {
    start_upload(app, staff, &headers, m, RunKind::Import).await
}

/// Stores an upload, checks the form and starts the run of `kind` in the background. An upload
/// whose `Content-Length` is over the limit is refused before any of it is read; a file of a
/// type Ferry does not read, or an option it cannot take, brings the form back with the
/// options chosen and the reason above it.
async fn start_upload(
    app: Shared,
    staff: Staff,
    headers: &HeaderMap,
    m: Multipart,
    kind: RunKind,
) -> Result<Response, Failure> {
    need_admin(&staff)?;
    let form = crate::pages::read_upload_form(&app, headers, m).await?;
    if let Err(e) = check_csrf(&staff, &form.csrf) {
        let _ = tokio::fs::remove_dir_all(&form.folder).await;
        return Err(e);
    }
    let refused = match &form.refused {
        Some(why) => Err(Failure::bad(why.clone())),
        None => Ok(()),
    };
    let look = kind == RunKind::Import && form.fields.get("action").is_some_and(|a| a == "look");
    if look && refused.is_ok() {
        return crate::mapping_pages::create(&app, form).await;
    }
    let opts = match refused.and_then(|_| options_of(&form, kind)) {
        Ok(o) => o,
        Err(e) => {
            let _ = tokio::fs::remove_dir_all(&form.folder).await;
            return crate::pages::form_again(&app, &staff, kind, &form.fields, &e.message).await;
        }
    };
    // A new upload folder is kept a day before any run names it: no hold needed.
    start_work(
        &app,
        &staff,
        Work::Import(Box::new(opts)),
        None,
        Some(form.folder),
        None,
    )
    .await
}

pub async fn start_certification(
    State(app): State<Shared>,
    Extension(staff): Extension<Staff>,
    headers: HeaderMap,
    m: Multipart,
) -> Result<Response, Failure> {
    start_upload(app, staff, &headers, m, RunKind::Certification).await
}
