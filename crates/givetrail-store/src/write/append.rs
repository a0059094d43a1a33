//! Appending to an organisation's log: decide with the ledger rules, build the public entry,
//! chain its hash and grow the Merkle tree; entry, private values, nodes and derived state are
//! kept in the group's [`Pending`] until it writes them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use givetrail_domain::canonical::{canonical_entry, entry_hash, jcs, leaf_hash};
use givetrail_domain::entry::{Author, Command, EntryKind, Fact, Seq};
use givetrail_domain::ledger::{execute, Context, OrgContext, Rejection};

use crate::db::AnyConnection;
use crate::models::{NewEntry, NewPrivate, OrgContextRow};
use crate::read::log::with_hashes;
use crate::schema::*;
use crate::write::pending::{GroupBooks, Pending};
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

/// Append one command to `org`'s log after its tip in `pending`; returns the served entry. The
/// entry's rows are kept in `pending` (written by its next flush, before the group commits).
///
/// On `Err`, the caller takes back what the rules kept ([`Pending::rollback`]); the rules may
/// have changed the books before refusing a correction.
pub fn append(
    conn: &mut AnyConnection,
    pending: &mut Pending,
    org: &OrgContext,
    author: &Author,
    command: &Command,
    now: DateTime<Utc>,
) -> Result<Value, AppendError> {
    let head = pending
        .tip(conn, org.id.as_str())
        .map_err(Rejection::Store)?
        .head;
    let seq = head.seq + 1;
    let mut salt = || hex::encode(rand::random::<[u8; 16]>());
    let decision = {
        let mut books = GroupBooks {
            conn: &mut *conn,
            org: org.id.as_str(),
            pending: &mut *pending,
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
    let private = if decision.private.values.is_empty() {
        None
    } else {
        let private = serde_json::to_value(&decision.private)
            .map_err(|e| Rejection::Store(StoreError::Corrupt(e.to_string())))?;
        Some(NewPrivate {
            organization: org.id.as_str().to_owned(),
            seq,
            private: jcs(&private),
        })
    };
    let served = with_hashes(object, &hash_hex, &prev_hex, &leaf_hex);
    pending
        .push_entry(
            NewEntry {
                organization: org.id.as_str().to_owned(),
                seq,
                kind: kind.as_str(),
                occurred_at: micros(command.occurred_at()),
                recorded_at: micros(now),
                canonical,
                entry_hash: hash_hex,
                prev_entry_hash: prev_hex,
                leaf_hash: leaf_hex,
            },
            private,
            hash,
            leaf,
        )
        .map_err(Rejection::Store)?;
    Ok(served)
}
