//! The regulator's reconciliation report, bank statements, complaints and jurisdictions, end to
//! end over HTTP (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES is set).

use crate::common;

use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use serde_json::{json, Value};

/// RFC 3339 of now + `hours` (negative: the past).
fn at(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

fn get_as(s: &Server, path: &str, key: Option<&str>) -> Reply {
    let mut req = client().get(s.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    Server::reply(req.send().expect("GET"))
}

fn post_csv(s: &Server, path: &str, key: &str, content_type: &str, body: &str) -> Reply {
    let req = client()
        .post(s.url(path))
        .bearer_auth(key)
        .header("Content-Type", content_type)
        .body(body.to_owned());
    Server::reply(req.send().expect("POST"))
}

fn created(r: Reply) -> Value {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body
}

fn seq(r: Reply) -> i64 {
    created(r)["seq"].as_i64().expect("seq")
}

/// Findings of severity warning or violation, as their kinds, sorted.
fn flags(report: &Value) -> Vec<String> {
    let mut out: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| f["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    out.sort();
    out
}

fn finding<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} finding in {report:#}"))
}

fn entries_of(f: &Value) -> Vec<i64> {
    f["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect()
}

fn ack(w: &World, key: &str, recipient: &str, disbursement: i64, quantity: &str) -> i64 {
    seq(w.s.post(
        &format!("/recipients/{recipient}/acknowledgements"),
        Some(key),
        &json!({"disbursement": {"organization": ORG, "seq": disbursement}, "asset": masks(quantity),
                "received_at": at(-1), "note": "counted at the ward", "occurred_at": at(-1)}),
    ))
}

fn disburse(w: &World, allocation: i64, quantity: &str, waybill: &str) -> i64 {
    seq(w.s.post(
        &format!("/organizations/{ORG}/disbursements"),
        Some(&w.charity),
        &json!({"allocation": allocation, "asset": masks(quantity), "channel": "logistics",
                "reference": waybill, "occurred_at": at(-2)}),
    ))
}

/// The 2020 Hubei failure, replayed: 36,000 N95 masks designated for Wuhan; a usage table of
/// 16,000 + 16,000 + 3,000 (1,000 missing), 16,000 of them to a hospital outside the
/// designation; a correction with an impossible date (refused at write time since the second
/// edition: nothing may occur before what it draws on); a hospital acknowledging fewer than sent.
#[test]
fn hubei_2020_replay_is_flagged_exactly() {
    let w = world();
    let hangzhou = recipient_key(&w.s, "hangzhou-hospital");
    let org = |p: &str| format!("/organizations/{ORG}{p}");
    created(w.s.post(&org("/campaigns"), Some(&w.charity), &json!({
        "id": "wuhan-2020", "title": "抗击新冠肺炎疫情", "purpose": "protective equipment for Wuhan hospitals",
        "region_code": "420100", "public_fundraising": true, "record_number": "53420000MJ0000001A-2020-001",
        "emergency": true, "starts_at": at(-6), "occurred_at": at(-6)})));
    let mut gift = donation(
        "HBRC-2020-00123",
        &at(-5),
        masks("36000"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    gift["campaign"] = json!("wuhan-2020");
    gift["channel"] = json!("in_kind");
    let d = seq(w.s.post(&org("/donations"), Some(&w.charity), &gift));
    let allocation = |recipient: &str, quantity: &str, change: Option<Value>| {
        let mut body = json!({"donation": d, "recipient": recipient, "purpose": "front-line protection",
                              "asset": masks(quantity), "occurred_at": at(-4)});
        if let Some(c) = change {
            body["designation_change"] = c;
        }
        w.allocate(body)
    };
    let union = seq(allocation("wuhan-union-hospital", "16000", None));
    let outside = allocation("hangzhou-hospital", "16000", None);
    assert_eq!(
        outside.status, 422,
        "outside the designation is refused at write time: {:?}",
        outside.body
    );
    assert_eq!(outside.body["errors"][0]["field"], "recipient");
    let consent = "HBRC-CONSENT-2020-0042";
    let zhejiang = seq(allocation(
        "hangzhou-hospital",
        "16000",
        Some(
            json!({"reason": "Zhejiang support team treating Wuhan patients", "donor_consent_reference": consent}),
        ),
    ));
    let jinyintan = seq(allocation("wuhan-jinyintan-hospital", "3000", None));
    // The "usage table" is corrected with a replacement dated before the gift it draws on (and
    // before the appeal began): refused, naming the date. The correction is then made as it
    // should have been.
    let impossible = w.s.post(&org("/corrections"), Some(&w.charity), &json!({
        "corrects": jinyintan, "reason": "purpose misstated in the usage table",
        "replacement": {"donation": d, "recipient": "wuhan-jinyintan-hospital", "purpose": "ICU protection",
                        "asset": masks("3000"), "occurred_at": at(-30)},
        "occurred_at": at(-3)}));
    assert_eq!(impossible.status, 422, "{:?}", impossible.body);
    assert_eq!(
        impossible.body["errors"][0]["field"],
        "replacement.occurred_at"
    );
    let correction = seq(w.s.post(&org("/corrections"), Some(&w.charity), &json!({
        "corrects": jinyintan, "reason": "purpose misstated in the usage table",
        "replacement": {"donation": d, "recipient": "wuhan-jinyintan-hospital", "purpose": "ICU protection",
                        "asset": masks("3000")},
        "occurred_at": at(-3)})));
    let to_union = disburse(&w, union, "16000", "SF-2020-0001");
    let to_zhejiang = disburse(&w, zhejiang, "16000", "SF-2020-0002");
    let to_jinyintan = disburse(&w, correction, "3000", "SF-2020-0003");
    ack(
        &w,
        &w.union_hospital,
        "wuhan-union-hospital",
        to_union,
        "16000",
    );
    ack(&w, &hangzhou, "hangzhou-hospital", to_zhejiang, "16000");
    let short = ack(
        &w,
        &w.jinyintan,
        "wuhan-jinyintan-hospital",
        to_jinyintan,
        "2000",
    );

    let path = org("/reconciliation");
    // Today: nothing has waited long yet.
    let today = get_as(&w.s, &path, Some(&w.s.regulator));
    assert_eq!(today.status, 200, "{:?}", today.body);
    assert_eq!(
        flags(&today.body),
        [
            "acknowledgement_discrepancy",
            "correction",
            "designation_change"
        ],
        "{:#}",
        today.body
    );
    // By default a report does not compare the derived balances with a replay.
    assert_eq!(
        finding(&today.body, "derived_unchecked")["severity"],
        "info"
    );
    // A week and a day later, with nothing changed: the 1,000 masks are still on hand. A full
    // report, which also compares the derived balances with a replay.
    let later = get_as(
        &w.s,
        &format!("{path}?to={}&full=true", at(8 * 24)),
        Some(&w.s.regulator),
    );
    assert_eq!(later.status, 200, "{:?}", later.body);
    let r = &later.body;
    assert_eq!(
        flags(r),
        [
            "acknowledgement_discrepancy",
            "correction",
            "designation_change",
            "unallocated_too_long"
        ],
        "{r:#}"
    );
    let on_hand = finding(r, "unallocated_too_long");
    assert_eq!(entries_of(on_hand), [d]);
    assert!(
        on_hand["message"]
            .as_str()
            .unwrap()
            .contains("1000 piece N95 respirator"),
        "{on_hand}"
    );
    let change = finding(r, "designation_change");
    assert_eq!(change["section"], "designations");
    assert_eq!(entries_of(change), [zhejiang, d]);
    assert!(change["message"].as_str().unwrap().contains(consent));
    let gap = finding(r, "acknowledgement_discrepancy");
    assert_eq!(gap["section"], "receipt");
    assert_eq!(entries_of(gap), [to_jinyintan, short]);
    assert!(
        gap["message"]
            .as_str()
            .unwrap()
            .contains("acknowledged 2000 of the 3000 piece N95 respirator"),
        "{gap}"
    );
    assert_eq!(
        r["counts"]["warning"], 4,
        "three flags and the correction notice"
    );
    assert_eq!(r["counts"]["violation"], 0);
    // Totals per asset at the top; integrity verified; every section present.
    assert_eq!(r["totals"][0]["received"], "36000.000");
    assert_eq!(r["totals"][0]["unallocated"], "1000.000");
    assert_eq!(r["totals"][0]["acknowledged"], "34000.000");
    for kind in [
        "chain_verified",
        "checkpoint_verified",
        "derived_consistent",
        "balances_hold",
    ] {
        assert_eq!(finding(r, kind)["severity"], "info");
    }
    let sections: std::collections::BTreeSet<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["section"].as_str())
        .collect();
    for s in [
        "integrity",
        "balances",
        "designations",
        "ageing",
        "receipt",
        "spending",
        "bank",
        "disclosure",
        "fundraising",
        "priority",
    ] {
        assert!(sections.contains(s), "section {s} is reported");
    }

    // The same report as CSV, and from the command line.
    let csv = get_as(
        &w.s,
        &format!("{path}?format=csv&to={}", at(8 * 24)),
        Some(&w.charity),
    );
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.body.as_str().expect("csv text");
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].contains("section,kind,severity,asset"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("totals,asset_totals,info,N95 respirator"),
        "{}",
        rows[1]
    );
    assert!(text.contains("unallocated_too_long"));
    let signing_key = w.s.db.signing_key();
    let to = at(8 * 24);
    let (ok, out, err) = w.s.db.cli(&[
        "reconcile",
        "--org",
        ORG,
        "--to",
        &to,
        "--signing-key",
        &signing_key,
    ]);
    assert!(ok, "reconcile: {err}");
    let cli: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(flags(&cli), flags(r));
    assert_eq!(finding(&cli, "checkpoint_verified")["severity"], "info");
    let (ok, out, err) = w.s.db.cli(&["reconcile", "--org", ORG, "--format", "csv"]);
    assert!(ok, "reconcile --format csv: {err}");
    assert!(out.contains("acknowledgement_discrepancy") && out.contains("totals,asset_totals"));
    let (ok, _, err) = w.s.db.cli(&["reconcile", "--org", "no-such-org"]);
    assert!(!ok && err.contains("not registered"), "{err}");
}

#[test]
fn a_regulator_of_another_province_gets_403_on_a_hubei_report() {
    let w = world();
    let path = format!("/organizations/{ORG}/reconciliation");
    let zhejiang = regulator_of(&w.s, "33");
    let hubei = regulator_of(&w.s, "42");
    let r = get_as(&w.s, &path, Some(&zhejiang));
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(get_as(&w.s, &path, Some(&hubei)).status, 200);
    assert_eq!(
        get_as(&w.s, &path, Some(&w.s.regulator)).status,
        200,
        "national"
    );
    assert_eq!(
        get_as(&w.s, &path, Some(&w.charity)).status,
        200,
        "the charity itself"
    );
    assert_eq!(get_as(&w.s, &path, Some(&w.other_charity)).status, 403);
    assert_eq!(get_as(&w.s, &path, Some(&w.union_hospital)).status, 403);
    assert_eq!(get_as(&w.s, &path, None).status, 401);
    let missing = get_as(
        &w.s,
        "/organizations/nobody/reconciliation",
        Some(&zhejiang),
    );
    assert_eq!(missing.status, 404);
    let bad = get_as(&w.s, &format!("{path}?format=xml"), Some(&hubei));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["field"], "format");
    let backwards = get_as(
        &w.s,
        &format!("{path}?from=2020-02-01T00:00:00Z&to=2020-01-01T00:00:00Z"),
        Some(&hubei),
    );
    assert_eq!(backwards.status, 400);
    assert_eq!(backwards.body["errors"][0]["field"], "to");
    let csv =
        "date,amount,currency,direction,reference,counterparty\n2020-02-01,1.00,CNY,credit,X,Y\n";
    let upload = format!("/organizations/{ORG}/bank_statements");
    assert_eq!(
        post_csv(&w.s, &upload, &zhejiang, "text/csv", csv).status,
        403
    );
    assert_eq!(
        post_csv(&w.s, &upload, &w.other_charity, "text/csv", csv).status,
        403
    );
    assert_eq!(post_csv(&w.s, &upload, &hubei, "text/csv", csv).status, 201);
}

/// The jurisdiction matrix of `?destination=`: only a regulator covering the destination may
/// read an organisation's report restricted to it, whatever the organisation's region; the
/// restricted report speaks only of that destination's recipients.
#[test]
fn a_regulator_of_the_destination_reads_a_report_restricted_to_it() {
    let w = world();
    let hangzhou = recipient_key(&w.s, "hangzhou-hospital");
    let lot = w.donate("D-1", &at(-5), masks("5000"), undesignated());
    let mut sent = Vec::new();
    for (recipient, key, quantity, arrived) in [
        ("wuhan-union-hospital", &w.union_hospital, "3000", "2900"),
        ("hangzhou-hospital", &hangzhou, "1500", "1200"),
    ] {
        let a = seq(w.allocate(
            json!({"donation": lot, "recipient": recipient, "purpose": "wards",
                                      "asset": masks(quantity), "occurred_at": at(-3)}),
        ));
        let d = disburse(&w, a, quantity, &format!("SF-{recipient}"));
        let k = ack(&w, key, recipient, d, arrived);
        sent.push((recipient, a, d, k, quantity));
    }
    let path = format!("/organizations/{ORG}/reconciliation");
    let to_hangzhou = format!("{path}?destination=33");
    let zhejiang = regulator_of(&w.s, "33");
    let hubei = regulator_of(&w.s, "42");
    let hangzhou_city = regulator_of(&w.s, "3301");
    // Covers the destination, not the organisation (420000): the restricted report.
    let r = get_as(&w.s, &to_hangzhou, Some(&zhejiang));
    assert_eq!(r.status, 200, "{:?}", r.body);
    // ... but not the whole report.
    assert_eq!(get_as(&w.s, &path, Some(&zhejiang)).status, 403);
    // Covers the organisation, not the destination; the charity itself; another charity; a
    // regulator covering only part of the destination: 403 problems.
    for (who, key) in [
        ("hubei regulator", &hubei),
        ("the charity itself", &w.charity),
        ("another charity", &w.other_charity),
        ("a recipient", &w.union_hospital),
        ("a city inside the destination", &hangzhou_city),
    ] {
        let denied = get_as(&w.s, &to_hangzhou, Some(key));
        assert_eq!(denied.status, 403, "{who}: {:?}", denied.body);
        assert_eq!(denied.headers["content-type"], "application/problem+json");
    }
    assert_eq!(
        get_as(&w.s, &format!("{path}?destination=42"), Some(&w.charity)).status,
        403,
        "the charity, even for its own region"
    );
    assert_eq!(get_as(&w.s, &to_hangzhou, None).status, 401);
    assert_eq!(
        get_as(&w.s, &to_hangzhou, Some(&w.s.regulator)).status,
        200,
        "national"
    );
    assert_eq!(
        get_as(&w.s, &format!("{path}?destination=3301"), Some(&zhejiang)).status,
        200,
        "a destination inside the jurisdiction"
    );
    for bad in ["4x", "1234567", ""] {
        let r = get_as(
            &w.s,
            &format!("{path}?destination={bad}"),
            Some(&w.s.regulator),
        );
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
        assert_eq!(r.body["errors"][0]["field"], "destination");
    }

    // Only the destination's recipients.
    let report = r.body;
    assert_eq!(report["destination"]["region"], "33");
    assert_eq!(
        report["destination"]["recipients"],
        json!(["hangzhou-hospital"])
    );
    assert_eq!(report["totals"], json!([]));
    assert_eq!(report["complaints"], json!([]));
    let (_, ha, hd, hk, hq) = sent[1];
    let t = &report["destination"]["totals"][0];
    assert_eq!(t["allocated"], format!("{hq}.000"));
    assert_eq!(t["disbursed"], format!("{hq}.000"));
    assert_eq!(t["acknowledged"], "1200.000");
    let union: Vec<i64> = [sent[0].1, sent[0].2, sent[0].3].into();
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for f in findings {
        let named = entries_of(f);
        assert!(
            named.iter().any(|s| [ha, hd, hk].contains(s)),
            "a finding about no Hangzhou entry: {f:#}"
        );
        assert!(
            !named.iter().any(|s| union.contains(s)),
            "a finding about Wuhan: {f:#}"
        );
    }
    let short = finding(&report, "acknowledgement_discrepancy");
    assert!(entries_of(short).contains(&hd), "{short:#}");
    assert_eq!(
        report["counts"]["warning"].as_u64().unwrap_or(0)
            + report["counts"]["violation"].as_u64().unwrap_or(0)
            + report["counts"]["info"].as_u64().unwrap_or(0),
        findings.len() as u64
    );
    // The whole report names the Wuhan discrepancy too; the restricted one does not.
    let whole = get_as(&w.s, &path, Some(&hubei)).body;
    let both: Vec<i64> = whole["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "acknowledgement_discrepancy")
        .flat_map(entries_of)
        .collect();
    assert!(both.contains(&sent[0].2) && both.contains(&hd), "{both:?}");
    assert!(whole.get("destination").is_none());

    // Hubei's regulator reading Wuhan: only the Union hospital.
    let wuhan = get_as(&w.s, &format!("{path}?destination=4201"), Some(&hubei)).body;
    assert_eq!(
        wuhan["destination"]["recipients"],
        json!(["wuhan-union-hospital"])
    );
    assert_eq!(wuhan["destination"]["totals"][0]["allocated"], "3000.000");

    // CSV: the destination's totals rows, not the organisation's.
    let csv = get_as(&w.s, &format!("{to_hangzhou}&format=csv"), Some(&zhejiang));
    assert_eq!(csv.status, 200);
    let text = csv.body.as_str().expect("csv text");
    assert!(text.contains("totals,destination_totals"), "{text}");
    assert!(!text.contains("asset_totals"), "{text}");
    assert!(text.contains("acknowledgement_discrepancy"), "{text}");

    // The command line.
    let (ok, out, err) =
        w.s.db
            .cli(&["reconcile", "--org", ORG, "--destination", "33"]);
    assert!(ok, "{err}");
    let cli: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        cli["destination"]["recipients"],
        json!(["hangzhou-hospital"])
    );
    let (ok, _, err) =
        w.s.db
            .cli(&["reconcile", "--org", ORG, "--destination", "4x"]);
    assert!(!ok && err.contains("--destination"), "{err}");
}

#[test]
fn bank_statement_lines_are_matched_and_both_sides_of_a_mismatch_reported() {
    let w = world();
    let d1 = w.donate(
        "HB-BANK-1",
        "2020-02-01T10:00:00Z",
        money("5000.00"),
        undesignated(),
    );
    let d2 = w.donate(
        "HB-BANK-2",
        "2020-02-02T09:00:00Z",
        money("300.00"),
        undesignated(),
    );
    let upload = format!("/organizations/{ORG}/bank_statements");

    let malformed = "date,amount,currency,direction,reference,counterparty\n\
                     2020-02-01,5000.00,CNY,credit,HB-BANK-1,某医疗器械有限公司\n\
                     2020-02-02,abc,CNY,sideways,TX-77,无名氏\n";
    let r = post_csv(&w.s, &upload, &w.charity, "text/csv", malformed);
    assert_eq!(r.status, 400, "{:?}", r.body);
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["row 3: amount", "row 3: direction"]);
    let wrong_type = post_csv(&w.s, &upload, &w.charity, "application/json", malformed);
    assert_eq!(wrong_type.status, 415);

    let statement = "date,amount,currency,direction,reference,counterparty\r\n\
                     2020-02-01,5000.00,CNY,credit,HB-BANK-1,某医疗器械有限公司\r\n\
                     2020-02-02,800.00,CNY,credit,TX-UNKNOWN-77,无名氏\r\n";
    let kept = created(post_csv(
        &w.s,
        &upload,
        &w.charity,
        "text/csv; charset=utf-8",
        statement,
    ));
    assert_eq!(kept["statement"], 1, "the refused upload kept nothing");
    assert_eq!(kept["lines"], 2);
    let again = post_csv(&w.s, &upload, &w.s.regulator, "text/csv", statement);
    assert_eq!(
        again.status, 409,
        "the same file is kept once: {:?}",
        again.body
    );

    let r = get_as(
        &w.s,
        &format!("/organizations/{ORG}/reconciliation"),
        Some(&w.s.regulator),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let bank = &r.body["bank"];
    assert_eq!(bank["statements"], 1);
    assert_eq!(bank["matched"].as_array().unwrap().len(), 1);
    assert_eq!(bank["matched"][0]["ledger"]["entry"]["seq"], d1);
    assert_eq!(bank["matched"][0]["by"], "reference");
    assert_eq!(bank["matched"][0]["line"]["row"], 2);
    assert_eq!(bank["unmatched_entries"].as_array().unwrap().len(), 1);
    assert_eq!(bank["unmatched_entries"][0]["entry"]["seq"], d2);
    assert_eq!(bank["unmatched_lines"].as_array().unwrap().len(), 1);
    assert_eq!(bank["unmatched_lines"][0]["reference"], "TX-UNKNOWN-77");
    let no_line = finding(&r.body, "entry_without_bank_line");
    assert_eq!(no_line["severity"], "warning");
    assert_eq!(entries_of(no_line), [d2]);
    let no_entry = finding(&r.body, "bank_line_without_entry");
    assert_eq!(no_entry["bank_line"], json!({"statement": 1, "row": 3}));
    assert!(finding(&r.body, "bank_matched")["message"]
        .as_str()
        .unwrap()
        .starts_with("1 of 2 bank lines"));

    // Kept append-only by the database itself.
    for statement in [
        "UPDATE bank_lines SET units = 1",
        "DELETE FROM bank_lines",
        "DELETE FROM bank_statements",
    ] {
        let (ok, out) = w.s.db.sql(statement);
        assert!(!ok, "{statement} must be refused: {out}");
        assert!(out.contains("append-only"), "{out}");
    }
}

#[test]
fn a_complaint_is_followed_by_its_code_and_handled_by_the_regulator_of_its_region() {
    let w = world();
    let d = w.donate(
        "HB-C-1",
        "2020-02-01T10:00:00Z",
        money("100.00"),
        undesignated(),
    );
    let contact = "complainant.private@example.cn";
    let filed = created(w.s.post("/complaints", None, &json!({
        "organization": ORG, "entry": d, "category": "misallocation",
        "description": "这批物资没有送到医院 — the masks never reached the hospital", "contact": contact})));
    let code = filed["code"].as_str().expect("code").to_owned();
    assert_eq!(code.len(), 24, "{code}");
    assert_eq!(filed["status"], "received");
    assert!(!filed.to_string().contains(contact), "{filed}");
    let public = w.s.get(&format!("/complaints/{}", code.to_lowercase()));
    assert_eq!(public.status, 200, "{:?}", public.body);
    assert_eq!(public.body["code"], code.as_str());
    assert!(!public.body.to_string().contains(contact));
    assert_eq!(w.s.get("/complaints/0000-0000-0000-0000-0000").status, 404);
    assert_eq!(w.s.get("/complaints/nonsense").status, 400);

    let bad = w.s.post(
        "/complaints",
        None,
        &json!({"organization": ORG, "category": "gossip", "description": "x"}),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["field"], "category");
    let nobody = w.s.post(
        "/complaints",
        None,
        &json!({"organization": "nobody", "category": "other", "description": "x"}),
    );
    assert_eq!(nobody.status, 422, "{:?}", nobody.body);
    let no_entry = w.s.post(
        "/complaints",
        None,
        &json!({"organization": ORG, "entry": 99, "category": "other", "description": "x"}),
    );
    assert_eq!(no_entry.status, 422);
    assert_eq!(no_entry.body["errors"][0]["field"], "entry");

    let zhejiang = regulator_of(&w.s, "33");
    let hubei = regulator_of(&w.s, "42");
    assert_eq!(get_as(&w.s, "/complaints", None).status, 401);
    assert_eq!(get_as(&w.s, "/complaints", Some(&w.charity)).status, 403);
    let listed = get_as(&w.s, "/complaints", Some(&hubei));
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["complaints"][0]["code"], code.as_str());
    assert_eq!(
        listed.body["complaints"][0]["contact"], contact,
        "regulators see the contact"
    );
    let elsewhere = get_as(&w.s, "/complaints", Some(&zhejiang));
    assert_eq!(elsewhere.body["complaints"], json!([]));

    let events = format!("/complaints/{code}/events");
    let note = |status: &str, note: &str| json!({"status": status, "note": note});
    assert_eq!(
        w.s.post(&events, Some(&zhejiang), &note("investigating", "x"))
            .status,
        403
    );
    assert_eq!(
        w.s.post(&events, Some(&w.charity), &note("investigating", "x"))
            .status,
        403
    );
    let taken = created(w.s.post(
        &events,
        Some(&hubei),
        &note("investigating", "asked the hospital for its goods-in book"),
    ));
    assert_eq!(taken["status"], "investigating");
    let closed = created(w.s.post(
        &events,
        Some(&w.s.regulator),
        &note(
            "resolved",
            "the masks were found in the warehouse and delivered",
        ),
    ));
    assert_eq!(closed["status"], "resolved");
    let after =
        w.s.post(&events, Some(&hubei), &note("investigating", "reopen"));
    assert_eq!(after.status, 409, "{:?}", after.body);
    let public = w.s.get(&format!("/complaints/{code}"));
    let history = public.body["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["author"], "42");
    assert_eq!(history[1]["status"], "resolved");

    let r = get_as(
        &w.s,
        &format!("/organizations/{ORG}/reconciliation"),
        Some(&w.charity),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body["complaints"][0]["code"], code.as_str());
    let f = finding(&r.body, "complaint");
    assert_eq!(f["complaint"], code.as_str());
    assert_eq!(entries_of(f), [d]);
    assert!(
        !r.body.to_string().contains(contact),
        "the charity never sees the contact"
    );

    for statement in [
        "UPDATE complaints SET description = 'nothing happened'",
        "DELETE FROM complaint_events",
        "UPDATE complaint_events SET note = 'x'",
    ] {
        let (ok, out) = w.s.db.sql(statement);
        assert!(!ok, "{statement} must be refused: {out}");
    }
}

#[test]
fn fraud_signals_are_reported_and_what_the_rules_prevent_is_refused() {
    let w = world();
    let org = |p: &str| format!("/organizations/{ORG}{p}");
    let campaign = |id: &str, record: Option<&str>| {
        json!({"id": id, "title": "appeal", "region_code": "420100", "public_fundraising": true,
               "record_number": record, "emergency": false, "starts_at": "2020-01-23T00:00:00Z",
               "ends_at": "2020-03-31T00:00:00Z", "occurred_at": "2020-01-23T00:00:00Z"})
    };
    // Prevented at write time: a public campaign without a record number.
    let refused = w.s.post(
        &org("/campaigns"),
        Some(&w.charity),
        &campaign("no-record", None),
    );
    assert_eq!(refused.status, 422);
    assert_eq!(refused.body["errors"][0]["field"], "record_number");
    created(w.s.post(
        &org("/campaigns"),
        Some(&w.charity),
        &campaign("wuhan-2020", Some("REC-2020-1")),
    ));

    let mut late = donation(
        "HB-LATE",
        "2020-04-15T10:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    late["campaign"] = json!("wuhan-2020");
    let late = seq(w.s.post(&org("/donations"), Some(&w.charity), &late));

    let reused = w.donate(
        "HB-R1",
        "2020-02-01T10:00:00Z",
        money("100.00"),
        undesignated(),
    );
    let mut as_cash = donation(
        "HB-R1",
        "2020-02-01T10:00:00Z",
        money("100.00"),
        undesignated(),
    );
    as_cash["channel"] = json!("cash");
    as_cash.as_object_mut().unwrap().remove("occurred_at");
    let correction = seq(w.s.post(&org("/corrections"), Some(&w.charity), &json!({
        "corrects": reused, "reason": "it was cash", "replacement": as_cash, "occurred_at": "2020-02-02T10:00:00Z"})));

    // The same bank transaction claimed as a disbursement by two charities.
    let a = seq(w.allocate(json!({"donation": late, "recipient": "wuhan-union-hospital", "purpose": "ppe",
                                    "asset": money("500.00"), "occurred_at": "2020-04-16T10:00:00Z"})));
    let ours = seq(w.s.post(&org("/disbursements"), Some(&w.charity), &json!({
        "allocation": a, "asset": money("500.00"), "channel": "bank_transfer", "reference": "ICBC-TX-20200416-42",
        "occurred_at": "2020-04-16T11:00:00Z"})));
    let other = |p: &str| format!("/organizations/{OTHER_ORG}{p}");
    let gift = seq(w.s.post(
        &other("/donations"),
        Some(&w.other_charity),
        &donation(
            "WCF-1",
            "2020-04-10T10:00:00Z",
            money("500.00"),
            undesignated(),
        ),
    ));
    let b = seq(w.s.post(&other("/allocations"), Some(&w.other_charity), &json!({"donation": gift,
        "recipient": "wuhan-union-hospital", "purpose": "ppe", "asset": money("500.00"), "occurred_at": "2020-04-16T10:00:00Z"})));
    let theirs = seq(w.s.post(&other("/disbursements"), Some(&w.other_charity), &json!({
        "allocation": b, "asset": money("500.00"), "channel": "bank_transfer", "reference": "ICBC-TX-20200416-42",
        "occurred_at": "2020-04-16T11:00:00Z"})));

    let r = get_as(&w.s, &org("/reconciliation"), Some(&w.s.regulator));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let outside = finding(&r.body, "receipt_outside_campaign");
    assert_eq!(outside["section"], "fundraising");
    assert_eq!(entries_of(outside), [late]);
    let reuse = finding(&r.body, "receipt_reused_across_channels");
    assert_eq!(entries_of(reuse), [reused, correction]);
    let twice = finding(&r.body, "reference_on_other_books");
    assert_eq!(
        twice["entries"],
        json!([{"organization": ORG, "seq": ours}, {"organization": OTHER_ORG, "seq": theirs}])
    );
    let mirror = get_as(&w.s, &other("/reconciliation"), Some(&w.s.regulator));
    assert_eq!(
        entries_of(finding(&mirror.body, "reference_on_other_books")),
        [theirs, ours]
    );

    // An organisation without the qualification: a public campaign is refused at write time; a
    // gift through an online fundraising platform is a signal.
    created(w.s.post("/organizations", Some(&w.s.regulator), &json!({"id": "unqualified-foundation",
        "name": "某基金会", "credit_code": credit_code(9), "kind": "foundation", "region_code": "420100",
        "public_fundraising_qualified": false})));
    let key = key_for(&w.s, "unqualified-foundation");
    let path = |p: &str| format!("/organizations/unqualified-foundation{p}");
    let no = w.s.post(
        &path("/campaigns"),
        Some(&key),
        &campaign("appeal", Some("REC-9")),
    );
    assert_eq!(no.status, 422);
    assert_eq!(no.body["errors"][0]["field"], "public_fundraising");
    let mut online = donation(
        "UF-1",
        "2020-02-01T10:00:00Z",
        money("50.00"),
        undesignated(),
    );
    online["channel"] = json!("online_platform");
    let online = seq(w.s.post(&path("/donations"), Some(&key), &online));
    let r = get_as(&w.s, &path("/reconciliation"), Some(&key));
    let signal = finding(&r.body, "unqualified_public_fundraising");
    assert_eq!(signal["severity"], "warning");
    assert_eq!(entries_of(signal), [online]);
}

#[test]
fn a_tampered_log_fails_the_integrity_section() {
    let w = world();
    for (i, amount) in ["100.00", "200.00", "300.00"].iter().enumerate() {
        w.donate(
            &format!("HB-T-{i}"),
            "2020-02-01T10:00:00Z",
            money(amount),
            undesignated(),
        );
    }
    let path = format!("/organizations/{ORG}/reconciliation");
    let honest = get_as(&w.s, &path, Some(&w.s.regulator));
    assert_eq!(finding(&honest.body, "chain_verified")["severity"], "info");
    let drop = if w.s.db.is_postgres() {
        "DROP TRIGGER entries_append_only ON entries"
    } else {
        "DROP TRIGGER entries_no_update"
    };
    let (ok, out) = w.s.db.sql(drop);
    assert!(ok, "{out}");
    let (ok, out) = w.s.db.sql(
        "UPDATE entries SET canonical = replace(canonical, '\"amount\":\"200.00\"', '\"amount\":\"900.00\"') WHERE seq = 2",
    );
    assert!(ok, "{out}");
    // An incremental report recomputes only what was appended since the honest one: nothing.
    let quick = get_as(&w.s, &path, Some(&w.s.regulator));
    assert_eq!(quick.status, 200, "{:?}", quick.body);
    let verified = finding(&quick.body, "chain_verified");
    assert!(
        verified["message"]
            .as_str()
            .unwrap_or_default()
            .contains("as verified by an earlier report of this server, the 0 after them now"),
        "{verified}"
    );
    // A full one recomputes every entry, and compares the derived balances with a replay.
    let r = get_as(&w.s, &format!("{path}?full=true"), Some(&w.s.regulator));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let broken = finding(&r.body, "chain_broken");
    assert_eq!(broken["severity"], "violation");
    assert_eq!(entries_of(broken), [2]);
    assert_eq!(
        finding(&r.body, "checkpoint_root_mismatch")["severity"],
        "violation"
    );
    assert_eq!(
        finding(&r.body, "derived_mismatch")["severity"],
        "violation"
    );
    // The break is not forgotten: the next incremental report starts over and finds it again.
    let again = get_as(&w.s, &path, Some(&w.s.regulator));
    assert_eq!(entries_of(finding(&again.body, "chain_broken")), [2]);
}

/// The public catalogue of finding kinds names every kind a report of the demo contains, each in
/// the section the report puts it in, with an English and a Chinese sentence.
#[test]
fn the_finding_kind_catalogue_covers_the_demo_reports() {
    let s = Server::demo();
    let r = get_as(&s, "/finding_kinds", None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    let catalogue = r.body.as_array().expect("a list");
    let mut sections = std::collections::BTreeMap::new();
    for k in catalogue {
        let kind = k["kind"].as_str().expect("kind").to_owned();
        for field in ["section", "severity", "en", "zh"] {
            let text = k[field].as_str().unwrap_or_default();
            assert!(!text.trim().is_empty(), "{kind} has no {field}: {k}");
        }
        assert!(
            ["info", "warning", "violation"].contains(&k["severity"].as_str().unwrap_or_default()),
            "{k}"
        );
        let before = sections.insert(kind.clone(), k["section"].clone());
        assert!(before.is_none(), "{kind} is listed twice");
    }
    let mut seen = 0;
    for org in [
        "hubei-red-cross",
        "wuhan-charity-federation",
        "china-health-foundation",
    ] {
        let r = get_as(
            &s,
            &format!("/organizations/{org}/reconciliation"),
            Some(&s.regulator),
        );
        assert_eq!(r.status, 200, "{:?}", r.body);
        for f in r.body["findings"].as_array().expect("findings") {
            let kind = f["kind"].as_str().expect("kind");
            let section = sections
                .get(kind)
                .unwrap_or_else(|| panic!("{org}: {kind} is not in the catalogue"));
            assert_eq!(&f["section"], section, "{org}: {kind}");
            seen += 1;
        }
    }
    assert!(seen > 0, "the demo reports have findings");
}

/// The demo's Hubei Red Cross bought protective suits with 150,000.00 of a designated gift:
/// its money balances count that as procured (not as expenses, not as a mismatch), the suits
/// count as goods received (beside the donated ones), and the charity's own expense share leaves the purchase out.
#[test]
fn a_purchase_is_procured_money_and_received_goods_in_the_balances() {
    let s = Server::demo();
    let r = get_as(
        &s,
        "/organizations/hubei-red-cross/reconciliation",
        Some(&s.regulator),
    );
    assert_eq!(r.status, 200, "{:?}", r.body);
    let findings = r.body["findings"].as_array().expect("findings");
    let of =
        |kind: &str| -> Vec<&Value> { findings.iter().filter(|f| f["kind"] == kind).collect() };
    assert!(of("balance_mismatch").is_empty(), "{:#}", r.body);
    let message_for = |kind: &str, asset: &str| -> String {
        of(kind)
            .into_iter()
            .find(|f| f["message"].as_str().is_some_and(|m| m.starts_with(asset)))
            .and_then(|f| f["message"].as_str())
            .unwrap_or_else(|| panic!("{kind} for {asset}: {:#}", r.body))
            .to_owned()
    };
    let money = message_for("balances_hold", "CNY");
    assert!(money.contains("+ procured 150000.00 +"), "{money}");
    let suits = message_for("balances_hold", "医用防护服");
    assert!(suits.contains("(of which 3000.000 bought)"), "{suits}");
    let share = message_for("expense_share", "CNY");
    assert!(
        share.contains("150000.00 bought goods, which are not counted as its own costs"),
        "{share}"
    );
}
