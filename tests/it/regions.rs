//! Where it went, by destination (`GET /regions/{code}/inflows`) over HTTP (SQLite, or
//! PostgreSQL when GIVETRAIL_TEST_POSTGRES is set): every figure is recomputed here from the
//! writes the test made, for the whole time and for a window whose ends fall exactly on entries.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};

/// One allocation or disbursement the test wrote, and what the recipient acknowledged of it.
#[derive(Clone)]
struct Written {
    org: &'static str,
    recipient: &'static str,
    region: &'static str,
    /// `N95` or `CNY`.
    asset: &'static str,
    disbursement: bool,
    units: i64,
    acknowledged: Option<i64>,
    at: &'static str,
    live: bool,
}

/// Units of a decimal string at `scale` decimals ("6000" and "6000.000" are both 6,000,000 at 3).
fn units(s: &str, scale: usize) -> i64 {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= scale, "{s}");
    let padded = format!("{whole}{frac:0<scale$}");
    padded
        .parse()
        .unwrap_or_else(|_| panic!("{s} is not a decimal"))
}

fn scale(asset: &str) -> usize {
    if asset == "CNY" {
        2
    } else {
        3
    }
}

fn asset_name(label: &Value) -> String {
    match label["kind"].as_str() {
        Some("money") => label["currency"].as_str().unwrap_or_default().to_owned(),
        _ => "N95".to_owned(),
    }
}

type Sums = BTreeMap<(String, String, String), [i64; 5]>;

/// What the test expects for recipients in `prefix`, entries that happened in `[from, to)`:
/// per (organisation, recipient, asset): allocated, disbursed, acknowledged, allocations,
/// disbursements.
fn expected(written: &[Written], prefix: &str, from: &str, to: &str) -> Sums {
    let mut out = Sums::new();
    for w in written {
        let in_window = (from.is_empty() || w.at >= from) && (to.is_empty() || w.at < to);
        if !w.live || !w.region.starts_with(prefix) || !in_window {
            continue;
        }
        let e = out
            .entry((w.org.into(), w.recipient.into(), w.asset.into()))
            .or_default();
        if w.disbursement {
            e[1] += w.units;
            e[2] += w.acknowledged.unwrap_or(0);
            e[4] += 1;
        } else {
            e[0] += w.units;
            e[3] += 1;
        }
    }
    out
}

/// The same figures as the response gives them.
fn served(doc: &Value) -> Sums {
    let mut out = Sums::new();
    for o in doc["organizations"].as_array().expect("organizations") {
        for r in o["recipients"].as_array().expect("recipients") {
            for a in r["assets"].as_array().expect("assets") {
                let name = asset_name(&a["asset"]);
                let sc = scale(&name);
                let v = |f: &str| units(a[f].as_str().expect("decimal string"), sc);
                let n = |f: &str| a[f].as_i64().expect("count");
                out.insert(
                    (
                        o["organization"].as_str().expect("org").to_owned(),
                        r["recipient"].as_str().expect("recipient").to_owned(),
                        name,
                    ),
                    [
                        v("allocated"),
                        v("disbursed"),
                        v("acknowledged"),
                        n("allocations"),
                        n("disbursements"),
                    ],
                );
            }
        }
    }
    out
}

fn created(r: Reply) -> i64 {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["seq"].as_i64().expect("seq")
}

fn asset_of(name: &str, quantity: &str) -> Value {
    if name == "CNY" {
        money(quantity)
    } else {
        masks(quantity)
    }
}

struct Books {
    w: World,
    other: String,
    hangzhou: String,
    written: Vec<Written>,
}

impl Books {
    #[allow(clippy::too_many_arguments)]
    fn allocate(
        &mut self,
        org: &'static str,
        lot: i64,
        recipient: &'static str,
        region: &'static str,
        asset: &'static str,
        quantity: &str,
        at: &'static str,
        need: Option<&str>,
    ) -> i64 {
        let key = if org == ORG {
            &self.w.charity
        } else {
            &self.other
        };
        let mut body = json!({"donation": lot, "recipient": recipient, "purpose": "front line",
                              "asset": asset_of(asset, quantity), "occurred_at": at});
        if let Some(n) = need {
            body["need"] = json!(n);
        }
        let seq = created(self.w.s.post(
            &format!("/organizations/{org}/allocations"),
            Some(key),
            &body,
        ));
        self.written.push(Written {
            org,
            recipient,
            region,
            asset,
            disbursement: false,
            units: units(quantity, scale(asset)),
            acknowledged: None,
            at,
            live: true,
        });
        seq
    }

