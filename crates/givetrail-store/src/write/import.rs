//! Bulk import of donations: rows are appended one by one with [`append`] (every
//! ledger rule applies, the hash chain and Merkle tree grow as for any write) and written a
//! thousand at a time, inside one transaction per chunk; each commit stores a checkpoint signed
//! over what it committed.

use std::sync::Arc;

use chrono::Utc;
use diesel::connection::Connection;
use ed25519_dalek::SigningKey;
use serde::Serialize;

use givetrail_domain::entry::{Author, Command, Seq};
use givetrail_domain::error::ValidationError;
use givetrail_domain::import::{name_row, FileFormat};
use givetrail_domain::ledger::Rejection;

use crate::db::{AnyConnection, ROWS_PER_INSERT};
use crate::verify::checkpoints::checkpoint_at;
use crate::write::append::append;
use crate::write::lock::{lock_log, lock_sqlite_database};
use crate::write::pending::Pending;
use crate::{StoreError, WriteError};

/// A donations file (CSV or workbook) handed to the writer (shown by its form and length, never
/// its content, in logs).
#[derive(Clone)]
pub struct ImportBody {
    /// CSV or workbook.
    pub format: FileFormat,
    /// The file.
    pub bytes: Arc<[u8]>,
}

impl std::fmt::Debug for ImportBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ImportBody({:?}, {} bytes)",
            self.format,
            self.bytes.len()
        )
    }
}

/// What an import (or the committed part of a failed one) wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// Donations appended.
    pub rows: u64,
    /// Seq of the first appended entry (0 when none).
    pub first_seq: Seq,
    /// Seq of the last appended entry (0 when none).
    pub last_seq: Seq,
    /// Transactions committed (each with its signed checkpoint).
    pub commits: u64,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A row is malformed or refused by a ledger rule; fields are named `row N: column`.
    #[error("{}", describe(.0))]
    Rejected(Rejection<StoreError>),
    /// The organisation is not registered.
    #[error("organisation {0} is not registered")]
    UnknownOrganization(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Store(e.into())
    }
}

fn describe(r: &Rejection<StoreError>) -> String {
    match r {
        Rejection::Invalid(v) => {
            v.0.iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        }
        Rejection::Rule(e) => e.to_string(),
        Rejection::Store(e) => e.to_string(),
    }
}

/// An import that stopped, with what earlier chunks had already committed (nothing without `--chunk`).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct ImportFailure {
    /// Committed before the failure.
    pub committed: Imported,
    /// Why it stopped.
    pub error: ImportError,
}

/// Rows as the domain's readers yield them: row number and request, or the row's problems.
pub use givetrail_domain::import::Row;

/// Append up to `limit` rows (all when `None`) to `org`'s log inside the caller's transaction,
/// through `pending`: rows are decided and written [`ROWS_PER_INSERT`] at a time (their receipt
/// numbers looked up in one query, their rows in multi-row inserts), so memory stays flat however
/// long the file. Returns how many were appended and the seq range; the caller rolls back on
/// `Err`.
pub fn append_rows(
    conn: &mut AnyConnection,
    pending: &mut Pending,
    org: &str,
    author: &Author,
    rows: &mut dyn Iterator<Item = Row>,
    limit: Option<u64>,
    progress: &mut dyn FnMut(u64),
) -> Result<Imported, ImportError> {
    let ctx = pending
        .org_context(conn, org)?
        .ok_or_else(|| ImportError::UnknownOrganization(org.to_owned()))?;
    let mut done = Imported::default();
    // One recorded_at for the chunk, at microsecond precision (what the column holds).
    let now = chrono::DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .unwrap_or_else(Utc::now);
    loop {
        let room = limit.map_or(ROWS_PER_INSERT as u64, |l| {
            (l - done.rows).min(ROWS_PER_INSERT as u64)
        });
        let batch: Vec<Row> = Iterator::take(&mut *rows, room as usize).collect();
        if batch.is_empty() {
            break;
        }
        let receipts: Vec<(&str, &str)> = batch
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|(_, request)| (org, request.receipt_number.as_str()))
            .collect();
        pending.prefetch(conn, &receipts)?;
        let appended = batch.len() as u64;
        for row in batch {
            let (n, request) = row.map_err(|v| ImportError::Rejected(Rejection::Invalid(v)))?;
            append(
                conn,
                pending,
                &ctx,
                author,
                &Command::Donation(request),
                now,
            )
            .map_err(|r| match r {
                Rejection::Store(e) => ImportError::Store(e),
                other => ImportError::Rejected(name_row(n, other)),
            })?;
            let seq = pending.tip(conn, org)?.head.seq;
            if done.rows == 0 {
                done.first_seq = seq;
            }
            done.last_seq = seq;
            done.rows += 1;
        }
        pending.flush(conn)?;
        progress(appended);
    }
    Ok(done)
}

