//! Public disclosure on the demo data and on small worlds, end to end over HTTP: the trail of a
//! donation, summaries, timeliness, feeds with filters and CSV, the standard exports validated
//! against the official schemas, privacy of every public response, metrics, health and docs.

use crate::common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const ORGS: [&str; 3] = [
    "hubei-red-cross",
    "wuhan-charity-federation",
    "china-health-foundation",
];

fn demo_with(extra: &[&str]) -> Server {
    let fixtures = repo_file("fixtures/demo.json");
    let fixtures = fixtures.to_str().expect("a UTF-8 path");
    let mut args = vec!["demo", "--fixtures", fixtures];
    args.extend_from_slice(extra);
    Server::start_with(TestDb::new(), &args)
}

/// A GET outside `/api/v1` or with headers, returning (status, headers, body bytes).
fn raw_get(
    s: &Server,
    url: &str,
    accept: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::blocking::Client::new();
    let mut req = client.get(url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let r = req.send().expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().expect("body").to_vec();
    let _ = s;
    (status, headers, body)
}

fn ok(s: &Server, path: &str) -> Value {
    let r = s.get(path);
    assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    r.body
}

fn csv_text(s: &Server, path: &str) -> String {
    let (status, headers, body) = raw_get(s, &s.url(path), None);
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv"),
        "{path} is CSV"
    );
    assert!(
        body.starts_with(&[0xEF, 0xBB, 0xBF]),
        "{path} starts with a UTF-8 BOM"
    );
    String::from_utf8(body[3..].to_vec()).expect("UTF-8")
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    // The demo's values hold no quotes or line breaks, so a plain split is enough here.
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_designated_wuhan_gift_traces_to_the_hospital_that_acknowledged_it() {
    let s = Server::demo();
    let t = ok(
        &s,
        "/organizations/hubei-red-cross/donations/HBRC-2020-00017/trail",
    );
    assert_eq!(t["receipt_number"], "HBRC-2020-00017");
    assert_eq!(t["restriction"]["recipient"], "wuhan-union-hospital");
    let allocations = t["allocations"].as_array().expect("allocations");
    assert_eq!(allocations.len(), 1);
    let a = &allocations[0];
    assert_eq!(a["recipient"], "wuhan-union-hospital");
    assert_eq!(a["from_this_donation"], "36000.000");
    // The disbursement recorded as 36,000 (entry 5) was corrected after receipt to the 35,000
    // really sent (entry 34); the hospital's acknowledgement and usage report carried over.
    let d = &a["disbursements"][0];
    assert_eq!(d["seq"], 34);
    assert_eq!(d["recipient_name"], "华中科技大学同济医学院附属协和医院");
    assert_eq!(d["reference"], "SF1102345678901");
    assert_eq!(d["from_this_donation"], "35000.000");
    assert_eq!(d["acknowledgement"]["seq"], 8);
    assert_eq!(d["acknowledgement"]["from_this_donation"], "35000.000");
    assert_eq!(d["usage_reports"][0]["from_this_donation"], "30000.000");
    assert_eq!(a["undisbursed_from_this_donation"], "1000.000");
    assert_eq!(t["totals"]["received"], "36000.000");
    assert_eq!(t["totals"]["unallocated"], "0.000");
    assert_eq!(t["totals"]["undisbursed"], "1000.000");
    assert_eq!(t["totals"]["unacknowledged"], "0.000");
    assert_eq!(t["totals"]["shortfall"], "0.000");
    let notice = &t["corrections"][0];
    assert_eq!(
        (notice["seq"].as_i64(), notice["corrects"].as_i64()),
        (Some(34), Some(5))
    );
    assert_eq!(notice["before"]["asset"]["quantity"], "36000.000");
    assert_eq!(notice["after"]["asset"]["quantity"], "35000.000");
    let missing = s.get("/organizations/hubei-red-cross/donations/NO-SUCH-RECEIPT/trail");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
}

#[test]
fn a_pool_funded_disbursement_traces_back_to_its_oldest_donations() {
    let s = Server::demo();
    let older = ok(
        &s,
        "/organizations/hubei-red-cross/donations/HBRC-2020-00023/trail",
    );
    let a = &older["allocations"][0];
    assert_eq!(a["seq"], 10);
    assert_eq!(a["pool"], true);
    assert_eq!(a["allocation_total"]["amount"], "320000.00");
    assert_eq!(a["from_this_donation"], "50000.00");
    assert_eq!(a["disbursements"][0]["seq"], 11);
    assert_eq!(a["disbursements"][0]["from_this_donation"], "50000.00");
    assert_eq!(
        a["disbursements"][0]["usage_reports"][0]["from_this_donation"], "50000.00",
        "the oldest donation is used first"
    );
    let newer = ok(
        &s,
        "/organizations/hubei-red-cross/donations/HBRC-2020-00031/trail",
    );
    let a = &newer["allocations"][0];
    assert_eq!(a["from_this_donation"], "270000.00");
    assert_eq!(
        a["disbursements"][0]["usage_reports"][0]["from_this_donation"],
        "236000.00"
    );
    assert_eq!(newer["expenses"][0]["from_this_donation"], "3000.00");
    // What was left of it (300,000 − 270,000 − 3,000) went first into the ¥30,000 passed on to
    // the Wuhan federation (pool allocation #44), the oldest undesignated money first.
    let onward = &newer["allocations"][1];
    assert_eq!(onward["seq"], 44);
    assert_eq!(onward["from_this_donation"], "27000.00");
    assert_eq!(onward["disbursements"][0]["seq"], 45);
    assert_eq!(newer["totals"]["unallocated"], "0.00");
    // The hospital's view names the same two donations behind disbursement #11.
    let r = ok(&s, "/recipients/wuhan-jinyintan-hospital");
    let d = r["disbursements"]
        .as_array()
        .expect("disbursements")
        .iter()
        .find(|d| d["organization"] == "hubei-red-cross" && d["seq"] == 11)
        .expect("disbursement 11")
        .clone();
    let from: Vec<(String, String)> = d["from_donations"]
        .as_array()
        .expect("from_donations")
        .iter()
        .map(|f| {
            (
                f["receipt_number"].as_str().unwrap_or_default().to_owned(),
                f["amount"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        from,
        vec![
            ("HBRC-2020-00023".to_owned(), "50000.00".to_owned()),
            ("HBRC-2020-00031".to_owned(), "270000.00".to_owned())
        ]
    );
    assert_eq!(d["from_donations"][0]["donor"], "王先生");
    assert_eq!(d["acknowledged"]["amount"], "320000.00");
    assert_eq!(d["used"], "286000.00");
}

#[test]
fn a_gift_passed_between_charities_is_followed_into_the_second_log() {
    let s = Server::demo();
    let t = ok(
        &s,
        "/organizations/china-health-foundation/donations/CHF-2020-000311/trail",
    );
    let d = t["allocations"]
        .as_array()
        .expect("allocations")
        .iter()
        .flat_map(|a| a["disbursements"].as_array().cloned().unwrap_or_default())
        .find(|d| d["seq"] == 6)
        .expect("disbursement 6 to the federation");
    assert_eq!(d["recipient"], "wuhan-charity-federation-recipient");
    assert_eq!(d["from_this_donation"], "1000000.00");
    let onward = &d["onward"];
    assert_eq!(onward["organization"], "wuhan-charity-federation");
    assert_eq!(onward["receipt_number"], "WCF-2020-01377");
    assert_eq!(
        onward["source_disbursement"],
        json!({"organization": "china-health-foundation", "disbursement": 6})
    );
    let next = &onward["allocations"][0]["disbursements"][0];
    assert_eq!(next["recipient"], "wuhan-social-welfare-institute");
    assert_eq!(next["from_this_donation"], "500000.00");
    assert_eq!(next["usage_reports"][0]["from_this_donation"], "180000.00");
    assert_eq!(onward["totals"]["unallocated"], "500000.00");
}

fn asset<'a>(summary: &'a Value, key: &str) -> &'a Value {
    summary["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .find(|a| a["asset"]["currency"] == key || a["asset"]["item"] == key)
        .unwrap_or_else(|| panic!("asset {key} in {summary}"))
}

#[test]
fn summaries_show_every_stage_per_asset_and_the_priority_share_of_undesignated_funds() {
    let s = Server::demo();
    let hb = ok(&s, "/organizations/hubei-red-cross/summary");
    let n95 = asset(&hb, "N95医用防护口罩");
    assert_eq!(n95["received"], "36000.000");
    assert_eq!(
        n95["disbursed"], "35000.000",
        "after the correction of entry 5"
    );
    assert_eq!(n95["undisbursed"], "1000.000");
    assert_eq!(n95["acknowledged"], "35000.000");
    assert_eq!(n95["shortfall"], "0.000");
    assert_eq!(n95["corrections"], 1);
    assert_eq!(n95["used"], "30000.000");
    assert_eq!(n95["designated"]["received"], "36000.000");
    assert_eq!(n95["undesignated"]["received"], "0.000");
    let kn95 = asset(&hb, "KN95口罩");
    // 100,000 received, 60,000 to Huanggang, 16,000 to the private Renhe hospital.
    assert_eq!(kn95["unallocated"], "24000.000");
    let cny = asset(&hb, "CNY");
    assert_eq!(cny["expenses"], "3000.00");
    assert_eq!(cny["priority_regions"]["share_percent"], "100.00");
    assert_eq!(hb["priority_regions"], json!(["42"]));
    let change = &hb["designation_changes"][0];
    assert_eq!(change["donor_consent_reference"], "HBRC-CONSENT-2020-0007");
    assert_eq!(hb["corrections"][0]["corrects"], 20);
    // Received = allocated + expenses + procured + unallocated; allocated = disbursed +
    // undisbursed.
    for a in hb["assets"].as_array().expect("assets") {
        let n = |f: &str| {
            a[f].as_str()
                .unwrap_or("0")
                .parse::<f64>()
                .unwrap_or(f64::NAN)
        };
        assert_eq!(
            n("received"),
            n("allocated") + n("expenses") + n("procured") + n("unallocated")
        );
        assert_eq!(n("allocated"), n("disbursed") + n("undisbursed"));
    }
    // The foundation's campaign: ¥1,000,000 to Wuhan, ¥500,000 to Zhejiang, undesignated.
    let c = ok(
        &s,
        "/organizations/china-health-foundation/campaigns/hubei-medics-2020/summary",
    );
    assert_eq!(c["campaign"], "hubei-medics-2020");
    let cny = asset(&c, "CNY");
    assert_eq!(cny["undesignated"]["disbursed"], "1500000.00");
    assert_eq!(cny["priority_regions"]["to_priority_regions"], "1000000.00");
    assert_eq!(cny["priority_regions"]["share_percent"], "66.66");
    assert_eq!(cny["designated"]["disbursed"], "8888.00");
    assert_eq!(
        s.get("/organizations/china-health-foundation/campaigns/nope/summary")
            .status,
        404
    );
    // The federation's recipient view of the welfare institute: acknowledged and used.
    let r = ok(&s, "/recipients/wuhan-social-welfare-institute");
    assert_eq!(r["name"], "武汉市社会福利院");
    let from = &r["received_from"][0];
    assert_eq!(from["organization"], "wuhan-charity-federation");
    assert_eq!(from["disbursed"], "600000.00");
    assert_eq!(from["acknowledged"], "500000.00");
    assert_eq!(from["unacknowledged"], "100000.00");
    assert_eq!(from["used"], "180000.00");
}

#[test]
fn priority_regions_and_deadlines_are_configurable() {
    let s = demo_with(&[
        "--priority-regions",
        "33",
        "--emergency-deadline-hours",
        "100000",
    ]);
    let c = ok(
        &s,
        "/organizations/china-health-foundation/campaigns/hubei-medics-2020/summary",
    );
    assert_eq!(c["priority_regions"], json!(["33"]));
    assert_eq!(
        asset(&c, "CNY")["priority_regions"]["share_percent"],
        "33.33"
    );
    let d = &c["timeliness"]["deadlines"][0];
    assert_eq!(d["deadline_hours"], 100000);
}

#[test]
fn timeliness_measures_each_entry_against_its_campaign_deadline() {
    let w = world();
    let now = chrono::Utc::now();
    let ago = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    for (id, emergency) in [("quake", true), ("school", false)] {
        let r = w.s.post(
            &format!("/organizations/{ORG}/campaigns"),
            Some(&w.charity),
            &json!({"id": id, "title": id, "region_code": "420000", "emergency": emergency,
                    "starts_at": ago(100), "occurred_at": ago(0)}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let give = |receipt: &str, campaign: &str, hours_ago: i64| {
        let mut body = donation(receipt, &ago(hours_ago), money("100.00"), undesignated());
        body["campaign"] = json!(campaign);
        let r = w.s.post(
            &format!("/organizations/{ORG}/donations"),
            Some(&w.charity),
            &body,
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["seq"].as_i64().expect("seq")
    };
    let late = give("Q-1", "quake", 48);
    let on_time = give("Q-2", "quake", 2);
    let slow_but_fine = give("S-1", "school", 48);
    let a = w.allocate(json!({"pool": true, "recipient": "wuhan-union-hospital", "asset": money("150.00"), "occurred_at": ago(1)}));
    assert_eq!(a.status, 201, "{:?}", a.body);
    let d = w.s.post(
        &format!("/organizations/{ORG}/disbursements"),
        Some(&w.charity),
        &json!({"allocation": a.body["seq"], "asset": money("150.00"), "channel": "bank_transfer", "reference": "T-1", "occurred_at": ago(1)}),
    );
    assert_eq!(d.status, 201, "{:?}", d.body);
    let t = ok(&w.s, &format!("/organizations/{ORG}/timeliness"));
    let entry = |seq: i64| {
        t["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["seq"] == seq)
            .cloned()
            .expect("entry")
    };
    assert_eq!(entry(late)["missed"], true);
    assert_eq!(entry(late)["deadline_hours"], 24);
    assert_eq!(entry(on_time)["missed"], false);
    assert_eq!(entry(slow_but_fine)["missed"], false);
    assert_eq!(entry(slow_but_fine)["deadline_hours"], 2160);
    let delay: f64 = entry(late)["delay_hours"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .expect("delay");
    assert!((47.9..48.1).contains(&delay), "{delay}");
    let missed = ok(
        &w.s,
        &format!("/organizations/{ORG}/timeliness?missed=true"),
    );
    let seqs: Vec<i64> = missed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![late]);
    let summary = ok(&w.s, &format!("/organizations/{ORG}/summary"));
    let quake = summary["timeliness"]["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["campaign"] == "quake")
        .cloned()
        .expect("quake");
    assert_eq!(quake["emergency"], true);
    assert_eq!(quake["missed_entries"], json!([late]));
    // The pool is drawn oldest-first: Q-1's 100 and 50 of S-1's, both received 48 h before
    // the disbursement an hour ago.
    let latency = &summary["timeliness"]["receipt_to_disbursement"][0];
    assert_eq!(latency["disbursed"], "150.00");
    assert_eq!(latency["median_hours"], "47.00");
    assert_eq!(latency["p90_hours"], "47.00");
    let csv = csv_text(&w.s, &format!("/organizations/{ORG}/timeliness?format=csv"));
    assert!(csv.starts_with("organization,seq,kind,occurred_at,recorded_at,delay_hours,campaigns,deadline_hours,missed\r\n"));
}

#[test]
fn feeds_filter_by_campaign_recipient_region_asset_and_dates_and_page_with_cursors() {
    let s = Server::demo();
    let seqs = |path: &str, name: &str| -> Vec<i64> {
        ok(&s, path)[name]
            .as_array()
            .expect(name)
            .iter()
            .filter_map(|e| e["seq"].as_i64())
            .collect()
    };
    let hb = "/organizations/hubei-red-cross";
    let to_huanggang = seqs(&format!("{hb}/allocations?region=4211"), "allocations");
    assert_eq!(to_huanggang, vec![13, 28]);
    assert_eq!(
        seqs(
            &format!("{hb}/disbursements?recipient=xiaogan-central-hospital"),
            "disbursements"
        ),
        vec![19]
    );
    let wuhan_designated = seqs(&format!("{hb}/donations?region=4201"), "donations");
    assert!(
        wuhan_designated.contains(&2) && wuhan_designated.contains(&26),
        "{wuhan_designated:?}"
    );
    assert!(
        !wuhan_designated.contains(&7),
        "undesignated gifts have no region"
    );
    let wcf = "/organizations/wuhan-charity-federation";
    let elderly = seqs(
        &format!("{wcf}/disbursements?campaign=wuhan-elderly-care-2020"),
        "disbursements",
    );
    assert_eq!(elderly, vec![19]);
    let usd = seqs(
        "/organizations/china-health-foundation/allocations?asset=USD",
        "allocations",
    );
    assert_eq!(usd, vec![13]);
    let feb = seqs(
        &format!("{hb}/donations?from=2020-02-01T00:00:00Z&to=2020-02-06T00:00:00Z"),
        "donations",
    );
    assert_eq!(feb, vec![7, 9, 17]);
    let mut all = Vec::new();
    let mut after = String::new();
    loop {
        let page = ok(&s, &format!("{hb}/donations?limit=3{after}"));
        all.extend(page["donations"].as_array().cloned().unwrap_or_default());
        match page["meta"]["next"].as_str() {
            Some(n) => after = format!("&after={n}"),
            None => break,
        }
    }
    assert_eq!(
        all.len(),
        seqs(&format!("{hb}/donations"), "donations").len()
    );
    let bad = s.get(&format!("{hb}/donations?region=hubei"));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.body["errors"][0]["field"], "region");
    let bad = s.get(&format!("{hb}/donations?format=pdf"));
    assert_eq!(bad.body["errors"][0]["field"], "format");
}

#[test]
fn feeds_come_as_csv_with_a_bom_a_header_and_chinese_text() {
    let s = Server::demo();
    let hb = "/organizations/hubei-red-cross";
    let text = csv_text(&s, &format!("{hb}/donations?format=csv"));
    let rows = csv_rows(&text);
    let header = &rows[0];
    for col in givetrail_domain::import::COLUMNS
        .into_iter()
        .filter(|c| !["donor_public_name", "donor_contact"].contains(c))
    {
        assert!(
            header.iter().any(|h| h == col),
            "column {col} in {header:?}"
        );
    }
    assert!(
        !header.iter().any(|h| h == "donor_contact"),
        "contact is never public"
    );
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    let gift = rows
        .iter()
        .find(|r| r[col("receipt_number")] == "HBRC-2020-00017")
        .expect("the masks");
    assert_eq!(gift[col("donor_name")], "武汉新桥医疗器械有限公司");
    assert_eq!(gift[col("quantity")], "36000.000");
    assert_eq!(gift[col("designated_recipient")], "wuhan-union-hospital");
    let individual = rows
        .iter()
        .find(|r| r[col("receipt_number")] == "HBRC-2020-00068")
        .expect("孙立新's gift");
    assert_eq!(individual[col("donor_name")], "孙**");
    // Accept: text/csv works too, and a page's CSV names the next cursor.
    let (status, headers, body) = raw_get(
        &s,
        &s.url(&format!("{hb}/disbursements?limit=2")),
        Some("text/csv"),
    );
    assert_eq!(status, 200);
    let text = String::from_utf8(body[3..].to_vec()).expect("UTF-8");
    assert_eq!(text.lines().count(), 3, "header and two rows: {text}");
    assert!(text
        .lines()
        .next()
        .unwrap_or_default()
        .contains("recipient_name"));
    // The first live disbursement (entry 5 was corrected into entry 34) went to 金银潭.
    assert!(text.contains("武汉市金银潭医院"), "{text}");
    assert!(headers["link"]
        .to_str()
        .unwrap_or_default()
        .contains("after="));
    assert!(headers.contains_key("x-next-cursor"));
    let alloc = csv_text(&s, &format!("{hb}/allocations?format=csv"));
    assert!(alloc.contains("HBRC-CONSENT-2020-0007"));
    let campaigns = csv_text(&s, &format!("{hb}/campaigns?format=csv"));
    assert!(campaigns.contains("抗击新型冠状病毒感染的肺炎疫情募捐"));
    let recipients = csv_text(&s, "/recipients?format=csv");
    assert!(recipients.contains("武汉市金银潭医院"));
}

fn validate_iati(xml: &str, name: &str) {
    let (valid, errors) = xmllint(xml, name);
    assert!(valid, "IATI export of {name} is valid: {errors}");
}

fn xmllint(xml: &str, name: &str) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("givetrail-iati-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("iati.xml");
    std::fs::write(&file, xml).expect("write");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(repo_file(
            "vendor/standards/iati-2.03/iati-activities-schema.xsd",
        ))
        .arg(&file)
        .output()
        .expect("xmllint is installed (Debian libxml2-utils; .ci/run installs it)");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn giving360_validator() -> jsonschema::Validator {
    // The schemas name their meta-schema as `http://json-schema.org/draft/2020-12/schema`; the
    // validator knows it by its canonical `https://` URI, so it is told the draft instead.
    let read = |f: &str| -> Value {
        let mut v: Value = serde_json::from_str(
            &std::fs::read_to_string(repo_file(&format!("vendor/standards/360giving/{f}")))
                .expect("schema"),
        )
        .expect("schema JSON");
        if let Some(o) = v.as_object_mut() {
            o.remove("$schema");
        }
        v
    };
    let package = read("360-giving-package-schema.json");
    let grant = read("360-giving-schema.json");
    let remote = package["properties"]["grants"]["items"]["$ref"]
        .as_str()
        .expect("$ref")
        .to_owned();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .with_resource(
            remote,
            jsonschema::Draft::Draft202012.create_resource(grant),
        )
        .build(&package)
        .expect("package schema compiles")
}

#[test]
fn iati_and_360giving_exports_of_the_demo_validate_against_the_official_schemas() {
    let s = Server::demo();
    let giving = giving360_validator();
    for org in ORGS {
        let (status, headers, body) = raw_get(
            &s,
            &s.url(&format!("/organizations/{org}/exports/iati.xml")),
            None,
        );
        assert_eq!(status, 200);
        assert!(headers["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/xml"));
        let xml = String::from_utf8(body).expect("UTF-8");
        validate_iati(&xml, org);
        let codes: BTreeSet<&str> = xml
            .split("<transaction-type code=\"")
            .skip(1)
            .filter_map(|p| p.split('"').next())
            .collect();
        assert!(
            codes.iter().all(|c| ["1", "2", "3", "4"].contains(c)),
            "{codes:?}"
        );
        if org == "hubei-red-cross" {
            assert_eq!(codes, BTreeSet::from(["1", "2", "3", "4"]));
            assert!(
                xml.contains("humanitarian=\"1\""),
                "emergency appeals are humanitarian"
            );
            assert!(
                xml.contains("<value currency=\"CNY\" value-date=\"2020-02-02\">320000.00</value>")
            );
            // The protective suits bought with donated money: an expenditure (4) valued at what
            // was paid, with the supplier as receiver and the invoice named.
            let purchase = xml
                .lines()
                .find(|l| l.contains("FP-42000-2020-00881234"))
                .expect("the purchase is exported");
            assert!(
                purchase.contains("<transaction-type code=\"4\"/>"),
                "{purchase}"
            );
            assert!(
                purchase.contains(
                    "<value currency=\"CNY\" value-date=\"2020-02-09\">150000.00</value>"
                ),
                "{purchase}"
            );
            assert!(
                purchase.contains(
                    "<receiver-org><narrative>仙桃市安康防护用品有限公司</narrative></receiver-org>"
                ),
                "{purchase}"
            );
        }
        let package = ok(&s, &format!("/organizations/{org}/exports/360giving.json"));
        let errors: Vec<String> = giving
            .iter_errors(&package)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "360Giving export of {org}: {errors:?}");
    }
    // The validators do refuse what the standards refuse.
    let (_, _, body) = raw_get(
        &s,
        &s.url("/organizations/hubei-red-cross/exports/iati.xml"),
        None,
    );
    let broken = String::from_utf8(body)
        .expect("UTF-8")
        .replace("<activity-status code=\"2\"/>", "");
    assert!(
        !xmllint(&broken, "broken").0,
        "an activity without a status is refused"
    );
    let hb = ok(&s, "/organizations/hubei-red-cross/exports/360giving.json");
    let mut broken = hb.clone();
    broken["grants"][0]
        .as_object_mut()
        .expect("grant")
        .remove("currency");
    assert!(
        !giving.is_valid(&broken),
        "a grant without a currency is refused"
    );
    let grant = hb["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .find(|g| g["id"] == "360G-givetrail-hubei-red-cross-11")
        .cloned()
        .expect("grant for disbursement 11");
    assert_eq!(grant["amountAwarded"], json!(320000.0));
    // A purchase (the suits bought, entry 36) pays a supplier: it is not a grant.
    assert!(
        !hb["grants"]
            .as_array()
            .expect("grants")
            .iter()
            .any(|g| g["id"] == "360G-givetrail-hubei-red-cross-36"),
        "{hb:#}"
    );
    assert_eq!(
        grant["recipientOrganization"][0]["name"],
        "武汉市金银潭医院"
    );
    // Non-emergency campaign: humanitarian="0".
    let (_, _, body) = raw_get(
        &s,
        &s.url("/organizations/wuhan-charity-federation/exports/iati.xml"),
        None,
    );
    let xml = String::from_utf8(body).expect("UTF-8");
    assert!(xml.contains("humanitarian=\"0\""));
}

#[test]
fn the_export_command_writes_what_the_api_serves() {
    let s = Server::demo();
    let (ok_run, out, err) = s.db.cli(&[
        "export",
        "--org",
        "hubei-red-cross",
        "--format",
        "360giving",
    ]);
    assert!(ok_run, "{err}");
    let cli: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        cli,
        ok(&s, "/organizations/hubei-red-cross/exports/360giving.json")
    );
    let (ok_run, out, err) =
        s.db.cli(&["export", "--org", "hubei-red-cross", "--format", "iati"]);
    assert!(ok_run, "{err}");
    validate_iati(&out, "cli");
    let (ok_run, out, err) =
        s.db.cli(&["export", "--org", "hubei-red-cross", "--format", "csv"]);
    assert!(ok_run, "{err}");
    assert_eq!(
        out,
        format!(
            "\u{feff}{}",
            csv_text(&s, "/organizations/hubei-red-cross/donations?format=csv")
        )
    );
    let (ok_run, _, err) = s.db.cli(&["export", "--org", "nobody", "--format", "csv"]);
    assert!(!ok_run && err.contains("nobody"), "{err}");
}

/// Every private value of the demo: donor contacts, and full names of individuals shown masked
/// or under a chosen public name.
fn private_values() -> Vec<String> {
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("fixtures/demo.json")).expect("fixtures"),
    )
    .expect("JSON");
    let mut out = Vec::new();
    for step in fixture["steps"].as_array().expect("steps") {
        for donor in [
            &step["body"]["donor"],
            &step["body"]["replacement"]["donor"],
        ] {
            if let Some(c) = donor["contact"].as_str() {
                out.push(c.to_owned());
            }
            let individual = donor["kind"] == "individual";
            let shown_as_is = donor["public_name"] == donor["name"];
            if individual && !shown_as_is {
                if let Some(n) = donor["name"].as_str() {
                    out.push(n.to_owned());
                }
            }
        }
    }
    out
}

fn assert_no_private_keys(v: &Value, at: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                assert!(
                    k != "contact" && k != "related_recipients",
                    "private field {at}.{k} is public"
                );
                assert!(
                    !(at.ends_with(".donor") && k == "name"),
                    "a donor's full name is public at {at}"
                );
                assert_no_private_keys(x, &format!("{at}.{k}"));
            }
        }
        Value::Array(a) => a.iter().for_each(|x| assert_no_private_keys(x, at)),
        _ => {}
    }
}

#[test]
fn no_public_response_or_export_contains_a_private_value() {
    let s = Server::demo();
    let private = private_values();
    assert!(
        private.len() >= 8,
        "the demo has private values to look for: {private:?}"
    );
    assert!(private.iter().any(|p| p == "王建国") && private.iter().any(|p| p.contains('@')));
    let mut paths: Vec<String> = vec![
        "/organizations".into(),
        "/recipients".into(),
        "/recipients?format=csv".into(),
    ];
    let recipients = ok(&s, "/recipients");
    for r in recipients["recipients"].as_array().expect("recipients") {
        paths.push(format!(
            "/recipients/{}",
            r["id"].as_str().unwrap_or_default()
        ));
    }
    for org in ORGS {
        let o = format!("/organizations/{org}");
        for p in [
            "",
            "/entries?limit=1000",
            "/donations",
            "/donations?format=csv",
            "/allocations",
            "/allocations?format=csv",
            "/disbursements",
            "/disbursements?format=csv",
            "/campaigns",
            "/campaigns?format=csv",
            "/summary",
            "/timeliness?limit=1000",
            "/timeliness?format=csv&limit=1000",
            "/exports/iati.xml",
            "/exports/360giving.json",
            "/checkpoints/latest",
        ] {
            paths.push(format!("{o}{p}"));
        }
        for c in ok(&s, &format!("{o}/campaigns"))["campaigns"]
            .as_array()
            .expect("campaigns")
        {
            paths.push(format!(
                "{o}/campaigns/{}",
                c["id"].as_str().unwrap_or_default()
            ));
            paths.push(format!(
                "{o}/campaigns/{}/summary",
                c["id"].as_str().unwrap_or_default()
            ));
        }
        for d in ok(&s, &format!("{o}/donations?limit=1000"))["donations"]
            .as_array()
            .expect("donations")
        {
            let body = &d["body"];
            let receipt = body["receipt_number"]
                .as_str()
                .or(body["replacement"]["receipt_number"].as_str())
                .unwrap_or_default();
            paths.push(format!("{o}/donations/{receipt}/trail"));
        }
    }
    let mut roots = vec![format!("{}/healthz", s.base), format!("{}/metrics", s.base)];
    roots.extend(paths.iter().map(|p| s.url(p)));
    for url in &roots {
        let (status, _, body) = raw_get(&s, url, None);
        assert_eq!(status, 200, "{url}");
        let text = String::from_utf8_lossy(&body);
        for p in &private {
            assert!(
                !text.contains(p.as_str()),
                "{url} reveals the private value {p:?}"
            );
        }
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            assert_no_private_keys(&v, "");
        }
    }
    assert!(roots.len() > 80, "walked {} public URLs", roots.len());
}

#[test]
fn a_regulator_sees_the_private_values_the_public_does_not() {
    let s = Server::demo();
    let path = s.url("/organizations/hubei-red-cross/entries/3/private");
    let client = reqwest::blocking::Client::new();
    assert_eq!(
        client.get(&path).send().expect("GET").status().as_u16(),
        401
    );
    let charity = client
        .get(&path)
        .bearer_auth("demo-charity-hubei-red-cross")
        .send()
        .expect("GET");
    assert_eq!(charity.status().as_u16(), 403);
    let r: Value = client
        .get(&path)
        .bearer_auth("demo-regulator-hubei-0001")
        .send()
        .expect("GET")
        .json()
        .expect("JSON");
    assert_eq!(r["private"]["values"]["donor.name"]["value"], "王建国");
    assert_eq!(
        r["private"]["values"]["donor.contact"]["value"],
        "+86 138 0000 1234"
    );
}

#[test]
fn metrics_health_and_swagger_ui_are_served_at_the_root() {
    let s = Server::demo();
    ok(&s, "/organizations/hubei-red-cross/summary");
    let (status, _, body) = raw_get(&s, &format!("{}/healthz", s.base), None);
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("JSON")["status"],
        "ok"
    );
    let (status, headers, body) = raw_get(&s, &format!("{}/metrics", s.base), None);
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain"));
    let text = String::from_utf8(body).expect("UTF-8");
    for needle in [
        "# TYPE givetrail_http_requests_total counter",
        "givetrail_http_requests_total{method=\"GET\",route=\"/api/v1/organizations/{org}/summary\",status=\"200\"} 1",
        "# TYPE givetrail_http_request_duration_seconds histogram",
        "givetrail_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/organizations/{org}/summary\",le=\"+Inf\"} 1",
        "givetrail_entries_written_total{organization=\"hubei-red-cross\"} 46",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    let (status, headers, body) = raw_get(&s, &format!("{}/docs/", s.base), None);
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/html"));
    let html = String::from_utf8(body).expect("UTF-8");
    let assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|p| p.ends_with(".js") || p.ends_with(".css"))
        .map(|p| p.trim_start_matches("./").to_owned())
        .collect();
    assert!(
        assets.iter().any(|a| a.contains("swagger-ui-bundle.js"))
            && assets.iter().any(|a| a.ends_with(".css")),
        "{assets:?}"
    );
    for a in &assets {
        assert!(!a.starts_with("http"), "docs load {a} from the network");
        let (status, _, body) = raw_get(&s, &format!("{}/docs/{a}", s.base), None);
        assert_eq!(status, 200, "/docs/{a}");
        assert!(!body.is_empty(), "/docs/{a} has content");
    }
    let (status, _, body) = raw_get(&s, &format!("{}/api-spec/openapi.json", s.base), None);
    assert_eq!(status, 200);
    let spec: Value = serde_json::from_slice(&body).expect("spec");
    for p in [
        "/api/v1/organizations/{org}/summary",
        "/api/v1/organizations/{org}/donations/{receipt_number}/trail",
        "/api/v1/organizations/{org}/exports/iati.xml",
        "/metrics",
        "/healthz",
    ] {
        assert!(spec["paths"][p].is_object(), "{p} is documented");
    }
}

/// The organisation page's flow chart shows a purchase as its own flow, money → goods bought →
/// goods, never among the charity's own costs, in both languages.
#[test]
fn the_flow_chart_shows_purchases_apart_from_costs() {
    let s = Server::demo();
    for (lang, bought, from_money, costs) in [
        (
            "en",
            "Goods bought",
            "Bought with donated money",
            "Charity&#39;s own costs",
        ),
        ("zh", "采购物资", "用捐赠资金采购", "机构自身费用"),
    ] {
        let (status, _, body) = raw_get(
            &s,
            &format!("{}/organizations/hubei-red-cross?lang={lang}", s.base),
            None,
        );
        assert_eq!(status, 200);
        let html = String::from_utf8(body).expect("UTF-8");
        // Each flow table is on the page twice: in its <details>, and the copy a phone shows in
        // place of the diagram (the last thing in its figure). Both copies are the same rows.
        let mut copies = html.split("<div class=\"flow-narrow\">");
        let mut wide = copies.next().unwrap_or_default().to_owned();
        let mut narrow = String::new();
        for part in copies {
            let (copy, rest) = part.split_once("</figure>").unwrap_or((part, ""));
            narrow.push_str(copy);
            wide.push_str(rest);
        }
        assert!(
            narrow.contains(bought)
                && wide.matches("<tr>").count() > narrow.matches("<tr>").count(),
            "{lang}: the phone's copy of the flow tables"
        );
        let html = wide;
        // Table rows: their cells' text.
        let rows: Vec<Vec<String>> = html
            .split("<tr>")
            .skip(1)
            .map(|r| {
                r.split("</tr>")
                    .next()
                    .unwrap_or_default()
                    .split("<td")
                    .skip(1)
                    .map(|c| {
                        let c = c.split_once('>').map_or(c, |(_, rest)| rest);
                        c.split("</td>").next().unwrap_or_default().to_owned()
                    })
                    .collect()
            })
            .collect();
        let to = |sink: &str| -> Vec<&Vec<String>> {
            rows.iter()
                .filter(|r| r.len() == 3 && r[1] == sink)
                .collect()
        };
        // The suits bought for 150,000.00 of a designated gift: money → goods bought …
        let purchases = to(bought);
        assert_eq!(purchases.len(), 1, "{lang}: {rows:?}");
        assert!(purchases[0][2].contains("150,000.00"), "{lang}: {rows:?}");
        // … → the goods, from their purchase, to the hospital that received them.
        assert!(
            rows.iter()
                .any(|r| r.len() == 3 && r[0] == from_money && r[1] == "武汉市金银潭医院"),
            "{lang}: the goods bought flow on from their purchase: {rows:?}"
        );
        // The charity's own costs are its one expense (3,000.00), not the purchase.
        let spent = to(costs);
        assert_eq!(spent.len(), 1, "{lang}: {rows:?}");
        assert!(spent[0][2].contains("3,000.00"), "{lang}: {rows:?}");
    }
}

/// Amounts as integer cents (`"150.00"` → 15000).
fn cents(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("an amount: {v}"));
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    whole.parse::<i64>().expect("whole") * 100
        + format!("{frac:0<2}")[..2].parse::<i64>().expect("cents")
}

