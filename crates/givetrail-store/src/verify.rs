//! The verifiable side of each log: stored Merkle subtree hashes (so a proof costs O(log n)
//! reads), signed checkpoints, and inclusion and consistency proofs.

use std::cell::RefCell;

use diesel::prelude::*;
use ed25519_dalek::SigningKey;

use givetrail_domain::canonical::{parse_hash, Hash};
use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::merkle::{self, SubtreeHashes, TreeError};

use crate::db::AnyConnection;
use crate::schema::*;
use crate::StoreError;

/// One organisation's stored subtree hashes, read through a connection.
pub struct SqlNodes<'a> {
    conn: RefCell<&'a mut AnyConnection>,
    org: &'a str,
}

impl<'a> SqlNodes<'a> {
    /// Subtree hashes of `org`'s log.
    pub fn new(conn: &'a mut AnyConnection, org: &'a str) -> Self {
        Self {
            conn: RefCell::new(conn),
            org,
        }
    }
}

impl SubtreeHashes for SqlNodes<'_> {
    type Error = StoreError;

    fn node(&self, level: u32, index: u64) -> Result<Hash, StoreError> {
        let level_i = i32::try_from(level)
            .map_err(|_| StoreError::Corrupt(format!("merkle level {level}")))?;
        let index_i = i64::try_from(index)
            .map_err(|_| StoreError::Corrupt(format!("merkle index {index}")))?;
        let mut conn = self.conn.borrow_mut();
        let h: Option<String> = merkle_nodes::table
            .filter(merkle_nodes::organization.eq(self.org))
            .filter(merkle_nodes::level.eq(level_i))
            .filter(merkle_nodes::idx.eq(index_i))
            .select(merkle_nodes::hash)
            .first(&mut **conn)
            .optional()?;
        let h = h.ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{}: merkle node ({level}, {index}) missing",
                self.org
            ))
        })?;
        parse_hash(&h).ok_or_else(|| {
            StoreError::Corrupt(format!("{}: merkle node ({level}, {index})", self.org))
        })
    }
}

fn tree_err(e: TreeError<StoreError>) -> StoreError {
    match e {
        TreeError::Store(s) => s,
        TreeError::Proof(p) => StoreError::Corrupt(format!("merkle: {p}")),
    }
}