/// Import rows into `org`'s log outside the server (`givetrail import`): one transaction for
/// everything, or one per `chunk` rows; each commit signs a checkpoint with `key`. Safe beside a
/// running server: SQLite takes the write lock first; PostgreSQL the log's advisory lock.
pub fn import(
    conn: &mut AnyConnection,
    org: &str,
    author: &Author,
    rows: &mut dyn Iterator<Item = Row>,
    chunk: Option<u64>,
    key: &SigningKey,
    progress: &mut dyn FnMut(u64),
) -> Result<Imported, ImportFailure> {
    let mut total = Imported::default();
    let mut rows = rows.peekable();
    loop {
        let result = conn.transaction::<_, ImportError, _>(|c| {
            // Take the log's write lock before reading its head: SQLite's database write lock,
            // PostgreSQL's per-log advisory lock (the one the writer takes).
            lock_sqlite_database(c)?;
            lock_log(c, org)?;
            let mut pending = Pending::new();
            let done = append_rows(c, &mut pending, org, author, &mut rows, chunk, progress)?;
            if done.rows > 0 {
                let tip = pending.tip(c, org)?;
                let (size, root) = (tip.head.seq, tip.tree.root());
                checkpoint_at(c, org, size, &root, key, &crate::rfc3339(Utc::now()))?;
            }
            Ok(done)
        });
        match result {
            Ok(done) => {
                if done.rows > 0 {
                    if total.rows == 0 {
                        total.first_seq = done.first_seq;
                    }
                    total.last_seq = done.last_seq;
                    total.rows += done.rows;
                    total.commits += 1;
                }
                if done.rows == 0 || rows.peek().is_none() {
                    return Ok(total);
                }
            }
            Err(error) => {
                return Err(ImportFailure {
                    committed: total,
                    error,
                })
            }
        }
    }
}

/// The writer's part of `POST …/donations/import`: parse and append every row of `file` inside
/// the writer's transaction (the writer signs the checkpoint when it commits). All or nothing.
pub fn append_file(
    conn: &mut AnyConnection,
    pending: &mut Pending,
    org: &str,
    author: &Author,
    file: &ImportBody,
) -> Result<serde_json::Value, WriteError> {
    let rejected = |rejection| WriteError::Rejected {
        index: None,
        rejection,
    };
    let (mut rows, first_row) = givetrail_domain::import::rows(file.format, &file.bytes)
        .map_err(|v| rejected(Rejection::Invalid(v)))?;
    let done = append_rows(conn, pending, org, author, &mut rows, None, &mut |_| {}).map_err(
        |e| match e {
            ImportError::Rejected(r) => rejected(r),
            ImportError::UnknownOrganization(o) => WriteError::UnknownOrganization(o),
            ImportError::Store(s) => WriteError::Store(s),
        },
    )?;
    if done.rows == 0 {
        return Err(rejected(Rejection::Invalid(ValidationError::field(
            format!("row {first_row}"),
            "the file has a header but no donation rows",
        ))));
    }
    Ok(serde_json::json!({
        "organization": org,
        "imported": done.rows,
        "first_seq": done.first_seq,
        "last_seq": done.last_seq,
    }))
}
