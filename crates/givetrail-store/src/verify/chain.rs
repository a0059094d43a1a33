//! Recomputing a log from its stored canonical forms: JCS, hash chain, leaf hashes, and the
//! Merkle root at the latest signed checkpoint.

use givetrail_domain::canonical::{canonical_entry, entry_hash, leaf_hash, Hash, GENESIS_HASH};
use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::merkle;

use crate::db::AnyConnection;
use crate::models::EntryRow;
use crate::read::log::{self, entry_rows};
use crate::read::model::ReadModel;
use crate::verify::checkpoints::latest_checkpoint;
use crate::StoreError;

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

/// What a clean check of a log's first `entries` entries leaves behind, so that a later check
/// recomputes only what was appended since: the last entry hash, the Merkle peaks, and the root
/// at the size of the latest checkpoint seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPrefix {
    /// Entries verified (seqs `1..=entries`).
    pub entries: i64,
    prev: Hash,
    tree: merkle::CompactTree,
    /// The latest checkpoint's size when this prefix was verified, and the root those leaves give.
    checkpoint_root: Option<(i64, String)>,
}

/// Recompute the hash chain, leaf hashes and checkpoint root of `org`'s log in the connection's
/// snapshot: every entry when `full`, else only the entries after the prefix an earlier clean
/// check verified (remembered in `model`; a check that finds a break keeps nothing, so the next
/// one starts over). Returns the check and how many entries were taken as verified.
pub fn check_log_remembered(
    conn: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    full: bool,
) -> Result<(LogCheck, i64), StoreError> {
    let head = log::head(conn, org)?.seq;
    model.with_verified(org, |verified: &mut Option<VerifiedPrefix>| {
        let from = verified.clone().filter(|p| !full && p.entries <= head);
        let before = from.as_ref().map_or(0, |p| p.entries);
        let (check, prefix) = check_log_from(conn, org, from)?;
        match (&*verified, &prefix) {
            // Keep the longest clean prefix (a reader on an older snapshot may finish last).
            (Some(kept), Some(new)) if kept.entries > new.entries => {}
            _ => *verified = prefix,
        }
        Ok((check, before))
    })
}

/// Recompute every entry of `org`'s log from its canonical form — the form's own JCS, the
/// entry hash, the link to the previous entry, the leaf hash — and the Merkle root at the size
/// of the latest signed checkpoint (from the recomputed leaves, not the stored ones). The
/// checkpoint's signature is for the caller to verify with the public key it trusts.
pub fn check_log(conn: &mut AnyConnection, org: &str) -> Result<LogCheck, StoreError> {
    Ok(check_log_from(conn, org, None)?.0)
}

/// [`check_log`], taking as already verified the prefix a previous clean check left (`from`),
/// so that only the entries appended since are recomputed. The prefix is used only if the latest
/// checkpoint is either the one it saw or one beyond it (a checkpoint signed later for an older
/// size sends the check back to the start). Returns the new prefix when the whole log verified.
/// A full re-verification is `from = None`.
pub fn check_log_from(
    conn: &mut AnyConnection,
    org: &str,
    from: Option<VerifiedPrefix>,
) -> Result<(LogCheck, Option<VerifiedPrefix>), StoreError> {
    const PAGE: i64 = 5_000;
    let checkpoint = latest_checkpoint(conn, org)?;
    let target = checkpoint.as_ref().map(|c| c.tree_size);
    let from = from.filter(|p| match target {
        None => true,
        Some(size) => {
            size > p.entries || p.checkpoint_root.as_ref().is_some_and(|(s, _)| *s == size)
        }
    });
    let (mut n, mut prev, mut tree, mut recomputed) = match from {
        Some(p) => {
            let root = p
                .checkpoint_root
                .filter(|(s, _)| Some(*s) == target)
                .map(|(_, root)| root);
            (p.entries, p.prev, p.tree, root)
        }
        None => (0, GENESIS_HASH, merkle::CompactTree::new(), None),
    };
    if target == Some(n) && recomputed.is_none() {
        recomputed = Some(hex::encode(tree.root()));
    }
    let mut first_bad: Option<(i64, String)> = None;
    loop {
        let rows = entry_rows(conn, org, n, PAGE)?;
        let page = rows.len() as i64;
        for EntryRow {
            seq,
            canonical,
            entry_hash: hash,
            prev_entry_hash: prev_hash,
            leaf_hash: leaf,
        } in rows
        {
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
    let entries = tree.size() as i64;
    let prefix = first_bad.is_none().then(|| VerifiedPrefix {
        entries,
        prev,
        tree,
        checkpoint_root: target.zip(recomputed.clone()),
    });
    Ok((
        LogCheck {
            entries,
            first_bad,
            checkpoint: checkpoint.map(|c| (c, recomputed)),
        },
        prefix,
    ))
}
