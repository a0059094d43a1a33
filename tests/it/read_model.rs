//! The read model over HTTP: replayed logs kept between requests and advanced by new entries.
//! Every read made after a write's 201 sees that write, and what a warm server answers after a
//! run of writes and corrections equals what a freshly started server (a full replay) answers,
//! on both databases. After a SIGKILL in the middle of writes, the restarted server answers as
//! the test's own replay of the downloaded logs does, before and after further writes.

use crate::common;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::mpsc;
use std::sync::Arc;

use common::*;
use givetrail_domain::disclosure::{
    giving360, summary, timeliness, trail, Directory, Ledger, Party, Policy, Record,
};
use serde_json::{json, Value};

/// The reads that come from the replayed logs.
fn reads(s: &Server) -> Vec<(String, Value)> {
    [
        format!("/organizations/{ORG}/summary"),
        format!("/organizations/{ORG}/timeliness"),
        format!("/organizations/{ORG}/exports/360giving.json"),
        format!("/organizations/{ORG}/donations/RM-1/trail"),
        format!("/organizations/{ORG}/donations/RM-2/trail"),
        "/recipients/wuhan-union-hospital".to_owned(),
    ]
    .into_iter()
    .map(|path| {
        let r = s.get(&path);
        (path, json!({"status": r.status, "body": r.body}))
    })
    .collect()
}

