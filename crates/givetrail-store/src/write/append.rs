//! Appending to an organisation's log: decide with the ledger rules, build the public entry,
//! chain its hash, grow the Merkle tree, and write entry, private values and derived state in
//! the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use givetrail_domain::canonical::{canonical_entry, entry_hash, jcs, leaf_hash};
use givetrail_domain::entry::{Author, Command, EntryKind, Fact, Seq};
use givetrail_domain::ledger::{execute, Context, OrgContext, Rejection};

use crate::books::SqlBooks;
use crate::db::AnyConnection;
use crate::models::OrgContextRow;
use crate::read::log::{with_hashes, Head};
use crate::schema::*;
use crate::verify::merkle::add_leaf;
use crate::{micros, rfc3339, StoreError};

/// Load what the rules need of an organisation; `None` if it is not registered.
pub fn org_context(conn: &mut AnyConnection, org: &str) -> Result<Option<OrgContext>, StoreError> {
    let row: Option<OrgContextRow> = organizations::table
        .filter(organizations::id.eq(org))
        .select(OrgContextRow::as_select())
        .first(conn)
        .optional()?;
    row.map(OrgContextRow::into_context).transpose()
}

/// The public entry object (without hashes) that the canonical form is computed over.
pub fn entry_object(
    org: &str,
    seq: Seq,
    kind: EntryKind,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    author: &Author,
    fact: &Fact,
) -> Value {
    json!({
        "organization": org,
        "seq": seq,
        "kind": kind.as_str(),
        "occurred_at": rfc3339(occurred_at),
        "recorded_at": rfc3339(recorded_at),
        "author": author,
        "body": fact,
    })
}

/// Why an append did not happen.
pub type AppendError = Rejection<StoreError>;

/// Append one command to `org`'s log at `head.seq + 1`; returns the served entry and the new head.
///
/// Must run inside a transaction (savepoint) that is rolled back on `Err`: the rules may have
/// changed derived state before refusing.
pub fn append(
    conn: &mut AnyConnection,
    org: &OrgContext,
    head: Head,
    author: &Author,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<(Value, Head), AppendError> {
    let seq = head.seq + 1;
    let mut salt = || hex::encode(rand::random::<[u8; 16]>());
    let decision = {
        let mut books = SqlBooks {
            conn: &mut *conn,
            org: org.id.as_str(),
        };
        let mut ctx = Context {
            org,
            author,
            now,
            salt: &mut salt,
            replacing: None,
        };
        execute(&mut books, &mut ctx, seq, command)?
    };
    let kind = command.kind();
    let object = entry_object(
        org.id.as_str(),
        seq,
        kind,
        command.occurred_at(),
        now,
        author,
        &decision.fact,
    );
    let canonical = canonical_entry(&object);
    let hash = entry_hash(&head.hash, canonical.as_bytes());
    let leaf = leaf_hash(canonical.as_bytes());
    let (hash_hex, prev_hex, leaf_hex) =
        (hex::encode(hash), hex::encode(head.hash), hex::encode(leaf));
    diesel::insert_into(entries::table)
        .values((
            entries::organization.eq(org.id.as_str()),
            entries::seq.eq(seq),
            entries::kind.eq(kind.as_str()),
            entries::occurred_at.eq(micros(command.occurred_at())),
            entries::recorded_at.eq(micros(now)),
            entries::canonical.eq(&canonical),
            entries::entry_hash.eq(&hash_hex),
            entries::prev_entry_hash.eq(&prev_hex),
            entries::leaf_hash.eq(&leaf_hex),
        ))
        .execute(conn)
        .map_err(|e| Rejection::Store(e.into()))?;
    add_leaf(conn, org.id.as_str(), (seq - 1) as u64, leaf).map_err(Rejection::Store)?;
    if !decision.private.values.is_empty() {
        let private = serde_json::to_value(&decision.private)
            .map_err(|e| Rejection::Store(StoreError::Corrupt(e.to_string())))?;
        diesel::insert_into(entry_private::table)
            .values((
                entry_private::organization.eq(org.id.as_str()),
                entry_private::seq.eq(seq),
                entry_private::private.eq(jcs(&private)),
            ))
            .execute(conn)
            .map_err(|e| Rejection::Store(e.into()))?;
    }
    Ok((
        with_hashes(object, &hash_hex, &prev_hex, &leaf_hex),
        Head { seq, hash },
    ))
}
