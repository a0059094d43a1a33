//! Integrity: the hash chain, the latest signed checkpoint, derived tables against a replay.

use super::{at, Findings};
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;

/// The integrity findings.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let i = inp.integrity;
    match &i.chain_break {
        Some(b) => {
            let message = format!(
                "The log's hashes do not recompute at seq {}: {}. The published history cannot be trusted from there on.",
                b.seq, b.reason
            );
            f.add(FindingKind::ChainBroken, vec![at(inp, b.seq)], message);
        }
        None if i.verified_before > 0 => {
            let message = format!(
                "All {} entries recompute: canonical form, entry hash, link to the previous entry and Merkle leaf (entries 1 to {} as verified by an earlier report of this server, the {} after them now; a full report recomputes every one).",
                i.entries,
                i.verified_before,
                i.entries - i.verified_before
            );
            f.add(FindingKind::ChainVerified, Vec::new(), message);
        }
        None => {
            let message = format!(
                "All {} entries recompute: canonical form, entry hash, link to the previous entry and Merkle leaf.",
                i.entries
            );
            f.add(FindingKind::ChainVerified, Vec::new(), message);
        }
    }
    match &i.checkpoint {
        None if i.entries > 0 => {
            let message = format!(
                "The log has {} entries but no signed checkpoint: nothing commits the server to this history.",
                i.entries
            );
            f.add(FindingKind::CheckpointMissing, Vec::new(), message);
        }
        None => {
            f.add(
                FindingKind::CheckpointVerified,
                Vec::new(),
                "The log is empty; there is nothing to checkpoint.".into(),
            );
        }
        Some(c) => {
            let mut ok = true;
            if c.recomputed_root.as_deref() != Some(c.root_hash.as_str()) {
                ok = false;
                let got = c
                    .recomputed_root
                    .as_deref()
                    .unwrap_or("nothing (the log is shorter)");
                let message = format!(
                    "The latest signed checkpoint commits to root {} for {} entries, but those entries give {got}: the history differs from what was signed.",
                    c.root_hash, c.tree_size
                );
                f.add(FindingKind::CheckpointRootMismatch, Vec::new(), message);
            }
            match c.signature_valid {
                Some(true) => {}
                Some(false) => {
                    ok = false;
                    let message = format!(
                        "The signature of the latest checkpoint (size {}) does not verify with the server's public key.",
                        c.tree_size
                    );
                    f.add(FindingKind::CheckpointSignatureInvalid, Vec::new(), message);
                }
                None => {
                    ok = false;
                    let message = format!(
                        "The signature of the latest checkpoint (size {}) was not checked: no public key was available.",
                        c.tree_size
                    );
                    f.add(
                        FindingKind::CheckpointSignatureUnchecked,
                        Vec::new(),
                        message,
                    );
                }
            }
            if c.tree_size < i.entries {
                ok = false;
                f.add(
                    FindingKind::CheckpointBehind,
                    Vec::new(),
                    format!(
                        "The latest signed checkpoint covers {} of {} entries.",
                        c.tree_size, i.entries
                    ),
                );
            }
            if ok {
                let message = format!(
                    "The latest signed checkpoint covers all {} entries; its Merkle root matches the log and its signature verifies.",
                    c.tree_size
                );
                f.add(FindingKind::CheckpointVerified, Vec::new(), message);
            }
        }
    }
    let Some(differences) = &i.derived_differences else {
        f.add(
            FindingKind::DerivedUnchecked,
            Vec::new(),
            "The stored balances were not compared with a replay of the log in this report; ask for a full report to compare them.".into(),
        );
        return;
    };
    if differences.is_empty() {
        f.add(
            FindingKind::DerivedConsistent,
            Vec::new(),
            "The derived balances rebuilt from the log equal the stored ones.".into(),
        );
    }
    for d in differences {
        f.add(
            FindingKind::DerivedMismatch,
            Vec::new(),
            format!("The stored derived state differs from a replay of the log: {d}."),
        );
    }
}
