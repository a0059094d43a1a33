//! Canonical form (RFC 8785, JCS) of public entries and the hashes that chain and commit them.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The `prev_entry_hash` of the first entry of every log: 32 zero bytes.
pub const GENESIS_HASH: Hash = [0u8; 32];

/// Fields of the public entry object left out of the canonical form.
pub const HASH_FIELDS: [&str; 3] = ["entry_hash", "prev_entry_hash", "leaf_hash"];

/// RFC 8785 serialization of a JSON value.
pub fn jcs(value: &serde_json::Value) -> String {
    // Entries hold only strings, booleans, null and integers; JCS of those cannot fail, and a
    // serializer error here would be a bug in this crate, not bad input.
    serde_json_canonicalizer::to_string(value)
        .unwrap_or_else(|e| panic!("JCS of a JSON value failed: {e}"))
}

/// Canonical form of a public entry object: JCS without the hash fields.
pub fn canonical_entry(entry: &serde_json::Value) -> String {
    match entry {
        serde_json::Value::Object(map) => {
            let mut m = map.clone();
            for f in HASH_FIELDS {
                m.remove(f);
            }
            jcs(&serde_json::Value::Object(m))
        }
        other => jcs(other),
    }
}

/// `entry_hash = SHA-256(prev_entry_hash ‖ canonical form)`.
pub fn entry_hash(prev: &Hash, canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(canonical);
    h.finalize().into()
}

/// `leaf_hash = SHA-256(0x00 ‖ canonical form)` (RFC 9162 leaf).
pub fn leaf_hash(canonical: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(canonical);
    h.finalize().into()
}

/// Parse a lowercase-hex hash.
pub fn parse_hash(s: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_sorts_keys_and_drops_hashes() {
        let v = serde_json::json!({"seq": 2, "body": {"b": "1", "a": "中"}, "entry_hash": "x", "leaf_hash": "y"});
        assert_eq!(
            canonical_entry(&v),
            r#"{"body":{"a":"中","b":"1"},"seq":2}"#
        );
    }

    #[test]
    fn entry_hash_chains_on_previous() {
        let a = entry_hash(&GENESIS_HASH, b"{}");
        let b = entry_hash(&a, b"{}");
        assert_ne!(a, b);
        assert_eq!(parse_hash(&hex::encode(a)), Some(a));
    }
}
