//! Signed checkpoints: `{organization, tree_size, root_hash, timestamp}` signed with Ed25519 over
//! its RFC 8785 form, so anyone holding the public key can check what the server committed to.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::canonical::jcs;

/// A signed statement of a log's size and Merkle root at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    /// Organisation slug.
    pub organization: String,
    /// Number of entries covered.
    pub tree_size: i64,
    /// RFC 9162 root of the first `tree_size` leaves, lowercase hex.
    pub root_hash: String,
    /// When it was signed (RFC 3339 UTC).
    pub timestamp: String,
    /// Ed25519 signature over the JCS form of the other four fields, lowercase hex.
    pub signature: String,
}

/// Why a checkpoint does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signature or key is not well-formed hex of the right length.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The signature does not match.
    #[error("signature does not verify")]
    BadSignature,
}

/// The bytes that are signed: JCS of the checkpoint without `signature`.
pub fn signed_bytes(
    organization: &str,
    tree_size: i64,
    root_hash: &str,
    timestamp: &str,
) -> Vec<u8> {
    let v = serde_json::json!({
        "organization": organization,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": timestamp,
    });
    jcs(&v).into_bytes()
}

impl Checkpoint {
    /// Sign a new checkpoint.
    pub fn sign(
        key: &SigningKey,
        organization: &str,
        tree_size: i64,
        root_hash: &str,
        timestamp: &str,
    ) -> Checkpoint {
        let sig = key.sign(&signed_bytes(organization, tree_size, root_hash, timestamp));
        Checkpoint {
            organization: organization.to_owned(),
            tree_size,
            root_hash: root_hash.to_owned(),
            timestamp: timestamp.to_owned(),
            signature: hex::encode(sig.to_bytes()),
        }
    }

    /// Check the signature with a public key given as hex.
    pub fn verify(&self, public_key_hex: &str) -> Result<(), CheckpointError> {
        let bytes = signed_bytes(
            &self.organization,
            self.tree_size,
            &self.root_hash,
            &self.timestamp,
        );
        verify_hex(public_key_hex, &bytes, &self.signature)
    }
}

/// Check an Ed25519 signature (hex) over `bytes` with a public key (hex).
pub fn verify_hex(
    public_key_hex: &str,
    bytes: &[u8],
    signature_hex: &str,
) -> Result<(), CheckpointError> {
    let mut pk = [0u8; 32];
    hex::decode_to_slice(public_key_hex, &mut pk)
        .map_err(|_| CheckpointError::Malformed("public key"))?;
    let key =
        VerifyingKey::from_bytes(&pk).map_err(|_| CheckpointError::Malformed("public key"))?;
    let mut sig = [0u8; 64];
    hex::decode_to_slice(signature_hex, &mut sig)
        .map_err(|_| CheckpointError::Malformed("signature"))?;
    key.verify(bytes, &Signature::from_bytes(&sig))
        .map_err(|_| CheckpointError::BadSignature)
}

/// The public key of a signing key, as lowercase hex.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let pk = public_key_hex(&key);
        let c = Checkpoint::sign(
            &key,
            "hubei-red-cross",
            12,
            &"ab".repeat(32),
            "2020-02-01T00:00:00Z",
        );
        assert_eq!(c.verify(&pk), Ok(()));
        let mut bigger = c.clone();
        bigger.tree_size = 13;
        assert_eq!(bigger.verify(&pk), Err(CheckpointError::BadSignature));
        let mut other_root = c.clone();
        other_root.root_hash = "cd".repeat(32);
        assert_eq!(other_root.verify(&pk), Err(CheckpointError::BadSignature));
        let other_key = public_key_hex(&SigningKey::from_bytes(&[8u8; 32]));
        assert_eq!(c.verify(&other_key), Err(CheckpointError::BadSignature));
        assert!(c.verify("zz").is_err());
    }
}