#[test]
fn the_recipient_view_pages_its_disbursements_and_its_totals_are_the_sum_over_the_pages() {
    let w = world();
    let union = "wuhan-union-hospital";
    let other_key = &w.other_charity;
    let mut sent: Vec<(String, i64)> = Vec::new();
    // Each charity gives to the union hospital: one pool allocation, many small disbursements,
    // the two logs' dates interleaved (and some at the very same moment).
    for (org, key, n) in [(ORG, &w.charity, 105), (OTHER_ORG, other_key, 6)] {
        let r = w.s.post(
            &format!("/organizations/{org}/donations"),
            Some(key),
            &donation(
                &format!("{org}-D"),
                "2020-02-01T08:00:00Z",
                money("5000.00"),
                undesignated(),
            ),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        let a = w.s.post(
            &format!("/organizations/{org}/allocations"),
            Some(key),
            &json!({"pool": true, "recipient": union, "purpose": "ICU", "asset": money("3000.00"), "occurred_at": "2020-02-01T09:00:00Z"}),
        );
        assert_eq!(a.status, 201, "{:?}", a.body);
        for i in 0..n {
            let minute = if org == ORG { i } else { i * 17 };
            let amount = format!("{}.{:02}", 10 + i % 7, i % 100);
            let d = w.s.post(
                &format!("/organizations/{org}/disbursements"),
                Some(key),
                &json!({"allocation": a.body["seq"], "asset": money(&amount), "channel": "bank_transfer",
                        "reference": format!("T-{org}-{i}"),
                        "occurred_at": format!("2020-02-02T{:02}:{:02}:00Z", 10 + minute / 60, minute % 60)}),
            );
            assert_eq!(d.status, 201, "{:?}", d.body);
            let seq = d.body["seq"].as_i64().expect("seq");
            sent.push((org.to_owned(), seq));
            // Every third is acknowledged (one cent short), and of those every other is used.
            if i % 3 == 0 {
                let short = format!("{}.{:02}", 10 + i % 7, (i % 100).max(1) - 1);
                let ack = w.s.post(
                    &format!("/recipients/{union}/acknowledgements"),
                    Some(&w.union_hospital),
                    &json!({"disbursement": {"organization": org, "seq": seq}, "asset": money(&short),
                            "received_at": "2020-02-03T10:00:00Z", "note": "", "occurred_at": "2020-02-03T10:00:00Z"}),
                );
                assert_eq!(ack.status, 201, "{:?}", ack.body);
                if i % 2 == 0 {
                    let used = w.s.post(
                        &format!("/recipients/{union}/usage_reports"),
                        Some(&w.union_hospital),
                        &json!({"disbursement": {"organization": org, "seq": seq}, "asset": money("5.00"),
                                "description": "ICU staff", "occurred_at": "2020-02-04T10:00:00Z"}),
                    );
                    assert_eq!(used.status, 201, "{:?}", used.body);
                }
            }
        }
    }

    // Page through, 40 at a time.
    let mut pages = Vec::new();
    let mut path = format!("/recipients/{union}?limit=40");
    loop {
        let page = ok(&w.s, &path);
        pages.push(page.clone());
        match page["meta"]["next"].as_str() {
            Some(n) => path = format!("/recipients/{union}?limit=40&after={n}"),
            None => break,
        }
    }
    let listed: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["disbursements"].as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(pages.len(), 3, "111 disbursements in pages of 40");
    assert_eq!(
        pages
            .iter()
            .map(|p| p["disbursements"].as_array().map_or(0, Vec::len))
            .collect::<Vec<_>>(),
        vec![40, 40, 31]
    );
    // Every disbursement once, oldest first (then organisation, then seq).
    let keys: Vec<(String, String, i64)> = listed
        .iter()
        .map(|d| {
            (
                d["occurred_at"].as_str().expect("occurred_at").to_owned(),
                d["organization"].as_str().expect("organization").to_owned(),
                d["seq"].as_i64().expect("seq"),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "in order, none twice");
    let mut seen: Vec<(String, i64)> = keys.iter().map(|(_, o, s)| (o.clone(), *s)).collect();
    seen.sort();
    sent.sort();
    assert_eq!(seen, sent, "every disbursement listed");

    // The totals are the same on every page and are the sums over all the pages.
    let totals = &pages[0]["received_from"];
    for p in &pages {
        assert_eq!(&p["received_from"], totals);
        assert_eq!(p["id"], union);
    }
    for (org, n) in [(ORG, 105), (OTHER_ORG, 6)] {
        let row = totals
            .as_array()
            .expect("received_from")
            .iter()
            .find(|r| r["organization"] == org)
            .unwrap_or_else(|| panic!("{org} in {totals}"));
        let mine: Vec<&Value> = listed.iter().filter(|d| d["organization"] == org).collect();
        assert_eq!(row["disbursements"], n);
        assert_eq!(mine.len(), n);
        let sum = |f: &dyn Fn(&Value) -> i64| mine.iter().map(|d| f(d)).sum::<i64>();
        assert_eq!(
            cents(&row["disbursed"]),
            sum(&|d| cents(&d["asset"]["amount"]))
        );
        assert_eq!(
            cents(&row["acknowledged"]),
            sum(&|d| d["acknowledged"].get("amount").map_or(0, cents))
        );
        assert_eq!(
            cents(&row["unacknowledged"]),
            sum(&|d| if d["acknowledged"].is_null() {
                cents(&d["asset"]["amount"])
            } else {
                0
            })
        );
        assert_eq!(cents(&row["used"]), sum(&|d| cents(&d["used"])));
        assert_eq!(row["allocated"], "3000.00");
        assert!(cents(&row["disbursed"]) > 0 && cents(&row["used"]) > 0);
    }

    // Cursors and sizes are checked.
    for bad in [
        "?after=12",
        "?after=x.hubei-red-cross.1",
        "?limit=0",
        "?limit=1001",
    ] {
        let r = w.s.get(&format!("/recipients/{union}{bad}"));
        assert_eq!(r.status, 400, "{bad}: {:?}", r.body);
    }
    let last = ok(&w.s, &format!("/recipients/{union}?limit=1000"));
    assert_eq!(last["disbursements"].as_array().map(Vec::len), Some(111));
    assert!(last["meta"]["next"].is_null());

    // The web page shows the first 100 and links to the rest, in both languages.
    for (lang, more, back) in [
        ("en", "More disbursements", "Back to the oldest"),
        ("zh", "更多拨付", "回到最早的拨付"),
    ] {
        let get = |path: &str| {
            let r = reqwest::blocking::get(format!("{}{path}", w.s.base)).expect("GET the page");
            assert_eq!(r.status().as_u16(), 200, "{path}");
            r.text().expect("page text")
        };
        let first = get(&format!("/recipients/{union}?lang={lang}"));
        assert_eq!(first.matches("<li class=\"step").count(), 100, "{lang}");
        assert!(first.contains(more) && !first.contains(back), "{lang}");
        let href = first
            .split("rel=\"next\"")
            .next()
            .and_then(|h| h.rsplit("href=\"").next())
            .and_then(|h| h.split('"').next())
            .expect("a link to the next page")
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        let second = get(&href);
        assert_eq!(
            second.matches("<li class=\"step").count(),
            11,
            "{lang}: {href}"
        );
        assert!(
            !second.contains(more) && second.contains(back),
            "{lang}: {second}"
        );
    }
}

#[test]
fn region_feeds_page_alike_whether_the_region_has_few_recipients_or_many() {
    let w = world();
    // 34 recipients in 4202xx (more than are read one by one), besides the world's three.
    let mut regions: Vec<(String, String)> = vec![
        ("wuhan-union-hospital".into(), "420103".into()),
        ("wuhan-jinyintan-hospital".into(), "420105".into()),
        ("hangzhou-hospital".into(), "330100".into()),
    ];
    for i in 1..=34 {
        let (id, region) = (format!("huangshi-clinic-{i}"), format!("4202{i:02}"));
        recipient(&w.s, &id, &region);
        regions.push((id, region));
    }
    w.donate(
        "RG-1",
        "2020-02-01T08:00:00Z",
        money("100000.00"),
        undesignated(),
    );
    let (mut allocated, mut disbursed) = (Vec::new(), Vec::new());
    for i in 0..60 {
        let (to, region) = regions[(i * 7) % regions.len()].clone();
        let a = w.allocate(json!({"pool": true, "recipient": to, "asset": money("10.00"), "occurred_at": "2020-02-01T09:00:00Z"}));
        assert_eq!(a.status, 201, "{:?}", a.body);
        let aseq = a.body["seq"].as_i64().expect("seq");
        allocated.push((aseq, region.clone()));
        if i % 2 == 0 {
            let d = w.s.post(
                &format!("/organizations/{ORG}/disbursements"),
                Some(&w.charity),
                &json!({"allocation": aseq, "asset": money("10.00"), "channel": "bank_transfer", "reference": format!("RG-{i}"), "occurred_at": "2020-02-02T09:00:00Z"}),
            );
            assert_eq!(d.status, 201, "{:?}", d.body);
            disbursed.push((d.body["seq"].as_i64().expect("seq"), region));
        }
    }
    let paged = |feed: &str, region: &str| -> Vec<i64> {
        let mut out = Vec::new();
        let mut after = String::new();
        loop {
            let page = ok(
                &w.s,
                &format!("/organizations/{ORG}/{feed}?region={region}&limit=4{after}"),
            );
            out.extend(
                page[feed]
                    .as_array()
                    .expect("items")
                    .iter()
                    .filter_map(|e| e["seq"].as_i64()),
            );
            match page["meta"]["next"].as_str() {
                Some(n) => after = format!("&after={n}"),
                None => return out,
            }
        }
    };
    // 1 recipient, 2, 34, 36: read one by one below 33, as one query above.
    for region in ["420203", "4201", "4202", "42", "33", "4203"] {
        for (feed, made) in [("allocations", &allocated), ("disbursements", &disbursed)] {
            let expected: Vec<i64> = made
                .iter()
                .filter(|(_, r)| r.starts_with(region))
                .map(|(s, _)| *s)
                .collect();
            assert_eq!(paged(feed, region), expected, "{feed}?region={region}");
        }
    }
}
