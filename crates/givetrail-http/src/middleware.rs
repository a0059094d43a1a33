//! Cross-cutting HTTP behaviour: request ids and access logs, and problem+json for every error
//! the framework itself produces (413 from the body limit, 404, 405, …).

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Logger};
use actix_web::HttpResponse;

use crate::problem::{ApiError, Problem, PROBLEM_BASE};

/// Access log: method, path (redacted, see [`redact_path`]), status, size and latency — never
/// headers, so keys cannot reach logs. Mounted inside [`tracing_actix_web::TracingLogger`] with
/// [`RedactedRootSpan`]; each line ends with the request's id, as do events inside the span.
pub fn access_log() -> Logger {
    Logger::new("%{target}xi %s %b %Dms request_id=%{request_id}xi")
        .custom_request_replace("request_id", |req| {
            use actix_web::HttpMessage;
            req.extensions()
                .get::<tracing_actix_web::RequestId>()
                .map(|r| r.to_string())
                .unwrap_or_default()
        })
        .custom_request_replace("target", |req| {
            let q = req.query_string();
            let path = redact_path(req.path());
            if q.is_empty() {
                format!("{} {path}", req.method())
            } else {
                format!("{} {path}?{q}", req.method())
            }
        })
        .log_target("givetrail::http")
}

/// A path as logs may show it: a complaint's tracking code (the key to its status) becomes
/// `{code}`, and any segment that looks like a secret key (`gt_…`, or 32 and more hex digits)
/// becomes `{redacted}`.
pub fn redact_path(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, s) in segments.iter().enumerate() {
        let after_complaints = i > 0 && segments[i - 1] == "complaints";
        let key_like =
            s.starts_with("gt_") || (s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        out.push(if after_complaints && !s.is_empty() && *s != "new" {
            "{code}"
        } else if key_like {
            "{redacted}"
        } else {
            s
        });
    }
    out.join("/")
}

/// The root span of each request, as `tracing_actix_web`'s default but with the path redacted
/// ([`redact_path`]) and no query, and without recording error messages (a 404's message names
/// the tracking code it did not find).
pub struct RedactedRootSpan;

impl tracing_actix_web::RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|r| r.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %redact_path(request.path()),
            request_id = %id,
            http.status_code = tracing::field::Empty,
        )
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(r) => r.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        span.record("http.status_code", status.as_u16());
    }
}

/// Turn any error response that is not already problem+json into one.
pub fn problem_errors<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(as_problem)
}

fn as_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Web pages render their own HTML error pages; leave those as they are.
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json") || v.starts_with("text/html"));
    if is_problem || !(res.status().is_client_error() || res.status().is_server_error()) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (slug, detail) = match status.as_u16() {
        413 => (
            "body-too-large",
            format!(
                "the request body exceeds the limit of {} bytes",
                crate::MAX_REQUEST_BYTES
            ),
        ),
        404 => ("not-found", "no such endpoint or resource".to_owned()),
        405 => (
            "method-not-allowed",
            "this endpoint does not take that method".to_owned(),
        ),
        400 => (
            "invalid-request",
            "the request could not be read".to_owned(),
        ),
        408 => ("timeout", "the request was not received in time".to_owned()),
        _ => (
            "error",
            status.canonical_reason().unwrap_or("error").to_owned(),
        ),
    };
    let problem = Problem {
        kind: format!("{PROBLEM_BASE}{slug}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        errors: Vec::new(),
        correction: None,
    };
    let (req, old) = res.into_parts();
    let mut new = HttpResponse::build(status);
    if let Some(allow) = old.headers().get(actix_web::http::header::ALLOW) {
        new.insert_header((actix_web::http::header::ALLOW, allow.clone()));
    }
    let new: HttpResponse<BoxBody> = new.content_type("application/problem+json").json(problem);
    let res: ServiceResponse<EitherBody<B>> = ServiceResponse::new(req, new).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(res))
}

/// A response documented as a problem document.
fn problem_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    let content = utoipa::openapi::ContentBuilder::new()
        .schema(Some(utoipa::openapi::Ref::from_schema_name("Problem")))
        .build();
    utoipa::openapi::RefOr::T(
        utoipa::openapi::ResponseBuilder::new()
            .description(description)
            .content("application/problem+json", content)
            .build(),
    )
}

