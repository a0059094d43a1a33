//! The 2020 cases, end to end over HTTP (contract §9.1–§9.4): corrections after receipt,
//! recipients correcting their own statements, zero acknowledgements, receipt numbers never
//! reused, money that buys goods, transfers level by level, and the write-time rules on costs,
//! dates and goods keys. Every refusal is checked for the field it names.

use crate::common;

use common::*;
use serde_json::{json, Value};

const CITY: &str = OTHER_ORG;

fn field(r: &Reply) -> String {
    r.body["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn post(w: &World, what: &str, body: Value) -> Reply {
    w.s.post(
        &format!("/organizations/{ORG}/{what}"),
        Some(&w.charity),
        &body,
    )
}

fn seq(r: &Reply) -> i64 {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["seq"].as_i64().expect("seq")
}

/// A donation of masks allocated and disbursed whole to the union hospital: (donation,
/// allocation, disbursement).
fn sent(w: &World, receipt: &str, quantity: &str) -> (i64, i64, i64) {
    let d = w.donate(
        receipt,
        "2020-01-30T10:00:00Z",
        masks(quantity),
        undesignated(),
    );
    let a = seq(
        &w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital",
        "asset": masks(quantity), "occurred_at": "2020-01-31T10:00:00Z"})),
    );
    let x = seq(&post(
        w,
        "disbursements",
        json!({"allocation": a, "asset": masks(quantity), "channel": "logistics",
            "reference": format!("SF-{receipt}"), "occurred_at": "2020-02-01T10:00:00Z"}),
    ));
    (d, a, x)
}

fn acknowledge(w: &World, disbursement: i64, quantity: &str) -> Reply {
    w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": disbursement}, "asset": masks(quantity),
            "received_at": "2020-02-02T10:00:00Z", "occurred_at": "2020-02-02T11:00:00Z"}),
    )
}

fn disbursement_replacement(allocation: i64, quantity: &str) -> Value {
    json!({"allocation": allocation, "asset": masks(quantity), "channel": "logistics", "reference": "SF-36K"})
}

#[test]
fn the_36000_mask_disbursement_is_corrected_after_the_hospital_confirmed_35000() {
    let w = world();
    let (d, a, x) = sent(&w, "HB-36K", "36000");
    let ack = seq(&acknowledge(&w, x, "35000"));
    let usage = w.s.post(
        "/recipients/wuhan-union-hospital/usage_reports",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": x}, "asset": masks("20000"),
            "description": "ICU", "occurred_at": "2020-02-05T10:00:00Z"}),
    );
    let usage = seq(&usage);

    // A void still needs its dependants voided first, and says which they are.
    let void = post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "wrong", "occurred_at": "2020-02-06T10:00:00Z"}),
    );
    assert_eq!(void.status, 422, "{:?}", void.body);
    assert_eq!(field(&void), "corrects");
    let detail = void.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("acknowledgement.recorded {ack}"))
            && detail.contains(&format!("usage.reported {usage}")),
        "names the dependants: {detail}"
    );

    // Below what arrived: refused, naming the acknowledgement that would break.
    let low = post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "typo", "replacement": disbursement_replacement(a, "30000"), "occurred_at": "2020-02-06T10:00:00Z"}),
    );
    assert_eq!(low.status, 422, "{:?}", low.body);
    assert_eq!(field(&low), "replacement.asset");
    assert!(
        low.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("acknowledgement.recorded {ack}")),
        "{:?}",
        low.body
    );

    // 36,000 → 35,000: accepted; the hospital's statements now stand against the replacement.
    let fix = post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "the table said 36,000; 35,000 were sent", "replacement": disbursement_replacement(a, "35000"), "occurred_at": "2020-02-06T10:00:00Z"}),
    );
    let fixed = seq(&fix);
    assert_eq!(
        fix.body["body"]["replacement"]["asset"]["quantity"],
        "35000.000"
    );

    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-36K/trail"));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let alloc = &trail.body["allocations"][0];
    assert_eq!(
        alloc["undisbursed_from_this_donation"], "1000.000",
        "36,000 allocated, 35,000 sent"
    );
    let step = &alloc["disbursements"][0];
    assert_eq!(step["seq"], fixed);
    assert_eq!(step["from_this_donation"], "35000.000");
    assert_eq!(
        step["acknowledgement"]["seq"], ack,
        "the acknowledgement carried over"
    );
    assert_eq!(step["acknowledgement"]["from_this_donation"], "35000.000");
    assert_eq!(step["usage_reports"][0]["seq"], usage);
    let corrections = trail.body["corrections"].as_array().expect("corrections");
    assert_eq!(corrections.len(), 1, "{corrections:?}");
    assert_eq!(corrections[0]["seq"], fixed);
    assert_eq!(corrections[0]["corrects"], x);
    assert_eq!(corrections[0]["before"]["asset"]["quantity"], "36000.000");
    assert_eq!(corrections[0]["after"]["asset"]["quantity"], "35000.000");
    assert_eq!(corrections[0]["author"]["role"], "charity");

    // The hospital reports more use against the replacement; the usage bound carried over.
    let more = |q: &str| {
        w.s.post(
            "/recipients/wuhan-union-hospital/usage_reports",
            Some(&w.union_hospital),
            &json!({"disbursement": {"organization": ORG, "seq": fixed}, "asset": masks(q),
                "description": "wards", "occurred_at": "2020-02-07T10:00:00Z"}),
        )
    };
    assert_eq!(more("15001").status, 422);
    assert_eq!(more("15000").status, 201);

    let summary = w.s.get(&format!("/organizations/{ORG}/summary"));
    let masks_summary = &summary.body["assets"][0];
    assert_eq!(masks_summary["disbursed"], "35000.000");
    assert_eq!(masks_summary["corrections"], 1);
    let (ok, out, _) = w.s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "derived state equals a replay of the log: {out}");
    let _ = d;
}

