//! The outside penetration test's findings at the HTTP edge (SQLite, or PostgreSQL when
//! GIVETRAIL_TEST_POSTGRES is set), each reproduced as it was reported and shown to fail safely
//! now: rate limits on the route as matched, the complaint form's same-origin check and limit,
//! exact media types, the key checked before a body is read, a body read deadline, security
//! headers, no shared anonymous idempotency scope, and regulators who may not revoke their peers.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn complaint() -> Value {
    json!({"organization": ORG, "category": "misallocation", "description": "masks resold at the gate"})
}

/// POST `body` to the raw `path` (kept exactly as written, percent-encodings included).
fn raw_post(s: &Server, path: &str, content_type: Option<&str>, body: &str) -> Reply {
    let client = reqwest::blocking::Client::new();
    let mut req = client
        .post(format!("{}{path}", s.base))
        .body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    Server::reply(req.send().expect("POST"))
}

fn form_post(s: &Server, headers: &[(&str, String)]) -> reqwest::blocking::Response {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut req = client
        .post(format!("{}/complaints/new?lang=en", s.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "organization={ORG}&category=misallocation&description=masks+resold+at+the+gate"
        ));
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    req.send().expect("POST form")
}

fn get_with(s: &Server, path: &str, key: &str) -> Reply {
    let client = reqwest::blocking::Client::new();
    Server::reply(
        client
            .get(s.url(path))
            .bearer_auth(key)
            .send()
            .expect("GET"),
    )
}

fn complaint_count(s: &Server) -> usize {
    let r = get_with(s, "/complaints?limit=1000", &s.regulator);
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["complaints"].as_array().map_or(0, Vec::len)
}

#[test]
fn the_complaint_limit_holds_however_the_path_is_spelled() {
    let w = world();
    let s = &w.s;
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(s.post("/complaints", None, &complaint()).status);
    }
    assert_eq!(statuses, [201; 10]);
    let r = s.post("/complaints", None, &complaint());
    assert_eq!(r.status, 429, "{:?}", r.body);
    // The attack: percent-encode one letter; the router decodes it, the limit used not to.
    for path in [
        "/api/v1/%63omplaints",
        "/api/v1/complaint%73",
        "/api/v1/%63%6Fmplaints",
    ] {
        let r = raw_post(s, path, Some("application/json"), &complaint().to_string());
        assert_eq!(r.status, 429, "{path}: {:?}", r.body);
        assert!(r.headers.contains_key("retry-after"), "{path}");
    }
    assert_eq!(complaint_count(s), 10, "nothing more was filed");
}

#[test]
fn the_complaint_form_is_limited_and_refuses_posts_from_other_sites() {
    let w = world();
    let s = &w.s;
    let own = s.base.clone();
    let host = own.trim_start_matches("http://").to_owned();
    // Posted from another site, or with no sign of where from: refused, nothing filed.
    for headers in [
        vec![("Origin", "https://evil.example".to_owned())],
        vec![("Sec-Fetch-Site", "cross-site".to_owned())],
        vec![("Referer", "https://evil.example/page".to_owned())],
        vec![],
    ] {
        let r = form_post(s, &headers);
        assert_eq!(r.status(), 403, "{headers:?}");
        let text = r.text().unwrap_or_default();
        assert!(text.contains("another site"), "{text}");
    }
    assert_eq!(complaint_count(s), 0);
    // From this site's own page (as a browser sends it): filed, up to the same limit as the API.
    let same = vec![
        ("Origin", own.clone()),
        ("Host", host.clone()),
        ("Sec-Fetch-Site", "same-origin".to_owned()),
    ];
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(form_post(s, &same).status().as_u16());
    }
    assert_eq!(statuses, [303; 10]);
    let limited = form_post(s, &same);
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    // The form and the API share the budget of one address.
    assert_eq!(s.post("/complaints", None, &complaint()).status, 429);
    // Without Sec-Fetch-Site, the Origin alone decides.
    let w2 = world();
    let origin_only = vec![("Origin", w2.s.base.clone())];
    assert_eq!(form_post(&w2.s, &origin_only).status(), 303);
    assert_eq!(complaint_count(s), 10);
}

