//! RFC 9457 problem details: every error a client can cause, as `application/problem+json`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use givetrail_domain::error::{FieldError, RuleError, ValidationError};
use givetrail_domain::ledger::Rejection;
use givetrail_store::{StoreError, WriteError};

/// Base of the problem `type` URIs (documented in the OpenAPI description).
pub const PROBLEM_BASE: &str = "https://givetrail.org/problems/";

/// Seconds a client is asked to wait (`Retry-After`) when the server is busy (503).
pub const RETRY_AFTER_SECS: u64 = 2;

/// A problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Field-level errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<FieldError>,
    /// For a voided entry (410): the seq of the correction that voided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<i64>,
}

/// An error returned by a handler.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.detail)]
pub struct ApiError(pub Box<Problem>, Vec<(&'static str, String)>);

impl ApiError {
    /// A problem of `slug` with `status`.
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(
            Box::new(Problem {
                kind: format!("{PROBLEM_BASE}{slug}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                errors: Vec::new(),
                correction: None,
            }),
            Vec::new(),
        )
    }

    /// Add an `Allow` header (405).
    pub fn with_allow(mut self, methods: String) -> Self {
        self.1.push(("Allow", methods));
        self
    }

    /// The headers the response carries besides the problem (`Allow`, `Retry-After`).
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.1
    }

    /// Add a `Retry-After` header (429, 503).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.1.push(("Retry-After", seconds.to_string()));
        self
    }

    /// Attach field errors.
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.0.errors = errors;
        self
    }

    /// 400 with field errors.
    pub fn invalid(v: ValidationError) -> Self {
        let detail =
            v.0.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "Invalid request",
            detail,
        )
        .with_errors(v.0)
    }

    /// 400 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(ValidationError::field(field, message))
    }

    /// 401.
    pub fn unauthenticated(detail: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            detail,
        )
    }

    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not allowed for this key",
            detail,
        )
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 410: the thing asked for existed and was voided by the correction at `correction`.
    pub fn gone(detail: impl Into<String>, correction: i64) -> Self {
        let mut e = Self::new(StatusCode::GONE, "voided", "Voided by a correction", detail);
        e.0.correction = Some(correction);
        e
    }

    /// 503 with `Retry-After`: the server is busy (no read connection came free in time, or
    /// the endpoint's class of expensive reads is at its limit; see `crate::load`). Nothing was
    /// changed; the same request may be sent again after `Retry-After` seconds.
    pub fn busy(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Busy, try again shortly",
            detail,
        )
        .with_retry_after(RETRY_AFTER_SECS)
    }

    /// 503 with `Retry-After`: the database cannot be reached (it is restarting, or the
    /// connection was lost). The server stays up and reconnects by itself. A write answered
    /// this way was not acknowledged; if the connection was lost during its commit it may still
    /// have been made, so retry it with the same `Idempotency-Key` (a retry never writes twice).
    pub fn database_down() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database-unavailable",
            "Database unavailable",
            "the database cannot be reached; retry after Retry-After seconds (with the same \
             Idempotency-Key, a write is never made twice)",
        )
        .with_retry_after(RETRY_AFTER_SECS)
    }

    /// 500/503 without leaking internals.
    pub fn internal(e: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the server failed; the write, if any, was not made",
        )
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        r.content_type("application/problem+json");
        if self.0.status == 503 && !self.1.iter().any(|(h, _)| *h == "Retry-After") {
            r.insert_header(("Retry-After", "1"));
        }
        for (name, value) in &self.1 {
            r.insert_header((*name, value.as_str()));
        }
        r.json(&*self.0)
    }
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        let field = FieldError::new(e.field(), e.to_string());
        match e {
            RuleError::NotFound { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reference-not-found",
                "A referenced entry does not exist",
                field.message.clone(),
            ),
            RuleError::Conflict { .. } => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "Conflicts with what is recorded",
                field.message.clone(),
            ),
            RuleError::Refused { .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rule-refused",
                "Refused by a ledger rule",
                field.message.clone(),
            ),
            RuleError::Forbidden { .. } => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                field.message.clone(),
            ),
        }
        .with_errors(vec![field])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Unavailable",
                "the server is shutting down",
            ),
            // The node's address and the driver's words stay in the log.
            e @ StoreError::Down(_) if e.commit_outcome_unknown() => {
                tracing::warn!(error = %e, "a database node failed during a commit");
                let mut down = Self::database_down();
                down.0.detail = "a database node failed while this write was being committed, so \
                                 it may or may not have been recorded: read the log before sending \
                                 it again (a receipt number already recorded is refused with 409)"
                    .into();
                down
            }
            StoreError::Down(_) => Self::database_down(),
            StoreError::Full(_) => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "storage-full",
                "No room to store the write",
                "the database has no room left (its disk is full); nothing was written. \
                 Reads go on; writes succeed again once the operator frees space",
            ),
            StoreError::SigningKey(_) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Unavailable",
                "the checkpoint signing key was rotated while the server ran; nothing was written \
                 and the operator must restart it with the new key",
            ),
            other => Self::internal(&other),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Rejected { index, rejection } => {
                let mut err = match rejection {
                    Rejection::Invalid(v) => Self::invalid(v),
                    Rejection::Rule(r) => Self::from(r),
                    Rejection::Store(s) => return Self::from(s),
                };
                if let Some(i) = index {
                    let p = &mut err.0;
                    p.detail = format!("item {i}: {}", p.detail);
                    for f in &mut p.errors {
                        f.field = if f.field.is_empty() {
                            format!("[{i}]")
                        } else {
                            format!("[{i}].{}", f.field)
                        };
                    }
                }
                err
            }
            WriteError::UnknownOrganization(o) => {
                Self::not_found(format!("organisation {o} is not registered"))
            }
            WriteError::Duplicate(m) => {
                Self::new(StatusCode::CONFLICT, "duplicate", "Already registered", m)
            }
            WriteError::IdempotencyMismatch | WriteError::KeyNotReplayable => Self::new(
                StatusCode::CONFLICT,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                e.to_string(),
            ),
            WriteError::Unauthenticated => Self::unauthenticated("the key is unknown or revoked"),
            WriteError::Overloaded => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Too many writes waiting",
                e.to_string(),
            ),
            WriteError::Store(s) => Self::from(s),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        Self::internal(&e)
    }
}
