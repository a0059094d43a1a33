//! Givetrail persistence: one code base for SQLite (embedded default) and PostgreSQL.
//!
//! Layers, each depending only on the ones listed before it:
//!
//! - [`schema`], [`models`] (rows as queries read them), [`db`] (connections, migrations,
//!   pools) and the errors [`StoreError`] and [`WriteError`].
//! - [`registry`]: organisations, recipients, keys and idempotency records (not log entries).
//! - [`read`]: queries behind the public and regulator reads: logs, feeds, disclosure, needs.
//! - [`books`]: the ledger rules' view of one organisation's derived tables.
//! - [`bank`] statements and [`complaints`], both append-only.
//! - [`verify`]: Merkle subtree hashes, signed checkpoints, proofs, and the checks that recompute
//!   hash chains, commitments and derived tables from the log.
//! - [`write`]: the single path every write takes: per-organisation group commit with
//!   idempotency, appending to a log, bulk import, needs, and the log's write lock.
//! - [`reconciliation`]: what the regulator's report reads, in one snapshot.

pub mod bank;
pub mod books;
pub mod complaints;
pub mod db;
mod error;
pub mod models;
pub mod read;
pub mod reconciliation;
pub mod registry;
pub mod schema;
pub mod verify;
pub mod write;

use chrono::{DateTime, Utc};

pub use db::{AnyConnection, Backend};
pub use error::{StoreError, WriteError};

/// A timestamp as stored: microseconds since the Unix epoch.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored timestamp (microseconds since the epoch) back to a time.
pub fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 UTC text with `Z`, as timestamps appear on the wire and in the canonical form.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