/// Error responses (4xx, 5xx) are RFC 9457 documents: say so in the OpenAPI document, in one
/// place rather than on every handler.
pub fn document_problem_content_type(
    mut api: utoipa::openapi::OpenApi,
) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::RefOr;
    for (path, item) in api.paths.paths.iter_mut() {
        // An expensive read counts against its client's rate (`crate::load::ClientReads`).
        let rated = crate::load::Class::of(path).is_some();
        if let Some(get) = item.get.as_mut().filter(|_| rated) {
            get.responses.responses.entry("429".into()).or_insert_with(|| {
                problem_response(
                    "this client is over its rate of expensive reads: retry after the `Retry-After` header's seconds",
                )
            });
        }
        // A public read answers a matching `If-None-Match` with 304 (`crate::caching`); one that
        // takes a key, or a complaint's tracking code, is never tagged.
        if let Some(get) = item.get.as_mut() {
            let public = get.security.as_ref().is_none_or(|s| s.is_empty())
                && !path.contains("/complaints/{");
            if public {
                get.responses
                    .responses
                    .entry("304".into())
                    .or_insert_with(|| {
                        RefOr::T(
                        utoipa::openapi::ResponseBuilder::new()
                            .description(
                                "not modified: `If-None-Match` named this answer's current `ETag`",
                            )
                            .build(),
                    )
                    });
            }
        }
        // Each operation, and whether its method writes.
        let ops = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
            (&mut item.head, false),
            (&mut item.options, false),
            (&mut item.trace, false),
        ];
        for (op, writes) in ops {
            let Some(op) = op else { continue };
            let responses = &mut op.responses.responses;
            // Any request can be malformed at the URL level (e.g. a NUL character, refused by
            // `refuse_nul`), so every operation documents a 400.
            responses.entry("400".into()).or_insert_with(|| {
                problem_response(
                    "the request is malformed (for example a NUL character in the URL)",
                )
            });
            // The gate (`crate::gate`) refuses a body sent with another media type.
            if op.request_body.is_some() {
                responses.entry("415".into()).or_insert_with(|| {
                    problem_response("the body is not sent with the media type this endpoint takes")
                });
            }
            // Any request may find the service busy (`crate::load`, or no free connection), or
            // its database unreachable.
            responses.entry("503".into()).or_insert_with(|| {
                problem_response(
                    "busy, or the database cannot be reached (`database-unavailable`): retry \
                     after the `Retry-After` header's seconds",
                )
            });
            // A write may find the database's disk full (`storage-full`); nothing was written.
            if writes {
                responses.entry("507".into()).or_insert_with(|| {
                    problem_response(
                        "the database has no room left (its disk is full); nothing was written",
                    )
                });
            }
            for (status, response) in responses.iter_mut() {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                if let RefOr::T(r) = response {
                    if let Some(json) = r.content.shift_remove("application/json") {
                        r.content.insert("application/problem+json".into(), json);
                    }
                }
            }
        }
    }
    api
}

/// The API's path templates and their methods, to answer 405 (with `Allow`) rather than 404 when
/// a known path is asked with another method.
#[derive(Debug, Clone, Default)]
pub struct KnownPaths(Vec<(Vec<String>, Vec<String>)>);

impl KnownPaths {
    /// From the OpenAPI document.
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> Self {
        let v = serde_json::to_value(api).unwrap_or_default();
        let mut out = Vec::new();
        for (path, item) in v["paths"].as_object().into_iter().flatten() {
            let segments = path.split('/').map(str::to_owned).collect();
            let methods = item
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .map(|m| m.to_uppercase())
                .collect();
            out.push((segments, methods));
        }
        Self(out)
    }

    /// Whether `method` is served at this concrete path by any documented route.
    pub fn allows(&self, path: &str, method: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        self.0.iter().any(|(t, methods)| {
            t.len() == parts.len()
                && t.iter()
                    .zip(&parts)
                    .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
                && methods.iter().any(|m| m == method)
        })
    }

    /// The methods a concrete path accepts, if it is a known path.
    pub fn methods(&self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(t, _)| {
                t.len() == parts.len()
                    && t.iter()
                        .zip(&parts)
                        .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
            })
            .map(|(_, m)| m.join(", "))
    }
}

