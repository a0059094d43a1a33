//! Field checks shared by the rules (and, for [`text`], by other requests of this crate), and
//! [`Rejection`], why a command was not written.

use chrono::{DateTime, Duration, Utc};

use crate::asset::{Asset, AssetKey, AssetWire};
use crate::error::{FieldError, RuleError, ValidationError};

/// How far in the future an `occurred_at` may be (clock skew between client and server).
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// Why a command was not written.
#[derive(Debug, thiserror::Error)]
pub enum Rejection<E> {
    /// Malformed (400).
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// Refused by a rule (404/409/422).
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The store failed.
    #[error("storage failure")]
    Store(E),
}

pub(super) type Res<T, E> = Result<T, Rejection<E>>;

pub(super) fn store<T, E>(r: Result<T, E>) -> Res<T, E> {
    r.map_err(Rejection::Store)
}

/// A text field that may span lines, as [`crate::text::clean`] makes it (NFC, trimmed, length,
/// no control or invisible character). Shared by every request of this crate.
pub(crate) fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    crate::text::clean(field, value, max, required)
}

/// A one-line text field (names, receipt numbers, references): [`crate::text::clean_line`].
pub(crate) fn line(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    crate::text::clean_line(field, value, max, required)
}

pub(super) fn collect<T>(errors: &mut Vec<FieldError>, r: Result<T, FieldError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

pub(super) fn finish(errors: Vec<FieldError>) -> Result<(), ValidationError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ValidationError(errors))
    }
}

/// An asset of a request: [`AssetWire::parse_input`] (its goods text checked and made NFC).
pub(super) fn asset(field: &str, wire: &AssetWire) -> Result<Asset, ValidationError> {
    wire.parse_input().map_err(|e| e.under(field))
}

/// `at` may lie in the future of the server clock `now` by at most [`MAX_CLOCK_SKEW_SECONDS`].
pub(super) fn check_occurred_at(
    now: DateTime<Utc>,
    at: DateTime<Utc>,
    field: &str,
) -> Result<(), ValidationError> {
    if at > now + Duration::seconds(MAX_CLOCK_SKEW_SECONDS) {
        return Err(ValidationError::field(field, "must not be in the future"));
    }
    Ok(())
}

/// A documented departure from a designation, its fields checked (errors collected).
pub(super) fn designation_change(
    errors: &mut Vec<FieldError>,
    change: Option<&crate::entry::DesignationChange>,
) -> Option<crate::entry::DesignationChange> {
    let c = change?;
    let reason = collect(
        errors,
        text(
            "designation_change.reason",
            &c.reason,
            crate::entry::MAX_TEXT,
            true,
        ),
    );
    let consent = collect(
        errors,
        text(
            "designation_change.donor_consent_reference",
            &c.donor_consent_reference,
            crate::entry::MAX_SHORT_TEXT,
            true,
        ),
    );
    reason.zip(consent).map(
        |(reason, donor_consent_reference)| crate::entry::DesignationChange {
            reason,
            donor_consent_reference,
        },
    )
}

/// Nothing may occur before what it draws on: `at` (the request's `occurred_at`) is not earlier
/// than `earlier`, when the `what` it refers to happened.
pub(super) fn not_before(
    at: DateTime<Utc>,
    earlier: DateTime<Utc>,
    what: impl std::fmt::Display,
) -> Result<(), RuleError> {
    if at < earlier {
        return Err(RuleError::refused(
            "occurred_at",
            format!(
                "{} is before {what}, which happened at {}",
                at.to_rfc3339(),
                earlier.to_rfc3339()
            ),
        ));
    }
    Ok(())
}

pub(super) fn same_asset(field: &str, expected: &AssetKey, got: &Asset) -> Result<(), RuleError> {
    if &got.key() != expected {
        return Err(RuleError::refused(
            field,
            format!(
                "asset must be {expected}, the asset of the referenced entry, not {}",
                got.key()
            ),
        ));
    }
    Ok(())
}