    /// Disburse `quantity` of the allocation written last to that recipient; acknowledge
    /// `arrived` if given.
    fn disburse(
        &mut self,
        allocation: i64,
        quantity: &str,
        at: &'static str,
        arrived: Option<&str>,
    ) {
        let a = self
            .written
            .iter()
            .rev()
            .find(|w| !w.disbursement)
            .cloned()
            .expect("an allocation");
        let key = if a.org == ORG {
            &self.w.charity
        } else {
            &self.other
        };
        let seq = created(self.w.s.post(
            &format!("/organizations/{}/disbursements", a.org),
            Some(key),
            &json!({"allocation": allocation, "asset": asset_of(a.asset, quantity), "channel": "logistics",
                    "reference": format!("WB-{allocation}-{at}"), "occurred_at": at}),
        ));
        if let Some(q) = arrived {
            let rkey = match a.recipient {
                "wuhan-union-hospital" => self.w.union_hospital.clone(),
                "wuhan-jinyintan-hospital" => self.w.jinyintan.clone(),
                _ => self.hangzhou.clone(),
            };
            created(self.w.s.post(
                &format!("/recipients/{}/acknowledgements", a.recipient),
                Some(&rkey),
                &json!({"disbursement": {"organization": a.org, "seq": seq}, "asset": asset_of(a.asset, q),
                        "received_at": "2020-02-20T00:00:00Z", "note": "counted", "occurred_at": "2020-02-20T00:00:00Z"}),
            ));
        }
        self.written.push(Written {
            disbursement: true,
            units: units(quantity, scale(a.asset)),
            acknowledged: arrived.map(|q| units(q, scale(a.asset))),
            at,
            ..a
        });
    }
}

const UNION: &str = "wuhan-union-hospital";
const JINYINTAN: &str = "wuhan-jinyintan-hospital";
const HANGZHOU: &str = "hangzhou-hospital";

