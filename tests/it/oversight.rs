//! Oversight over HTTP (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set): recipients'
//! ownership and designated-hospital status, and the reconciliation sections that compare an
//! organisation's books with what others posted or recorded: needs (goods sent past an urgent
//! need, a critical need left waiting while goods sat unallocated), transfers (what a linked
//! charity recorded of a disbursement) and procurement (a unit price far above what others paid).
//! Each finding kind is provoked once and shown absent from a clean case.

use crate::common;

use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use serde_json::{json, Value};

/// RFC 3339 of now + `minutes` (negative: the past).
fn at_min(minutes: i64) -> String {
    (Utc::now() + Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 3339 of now + `hours`.
fn at(hours: i64) -> String {
    at_min(hours * 60)
}

fn created(r: Reply) -> Value {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

fn seq(r: Reply) -> i64 {
    created(r)["seq"].as_i64().expect("seq")
}

fn post(w: &World, org: &str, key: &str, what: &str, body: Value) -> i64 {
    seq(w
        .s
        .post(&format!("/organizations/{org}/{what}"), Some(key), &body))
}

/// The report on `org` as at `to` (now when `None`), as the regulator reads it.
fn report(w: &World, org: &str, to: Option<&str>) -> Value {
    let q = to.map(|t| format!("?to={t}")).unwrap_or_default();
    let r = w.s.get_as(
        &format!("/organizations/{org}/reconciliation{q}"),
        &w.s.regulator,
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

fn of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn entries_of(f: &Value) -> Vec<(String, i64)> {
    f["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["organization"].as_str().expect("organization").to_owned(),
                e["seq"].as_i64().expect("seq"),
            )
        })
        .collect()
}

fn register(w: &World, body: Value) {
    created(w.s.post("/recipients", Some(&w.s.regulator), &body));
}

trait GetAs {
    fn get_as(&self, path: &str, key: &str) -> Reply;
}

impl GetAs for Server {
    fn get_as(&self, path: &str, key: &str) -> Reply {
        let r = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("client")
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .expect("GET");
        Server::reply(r)
    }
}

#[test]
fn ownership_and_designated_hospital_round_trip() {
    let w = world();
    register(
        &w,
        json!({"id": "wuhan-fever-hospital", "name": "武汉市金银潭医院", "kind": "hospital",
               "region_code": "420105", "ownership": "public", "designated_hospital": true}),
    );
    let r = w.s.get("/recipients/wuhan-fever-hospital");
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["ownership"], "public");
    assert_eq!(r.body["designated_hospital"], true);
    // Both optional: unknown ownership, not designated.
    let r = w.s.get("/recipients/wuhan-union-hospital");
    assert_eq!(r.body["ownership"], Value::Null);
    assert_eq!(r.body["designated_hospital"], false);
    let bad = w.s.post(
        "/recipients",
        Some(&w.s.regulator),
        &json!({"id": "x-hospital", "name": "X", "kind": "hospital", "region_code": "420105",
                "ownership": "state"}),
    );
    assert!(
        [400, 422].contains(&bad.status),
        "{} {:?}",
        bad.status,
        bad.body
    );
    let list = w.s.get("/recipients");
    let fever = list.body["recipients"]
        .as_array()
        .expect("recipients")
        .iter()
        .find(|r| r["id"] == "wuhan-fever-hospital")
        .cloned()
        .expect("listed");
    assert_eq!(
        (&fever["ownership"], &fever["designated_hospital"]),
        (&json!("public"), &json!(true))
    );
    let csv = w.s.get("/recipients?format=csv");
    let text = csv.body.as_str().unwrap_or_default().to_owned();
    let header = text.lines().next().unwrap_or_default().trim_end();
    assert!(
        header.contains("organization,ownership,designated_hospital,registered_by_role,registered_by,confirmed_at"),
        "{header}"
    );
    assert!(
        text.lines()
            .map(str::trim_end)
            .any(|l| l.starts_with("wuhan-fever-hospital,") && l.contains(",public,true,")),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Needs

/// A designated public fever hospital (with its key) and a private hospital, both in Wuhan.
fn needs_world() -> (World, String) {
    let w = world();
    register(
        &w,
        json!({"id": "wuhan-fever-hospital", "name": "武汉市金银潭医院", "kind": "hospital",
               "region_code": "420105", "ownership": "public", "designated_hospital": true}),
    );
    register(
        &w,
        json!({"id": "wuhan-private-hospital", "name": "武汉某民营医院", "kind": "hospital",
               "region_code": "420102", "ownership": "private"}),
    );
    let fever = recipient_key(&w.s, "wuhan-fever-hospital");
    (w, fever)
}

fn need(w: &World, recipient: &str, key: &str, quantity: &str, urgency: &str) -> String {
    let r = created(w.s.post(
        &format!("/recipients/{recipient}/needs"),
        Some(key),
        &json!({"item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece",
                "quantity": quantity, "urgency": urgency, "note": "fever wards"}),
    ));
    r["id"].as_str().expect("need id").to_owned()
}

/// Allocate masks `minute` minutes from now (one allocation a minute keeps their order plain).
fn allocate_masks(
    w: &World,
    donation: i64,
    recipient: &str,
    q: &str,
    need: Option<&str>,
    minute: i64,
) -> i64 {
    let mut body = json!({"donation": donation, "recipient": recipient, "purpose": "protection",
                          "asset": masks(q), "occurred_at": at_min(minute)});
    if let Some(n) = need {
        body["need"] = json!(n);
    }
    seq(w.allocate(body))
}

#[test]
fn masks_sent_past_a_designated_hospitals_critical_need_are_flagged() {
    let (w, fever) = needs_world();
    let d = w.donate("HB-N1", &at(-48), masks("20000"), undesignated());
    let n = need(&w, "wuhan-fever-hospital", &fever, "16000", "critical");
    let private = allocate_masks(&w, d, "wuhan-private-hospital", "16000", None, 1);
    let union = allocate_masks(&w, d, "wuhan-union-hospital", "1000", None, 2);
    let r = report(&w, ORG, None);
    let found = of_kind(&r, "allocation_bypassed_need");
    assert_eq!(found.len(), 2, "{r:#}");
    let to_private = found
        .iter()
        .find(|f| entries_of(f) == [(ORG.to_owned(), private)])
        .expect("the allocation to the private hospital");
    assert_eq!(to_private["section"], "needs");
    assert_eq!(to_private["severity"], "violation");
    let message = to_private["message"].as_str().unwrap_or_default();
    for words in [
        "wuhan-private-hospital (private)",
        "wuhan-fever-hospital (designated hospital, public)",
        &n,
        "critical",
        "16000",
    ] {
        assert!(message.contains(words), "{words}: {message}");
    }
    let to_union = found
        .iter()
        .find(|f| entries_of(f) == [(ORG.to_owned(), union)])
        .expect("the allocation to the union hospital");
    assert_eq!(to_union["severity"], "warning");
    // The CSV and the command line say the same.
    let csv = w.s.get_as(
        &format!("/organizations/{ORG}/reconciliation?format=csv"),
        &w.s.regulator,
    );
    let text = csv.body.as_str().unwrap_or_default();
    assert!(
        text.contains("allocation_bypassed_need") && text.contains("wuhan-fever-hospital"),
        "{text}"
    );
    let (ok, out, err) = w.s.db.cli(&["reconcile", "--org", ORG]);
    assert!(ok, "reconcile: {err}");
    let cli: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(of_kind(&cli, "allocation_bypassed_need").len(), 2);
}

#[test]
fn allocations_serving_needs_or_after_needs_are_covered_are_not_flagged() {
    let (w, fever) = needs_world();
    let private_key = recipient_key(&w.s, "wuhan-private-hospital");
    let d = w.donate("HB-N2", &at(-48), masks("20000"), undesignated());
    // A normal need is not urgent enough to count as passed over.
    need(&w, "wuhan-fever-hospital", &fever, "100", "normal");
    let critical = need(&w, "wuhan-fever-hospital", &fever, "5000", "critical");
    let own = need(&w, "wuhan-private-hospital", &private_key, "2000", "high");
    // The private hospital had asked for masks itself: not a bypass, though the critical need
    // was still waiting.
    allocate_masks(&w, d, "wuhan-private-hospital", "2000", None, 1);
    // Allocations naming a need serve it.
    allocate_masks(&w, d, "wuhan-fever-hospital", "5000", Some(&critical), 2);
    allocate_masks(&w, d, "wuhan-private-hospital", "2000", Some(&own), 3);
    // Every urgent need is pledged in full by now: sending masks to Hangzhou bypasses nothing.
    allocate_masks(&w, d, "hangzhou-hospital", "1000", None, 4);
    let r = report(&w, ORG, None);
    assert!(of_kind(&r, "allocation_bypassed_need").is_empty(), "{r:#}");
}

#[test]
fn a_critical_need_left_waiting_while_masks_sat_unallocated_is_flagged_after_a_day() {
    let (w, fever) = needs_world();
    let d = w.donate("HB-N3", &at(-72), masks("20000"), undesignated());
    let n = need(&w, "wuhan-fever-hospital", &fever, "8000", "critical");
    // Within the first day the need may still wait.
    let now = report(&w, ORG, None);
    assert!(of_kind(&now, "need_unmet_while_stock_held").is_empty());
    let later = report(&w, ORG, Some(&at(30)));
    let found = of_kind(&later, "need_unmet_while_stock_held");
    assert_eq!(found.len(), 1, "{later:#}");
    assert_eq!(found[0]["section"], "needs");
    assert_eq!(found[0]["severity"], "warning");
    assert_eq!(entries_of(found[0]), [(ORG.to_owned(), d)]);
    let message = found[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&n) && message.contains("20000") && message.contains("8000"),
        "{message}"
    );
}

#[test]
fn a_need_its_recipient_withdrew_is_neither_bypassed_nor_left_waiting() {
    let (w, fever) = needs_world();
    let d = w.donate("HB-N6", &at(-72), masks("20000"), undesignated());
    let n = need(&w, "wuhan-fever-hospital", &fever, "16000", "critical");
    let r = w.s.post(
        &format!("/recipients/wuhan-fever-hospital/needs/{n}/withdrawals"),
        Some(&fever),
        &json!({"reason": "supplied by the municipal health commission"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Withdrawn before the masks went elsewhere: nothing was passed over, nothing waited.
    allocate_masks(&w, d, "wuhan-private-hospital", "16000", None, 1);
    let later = report(&w, ORG, Some(&at(30)));
    assert!(
        of_kind(&later, "allocation_bypassed_need").is_empty()
            && of_kind(&later, "need_unmet_while_stock_held").is_empty(),
        "{later:#}"
    );
}

#[test]
fn a_critical_need_pledged_at_once_or_goods_designated_elsewhere_are_not_flagged() {
    let (w, fever) = needs_world();
    let d = w.donate("HB-N4", &at(-72), masks("20000"), undesignated());
    // Goods the donor designated for Hangzhou cannot serve a Wuhan need.
    w.donate(
        "HB-N5",
        &at(-72),
        masks("5000"),
        json!({"kind": "designated", "region_code": "330000"}),
    );
    let n = need(&w, "wuhan-fever-hospital", &fever, "8000", "critical");
    allocate_masks(&w, d, "wuhan-fever-hospital", "8000", Some(&n), 1);
    let later = report(&w, ORG, Some(&at(30)));
    assert!(
        of_kind(&later, "need_unmet_while_stock_held").is_empty(),
        "{later:#}"
    );
    // Nor does the other charity, which holds no masks.
    let other = report(&w, OTHER_ORG, Some(&at(30)));
    assert!(of_kind(&other, "need_unmet_while_stock_held").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Transfers

/// The world with `wuhan-federation`, a recipient linked to the city federation.
fn transfer_world() -> World {
    let w = world();
    register(
        &w,
        json!({"id": "wuhan-federation", "name": "武汉市慈善总会", "kind": "charity",
               "region_code": "420100", "organization": OTHER_ORG}),
    );
    w
}

/// Donate, allocate and disburse `amount` to the federation on the given dates; the
/// disbursement's seq.
fn send(w: &World, receipt: &str, amount: &str, restriction: Value, dates: [&str; 3]) -> i64 {
    let d = w.donate(receipt, dates[0], money(amount), restriction);
    let a = seq(
        w.allocate(json!({"donation": d, "recipient": "wuhan-federation",
        "purpose": "city relief", "asset": money(amount), "occurred_at": dates[1]})),
    );
    post(
        w,
        ORG,
        &w.charity,
        "disbursements",
        json!({"allocation": a, "asset": money(amount), "channel": "bank_transfer",
               "reference": format!("BANK-{receipt}"), "occurred_at": dates[2]}),
    )
}

/// The federation records (part of) disbursement `x`.
fn record(w: &World, x: i64, amount: &str, restriction: Value, extra: Value) -> i64 {
    let mut body = json!({"receipt_number": format!("WH-{x}-{amount}"), "occurred_at": at(-1),
        "donor": {"name": "湖北省红十字会", "kind": "organization", "anonymous": false},
        "channel": "transfer_from_charity", "restriction": restriction, "asset": money(amount),
        "source_disbursement": {"organization": ORG, "disbursement": x}});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    post(w, OTHER_ORG, &w.other_charity, "donations", body)
}

#[test]
fn a_transfer_the_receiver_never_recorded_is_flagged_after_its_deadline() {
    let w = transfer_world();
    let x = send(
        &w,
        "HB-T1",
        "300000.00",
        undesignated(),
        [
            "2020-01-30T10:00:00Z",
            "2020-01-31T10:00:00Z",
            "2020-02-01T10:00:00Z",
        ],
    );
    let r = report(&w, ORG, None);
    let found = of_kind(&r, "transfer_not_recorded");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["section"], "transfers");
    assert_eq!(found[0]["severity"], "warning");
    assert_eq!(entries_of(found[0]), [(ORG.to_owned(), x)]);
    let message = found[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(OTHER_ORG) && message.contains("has not recorded"),
        "{message}"
    );
}

#[test]
fn a_transfer_recorded_in_full_within_its_deadline_is_not_flagged() {
    let w = transfer_world();
    let x = send(
        &w,
        "HB-T2",
        "300000.00",
        undesignated(),
        [&at(-5), &at(-4), &at(-3)],
    );
    // Before the deadline, nothing is due yet.
    let before = report(&w, ORG, None);
    assert!(of_kind(&before, "transfer_not_recorded").is_empty());
    record(&w, x, "100000.00", undesignated(), json!({}));
    record(&w, x, "200000.00", undesignated(), json!({}));
    let later = report(&w, ORG, Some(&at(24 * 100)));
    for kind in [
        "transfer_not_recorded",
        "transfer_quantity_differs",
        "transfer_designation_changed",
    ] {
        assert!(of_kind(&later, kind).is_empty(), "{kind}: {later:#}");
    }
}

#[test]
fn a_transfer_recorded_short_is_flagged_once_its_deadline_passed() {
    let w = transfer_world();
    let x = send(
        &w,
        "HB-T3",
        "300000.00",
        undesignated(),
        [&at(-5), &at(-4), &at(-3)],
    );
    let y = record(&w, x, "30000.00", undesignated(), json!({}));
    // The receiver may still record the rest until the deadline.
    let now = report(&w, ORG, None);
    assert!(of_kind(&now, "transfer_quantity_differs").is_empty());
    let later = report(&w, ORG, Some(&at(24 * 100)));
    let found = of_kind(&later, "transfer_quantity_differs");
    assert_eq!(found.len(), 1, "{later:#}");
    assert_eq!(found[0]["severity"], "warning");
    assert_eq!(
        entries_of(found[0]),
        [(ORG.to_owned(), x), (OTHER_ORG.to_owned(), y)]
    );
    let message = found[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("30000.00") && message.contains("270000.00 short"),
        "{message}"
    );
    // Recorded on time, if short: not also "not recorded".
    assert!(of_kind(&later, "transfer_not_recorded").is_empty());
}

#[test]
fn a_designation_dropped_by_consent_on_the_receiving_books_is_reported() {
    let w = transfer_world();
    let wuhan = json!({"kind": "designated", "region_code": "420100"});
    let kept = send(
        &w,
        "HB-T4",
        "1000.00",
        wuhan.clone(),
        [&at(-5), &at(-4), &at(-3)],
    );
    let dropped = send(
        &w,
        "HB-T5",
        "2000.00",
        wuhan.clone(),
        [&at(-5), &at(-4), &at(-3)],
    );
    record(&w, kept, "1000.00", wuhan, json!({}));
    let y = record(
        &w,
        dropped,
        "2000.00",
        undesignated(),
        json!({"designation_change": {"reason": "the donor widened the gift to all of Hubei",
                                      "donor_consent_reference": "CONSENT-2020-7"}}),
    );
    let r = report(&w, ORG, None);
    let found = of_kind(&r, "transfer_designation_changed");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["severity"], "info");
    assert_eq!(
        entries_of(found[0]),
        [(ORG.to_owned(), dropped), (OTHER_ORG.to_owned(), y)]
    );
    assert!(found[0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("CONSENT-2020-7"));
}

// ---------------------------------------------------------------------------------------------
// Procurement

/// Buy `quantity` masks for `paid` CNY from the organisation's money donation `donation`.
fn buy(
    w: &World,
    org: &str,
    key: &str,
    donation: i64,
    paid: &str,
    quantity: &str,
    when: &str,
) -> i64 {
    post(
        w,
        org,
        key,
        "procurements",
        json!({"donation": donation, "paid": money(paid), "supplier": {"name": "某某防护用品有限公司"},
               "invoice_reference": format!("FP-{org}-{when}-{paid}"), "goods": masks(quantity),
               "occurred_at": when}),
    )
}

/// Money for both charities, and the city federation's purchases at 2.00 and 3.00 a mask.
fn price_world() -> (World, i64, Vec<i64>) {
    let w = world();
    let ours = w.donate(
        "HB-P",
        "2020-01-20T10:00:00Z",
        money("1000000.00"),
        undesignated(),
    );
    let theirs = post(
        &w,
        OTHER_ORG,
        &w.other_charity,
        "donations",
        donation(
            "WH-P",
            "2020-01-20T10:00:00Z",
            money("1000000.00"),
            undesignated(),
        ),
    );
    let k = w.other_charity.clone();
    let others = vec![
        buy(
            &w,
            OTHER_ORG,
            &k,
            theirs,
            "20000.00",
            "10000",
            "2020-01-28T10:00:00Z",
        ),
        buy(
            &w,
            OTHER_ORG,
            &k,
            theirs,
            "30000.00",
            "10000",
            "2020-02-03T10:00:00Z",
        ),
    ];
    (w, ours, others)
}

#[test]
fn a_purchase_far_above_what_others_paid_is_flagged() {
    let (w, ours, others) = price_world();
    let c = w.charity.clone();
    // 10.00 a mask, four times the median of 2.50.
    let p = buy(
        &w,
        ORG,
        &c,
        ours,
        "160000.00",
        "16000",
        "2020-02-01T10:00:00Z",
    );
    let r = report(&w, ORG, None);
    let found = of_kind(&r, "procurement_price_outlier");
    assert_eq!(found.len(), 1, "{r:#}");
    assert_eq!(found[0]["section"], "procurement");
    assert_eq!(found[0]["severity"], "warning");
    let mut expected = vec![(ORG.to_owned(), p)];
    expected.extend(others.iter().map(|s| (OTHER_ORG.to_owned(), *s)));
    assert_eq!(entries_of(found[0]), expected);
    let message = found[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("paid 10 CNY") && message.contains("median 2.5 CNY"),
        "{message}"
    );
    // The other charity's own report does not flag its fair prices.
    let theirs = report(&w, OTHER_ORG, None);
    assert!(of_kind(&theirs, "procurement_price_outlier").is_empty());
}

#[test]
fn a_purchase_near_the_going_price_or_with_nothing_to_compare_is_not_flagged() {
    let (w, ours, _) = price_world();
    let c = w.charity.clone();
    // 3.70 a mask: under 1.5 times the median of 2.50.
    buy(
        &w,
        ORG,
        &c,
        ours,
        "37000.00",
        "10000",
        "2020-02-01T10:00:00Z",
    );
    // 10.00 a mask, but two months away from any other purchase of masks.
    buy(
        &w,
        ORG,
        &c,
        ours,
        "10000.00",
        "1000",
        "2020-04-01T10:00:00Z",
    );
    // Other goods are other prices.
    post(
        &w,
        ORG,
        &c,
        "procurements",
        json!({"donation": ours, "paid": money("90000.00"), "supplier": {"name": "某某防护用品有限公司"},
               "invoice_reference": "FP-SUITS", "occurred_at": "2020-02-01T10:00:00Z",
               "goods": {"kind": "goods", "item": "protective suit", "spec": "GB 19082-2009",
                         "unit": "set", "quantity": "1000"}}),
    );
    let r = report(&w, ORG, None);
    assert!(of_kind(&r, "procurement_price_outlier").is_empty(), "{r:#}");
}

/// A campaign with its own cost and ageing limits, one money donation to it, a disbursement of
/// `sent` and an expense of `spent`.
fn campaign_books(w: &World, limits: Value, sent: &str, spent: &str) -> i64 {
    let mut campaign = json!({"id": "wuhan-2020", "title": "抗疫", "purpose": "protection",
        "region_code": "420100", "public_fundraising": false, "emergency": true,
        "starts_at": at(-100), "occurred_at": at(-100)});
    for (k, v) in limits.as_object().expect("object") {
        campaign[k] = v.clone();
    }
    let c = post(w, ORG, &w.charity, "campaigns", campaign);
    let mut gift = donation("HB-C1", &at(-90), money("10000.00"), undesignated());
    gift["campaign"] = json!("wuhan-2020");
    let d = post(w, ORG, &w.charity, "donations", gift);
    let a = post(
        w,
        ORG,
        &w.charity,
        "allocations",
        json!({"donation": d, "recipient": "wuhan-union-hospital", "asset": money(sent), "occurred_at": at(-80)}),
    );
    post(
        w,
        ORG,
        &w.charity,
        "disbursements",
        json!({"allocation": a, "asset": money(sent), "channel": "bank_transfer", "reference": "B-1", "occurred_at": at(-79)}),
    );
    post(
        w,
        ORG,
        &w.charity,
        "expenses",
        json!({"donation": d, "asset": money(spent), "description": "trucking", "occurred_at": at(-78)}),
    );
    c
}

#[test]
fn a_campaign_spending_above_its_cost_limit_is_flagged() {
    let w = world();
    let c = campaign_books(&w, json!({"cost_limit_percent": 5}), "1000.00", "100.00");
    let r = report(&w, ORG, None);
    let flagged = of_kind(&r, "cost_ratio_exceeded");
    assert_eq!(flagged.len(), 1, "{r:#}");
    assert_eq!(entries_of(flagged[0])[0], (ORG.to_owned(), c));
    let message = flagged[0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("9.09%") && message.contains("5%"),
        "{message}"
    );
    let bad = w.s.post(
        &format!("/organizations/{ORG}/campaigns"),
        Some(&w.charity),
        &json!({"id": "x", "title": "x", "region_code": "420100", "starts_at": at(-1),
            "cost_limit_percent": 101, "ageing_limit_hours": 0, "occurred_at": at(-1)}),
    );
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["ageing_limit_hours", "cost_limit_percent"]);
}

#[test]
fn a_campaign_within_its_cost_limit_and_its_own_ageing_limit_is_not_flagged() {
    let w = world();
    // 100 of 1,100 is 9.09%: within the default 10%. 9,000 waits 90 hours, within 96.
    campaign_books(&w, json!({"ageing_limit_hours": 96}), "1000.00", "100.00");
    let r = report(&w, ORG, None);
    assert!(of_kind(&r, "cost_ratio_exceeded").is_empty(), "{r:#}");
    assert!(of_kind(&r, "unallocated_too_long").is_empty(), "{r:#}");
    // Seven hours later it has waited 97 hours: beyond the campaign's own limit, though within
    // the 7 days an emergency campaign had before the second edition.
    let later = report(&w, ORG, Some(&at(7)));
    let aged = of_kind(&later, "unallocated_too_long");
    assert_eq!(aged.len(), 1, "{later:#}");
    assert!(
        aged[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ageing limit of 96 hours"),
        "{:#}",
        aged[0]
    );
}
