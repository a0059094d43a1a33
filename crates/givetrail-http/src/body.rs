//! Request bodies: JSON parsed with the failing field's path named, and idempotency keys.

use actix_web::HttpRequest;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use givetrail_store::write::Idempotency;

use crate::problem::ApiError;

/// Largest JSON body of a single write.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest donations CSV accepted by the import endpoint (about 300,000 rows); larger files are
/// imported with `givetrail import`, or split.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;
/// Largest JSON body of a batch.
pub const MAX_BATCH_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Longest Idempotency-Key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Parse a JSON body into `T`, naming the field that fails.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::field(
            "",
            format!("the body is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })?;
    // NUL cannot be stored as text (PostgreSQL refuses it), so no field may hold one.
    if text.contains("\\u0000") {
        return Err(ApiError::field(
            "",
            "strings must not contain a NUL character (\\u0000)",
        ));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let message = inner.to_string();
        // serde's message ends with "at line X column Y": keep it, it helps find the spot.
        ApiError::field(&field, message)
    })
}

/// The request's Idempotency-Key, scoped to the caller, with a hash of what was asked.
pub fn idempotency(
    req: &HttpRequest,
    scope: &str,
    body: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    let Some(v) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .filter(|k| {
            !k.is_empty()
                && k.len() <= MAX_IDEMPOTENCY_KEY
                && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .ok_or_else(|| {
            ApiError::field(
                "Idempotency-Key",
                format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
            )
        })?;
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.path().as_bytes());
    h.update(b"\n");
    h.update(body);
    Ok(Some(Idempotency {
        key_id: scope.to_owned(),
        key: key.to_owned(),
        request_hash: hex::encode(h.finalize()),
    }))
}

/// Refuse (415) a body not sent as `Content-Type: text/csv`; `what` names the upload in the message.
pub fn require_csv(req: &HttpRequest, what: &str) -> Result<(), ApiError> {
    require_media(req, &["text/csv"], what).map(|_| ())
}

/// The one of `media` the body is sent as, or 415 naming them; `what` names the upload.
pub fn require_media(
    req: &HttpRequest,
    media: &[&'static str],
    what: &str,
) -> Result<&'static str, ApiError> {
    if let Some(m) = media.iter().find(|m| has_media_type(req, m)) {
        return Ok(m);
    }
    Err(ApiError::new(
        actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        "Unsupported media type",
        format!(
            "{what} is sent as Content-Type: {}",
            media.join(" or Content-Type: ")
        ),
    ))
}

/// Whether the request's `Content-Type` is exactly `media` (parameters such as `charset`
/// allowed, case ignored): `text/csvfoo` is not `text/csv`.
pub fn has_media_type(req: &actix_web::HttpRequest, media: &str) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(media))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header;

    #[test]
    fn a_media_type_matches_exactly_with_parameters_allowed() {
        let req = |ct: &str| {
            actix_web::test::TestRequest::default()
                .insert_header((header::CONTENT_TYPE, ct))
                .to_http_request()
        };
        assert!(has_media_type(&req("text/csv"), "text/csv"));
        assert!(has_media_type(&req("Text/CSV; charset=utf-8"), "text/csv"));
        assert!(!has_media_type(&req("text/csvfoo"), "text/csv"));
        assert!(!has_media_type(&req("text/plain"), "application/json"));
        let none = actix_web::test::TestRequest::default().to_http_request();
        assert!(!has_media_type(&none, "application/json"));
    }
}
