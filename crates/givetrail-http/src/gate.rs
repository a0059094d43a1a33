//! What every request with a body passes before its handler: the caller's key is checked from the
//! headers first, so a write without a valid key is refused before a byte of its body is read;
//! the body's media type must be exactly what the endpoint takes (415 otherwise); and the body
//! is read within [`BODY_READ_TIMEOUT`] (408 otherwise) and at most
//! [`crate::MAX_REQUEST_BYTES`] (413 otherwise), then handed to the handler from memory.
//!
//! Routes are told apart on the path as the router sees it (percent-decoded), never on the raw
//! path, so `/api/v1/%63omplaints` is the complaints endpoint here too.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, ResponseError};
use futures_util::StreamExt;

use crate::auth::Authenticated;
use crate::body::{has_media_type, MAX_IMPORT_BYTES};
use crate::middleware::KnownPaths;
use crate::problem::ApiError;
use crate::state::AppState;

/// Longest a client may take to send a request body, from the end of its headers.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The one public write of the API: anyone may file a complaint.
pub const PUBLIC_WRITE: &str = "/api/v1/complaints";
/// The HTML complaint form's target.
pub const COMPLAINT_FORM: &str = "/complaints/new";

/// What the gate knows of a route taking a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    /// The media type the body must have; `None` where the handler checks it after deciding
    /// who may call (the uploads: a caller who may not upload hears 403, not 415; the donations
    /// import takes `text/csv` or an Excel workbook, a bank statement `text/csv`).
    media: Option<&'static str>,
    /// An API route: the key is checked here, before the body is read.
    api: bool,
    /// A key is required (every API write but the public complaint).
    needs_key: bool,
    /// Largest body.
    limit: usize,
}

/// The route a body sent to this (decoded) path goes to.
fn route(path: &str) -> Route {
    if let Some(rest) = path.strip_prefix("/api/v1/") {
        let import = rest.ends_with("/donations/import");
        let csv = import || rest.ends_with("/bank_statements");
        return Route {
            media: (!csv).then_some("application/json"),
            api: true,
            needs_key: path != PUBLIC_WRITE,
            limit: if import {
                MAX_IMPORT_BYTES
            } else {
                crate::MAX_REQUEST_BYTES
            },
        };
    }
    Route {
        media: (path == COMPLAINT_FORM).then_some("application/x-www-form-urlencoded"),
        api: false,
        needs_key: false,
        limit: crate::MAX_REQUEST_BYTES,
    }
}

/// 415 naming what the endpoint takes.
pub fn unsupported(media: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        format!("this endpoint takes a body sent as Content-Type: {media}"),
    )
}

fn refuse(req: ServiceRequest, e: ApiError) -> ServiceResponse<BoxBody> {
    let res = e.error_response();
    req.into_response(res)
}

/// Read the whole body within the deadline and the size limit.
async fn read_body(payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::field("", format!("the body could not be read: {e}")))?;
        if out.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
        format!("the request body exceeds the limit of {limit} bytes"),
    )
}

/// The gate (see the module documentation).
pub async fn gate(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    // The router's view of the path: percent-decoded except for `%`, `/` and `+`.
    let path = req.match_info().as_str().to_owned();
    // Only a route that takes this method is gated; anything else goes on to its 404 or 405
    // without its body being read.
    let served = if path.starts_with("/api/") {
        req.app_data::<web::Data<KnownPaths>>()
            .is_some_and(|k| k.allows(&path, req.method().as_str()))
    } else {
        path == COMPLAINT_FORM && req.method() == Method::POST
    };
    if !served {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let r = route(&path);
    if r.api {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Ok(refuse(req, ApiError::internal(&"no application state")));
        };
        // Every route the gate admits writes through the writer, which checks the key again
        // as the write commits: the early check may use the recent keys (`auth::KeyCache`).
        let who = match crate::auth::caller_of_write(req.request(), &state).await {
            Ok(who) => who,
            Err(e) => return Ok(refuse(req, e)),
        };
        if who.is_none() && r.needs_key {
            let e = ApiError::unauthenticated("this request needs 'Authorization: Bearer <key>'");
            return Ok(refuse(req, e));
        }
        req.extensions_mut().insert(Authenticated(who));
    }
    if let Some(media) = r.media {
        if !has_media_type(req.request(), media) {
            return Ok(refuse(req, unsupported(media)));
        }
    }
    let limit = r.limit;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Ok(refuse(req, too_large(limit)));
    }
    let mut payload = req.take_payload();
    let body = match tokio::time::timeout(BODY_READ_TIMEOUT, read_body(&mut payload, limit)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return Ok(refuse(req, e)),
        Err(_) => {
            let e = ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "Request timeout",
                format!(
                    "the body was not received within {} seconds",
                    BODY_READ_TIMEOUT.as_secs()
                ),
            );
            let mut res = refuse(req, e);
            res.response_mut().headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return Ok(res);
        }
    };
    req.set_payload(Payload::from(body));
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The Content-Security-Policy of the site's pages: they load nothing from elsewhere, run no
/// inline script, and may not be framed.
const SITE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
/// The Swagger UI (`/docs/`) styles its widgets inline.
const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; \
     style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Security headers: `nosniff` on every response; on HTML pages also a CSP allowing only this
/// origin, `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for older browsers) and
/// `Referrer-Policy: same-origin`.
pub async fn security_headers(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let docs = req.path().starts_with("/docs");
    let mut res = next.call(req).await?.map_into_boxed_body();
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if html {
        let csp = if docs { DOCS_CSP } else { SITE_CSP };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(csp),
        );
        h.insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        );
        h.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("same-origin"),
        );
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_told_apart_on_the_decoded_path() {
        let public = route("/api/v1/complaints");
        assert_eq!(
            (public.media, public.needs_key),
            (Some("application/json"), false)
        );
        let write = route("/api/v1/organizations/x/donations");
        assert_eq!(
            (write.media, write.needs_key),
            (Some("application/json"), true)
        );
        let import = route("/api/v1/organizations/x/donations/import");
        assert_eq!((import.media, import.limit), (None, MAX_IMPORT_BYTES));
        assert_eq!(route("/api/v1/organizations/x/bank_statements").media, None);
        let form = route("/complaints/new");
        assert_eq!(
            (form.media, form.api),
            (Some("application/x-www-form-urlencoded"), false)
        );
        assert_eq!(route("/needs").media, None);
    }
}
