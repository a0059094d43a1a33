//! An organisation's log as stored and as served: its head, its entries (the stored canonical
//! form with its three hash fields), and the private values behind an entry's commitments.

use diesel::prelude::*;
use serde_json::{json, Value};

use givetrail_domain::canonical::{parse_hash, Hash, GENESIS_HASH};
use givetrail_domain::disclosure::{stored_hash, Ledger, Party, Record};
use givetrail_domain::entry::Seq;

use crate::db::AnyConnection;
use crate::models::EntryRow;
use crate::read::{next_cursor, Page, MAX_PAGE};
use crate::schema::*;
use crate::StoreError;

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

fn entry_value(org: &str, row: EntryRow) -> Result<Value, StoreError> {
    let object: Value = serde_json::from_str(&row.canonical)
        .map_err(|e| StoreError::Corrupt(format!("{org}#{} canonical form: {e}", row.seq)))?;
    Ok(with_hashes(
        object,
        &row.entry_hash,
        &row.prev_entry_hash,
        &row.leaf_hash,
    ))
}

/// Up to `limit` stored entries of an organisation with seq > `after`, in seq order, as stored
/// (the canonical form as text, exactly what was hashed).
pub fn entry_rows(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<EntryRow>, StoreError> {
    Ok(entries::table
        .filter(entries::organization.eq(org))
        .filter(entries::seq.gt(after))
        .order(entries::seq.asc())
        .limit(limit)
        .select(EntryRow::as_select())
        .load(conn)?)
}

/// The public log of an organisation, entries with seq > `after`.
pub fn entries(
    conn: &mut AnyConnection,
    org: &str,
    after: i64,
    limit: i64,
) -> Result<Page<Value>, StoreError> {
    let rows = entry_rows(conn, org, after, limit)?;
    let next = next_cursor(&rows, limit, |r| r.seq.to_string());
    let items = rows
        .into_iter()
        .map(|r| entry_value(org, r))
        .collect::<Result<_, _>>()?;
    Ok(Page { items, next })
}

/// Entries of an organisation at the given seqs, in seq order.
pub fn entries_at(
    conn: &mut AnyConnection,
    org: &str,
    seqs: &[i64],
) -> Result<Vec<Value>, StoreError> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<EntryRow> = entries::table
        .filter(entries::organization.eq(org))
        .filter(entries::seq.eq_any(seqs))
        .order(entries::seq.asc())
        .select(EntryRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|r| entry_value(org, r)).collect()
}

/// One entry.
pub fn entry(conn: &mut AnyConnection, org: &str, seq: i64) -> Result<Option<Value>, StoreError> {
    Ok(entries_at(conn, org, &[seq])?.into_iter().next())
}

/// A page of the public log as a JSON document `{"entries": [...], "meta": {"next": …}}`, built
/// by splicing each stored canonical form with its three hash fields. The result is the same JSON
/// as parsing and re-serialising each entry, without doing so: this is the endpoint auditors
/// download whole logs through. With it, whether the page is full: a full page never changes (the
/// log is append-only), so it may be cached for good.
pub fn page_json(
    conn: &mut AnyConnection,
    org: &str,
    after: Seq,
    limit: i64,
) -> Result<(String, bool), StoreError> {
    let rows = entry_rows(conn, org, after, limit)?;
    let mut out =
        String::with_capacity(rows.iter().map(|r| r.canonical.len() + 220).sum::<usize>() + 64);
    out.push_str("{\"entries\":[");
    for (i, r) in rows.iter().enumerate() {
        let body = r
            .canonical
            .strip_suffix('}')
            .filter(|b| b.starts_with('{') && b.len() > 1)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "{org}#{}: canonical form is not a JSON object",
                    r.seq
                ))
            })?;
        if i > 0 {
            out.push(',');
        }
        out.push_str(body);
        // Hashes are lowercase hex written by this server; they need no escaping.
        out.push_str(&format!(
            ",\"entry_hash\":\"{}\",\"prev_entry_hash\":\"{}\",\"leaf_hash\":\"{}\"}}",
            r.entry_hash, r.prev_entry_hash, r.leaf_hash
        ));
    }
    let full = rows.len() as i64 == limit;
    let next = match rows.last() {
        Some(r) if full => format!("\"{}\"", r.seq),
        _ => "null".to_owned(),
    };
    out.push_str(&format!("],\"meta\":{{\"next\":{next}}}}}"));
    Ok((out, full))
}

/// The private values of an entry (regulators only).
pub fn private_values(
    conn: &mut AnyConnection,
    org: &str,
    seq: i64,
) -> Result<Option<Value>, StoreError> {
    let row: Option<String> = entry_private::table
        .filter(entry_private::organization.eq(org))
        .filter(entry_private::seq.eq(seq))
        .select(entry_private::private)
        .first(conn)
        .optional()?;
    row.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// A page of stored entries typed as records, allocated at its size (collecting `Result`s gives
/// no size hint, and growing a page of 464-byte records copied them, on fresh memory, at every
/// doubling).
fn records_of(org: &str, rows: &[EntryRow]) -> Result<Vec<Record>, StoreError> {
    let mut records = Vec::with_capacity(rows.len());
    for r in rows {
        let corrupt = |e: String| StoreError::Corrupt(format!("{org}: {e}"));
        let hash = stored_hash(r.seq, Some(&r.entry_hash)).map_err(corrupt)?;
        records.push(Record::from_canonical(&r.canonical, hash).map_err(corrupt)?);
    }
    Ok(records)
}

/// Advance `ledger` by the stored entries after its head, a page at a time: a log loaded whole
/// is never held as records beside the ledger it becomes (at 200,000 entries that list was
/// 159 MB on top of the ledger, at the read that first loads it).
pub fn extend_ledger(
    conn: &mut AnyConnection,
    org: &str,
    ledger: &mut Ledger,
) -> Result<(), StoreError> {
    loop {
        let rows = entry_rows(conn, org, ledger.head(), MAX_PAGE)?;
        ledger
            .extend(records_of(org, &rows)?)
            .map_err(StoreError::Corrupt)?;
        if rows.len() as i64 != MAX_PAGE {
            return Ok(());
        }
    }
}

/// `org`'s whole stored log replayed afresh into a ledger for `party`, a page at a time.
pub fn replay_ledger(
    conn: &mut AnyConnection,
    org: &str,
    party: Party,
) -> Result<Ledger, StoreError> {
    let mut ledger = Ledger::new(party, Vec::new()).map_err(StoreError::Corrupt)?;
    extend_ledger(conn, org, &mut ledger)?;
    Ok(ledger)
}

/// The entries of an organisation's public log after `after`, typed, in seq order.
pub fn records_after(
    conn: &mut AnyConnection,
    org: &str,
    after: Seq,
) -> Result<Vec<Record>, StoreError> {
    let mut out = Vec::new();
    let mut after = after;
    loop {
        let rows = entry_rows(conn, org, after, MAX_PAGE)?;
        out.extend(records_of(org, &rows)?);
        match out.last() {
            Some(r) if rows.len() as i64 == MAX_PAGE => after = r.seq,
            _ => return Ok(out),
        }
    }
}
