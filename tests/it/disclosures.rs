//! Periodic disclosures (`disclosure.published`) end to end over HTTP: the server-computed
//! `summary_sha256` recomputed by an outsider from public reads only, refused periods, and the
//! reconciliation finding `disclosure_overdue` (SQLite, or PostgreSQL when
//! GIVETRAIL_TEST_POSTGRES is set).

use crate::common;

use chrono::{DateTime, SecondsFormat, Utc};
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use givetrail_domain::canonical::jcs;
use givetrail_domain::disclosure::period::{ledger_at, period_summary, summary_sha256};
use givetrail_domain::disclosure::{Directory, Party, Policy, Record};
use givetrail_domain::entry::Period;

/// Start of 2020-Q1 in China Standard Time, and its end.
const Q1_START: &str = "2019-12-31T16:00:00Z";
const Q1_END: &str = "2020-03-31T16:00:00Z";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("a date")
        .with_timezone(&Utc)
}

/// Now, at the microsecond precision the server keeps.
fn now_micros() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("now")
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn disclose(w: &World, from: &str, to: &str, occurred_at: &str) -> Reply {
    w.s.post(
        &format!("/organizations/{ORG}/disclosures"),
        Some(&w.charity),
        &json!({"period": {"from": from, "to": to}, "occurred_at": occurred_at}),
    )
}

fn party(v: &Value) -> Party {
    let s = |k: &str| v[k].as_str().map(str::to_owned);
    Party {
        id: s("id").expect("id"),
        name: s("name").unwrap_or_default(),
        credit_code: s("credit_code"),
        kind: s("kind").unwrap_or_default(),
        region_code: s("region_code").unwrap_or_default(),
        organization: s("organization"),
        ownership: s("ownership"),
        designated_hospital: v["designated_hospital"].as_bool().unwrap_or(false),
        registered_by: None,
        confirmed_at: None,
    }
}

