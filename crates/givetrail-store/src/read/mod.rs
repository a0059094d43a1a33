//! Queries behind the reads. Everything returned here is public unless the function says so.
//!
//! - [`log`]: an organisation's log: its head, entries as stored and served, private values.
//! - [`feeds`]: donation, allocation and disbursement feeds, and campaigns.
//! - [`registrations`]: organisations and recipients, page by page.
//! - [`disclosure`]: whole logs and registry entries for the disclosure reports.
//! - [`needs`]: the needs board and what a charity's matches consider.
//! - [`regions`]: where it went, by destination: a region's inflows summed from the derived
//!   tables, and its open needs.
//! - [`model`]: the read model: replayed logs kept in memory and advanced by new entries.

pub mod disclosure;
pub mod feeds;
pub mod log;
pub mod model;
pub mod needs;
pub mod regions;
pub mod registrations;

/// Largest page of any list.
pub const MAX_PAGE: i64 = 1_000;
/// Page size when the client gives none.
pub const DEFAULT_PAGE: i64 = 100;

/// A page of items and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// Items.
    pub items: Vec<T>,
    /// Cursor for the next page, if there may be more.
    pub next: Option<String>,
}

/// The cursor of the page after a full one: that of its last item.
pub(crate) fn next_cursor<T>(
    items: &[T],
    limit: i64,
    cursor: impl Fn(&T) -> String,
) -> Option<String> {
    (items.len() as i64 == limit)
        .then(|| items.last().map(cursor))
        .flatten()
}