#[test]
fn recipients_correct_their_own_statements_and_nobody_else_does() {
    let w = world();
    let (_, _, x) = sent(&w, "HB-1", "1000");
    let ack = seq(&acknowledge(&w, x, "1000"));
    let path = "/recipients/wuhan-union-hospital/corrections";
    let zero = json!({"corrects": {"organization": ORG, "seq": ack}, "reason": "the cartons were empty",
        "replacement": {"asset": masks("0"), "received_at": "2020-02-02T10:00:00Z", "note": "nothing usable arrived"},
        "occurred_at": "2020-02-03T10:00:00Z"});

    // The charity may not correct the hospital's statement.
    let by_charity = post(
        &w,
        "corrections",
        json!({"corrects": ack, "reason": "x", "occurred_at": "2020-02-03T10:00:00Z"}),
    );
    assert_eq!(by_charity.status, 422, "{:?}", by_charity.body);
    assert_eq!(field(&by_charity), "corrects");
    // Another recipient may not, through its own path or this one.
    let other = w.s.post(
        "/recipients/wuhan-jinyintan-hospital/corrections",
        Some(&w.jinyintan),
        &zero,
    );
    assert_eq!(other.status, 403, "{:?}", other.body);
    assert_eq!(field(&other), "corrects");
    let wrong_key = w.s.post(path, Some(&w.jinyintan), &zero);
    assert_eq!(wrong_key.status, 403, "{:?}", wrong_key.body);

    // The hospital replaces its acknowledgement with "0": nothing arrived.
    let fix = w.s.post(path, Some(&w.union_hospital), &zero);
    let fixed = seq(&fix);
    assert_eq!(fix.body["organization"], ORG, "in the organisation's log");
    assert_eq!(
        fix.body["author"],
        json!({"role": "recipient", "subject": "wuhan-union-hospital"})
    );
    assert_eq!(fix.body["body"]["replacement"]["shortfall"], "1000.000");
    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-1/trail"));
    let step = &trail.body["allocations"][0]["disbursements"][0];
    assert_eq!(step["acknowledgement"]["seq"], fixed);
    assert_eq!(step["acknowledgement"]["from_this_donation"], "0.000");
    assert_eq!(trail.body["corrections"][0]["author"]["role"], "recipient");

    // Nothing arrived, so nothing can be reported used.
    let used = w.s.post(
        "/recipients/wuhan-union-hospital/usage_reports",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": x}, "asset": masks("1"),
            "description": "ICU", "occurred_at": "2020-02-05T10:00:00Z"}),
    );
    assert_eq!(used.status, 422, "{:?}", used.body);

    // A void of its own statement leaves the disbursement unacknowledged again.
    let void = w.s.post(path, Some(&w.union_hospital), &json!({"corrects": {"organization": ORG, "seq": fixed}, "reason": "recounted", "occurred_at": "2020-02-04T10:00:00Z"}));
    seq(&void);
    assert!(seq(&acknowledge(&w, x, "990")) > 0);
    let (ok, out, _) = w.s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "{out}");
}