fn received(s: &Server) -> String {
    let r = s.get(&format!("/organizations/{ORG}/summary"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let assets = r.body["assets"].as_array().cloned().unwrap_or_default();
    assets
        .iter()
        .find(|a| a["asset"]["kind"] == "money")
        .map(|a| a["received"].as_str().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

#[test]
fn a_warm_read_model_answers_each_read_after_a_write_as_a_full_replay_would() {
    let w = world();
    let before = reads(&w.s);
    assert_eq!(before[0].1["status"], 200, "{:?}", before[0]);
    assert_eq!(
        before[3].1["status"], 404,
        "no donation yet: {:?}",
        before[3]
    );

    // Each read right after a 201 sees the write it follows.
    let d1 = w.donate(
        "RM-1",
        "2020-01-30T10:00:00Z",
        money("1000.00"),
        undesignated(),
    );
    assert_eq!(received(&w.s), "1000.00");
    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/RM-1/trail"));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let d2 = w.donate(
        "RM-2",
        "2020-01-30T11:00:00Z",
        money("500.00"),
        undesignated(),
    );
    assert_eq!(received(&w.s), "1500.00");
    let a = w.allocate(json!({"donation": d1, "recipient": "wuhan-union-hospital", "asset": money("300.00"), "occurred_at": "2020-01-31T10:00:00Z"}));
    assert_eq!(a.status, 201, "{:?}", a.body);
    let a = a.body["seq"].as_i64().expect("seq");
    let seen = w.s.get("/recipients/wuhan-union-hospital");
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    let disb = w.s.post(
        &format!("/organizations/{ORG}/disbursements"),
        Some(&w.charity),
        &json!({"allocation": a, "asset": money("300.00"), "channel": "bank_transfer", "reference": "RM-T1", "occurred_at": "2020-02-01T10:00:00Z"}),
    );
    assert_eq!(disb.status, 201, "{:?}", disb.body);
    let trail =
        w.s.get(&format!("/organizations/{ORG}/donations/RM-1/trail"));
    assert!(
        trail.body.to_string().contains("RM-T1"),
        "the trail read after the disbursement shows it: {:?}",
        trail.body
    );

    // A correction is an entry like any other: the warm model applies it as a replay would.
    let mut replacement = donation(
        "RM-2",
        "2020-01-30T11:00:00Z",
        money("50.00"),
        undesignated(),
    );
    replacement
        .as_object_mut()
        .expect("object")
        .remove("occurred_at");
    let fix = w.s.post(
        &format!("/organizations/{ORG}/corrections"),
        Some(&w.charity),
        &json!({"corrects": d2, "reason": "an extra zero", "replacement": replacement, "occurred_at": "2020-02-02T10:00:00Z"}),
    );
    assert_eq!(fix.status, 201, "{:?}", fix.body);
    assert_eq!(received(&w.s), "1050.00", "the correction is seen at once");

    // More entries than one page of the log (1,000): a fresh server loads the log page by page
    // into its ledger, and must come to the same answers as the warm one advanced by the batch.
    let many: Vec<Value> = (0..2_100)
        .map(|i| {
            donation(
                &format!("RM-B{i}"),
                "2020-02-03T10:00:00Z",
                money("1.00"),
                undesignated(),
            )
        })
        .collect();
    let batch = w.s.post(
        &format!("/organizations/{ORG}/donations/batch"),
        Some(&w.charity),
        &json!({ "donations": many }),
    );
    assert_eq!(batch.status, 201, "{:?}", batch.body);
    assert_eq!(received(&w.s), "3150.00");

    let warm = reads(&w.s);
    let db = w.s.stop();
    let cold = Server::start_with(db, &["serve"]);
    let replayed = reads(&cold);
    assert_eq!(warm.len(), replayed.len());
    for ((path, a), (_, b)) in warm.iter().zip(&replayed) {
        assert_eq!(
            a, b,
            "{path}: the warm read model differs from a full replay"
        );
    }
    assert_ne!(before, warm, "the writes changed what the reads show");
}

// ---------------------------------------------------------------------------------------------
// After a SIGKILL in the middle of writes, what the restarted server answers equals what the
// test itself computes by replaying the downloaded logs with the domain's own `Ledger`.

/// What every reader may download: each organisation's whole public log, replayed from its first
/// entry with `Ledger::new`, and the public registry of recipients.
struct Replay {
    ledgers: BTreeMap<String, Arc<Ledger>>,
    directory: Directory,
    policy: Policy,
}

impl trail::Source for Replay {
    type Error = Infallible;

    fn ledger(&mut self, organization: &str) -> Result<Option<Arc<Ledger>>, Infallible> {
        Ok(self.ledgers.get(organization).cloned())
    }

    fn recipient(&mut self, id: &str) -> Result<Option<Party>, Infallible> {
        Ok(self.directory.get(id).cloned())
    }
}

/// Every item of a paged registry list (`{"<name>": [...], "meta": {"next"}}`).
fn every(s: &Server, path: &str, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = match &after {
            Some(a) => s.get(&format!("{path}?limit=1000&after={a}")),
            None => s.get(&format!("{path}?limit=1000")),
        };
        assert_eq!(page.status, 200, "{path}: {:?}", page.body);
        out.extend(page.body[name].as_array().cloned().unwrap_or_default());
        match page.body["meta"]["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return out,
        }
    }
}

fn text(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_owned()
}

impl Replay {
    /// Download the registry and every log now and replay them from scratch.
    fn download(s: &Server) -> Replay {
        let directory: Directory = every(s, "/recipients", "recipients")
            .iter()
            .map(|r| {
                let party = Party {
                    id: text(r, "id"),
                    name: text(r, "name"),
                    credit_code: r["credit_code"].as_str().map(str::to_owned),
                    kind: text(r, "kind"),
                    region_code: text(r, "region_code"),
                    organization: r["organization"].as_str().map(str::to_owned),
                    ownership: r["ownership"].as_str().map(str::to_owned),
                    designated_hospital: r["designated_hospital"].as_bool().unwrap_or(false),
                    registered_by: None,
                    confirmed_at: None,
                };
                (party.id.clone(), party)
            })
            .collect();
        let ledgers = every(s, "/organizations", "organizations")
            .iter()
            .map(|o| {
                let party = Party {
                    id: text(o, "id"),
                    name: text(o, "name"),
                    credit_code: o["credit_code"].as_str().map(str::to_owned),
                    kind: text(o, "kind"),
                    region_code: text(o, "region_code"),
                    organization: None,
                    ownership: None,
                    designated_hospital: false,
                    registered_by: None,
                    confirmed_at: None,
                };
                let records: Vec<Record> = s
                    .log(&party.id)
                    .iter()
                    .map(|e| Record::from_entry(e).expect("a served entry reads back"))
                    .collect();
                let id = party.id.clone();
                let ledger = Ledger::new(party, records).expect("the downloaded log replays");
                (id, Arc::new(ledger))
            })
            .collect();
        Replay {
            ledgers,
            directory,
            policy: Policy::default(),
        }
    }

    fn ledger(&self, org: &str) -> &Ledger {
        self.ledgers
            .get(org)
            .unwrap_or_else(|| panic!("{org} is registered"))
    }

    fn head(&self, org: &str) -> i64 {
        self.ledger(org).head()
    }
}

/// A value as a client reads it off the wire.
fn wire<T: serde::Serialize>(v: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(v).expect("serialise")).expect("parse")
}

/// Where two JSON documents first differ (a JSON pointer and both values), for a readable
/// failure; `None` if they are equal.
fn first_difference(at: &str, a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .keys()
            .chain(y.keys())
            .find_map(|k| {
                let (l, r) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                first_difference(&format!("{at}/{k}"), l, r)
            })
            .or_else(|| (x.len() != y.len()).then(|| format!("{at}: keys differ"))),
        (Value::Array(x), Value::Array(y)) => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (l, r))| first_difference(&format!("{at}/{i}"), l, r))
            .or_else(|| {
                (x.len() != y.len())
                    .then(|| format!("{at}: {} items served, {} replayed", x.len(), y.len()))
            }),
        _ => (a != b).then(|| format!("{at}: served {a}, replayed {b}")),
    }
}

