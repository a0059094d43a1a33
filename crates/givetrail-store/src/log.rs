//! Appending to an organisation's log: decide with the ledger rules, build the public entry,
//! chain its hash, and write entry, private values and derived state in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use givetrail_domain::canonical::{
    canonical_entry, entry_hash, jcs, leaf_hash, parse_hash, Hash, GENESIS_HASH,
};
use givetrail_domain::entry::{Author, Command, EntryKind, Fact, Seq};
use givetrail_domain::ids::{RegionCode, Slug};
use givetrail_domain::ledger::{execute, Context, OrgContext, Rejection};

use crate::books::SqlBooks;
use crate::db::AnyConnection;
use crate::schema::*;
use crate::{micros, rfc3339, StoreError};

/// The head of a log: its last seq and entry hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Last seq (0 for an empty log).
    pub seq: Seq,
    /// Last entry hash (zeros for an empty log).
    pub hash: Hash,
}

/// Read the head of an organisation's log.
pub fn head(conn: &mut AnyConnection, org: &str) -> Result<Head, StoreError> {
    let row: Option<(i64, String)> = entries::table
        .filter(entries::organization.eq(org))
        .order(entries::seq.desc())
        .select((entries::seq, entries::entry_hash))
        .first(conn)
        .optional()?;
    match row {
        None => Ok(Head {
            seq: 0,
            hash: GENESIS_HASH,
        }),
        Some((seq, h)) => Ok(Head {
            seq,
            hash: parse_hash(&h)
                .ok_or_else(|| StoreError::Corrupt(format!("entry hash of {org}#{seq}")))?,
        }),
    }
}

/// Load what the rules need of an organisation; `None` if it is not registered.
pub fn org_context(conn: &mut AnyConnection, org: &str) -> Result<Option<OrgContext>, StoreError> {
    let row: Option<(String, String, bool)> = organizations::table
        .filter(organizations::id.eq(org))
        .select((
            organizations::id,
            organizations::region_code,
            organizations::public_fundraising_qualified,
        ))
        .first(conn)
        .optional()?;
    row.map(|(id, region, qualified)| {
        Ok(OrgContext {
            id: Slug::parse(&id).map_err(StoreError::Corrupt)?,
            region_code: RegionCode::parse(&region).map_err(StoreError::Corrupt)?,
            public_fundraising_qualified: qualified,
        })
    })
    .transpose()
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

/// Add the hash fields to a stored entry object for serving.
pub fn with_hashes(
    mut object: Value,
    entry_hash: &str,
    prev_entry_hash: &str,
    leaf_hash: &str,
) -> Value {
    if let Some(o) = object.as_object_mut() {
        o.insert("entry_hash".into(), json!(entry_hash));
        o.insert("prev_entry_hash".into(), json!(prev_entry_hash));
        o.insert("leaf_hash".into(), json!(leaf_hash));
    }
    object
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
    crate::verify::add_leaf(conn, org.id.as_str(), (seq - 1) as u64, leaf)
        .map_err(Rejection::Store)?;
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

/// A page of the public log as a JSON document `{"entries": [...], "meta": {"next": …}}`, built
/// by splicing each stored canonical form with its three hash fields. The result is the same JSON
/// as parsing and re-serialising each entry, without doing so: this is the endpoint auditors
/// download whole logs through.
pub fn page_json(
    conn: &mut AnyConnection,
    org: &str,
    after: Seq,
    limit: i64,
) -> Result<String, StoreError> {
    let rows = crate::read::entry_rows(conn, org, after, limit)?;
    let mut out = String::with_capacity(rows.iter().map(|r| r.1.len() + 220).sum::<usize>() + 64);
    out.push_str("{\"entries\":[");
    for (i, (seq, canonical, hash, prev, leaf)) in rows.iter().enumerate() {
        let body = canonical
            .strip_suffix('}')
            .filter(|b| b.starts_with('{') && b.len() > 1)
            .ok_or_else(|| {
                StoreError::Corrupt(format!("{org}#{seq}: canonical form is not a JSON object"))
            })?;
        if i > 0 {
            out.push(',');
        }
        out.push_str(body);
        // Hashes are lowercase hex written by this server; they need no escaping.
        out.push_str(&format!(
            ",\"entry_hash\":\"{hash}\",\"prev_entry_hash\":\"{prev}\",\"leaf_hash\":\"{leaf}\"}}"
        ));
    }
    let next = match rows.last() {
        Some((seq, ..)) if rows.len() as i64 == limit => format!("\"{seq}\""),
        _ => "null".to_owned(),
    };
    out.push_str(&format!("],\"meta\":{{\"next\":{next}}}}}"));
    Ok(out)
}
