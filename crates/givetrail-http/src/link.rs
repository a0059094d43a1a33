//! Links the service writes: percent-encoded path segments and query strings, the paths of the
//! public pages other places point at, and the absolute address of this deployment
//! ([`PublicUrl`]) for links that leave it (feeds, QR codes).

use actix_web::http::header;
use actix_web::HttpRequest;
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

/// The path of a donation's trail page (`/trail/{org}/{receipt_number}`), without a language:
/// the reader's browser chooses it.
pub fn trail_page(org: &str, receipt_number: &str) -> String {
    format!("/trail/{}/{}", encode(org), encode(receipt_number))
}

/// The address the public reaches this deployment at (`scheme://host[:port]`), for absolute
/// links: feeds and the QR codes printed on receipts.
///
/// The operator's `--public-url` (`GIVETRAIL_PUBLIC_URL`) when given: a printed code must not
/// depend on how one request happened to arrive. Without it, `http://` and the request's own
/// `Host` header when that is a plain host name or address with an optional port (anything else
/// is ignored), else the address the connection came in on. `X-Forwarded-*` and `Forwarded` are
/// never read: a client could set them. A reverse proxy that terminates TLS should therefore be
/// named in `--public-url`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicUrl(Option<String>);

impl PublicUrl {
    /// The configured origin: `http://` or `https://`, a host (name, IPv4 or bracketed IPv6),
    /// an optional port, nothing after but an optional `/`.
    pub fn parse(s: &str) -> Result<PublicUrl, String> {
        let bad = || {
            format!("{s:?} is not an origin such as https://givetrail.example.org or http://127.0.0.1:8080 (scheme, host, optional port, no path)")
        };
        let s = s.strip_suffix('/').unwrap_or(s);
        let (scheme, authority) = s.split_once("://").ok_or_else(bad)?;
        if !matches!(scheme, "http" | "https") || !is_authority(authority) {
            return Err(bad());
        }
        Ok(PublicUrl(Some(format!(
            "{scheme}://{}",
            authority.to_ascii_lowercase()
        ))))
    }

    /// The origin links to this deployment start with, for `req` (see the type's documentation).
    pub fn origin(&self, req: &HttpRequest) -> String {
        if let Some(o) = &self.0 {
            return o.clone();
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| is_authority(h));
        match host {
            Some(h) => format!("http://{}", h.to_ascii_lowercase()),
            None => format!("http://{}", req.app_config().local_addr()),
        }
    }

    /// Whether an origin was configured (else each request's `Host` decides).
    pub fn is_configured(&self) -> bool {
        self.0.is_some()
    }

    /// The configured origin, if any.
    pub fn configured(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// `host[:port]`: a DNS name or IPv4 address (letters, digits, `-`, `.`), or an IPv6 address in
/// brackets, then optionally `:` and 1 to 5 digits.
fn is_authority(s: &str) -> bool {
    let port_ok = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        let v6_ok = !v6.is_empty()
            && v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        return v6_ok && (after.is_empty() || after.strip_prefix(':').is_some_and(port_ok));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !host.starts_with(['-', '.']);
    host_ok && port.is_none_or(port_ok)
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
    fn public_origins_are_plain_authorities() {
        for good in [
            "127.0.0.1:8080",
            "givetrail.example.org",
            "[::1]:8080",
            "[::1]",
            "a-b.cn:443",
        ] {
            assert!(is_authority(good), "{good}");
        }
        for bad in [
            "",
            "evil.example/x",
            "a@b",
            "host:",
            "host:123456",
            "[::1]x",
            "-a",
            "a b",
            "[]",
            "host:80:80",
        ] {
            assert!(!is_authority(bad), "{bad}");
        }
        assert_eq!(
            PublicUrl::parse("https://Givetrail.Example.org/").map(|p| p.0),
            Ok(Some("https://givetrail.example.org".to_owned()))
        );
        for bad in [
            "ftp://x",
            "https://x/path",
            "x",
            "https://",
            "javascript://x",
        ] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            trail_page("hubei-red-cross", "A/1"),
            "/trail/hubei-red-cross/A%2F1"
        );
    }

    #[test]
    fn queries_join_encoded_pairs() {
        assert_eq!(
            query(&[("after", "7"), ("region", "42 01")]),
            "after=7&region=42%2001"
        );
    }
}
