//! Input hardening (issue 18, items 3–5), against the real server (SQLite, or PostgreSQL when
//! GIVETRAIL_TEST_POSTGRES is set): each test replays the penetration test's attack and shows it
//! now fails safely.
//! - lookalike text: invisible and bidirectional-control characters refused, text stored NFC;
//! - decimals: one strict grammar for the API, the donations CSV and bank statements;
//! - fake hospitals: `registered_by`, regulator confirmation, linking only to oneself, and the
//!   `recipient_name_duplicate` finding.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// A 400 problem+json naming exactly `field` (and only it).
fn assert_refused(r: &Reply, field: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {:?}", r.body);
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{what}"
    );
    assert_eq!(problem_fields(&r.body), [field], "{what}: {:?}", r.body);
}

/// A web page's HTML.
fn page(s: &Server, path: &str) -> String {
    reqwest::blocking::Client::new()
        .get(format!("{}{path}", s.base))
        .send()
        .expect("GET page")
        .text()
        .expect("HTML")
}

#[test]
fn lookalike_text_is_refused_and_text_is_stored_composed() {
    let w = world();
    let s = &w.s;
    let donations = format!("/organizations/{ORG}/donations");
    let before = w.entry_count();

    // The attack: a receipt number that looks exactly like HBRC-2020-00017.
    let r = s.post(
        &donations,
        Some(&w.charity),
        &donation(
            "HBRC-2020-00017\u{200b}",
            "2020-01-30T10:00:00Z",
            money("1.00"),
            undesignated(),
        ),
    );
    assert_refused(&r, "receipt_number", "U+200B in a receipt number");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("U+200B"),
        "{:?}",
        r.body
    );
    // Every character of the penetration test, in receipt numbers, names and references.
    for c in [
        '\u{200b}', '\u{200d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        '\u{feff}', '\u{2028}', '\u{2029}', '\u{00ad}', '\u{2060}',
    ] {
        let what = format!("U+{:04X}", u32::from(c));
        let r = s.post(
            &donations,
            Some(&w.charity),
            &donation(
                &format!("HBRC-2020-{c}00017"),
                "2020-01-30T10:00:00Z",
                money("1.00"),
                undesignated(),
            ),
        );
        assert_refused(&r, "receipt_number", &what);
        // Even at the end, where trimming would otherwise have dropped U+2028 silently.
        let mut body = donation(
            "HBRC-2020-00018",
            "2020-01-30T10:00:00Z",
            money("1.00"),
            undesignated(),
        );
        body["donor"]["name"] = json!(format!("张三丰{c}"));
        let r = s.post(&donations, Some(&w.charity), &body);
        assert_refused(&r, "donor.name", &what);
        let r = s.post(
            &format!("/organizations/{ORG}/disbursements"),
            Some(&w.charity),
            &json!({"allocation": 1, "asset": money("1.00"), "reference": format!("BANK-{c}7"), "channel": "bank_transfer", "occurred_at": "2020-02-01T00:00:00Z"}),
        );
        assert_refused(&r, "reference", &what);
    }
    // A name that reads backwards (U+202E), for a recipient and an organisation.
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "rlo-hospital", "name": "协和\u{202e}院医", "kind": "hospital", "region_code": "420100"}),
    );
    assert_refused(&r, "name", "U+202E in a recipient name");
    let r = s.post(
        "/organizations",
        Some(&s.regulator),
        &json!({"id": "bom-charity", "name": "\u{feff}湖北省红十字会", "credit_code": credit_code(7), "kind": "red_cross", "region_code": "420000"}),
    );
    assert_refused(&r, "name", "U+FEFF in an organisation name");
    // Slugs, goods and bank references.
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "wuhan-union-hospital\u{200b}", "name": "x", "kind": "hospital", "region_code": "420100"}),
    );
    assert_refused(&r, "id", "U+200B in a slug");
    let mut goods = masks("100");
    goods["item"] = json!("N95\u{2069} respirator");
    let r = s.post(
        &donations,
        Some(&w.charity),
        &donation(
            "HBRC-2020-00019",
            "2020-01-30T10:00:00Z",
            goods,
            undesignated(),
        ),
    );
    assert_refused(&r, "asset.item", "U+2069 in a goods item");
    let statement = "date,amount,currency,direction,reference,counterparty\n\
                     2020-02-01,1.00,CNY,credit,HBRC-2020-00017\u{200b},某公司\n";
    let r = s.post_typed(
        &format!("/organizations/{ORG}/bank_statements"),
        &w.charity,
        "text/csv",
        statement,
    );
    assert_refused(&r, "row 2: reference", "U+200B in a bank reference");
    assert_eq!(w.entry_count(), before, "nothing refused was written");

    // NFC: a decomposed é (e + U+0301) is stored, hashed and served composed.
    let mut body = donation(
        "R-Cafe\u{301}-1",
        "2020-01-30T10:00:00Z",
        money("1.00"),
        undesignated(),
    );
    body["donor"]["public_name"] = json!("Cafe\u{301} de Wuhan");
    let r = s.post(&donations, Some(&w.charity), &body);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["body"]["receipt_number"], "R-Caf\u{e9}-1");
    assert_eq!(
        r.body["body"]["donor"]["display_name"],
        "Caf\u{e9} de Wuhan"
    );
    let log = s.log(ORG);
    assert_eq!(
        log.last().expect("the donation")["body"]["receipt_number"],
        "R-Caf\u{e9}-1"
    );
    assert_chain_intact(&log);
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "cafe-clinic", "name": " Cafe\u{301} Clinic ", "kind": "hospital", "region_code": "420100"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        s.get("/recipients/cafe-clinic").body["name"],
        "Caf\u{e9} Clinic"
    );
}

