//! The needs board over HTTP (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set): a
//! hospital posts a need, it appears on the board and in a charity's matches, allocations name
//! it, and its delivered quantity rises as the hospital acknowledges what arrived.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn need_body(quantity: &str, urgency: &str) -> Value {
    json!({"item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece",
           "quantity": quantity, "urgency": urgency, "needed_by": "2020-02-05T00:00:00Z",
           "note": "ICU, west wing"})
}

fn post_need(w: &World, recipient: &str, key: &str, body: &Value) -> Reply {
    w.s.post(&format!("/recipients/{recipient}/needs"), Some(key), body)
}

fn ids(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    n["id"]
                        .as_str()
                        .or_else(|| n["need"]["id"].as_str())
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

impl World {
    fn disburse_and_acknowledge(&self, allocation: i64, sent: &str, arrived: &str) {
        let d = self.s.post(
            &format!("/organizations/{ORG}/disbursements"),
            Some(&self.charity),
            &json!({"allocation": allocation, "asset": masks(sent), "channel": "logistics",
                    "reference": format!("SF-{allocation}"), "occurred_at": "2020-02-05T10:00:00Z"}),
        );
        assert_eq!(d.status, 201, "{:?}", d.body);
        let seq = d.body["seq"].as_i64().expect("seq");
        let a = self.s.post(
            "/recipients/wuhan-union-hospital/acknowledgements",
            Some(&self.union_hospital),
            &json!({"disbursement": {"organization": ORG, "seq": seq}, "asset": masks(arrived),
                    "received_at": "2020-02-06T10:00:00Z", "occurred_at": "2020-02-06T11:00:00Z"}),
        );
        assert_eq!(a.status, 201, "{:?}", a.body);
    }
}

#[test]
fn a_posted_need_is_on_the_board_in_matches_and_closes_when_deliveries_cover_it() {
    let w = world();
    let r = post_need(
        &w,
        "wuhan-union-hospital",
        &w.union_hospital,
        &need_body("20000", "critical"),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["id"], "need-1");
    assert_eq!(r.body["recipient"], "wuhan-union-hospital");
    assert_eq!(r.body["region_code"], "420103");
    assert_eq!(r.body["quantity"], "20000.000");
    assert_eq!(r.body["status"], "open");
    assert_eq!(
        (
            &r.body["pledged"],
            &r.body["delivered"],
            &r.body["outstanding"]
        ),
        (&json!("0.000"), &json!("0.000"), &json!("20000.000"))
    );

    // The board, with its filters.
    let board = w.s.get("/needs");
    assert_eq!(board.status, 200, "{:?}", board.body);
    assert_eq!(ids(&board.body, "needs"), ["need-1"]);
    assert_eq!(board.body["meta"]["next"], Value::Null);
    for (query, expected) in [
        ("?status=open", vec!["need-1"]),
        ("?status=met", vec![]),
        ("?region=42", vec!["need-1"]),
        ("?region=4201", vec!["need-1"]),
        ("?region=33", vec![]),
        ("?item=N95%20respirator", vec!["need-1"]),
        ("?item=KN95%20respirator", vec![]),
        ("?recipient=wuhan-jinyintan-hospital", vec![]),
    ] {
        let r = w.s.get(&format!("/needs{query}"));
        assert_eq!(r.status, 200, "{query}: {:?}", r.body);
        assert_eq!(ids(&r.body, "needs"), expected, "{query}");
    }

    // The charity's undesignated masks match it.
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        masks("36000"),
        undesignated(),
    );
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(m.status, 200, "{:?}", m.body);
    assert_eq!(ids(&m.body, "matches"), ["need-1"]);
    assert_eq!(m.body["matches"][0]["available"], "36000.000");
    assert_eq!(m.body["matches"][0]["suggested"], "20000.000");
    assert_eq!(m.body["matches"][0]["priority_region"], true);
    assert_eq!(m.body["matches"][0]["donations"], json!([1]));

    // An allocation names the need it serves.
    let a = w.allocate(
        json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": masks("19000"),
                              "need": "need-1", "occurred_at": "2020-01-31T10:00:00Z"}),
    );
    assert_eq!(a.status, 201, "{:?}", a.body);
    assert_eq!(a.body["body"]["need"], "need-1");
    let first = a.body["seq"].as_i64().expect("seq");
    let n = w.s.get("/needs/need-1");
    assert_eq!(n.body["pledged"], "19000.000");
    assert_eq!(n.body["unpledged"], "1000.000");
    assert_eq!(n.body["delivered"], "0.000");
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(m.body["matches"][0]["suggested"], "1000.000");

    // Delivered rises with what the hospital acknowledges, not with what was sent.
    w.disburse_and_acknowledge(first, "19000", "18500");
    let n = w.s.get("/needs/need-1");
    assert_eq!(n.body["delivered"], "18500.000", "{:?}", n.body);
    assert_eq!(n.body["outstanding"], "1500.000");
    assert_eq!(n.body["status"], "open");

    let a = w.allocate(
        json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": masks("1500"),
                              "need": "need-1", "occurred_at": "2020-02-03T10:00:00Z"}),
    );
    assert_eq!(a.status, 201, "{:?}", a.body);
    w.disburse_and_acknowledge(a.body["seq"].as_i64().expect("seq"), "1500", "1500");
    let n = w.s.get("/needs/need-1");
    assert_eq!(n.body["delivered"], "20000.000");
    assert_eq!(n.body["outstanding"], "0.000");
    assert_eq!(n.body["status"], "met", "closed once deliveries cover it");
    assert_eq!(ids(&w.s.get("/needs?status=met").body, "needs"), ["need-1"]);
    assert_eq!(
        ids(&w.s.get("/needs?status=open").body, "needs"),
        Vec::<String>::new()
    );
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(ids(&m.body, "matches"), Vec::<String>::new());

    let late = w.allocate(
        json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": masks("10"),
                                 "need": "need-1", "occurred_at": "2020-02-04T10:00:00Z"}),
    );
    assert_eq!(
        late.status, 422,
        "a met need takes no more: {:?}",
        late.body
    );
    assert_eq!(late.body["errors"][0]["field"], "need");
}