/// Complaints one client address may file per window.
pub const COMPLAINTS_PER_WINDOW: u32 = 10;
/// The rate-limit window.
pub const COMPLAINT_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// Client addresses tracked at once (oldest windows are dropped beyond this).
pub const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Fixed-window counters of public complaint submissions per client address.
#[derive(Debug, Default)]
pub struct ComplaintLimiter(
    std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (std::time::Instant, u32)>>,
);

impl ComplaintLimiter {
    /// Count one submission from `ip`; `Err(seconds to wait)` when over the limit.
    pub fn check(&self, ip: std::net::IpAddr, now: std::time::Instant) -> Result<(), u64> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_TRACKED_CLIENTS {
            map.retain(|_, (start, _)| now.duration_since(*start) < COMPLAINT_WINDOW);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= COMPLAINT_WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= COMPLAINTS_PER_WINDOW {
            let wait = COMPLAINT_WINDOW.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

/// Count one complaint (API or form) from the request's client address; 429 with `Retry-After`
/// when over the budget. Called by the two complaint handlers, so it applies to the route as
/// matched, however its path was spelled.
pub fn limit_complaint(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    let limiter = req.app_data::<actix_web::web::Data<ComplaintLimiter>>();
    let (Some(limiter), Some(addr)) = (limiter, req.peer_addr()) else {
        return Ok(());
    };
    limiter
        .check(addr.ip(), std::time::Instant::now())
        .map_err(|wait| {
            ApiError::new(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
                format!(
                    "at most {COMPLAINTS_PER_WINDOW} complaints per {} seconds from one address; retry in {wait} s",
                    COMPLAINT_WINDOW.as_secs()
                ),
            )
            .with_retry_after(wait)
        })
}

/// Refuse a NUL character anywhere in the URL (path or query) with 400: it cannot be stored or
/// compared as text (PostgreSQL refuses it), so no endpoint can answer it meaningfully.
pub async fn refuse_nul(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let uri = req.uri().to_string();
    if uri.contains('\0') || uri.to_ascii_lowercase().contains("%00") {
        let problem = Problem {
            kind: format!("{PROBLEM_BASE}invalid-request"),
            title: "Invalid request".into(),
            status: 400,
            detail: "the URL must not contain a NUL character (%00)".into(),
            errors: Vec::new(),
            correction: None,
        };
        let res = HttpResponse::BadRequest()
            .content_type("application/problem+json")
            .json(problem);
        return Ok(req.into_response(res));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_hide_tracking_codes_and_key_like_segments() {
        assert_eq!(
            redact_path("/api/v1/complaints/7KQ2-M9XD-4HPT-V1CN-B8RW"),
            "/api/v1/complaints/{code}"
        );
        assert_eq!(
            redact_path("/complaints/7KQ2-M9XD-4HPT-V1CN-B8RW/events"),
            "/complaints/{code}/events"
        );
        assert_eq!(redact_path("/complaints/new"), "/complaints/new");
        assert_eq!(redact_path("/api/v1/complaints"), "/api/v1/complaints");
        let key = format!("gt_{}", "ab".repeat(32));
        assert_eq!(
            redact_path(&format!("/api/v1/keys/{key}")),
            "/api/v1/keys/{redacted}"
        );
        assert_eq!(
            redact_path("/organizations/hubei-red-cross/donations/HBRC-2020-00005/trail"),
            "/organizations/hubei-red-cross/donations/HBRC-2020-00005/trail"
        );
    }

    #[test]
    fn the_complaint_limit_refuses_past_the_window_budget_and_resets_after_it() {
        let l = ComplaintLimiter::default();
        let ip: std::net::IpAddr = [127, 0, 0, 1].into();
        let other: std::net::IpAddr = [127, 0, 0, 2].into();
        let t0 = std::time::Instant::now();
        for _ in 0..COMPLAINTS_PER_WINDOW {
            assert_eq!(l.check(ip, t0), Ok(()));
        }
        assert!(l.check(ip, t0).is_err());
        assert_eq!(l.check(other, t0), Ok(()), "addresses are counted apart");
        assert_eq!(
            l.check(ip, t0 + COMPLAINT_WINDOW),
            Ok(()),
            "a new window starts afresh"
        );
    }
}