#[test]
fn a_receipt_number_is_never_used_again_and_a_voided_gift_answers_410() {
    let w = world();
    let d = w.donate(
        "HB-9",
        "2020-01-30T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let void = seq(&post(
        &w,
        "corrections",
        json!({"corrects": d, "reason": "entered twice", "occurred_at": "2020-01-31T10:00:00Z"}),
    ));
    let again = post(
        &w,
        "donations",
        donation(
            "HB-9",
            "2020-01-30T10:00:00Z",
            money("10.00"),
            undesignated(),
        ),
    );
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(field(&again), "receipt_number");
    let gone =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-9/trail"));
    assert_eq!(gone.status, 410, "{:?}", gone.body);
    assert_eq!(gone.body["correction"], void);
    assert_eq!(gone.headers["content-type"], "application/problem+json");
    assert_eq!(
        w.s.get(&format!("/organizations/{ORG}/donations/HB-NONE/trail"))
            .status,
        404
    );

    // A replacement keeps its own number; a typo fix moving to a new number burns the old one.
    let e = w.donate(
        "HB-10",
        "2020-01-30T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let mut same = donation(
        "HB-10",
        "2020-01-30T10:00:00Z",
        money("11.00"),
        undesignated(),
    );
    same.as_object_mut().expect("object").remove("occurred_at");
    let kept = seq(&post(
        &w,
        "corrections",
        json!({"corrects": e, "reason": "amount", "replacement": same, "occurred_at": "2020-01-31T10:00:00Z"}),
    ));
    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-10/trail"));
    assert_eq!(trail.body["donation"], kept);
    assert_eq!(
        trail.body["corrections"][0]["before"]["asset"]["amount"],
        "10.00"
    );
}

