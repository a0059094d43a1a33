//! What the public may see of a person: masked names and salted commitments to private values.

use sha2::{Digest, Sha256};

use crate::canonical::HexDigest;

/// Salted commitment to a private value: `hex(SHA-256(salt ‖ JCS(value)))`, where `salt` is the
/// salt's hex text as bytes. A regulator holding the value and salt can recompute it; the public cannot
/// guess it from the hash because the salt is random.
pub fn commitment(salt_hex: &str, value: &serde_json::Value) -> HexDigest {
    let mut h = Sha256::new();
    h.update(salt_hex.as_bytes());
    h.update(crate::canonical::jcs(value).as_bytes());
    HexDigest(h.finalize().into())
}

/// Mask a person's name for publication: `张三丰` → `张**`, `John Smith` → `J*** S****`.
///
/// A Latin-script name keeps the first letter of each word; a CJK name keeps its first
/// character (the family name in most cases).
pub fn mask_person_name(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    let latin = name.chars().all(|c| c.is_ascii() || c.is_whitespace());
    if latin {
        name.split_whitespace()
            .map(|w| {
                let mut cs = w.chars();
                let first: String = cs.next().into_iter().collect();
                format!("{first}{}", "*".repeat(cs.count()))
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        let mut cs = name.chars().filter(|c| !c.is_whitespace());
        let first: String = cs.next().into_iter().collect();
        format!("{first}{}", "*".repeat(cs.count().max(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_first_letter_and_mask_the_rest() {
        assert_eq!(mask_person_name("张三"), "张*");
        assert_eq!(mask_person_name("张三丰"), "张**");
        assert_eq!(mask_person_name("张"), "张*");
        assert_eq!(mask_person_name("John Smith"), "J*** S****");
    }

    #[test]
    fn commitments_depend_on_salt_and_value() {
        let v = serde_json::json!("+86 138 0000 0000");
        let a = commitment("00ff", &v);
        assert_eq!(a.to_string().len(), 64);
        assert_ne!(a, commitment("00fe", &v));
        assert_ne!(
            a,
            commitment("00ff", &serde_json::json!("+86 138 0000 0001"))
        );
        assert_eq!(a, commitment("00ff", &v));
    }
}