/// What an outsider computes from `GET /organizations/{org}`, `GET …/entries` and
/// `GET /recipients/{id}` alone, with the domain crate's published definition.
fn recompute_from_public_reads(s: &Server, period: Period) -> (String, Value) {
    let org = s.get(&format!("/organizations/{ORG}"));
    assert_eq!(org.status, 200, "{:?}", org.body);
    let records: Vec<Record> = s
        .log(ORG)
        .iter()
        .map(|e| Record::from_entry(e).expect("a public entry"))
        .collect();
    let ledger = ledger_at(party(&org.body), &records, period.to).expect("the log replays");
    let mut directory = Directory::new();
    for id in ledger.recipient_ids() {
        let r = s.get(&format!("/recipients/{id}"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        directory.insert(id, party(&r.body));
    }
    let summary = period_summary(&ledger, &directory, &Policy::default(), period);
    (
        summary_sha256(&summary),
        serde_json::to_value(&summary).expect("json"),
    )
}

#[test]
fn anyone_recomputes_a_disclosures_summary_hash_from_public_reads() {
    let w = world();
    let first = w.donate(
        "HBRC-D-1",
        "2020-01-30T10:00:00Z",
        money("50000.00"),
        undesignated(),
    );
    w.donate(
        "HBRC-D-2",
        "2020-02-03T10:00:00Z",
        masks("36000"),
        undesignated(),
    );
    let a = w.allocate(json!({"donation": first, "recipient": "wuhan-union-hospital",
        "purpose": "protective equipment", "asset": money("20000.00"), "occurred_at": "2020-02-05T08:00:00Z"}));
    assert_eq!(a.status, 201, "{:?}", a.body);
    // Outside the period: counted in the position, not in the movements.
    w.donate(
        "HBRC-D-3",
        "2020-04-02T10:00:00Z",
        money("100.00"),
        undesignated(),
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    let to = now_micros();
    let posted = disclose(&w, Q1_START, &rfc(to), &rfc(to));
    assert_eq!(posted.status, 201, "{:?}", posted.body);
    let seq = posted.body["seq"].as_i64().expect("seq");
    assert_eq!(posted.body["kind"], "disclosure.published");
    let published = posted.body["body"]["summary_sha256"]
        .as_str()
        .expect("summary_sha256")
        .to_owned();
    assert_eq!(published.len(), 64);
    assert!(published
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    // A later entry, recorded after `to`, changes nothing the disclosure hashed.
    w.donate(
        "HBRC-D-4",
        "2020-02-20T10:00:00Z",
        money("7.00"),
        undesignated(),
    );

    let period = Period {
        from: t(Q1_START),
        to,
    };
    let (recomputed, summary) = recompute_from_public_reads(&w.s, period);
    assert_eq!(
        recomputed, published,
        "the outsider's hash is the published one"
    );
    // The position is exactly the summary the public endpoint serves as at `to` (HBRC-D-4 and
    // the disclosure itself were recorded later, so they are not in it), stock ageing included.
    let at_to =
        w.s.get(&format!("/organizations/{ORG}/summary?to={}", rfc(to)));
    assert_eq!(at_to.status, 200, "{:?}", at_to.body);
    assert_eq!(summary["position"], at_to.body);
    assert!(summary["position"]["assets"][0]["ageing"]["unallocated"]["over_30d"].is_string());
    assert_eq!(summary["log"]["tree_size"], 4);
    assert_eq!(summary["entries_in_period"], 4);
    let cny = summary["movements"]
        .as_array()
        .expect("movements")
        .iter()
        .find(|m| m["asset"]["currency"] == "CNY")
        .expect("CNY moved");
    assert_eq!(cny["received"], "50100.00");
    assert_eq!(cny["allocated"], "20000.00");

    // The server serves the summary it hashed; its JCS hashes to the published value.
    let served = w.s.get(&format!("/organizations/{ORG}/disclosures/{seq}"));
    assert_eq!(served.status, 200, "{:?}", served.body);
    assert_eq!(served.body["matches"], true);
    assert_eq!(served.body["summary"], summary);
    let by_hand = hex::encode(Sha256::digest(jcs(&served.body["summary"]).as_bytes()));
    assert_eq!(by_hand, published);

    let list =
        w.s.get(&format!("/organizations/{ORG}/disclosures?limit=1"));
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(list.body["disclosures"][0]["seq"], seq);
    assert!(list.body["meta"]["next"].is_string());
    let rest = w.s.get(&format!(
        "/organizations/{ORG}/disclosures?after={}",
        list.body["meta"]["next"].as_str().expect("cursor")
    ));
    assert_eq!(rest.body["disclosures"], json!([]));
    let missing =
        w.s.get(&format!("/organizations/{ORG}/disclosures/{first}"));
    assert_eq!(missing.status, 404, "{:?}", missing.body);
    assert_chain_intact(&w.s.log(ORG));
}

#[test]
fn bad_periods_are_refused_naming_the_field() {
    let w = world();
    let later = rfc(now_micros() + chrono::Duration::hours(1));
    let now = rfc(now_micros());
    for (from, to, occurred, status, field) in [
        (Q1_END, Q1_START, "2020-04-10T00:00:00Z", 400, "period.to"),
        (Q1_START, Q1_START, "2020-04-10T00:00:00Z", 400, "period.to"),
        (Q1_START, later.as_str(), now.as_str(), 400, "period.to"),
        (Q1_START, Q1_END, "2020-03-01T00:00:00Z", 422, "occurred_at"),
    ] {
        let r = disclose(&w, from, to, occurred);
        assert_eq!(r.status, status, "{from}..{to}: {:?}", r.body);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["field"], field, "{:?}", r.body);
    }
    let extra = w.s.post(
        &format!("/organizations/{ORG}/disclosures"),
        Some(&w.charity),
        &json!({"period": {"from": Q1_START, "to": Q1_END}, "occurred_at": "2020-04-10T00:00:00Z", "summary_sha256": "00"}),
    );
    assert_eq!(
        extra.status, 400,
        "the hash is the server's: {:?}",
        extra.body
    );
    let hospital = w.s.post(
        &format!("/organizations/{ORG}/disclosures"),
        Some(&w.union_hospital),
        &json!({"period": {"from": Q1_START, "to": Q1_END}, "occurred_at": "2020-04-10T00:00:00Z"}),
    );
    assert_eq!(hospital.status, 403, "{:?}", hospital.body);
    let ok = disclose(&w, Q1_START, Q1_END, "2020-04-10T00:00:00Z");
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let void = w.s.post(
        &format!("/organizations/{ORG}/corrections"),
        Some(&w.charity),
        &json!({"corrects": ok.body["seq"], "reason": "published by mistake", "occurred_at": "2020-04-11T00:00:00Z"}),
    );
    assert!(
        void.status == 403 || void.status == 422,
        "a disclosure is never corrected: {:?}",
        void.body
    );
}

fn findings_of(w: &World, kind: &str) -> Vec<Value> {
    let r = Server::reply(
        reqwest::blocking::Client::new()
            .get(w.s.url(&format!("/organizations/{ORG}/reconciliation")))
            .bearer_auth(&w.s.regulator)
            .send()
            .expect("GET"),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn a_quarter_without_its_disclosure_is_overdue() {
    let w = world();
    let d = w.donate(
        "HBRC-Q-1",
        "2020-02-10T08:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    // Published 45 days after the quarter ended: too late.
    let late = disclose(&w, Q1_START, Q1_END, "2020-05-15T00:00:00Z");
    assert_eq!(late.status, 201, "{:?}", late.body);
    let overdue = findings_of(&w, "disclosure_overdue");
    assert_eq!(overdue.len(), 1, "{overdue:#?}");
    let f = &overdue[0];
    assert_eq!(f["section"], "disclosure");
    assert_eq!(f["severity"], "warning");
    let named: Vec<i64> = f["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(named.contains(&d), "{f:#}");
    assert!(
        named.contains(&late.body["seq"].as_i64().expect("seq")),
        "{f:#}"
    );
    let message = f["message"].as_str().unwrap_or_default();
    assert!(message.contains("2020-Q1"), "{message}");
}

#[test]
fn a_quarter_disclosed_in_time_is_not_overdue() {
    let w = world();
    w.donate(
        "HBRC-Q-2",
        "2020-02-10T08:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    // A period may cover more than the quarter; published 20 days after the quarter ended.
    let r = disclose(&w, "2019-10-01T00:00:00Z", Q1_END, "2020-04-20T00:00:00Z");
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(findings_of(&w, "disclosure_overdue"), Vec::<Value>::new());
    // A quarter whose 30 days have not passed is not due yet.
    let w2 = world();
    w2.donate(
        "HBRC-Q-3",
        &rfc(now_micros() - chrono::Duration::hours(2)),
        money("5.00"),
        undesignated(),
    );
    assert_eq!(findings_of(&w2, "disclosure_overdue"), Vec::<Value>::new());
}
