//! The history of the checkpoint signing key (append-only `signing_keys`), and the start-up
//! check that a key may sign for this database: it must be the current key of the history and
//! every log's latest checkpoint must verify under the history.

use std::collections::BTreeMap;

use diesel::prelude::*;

use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::signing::{KeyHistory, KeyRecord, Rotation, SignedRange};

use crate::db::AnyConnection;
use crate::schema::*;
use crate::verify::checkpoints::latest_checkpoint;
use crate::StoreError;

/// The key history, oldest first (empty before the first start that recorded a key).
pub fn history(conn: &mut AnyConnection) -> Result<KeyHistory, StoreError> {
    let rows: Vec<(i64, String, String, Option<String>)> = signing_keys::table
        .order(signing_keys::seq.asc())
        .select((
            signing_keys::seq,
            signing_keys::public_key,
            signing_keys::valid_from,
            signing_keys::rotation,
        ))
        .load(conn)?;
    let mut keys = Vec::with_capacity(rows.len());
    for (seq, public_key, from, rotation) in rows {
        let rotation = rotation
            .map(|r| serde_json::from_str::<Rotation>(&r))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("signing key {seq}: rotation record: {e}")))?;
        keys.push(KeyRecord {
            public_key,
            from,
            rotation,
        });
    }
    Ok(KeyHistory { keys })
}

/// Every log's latest checkpoint.
pub fn latest_checkpoints(conn: &mut AnyConnection) -> Result<Vec<Checkpoint>, StoreError> {
    let orgs: Vec<String> = checkpoints::table
        .select(checkpoints::organization)
        .distinct()
        .order(checkpoints::organization.asc())
        .load(conn)?;
    let mut out = Vec::with_capacity(orgs.len());
    for org in orgs {
        out.extend(latest_checkpoint(conn, &org)?);
    }
    Ok(out)
}

/// Whether the database has neither a checkpoint nor a key history: the only case where a new
/// key may be made without a rotation.
pub fn is_unsigned(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let keys: i64 = signing_keys::table.count().get_result(conn)?;
    let signed: Option<String> = checkpoints::table
        .select(checkpoints::organization)
        .first(conn)
        .optional()?;
    Ok(keys == 0 && signed.is_none())
}

/// What the start-up check decided about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adoption {
    /// It is the current key of the history.
    Current,
    /// The history was empty: the key is recorded as the first one.
    First,
    /// It may not sign for this database; why.
    Refused(String),
}

/// Decide whether the key `public_key` (hex) may sign for this database. With no history yet it
/// is recorded as the first key, provided every log's latest checkpoint verifies with it.
pub fn adopt(
    conn: &mut AnyConnection,
    public_key: &str,
    now: &str,
) -> Result<Adoption, StoreError> {
    conn.transaction::<_, StoreError, _>(|c| {
        let h = history(c)?;
        let latest = latest_checkpoints(c)?;
        if h.keys.is_empty() {
            if let Some(bad) = latest.iter().find(|cp| cp.verify(public_key).is_err()) {
                return Ok(Adoption::Refused(format!(
                    "(public key {public_key}) does not verify the latest checkpoint of {} (tree size {}, signed {})",
                    bad.organization, bad.tree_size, bad.timestamp
                )));
            }
            insert(c, 1, public_key, now, None)?;
            return Ok(Adoption::First);
        }
        if let Err(e) = h.verify() {
            return Ok(Adoption::Refused(format!(
                "cannot be checked: the stored key history does not verify ({e})"
            )));
        }
        let current = h.current().unwrap_or_default();
        if current != public_key {
            let what = if h.contains(public_key) {
                "is a retired key"
            } else {
                "is not in the key history"
            };
            return Ok(Adoption::Refused(format!(
                "(public key {public_key}) {what}: checkpoints are now signed by {current}, and it does not verify the latest checkpoints"
            )));
        }
        if let Some(bad) = latest.iter().find(|cp| h.verify_checkpoint(cp).is_err()) {
            return Ok(Adoption::Refused(format!(
                "is the current key, but the latest checkpoint of {} (tree size {}) does not verify under the key history",
                bad.organization, bad.tree_size
            )));
        }
        Ok(Adoption::Current)
    })
}

