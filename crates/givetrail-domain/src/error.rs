//! Errors a client can cause: malformed input (validation) and refusals by a ledger rule.

use serde::Serialize;

/// One problem with one field of a request, named by its JSON path (`asset.amount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// JSON path of the offending field, e.g. `donor.name` or `asset.quantity`.
    pub field: String,
    /// What is wrong with it, in words a person understands.
    pub message: String,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same problem, nested under `parent` (`asset` + `amount` = `asset.amount`).
    pub fn under(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

/// Input that does not describe a valid request (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid request: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationError(pub Vec<FieldError>);

impl ValidationError {
    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self(vec![FieldError::new(field, message)])
    }

    /// Nest every field under `parent`.
    pub fn under(self, parent: &str) -> Self {
        Self(self.0.into_iter().map(|e| e.under(parent)).collect())
    }
}

impl From<FieldError> for ValidationError {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

/// Why a well-formed request is refused by a rule of the ledger (HTTP 422, or 404/409 where named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A referenced thing (entry, recipient, campaign) does not exist or is void.
    #[error("{what} not found")]
    NotFound {
        /// The field that referenced it.
        field: String,
        /// What was looked for.
        what: String,
    },
    /// A uniqueness rule (receipt number, slug) is violated.
    #[error("{message}")]
    Conflict {
        /// The field that repeats an existing value.
        field: String,
        /// Explanation.
        message: String,
    },
    /// A business rule refuses the request (over-allocation, designation breach, …).
    #[error("{message}")]
    Refused {
        /// The field the rule concerns.
        field: String,
        /// Explanation.
        message: String,
    },
    /// The caller may not make this statement (HTTP 403): another party's entry.
    #[error("{message}")]
    Forbidden {
        /// The field naming what the caller may not touch.
        field: String,
        /// Explanation.
        message: String,
    },
}

impl RuleError {
    /// A business-rule refusal concerning `field`.
    pub fn refused(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Refused {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A missing reference in `field`.
    pub fn not_found(field: impl Into<String>, what: impl Into<String>) -> Self {
        Self::NotFound {
            field: field.into(),
            what: what.into(),
        }
    }

    /// The field the error concerns.
    pub fn field(&self) -> &str {
        match self {
            Self::NotFound { field, .. }
            | Self::Conflict { field, .. }
            | Self::Refused { field, .. }
            | Self::Forbidden { field, .. } => field,
        }
    }

    /// The same error with its field nested under `parent` (`replacement` + `asset`).
    pub fn under(mut self, parent: &str) -> Self {
        let field = match &mut self {
            Self::NotFound { field, .. }
            | Self::Conflict { field, .. }
            | Self::Refused { field, .. }
            | Self::Forbidden { field, .. } => field,
        };
        if !field.starts_with(&format!("{parent}.")) && field != parent {
            *field = if field.is_empty() {
                parent.to_owned()
            } else {
                format!("{parent}.{field}")
            };
        }
        self
    }
}
