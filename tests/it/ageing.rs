//! Stock ageing in the summaries (`ageing` per asset), over HTTP against the real server
//! (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set): lots written at known dates,
//! summaries asked as at chosen moments (`?to=`), and every bucket compared with what this test
//! works out itself from what it wrote, one part at a time.

use crate::common;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use common::*;
use serde_json::{json, Value};

const CAMPAIGN: &str = "relief";
const BUCKETS: [&str; 5] = ["under_24h", "1d_to_3d", "3d_to_7d", "7d_to_30d", "over_30d"];

/// Now, at the microsecond precision the server keeps.
fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_micros(Utc::now().timestamp_micros()).expect("now")
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `"1234.50"` → 123450 (CNY fen); `"500"` / `"500.000"` → 500000 (goods thousandths).
fn units(s: &str, decimals: u32) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut frac = frac.to_owned();
    while frac.len() < decimals as usize {
        frac.push('0');
    }
    let int: i64 = int.parse().expect("an integer part");
    int * 10_i64.pow(decimals) + frac.parse::<i64>().unwrap_or(0)
}

fn fen(s: &Value) -> i64 {
    units(s.as_str().expect("a decimal string"), 2)
}

/// What this test expects of one stage: every part held (since, fen) classified on its own by
/// its age at `as_at`, and the whole hours of the oldest.
fn expected(parts: &[(DateTime<Utc>, i64)], as_at: DateTime<Utc>) -> ([i64; 5], Option<i64>) {
    let mut b = [0; 5];
    for (since, n) in parts.iter().filter(|p| p.1 > 0) {
        let age = as_at - *since;
        let i = if age < Duration::hours(24) {
            0
        } else if age < Duration::hours(72) {
            1
        } else if age < Duration::days(7) {
            2
        } else if age < Duration::days(30) {
            3
        } else {
            4
        };
        b[i] += n;
    }
    let oldest = parts
        .iter()
        .filter(|p| p.1 > 0)
        .map(|p| p.0)
        .min()
        .map(|s| (as_at - s).num_hours().max(0));
    (b, oldest)
}