fn assert_same(what: &str, served: &Value, replayed: &Value) {
    if let Some(d) = first_difference("", served, replayed) {
        panic!("{what}: the server's answer differs from a full replay of the log at {d}");
    }
}

/// `"1234567.50"` → `"1,234,567.50"`, as the web pages print money.
fn grouped(amount: &str) -> String {
    let (int, frac) = amount.split_once('.').unwrap_or((amount, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        out
    } else {
        format!("{out}.{frac}")
    }
}

/// Compare every read the server answers from its read model with what `r` computes: each
/// organisation's summary, timeliness (all pages) and 360Giving export, the trails of `receipts`
/// (a 404 where the replay finds no live donation), each recipient's view, and the totals on
/// the organisation page of `ORG`. Returns how many answers were compared.
fn assert_reads_equal(
    s: &Server,
    r: &mut Replay,
    receipts: &[(String, String)],
    when: &str,
) -> usize {
    let mut compared = 0;
    // Summaries as at one moment after every write: their stock ageing is measured then.
    let as_at = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
        .expect("now");
    let to = as_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let orgs: Vec<String> = r.ledgers.keys().cloned().collect();
    for org in &orgs {
        let l = r.ledger(org);
        let served = s.get(&format!("/organizations/{org}/summary?to={to}"));
        assert_eq!(
            served.status, 200,
            "{when}: {org} summary: {:?}",
            served.body
        );
        let expected = wire(&summary::summarise(l, &r.directory, &r.policy, None, as_at));
        assert_same(&format!("{when}: {org} summary"), &served.body, &expected);

        let mut rows = Vec::new();
        let mut after = 0;
        loop {
            let page = s.get(&format!(
                "/organizations/{org}/timeliness?limit=1000&after={after}"
            ));
            assert_eq!(
                page.status, 200,
                "{when}: {org} timeliness: {:?}",
                page.body
            );
            rows.extend(page.body["entries"].as_array().cloned().unwrap_or_default());
            match page.body["meta"]["next"].as_str() {
                Some(n) => after = n.parse().expect("cursor"),
                None => break,
            }
        }
        let all: Vec<_> = timeliness::entries(l, &r.policy).collect();
        let expected = wire(&all);
        assert_same(
            &format!("{when}: {org} timeliness"),
            &Value::Array(rows),
            &expected,
        );
        // Only the late ones, a page of 7 at a time: the per-version list of late seqs.
        let (mut late, mut after) = (Vec::new(), 0);
        loop {
            let page = s.get(&format!(
                "/organizations/{org}/timeliness?missed=true&limit=7&after={after}"
            ));
            assert_eq!(page.status, 200, "{when}: {org} late: {:?}", page.body);
            late.extend(page.body["entries"].as_array().cloned().unwrap_or_default());
            match page.body["meta"]["next"].as_str() {
                Some(n) => after = n.parse().expect("cursor"),
                None => break,
            }
        }
        let expected: Vec<_> = all.into_iter().filter(|e| e.missed).collect();
        assert_same(
            &format!("{when}: {org} late entries"),
            &Value::Array(late),
            &wire(&expected),
        );

        let served = s.get(&format!("/organizations/{org}/exports/360giving.json"));
        assert_eq!(
            served.status, 200,
            "{when}: {org} 360Giving: {:?}",
            served.body
        );
        let expected = wire(&giving360::export(l, &r.directory));
        assert_same(&format!("{when}: {org} 360Giving"), &served.body, &expected);
        compared += 3;
    }
    for (org, receipt) in receipts {
        let served = s.get(&format!("/organizations/{org}/donations/{receipt}/trail"));
        let what = format!("{when}: trail of {org}/{receipt}");
        match trail::trace(r, org, receipt).unwrap_or_else(|e| match e {}) {
            Some(t) => {
                assert_eq!(served.status, 200, "{what}: {:?}", served.body);
                assert_same(&what, &served.body, &wire(&t));
            }
            None => assert_eq!(served.status, 404, "{what}: no live donation in the replay"),
        }
        compared += 1;
    }
    let ledgers: Vec<Arc<Ledger>> = r.ledgers.values().cloned().collect();
    for id in r.directory.keys() {
        // Paged three at a time: the totals on every page, the pages in turn the whole list.
        let view = wire(&summary::recipient_view(id, &ledgers, None, usize::MAX));
        let what = format!("{when}: recipient {id}");
        let mut listed = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                None => format!("/recipients/{id}?limit=3"),
                Some(a) => format!("/recipients/{id}?limit=3&after={a}"),
            };
            let served = s.get(&path);
            assert_eq!(served.status, 200, "{what}: {path}: {:?}", served.body);
            assert_same(&what, &served.body["received_from"], &view["received_from"]);
            listed.extend(
                served.body["disbursements"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            match served.body["meta"]["next"].as_str() {
                Some(n) => after = Some(n.to_owned()),
                None => break,
            }
        }
        assert_same(&what, &Value::Array(listed), &view["disbursements"]);
        compared += 1;
    }

    // The organisation page prints the same totals (its grid cells, in English).
    let page = reqwest::blocking::get(format!("{}/organizations/{ORG}?lang=en", s.base))
        .expect("GET the organisation page");
    assert_eq!(page.status().as_u16(), 200, "{when}: organisation page");
    let html = page.text().expect("page text");
    let expected = wire(&summary::summarise(
        r.ledger(ORG),
        &r.directory,
        &r.policy,
        None,
        as_at,
    ));
    let cny = expected["assets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["asset"] == json!({"kind": "money", "currency": "CNY"}))
        .expect("the replay has CNY totals");
    for measure in ["received", "allocated", "disbursed"] {
        let cell = format!(">CN¥{}<", grouped(&text(cny, measure)));
        assert!(
            html.contains(&cell),
            "{when}: the organisation page shows {measure} {cell}"
        );
    }
    compared + 1
}

/// One writer's donation, and what of its allocation and disbursement was acknowledged.
#[derive(Debug, Default)]
struct Cycle {
    receipt: String,
    /// Whether its allocation draws on the pool rather than on this donation.
    pool: bool,
    /// The disbursement's bank reference.
    reference: String,
    allocation: Option<i64>,
    disbursement: Option<i64>,
}

/// What one writer did before the server died: the cycles it started (the last one's donation
/// may have been in flight) and how many writes were acknowledged.
#[derive(Debug, Default)]
struct Written {
    cycles: Vec<Cycle>,
    acknowledged: usize,
}

/// Writes (donation, allocation to `recipient` from it or from the pool, disbursement) in a
/// loop until the server stops answering; `tick` gets one message per 201.
fn write_until_killed(s: &Server, charity: &str, t: usize, tick: mpsc::Sender<()>) -> Written {
    let http = reqwest::blocking::Client::new();
    let recipient = ["wuhan-union-hospital", "wuhan-jinyintan-hospital"][t % 2];
    let mut w = Written::default();
    let post = |kind: &str, body: Value| -> Option<i64> {
        let r = http
            .post(s.url(&format!("/organizations/{ORG}/{kind}")))
            .bearer_auth(charity)
            .json(&body)
            .send()
            .ok()?; // the server died mid-request: not acknowledged
        let status = r.status().as_u16();
        let reply = r.json::<Value>().ok()?;
        assert_eq!(status, 201, "{kind}: {reply:?}");
        let _ = tick.send(());
        reply["seq"].as_i64()
    };
    for i in 0.. {
        let receipt = format!("SK-{t}-{i}");
        let pool = i % 3 == 2;
        let reference = format!("SK-T{t}-{i}");
        w.cycles.push(Cycle {
            receipt: receipt.clone(),
            pool,
            reference: reference.clone(),
            ..Cycle::default()
        });
        let body = donation(
            &receipt,
            "2020-03-10T10:00:00Z",
            money("100.00"),
            undesignated(),
        );
        let Some(d) = post("donations", body) else {
            return w;
        };
        w.acknowledged += 1;
        let from = if pool {
            json!({"pool": true})
        } else {
            json!({"donation": d})
        };
        let mut body = json!({"recipient": recipient, "purpose": "防护物资", "asset": money("60.00"), "occurred_at": "2020-03-10T11:00:00Z"});
        body.as_object_mut()
            .expect("object")
            .extend(from.as_object().cloned().unwrap_or_default());
        let Some(a) = post("allocations", body) else {
            return w;
        };
        w.acknowledged += 1;
        if let Some(c) = w.cycles.last_mut() {
            c.allocation = Some(a);
        }
        let body = json!({"allocation": a, "asset": money("40.00"), "channel": "bank_transfer", "reference": reference, "occurred_at": "2020-03-10T12:00:00Z"});
        let Some(b) = post("disbursements", body) else {
            return w;
        };
        w.acknowledged += 1;
        if let Some(c) = w.cycles.last_mut() {
            c.disbursement = Some(b);
        }
    }
    w
}

fn seq_of(r: &Reply) -> i64 {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["seq"].as_i64().expect("seq")
}

#[test]
fn the_read_model_after_a_sigkill_mid_write_equals_a_full_replay() {
    /// Acknowledged writes after which the server is killed (writers are still posting).
    const KILL_AFTER: usize = 90;
    const WRITERS: usize = 4;
    let s = Server::demo();
    let charity = key_for(&s, ORG);
    // Warm the read model: these reads keep the replayed logs in memory.
    for path in [
        format!("/organizations/{ORG}/summary"),
        format!("/organizations/{ORG}/timeliness"),
        format!("/organizations/{ORG}/donations/HBRC-2020-00017/trail"),
        format!("/organizations/{ORG}/donations/HBRC-2020-00023/trail"),
        "/recipients/wuhan-union-hospital".to_owned(),
    ] {
        let r = s.get(&path);
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
    }
    let demo_head = Replay::download(&s).head(ORG);

    // Four writers and a reader (advancing the model as entries arrive); SIGKILL mid-stream.
    let (tick, ticks) = mpsc::channel();
    let (written, reads): (Vec<Written>, usize) = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (s, charity, tick) = (&s, &charity, tick.clone());
                scope.spawn(move || write_until_killed(s, charity, t, tick))
            })
            .collect();
        drop(tick);
        let s = &s;
        let reader = scope.spawn(move || {
            let http = reqwest::blocking::Client::new();
            let mut reads = 0;
            while http
                .get(s.url(&format!("/organizations/{ORG}/summary")))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                reads += 1;
            }
            reads
        });
        for _ in 0..KILL_AFTER {
            if ticks.recv().is_err() {
                break; // every writer stopped (a panic, reported by its join below)
            }
        }
        s.kill_now();
        let written: Vec<Written> = writers
            .into_iter()
            .map(|h| h.join().expect("writer"))
            .collect();
        (written, reader.join().expect("reader"))
    });
    let acknowledged: usize = written.iter().map(|w| w.acknowledged).sum();
    assert!(
        acknowledged >= KILL_AFTER,
        "the writers were acknowledged {acknowledged} writes before the kill"
    );
    let db = s.stop();

    let (ok, out, err) = db.cli(&["rebuild", "--check"]);
    assert!(
        ok,
        "derived tables equal a replay of the log after the kill: {out}{err}"
    );
    assert!(out.contains(" 0 difference(s)"), "{out}");

    // The restarted server's reads equal a full replay of what its log now holds.
    let s = Server::start_with(db, &["serve"]);
    let mut receipts: Vec<(String, String)> = [
        (ORG, "HBRC-2020-00017"),
        (ORG, "HBRC-2020-00023"),
        (ORG, "HBRC-2020-00061"),
        ("china-health-foundation", "CHF-2020-000311"),
    ]
    .iter()
    .map(|(o, r)| ((*o).to_owned(), (*r).to_owned()))
    .collect();
    for w in &written {
        // The first, the last acknowledged, and the one in flight when the server died.
        let n = w.cycles.len();
        for c in w
            .cycles
            .iter()
            .take(1)
            .chain(w.cycles.iter().skip(n.saturating_sub(2)))
        {
            receipts.push((ORG.to_owned(), c.receipt.clone()));
        }
    }
    receipts.sort();
    receipts.dedup();
    let mut r = Replay::download(&s);
    let after_kill = r.head(ORG);
    assert!(
        after_kill >= demo_head + acknowledged as i64,
        "every acknowledged write is in the log: {after_kill} entries, {demo_head} + {acknowledged} expected at least"
    );
    for w in &written {
        for c in w.cycles.iter().filter(|c| c.allocation.is_some()) {
            assert!(
                r.ledger(ORG).donation_by_receipt(&c.receipt).is_some(),
                "acknowledged donation {} is live after the kill",
                c.receipt
            );
        }
    }
    let compared = assert_reads_equal(&s, &mut r, &receipts, "after the restart");
    let before = s.get(&format!("/organizations/{ORG}/summary")).body;

    // Incremental phase: the model is warm at the head above; new entries, including
    // corrections, are applied to it, each followed by a read that advances it.
    let advance = |s: &Server| {
        let r = s.get(&format!("/organizations/{ORG}/summary"));
        assert_eq!(r.status, 200, "{:?}", r.body);
    };
    let post = |kind: &str, body: Value| {
        seq_of(&s.post(
            &format!("/organizations/{ORG}/{kind}"),
            Some(&charity),
            &body,
        ))
    };
    let voided = written
        .iter()
        .flat_map(|w| w.cycles.iter().rev())
        .find(|c| c.disbursement.is_some() && !c.pool)
        .expect("a disbursement from its own donation was acknowledged before the kill");
    let shown = |s: &Server| {
        s.get(&format!(
            "/organizations/{ORG}/donations/{}/trail",
            voided.receipt
        ))
        .body["allocations"]
            .to_string()
            .contains(&voided.reference)
    };
    assert!(
        shown(&s),
        "the trail of {} shows its disbursement",
        voided.receipt
    );
    post(
        "corrections",
        json!({"corrects": voided.disbursement, "reason": "sent twice", "occurred_at": "2020-03-11T10:00:00Z"}),
    );
    advance(&s);
    let d = post(
        "donations",
        donation(
            "AFTER-1",
            "2020-03-11T10:00:00Z",
            money("500.00"),
            undesignated(),
        ),
    );
    advance(&s);
    let a = post(
        "allocations",
        json!({"donation": d, "recipient": "wuhan-jinyintan-hospital", "purpose": "呼吸机", "asset": money("200.00"), "occurred_at": "2020-03-11T11:00:00Z"}),
    );
    post(
        "disbursements",
        json!({"allocation": a, "asset": money("200.00"), "channel": "bank_transfer", "reference": "AFTER-T1", "occurred_at": "2020-03-11T12:00:00Z"}),
    );
    advance(&s);
    let wrong = post(
        "donations",
        donation(
            "AFTER-2",
            "2020-03-11T13:00:00Z",
            money("900.00"),
            undesignated(),
        ),
    );
    let mut replacement = donation(
        "AFTER-2",
        "2020-03-11T13:00:00Z",
        money("90.00"),
        undesignated(),
    );
    replacement
        .as_object_mut()
        .expect("object")
        .remove("occurred_at");
    post(
        "corrections",
        json!({"corrects": wrong, "reason": "an extra zero", "replacement": replacement, "occurred_at": "2020-03-11T14:00:00Z"}),
    );
    for receipt in [voided.receipt.as_str(), "AFTER-1", "AFTER-2"] {
        receipts.push((ORG.to_owned(), receipt.to_owned()));
    }
    let mut r = Replay::download(&s);
    assert_eq!(
        r.head(ORG),
        after_kill + 6,
        "six entries written after the restart"
    );
    assert_reads_equal(&s, &mut r, &receipts, "after writes on the warm model");
    let after = s.get(&format!("/organizations/{ORG}/summary")).body;
    assert_ne!(
        before, after,
        "the writes after the restart changed the summary"
    );
    let fixed = s.get(&format!("/organizations/{ORG}/donations/AFTER-2/trail"));
    assert_eq!(fixed.body["asset"]["amount"], "90.00", "{:?}", fixed.body);
    assert!(
        !shown(&s),
        "the voided disbursement is gone from the trail of {}",
        voided.receipt
    );
    eprintln!(
        "{acknowledged} writes acknowledged and {reads} summaries read before the SIGKILL, \
         {after_kill} entries in {ORG}'s log after it; {compared} answers compared after the restart"
    );
}