/// Record leaf `index` (0-based, = seq − 1) and every subtree it completes.
pub fn add_leaf(
    conn: &mut AnyConnection,
    org: &str,
    index: u64,
    leaf: Hash,
) -> Result<(), StoreError> {
    let nodes = merkle::completed_nodes(&SqlNodes::new(conn, org), index, leaf)?;
    for (level, idx, hash) in nodes {
        diesel::insert_into(merkle_nodes::table)
            .values((
                merkle_nodes::organization.eq(org),
                merkle_nodes::level.eq(level as i32),
                merkle_nodes::idx.eq(idx as i64),
                merkle_nodes::hash.eq(hex::encode(hash)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The RFC 9162 root of the first `size` entries, from stored subtrees.
pub fn root(conn: &mut AnyConnection, org: &str, size: u64) -> Result<Hash, StoreError> {
    merkle::root(&SqlNodes::new(conn, org), size).map_err(tree_err)
}

/// Sign and store a checkpoint of `org`'s log at `size` entries.
pub fn checkpoint(
    conn: &mut AnyConnection,
    org: &str,
    size: i64,
    key: &SigningKey,
    timestamp: &str,
) -> Result<Checkpoint, StoreError> {
    let size_u =
        u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("tree size {size}")))?;
    let root = hex::encode(root(conn, org, size_u)?);
    let c = Checkpoint::sign(key, org, size, &root, timestamp);
    diesel::insert_into(checkpoints::table)
        .values((
            checkpoints::organization.eq(org),
            checkpoints::tree_size.eq(size),
            checkpoints::root_hash.eq(&c.root_hash),
            checkpoints::timestamp.eq(&c.timestamp),
            checkpoints::signature.eq(&c.signature),
        ))
        .execute(conn)?;
    Ok(c)
}

type CheckpointRow = (String, i64, String, String, String);

fn from_row(
    (organization, tree_size, root_hash, timestamp, signature): CheckpointRow,
) -> Checkpoint {
    Checkpoint {
        organization,
        tree_size,
        root_hash,
        timestamp,
        signature,
    }
}

/// The latest checkpoint of a log.
pub fn latest_checkpoint(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    let row: Option<CheckpointRow> = checkpoints::table
        .filter(checkpoints::organization.eq(org))
        .order(checkpoints::tree_size.desc())
        .select((
            checkpoints::organization,
            checkpoints::tree_size,
            checkpoints::root_hash,
            checkpoints::timestamp,
            checkpoints::signature,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(from_row))
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
        .select((
            checkpoints::organization,
            checkpoints::tree_size,
            checkpoints::root_hash,
            checkpoints::timestamp,
            checkpoints::signature,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Why a proof cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofRequestError {
    /// Sizes or index outside the log.
    #[error("{0}")]
    OutOfRange(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn size_now(conn: &mut AnyConnection, org: &str) -> Result<u64, StoreError> {
    Ok(crate::log::head(conn, org)?.seq as u64)
}

/// RFC 9162 inclusion proof of leaf `index` in the tree of `size` entries.
pub fn inclusion(
    conn: &mut AnyConnection,
    org: &str,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofRequestError> {
    let now = size_now(conn, org)?;
    if size > now || index >= size {
        return Err(ProofRequestError::OutOfRange(format!(
            "the log has {now} entries; seq must be in 1..=tree_size and tree_size at most {now}"
        )));
    }
    merkle::inclusion_proof(&SqlNodes::new(conn, org), index, size)
        .map_err(|e| ProofRequestError::Store(tree_err(e)))
}

/// RFC 9162 consistency proof between tree sizes `from` and `to`.
pub fn consistency(
    conn: &mut AnyConnection,
    org: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofRequestError> {
    let now = size_now(conn, org)?;
    if to > now || from > to || from == 0 {
        return Err(ProofRequestError::OutOfRange(format!(
            "the log has {now} entries; need 1 <= from <= to <= {now}"
        )));
    }
    merkle::consistency_proof(&SqlNodes::new(conn, org), from, to)
        .map_err(|e| ProofRequestError::Store(tree_err(e)))
}

/// Recompute the tree from the log's leaf hashes and compare with the stored subtrees; also
/// rebuilds them when `rewrite` is set. Returns differences in words.
pub fn check_tree(
    conn: &mut AnyConnection,
    org: &str,
    rewrite: bool,
) -> Result<Vec<String>, StoreError> {
    let leaves: Vec<(i64, String)> = entries::table
        .filter(entries::organization.eq(org))
        .order(entries::seq.asc())
        .select((entries::seq, entries::leaf_hash))
        .load(conn)?;
    let mut tree = merkle::CompactTree::new();
    let mut leaf_hashes = Vec::with_capacity(leaves.len());
    for (seq, h) in &leaves {
        let h =
            parse_hash(h).ok_or_else(|| StoreError::Corrupt(format!("{org}#{seq} leaf hash")))?;
        tree.push(h);
        leaf_hashes.push(h);
    }
    if rewrite {
        diesel::delete(merkle_nodes::table.filter(merkle_nodes::organization.eq(org)))
            .execute(conn)?;
        for (i, h) in leaf_hashes.iter().enumerate() {
            add_leaf(conn, org, i as u64, *h)?;
        }
        return Ok(Vec::new());
    }
    if leaf_hashes.is_empty() {
        return Ok(Vec::new());
    }
    let stored = root(conn, org, leaf_hashes.len() as u64);
    let want = tree.root();
    Ok(match stored {
        Ok(h) if h == want => Vec::new(),
        Ok(h) => vec![format!(
            "{org}: stored Merkle subtrees give root {}, the log gives {}",
            hex::encode(h),
            hex::encode(want)
        )],
        Err(e) => vec![format!("{org}: stored Merkle subtrees are incomplete: {e}")],
    })
}

/// Regulator check: recompute every stored private value's commitment and compare it with the
/// commitment published in its entry. Returns (values checked, mismatches in words).
pub fn check_commitments(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<(usize, Vec<String>), StoreError> {
    use givetrail_domain::ledger::PrivateValues;
    let rows: Vec<(i64, String, String)> = entry_private::table
        .inner_join(
            entries::table.on(entries::organization
                .eq(entry_private::organization)
                .and(entries::seq.eq(entry_private::seq))),
        )
        .filter(entry_private::organization.eq(org))
        .order(entry_private::seq.asc())
        .select((
            entry_private::seq,
            entry_private::private,
            entries::canonical,
        ))
        .load(conn)?;
    let mut checked = 0;
    let mut problems = Vec::new();
    for (seq, private, canonical) in rows {
        let private: PrivateValues = serde_json::from_str(&private)
            .map_err(|e| StoreError::Corrupt(format!("{org}#{seq} private values: {e}")))?;
        let entry: serde_json::Value = serde_json::from_str(&canonical)
            .map_err(|e| StoreError::Corrupt(format!("{org}#{seq}: {e}")))?;
        // A replacement's private values belong to the replacement body.
        let body = match entry["body"].get("replacement") {
            Some(r) => r,
            None => &entry["body"],
        };
        for (path, v) in &private.values {
            checked += 1;
            // "donor.contact" is committed as body.donor.contact_commitment.
            let mut node = body;
            let mut parts: Vec<&str> = path.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            for p in parts {
                node = &node[p];
            }
            let published = node[format!("{last}_commitment")].as_str();
            let recomputed = givetrail_domain::privacy::commitment(&v.salt, &v.value);
            if published != Some(recomputed.as_str()) {
                problems.push(format!("{org}#{seq}: the private {path} held in the database does not match its published commitment"));
            }
        }
    }
    Ok((checked, problems))
}

/// What recomputing a log from its stored canonical forms shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    /// Entries read.
    pub entries: i64,
    /// The first seq whose canonical form, entry hash, chain link or leaf hash does not
    /// recompute, and why.
    pub first_bad: Option<(i64, String)>,
    /// The latest signed checkpoint, and the root the log's first `tree_size` recomputed leaves
    /// give (`None` when the log is shorter than the checkpoint).
    pub checkpoint: Option<(Checkpoint, Option<String>)>,
}

/// Recompute every entry of `org`'s log from its canonical form — the form's own JCS, the
/// entry hash, the link to the previous entry, the leaf hash — and the Merkle root at the size
/// of the latest signed checkpoint (from the recomputed leaves, not the stored ones). The
/// checkpoint's signature is for the caller to verify with the public key it trusts.
pub fn check_log(conn: &mut AnyConnection, org: &str) -> Result<LogCheck, StoreError> {
    use givetrail_domain::canonical::{canonical_entry, entry_hash, leaf_hash, GENESIS_HASH};
    const PAGE: i64 = 5_000;
    let checkpoint = latest_checkpoint(conn, org)?;
    let target = checkpoint.as_ref().map(|c| c.tree_size);
    let mut tree = merkle::CompactTree::new();
    let mut recomputed = (target == Some(0)).then(|| hex::encode(tree.root()));
    let mut prev: Hash = GENESIS_HASH;
    let mut first_bad: Option<(i64, String)> = None;
    let mut n = 0i64;
    loop {
        let rows = crate::read::entry_rows(conn, org, n, PAGE)?;
        let page = rows.len() as i64;
        for (seq, canonical, hash, prev_hash, leaf) in rows {
            let expected = n + 1;
            n = seq;
            let h = entry_hash(&prev, canonical.as_bytes());
            let l = leaf_hash(canonical.as_bytes());
            if first_bad.is_none() {
                let reformed = serde_json::from_str::<serde_json::Value>(&canonical)
                    .ok()
                    .map(|v| canonical_entry(&v));
                let problem = if seq != expected {
                    Some(format!("seq {expected} is missing"))
                } else if reformed.as_deref() != Some(canonical.as_str()) {
                    Some("the stored canonical form is not RFC 8785 JSON of the entry".to_owned())
                } else if prev_hash != hex::encode(prev) {
                    Some("prev_entry_hash does not equal the previous entry's hash".to_owned())
                } else if hash != hex::encode(h) {
                    Some("entry_hash does not recompute from the canonical form".to_owned())
                } else if leaf != hex::encode(l) {
                    Some("leaf_hash does not recompute from the canonical form".to_owned())
                } else {
                    None
                };
                first_bad = problem.map(|p| (expected.min(seq), p));
            }
            prev = h;
            tree.push(l);
            if Some(tree.size() as i64) == target {
                recomputed = Some(hex::encode(tree.root()));
            }
        }
        if page < PAGE {
            break;
        }
    }
    Ok(LogCheck {
        entries: tree.size() as i64,
        first_bad,
        checkpoint: checkpoint.map(|c| (c, recomputed)),
    })
}