#[test]
fn decimals_follow_one_strict_grammar_everywhere() {
    let w = world();
    let s = &w.s;
    let donations = format!("/organizations/{ORG}/donations");
    let before = w.entry_count();
    let post = |asset: Value| {
        s.post(
            &donations,
            Some(&w.charity),
            &donation("D-1", "2020-01-30T10:00:00Z", asset, undesignated()),
        )
    };
    // The attack: silently rounded to 1.00 before the fix.
    let r = post(money("1.000000000000000000000000000001"));
    assert_refused(&r, "asset.amount", "30 decimals for CNY");
    assert_eq!(
        r.body["errors"][0]["message"], "must have at most 2 decimal places",
        "{:?}",
        r.body
    );
    // Accepted as 1000.00 before the fix.
    for bad in [
        "1_000.00", "1e3", "1E3", " 1", "1 ", "+1", "1,000.00", "1.", ".5", "0x10", "１",
    ] {
        assert_refused(&post(money(bad)), "asset.amount", bad);
    }
    let too_long = "9".repeat(5000);
    let r = post(money(&too_long));
    assert_refused(&r, "asset.amount", "5000 digits");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("is too large"),
        "{:?}",
        r.body
    );
    for bad in ["1_000", "1.0001", "1e3", "-1"] {
        assert_refused(&post(masks(bad)), "asset.quantity", bad);
    }
    let mut declared = masks("10");
    declared["declared_value"] = json!({"amount": "1_0", "currency": "CNY"});
    assert_refused(
        &post(declared),
        "asset.declared_value.amount",
        "declared value",
    );

    // The donations CSV: the same grammar, named by row and column (the import stops at the
    // first row it refuses, and writes nothing).
    let head = "receipt_number,occurred_at,donor_name,donor_kind,asset_kind,currency,amount\n";
    for (rows, field) in [
        (
            "C-1,2020-01-30T10:00:00Z,Li,individual,money,CNY,1.000000000000000000000000000001\n",
            "row 2: amount",
        ),
        (
            "C-1,2020-01-30T10:00:00Z,Li,individual,money,CNY,5.00\n\
             C-2,2020-01-30T10:00:00Z,Li,individual,money,CNY,1_000.00\n",
            "row 3: amount",
        ),
    ] {
        let r = s.post_typed(
            &format!("/organizations/{ORG}/donations/import"),
            &w.charity,
            "text/csv",
            &format!("{head}{rows}"),
        );
        assert_refused(&r, field, rows);
    }
    // Bank statements too.
    let statement = "date,amount,currency,direction,reference,counterparty\n\
                     2020-02-01,1_000.00,CNY,credit,X,Y\n\
                     2020-02-01,1.000000000000000000000000000001,CNY,credit,X,Y\n";
    let r = s.post_typed(
        &format!("/organizations/{ORG}/bank_statements"),
        &w.charity,
        "text/csv",
        statement,
    );
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(
        problem_fields(&r.body),
        ["row 2: amount", "row 3: amount"],
        "{:?}",
        r.body
    );
    assert_eq!(w.entry_count(), before, "nothing refused was written");

    // What the grammar allows still works, exactly.
    let r = post(money("1000.5"));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["body"]["asset"]["amount"], "1000.50");
}

