//! Each log's RFC 9162 Merkle tree, stored as the hashes of its perfect aligned subtrees (so a
//! proof or a root costs O(log n) reads), grown leaf by leaf as entries are appended.

use std::cell::RefCell;

use diesel::prelude::*;

use givetrail_domain::canonical::{parse_hash, Hash};
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

pub(crate) fn tree_err(e: TreeError<StoreError>) -> StoreError {
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