#[test]
fn bodies_must_be_sent_with_exactly_the_media_type_their_endpoint_takes() {
    let w = world();
    let s = &w.s;
    let body = complaint().to_string();
    // A "simple" cross-site request (text/plain) or none at all: 415, nothing filed.
    for ct in [
        Some("text/plain"),
        None,
        Some("application/jsonx"),
        Some("text/json"),
    ] {
        let r = raw_post(s, "/api/v1/complaints", ct, &body);
        assert_eq!(r.status, 415, "{ct:?}: {:?}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    assert_eq!(
        raw_post(
            s,
            "/api/v1/complaints",
            Some("application/json; charset=utf-8"),
            &body
        )
        .status,
        201
    );
    // A write with a key, too.
    let donation = donation(
        "CT-1",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    let r = Server::reply(
        reqwest::blocking::Client::new()
            .post(s.url(&format!("/organizations/{ORG}/donations")))
            .bearer_auth(&w.charity)
            .header("Content-Type", "text/plain")
            .body(donation.to_string())
            .send()
            .expect("POST"),
    );
    assert_eq!(r.status, 415, "{:?}", r.body);
    // The bank statement upload checked only the prefix.
    let csv =
        "date,amount,currency,direction,reference,counterparty\n2020-02-01,1.00,CNY,credit,R1,x\n";
    for (ct, want) in [("text/csvfoo", 415), ("text/csv; charset=utf-8", 201)] {
        let r = Server::reply(
            reqwest::blocking::Client::new()
                .post(s.url(&format!("/organizations/{ORG}/bank_statements")))
                .bearer_auth(&s.regulator)
                .header("Content-Type", ct)
                .body(csv)
                .send()
                .expect("POST"),
        );
        assert_eq!(r.status, want, "{ct}: {:?}", r.body);
    }
    // A method the route does not take is 405, whatever the body: the gate stays out of it.
    let client = reqwest::blocking::Client::new();
    for (method, path) in [
        (reqwest::Method::PUT, "/api/v1/healthz"),
        (reqwest::Method::POST, "/api/v1/finding_kinds"),
        (reqwest::Method::PUT, "/api/v1/organizations"),
    ] {
        let r = client
            .request(method.clone(), format!("{}{path}", s.base))
            .body("x")
            .send()
            .expect("request");
        assert_eq!(r.status(), 405, "{method} {path}");
    }
    assert_eq!(w.entry_count(), 0);
}

/// Send raw request bytes and read the start of the response within `wait`.
fn exchange(s: &Server, head: &str, body: &[u8], wait: Duration) -> (String, Duration) {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    let started = Instant::now();
    stream.write_all(head.as_bytes()).expect("headers");
    let _ = stream.write_all(body);
    let mut reply = vec![0u8; 4096];
    let n = stream.read(&mut reply).unwrap_or(0);
    (
        String::from_utf8_lossy(&reply[..n]).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_write_without_a_valid_key_is_refused_before_its_body_is_read() {
    let w = world();
    let addr = w.s.base.trim_start_matches("http://").to_owned();
    let path = format!("/api/v1/organizations/{ORG}/donations/batch");
    // The attack: announce a 16 MB body with no key, send only the first kilobyte. The answer
    // comes at once; before, the server waited for all of it.
    for auth in [
        String::new(),
        "Authorization: Bearer gt_0000000000000000000000000000000000000000000000000000000000000000\r\n"
            .to_owned(),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            16 * 1024 * 1024 - 1
        );
        let (reply, took) = exchange(&w.s, &head, &[b' '; 1024], Duration::from_secs(10));
        assert!(reply.starts_with("HTTP/1.1 401"), "{auth:?}: {reply}");
        assert!(reply.contains("application/problem+json"), "{reply}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
    assert_eq!(w.entry_count(), 0);
}

#[test]
fn a_body_sent_too_slowly_is_cut_off_with_408() {
    let w = world();
    let addr = w.s.base.trim_start_matches("http://").to_owned();
    let body = donation(
        "SLOW-1",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    )
    .to_string();
    let head = format!(
        "POST /api/v1/organizations/{ORG}/donations HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        w.charity,
        body.len()
    );
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(1000)))
        .expect("timeout");
    let started = Instant::now();
    stream.write_all(head.as_bytes()).expect("headers");
    // One byte a second: the body would take minutes.
    let mut reply = String::new();
    for b in body.bytes() {
        if stream.write_all(&[b]).is_err() {
            break;
        }
        let mut buf = [0u8; 4096];
        if let Ok(n) = stream.read(&mut buf) {
            if n > 0 {
                reply = String::from_utf8_lossy(&buf[..n]).into_owned();
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(45),
            "no answer after 45 s"
        );
    }
    let took = started.elapsed();
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "{took:?}"
    );
    assert_eq!(w.entry_count(), 0, "nothing was written");
}

#[test]
fn html_pages_carry_security_headers_and_the_api_is_nosniff() {
    let s = Server::demo();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for path in [
        "/",
        "/complaints/new",
        "/needs",
        "/organizations/hubei-red-cross",
        "/trail/hubei-red-cross/HBRC-2020-00005",
        "/no/such/page",
    ] {
        let r = client.get(format!("{}{path}", s.base)).send().expect("GET");
        let h = r.headers();
        let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if get("content-type").starts_with("text/html") {
            let csp = get("content-security-policy");
            assert!(
                csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "{path}: {csp}"
            );
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(get("x-frame-options"), "DENY", "{path}");
            assert_eq!(get("referrer-policy"), "same-origin", "{path}");
        }
        assert_eq!(get("x-content-type-options"), "nosniff", "{path}");
    }
    let api = s.get("/organizations/hubei-red-cross/summary");
    assert_eq!(api.headers["x-content-type-options"], "nosniff");
}

#[test]
fn anonymous_complaints_share_no_idempotency_scope() {
    let w = world();
    let s = &w.s;
    let first = s.post("/complaints", None, &complaint());
    assert_eq!(first.status, 201, "{:?}", first.body);
    // The attack: a second anonymous caller sends Idempotency-Key: 1 with the same text. It used
    // to receive the first complainant's tracking code.
    let r = s.post_with("/complaints", None, &complaint(), Some("1"));
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "Idempotency-Key");
    assert!(r.body.get("code").is_none(), "{:?}", r.body);
    // A caller with a key keeps its own retry scope.
    let (key, _) = key_and_id(s, ORG);
    let a = s.post_with("/complaints", Some(&key), &complaint(), Some("1"));
    let b = s.post_with("/complaints", Some(&key), &complaint(), Some("1"));
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!(a.body["code"], b.body["code"]);
    assert_ne!(a.body["code"], first.body["code"]);
}

fn regulator(s: &Server, jurisdiction: &str) -> (String, String) {
    let key = regulator_of(s, jurisdiction);
    let id = format!("key_{}", &hex(&Sha256::digest(key.as_bytes()))[..16]);
    (key, id)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_regulator_revokes_only_keys_of_strictly_narrower_jurisdictions_or_its_own() {
    let s = Server::start();
    let (hubei_a, hubei_a_id) = regulator(&s, "42");
    let (hubei_b, hubei_b_id) = regulator(&s, "42");
    let (wuhan, wuhan_id) = regulator(&s, "4201");
    let (national, _) = regulator(&s, "");
    // The attack: a peer with the same jurisdiction revokes another. Refused, and it still works.
    let r = s.delete(&format!("/keys/{hubei_b_id}"), Some(&hubei_a));
    assert_eq!(r.status, 403, "{:?}", r.body);
    // Narrower may not revoke broader.
    let r = s.delete(&format!("/keys/{hubei_a_id}"), Some(&wuhan));
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(get_with(&s, "/complaints", &hubei_b).status, 200);
    // Strictly broader may; so may the key itself.
    let r = s.delete(&format!("/keys/{wuhan_id}"), Some(&hubei_a));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(get_with(&s, "/complaints", &wuhan).status, 401);
    let r = s.delete(&format!("/keys/{hubei_b_id}"), Some(&national));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let r = s.delete(&format!("/keys/{hubei_a_id}"), Some(&hubei_a));
    assert_eq!(r.status, 200, "{:?}", r.body);
}

#[test]
fn a_key_revoked_elsewhere_writes_nothing_more_though_the_server_saw_it_live_a_moment_ago() {
    let w = world();
    let (key, key_id) = key_and_id(&w.s, ORG);
    let path = format!("/organizations/{ORG}/donations");
    let gift = |n: u32| {
        donation(
            &format!("REVOKED-{n}"),
            "2020-01-30T10:00:00Z",
            money("1.00"),
            undesignated(),
        )
    };
    // The server has just found the key live (its writes check keys against recent ones
    // before reading a body).
    let r = w.s.post(&path, Some(&key), &gift(1));
    assert_eq!(r.status, 201, "{:?}", r.body);
    let before = w.entry_count();
    // Revoked by another process, straight in the database: this server is not told.
    let (ok, out, err) = w.s.db.cli(&["keys", "revoke", &key_id]);
    assert!(ok, "givetrail keys revoke: {out}{err}");
    // The next write is refused, by the writer, in the transaction that would have committed it.
    for n in 2..5 {
        let r = w.s.post(&path, Some(&key), &gift(n));
        assert_eq!(r.status, 401, "write {n}: {:?}", r.body);
        assert_eq!(
            r.body["type"]
                .as_str()
                .map(|t| t.ends_with("/unauthenticated")),
            Some(true),
            "{:?}",
            r.body
        );
    }
    // A batch too, and nothing was written.
    let r = w.s.post(
        &format!("{path}/batch"),
        Some(&key),
        &json!({"donations": [gift(9)]}),
    );
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert_eq!(w.entry_count(), before);
    // Another key of the same organisation still writes.
    let r = w.s.post(&path, Some(&w.charity), &gift(10));
    assert_eq!(r.status, 201, "{:?}", r.body);
}
