//! Canonical form (RFC 8785, JCS) of public entries and the hashes that chain and commit them.

use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// A SHA-256 digest held as its 32 bytes and written as 64 lowercase hex digits, in JSON too
/// (an entry's hash, a commitment in a public body): what the read model keeps of each entry
/// costs no allocation and half the memory of the text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct HexDigest(pub self::Hash);

impl HexDigest {
    /// The digest these 64 lowercase hex digits write; `None` for anything else (upper case
    /// included: the text would not read back the same).
    pub fn parse(text: &str) -> Option<HexDigest> {
        decode_hash(text, false).map(HexDigest)
    }
}

/// The 32 bytes these 64 hex digits write (`upper`: capitals accepted too), checked and decoded
/// in one pass over a table: a log's first read parses two or three digests per entry, and
/// `hex::decode_to_slice` beside a separate check was 9% of it.
fn decode_hash(text: &str, upper: bool) -> Option<Hash> {
    /// The value of each hex digit (lowercase, then capitals), 0xFF for every other byte.
    const fn digits(upper: bool) -> [u8; 256] {
        let mut t = [0xFF_u8; 256];
        let mut i = 0;
        while i < 16 {
            let value = i as u8;
            if i < 10 {
                t[b'0' as usize + i] = value;
            } else {
                t[b'a' as usize + i - 10] = value;
                if upper {
                    t[b'A' as usize + i - 10] = value;
                }
            }
            i += 1;
        }
        t
    }
    const LOWER: [u8; 256] = digits(false);
    const ANY: [u8; 256] = digits(true);
    let table = if upper { &ANY } else { &LOWER };
    let text: &[u8; 64] = text.as_bytes().try_into().ok()?;
    let mut bytes = [0u8; 32];
    let mut bad = 0;
    for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (table[usize::from(pair[0])], table[usize::from(pair[1])]);
        bad |= high | low;
        *byte = (high << 4) | (low & 0x0F);
    }
    (bad & 0xF0 == 0).then_some(bytes)
}

impl std::fmt::Display for HexDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = [0u8; 64];
        // 64 bytes for 32: encoding cannot fail.
        hex::encode_to_slice(self.0, &mut text).map_err(|_| std::fmt::Error)?;
        f.write_str(std::str::from_utf8(&text).map_err(|_| std::fmt::Error)?)
    }
}

impl std::fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "\"{self}\"")
    }
}

impl serde::Serialize for HexDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for HexDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = HexDigest;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a SHA-256 digest as 64 lowercase hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<HexDigest, E> {
                HexDigest::parse(text)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// The `prev_entry_hash` of the first entry of every log: 32 zero bytes.
pub const GENESIS_HASH: Hash = [0u8; 32];

/// Fields of the public entry object left out of the canonical form.
pub const HASH_FIELDS: [&str; 3] = ["entry_hash", "prev_entry_hash", "leaf_hash"];

/// RFC 8785 serialization of a JSON value.
pub fn jcs(value: &serde_json::Value) -> String {
    let mut out = String::with_capacity(256);
    write_jcs(&mut out, value, &[]);
    out
}

/// Canonical form of a public entry object: JCS without the hash fields.
pub fn canonical_entry(entry: &serde_json::Value) -> String {
    let mut out = String::with_capacity(1024);
    write_jcs(&mut out, entry, &HASH_FIELDS);
    out
}

/// Write the RFC 8785 form of `value`, leaving out the top-level keys in `skip`.
///
/// Written directly rather than through a general serializer because auditors canonicalise every
/// entry of every log: keys are sorted by UTF-16 code units, strings escaped as ECMAScript's
/// `JSON.stringify` does, and numbers printed as ECMAScript does (integers as is; other numbers
/// through `serde_json_canonicalizer`, which implements the full ES6 algorithm).
fn write_jcs(out: &mut String, value: &serde_json::Value, skip: &[&str]) {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) if i.unsigned_abs() <= (1u64 << 53) => out.push_str(&i.to_string()),
            (_, Some(u)) if u <= (1u64 << 53) => out.push_str(&u.to_string()),
            _ => out.push_str(
                &serde_json_canonicalizer::to_string(value).unwrap_or_else(|_| n.to_string()),
            ),
        },
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_jcs(out, v, &[]);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> =
                map.keys().filter(|k| !skip.contains(&k.as_str())).collect();
            // RFC 8785 orders keys by UTF-16 code units; for ASCII keys (the usual case) that is
            // byte order.
            keys.sort_by(|a, b| {
                if a.is_ascii() && b.is_ascii() {
                    a.as_bytes().cmp(b.as_bytes())
                } else {
                    a.encode_utf16().cmp(b.encode_utf16())
                }
            });
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_jcs(out, &map[k.as_str()], &[]);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
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

/// Parse a hex hash (64 digits; capitals are accepted here, unlike [`HexDigest::parse`]).
pub fn parse_hash(s: &str) -> Option<Hash> {
    decode_hash(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_digest_reads_back_only_its_own_text() {
        let text = hex::encode(entry_hash(&GENESIS_HASH, b"{}"));
        let d = HexDigest::parse(&text).expect("64 lowercase hex digits");
        assert_eq!(d.to_string(), text);
        let json = serde_json::to_string(&d).expect("serialise");
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(
            serde_json::from_str::<HexDigest>(&json).expect("read back"),
            d
        );
        let every_digit = "0123456789abcdef".repeat(4);
        let mut expected = [0u8; 32];
        hex::decode_to_slice(&every_digit, &mut expected).expect("hex");
        assert_eq!(HexDigest::parse(&every_digit), Some(HexDigest(expected)));
        let wide = format!("{}é", &text[..62]);
        assert_eq!(wide.len(), 64);
        for bad in [
            text.to_uppercase(),
            text[1..].to_owned(),
            format!("{text}0"),
            "zz".repeat(32),
            format!("{}g", &text[..63]),
            format!("{}:", &text[..63]),
            wide,
        ] {
            assert_eq!(HexDigest::parse(&bad), None, "{bad}");
            assert!(serde_json::from_str::<HexDigest>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn canonical_form_sorts_keys_and_drops_hashes() {
        let v = serde_json::json!({"seq": 2, "body": {"b": "1", "a": "中"}, "entry_hash": "x", "leaf_hash": "y"});
        assert_eq!(
            canonical_entry(&v),
            r#"{"body":{"a":"中","b":"1"},"seq":2}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn jcs_matches_the_reference_canonicalizer(v in json_value()) {
            let reference = serde_json_canonicalizer::to_string(&v).expect("reference");
            proptest::prop_assert_eq!(jcs(&v), reference);
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|i| serde_json::json!(i)),
            any::<u64>().prop_map(|i| serde_json::json!(i)),
            "\\PC*".prop_map(serde_json::Value::String),
            "[\\x00-\\x20\"\\\\a-z\u{7f}-\u{10ffff}]{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map("[a-zA-Z0-9_\u{80}-\u{10ffff}]{0,8}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn entry_hash_chains_on_previous() {
        let a = entry_hash(&GENESIS_HASH, b"{}");
        let b = entry_hash(&a, b"{}");
        assert_ne!(a, b);
        assert_eq!(parse_hash(&hex::encode(a)), Some(a));
    }
}
