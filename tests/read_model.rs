//! The read model over HTTP: replayed logs kept between requests and advanced by new entries.
//! Every read made after a write's 201 sees that write, and what a warm server answers after a
//! run of writes and corrections equals what a freshly started server (a full replay) answers,
//! on both databases.

mod common;

use common::*;
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