#[test]
fn money_buys_goods_and_the_trail_follows_the_money_into_the_masks() {
    let w = world();
    let d = w.donate(
        "HB-M",
        "2020-01-30T10:00:00Z",
        money("100000.00"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    let suits = |q: &str| json!({"kind": "goods", "item": "protective suit", "spec": "GB 19082-2009", "unit": "set", "quantity": q});
    let buy = |body: Value| post(&w, "procurements", body);
    let base = json!({"donation": d, "paid": money("50000.00"), "supplier": {"name": "某某防护用品有限公司"},
        "invoice_reference": "FP-2020-0001", "goods": suits("1000"), "occurred_at": "2020-02-01T10:00:00Z"});

    let mut too_much = base.clone();
    too_much["paid"] = money("100000.01");
    let r = buy(too_much);
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(field(&r), "paid");
    let mut early = base.clone();
    early["occurred_at"] = json!("2020-01-29T10:00:00Z");
    let r = buy(early);
    assert_eq!(
        (r.status, field(&r)),
        (422, "occurred_at".to_owned()),
        "{:?}",
        r.body
    );
    let mut goods_paid = base.clone();
    goods_paid["paid"] = suits("1");
    assert_eq!(field(&buy(goods_paid)), "paid");

    let p = buy(base);
    let purchase = seq(&p);
    assert_eq!(p.body["body"]["unit_price"], "50.00");
    assert_eq!(
        p.body["body"]["restriction"]["region_code"], "420100",
        "the goods carry the designation"
    );

    // The goods are a lot: allocate them by the procurement's seq, inside the designation only.
    let outside = w.allocate(json!({"donation": purchase, "recipient": "hangzhou-hospital", "asset": suits("10"), "occurred_at": "2020-02-02T10:00:00Z"}));
    assert_eq!(
        (outside.status, field(&outside)),
        (422, "recipient".to_owned())
    );
    let a = seq(&w.allocate(json!({"donation": purchase, "recipient": "wuhan-union-hospital", "asset": suits("600"), "occurred_at": "2020-02-02T10:00:00Z"})));
    let x = seq(&post(
        &w,
        "disbursements",
        json!({"allocation": a, "asset": suits("600"), "channel": "logistics", "reference": "SF-S1", "occurred_at": "2020-02-03T10:00:00Z"}),
    ));

    let feed = w.s.get(&format!("/organizations/{ORG}/procurements"));
    assert_eq!(feed.status, 200);
    assert_eq!(feed.body["procurements"].as_array().map(Vec::len), Some(1));
    assert_eq!(feed.body["procurements"][0]["seq"], purchase);
    let csv =
        w.s.get(&format!("/organizations/{ORG}/procurements?format=csv"));
    let text = csv.body.as_str().unwrap_or_default();
    assert!(
        text.contains("FP-2020-0001") && text.contains("50.00"),
        "{text}"
    );
    let donations = w.s.get(&format!("/organizations/{ORG}/donations"));
    assert_eq!(
        donations.body["donations"].as_array().map(Vec::len),
        Some(1),
        "a purchase is not a donation"
    );

    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-M/trail"));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    assert_eq!(trail.body["totals"]["procured"], "50000.00");
    assert_eq!(trail.body["totals"]["expenses"], "0.00");
    assert_eq!(trail.body["totals"]["unallocated"], "50000.00");
    let bought = &trail.body["purchases"][0];
    assert_eq!(bought["seq"], purchase);
    assert_eq!(bought["paid_from_this_donation"], "50000.00");
    assert_eq!(bought["goods_from_this_donation"], "1000.000");
    assert_eq!(bought["unit_price"], "50.00");
    assert_eq!(bought["allocations"][0]["seq"], a);
    assert_eq!(bought["allocations"][0]["disbursements"][0]["seq"], x);
    assert_eq!(bought["goods_totals"]["undisbursed"], "0.000");
    assert_eq!(bought["goods_totals"]["unallocated"], "400.000");

    let summary = w.s.get(&format!("/organizations/{ORG}/summary"));
    let assets = summary.body["assets"].as_array().expect("assets");
    let cny = assets
        .iter()
        .find(|x| x["asset"]["kind"] == "money")
        .expect("money");
    assert_eq!(cny["procured"], "50000.00");
    let goods = assets
        .iter()
        .find(|x| x["asset"]["kind"] == "goods")
        .expect("goods");
    assert_eq!(goods["received"], "1000.000");
    assert_eq!(goods["purchased"], "1000.000");

    // The purchase cannot be voided while its goods are allocated; a replacement keeping them is fine.
    let void = post(
        &w,
        "corrections",
        json!({"corrects": purchase, "reason": "x", "occurred_at": "2020-02-04T10:00:00Z"}),
    );
    assert_eq!(void.status, 422);
    let fewer = json!({"donation": d, "paid": money("30000.00"), "supplier": {"name": "某某防护用品有限公司"},
        "invoice_reference": "FP-2020-0001", "goods": suits("500")});
    let r = post(
        &w,
        "corrections",
        json!({"corrects": purchase, "reason": "invoice misread", "replacement": fewer, "occurred_at": "2020-02-04T10:00:00Z"}),
    );
    assert_eq!(
        (r.status, field(&r)),
        (422, "replacement.asset".to_owned()),
        "600 already allocated: {:?}",
        r.body
    );
    let (ok, out, _) = w.s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "{out}");
}

fn city_world() -> World {
    let w = world();
    let r = w.s.post(
        "/recipients",
        Some(&w.s.regulator),
        &json!({"id": "wuhan-federation", "name": "武汉市慈善总会", "kind": "charity", "region_code": "420100", "organization": CITY}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    w
}

#[test]
fn a_transfer_is_recorded_level_by_level_without_losing_quantity_or_designation() {
    let w = city_world();
    let city_key = w.other_charity.clone();
    let d = w.donate(
        "HB-T",
        "2020-01-30T10:00:00Z",
        money("1000000.00"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    let a = seq(&w.allocate(json!({"donation": d, "recipient": "wuhan-federation", "asset": money("1000000.00"), "occurred_at": "2020-01-31T10:00:00Z"})));
    let x = seq(&post(
        &w,
        "disbursements",
        json!({"allocation": a, "asset": money("1000000.00"), "channel": "bank_transfer", "reference": "BANK-1", "occurred_at": "2020-02-01T10:00:00Z"}),
    ));
    let record = |amount: &str, restriction: Value, extra: Value| {
        let mut body = json!({"receipt_number": format!("WH-{amount}"), "occurred_at": "2020-02-02T10:00:00Z",
            "donor": {"name": "湖北省红十字会", "kind": "organization", "anonymous": false},
            "channel": "transfer_from_charity", "restriction": restriction, "asset": money(amount),
            "source_disbursement": {"organization": ORG, "disbursement": x}});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        w.s.post(
            &format!("/organizations/{CITY}/donations"),
            Some(&city_key),
            &body,
        )
    };
    let kept = json!({"kind": "designated", "region_code": "420100"});

    let dropped = record("600000.00", undesignated(), json!({}));
    assert_eq!(
        (dropped.status, field(&dropped)),
        (422, "restriction".to_owned()),
        "{:?}",
        dropped.body
    );
    let wider = record(
        "600000.00",
        json!({"kind": "designated", "region_code": "420000"}),
        json!({}),
    );
    assert_eq!(field(&wider), "restriction");
    let wrong_channel = record(
        "600000.00",
        kept.clone(),
        json!({"channel": "bank_transfer"}),
    );
    assert_eq!(field(&wrong_channel), "channel");
    let early = record(
        "600000.00",
        kept.clone(),
        json!({"occurred_at": "2020-01-31T10:00:00Z"}),
    );
    assert_eq!(field(&early), "occurred_at");
    let first = record("600000.00", kept.clone(), json!({}));
    assert_eq!(first.status, 201, "{:?}", first.body);
    let over = record("400000.01", kept.clone(), json!({}));
    assert_eq!(
        (over.status, field(&over)),
        (422, "asset".to_owned()),
        "only 400,000 remain unrecorded"
    );
    let consented = record(
        "400000.00",
        undesignated(),
        json!({"designation_change": {"reason": "donor agreed to city-wide use", "donor_consent_reference": "HB-LETTER-7"}}),
    );
    assert_eq!(consented.status, 201, "{:?}", consented.body);

    // The source disbursement stays live-dependent while the city records it.
    let void = post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "x", "occurred_at": "2020-02-03T10:00:00Z"}),
    );
    assert_eq!(void.status, 422, "{:?}", void.body);
    assert!(
        void.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(CITY),
        "{:?}",
        void.body
    );

    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/HB-T/trail"));
    let onward = &trail.body["allocations"][0]["disbursements"][0]["onward"];
    assert_eq!(onward["organization"], CITY, "{:?}", trail.body);
}

#[test]
fn a_corrected_source_disbursement_keeps_what_the_receiver_recorded_of_it() {
    let w = city_world();
    let city_key = w.other_charity.clone();
    let d = w.donate(
        "HB-T2",
        "2020-01-30T10:00:00Z",
        money("1000000.00"),
        undesignated(),
    );
    let a = seq(&w.allocate(json!({"donation": d, "recipient": "wuhan-federation", "asset": money("1000000.00"), "occurred_at": "2020-01-31T10:00:00Z"})));
    let sent = |amount: &str| json!({"allocation": a, "asset": money(amount), "channel": "bank_transfer", "reference": "BANK-2"});
    let mut first = sent("900000.00");
    first["occurred_at"] = json!("2020-02-01T10:00:00Z");
    let x = seq(&post(&w, "disbursements", first));
    let record = |amount: &str, source: i64, receipt: &str| {
        w.s.post(
            &format!("/organizations/{CITY}/donations"),
            Some(&city_key),
            &json!({"receipt_number": receipt, "occurred_at": "2020-02-02T10:00:00Z",
                "donor": {"name": "湖北省红十字会", "kind": "organization", "anonymous": false},
                "channel": "transfer_from_charity", "restriction": undesignated(), "asset": money(amount),
                "source_disbursement": {"organization": ORG, "disbursement": source}}),
        )
    };
    seq(&record("600000.00", x, "WH-1"));
    // Below what the city recorded: refused, naming the city's donation.
    let low = post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "typo", "replacement": sent("500000.00"), "occurred_at": "2020-02-03T10:00:00Z"}),
    );
    assert_eq!(
        (low.status, field(&low)),
        (422, "replacement.asset".to_owned()),
        "{:?}",
        low.body
    );
    assert!(
        low.body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(CITY),
        "{:?}",
        low.body
    );
    // The whole million was sent: the replacement lives at the correction's seq, and what the
    // city recorded against the old seq still counts against it.
    let y = seq(&post(
        &w,
        "corrections",
        json!({"corrects": x, "reason": "the whole million was sent", "replacement": sent("1000000.00"), "occurred_at": "2020-02-03T10:00:00Z"}),
    ));
    let old = record("1.00", x, "WH-2");
    assert_eq!(
        old.status, 422,
        "the corrected seq is no longer a live disbursement: {:?}",
        old.body
    );
    let over = record("400000.01", y, "WH-3");
    assert_eq!(
        (over.status, field(&over)),
        (422, "asset".to_owned()),
        "600,000 of it is recorded: {:?}",
        over.body
    );
    seq(&record("400000.00", y, "WH-4"));
    let void = post(
        &w,
        "corrections",
        json!({"corrects": y, "reason": "x", "occurred_at": "2020-02-04T10:00:00Z"}),
    );
    assert_eq!(
        void.status, 422,
        "still live-dependent through both records: {:?}",
        void.body
    );
    let (ok, out, _) = w.s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "{out}");
}

