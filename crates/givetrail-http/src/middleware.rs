//! Cross-cutting HTTP behaviour: request ids and access logs, and problem+json for every error
//! the framework itself produces (413 from the body limit, 404, 405, …).

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Logger};
use actix_web::HttpResponse;

use crate::problem::{Problem, PROBLEM_BASE};

/// Access log: method, path, status, size and latency — never headers, so keys cannot reach logs.
/// Mounted inside [`tracing_actix_web::TracingLogger`], every line carries the request's id.
pub fn access_log() -> Logger {
    Logger::new("%r %s %b %Dms").log_target("givetrail::http")
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
