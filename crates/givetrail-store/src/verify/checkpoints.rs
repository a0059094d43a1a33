//! Signed checkpoints of each log: one per committed write batch, signed over the Merkle root at
//! the log's size (append-only).

use diesel::prelude::*;
use ed25519_dalek::SigningKey;

use givetrail_domain::canonical::Hash;
use givetrail_domain::checkpoint::{public_key_hex, Checkpoint};

use crate::db::{insert_rows, AnyConnection};
use crate::models::CheckpointRow;
use crate::schema::*;
use crate::StoreError;

/// Sign and store a checkpoint of `org`'s log at `size` entries whose Merkle root the caller
/// computed (a writer's in-memory tree).
pub fn checkpoint_at(
    conn: &mut AnyConnection,
    org: &str,
    size: i64,
    root: &Hash,
    key: &SigningKey,
    timestamp: &str,
) -> Result<Checkpoint, StoreError> {
    let mut signed = checkpoints_at(conn, &[(org, size, *root)], key, timestamp)?;
    signed
        .pop()
        .ok_or_else(|| StoreError::Corrupt(format!("{org}: no checkpoint signed")))
}

/// Sign and store one checkpoint per `(organisation, size, root)`, with one insert and one check
/// of the key history for all of them (a commit group's logs).
pub fn checkpoints_at(
    conn: &mut AnyConnection,
    logs: &[(&str, i64, Hash)],
    key: &SigningKey,
    timestamp: &str,
) -> Result<Vec<Checkpoint>, StoreError> {
    let signed: Vec<Checkpoint> = logs
        .iter()
        .map(|(org, size, root)| Checkpoint::sign(key, org, *size, &hex::encode(root), timestamp))
        .collect();
    let rows: Vec<CheckpointRow> = signed.iter().cloned().map(CheckpointRow::from).collect();
    insert_rows!(conn, checkpoints::table, &rows)?;
    // A rotation made while this process runs hands later checkpoints to another key: refuse
    // to sign (the write is rolled back) rather than sign past what the old key handed over.
    // Read after the insert: a rotation locks `checkpoints` against inserts while it reads the
    // sizes it hands over, so an insert that got in before it is counted in those sizes, and
    // one that waited for it sees its new key here.
    let current: Option<String> = signing_keys::table
        .order(signing_keys::seq.desc())
        .select(signing_keys::public_key)
        .first(conn)
        .optional()?;
    let ours = public_key_hex(key);
    if let Some(current) = current.filter(|c| *c != ours) {
        return Err(StoreError::SigningKey(format!(
            "this process signs with {ours}, but the key history's current key is {current}: \
             restart it with the new key file"
        )));
    }
    Ok(signed)
}

/// The latest checkpoint of a log.
pub fn latest_checkpoint(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let row: Option<CheckpointRow> = checkpoints::table
        .filter(checkpoints::organization.eq(org))
        .order(checkpoints::tree_size.desc())
        .select(CheckpointRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Checkpoint::from))
}

/// Checkpoints of a log with tree_size > `after`, oldest first.
pub fn checkpoints(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<Checkpoint>, StoreError> {
    let rows: Vec<CheckpointRow> = checkpoints::table
        .filter(checkpoints::organization.eq(org))
        .filter(checkpoints::tree_size.gt(after))
        .order(checkpoints::tree_size.asc())
        .limit(limit)
        .select(CheckpointRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Checkpoint::from).collect())
}