/// Money received as a number of cents, from the summary's decimal string.
fn cents(received: &str) -> i64 {
    if received.is_empty() {
        return 0; // nothing received yet
    }
    let (int, frac) = received.split_once('.').unwrap_or((received, "0"));
    let int: i64 = int.replace(',', "").parse().unwrap_or(-1);
    let frac: i64 = format!("{frac:0<2}")[..2].parse().unwrap_or(-1);
    int * 100 + frac
}

#[test]
fn readers_racing_writers_each_see_their_snapshot_and_never_go_back() {
    // Writers add donations while readers ask for the summary and trails as fast as they are
    // answered: the read model makes a new version for nearly every read, and readers whose
    // snapshot is older than the newest version take the kept or the rebuilt one. Every answer
    // must be a whole version (the total a multiple of what each donation gives), each reader's
    // totals never go back, each writer reads its own donation's trail right after the 201, and
    // at the end the summary holds every donation. (All from one address: no per-client rate.)
    let w = world_on(Server::start_with(
        TestDb::new(),
        &["serve", "--client-read-rate", "0"],
    ));
    const WRITERS: usize = 3;
    const EACH: usize = 25;
    const READERS: usize = 6;
    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, writes) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..READERS)
            .map(|_| {
                scope.spawn(|| {
                    let mut last = 0;
                    let mut n = 0;
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        let now = cents(&received(&w.s));
                        assert!(now >= last, "a reader went back: {now} after {last}");
                        assert_eq!(now % 1000, 0, "not a whole version: {now}");
                        last = now;
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let w = &w;
                scope.spawn(move || {
                    for i in 0..EACH {
                        let receipt = format!("RACE-{t}-{i}");
                        w.donate(
                            &receipt,
                            "2020-02-01T10:00:00Z",
                            money("10.00"),
                            undesignated(),
                        );
                        let trail =
                            w.s.get(&format!("/organizations/{ORG}/donations/{receipt}/trail"));
                        assert_eq!(trail.status, 200, "{receipt} right after its 201");
                    }
                })
            })
            .collect();
        let writes = writers
            .into_iter()
            .map(|h| h.join())
            .filter(Result::is_ok)
            .count();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        let reads: usize = readers
            .into_iter()
            .map(|h| h.join().expect("a reader's check failed"))
            .sum();
        (reads, writes)
    });
    assert_eq!(writes, WRITERS, "a writer failed");
    eprintln!("{reads} summary reads beside {} writes", WRITERS * EACH);
    assert!(
        reads >= WRITERS * EACH,
        "the readers raced the writers: {reads} reads"
    );
    assert_eq!(
        cents(&received(&w.s)),
        (WRITERS * EACH) as i64 * 1000,
        "every donation in the summary"
    );
}
