//! The history of the key checkpoints are signed with: the first key, then each rotation, a
//! record signed by the key it retires (and by the key it introduces) over its RFC 8785 form.
//! A checkpoint is checked with the key that was current when it was signed, which the
//! rotations say by the tree sizes each organisation's log had when the key changed.

use std::collections::BTreeMap;

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

use crate::canonical::jcs;
use crate::checkpoint::{public_key_hex, verify_hex, Checkpoint, CheckpointError};

/// A change of signing key, public and append-only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rotation {
    /// The key retired, lowercase hex.
    pub old_public_key: String,
    /// The key that signs from now on, lowercase hex.
    pub new_public_key: String,
    /// When the key changed (RFC 3339 UTC).
    pub rotated_at: String,
    /// Per organisation, the tree size of the last checkpoint the old key signed: checkpoints
    /// up to it are the old key's (and earlier keys'), later ones the new key's.
    pub signed_sizes: BTreeMap<String, i64>,
    /// Ed25519 signature by the old key over the JCS form of the four fields above, hex.
    pub old_signature: String,
    /// The same bytes signed by the new key (it proves the new key's holder made the record).
    pub new_signature: String,
}

/// Why a key history or a checkpoint under it does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// No key at all.
    #[error("the key history is empty")]
    Empty,
    /// The first key carries a rotation, or a later key carries none.
    #[error("key {index} ({public_key}): {reason}")]
    Shape {
        /// Position in the history, from 1.
        index: usize,
        /// The key.
        public_key: String,
        /// What is wrong.
        reason: String,
    },
    /// A rotation whose signature is missing or wrong.
    #[error("the rotation from {old} to {new} at {at}: {reason}")]
    Rotation {
        /// Key retired.
        old: String,
        /// Key introduced.
        new: String,
        /// When.
        at: String,
        /// What is wrong.
        reason: String,
    },
}

/// What a rotation's signatures are over: the record without its signatures.
#[derive(Serialize)]
struct Signed<'a> {
    old_public_key: &'a str,
    new_public_key: &'a str,
    rotated_at: &'a str,
    signed_sizes: &'a BTreeMap<String, i64>,
}

/// The bytes a rotation's signatures are over: JCS of the record without its signatures.
pub fn rotation_bytes(
    old_public_key: &str,
    new_public_key: &str,
    rotated_at: &str,
    signed_sizes: &BTreeMap<String, i64>,
) -> Vec<u8> {
    let record = Signed {
        old_public_key,
        new_public_key,
        rotated_at,
        signed_sizes,
    };
    // A struct of strings and integers always serialises.
    jcs(&serde_json::to_value(record).unwrap_or_default()).into_bytes()
}

impl Rotation {
    /// A rotation from `old` to `new`, signed by both.
    pub fn sign(
        old: &SigningKey,
        new: &SigningKey,
        rotated_at: &str,
        signed_sizes: BTreeMap<String, i64>,
    ) -> Rotation {
        let (o, n) = (public_key_hex(old), public_key_hex(new));
        let bytes = rotation_bytes(&o, &n, rotated_at, &signed_sizes);
        Rotation {
            old_public_key: o,
            new_public_key: n,
            rotated_at: rotated_at.to_owned(),
            signed_sizes,
            old_signature: hex::encode(old.sign(&bytes).to_bytes()),
            new_signature: hex::encode(new.sign(&bytes).to_bytes()),
        }
    }

    fn bytes(&self) -> Vec<u8> {
        rotation_bytes(
            &self.old_public_key,
            &self.new_public_key,
            &self.rotated_at,
            &self.signed_sizes,
        )
    }

    /// Both signatures: the old key's and the new key's.
    pub fn verify(&self) -> Result<(), HistoryError> {
        let bad = |reason: String| HistoryError::Rotation {
            old: self.old_public_key.clone(),
            new: self.new_public_key.clone(),
            at: self.rotated_at.clone(),
            reason,
        };
        let bytes = self.bytes();
        verify_hex(&self.old_public_key, &bytes, &self.old_signature).map_err(|e| {
            bad(format!(
                "not signed by the old key {} ({e}): an unsigned change of key",
                self.old_public_key
            ))
        })?;
        verify_hex(&self.new_public_key, &bytes, &self.new_signature)
            .map_err(|e| bad(format!("not signed by the new key ({e})")))
    }
}

/// One key of the history: the key, when it became current, and the rotation that made it so
/// (`None` for the first key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeyRecord {
    /// Lowercase hex Ed25519 public key.
    pub public_key: String,
    /// When it became current (RFC 3339 UTC).
    pub from: String,
    /// The rotation that introduced it (`null` for the first key).
    pub rotation: Option<Rotation>,
}

/// The checkpoints one key signed for one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedRange {
    /// Organisation slug.
    pub organization: String,
    /// Tree size of the first checkpoint of this log the key signed.
    pub first_tree_size: i64,
    /// Tree size of the last one.
    pub last_tree_size: i64,
}

/// Every key checkpoints were signed with, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyHistory {
    /// Oldest first.
    pub keys: Vec<KeyRecord>,
}

impl KeyHistory {
    /// The key that signs now.
    pub fn current(&self) -> Option<&str> {
        self.keys.last().map(|k| k.public_key.as_str())
    }

    /// Whether a key appears in the history.
    pub fn contains(&self, public_key: &str) -> bool {
        self.keys.iter().any(|k| k.public_key == public_key)
    }