#[test]
fn an_allocation_may_name_only_its_recipients_open_need_of_the_same_goods() {
    let w = world();
    assert_eq!(
        post_need(
            &w,
            "wuhan-union-hospital",
            &w.union_hospital,
            &need_body("100", "high")
        )
        .status,
        201
    );
    w.donate("HB-1", "2020-01-30T10:00:00Z", masks("500"), undesignated());
    w.donate(
        "HB-2",
        "2020-01-30T11:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    let before = w.entry_count();
    for (body, why) in [
        (
            json!({"pool": true, "recipient": "wuhan-jinyintan-hospital", "asset": masks("10"), "need": "need-1", "occurred_at": "2020-01-31T10:00:00Z"}),
            "another recipient's need",
        ),
        (
            json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": money("10.00"), "need": "need-1", "occurred_at": "2020-01-31T10:00:00Z"}),
            "money for a need of goods",
        ),
        (
            json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": masks("10"), "need": "need-9", "occurred_at": "2020-01-31T10:00:00Z"}),
            "an unknown need",
        ),
    ] {
        let r = w.allocate(body);
        assert_eq!(r.status, 422, "{why}: {:?}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "need", "{why}");
    }
    assert_eq!(w.entry_count(), before, "nothing was written");
}

#[test]
fn posting_a_need_takes_the_recipients_own_key_and_valid_fields() {
    let w = world();
    let body = need_body("100", "critical");
    let none =
        w.s.post("/recipients/wuhan-union-hospital/needs", None, &body);
    assert_eq!(none.status, 401, "{:?}", none.body);
    let other = post_need(&w, "wuhan-union-hospital", &w.jinyintan, &body);
    assert_eq!(other.status, 403, "{:?}", other.body);
    let charity = post_need(&w, "wuhan-union-hospital", &w.charity, &body);
    assert_eq!(charity.status, 403, "{:?}", charity.body);
    let mut bad = body.clone();
    bad["urgency"] = json!("yesterday");
    let r = post_need(&w, "wuhan-union-hospital", &w.union_hospital, &bad);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let mut bad = body.clone();
    bad["quantity"] = json!("-3");
    let r = post_need(&w, "wuhan-union-hospital", &w.union_hospital, &bad);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "quantity", "{:?}", r.body);
    for query in ["?status=closed", "?region=4x", "?after=-1", "?limit=0"] {
        let r = w.s.get(&format!("/needs{query}"));
        assert_eq!(r.status, 400, "{query}: {:?}", r.body);
    }
    assert_eq!(w.s.get("/needs/need-1").status, 404);
    assert_eq!(w.s.get("/organizations/nobody/needs/matches").status, 404);
    // An Idempotency-Key replays the first need instead of posting a second one.
    let first = w.s.post_with(
        "/recipients/wuhan-union-hospital/needs",
        Some(&w.union_hospital),
        &body,
        Some("need-once"),
    );
    let again = w.s.post_with(
        "/recipients/wuhan-union-hospital/needs",
        Some(&w.union_hospital),
        &body,
        Some("need-once"),
    );
    assert_eq!((first.status, again.status), (201, 201));
    assert_eq!(first.body["id"], again.body["id"]);
    assert_eq!(
        w.s.get("/needs").body["needs"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn matches_rank_by_urgency_then_priority_region_and_honour_designations() {
    let w = world();
    recipient(&w.s, "zju-hospital", "330102");
    let zju = recipient_key(&w.s, "zju-hospital");
    let post = |id: &str, key: &str, urgency: &str| {
        let r = post_need(&w, id, key, &need_body("1000", urgency));
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    };
    let outside = post("zju-hospital", &zju, "critical");
    let union_high = post("wuhan-union-hospital", &w.union_hospital, "high");
    let jinyintan = post("wuhan-jinyintan-hospital", &w.jinyintan, "critical");
    let union_normal = post("wuhan-union-hospital", &w.union_hospital, "normal");
    // Masks designated for Union Hospital only serve Union Hospital's needs.
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        masks("5000"),
        json!({"kind": "designated", "recipient": "wuhan-union-hospital"}),
    );
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(
        ids(&m.body, "matches"),
        [union_high.clone(), union_normal.clone()]
    );
    // Undesignated masks serve everyone: critical first, Hubei before Zhejiang.
    w.donate(
        "HB-2",
        "2020-01-30T11:00:00Z",
        masks("5000"),
        undesignated(),
    );
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(
        ids(&m.body, "matches"),
        [jinyintan, outside, union_high, union_normal]
    );
    assert_eq!(m.body["matches"][0]["rank"], 1);
    assert_eq!(m.body["matches"][0]["available"], "5000.000");
    assert_eq!(m.body["matches"][2]["available"], "10000.000");
    assert_eq!(m.body["meta"]["priority_regions"], json!(["42"]));
}

fn withdraw(w: &World, need: &str, recipient: &str, key: &str, reason: &str) -> Reply {
    w.s.post(
        &format!("/recipients/{recipient}/needs/{need}/withdrawals"),
        Some(key),
        &json!({"reason": reason}),
    )
}

#[test]
fn a_recipient_withdraws_its_open_need_with_a_public_reason_and_it_takes_no_more_allocations() {
    let w = world();
    let posted = post_need(
        &w,
        "wuhan-union-hospital",
        &w.union_hospital,
        &need_body("5000", "critical"),
    );
    assert_eq!(posted.status, 201, "{:?}", posted.body);
    assert_eq!(posted.body["withdrawn_at"], Value::Null);
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        masks("9000"),
        undesignated(),
    );
    let path = "/recipients/wuhan-union-hospital/needs/need-1/withdrawals";
    let reason = json!({"reason": "supplied by the municipal health commission"});

    // Only the recipient's own key, and only with a reason.
    assert_eq!(w.s.post(path, None, &reason).status, 401);
    for key in [&w.jinyintan, &w.charity] {
        let r = w.s.post(path, Some(key), &reason);
        assert_eq!(r.status, 403, "{:?}", r.body);
    }
    // The jinyintan key, on its own path, may not withdraw union's need either.
    let r = withdraw(&w, "need-1", "wuhan-jinyintan-hospital", &w.jinyintan, "x");
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["field"], "need", "{:?}", r.body);
    for bad in [
        json!({"reason": "  "}),
        json!({}),
        json!({"reason": "x", "extra": 1}),
    ] {
        let r = w.s.post(path, Some(&w.union_hospital), &bad);
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let r = withdraw(
        &w,
        "need-1",
        "wuhan-union-hospital",
        &w.union_hospital,
        &"x".repeat(201),
    );
    assert_eq!(r.body["errors"][0]["field"], "reason", "{:?}", r.body);
    let r = withdraw(
        &w,
        "need-9",
        "wuhan-union-hospital",
        &w.union_hospital,
        "gone",
    );
    assert_eq!(r.status, 404, "{:?}", r.body);
    assert_eq!(
        w.s.get("/needs/need-1").body["status"],
        "open",
        "nothing was written"
    );

    let r = w.s.post(path, Some(&w.union_hospital), &reason);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["status"], "withdrawn");
    assert_eq!(
        r.body["withdrawal_reason"],
        "supplied by the municipal health commission"
    );
    assert!(r.body["withdrawn_at"].is_string(), "{:?}", r.body);
    let again = w.s.post(path, Some(&w.union_hospital), &reason);
    assert_eq!(again.status, 409, "{:?}", again.body);

    // Still on the board, marked; no longer open, and no charity is matched with it.
    let one = w.s.get("/needs/need-1");
    assert_eq!(one.body["status"], "withdrawn");
    assert_eq!(one.body["withdrawn_at"], r.body["withdrawn_at"]);
    for (query, expected) in [
        ("", vec!["need-1"]),
        ("?status=open", vec![]),
        ("?status=met", vec![]),
        ("?status=withdrawn", vec!["need-1"]),
    ] {
        let list = w.s.get(&format!("/needs{query}"));
        assert_eq!(list.status, 200, "{query}: {:?}", list.body);
        assert_eq!(ids(&list.body, "needs"), expected, "{query}");
    }
    let m = w.s.get(&format!("/organizations/{ORG}/needs/matches"));
    assert_eq!(ids(&m.body, "matches"), Vec::<String>::new());
    let before = w.entry_count();
    let a = w.allocate(json!({"pool": true, "recipient": "wuhan-union-hospital",
        "asset": masks("100"), "need": "need-1", "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(a.status, 422, "{:?}", a.body);
    assert_eq!(a.body["errors"][0]["field"], "need");
    assert_eq!(w.entry_count(), before);
    // The board page says so, with the reason.
    let page = reqwest::blocking::get(format!("{}/needs?status=withdrawn&lang=en", w.s.base))
        .and_then(|r| r.text())
        .expect("the board page");
    assert!(
        page.contains("Withdrawn by the recipient") && page.contains("municipal health commission"),
        "{page}"
    );
}

#[test]
fn a_met_need_cannot_be_withdrawn() {
    let w = world();
    let posted = post_need(
        &w,
        "wuhan-union-hospital",
        &w.union_hospital,
        &need_body("100", "high"),
    );
    assert_eq!(posted.status, 201, "{:?}", posted.body);
    w.donate("HB-1", "2020-01-30T10:00:00Z", masks("500"), undesignated());
    let a = w.allocate(json!({"pool": true, "recipient": "wuhan-union-hospital",
        "asset": masks("100"), "need": "need-1", "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(a.status, 201, "{:?}", a.body);
    w.disburse_and_acknowledge(a.body["seq"].as_i64().expect("seq"), "100", "100");
    assert_eq!(w.s.get("/needs/need-1").body["status"], "met");
    let r = withdraw(
        &w,
        "need-1",
        "wuhan-union-hospital",
        &w.union_hospital,
        "no longer needed",
    );
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert_eq!(w.s.get("/needs/need-1").body["status"], "met");
}
