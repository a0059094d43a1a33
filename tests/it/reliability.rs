//! Reliability and security under crashes, retries and hostile input, against the real server
//! (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set).

use crate::common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use common::*;
use serde_json::{json, Value};

#[test]
fn authorisation_matrix_gives_the_exact_status_for_every_write_and_caller() {
    let w = world();
    let s = &w.s;
    // A Beijing regulator: outside Hubei.
    let beijing = regulator_of(s, "11");
    let (revoked, revoked_id) = key_and_id(s, ORG);
    let r = s.delete(&format!("/keys/{revoked_id}"), Some(&revoked));
    assert_eq!(r.status, 200, "a key may revoke itself: {:?}", r.body);
    let (victim, victim_id) = key_and_id(s, ORG);
    let callers: [(&str, Option<&str>); 6] = [
        ("no key", None),
        (
            "wrong key",
            Some("gt_0000000000000000000000000000000000000000000000000000000000000000"),
        ),
        ("revoked key", Some(&revoked)),
        ("another organisation's charity key", Some(&w.other_charity)),
        ("another recipient's key", Some(&w.jinyintan)),
        ("a regulator outside the jurisdiction", Some(&beijing)),
    ];
    let complaint = s.post(
        "/complaints",
        None,
        &json!({"organization": ORG, "category": "other", "description": "matrix"}),
    );
    assert_eq!(complaint.status, 201, "{:?}", complaint.body);
    let code = complaint.body["code"].as_str().expect("code").to_owned();
    let ack = json!({"disbursement": {"organization": ORG, "seq": 1}, "asset": money("1.00"), "received_at": "2020-02-01T00:00:00Z", "occurred_at": "2020-02-01T00:00:00Z"});
    let endpoints: Vec<(&str, String, Value, [u16; 6])> = vec![
        (
            "POST",
            "/organizations".into(),
            json!({"id": "x", "name": "x", "credit_code": credit_code(9), "kind": "other", "region_code": "420000"}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients".into(),
            json!({"id": "new-hospital", "name": "x", "kind": "hospital", "region_code": "420100"}),
            [401, 401, 401, 201, 403, 403],
        ),
        // Linking a `charity` recipient to an organisation: only that organisation itself or a
        // regulator covering the recipient's region (another charity: 403 naming `organization`).
        (
            "POST",
            "/recipients".into(),
            json!({"id": "linked-charity", "name": "x", "kind": "charity", "region_code": "420100", "organization": ORG}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients/wuhan-union-hospital/confirmations".into(),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/keys"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients/wuhan-union-hospital/keys".into(),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/campaigns"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/donations"),
            donation("M-1", "2020-01-30T10:00:00Z", money("1.00"), undesignated()),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/donations/batch"),
            json!({"donations": []}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/allocations"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/disbursements"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/expenses"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/corrections"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients/wuhan-union-hospital/acknowledgements".into(),
            ack.clone(),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients/wuhan-union-hospital/usage_reports".into(),
            ack,
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "DELETE",
            format!("/keys/{victim_id}"),
            Value::Null,
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            "/recipients/wuhan-union-hospital/needs".into(),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/complaints/{code}/events"),
            json!({"status": "investigating", "note": "x"}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/bank_statements"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
        (
            "POST",
            format!("/organizations/{ORG}/donations/import"),
            json!({}),
            [401, 401, 401, 403, 403, 403],
        ),
    ];
    let before = s.log(ORG).len();
    let mut cells = 0;
    for (method, path, body, expected) in &endpoints {
        for ((who, key), want) in callers.iter().zip(expected) {
            let r = if *method == "DELETE" {
                s.delete(path, *key)
            } else {
                s.post(path, *key, body)
            };
            assert_eq!(r.status, *want, "{method} {path} with {who}: {:?}", r.body);
            if r.status >= 400 {
                assert_eq!(
                    r.headers["content-type"], "application/problem+json",
                    "{method} {path} with {who}"
                );
            }
            cells += 1;
        }
    }
    assert_eq!(cells, 120);
    assert_eq!(s.log(ORG).len(), before, "no refused caller wrote anything");
    // The recipient-linking cells: the organisation itself and a regulator may link.
    let r = s.post(
        "/recipients",
        Some(&w.charity),
        &json!({"id": "linked-charity", "name": "x", "kind": "charity", "region_code": "420100", "organization": ORG}),
    );
    assert_eq!(
        r.status, 201,
        "a charity may link a recipient to itself: {:?}",
        r.body
    );
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "linked-by-regulator", "name": "x", "kind": "charity", "region_code": "420100", "organization": OTHER_ORG}),
    );
    assert_eq!(
        r.status, 201,
        "a regulator may link a recipient to any organisation: {:?}",
        r.body
    );
    // The victim key still works: nobody but its owners could revoke it.
    let r = s.post(
        &format!("/organizations/{ORG}/donations"),
        Some(&victim),
        &donation("M-2", "2020-01-30T10:00:00Z", money("1.00"), undesignated()),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
}

#[test]
fn every_acknowledged_write_survives_sigkill_exactly_once() {
    const KILLS: usize = 20;
    let w = world();
    let charity = w.charity.clone();
    let mut db = w.s.stop();
    let acknowledged: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut seed = 0x9e3779b97f4a7c15u64;
    for round in 0..KILLS {
        let s = Server::start_with(db, &["serve"]);
        let stop = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (s, stop, acknowledged, charity) = (&s, &stop, &acknowledged, &charity);
                scope.spawn(move || {
                    let http = reqwest::blocking::Client::new();
                    for i in 0.. {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let receipt = format!("K{round}-{t}-{i}");
                        let body = donation(
                            &receipt,
                            "2020-01-30T10:00:00Z",
                            money("1.00"),
                            undesignated(),
                        );
                        let r = http
                            .post(s.url(&format!("/organizations/{ORG}/donations")))
                            .bearer_auth(charity)
                            .json(&body)
                            .send();
                        match r {
                            Ok(r) if r.status().as_u16() == 201 => {
                                acknowledged.lock().expect("lock").push(receipt)
                            }
                            Ok(r) => panic!("unexpected status {}", r.status()),
                            Err(_) => return, // the server died mid-request: this write was not acknowledged
                        }
                    }
                });
            }
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            // On Citus every write also crosses to a worker (and the first ones open those
            // connections): the same number of writes before each kill takes longer.
            let scale = if s.db.is_citus() { 8 } else { 1 };
            std::thread::sleep(std::time::Duration::from_millis((50 + seed % 250) * scale));
            s.kill_now();
            stop.store(true, Ordering::Relaxed);
        });
        db = s.stop();
    }
    let s = Server::start_with(db, &["serve"]);
    let stored = receipts(&s, ORG);
    let acknowledged = acknowledged.into_inner().expect("lock");
    assert!(
        acknowledged.len() > 100,
        "enough writes were driven: {}",
        acknowledged.len()
    );
    for r in &acknowledged {
        assert_eq!(
            stored.get(r),
            Some(&1),
            "acknowledged receipt {r} is present exactly once"
        );
    }
    assert!(stored.values().all(|n| *n == 1), "no duplicates at all");
    let (ok, out) = s.audit(&[]);
    assert!(
        ok,
        "chain, Merkle roots and checkpoints verify after {KILLS} kills: {out}"
    );
    let (ok, out, err) = s.db.cli(&["rebuild", "--check"]);
    assert!(
        ok,
        "derived balances equal a rebuild from the log: {out}{err}"
    );
    eprintln!(
        "survived {KILLS} SIGKILLs; {} acknowledged writes checked, {} stored",
        acknowledged.len(),
        stored.len()
    );
}

