//! HTTP caching as browsers, proxies and `curl -z`-style clients already understand it (RFC 9110
//! §8.8 and §13, RFC 9111): every public read answers with a strong `ETag` and a `Cache-Control`,
//! and a request whose `If-None-Match` names the current tag is answered `304 Not Modified` with
//! no body.
//!
//! - **The tag.** For an answer built in memory, the SHA-256 of its bytes (first 128 bits): it
//!   changes exactly when the representation does, whatever made it change (a new entry, a
//!   recipient confirmed, a complaint filed, the clock moving a stock-ageing bucket, `format=csv`
//!   against JSON). A streamed export sets its own tag before its body exists, from the log head
//!   and directory it reflects ([`export_tag`]), and answers a matching request without running.
//! - **`Cache-Control`.** `public, no-cache` (keep it, but ask each time) for what grows with
//!   the log; `public, max-age=31536000, immutable` for what never changes once it exists, which
//!   the handler says ([`immutable`]): a full page of entries or of checkpoints, an inclusion proof
//!   for a stated tree size, a consistency proof. (A published disclosure's summary is not: it
//!   prints recipients' names, which a registration can change.)
//! - **Private answers are never stored.** A read with `Authorization` (a regulator's complaints,
//!   donors' private values) and a complaint's status by its tracking code (the code is its key)
//!   get `private, no-store` and no tag.
//! - `Vary` is left to the handler that varies (the QR code by `Host`) and copied onto a 304.
//!   The representations chosen by `Accept` (CSV, Excel) or `Accept-Language` (the site) have
//!   tags of their own and every such answer is `no-cache`, so a cache revalidating a CSV copy
//!   for a JSON request is answered with the JSON, never a 304.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// What grows with the log: stored, revalidated every time.
pub const REVALIDATE: &str = "public, no-cache";
/// What never changes once it exists.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// What only its caller may see.
pub const PRIVATE: &str = "private, no-store";
/// The largest body hashed for a tag; larger sized bodies go untagged (the whole-log exports,
/// the largest answers, are streamed and tagged from their head).
pub const MAX_TAGGED_BYTES: u64 = 32 * 1024 * 1024;

/// The middleware (see the module's documentation). GET only; errors pass untouched.
pub async fn conditional(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::GET {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let private = req.headers().contains_key(header::AUTHORIZATION) || is_tracking_code(req.path());
    let mut res = next.call(req).await?;
    let ok = res.status() == StatusCode::OK;
    let headers = res.headers_mut();
    if private {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(PRIVATE));
        headers.remove(header::ETAG);
        return Ok(res.map_into_boxed_body());
    }
    if !ok {
        return Ok(res.map_into_boxed_body());
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    }
    if headers.contains_key(header::ETAG) {
        // Tagged by its handler (a streamed export that did not match, see [`export_tag`]).
        return Ok(res.map_into_boxed_body());
    }
    match res.response().body().size() {
        BodySize::Sized(n) if n <= MAX_TAGGED_BYTES => {}
        _ => return Ok(res.map_into_boxed_body()),
    }
    let (req, res) = res.into_parts();
    let (mut res, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(e.into().to_string()))?;
    let tag = strong_tag(&Sha256::digest(&bytes)[..16]);
    if matches(&req, &tag) {
        let mut not = HttpResponse::NotModified();
        not.insert_header((header::ETAG, tag));
        for name in [header::CACHE_CONTROL, header::VARY] {
            if let Some(value) = res.headers().get(&name) {
                not.insert_header((name.clone(), value.clone()));
            }
        }
        return Ok(ServiceResponse::new(req, not.finish()));
    }
    if let Ok(value) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(bytes))))
}

/// Mark a handler's answer as never changing (see the module's documentation).
pub fn immutable(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    res
}

/// The tag of a streamed export of a log: its organisation, length and head hash, and the
/// directory of names it prints (a recipient renamed or confirmed changes the document).
/// `parts` are hashed in order, each followed by a NUL.
pub fn export_tag<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
        hash.update([0]);
    }
    strong_tag(&hash.finalize()[..16])
}

/// A streamed answer's short cut: `304` when `If-None-Match` names `tag`, before anything is
/// built; otherwise `respond()` with the tag set.
pub fn tagged(
    req: &HttpRequest,
    tag: String,
    respond: impl FnOnce() -> HttpResponse,
) -> HttpResponse {
    if matches(req, &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, REVALIDATE))
            .finish();
    }
    let mut res = respond();
    if let Ok(value) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, value);
    }
    res
}

fn strong_tag(digest: &[u8]) -> String {
    format!("\"{}\"", hex::encode(digest))
}

/// Whether the request's `If-None-Match` names `tag`: `*`, or any listed tag equal to it by the
/// weak comparison RFC 9110 §13.1.2 prescribes for this header (`W/` ignored).
fn matches(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|listed| listed == "*" || listed.strip_prefix("W/").unwrap_or(listed) == tag)
}

/// A complaint's status by its tracking code (`/api/v1/complaints/{code}`, `/complaints/{code}`):
/// the code is the key to it, so the answer is the caller's alone.
fn is_tracking_code(path: &str) -> bool {
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let last = segments.next().unwrap_or_default();
    segments.next() == Some("complaints") && !last.is_empty() && last != "new"
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn if_none_match_is_compared_weakly_in_a_list() {
        let tag = "\"abc\"";
        let with = |v: &str| {
            matches(
                &TestRequest::default()
                    .insert_header((header::IF_NONE_MATCH, v))
                    .to_http_request(),
                tag,
            )
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", W/\"abc\""));
        assert!(with("*"));
        assert!(!with("\"abcd\""));
        assert!(!with("abc"));
        assert!(!matches(&TestRequest::default().to_http_request(), tag));
    }

    #[test]
    fn a_tracking_code_is_private_and_the_form_is_not() {
        assert!(is_tracking_code("/api/v1/complaints/C-7Q2K"));
        assert!(is_tracking_code("/complaints/C-7Q2K/"));
        assert!(!is_tracking_code("/complaints/new"));
        assert!(!is_tracking_code("/api/v1/complaints"));
        assert!(!is_tracking_code("/api/v1/organizations/x/summary"));
    }
}