const UNION_NAME: &str = "华中科技大学同济医学院附属协和医院";

#[test]
fn charities_cannot_link_others_and_lookalike_hospitals_are_flagged() {
    let w = world();
    let s = &w.s;
    // The attacker: a Beijing foundation.
    let r = s.post(
        "/organizations",
        Some(&s.regulator),
        &json!({"id": "beijing-foundation", "name": "北京某基金会", "credit_code": credit_code(11), "kind": "foundation", "region_code": "110000", "public_fundraising_qualified": true}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let beijing = key_for(s, "beijing-foundation");
    // The real hospital, registered by the regulator: confirmed from the start.
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "wuhan-union-real", "name": UNION_NAME, "kind": "hospital", "region_code": "420103", "ownership": "public"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body["registered_by"],
        json!({"role": "regulator", "jurisdiction": ""})
    );
    assert_eq!(r.body["confirmed_by"], r.body["registered_by"]);
    assert!(r.body["confirmed_at"].is_string(), "{:?}", r.body);

    // The attack, part 1: linking a recipient to another organisation.
    let r = s.post(
        "/recipients",
        Some(&beijing),
        &json!({"id": "hubei-red-cross-branch", "name": "湖北省红十字会", "kind": "charity", "region_code": "420000", "organization": ORG}),
    );
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(problem_fields(&r.body), ["organization"], "{:?}", r.body);
    assert_eq!(s.get("/recipients/hubei-red-cross-branch").status, 404);
    // Linking to itself is allowed, and a regulator may link to anyone.
    let r = s.post(
        "/recipients",
        Some(&beijing),
        &json!({"id": "beijing-foundation-fund", "name": "北京某基金会专项", "kind": "charity", "region_code": "110000", "organization": "beijing-foundation"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": "hubei-red-cross-branch", "name": "湖北省红十字会", "kind": "charity", "region_code": "420000", "organization": ORG}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["organization"], ORG);

    // The attack, part 2: a second recipient with the real hospital's name.
    let r = s.post(
        "/recipients",
        Some(&beijing),
        &json!({"id": "wuhan-union-lookalike", "name": format!(" {UNION_NAME} "), "kind": "hospital", "region_code": "420103"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let fake = s.get("/recipients/wuhan-union-lookalike");
    assert_eq!(fake.body["name"], UNION_NAME);
    assert_eq!(
        fake.body["registered_by"],
        json!({"role": "charity", "organization": "beijing-foundation"})
    );
    assert_eq!(fake.body["confirmed_by"], Value::Null);
    assert_eq!(fake.body["confirmed_at"], Value::Null);
    // The public list and its CSV say who registered it.
    let csv = s.get("/recipients?format=csv");
    let text = csv.body.as_str().unwrap_or_default();
    assert!(
        text.lines().any(|l| l.starts_with("wuhan-union-lookalike,")
            && l.trim_end().ends_with(",charity,beijing-foundation,")),
        "{text}"
    );
    // Its page warns, in both languages; the real one does not.
    let en = page(s, "/recipients/wuhan-union-lookalike?lang=en");
    assert!(
        en.contains("Registered by the charity 北京某基金会, not yet confirmed by a regulator"),
        "{en}"
    );
    let zh = page(s, "/recipients/wuhan-union-lookalike?lang=zh");
    assert!(
        zh.contains("由慈善组织 北京某基金会 登记，尚未经监管部门确认"),
        "{zh}"
    );
    assert!(!page(s, "/recipients/wuhan-union-real?lang=en").contains("id=\"unconfirmed\""));

    // Goods the foundation sends to the lookalike.
    let donation_seq = {
        let r = s.post(
            "/organizations/beijing-foundation/donations",
            Some(&beijing),
            &donation(
                "BJ-1",
                "2020-01-30T10:00:00Z",
                masks("16000"),
                undesignated(),
            ),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["seq"].as_i64().expect("seq")
    };
    let r = s.post(
        "/organizations/beijing-foundation/allocations",
        Some(&beijing),
        &json!({"donation": donation_seq, "recipient": "wuhan-union-lookalike", "asset": masks("16000"), "purpose": "防护", "occurred_at": "2020-01-31T10:00:00Z"}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let allocation = r.body["seq"].as_i64().expect("seq");
    // The regulator's report on the foundation flags the lookalike.
    let report = s.get_keyed(
        "/organizations/beijing-foundation/reconciliation",
        &s.regulator,
    );
    assert_eq!(report.status, 200, "{:?}", report.body);
    let found: Vec<&Value> = report.body["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "recipient_name_duplicate")
        .collect();
    assert_eq!(found.len(), 1, "{:?}", report.body["findings"]);
    let f = found[0];
    assert_eq!(f["section"], "fundraising");
    assert_eq!(f["severity"], "warning");
    let message = f["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("wuhan-union-lookalike") && message.contains("wuhan-union-real"),
        "{message}"
    );
    assert_eq!(
        f["entries"],
        json!([{"organization": "beijing-foundation", "seq": allocation}])
    );
    // Hubei Red Cross, which registered nothing and gave nothing to it, is not flagged.
    let hubei = s.get_keyed(
        &format!("/organizations/{ORG}/reconciliation"),
        &s.regulator,
    );
    assert_eq!(hubei.status, 200, "{:?}", hubei.body);
    assert!(
        !hubei.body["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["kind"] == "recipient_name_duplicate"),
        "{:?}",
        hubei.body["findings"]
    );

    // Confirmation: not by the charity, not by a regulator elsewhere; once by a regulator of
    // the region, after which `registered_by` stays and the page's warning goes.
    let confirm = "/recipients/wuhan-union-lookalike/confirmations";
    assert_eq!(s.post(confirm, Some(&beijing), &json!({})).status, 403);
    let beijing_regulator = regulator_of(s, "11");
    let r = s.post(confirm, Some(&beijing_regulator), &json!({}));
    assert_eq!(r.status, 403, "{:?}", r.body);
    let hubei_regulator = regulator_of(s, "42");
    let r = s.post(confirm, Some(&hubei_regulator), &json!({}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(
        r.body["confirmed_by"],
        json!({"role": "regulator", "jurisdiction": "42"})
    );
    assert_eq!(
        r.body["registered_by"],
        json!({"role": "charity", "organization": "beijing-foundation"})
    );
    assert!(r.body["confirmed_at"].is_string(), "{:?}", r.body);
    assert_eq!(s.post(confirm, Some(&s.regulator), &json!({})).status, 409);
    assert!(!page(s, "/recipients/wuhan-union-lookalike?lang=en").contains("id=\"unconfirmed\""));
}