#[test]
fn retries_and_reused_idempotency_keys_write_exactly_once_and_survive_a_restart() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations");
    let written: Mutex<BTreeMap<String, Value>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for c in 0..8 {
            let (w, path, written) = (&w, &path, &written);
            scope.spawn(move || {
                let lossy = reqwest::blocking::Client::builder()
                    .timeout(std::time::Duration::from_millis(1))
                    .build()
                    .expect("client");
                for i in 0..20 {
                    let key = format!("c{c}-{i}");
                    let body = donation(
                        &format!("R-{c}-{i}"),
                        "2020-01-30T10:00:00Z",
                        money("1.00"),
                        undesignated(),
                    );
                    if i % 5 == 0 {
                        // The first response is lost (client gives up), then the client retries.
                        let _ = lossy
                            .post(w.s.url(path))
                            .bearer_auth(&w.charity)
                            .header("Idempotency-Key", &key)
                            .json(&body)
                            .send();
                    }
                    let first = w.s.post_with(path, Some(&w.charity), &body, Some(&key));
                    assert_eq!(first.status, 201, "{:?}", first.body);
                    if i % 3 == 0 {
                        let again = w.s.post_with(path, Some(&w.charity), &body, Some(&key));
                        assert_eq!(
                            (again.status, &again.body),
                            (201, &first.body),
                            "a retry returns the first response"
                        );
                        assert_eq!(again.headers["idempotent-replayed"], "true");
                    }
                    if i % 7 == 0 {
                        let other = donation(
                            &format!("OTHER-{c}-{i}"),
                            "2020-01-30T10:00:00Z",
                            money("2.00"),
                            undesignated(),
                        );
                        let conflict = w.s.post_with(path, Some(&w.charity), &other, Some(&key));
                        assert_eq!(
                            conflict.status, 409,
                            "the same key with another body is refused: {:?}",
                            conflict.body
                        );
                    }
                    written.lock().expect("lock").insert(key, first.body);
                }
            });
        }
    });
    let written = written.into_inner().expect("lock");
    let stored = receipts(&w.s, ORG);
    assert_eq!(stored.len(), 160, "8 clients × 20 distinct donations");
    assert!(stored.values().all(|n| *n == 1), "no duplicates");
    assert!(
        !stored.keys().any(|r| r.starts_with("OTHER-")),
        "no conflicting body was written"
    );
    let charity = w.charity.clone();
    let db = w.s.stop();
    let s = Server::start_with(db, &["serve"]);
    let body = donation(
        "R-3-4",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    let again = s.post_with(&path, Some(&charity), &body, Some("c3-4"));
    assert_eq!(again.status, 201);
    assert_eq!(
        again.headers["idempotent-replayed"], "true",
        "idempotency records survive a restart"
    );
    assert_eq!(&again.body, &written["c3-4"]);
}

