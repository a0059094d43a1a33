//! Givetrail persistence: one code base for SQLite (embedded default) and PostgreSQL.
//!
//! - [`db`]: connections, migrations, pools.
//! - [`log`]: appending to an organisation's log (rules via `givetrail_domain::ledger`, hash chain).
//! - [`registry`]: organisations, recipients and keys.
//! - [`writer`]: the single path every write takes: per-organisation group commit with idempotency.
//! - [`read`]: queries behind the public and regulator reads.
//! - [`rebuild`]: recomputing derived tables from the log and comparing.
//! - [`verify`]: Merkle subtree hashes, signed checkpoints, inclusion and consistency proofs.
//! - [`reconciliation`]: what the regulator's report reads; [`bank`] statements and
//!   [`complaints`], both append-only.

pub mod bank;
pub mod books;
pub mod complaints;
pub mod db;
pub mod disclosure;
pub mod import;
pub mod log;
pub mod needs;
pub mod read;
pub mod rebuild;
pub mod reconciliation;
pub mod registry;
pub mod schema;
pub mod verify;
pub mod writer;

use chrono::{DateTime, Utc};

pub use db::{AnyConnection, Backend};

/// A failure of the store (not of the request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Could not connect.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    /// Stored data does not parse: a bug or tampering.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The writer is gone (shutting down).
    #[error("the writer is shutting down")]
    Unavailable,
}

impl StoreError {
    /// Whether this is a unique-constraint violation (a concurrent duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// A timestamp as stored: microseconds since the Unix epoch.
pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// RFC 3339 UTC text with `Z`, as timestamps appear on the wire and in the canonical form.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}