fn insert(
    conn: &mut AnyConnection,
    seq: i64,
    public_key: &str,
    from: &str,
    rotation: Option<String>,
) -> Result<(), StoreError> {
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::seq.eq(seq),
            signing_keys::public_key.eq(public_key),
            signing_keys::valid_from.eq(from),
            signing_keys::rotation.eq(rotation),
        ))
        .execute(conn)?;
    Ok(())
}

/// The tree size of every log's latest checkpoint: what a rotation hands over.
pub fn signed_sizes(conn: &mut AnyConnection) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(latest_checkpoints(conn)?
        .into_iter()
        .map(|c| (c.organization, c.tree_size))
        .collect())
}

/// Append a rotation to the history, provided it retires the current key and hands over the
/// sizes the logs have now (so no checkpoint was signed in between).
pub fn record_rotation(conn: &mut AnyConnection, r: &Rotation) -> Result<(), StoreError> {
    conn.transaction::<_, StoreError, _>(|c| {
        // No checkpoint may be signed between reading the sizes and recording the new key:
        // PostgreSQL blocks inserts into `checkpoints` until this commits (a writer already
        // inserting is waited for, and counted); SQLite takes its one write lock now.
        match c {
            AnyConnection::Postgresql(pg) => {
                diesel::sql_query("LOCK TABLE checkpoints IN SHARE MODE").execute(pg)?;
            }
            AnyConnection::Sqlite(lite) => {
                diesel::sql_query("UPDATE signing_keys SET seq = seq WHERE 0").execute(lite)?;
            }
        }
        let h = history(c)?;
        if h.current() != Some(r.old_public_key.as_str()) {
            return Err(StoreError::SigningKey(format!(
                "the rotation retires {}, but the current key is {}",
                r.old_public_key,
                h.current().unwrap_or("(none)")
            )));
        }
        if signed_sizes(c)? != r.signed_sizes {
            return Err(StoreError::SigningKey(
                "checkpoints were signed while the rotation was prepared; stop the server and rotate again".into(),
            ));
        }
        let json = serde_json::to_string(r)
            .map_err(|e| StoreError::Corrupt(format!("rotation record: {e}")))?;
        let seq = i64::try_from(h.keys.len()).unwrap_or(i64::MAX - 1) + 1;
        insert(c, seq, &r.new_public_key, &r.rotated_at, Some(json))
    })
}

/// Per key of `h` (same order), per organisation, the first and last checkpoint tree size it
/// signed.
pub fn signed_ranges(
    conn: &mut AnyConnection,
    h: &KeyHistory,
) -> Result<Vec<Vec<SignedRange>>, StoreError> {
    let orgs: Vec<String> = checkpoints::table
        .select(checkpoints::organization)
        .distinct()
        .order(checkpoints::organization.asc())
        .load(conn)?;
    let mut out = vec![Vec::new(); h.keys.len()];
    for org in &orgs {
        let mut lo = 0i64;
        for (i, slot) in out.iter_mut().enumerate() {
            let hi = h
                .keys
                .get(i + 1)
                .and_then(|k| k.rotation.as_ref())
                .map(|r| r.signed_sizes.get(org).copied().unwrap_or(0));
            let mut q = checkpoints::table
                .filter(checkpoints::organization.eq(org))
                .filter(checkpoints::tree_size.gt(lo))
                .into_boxed();
            if let Some(hi) = hi {
                q = q.filter(checkpoints::tree_size.le(hi));
            }
            let (first, last): (Option<i64>, Option<i64>) = q
                .select((
                    diesel::dsl::min(checkpoints::tree_size),
                    diesel::dsl::max(checkpoints::tree_size),
                ))
                .first(conn)?;
            if let (Some(first), Some(last)) = (first, last) {
                slot.push(SignedRange {
                    organization: org.clone(),
                    first_tree_size: first,
                    last_tree_size: last,
                });
            }
            if let Some(hi) = hi {
                lo = lo.max(hi);
            }
        }
    }
    Ok(out)
}
