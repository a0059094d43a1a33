//! Links the service writes: percent-encoded path segments and query strings.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`) is encoded.
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encode a path segment or query value (RFC 3986 unreserved characters stay).
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

/// A query string (`k=v&k2=v2`, without `?`) of `pairs`, each name and value encoded.
pub fn query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode("HBRC-2020-00017"), "HBRC-2020-00017");
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
        assert_eq!(encode("捐"), "%E6%8D%90");
        assert_eq!(encode("a-b_c.d~e+f&g=h"), "a-b_c.d~e%2Bf%26g%3Dh");
    }

    #[test]
    fn queries_join_encoded_pairs() {
        assert_eq!(
            query(&[("after", "7"), ("region", "42 01")]),
            "after=7&region=42%2001"
        );
    }
}
