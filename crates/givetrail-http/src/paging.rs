//! Paging of the public lists: the `?after=&limit=` parameters and their checks.

use serde::Deserialize;

use givetrail_store::read::{DEFAULT_PAGE, MAX_PAGE};

use crate::problem::ApiError;

/// Pagination parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    /// Cursor from `meta.next` of the previous page.
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The page size asked for: the default when absent, 400 outside 1 to [`MAX_PAGE`].
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
        Some(_) => Err(ApiError::field("limit", format!("must be 1 to {MAX_PAGE}"))),
    }
}

/// The seq cursor of `?after=`, 0 when absent.
pub fn seq_cursor(after: Option<&str>) -> Result<i64, ApiError> {
    match after {
        None => Ok(0),
        Some(a) => a
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(|| ApiError::field("after", "must be a cursor from meta.next (a seq)")),
    }
}