#[test]
fn write_time_rules_on_costs_dates_and_goods_keys() {
    let w = world();
    let designated = w.donate(
        "HB-D",
        "2020-01-30T10:00:00Z",
        money("1000.00"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    let allowed = w.donate(
        "HB-C",
        "2020-01-30T10:00:00Z",
        money("1000.00"),
        json!({"kind": "designated", "region_code": "420100", "costs_allowed": true}),
    );
    let expense = |donation: i64, extra: Value| {
        let mut body = json!({"donation": donation, "asset": money("10.00"), "description": "trucking", "occurred_at": "2020-02-01T10:00:00Z"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        post(&w, "expenses", body)
    };
    let refused = expense(designated, json!({}));
    assert_eq!(
        (refused.status, field(&refused)),
        (422, "donation".to_owned()),
        "{:?}",
        refused.body
    );
    assert_eq!(expense(allowed, json!({})).status, 201);
    let consent = expense(
        designated,
        json!({"designation_change": {"reason": "donor agreed", "donor_consent_reference": "L-1"}}),
    );
    assert_eq!(consent.status, 201, "{:?}", consent.body);
    let early = expense(allowed, json!({"occurred_at": "2020-01-29T10:00:00Z"}));
    assert_eq!(
        (early.status, field(&early)),
        (422, "occurred_at".to_owned())
    );

    // Dates in order along the chain.
    let d = w.donate("HB-G", "2020-01-30T10:00:00Z", masks("100"), undesignated());
    let before = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": masks("10"), "occurred_at": "2020-01-29T10:00:00Z"}));
    assert_eq!(
        (before.status, field(&before)),
        (422, "occurred_at".to_owned())
    );
    // Goods keys compare after normalising: "Piece" is "piece", extra spaces do not matter.
    let mut odd = masks("10");
    odd["unit"] = json!("Piece");
    odd["item"] = json!("N95  respirator ");
    let a = w.allocate(json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": odd, "occurred_at": "2020-01-31T10:00:00Z"}));
    let a = seq(&a);
    let log = w.s.log(ORG);
    assert_eq!(
        log[(a - 1) as usize]["body"]["asset"]["unit"],
        "Piece",
        "the body keeps what was sent"
    );
    let x = post(
        &w,
        "disbursements",
        json!({"allocation": a, "asset": masks("10"), "channel": "logistics", "reference": "SF-G", "occurred_at": "2020-01-30T12:00:00Z"}),
    );
    assert_eq!(
        (x.status, field(&x)),
        (422, "occurred_at".to_owned()),
        "before its allocation"
    );
    let x = seq(&post(
        &w,
        "disbursements",
        json!({"allocation": a, "asset": masks("10"), "channel": "logistics", "reference": "SF-G", "occurred_at": "2020-02-01T10:00:00Z"}),
    ));
    let early_ack = w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": x}, "asset": masks("10"),
            "received_at": "2020-02-01T12:00:00Z", "occurred_at": "2020-01-31T11:00:00Z"}),
    );
    assert_eq!(
        (early_ack.status, field(&early_ack)),
        (422, "occurred_at".to_owned())
    );
    let ack = w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": x}, "asset": masks("10"),
            "received_at": "2020-02-02T10:00:00Z", "occurred_at": "2020-02-02T11:00:00Z"}),
    );
    seq(&ack);
    let early_use = w.s.post(
        "/recipients/wuhan-union-hospital/usage_reports",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": x}, "asset": masks("1"),
            "description": "ICU", "occurred_at": "2020-02-02T10:30:00Z"}),
    );
    assert_eq!(
        (early_use.status, field(&early_use)),
        (422, "occurred_at".to_owned()),
        "before the acknowledgement"
    );
}
