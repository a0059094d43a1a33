//! The ledger's write path and basic reads, end to end over HTTP against a real server and
//! database (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set).

use crate::common;

use common::*;
use serde_json::{json, Value};

#[test]
fn a_donation_is_written_with_a_public_form_and_a_chained_hash() {
    let w = world();
    let seq = w.donate(
        "HB-001",
        "2020-01-30T10:00:00Z",
        masks("36000"),
        json!({"kind": "designated", "region_code": "420100", "recipient": "wuhan-union-hospital"}),
    );
    assert_eq!(seq, 1);
    let log = w.s.log(ORG);
    let e = &log[0];
    assert_eq!(e["kind"], "donation.received");
    assert_eq!(e["organization"], ORG);
    assert_eq!(e["author"], json!({"role": "charity", "subject": ORG}));
    assert_eq!(e["body"]["asset"]["quantity"], "36000.000");
    assert_eq!(
        e["body"]["donor"]["display_name"], "张**",
        "an individual's name is masked"
    );
    let text = e.to_string();
    assert!(
        !text.contains("张三丰") && !text.contains("139 0000 7777"),
        "private values are not public: {text}"
    );
    assert_eq!(
        e["body"]["donor"]["contact_commitment"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    assert_chain_intact(&log);
}

#[test]
fn writes_need_the_right_key() {
    let w = world();
    let body = donation(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("100.00"),
        undesignated(),
    );
    let path = format!("/organizations/{ORG}/donations");
    let none = w.s.post(&path, None, &body);
    assert_eq!(none.status, 401);
    assert_eq!(none.headers["content-type"], "application/problem+json");
    assert_eq!(w.s.post(&path, Some("not-a-key"), &body).status, 401);
    let other = w.s.post(&path, Some(&w.other_charity), &body);
    assert_eq!(
        other.status, 403,
        "another organisation's key: {:?}",
        other.body
    );
    assert_eq!(
        w.s.post(&path, Some(&w.union_hospital), &body).status,
        403,
        "a recipient key"
    );
    assert_eq!(
        w.s.post(&path, Some(&w.s.regulator), &body).status,
        403,
        "a regulator key"
    );
    assert_eq!(w.entry_count(), 0, "nothing was written");
    assert_eq!(w.s.post(&path, Some(&w.charity), &body).status, 201);
}

#[test]
fn over_allocation_is_refused_and_nothing_is_written() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    let ok = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "purpose": "ppe", "asset": money("600.00"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    let before = w.entry_count();
    let r = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "purpose": "ppe", "asset": money("400.01"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.body["errors"][0]["field"], "asset");
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("400.00 left"),
        "{:?}",
        r.body
    );
    assert_eq!(w.entry_count(), before, "the log is unchanged");
    let exact = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "purpose": "ppe", "asset": money("400.00"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(exact.status, 201, "exactly what remains may be allocated");
}

#[test]
fn a_designation_is_honoured_and_a_departure_needs_consent() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        masks("1000"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    let before = w.entry_count();
    let outside = w.allocate(json!({"donation": d, "recipient": "hangzhou-hospital", "purpose": "ppe", "asset": masks("500"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(outside.status, 422, "{:?}", outside.body);
    assert_eq!(outside.body["errors"][0]["field"], "recipient");
    assert_eq!(w.entry_count(), before);
    let inside = w.allocate(json!({"donation": d, "recipient": "wuhan-jinyintan-hospital", "purpose": "ppe", "asset": masks("500"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(inside.status, 201, "{:?}", inside.body);
    let with_consent = w.allocate(json!({
        "donation": d, "recipient": "hangzhou-hospital", "purpose": "ppe", "asset": masks("500"), "occurred_at": "2020-02-01T10:00:00Z",
        "designation_change": {"reason": "Wuhan stock sufficient", "donor_consent_reference": "CONSENT-7"}
    }));
    assert_eq!(with_consent.status, 201, "{:?}", with_consent.body);
    assert_eq!(
        with_consent.body["body"]["designation_change"]["donor_consent_reference"], "CONSENT-7",
        "the change is public"
    );
}

#[test]
fn a_designation_naming_a_recipient_admits_no_other() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("100.00"),
        json!({"kind": "designated", "recipient": "wuhan-union-hospital"}),
    );
    let r = w.allocate(json!({"donation": d, "recipient": "wuhan-jinyintan-hospital", "asset": money("10.00"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(r.status, 422, "{:?}", r.body);
}

#[test]
fn a_related_party_designation_is_refused() {
    let w = world();
    let mut body = donation(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("100.00"),
        json!({"kind": "designated", "recipient": "wuhan-union-hospital"}),
    );
    body["donor"]["related_recipients"] = json!(["wuhan-union-hospital"]);
    let r = w.s.post(
        &format!("/organizations/{ORG}/donations"),
        Some(&w.charity),
        &body,
    );
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "restriction.recipient");
    assert_eq!(w.entry_count(), 0);
}

#[test]
fn a_pool_allocation_is_attributed_oldest_first() {
    let w = world();
    // Recorded out of order: the oldest gift is posted last.
    let newer = w.donate(
        "HB-2",
        "2020-02-02T10:00:00Z",
        money("300.00"),
        undesignated(),
    );
    let designated = w.donate(
        "HB-3",
        "2020-01-01T10:00:00Z",
        money("900.00"),
        json!({"kind": "designated", "region_code": "420000"}),
    );
    let oldest = w.donate(
        "HB-1",
        "2020-02-01T10:00:00Z",
        money("200.00"),
        undesignated(),
    );
    let r = w.allocate(json!({"pool": true, "recipient": "hangzhou-hospital", "purpose": "ppe", "asset": money("350.00"), "occurred_at": "2020-02-03T10:00:00Z"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body["body"]["drawn_from"],
        json!([{"donation": oldest, "amount": "200.00"}, {"donation": newer, "amount": "150.00"}]),
        "designated gift {designated} is never in the pool"
    );
    let too_much = w.allocate(json!({"pool": true, "recipient": "hangzhou-hospital", "asset": money("150.01"), "occurred_at": "2020-02-03T10:00:00Z"}));
    assert_eq!(too_much.status, 422, "{:?}", too_much.body);
}

#[test]
fn disbursement_acknowledgement_and_usage_follow_the_rules() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        masks("36000"),
        undesignated(),
    );
    let a = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": masks("36000"), "occurred_at": "2020-01-31T10:00:00Z"}));
    let a = a.body["seq"].as_i64().expect("allocation seq");
    let path = format!("/organizations/{ORG}/disbursements");
    let over = w.s.post(&path, Some(&w.charity), &json!({"allocation": a, "asset": masks("36001"), "channel": "logistics", "reference": "SF1", "occurred_at": "2020-02-01T10:00:00Z"}));
    assert_eq!(over.status, 422, "{:?}", over.body);
    let disb = w.s.post(&path, Some(&w.charity), &json!({"allocation": a, "asset": masks("36000"), "channel": "logistics", "reference": "SF1", "occurred_at": "2020-02-01T10:00:00Z"}));
    assert_eq!(disb.status, 201, "{:?}", disb.body);
    assert_eq!(
        disb.body["body"]["recipient"], "wuhan-union-hospital",
        "level-by-level: the receiving unit is named"
    );
    let dseq = disb.body["seq"].as_i64().expect("seq");
    let ack_body = json!({"disbursement": {"organization": ORG, "seq": dseq}, "asset": masks("35000"), "received_at": "2020-02-02T10:00:00Z", "note": "one carton missing", "occurred_at": "2020-02-02T11:00:00Z"});
    let wrong = w.s.post(
        "/recipients/wuhan-jinyintan-hospital/acknowledgements",
        Some(&w.jinyintan),
        &ack_body,
    );
    assert_eq!(
        wrong.status, 422,
        "not the recipient of that disbursement: {:?}",
        wrong.body
    );
    let foreign = w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.jinyintan),
        &ack_body,
    );
    assert_eq!(
        foreign.status, 403,
        "another recipient's key: {:?}",
        foreign.body
    );
    let ack = w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.union_hospital),
        &ack_body,
    );
    assert_eq!(
        ack.status, 201,
        "a shortfall is recorded, not refused: {:?}",
        ack.body
    );
    assert_eq!(ack.body["body"]["shortfall"], "1000.000");
    assert_eq!(
        ack.body["organization"], ORG,
        "appended to the disbursing charity's log"
    );
    assert_eq!(
        ack.body["author"],
        json!({"role": "recipient", "subject": "wuhan-union-hospital"})
    );
    let usage = |q: &str| {
        w.s.post(
            "/recipients/wuhan-union-hospital/usage_reports",
            Some(&w.union_hospital),
            &json!({"disbursement": {"organization": ORG, "seq": dseq}, "asset": masks(q), "description": "ICU staff", "occurred_at": "2020-02-10T10:00:00Z"}),
        )
    };
    assert_eq!(usage("35001").status, 422, "more than acknowledged");
    assert_eq!(usage("30000").status, 201);
    assert_eq!(usage("5001").status, 422, "cumulative usage is bounded too");
    assert_eq!(usage("5000").status, 201);
}

#[test]
fn corrections_void_and_replace_but_dependants_come_first() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("800000.00"),
        undesignated(),
    );
    let a = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": money("100.00"), "occurred_at": "2020-01-31T10:00:00Z"}));
    let a = a.body["seq"].as_i64().expect("seq");
    let path = format!("/organizations/{ORG}/corrections");
    let blocked = w.s.post(
        &path,
        Some(&w.charity),
        &json!({"corrects": d, "reason": "typo", "occurred_at": "2020-02-01T10:00:00Z"}),
    );
    assert_eq!(blocked.status, 422, "{:?}", blocked.body);
    let undo = w.s.post(
        &path,
        Some(&w.charity),
        &json!({"corrects": a, "reason": "wrong hospital", "occurred_at": "2020-02-01T10:00:00Z"}),
    );
    assert_eq!(undo.status, 201, "{:?}", undo.body);
    let mut replacement = donation(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("80000.00"),
        undesignated(),
    );
    replacement
        .as_object_mut()
        .expect("object")
        .remove("occurred_at");
    let fix = w.s.post(&path, Some(&w.charity), &json!({"corrects": d, "reason": "amount keyed with an extra zero", "replacement": replacement, "occurred_at": "2020-02-01T11:00:00Z"}));
    assert_eq!(fix.status, 201, "{:?}", fix.body);
    assert_eq!(
        fix.body["body"]["replacement"]["asset"]["amount"],
        "80000.00"
    );
    let fixed = fix.body["seq"].as_i64().expect("seq");
    let old = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": money("1.00"), "occurred_at": "2020-02-02T10:00:00Z"}));
    assert_eq!(old.status, 422, "the corrected donation is void");
    let new = w.allocate(json!({"donation": fixed, "recipient": "wuhan-union-hospital", "asset": money("80000.00"), "occurred_at": "2020-02-02T10:00:00Z"}));
    assert_eq!(
        new.status, 201,
        "the replacement lives at the correction's seq: {:?}",
        new.body
    );
    let again = w.s.post(
        &path,
        Some(&w.charity),
        &json!({"corrects": d, "reason": "twice", "occurred_at": "2020-02-03T10:00:00Z"}),
    );
    assert_eq!(again.status, 422);
    let feed = w.s.get(&format!("/organizations/{ORG}/donations"));
    let receipts: Vec<i64> = feed.body["donations"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| e["seq"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(receipts, vec![fixed], "the feed shows the live donation");
    let (ok, out, _) = w.s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "derived state equals a replay of the log: {out}");
}

#[test]
fn a_receipt_number_is_unique_per_organisation() {
    let w = world();
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    let r = w.s.post(
        &format!("/organizations/{ORG}/donations"),
        Some(&w.charity),
        &donation(
            "HB-1",
            "2020-01-30T10:00:00Z",
            money("2.00"),
            undesignated(),
        ),
    );
    assert_eq!(r.status, 409, "{:?}", r.body);
    let other = w.s.post(
        &format!("/organizations/{OTHER_ORG}/donations"),
        Some(&w.other_charity),
        &donation(
            "HB-1",
            "2020-01-30T10:00:00Z",
            money("2.00"),
            undesignated(),
        ),
    );
    assert_eq!(
        other.status, 201,
        "another organisation may use the same number"
    );
}

#[test]
fn malformed_input_is_a_400_naming_the_field() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations");
    let cases = [
        (
            donation(
                "HB-1",
                "2020-01-30T10:00:00Z",
                money("1.001"),
                undesignated(),
            ),
            "asset.amount",
        ),
        (
            donation("HB-1", "2020-01-30T10:00:00Z", money("-5"), undesignated()),
            "asset.amount",
        ),
        (
            donation(
                "HB-1",
                "2020-01-30T10:00:00Z",
                json!({"kind": "money", "amount": "5", "currency": "XXX"}),
                undesignated(),
            ),
            "asset.currency",
        ),
        (
            donation("HB-1", "not a date", money("5"), undesignated()),
            "occurred_at",
        ),
        (
            donation("", "2020-01-30T10:00:00Z", money("5"), undesignated()),
            "receipt_number",
        ),
        (
            donation("HB-1", "2099-01-30T10:00:00Z", money("5"), undesignated()),
            "occurred_at",
        ),
    ];
    for (body, field) in cases {
        let r = w.s.post(&path, Some(&w.charity), &body);
        assert_eq!(r.status, 400, "{field}: {:?}", r.body);
        assert_eq!(r.body["errors"][0]["field"], field, "{:?}", r.body);
    }
    let mut wrong_type = donation("HB-1", "2020-01-30T10:00:00Z", money("5"), undesignated());
    wrong_type["donor"]["anonymous"] = json!("yes");
    let r = w.s.post(&path, Some(&w.charity), &wrong_type);
    assert_eq!(
        (r.status, r.body["errors"][0]["field"].as_str()),
        (400, Some("donor.anonymous")),
        "{:?}",
        r.body
    );
    assert_eq!(
        w.s.post_raw(&path, Some(&w.charity), b"{not json".to_vec())
            .status,
        400
    );
    assert_eq!(
        w.s.post_raw(&path, Some(&w.charity), vec![0xff, 0xfe])
            .status,
        400
    );
    let huge =
        w.s.post_raw(&path, Some(&w.charity), vec![b' '; 100 * 1024]);
    assert_eq!(huge.status, 413, "{:?}", huge.body);
    assert_eq!(w.entry_count(), 0);
}

#[test]
fn an_idempotency_key_replays_the_first_response_and_refuses_another_body() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations");
    let body = donation(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let first =
        w.s.post_with(&path, Some(&w.charity), &body, Some("retry-1"));
    assert_eq!(first.status, 201);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again =
        w.s.post_with(&path, Some(&w.charity), &body, Some("retry-1"));
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    let other = w.s.post_with(
        &path,
        Some(&w.charity),
        &donation(
            "HB-2",
            "2020-01-30T10:00:00Z",
            money("10.00"),
            undesignated(),
        ),
        Some("retry-1"),
    );
    assert_eq!(other.status, 409, "{:?}", other.body);
    assert_eq!(w.entry_count(), 1);
}

#[test]
fn concurrent_duplicates_with_one_idempotency_key_write_once() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations");
    let body = donation(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| w.s.post_with(&path, Some(&w.charity), &body, Some("same"))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(
        replies.iter().all(|r| r.status == 201),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        replies.iter().all(|r| r.body == replies[0].body),
        "every retry sees the same entry"
    );
    assert_eq!(w.entry_count(), 1);
}

#[test]
fn a_batch_is_all_or_nothing() {
    let w = world();
    let path = format!("/organizations/{ORG}/donations/batch");
    let mut items: Vec<Value> = (0..50)
        .map(|i| {
            donation(
                &format!("B-{i}"),
                "2020-01-30T10:00:00Z",
                money("1.00"),
                undesignated(),
            )
        })
        .collect();
    items[37] = donation("B-0", "2020-01-30T10:00:00Z", money("1.00"), undesignated());
    let r =
        w.s.post(&path, Some(&w.charity), &json!({"donations": items}));
    assert_eq!(
        r.status, 409,
        "a repeated receipt number inside the batch: {:?}",
        r.body
    );
    assert_eq!(r.body["errors"][0]["field"], "[37].receipt_number");
    assert_eq!(w.entry_count(), 0, "nothing of the batch was written");
    items[37] = donation(
        "B-37",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    let ok =
        w.s.post(&path, Some(&w.charity), &json!({"donations": items}));
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(ok.body["entries"].as_array().map(Vec::len), Some(50));
    assert_chain_intact(&w.s.log(ORG));
    let empty = w.s.post(&path, Some(&w.charity), &json!({"donations": []}));
    assert_eq!(empty.status, 400);
}

#[test]
fn concurrent_allocations_against_one_lot_never_overdraw() {
    let w = world();
    let d = w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|_| scope.spawn(|| w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": money("150.00"), "occurred_at": "2020-01-31T10:00:00Z"})).status))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        6,
        "exactly 6 × 150 fit in 1000: {statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 10);
    let log = w.s.log(ORG);
    assert_eq!(log.len(), 7);
    assert_chain_intact(&log);
}

#[test]
fn concurrent_writers_keep_each_log_gapless_and_chained() {
    let w = world();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let w = &w;
            scope.spawn(move || {
                for i in 0..25 {
                    let (org, key) = if i % 2 == 0 {
                        (ORG, &w.charity)
                    } else {
                        (OTHER_ORG, &w.other_charity)
                    };
                    let r = w.s.post(
                        &format!("/organizations/{org}/donations"),
                        Some(key),
                        &donation(
                            &format!("T{t}-{i}"),
                            "2020-01-30T10:00:00Z",
                            money("1.00"),
                            undesignated(),
                        ),
                    );
                    assert_eq!(r.status, 201, "{:?}", r.body);
                }
            });
        }
    });
    let a = w.s.log(ORG);
    let b = w.s.log(OTHER_ORG);
    assert_eq!((a.len(), b.len()), (104, 96));
    assert_chain_intact(&a);
    assert_chain_intact(&b);
}

#[test]
fn the_log_table_refuses_update_and_delete_in_the_database() {
    let w = world();
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    let (ok, out) =
        w.s.db
            .sql("UPDATE entries SET canonical = 'x' WHERE seq = 1");
    assert!(
        !ok && out.contains("append-only"),
        "UPDATE must be refused: {out}"
    );
    let (ok, out) = w.s.db.sql("DELETE FROM entries");
    assert!(
        !ok && out.contains("append-only"),
        "DELETE must be refused: {out}"
    );
    assert_eq!(w.entry_count(), 1);
}

/// The tables that refuse UPDATE or DELETE by trigger: the append-only ones.
const APPEND_ONLY: [&str; 8] = [
    "bank_lines",
    "bank_statements",
    "checkpoints",
    "complaint_events",
    "complaints",
    "entries",
    "entry_private",
    "signing_keys",
];

#[test]
fn every_append_only_table_refuses_truncate_in_postgres() {
    let w = world();
    if !w.s.db.is_postgres() {
        eprintln!("SQLite has no TRUNCATE; this test runs when GIVETRAIL_TEST_POSTGRES is set");
        return;
    }
    w.donate("HB-1", "2020-01-30T10:00:00Z", masks("10"), undesignated());
    // Every table with a row trigger refusing changes is append-only; the list must not shrink.
    // (On Citus the coordinator also holds its copy of each reference table, a shard named
    // `<table>_<shard id>`: the tables are counted, not their shards.)
    let (ok, out) = w.s.db.sql(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = 'givetrail_refuse_change' \
         AND (t.tgtype & 24) <> 0 AND c.relname !~ '_[0-9]+$' ORDER BY 1",
    );
    assert!(ok, "{out}");
    let tables: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(tables, APPEND_ONLY, "the append-only tables");
    let count = |t: &str| w.s.db.sql(&format!("SELECT count(*) FROM {t}")).1;
    for t in tables {
        let before = count(t);
        // CASCADE: the most destructive form, and it skips the foreign-key check that would
        // otherwise refuse first for a table other tables reference.
        let (ok, out) = w.s.db.sql(&format!("TRUNCATE {t} CASCADE"));
        assert!(
            !ok && out.contains(&format!("{t} is append-only: TRUNCATE refused")),
            "TRUNCATE {t} must be refused: {out}"
        );
        assert_eq!(count(t), before, "{t} keeps its rows");
    }
    assert_eq!(w.entry_count(), 1);
}

#[test]
fn reads_list_registrations_campaigns_and_feeds_with_cursors() {
    let w = world();
    let c = w.s.post(
        &format!("/organizations/{ORG}/campaigns"),
        Some(&w.charity),
        &json!({"id": "wuhan-2020", "title": "武汉", "purpose": "抗疫", "region_code": "420100", "public_fundraising": true, "record_number": "REC-1", "emergency": true, "starts_at": "2020-01-23T00:00:00Z", "occurred_at": "2020-01-23T01:00:00Z"}),
    );
    assert_eq!(c.status, 201, "{:?}", c.body);
    let no_record = w.s.post(
        &format!("/organizations/{ORG}/campaigns"),
        Some(&w.charity),
        &json!({"id": "other", "title": "x", "region_code": "420100", "public_fundraising": true, "starts_at": "2020-01-23T00:00:00Z", "occurred_at": "2020-01-23T01:00:00Z"}),
    );
    assert_eq!(
        no_record.status, 422,
        "public fundraising needs a record number"
    );
    for i in 0..5 {
        let mut body = donation(
            &format!("HB-{i}"),
            "2020-01-30T10:00:00Z",
            money("1.00"),
            undesignated(),
        );
        body["campaign"] = json!("wuhan-2020");
        assert_eq!(
            w.s.post(
                &format!("/organizations/{ORG}/donations"),
                Some(&w.charity),
                &body
            )
            .status,
            201
        );
    }
    assert_eq!(
        w.s.get("/organizations").body["organizations"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(
        w.s.get(&format!("/organizations/{ORG}")).body["region_code"],
        "420000"
    );
    assert_eq!(w.s.get("/organizations/nope").status, 404);
    assert_eq!(
        w.s.get("/recipients").body["recipients"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(
        w.s.get(&format!("/organizations/{ORG}/campaigns/wuhan-2020"))
            .body["record_number"],
        "REC-1"
    );
    let page1 = w.s.get(&format!(
        "/organizations/{ORG}/donations?campaign=wuhan-2020&limit=3"
    ));
    assert_eq!(page1.body["donations"].as_array().map(Vec::len), Some(3));
    let next = page1.body["meta"]["next"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let page2 = w.s.get(&format!(
        "/organizations/{ORG}/donations?campaign=wuhan-2020&limit=3&after={next}"
    ));
    assert_eq!(page2.body["donations"].as_array().map(Vec::len), Some(2));
    assert!(page2.body["meta"]["next"].is_null());
    assert_eq!(
        w.s.get(&format!("/organizations/{ORG}/donations?limit=100000"))
            .status,
        400
    );
    assert_eq!(
        w.s.get(&format!("/organizations/{ORG}/donations?asset=USD"))
            .body["donations"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn aid_to_an_individual_never_publishes_the_persons_name() {
    let w = world();
    let r = w.s.post("/recipients", Some(&w.s.regulator), &json!({"id": "aid-family-1", "name": "王小明", "kind": "individual_aid", "region_code": "420103"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    let one = w.s.get("/recipients/aid-family-1");
    assert_eq!(one.status, 200);
    assert!(!one.body.to_string().contains("王小明"), "{:?}", one.body);
    let all = w.s.get("/recipients");
    assert!(!all.body.to_string().contains("王小明"), "{:?}", all.body);
    let csv = w.s.get("/recipients?format=csv");
    assert!(!csv.body.to_string().contains("王小明"));
}