/// Two organisations giving masks and money to two Wuhan hospitals and one in Hangzhou, a
/// voided allocation, and two needs of the Union hospital (one met, one still lacking).
fn books() -> Books {
    let w = world();
    let other = key_for(&w.s, OTHER_ORG);
    let hangzhou = recipient_key(&w.s, HANGZHOU);
    let mut b = Books {
        w,
        other,
        hangzhou,
        written: Vec::new(),
    };
    let lot = b.w.donate(
        "R-1",
        "2020-02-01T00:00:00Z",
        masks("11000"),
        undesignated(),
    );
    let cash = b.w.donate(
        "R-2",
        "2020-02-01T00:00:00Z",
        money("100000.00"),
        undesignated(),
    );
    let need = |b: &Books, quantity: &str| {
        let r = b.w.s.post(
            &format!("/recipients/{UNION}/needs"),
            Some(&b.w.union_hospital),
            &json!({"item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece",
                    "quantity": quantity, "urgency": "critical", "note": "ICU"}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["id"].as_str().expect("id").to_owned()
    };
    let lacking = need(&b, "8000");
    let covered = need(&b, "1000");
    let a1 = b.allocate(
        ORG,
        lot,
        UNION,
        "420103",
        "N95",
        "6000",
        "2020-02-02T00:00:00Z",
        Some(&lacking),
    );
    b.disburse(a1, "6000", "2020-02-04T00:00:00Z", Some("5800"));
    let a2 = b.allocate(
        ORG,
        lot,
        JINYINTAN,
        "420105",
        "N95",
        "3000",
        "2020-02-10T00:00:00Z",
        None,
    );
    // Exactly at the window's end: outside it.
    b.disburse(a2, "2000", "2020-02-11T00:00:00Z", None);
    let a3 = b.allocate(
        ORG,
        lot,
        HANGZHOU,
        "330100",
        "N95",
        "1000",
        "2020-02-02T00:00:00Z",
        None,
    );
    b.disburse(a3, "1000", "2020-02-04T00:00:00Z", Some("900"));
    let a5 = b.allocate(
        ORG,
        lot,
        UNION,
        "420103",
        "N95",
        "1000",
        "2020-02-05T00:00:00Z",
        Some(&covered),
    );
    b.disburse(a5, "1000", "2020-02-06T00:00:00Z", Some("1000"));
    // Exactly at the window's start: inside it.
    let a4 = b.allocate(
        ORG,
        cash,
        UNION,
        "420103",
        "CNY",
        "40000.00",
        "2020-02-03T00:00:00Z",
        None,
    );
    b.disburse(a4, "25000.00", "2020-02-04T00:00:00Z", Some("25000.00"));

    let gift = created(b.w.s.post(
        &format!("/organizations/{OTHER_ORG}/donations"),
        Some(&b.other),
        &donation(
            "W-1",
            "2020-02-01T00:00:00Z",
            money("50000.00"),
            undesignated(),
        ),
    ));
    let mistaken = b.allocate(
        OTHER_ORG,
        gift,
        UNION,
        "420103",
        "CNY",
        "50000.00",
        "2020-02-03T00:00:00Z",
        None,
    );
    let void = b.w.s.post(
        &format!("/organizations/{OTHER_ORG}/corrections"),
        Some(&b.other),
        &json!({"corrects": mistaken, "reason": "wrong hospital", "occurred_at": "2020-02-03T01:00:00Z"}),
    );
    assert_eq!(void.status, 201, "{:?}", void.body);
    if let Some(w) = b.written.last_mut() {
        w.live = false;
    }
    b.allocate(
        OTHER_ORG,
        gift,
        JINYINTAN,
        "420105",
        "CNY",
        "30000.00",
        "2020-02-12T00:00:00Z",
        None,
    );
    b
}

#[test]
fn a_regions_inflows_add_up_what_was_written_per_organisation_recipient_and_asset() {
    let b = books();
    let s = &b.w.s;
    for prefix in ["42", "4201", "420103", "33", "3"] {
        let r = s.get(&format!("/regions/{prefix}/inflows"));
        assert_eq!(r.status, 200, "{:?}", r.body);
        assert_eq!(r.body["region"], prefix);
        assert_eq!(
            served(&r.body),
            expected(&b.written, prefix, "", ""),
            "{prefix}: {:#}",
            r.body
        );
    }
    let all = s.get("/regions/42/inflows").body;
    // Something was counted, including the other organisation and money and goods together.
    assert_eq!(
        all["organizations"].as_array().map(Vec::len),
        Some(2),
        "{all:#}"
    );
    // The region's totals are the sums over organisations and recipients.
    let mut per_asset: BTreeMap<String, [i64; 3]> = BTreeMap::new();
    for ((_, _, asset), v) in expected(&b.written, "42", "", "") {
        let e = per_asset.entry(asset).or_default();
        for i in 0..3 {
            e[i] += v[i];
        }
    }
    let totals: BTreeMap<String, [i64; 3]> = all["totals"]
        .as_array()
        .expect("totals")
        .iter()
        .map(|t| {
            let name = asset_name(&t["asset"]);
            let sc = scale(&name);
            let v = |f: &str| units(t[f].as_str().expect("decimal"), sc);
            (name, [v("allocated"), v("disbursed"), v("acknowledged")])
        })
        .collect();
    assert_eq!(totals, per_asset);
    // Unacknowledged: the Jinyintan disbursement nobody acknowledged yet.
    let jinyintan = &all["organizations"][0]["recipients"]
        .as_array()
        .expect("recipients")
        .iter()
        .find(|r| r["recipient"] == JINYINTAN)
        .expect("jinyintan")["assets"][0];
    assert_eq!(jinyintan["unacknowledged"], jinyintan["disbursed"]);
    assert_eq!(jinyintan["asset"]["item"], "N95 respirator");
    // A region without recipients is empty, not missing.
    let empty = s.get("/regions/65/inflows");
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body["organizations"], json!([]));
    assert_eq!(empty.body["totals"], json!([]));
    assert_eq!(empty.body["open_needs"], json!([]));
    assert_eq!(empty.body["meta"]["recipients"], 0);
    assert_eq!(all["meta"]["recipients"], 2);
    assert_eq!(all["meta"]["recipients_truncated"], false);
}

#[test]
fn from_and_to_count_what_happened_in_the_window_and_open_needs_say_what_they_lack() {
    let b = books();
    let s = &b.w.s;
    let (from, to) = ("2020-02-03T00:00:00Z", "2020-02-11T00:00:00Z");
    for (f, t) in [(from, to), (from, ""), ("", to)] {
        let mut q = Vec::new();
        if !f.is_empty() {
            q.push(format!("from={f}"));
        }
        if !t.is_empty() {
            q.push(format!("to={t}"));
        }
        let r = s.get(&format!("/regions/42/inflows?{}", q.join("&")));
        assert_eq!(r.status, 200, "{:?}", r.body);
        let want = expected(&b.written, "42", f, t);
        assert_eq!(served(&r.body), want, "{f}..{t}: {:#}", r.body);
        assert_eq!(r.body["from"].as_str().unwrap_or(""), f);
    }
    // The window leaves out some of what the whole time counts.
    assert_ne!(
        expected(&b.written, "42", from, to),
        expected(&b.written, "42", "", "")
    );

    // Needs: the covered one is met and not listed; the other lacks what did not arrive.
    let doc = s.get("/regions/42/inflows").body;
    let needs = doc["open_needs"].as_array().expect("open needs");
    assert_eq!(needs.len(), 1, "{doc:#}");
    let n = &needs[0];
    assert_eq!(n["recipient"], UNION);
    assert_eq!(n["status"], "open");
    let asked = units(n["quantity"].as_str().expect("quantity"), 3);
    let arrived: i64 = b
        .written
        .iter()
        .filter(|w| {
            w.disbursement && w.recipient == UNION && w.asset == "N95" && w.at < "2020-02-05"
        })
        .filter_map(|w| w.acknowledged)
        .sum();
    let pledged: i64 = b
        .written
        .iter()
        .filter(|w| {
            !w.disbursement && w.recipient == UNION && w.asset == "N95" && w.at < "2020-02-05"
        })
        .map(|w| w.units)
        .sum();
    assert_eq!(
        units(n["outstanding"].as_str().expect("outstanding"), 3),
        asked - arrived
    );
    assert_eq!(
        units(n["unpledged"].as_str().expect("unpledged"), 3),
        asked - pledged
    );
    assert!(asked - arrived > 0);
    // Needs are the region's only.
    assert_eq!(s.get("/regions/33/inflows").body["open_needs"], json!([]));
    assert_eq!(
        s.get("/regions/4201/inflows").body["open_needs"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_malformed_code_or_period_is_a_problem_naming_the_field() {
    let s = Server::start();
    for (path, field) in [
        ("/regions/4x/inflows", "code"),
        ("/regions/1234567/inflows", "code"),
        ("/regions/%2042/inflows", "code"),
        (
            "/regions/42/inflows?from=2020-02-03T00:00:00Z&to=2020-02-03T00:00:00Z",
            "to",
        ),
        (
            "/regions/42/inflows?from=2020-02-04T00:00:00Z&to=2020-02-03T00:00:00Z",
            "to",
        ),
        ("/regions/42/inflows?from=yesterday", "from"),
        ("/regions/42/inflows?to=2020-13-01T00:00:00Z", "to"),
    ] {
        let r = s.get(path);
        assert_eq!(r.status, 400, "{path}: {:?}", r.body);
        assert_eq!(
            r.headers["content-type"], "application/problem+json",
            "{path}"
        );
        assert_eq!(r.body["errors"][0]["field"], field, "{path}: {:?}", r.body);
    }
    assert_eq!(s.get("/regions/42/inflows").status, 200);
}