fn cny(summary: &Value) -> Value {
    summary["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .find(|a| a["asset"] == json!({"kind": "money", "currency": "CNY"}))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The CNY summary of `path` (an organisation's or a campaign's) as at `as_at` has, for each
/// stage, exactly the buckets of its parts, which add up to the stage's total.
fn check(
    s: &Server,
    path: &str,
    as_at: DateTime<Utc>,
    unallocated: &[(DateTime<Utc>, i64)],
    undisbursed: &[(DateTime<Utc>, i64)],
    when: &str,
) {
    let r = s.get(&format!("{path}?to={}", rfc(as_at)));
    assert_eq!(r.status, 200, "{when}: {:?}", r.body);
    let a = cny(&r.body);
    for (stage, parts) in [("unallocated", unallocated), ("undisbursed", undisbursed)] {
        let served = &a["ageing"][stage];
        let (want, oldest) = expected(parts, as_at);
        let got: Vec<i64> = BUCKETS.iter().map(|b| fen(&served[*b])).collect();
        assert_eq!(got, want, "{when}: {stage} buckets {served}");
        assert_eq!(
            served["oldest_hours"].as_i64(),
            oldest,
            "{when}: {stage} oldest {served}"
        );
        assert_eq!(
            got.iter().sum::<i64>(),
            fen(&a[stage]),
            "{when}: the {stage} buckets add up to {stage}"
        );
        assert_eq!(
            got.iter().sum::<i64>(),
            parts.iter().map(|p| p.1).sum::<i64>(),
            "{when}: {stage} is what this test left held"
        );
    }
}

fn post(w: &World, what: &str, body: Value) -> Value {
    let r = w.s.post(
        &format!("/organizations/{ORG}/{what}"),
        Some(&w.charity),
        &body,
    );
    assert_eq!(r.status, 201, "{what}: {:?}", r.body);
    r.body
}

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().expect("seq")
}

#[test]
fn ageing_buckets_follow_time_allocations_disbursements_and_corrections() {
    let w = world();
    let org = format!("/organizations/{ORG}/summary");
    let camp = format!("/organizations/{ORG}/campaigns/{CAMPAIGN}/summary");
    let t0 = now();
    let ago = |h: i64| t0 - Duration::hours(h);
    post(
        &w,
        "campaigns",
        json!({"id": CAMPAIGN, "title": "救灾", "region_code": "420100", "public_fundraising": true,
            "record_number": "REC-9", "starts_at": rfc(ago(60 * 24)), "occurred_at": rfc(ago(60 * 24))}),
    );
    let mut c1 = donation("AG-C1", &rfc(ago(45 * 24)), money("70.00"), undesignated());
    c1["campaign"] = json!(CAMPAIGN);
    let c1 = seq(&post(&w, "donations", c1));
    let gift = |receipt: &str, at: DateTime<Utc>, amount: &str| {
        w.donate(receipt, &rfc(at), money(amount), undesignated())
    };
    let d1 = gift("AG-D1", ago(40 * 24), "1000.00");
    let d2 = gift("AG-D2", ago(10 * 24), "200.00");
    let d3 = gift("AG-D3", ago(100), "30.00");
    let d4 = gift("AG-D4", ago(30), "4.00");
    let masks_at = ago(2);
    w.donate("AG-M1", &rfc(masks_at), masks("500"), undesignated());

    // Nothing allocated: everything waits unallocated, nothing undisbursed.
    let lots = vec![
        (ago(45 * 24), 7_000),
        (ago(40 * 24), 100_000),
        (ago(10 * 24), 20_000),
        (ago(100), 3_000),
        (ago(30), 400),
    ];
    let campaign_lots = vec![(ago(45 * 24), 7_000)];
    let t1 = now();
    for later in [Duration::zero(), Duration::hours(48), Duration::days(21)] {
        let at = t1 + later;
        check(&w.s, &org, at, &lots, &[], &format!("donated, +{later}"));
        check(
            &w.s,
            &camp,
            at,
            &campaign_lots,
            &[],
            &format!("campaign, +{later}"),
        );
    }
    // The buckets do move: 30-hour-old D4 is 1–3 days old now and 3–7 days old in two days.
    let now_ = w.s.get(&format!("{org}?to={}", rfc(t1)));
    let later =
        w.s.get(&format!("{org}?to={}", rfc(t1 + Duration::hours(48))));
    assert_eq!(cny(&now_.body)["ageing"]["unallocated"]["1d_to_3d"], "4.00");
    assert_eq!(
        cny(&later.body)["ageing"]["unallocated"]["1d_to_3d"],
        "0.00"
    );
    // Goods are aged in their own units; nothing is held in an asset's stage: null oldest.
    let goods = now_.body["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .find(|a| a["asset"]["kind"] == "goods")
        .cloned()
        .expect("masks");
    assert_eq!(
        units(
            goods["ageing"]["unallocated"]["under_24h"]
                .as_str()
                .expect("str"),
            3
        ),
        500_000
    );
    assert_eq!(
        goods["ageing"]["unallocated"]["oldest_hours"],
        json!((t1 - masks_at).num_hours())
    );
    assert_eq!(goods["ageing"]["undisbursed"]["oldest_hours"], Value::Null);

    // A pool allocation draws the oldest undesignated lots first (C1 whole, then 30.00 of D1);
    // an allocation of D2 takes 150.00 of it. Both now wait undisbursed, from their own dates.
    let pool_at = ago(5);
    let pool = post(
        &w,
        "allocations",
        json!({"pool": true, "recipient": "wuhan-union-hospital", "purpose": "ICU", "asset": money("100.00"), "occurred_at": rfc(pool_at)}),
    );
    let drawn = &pool["body"]["drawn_from"];
    assert_eq!(
        drawn[0],
        json!({"donation": c1, "amount": "70.00"}),
        "{drawn}"
    );
    assert_eq!(
        drawn[1],
        json!({"donation": d1, "amount": "30.00"}),
        "{drawn}"
    );
    let a_at = ago(3);
    post(
        &w,
        "allocations",
        json!({"donation": d2, "recipient": "wuhan-jinyintan-hospital", "purpose": "ward", "asset": money("150.00"), "occurred_at": rfc(a_at)}),
    );
    let allocated_lots = vec![
        (ago(40 * 24), 97_000),
        (ago(10 * 24), 5_000),
        (ago(100), 3_000),
        (ago(30), 400),
    ];
    let undisbursed = vec![(pool_at, 10_000), (a_at, 15_000)];
    let t2 = now();
    for later in [Duration::zero(), Duration::hours(48), Duration::days(40)] {
        let at = t2 + later;
        check(
            &w.s,
            &org,
            at,
            &allocated_lots,
            &undisbursed,
            &format!("allocated, +{later}"),
        );
        // The campaign's share of the pool allocation is its own lot's 70.00.
        check(
            &w.s,
            &camp,
            at,
            &[],
            &[(pool_at, 7_000)],
            &format!("campaign allocated, +{later}"),
        );
    }

    // Sending 80.00 of the pool allocation sends C1's 70.00 first, then 10.00 of D1's.
    post(
        &w,
        "disbursements",
        json!({"allocation": seq(&pool), "asset": money("80.00"), "channel": "bank_transfer", "reference": "AG-T1", "occurred_at": rfc(ago(1))}),
    );
    let sent = vec![(pool_at, 2_000), (a_at, 15_000)];
    let t3 = now();
    check(&w.s, &org, t3, &allocated_lots, &sent, "disbursed");
    check(&w.s, &camp, t3, &[], &[], "campaign disbursed");
    // As the log stood before the disbursement was recorded, it was still waiting.
    check(
        &w.s,
        &org,
        t2,
        &allocated_lots,
        &undisbursed,
        "as at before the disbursement",
    );
    // Before anything was recorded, nothing was held at all.
    let before =
        w.s.get(&format!("{org}?to={}", rfc(t0 - Duration::minutes(1))));
    assert_eq!(before.status, 200, "{:?}", before.body);
    assert_eq!(before.body["assets"], json!([]));

    // A correction re-dates and re-sizes D3 (30.00 100 hours ago → 60.00 12 hours ago) and
    // another voids D4: the ageing follows the live versions.
    let d3_fixed = donation("AG-D3", &rfc(ago(12)), money("60.00"), undesignated());
    post(
        &w,
        "corrections",
        json!({"corrects": d3, "reason": "amount and date keyed wrong", "replacement": d3_fixed, "occurred_at": rfc(now())}),
    );
    post(
        &w,
        "corrections",
        json!({"corrects": d4, "reason": "recorded twice", "occurred_at": rfc(now())}),
    );
    let corrected = vec![
        (ago(40 * 24), 97_000),
        (ago(10 * 24), 5_000),
        (ago(12), 6_000),
    ];
    let t4 = now();
    check(&w.s, &org, t4, &corrected, &sent, "corrected");
    check(
        &w.s,
        &org,
        t4 + Duration::hours(13),
        &corrected,
        &sent,
        "corrected, +13h",
    );

    // Without `to`: now. A `to` that is not a date is refused naming the field.
    let plain = w.s.get(&org);
    assert_eq!(plain.status, 200, "{:?}", plain.body);
    assert_eq!(
        cny(&plain.body)["ageing"]["unallocated"]["over_30d"],
        "970.00"
    );
    let bad = w.s.get(&format!("{org}?to=yesterday"));
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(bad.headers["content-type"], "application/problem+json");
    assert_eq!(bad.body["errors"][0]["field"], "to", "{:?}", bad.body);
    let bad = w.s.get(&format!("{camp}?to=2020-13-01"));
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(bad.body["errors"][0]["field"], "to", "{:?}", bad.body);
}