#[test]
fn hostile_bodies_get_a_clear_4xx_and_write_nothing() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (deep.into_bytes(), 400),
        (b"{\"receipt_number\": 5}".to_vec(), 400),
        (br#"{"receipt_number":"X","occurred_at":"2020-01-30T10:00:00Z","donor":{"name":"a","kind":"individual"},"channel":"cash","restriction":{"kind":"none"},"asset":{"kind":"money","amount":"1e400","currency":"CNY"}}"#.to_vec(), 400),
        (br#"{"receipt_number":"X","occurred_at":"2020-01-30T10:00:00Z","donor":{"name":"a","kind":"individual"},"channel":"cash","restriction":{"kind":"none"},"asset":{"kind":"money","amount":"99999999999999999999.99","currency":"CNY"}}"#.to_vec(), 400),
        (br#"{"receipt_number":"X","occurred_at":"2020-01-30T10:00:00Z","donor":{"name":"a","kind":"robot"},"channel":"cash","restriction":{"kind":"none"},"asset":{"kind":"money","amount":"1","currency":"CNY"}}"#.to_vec(), 400),
        (vec![b'"', 0xc3, 0x28, b'"'], 400),
        (Vec::new(), 400),
    ];
    for (body, want) in cases {
        let r = w.s.post_raw(&path, Some(&w.charity), body);
        assert_eq!(r.status, want, "{:?}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
        assert!(
            r.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{:?}",
            r.body
        );
    }
    // A 1 GB body is refused from its Content-Length without reading it.
    let addr = w.s.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let head = format!("POST /api/v1{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n", w.charity);
    stream.write_all(head.as_bytes()).expect("headers");
    let _ = stream.write_all(&vec![b' '; 1 << 20]);
    let mut reply = vec![0u8; 4096];
    let n = stream
        .read(&mut reply)
        .expect("a response before the body is read");
    let reply = String::from_utf8_lossy(&reply[..n]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(reply.contains("application/problem+json"), "{reply}");
    assert_eq!(w.entry_count(), 0, "nothing was written");
    let unknown = w.s.get("/no/such/thing");
    assert_eq!(
        (
            unknown.status,
            unknown.headers["content-type"].to_str().ok()
        ),
        (404, Some("application/problem+json"))
    );
}

#[test]
fn a_backup_taken_under_load_restores_and_audits_clean() {
    let w = world();
    if w.s.db.is_postgres() {
        // PostgreSQL is backed up with its own tools; the command says so and fails.
        let (ok, _, err) =
            w.s.db
                .cli(&["backup", "--to", "/tmp/unused-givetrail-backup.db"]);
        assert!(!ok && err.contains("pg_basebackup"), "{err}");
        return;
    }
    let backup = w.s.db.dir.join("backup.db");
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (w, done) = (&w, &done);
        scope.spawn(move || {
            for i in 0.. {
                if done.load(Ordering::Relaxed) {
                    return;
                }
                let r = w.s.post(
                    &format!("/organizations/{ORG}/donations"),
                    Some(&w.charity),
                    &donation(
                        &format!("L-{i}"),
                        "2020-01-30T10:00:00Z",
                        money("1.00"),
                        undesignated(),
                    ),
                );
                assert_eq!(r.status, 201);
            }
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        let (ok, out, err) =
            w.s.db
                .cli(&["backup", "--to", backup.to_str().expect("path")]);
        done.store(true, Ordering::Relaxed);
        assert!(ok, "{out}{err}");
    });
    let restored_dir = TestDb::new();
    if restored_dir.is_postgres() {
        return;
    }
    let target = restored_dir.dir.join("restored.db");
    let out = std::process::Command::new(BIN)
        .args([
            "restore",
            "--from",
            backup.to_str().expect("path"),
            "--to",
            target.to_str().expect("path"),
        ])
        .output()
        .expect("restore");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::copy(w.s.db.signing_key(), restored_dir.signing_key()).expect("key");
    let mut restored_db = restored_dir;
    restored_db.url = target.to_string_lossy().into_owned();
    let s = Server::start_with(restored_db, &["serve"]);
    assert!(
        s.log(ORG).len() > 1,
        "the backup holds the writes made before it"
    );
    let (ok, out) = s.audit(&[]);
    assert!(ok, "the restored copy verifies: {out}");
}

#[test]
fn logs_carry_request_ids_and_never_key_material() {
    let db = TestDb::new();
    let log = db.dir.join("server.log");
    let s = Server::start_logging(db, &["serve"], Some(&log));
    let r = s.post("/organizations", Some(&s.regulator), &json!({"id": "log-org", "name": "x", "credit_code": credit_code(3), "kind": "other", "region_code": "420000"}));
    assert_eq!(r.status, 201);
    let key = key_for(&s, "log-org");
    let _ = s.post(
        "/organizations/log-org/donations",
        Some(&key),
        &json!({"bad": true}),
    );
    let _ = s.post(
        "/organizations/log-org/donations",
        Some("gt_secret_that_is_wrong"),
        &json!({}),
    );
    // A tracking code is the key to a complaint's status: read by the API and the page, and a
    // wrong one (its 404 message names it); a key pasted into a path by mistake.
    let filed = s.post(
        "/complaints",
        None,
        &json!({"organization": "log-org", "category": "other", "description": "x"}),
    );
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let code = filed.body["code"].as_str().expect("code").to_owned();
    assert_eq!(s.get(&format!("/complaints/{code}")).status, 200);
    let page = reqwest::blocking::get(format!("{}/complaints/{code}", s.base)).expect("page");
    assert_eq!(page.status(), 200);
    let wrong = "7KQ2-M9XD-4HPT-V1CN-B8RW";
    let _ = s.get(&format!("/complaints/{wrong}"));
    let _ = s.get(&format!("/organizations/{key}"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("request_id") && text.contains("/complaints/{code}"),
        "log lines carry a request id and the redacted path:\n{text}"
    );
    for secret in [
        s.regulator.as_str(),
        key.as_str(),
        "gt_secret_that_is_wrong",
        code.as_str(),
        wrong,
    ] {
        assert!(!text.contains(secret), "{secret} in the log:\n{text}");
    }
}

#[test]
fn sigterm_finishes_in_flight_writes_and_exits_cleanly() {
    let w = world();
    let charity = w.charity.clone();
    let acknowledged: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let s = w.s;
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (s, acknowledged, charity) = (&s, &acknowledged, &charity);
            scope.spawn(move || {
                let http = reqwest::blocking::Client::new();
                for i in 0..10_000 {
                    let receipt = format!("G-{t}-{i}");
                    let body = donation(
                        &receipt,
                        "2020-01-30T10:00:00Z",
                        money("1.00"),
                        undesignated(),
                    );
                    match http
                        .post(s.url(&format!("/organizations/{ORG}/donations")))
                        .bearer_auth(charity)
                        .json(&body)
                        .send()
                    {
                        Ok(r) if r.status().as_u16() == 201 => {
                            acknowledged.lock().expect("lock").push(receipt)
                        }
                        _ => return,
                    }
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
        let status = std::process::Command::new("kill")
            .args(["-TERM", &s.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    });
    let (db, exit) = s.wait_exit();
    assert_eq!(exit, Some(0), "a graceful shutdown exits 0");
    let s = Server::start_with(db, &["serve"]);
    let stored = receipts(&s, ORG);
    let acknowledged = acknowledged.into_inner().expect("lock");
    assert!(!acknowledged.is_empty());
    for r in &acknowledged {
        assert_eq!(
            stored.get(r),
            Some(&1),
            "{r} acknowledged before shutdown is stored once"
        );
    }
}

#[test]
fn public_complaints_are_rate_limited_per_address() {
    let w = world();
    let body =
        json!({"organization": ORG, "category": "other", "description": "收据与到账金额不符"});
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..15 {
        let r = w.s.post("/complaints", None, &body);
        if r.status == 429 {
            retry_after = r
                .headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            assert_eq!(r.headers["content-type"], "application/problem+json");
        }
        statuses.push(r.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        5,
        "{statuses:?}"
    );
    assert!(statuses[..10].iter().all(|s| *s != 429), "{statuses:?}");
    assert!(retry_after
        .and_then(|s| s.parse::<u64>().ok())
        .is_some_and(|s| (1..=60).contains(&s)));
}

#[test]
fn nul_characters_are_refused_with_a_400_not_a_server_error() {
    // PostgreSQL cannot store NUL in text; every way in is refused before it reaches the store.
    let w = world();
    for path in [
        "/needs?item=a%00b",
        "/organizations/a%00b",
        &format!("/organizations/{ORG}/donations/X%00/trail"),
    ] {
        let r = w.s.get(path);
        assert_eq!(r.status, 400, "{path}: {:?}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json");
    }
    let r = w.s.post_raw(
        &format!("/organizations/{ORG}/donations"),
        Some(&w.charity),
        br#"{"receipt_number":"a\u0000b"}"#.to_vec(),
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    let r = w.s.post("/recipients", Some(&w.s.regulator), &json!({"id": "nul-hospital", "name": "a\u{1}b", "kind": "hospital", "region_code": "420100"}));
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(w.entry_count(), 0);
}