    /// Check the history: the first key has no rotation; each later key was introduced by a
    /// rotation naming the key before it and itself, signed by both, with tree sizes that never
    /// go down.
    pub fn verify(&self) -> Result<(), HistoryError> {
        let first = self.keys.first().ok_or(HistoryError::Empty)?;
        if first.rotation.is_some() {
            return Err(HistoryError::Shape {
                index: 1,
                public_key: first.public_key.clone(),
                reason: "the first key cannot carry a rotation".into(),
            });
        }
        let mut sizes: BTreeMap<String, i64> = BTreeMap::new();
        for (i, pair) in self.keys.windows(2).enumerate() {
            let (prev, k) = (&pair[0], &pair[1]);
            let shape = |reason: String| HistoryError::Shape {
                index: i + 2,
                public_key: k.public_key.clone(),
                reason,
            };
            let Some(r) = &k.rotation else {
                return Err(shape(format!(
                    "replaced {} with no rotation record: an unsigned change of key",
                    prev.public_key
                )));
            };
            if r.old_public_key != prev.public_key {
                return Err(shape(format!(
                    "its rotation retires {}, but the key before it is {}",
                    r.old_public_key, prev.public_key
                )));
            }
            if r.new_public_key != k.public_key {
                return Err(shape(format!(
                    "its rotation introduces {}, not this key",
                    r.new_public_key
                )));
            }
            r.verify()?;
            for (org, before) in &sizes {
                if r.signed_sizes.get(org).is_some_and(|s| s < before)
                    || !r.signed_sizes.contains_key(org)
                {
                    return Err(shape(format!(
                        "its rotation says {org} had fewer checkpointed entries than an earlier rotation did ({before})"
                    )));
                }
            }
            sizes.clone_from(&r.signed_sizes);
        }
        Ok(())
    }

    /// The index of the key that signed `org`'s checkpoint at `tree_size`: the first key whose
    /// successor's rotation says the log had reached that size, or the current key.
    pub fn index_for(&self, org: &str, tree_size: i64) -> Option<usize> {
        for (i, next) in self.keys.iter().enumerate().skip(1) {
            let signed = next
                .rotation
                .as_ref()
                .and_then(|r| r.signed_sizes.get(org))
                .copied()
                .unwrap_or(0);
            if tree_size <= signed {
                return Some(i - 1);
            }
        }
        self.keys.len().checked_sub(1)
    }

    /// The key that signed `org`'s checkpoint at `tree_size`.
    pub fn key_for(&self, org: &str, tree_size: i64) -> Option<&str> {
        self.index_for(org, tree_size)
            .and_then(|i| self.keys.get(i))
            .map(|k| k.public_key.as_str())
    }

    /// Check a checkpoint with the key current when it was signed.
    pub fn verify_checkpoint(&self, c: &Checkpoint) -> Result<(), CheckpointError> {
        let key = self
            .key_for(&c.organization, c.tree_size)
            .ok_or(CheckpointError::Malformed("public key"))?;
        c.verify(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &SigningKey, rotation: Option<Rotation>) -> KeyRecord {
        KeyRecord {
            public_key: public_key_hex(key),
            from: "2020-01-01T00:00:00Z".into(),
            rotation,
        }
    }

    #[test]
    fn a_rotation_signed_by_both_keys_hands_later_checkpoints_to_the_new_key() {
        let (a, b) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
        );
        let sizes = BTreeMap::from([("org-a".to_owned(), 5)]);
        let r = Rotation::sign(&a, &b, "2020-02-01T00:00:00Z", sizes);
        let h = KeyHistory {
            keys: vec![record(&a, None), record(&b, Some(r.clone()))],
        };
        assert_eq!(h.verify(), Ok(()));
        let root = "ab".repeat(32);
        let old = Checkpoint::sign(&a, "org-a", 5, &root, "2020-01-05T00:00:00Z");
        let new = Checkpoint::sign(&b, "org-a", 6, &root, "2020-02-05T00:00:00Z");
        let other = Checkpoint::sign(&b, "org-b", 1, &root, "2020-02-05T00:00:00Z");
        assert_eq!(h.verify_checkpoint(&old), Ok(()));
        assert_eq!(h.verify_checkpoint(&new), Ok(()));
        assert_eq!(h.verify_checkpoint(&other), Ok(()));
        // The old key cannot sign past the sizes it handed over.
        let late = Checkpoint::sign(&a, "org-a", 6, &root, "2020-02-05T00:00:00Z");
        assert!(h.verify_checkpoint(&late).is_err());

        // A rotation signed by some other key than the old one is refused.
        let c = SigningKey::from_bytes(&[3; 32]);
        let mut forged = Rotation::sign(&c, &b, "2020-02-01T00:00:00Z", BTreeMap::new());
        forged.old_public_key = public_key_hex(&a);
        let h2 = KeyHistory {
            keys: vec![record(&a, None), record(&b, Some(forged))],
        };
        assert!(matches!(h2.verify(), Err(HistoryError::Rotation { .. })));
        // No rotation at all.
        let h3 = KeyHistory {
            keys: vec![record(&a, None), record(&b, None)],
        };
        assert!(h3
            .verify()
            .unwrap_err()
            .to_string()
            .contains("unsigned change of key"));
        // A changed size breaks the signature.
        let mut moved = r;
        moved.signed_sizes.insert("org-a".into(), 9);
        assert!(moved.verify().is_err());
    }
}
