//! Verifiable logs end to end: every proof the server serves verifies, checkpoints are signed, and
//! `givetrail audit` catches each way of rewriting history (SQLite, or PostgreSQL when
//! GIVETRAIL_TEST_POSTGRES is set).

use crate::common;

use common::*;
use serde_json::{json, Value};

use givetrail_domain::canonical::{parse_hash, Hash};
use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::merkle::{verify_consistency, verify_inclusion};

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|h| parse_hash(h.as_str().expect("hex")).expect("hash"))
        .collect()
}

/// A world with `n` donations of 100.00, each its own write (so each has its own checkpoint).
fn world_with(n: usize) -> World {
    let w = world();
    for i in 0..n {
        w.donate(
            &format!("HB-{i}"),
            "2020-01-30T10:00:00Z",
            money("100.00"),
            undesignated(),
        );
    }
    w
}

fn all_checkpoints(s: &Server, org: &str) -> Vec<Checkpoint> {
    let r = s.get(&format!("/organizations/{org}/checkpoints?limit=1000"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    serde_json::from_value(r.body["checkpoints"].clone()).expect("checkpoints")
}

#[test]
fn every_served_proof_verifies_against_signed_checkpoints() {
    let w = world_with(24);
    let public_key = w.s.get("/public_key").body["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let cps = all_checkpoints(&w.s, ORG);
    assert_eq!(
        cps.iter().map(|c| c.tree_size).collect::<Vec<_>>(),
        (1..=24).collect::<Vec<_>>(),
        "a checkpoint after every write"
    );
    for c in &cps {
        c.verify(&public_key).expect("signature");
    }
    let log = w.s.log(ORG);
    let leaves: Vec<Hash> = log
        .iter()
        .map(|e| parse_hash(e["leaf_hash"].as_str().expect("leaf")).expect("hash"))
        .collect();
    let mut proofs = 0;
    for c in &cps {
        let root = parse_hash(&c.root_hash).expect("root");
        for seq in 1..=c.tree_size {
            let p = w.s.get(&format!(
                "/organizations/{ORG}/proofs/inclusion?seq={seq}&tree_size={}",
                c.tree_size
            ));
            assert_eq!(p.status, 200, "{:?}", p.body);
            assert_eq!(p.body["leaf_index"], seq - 1);
            let path = hashes(&p.body["audit_path"]);
            verify_inclusion(
                &leaves[(seq - 1) as usize],
                (seq - 1) as u64,
                c.tree_size as u64,
                &path,
                &root,
            )
            .expect("inclusion proof verifies");
            proofs += 1;
        }
        for older in cps.iter().filter(|o| o.tree_size <= c.tree_size) {
            let p = w.s.get(&format!(
                "/organizations/{ORG}/proofs/consistency?from={}&to={}",
                older.tree_size, c.tree_size
            ));
            assert_eq!(p.status, 200, "{:?}", p.body);
            let old_root = parse_hash(&older.root_hash).expect("root");
            verify_consistency(
                older.tree_size as u64,
                c.tree_size as u64,
                &hashes(&p.body["proof"]),
                &old_root,
                &root,
            )
            .expect("consistency proof verifies");
            proofs += 1;
        }
    }
    assert_eq!(
        proofs, 600,
        "300 inclusion and 300 consistency proofs checked"
    );
    assert_eq!(
        w.s.get(&format!(
            "/organizations/{ORG}/proofs/inclusion?seq=25&tree_size=24"
        ))
        .status,
        400
    );
    assert_eq!(
        w.s.get(&format!(
            "/organizations/{ORG}/proofs/consistency?from=5&to=99"
        ))
        .status,
        400
    );
    let org = w.s.get(&format!("/organizations/{ORG}"));
    assert_eq!(org.body["checkpoint_verified"], true, "{:?}", org.body);
    assert_eq!(org.body["latest_checkpoint"]["tree_size"], 24);
}

#[test]
fn audit_passes_on_an_honest_deployment_and_remembers_checkpoints() {
    let w = world_with(6);
    let state = w.s.db.dir.join("audit-state.json");
    let state = state.to_str().expect("path");
    let (ok, out) = w.s.audit(&["--state", state]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("OK    {ORG}: 6 entries")), "{out}");
    w.donate(
        "HB-later",
        "2020-01-31T10:00:00Z",
        money("5.00"),
        undesignated(),
    );
    let (ok, out) = w.s.audit(&["--state", state, "--org", ORG]);
    assert!(ok, "an honest log grows consistently: {out}");
    assert!(out.contains("7 entries"), "{out}");
}

fn drop_log_triggers(db: &TestDb) {
    let sql = if db.is_postgres() {
        "DROP TRIGGER entries_append_only ON entries"
    } else {
        "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;"
    };
    let (ok, out) = db.sql(sql);
    assert!(ok, "{out}");
}

fn assert_audit_fails_at(s: &Server, seq: i64) -> String {
    let (ok, out) = s.audit(&["--org", ORG]);
    assert!(!ok, "audit must fail: {out}");
    assert!(
        out.contains(&format!("first bad seq {seq}")),
        "audit names seq {seq}: {out}"
    );
    out
}

#[test]
fn audit_catches_an_altered_amount() {
    let w = world_with(8);
    drop_log_triggers(&w.s.db);
    let (ok, out) = w.s.db.sql("UPDATE entries SET canonical = replace(canonical, '\"amount\":\"100.00\"', '\"amount\":\"900.00\"') WHERE seq = 3");
    assert!(ok, "{out}");
    let out = assert_audit_fails_at(&w.s, 3);
    assert!(out.contains("altered"), "{out}");
}

#[test]
fn audit_catches_a_deleted_entry() {
    let w = world_with(8);
    drop_log_triggers(&w.s.db);
    let (ok, out) = w.s.db.sql("DELETE FROM entries WHERE seq = 4");
    assert!(ok, "{out}");
    let out = assert_audit_fails_at(&w.s, 4);
    assert!(out.contains("missing"), "{out}");
}

#[test]
fn audit_catches_two_reordered_entries() {
    let w = world_with(8);
    drop_log_triggers(&w.s.db);
    let (ok, out) = w.s.db.sql("UPDATE entries SET seq = -5 WHERE seq = 5; UPDATE entries SET seq = 5 WHERE seq = 6; UPDATE entries SET seq = 6 WHERE seq = -5;");
    assert!(ok, "{out}");
    assert_audit_fails_at(&w.s, 5);
}

#[test]
fn audit_catches_a_tail_replaced_with_a_different_history() {
    let w = world_with(5);
    let state =
        w.s.db
            .dir
            .join("audit-state.json")
            .to_string_lossy()
            .into_owned();
    let charity = w.charity.clone();
    let original = w.s.stop();
    // The operator keeps a copy of the first five entries ...
    let fork = original.fork();
    // ... the real history goes on, and the auditor sees it ...
    let honest = Server::start_with(original, &["serve"]);
    for i in 5..8 {
        let r = honest.post(
            &format!("/organizations/{ORG}/donations"),
            Some(&charity),
            &donation(
                &format!("REAL-{i}"),
                "2020-01-30T10:00:00Z",
                money("100.00"),
                undesignated(),
            ),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let (ok, out) = honest.audit(&["--state", &state]);
    assert!(ok, "{out}");
    let _original = honest.stop(); // kept: its directory holds the auditor's state file
                                   // ... then the copy is served instead, with another tail, signed with the same key.
    let rewritten = Server::start_with(fork, &["serve"]);
    for i in 5..9 {
        let r = rewritten.post(
            &format!("/organizations/{ORG}/donations"),
            Some(&charity),
            &donation(
                &format!("FAKE-{i}"),
                "2020-01-30T10:00:00Z",
                money("1.00"),
                undesignated(),
            ),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let (ok, out) = rewritten.audit(&["--org", ORG]);
    assert!(
        ok,
        "without memory the rewritten log is self-consistent: {out}"
    );
    let (ok, out) = rewritten.audit(&["--org", ORG, "--state", &state]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("first bad seq 6") && out.contains("rewritten"),
        "{out}"
    );
}

#[test]
fn audit_catches_a_rewrite_never_resigned_at_the_size_it_remembers() {
    // The consistency proof from the last checkpoint seen must fail when the log was forked
    // and the auditor only remembers one old size.
    let w = world_with(4);
    let state_path = w.s.db.dir.join("audit-state.json");
    let (ok, out) = w.s.audit(&["--state", state_path.to_str().expect("path")]);
    assert!(ok, "{out}");
    // Keep only the last checkpoint in the auditor's memory.
    let mut state: Value =
        serde_json::from_str(&std::fs::read_to_string(&state_path).expect("state")).expect("json");
    state["logs"][ORG] = json!({"4": state["logs"][ORG]["4"].clone()});
    std::fs::write(&state_path, state.to_string()).expect("write state");
    let charity = w.charity.clone();
    let db = w.s.stop();
    drop_log_triggers(&db);
    let private = if db.is_postgres() {
        "DROP TRIGGER entry_private_append_only ON entry_private"
    } else {
        "DROP TRIGGER entry_private_no_delete"
    };
    assert!(db.sql(private).0);
    let (ok, out) = db.sql("DELETE FROM entries WHERE seq >= 3; DELETE FROM entry_private WHERE seq >= 3; DELETE FROM merkle_nodes; DELETE FROM facts WHERE seq >= 3; DELETE FROM lots WHERE seq >= 3;");
    assert!(ok, "{out}");
    let trig = if db.is_postgres() {
        "DROP TRIGGER checkpoints_append_only ON checkpoints"
    } else {
        "DROP TRIGGER checkpoints_no_delete"
    };
    assert!(db.sql(trig).0);
    assert!(db.sql("DELETE FROM checkpoints").0);
    let (ok, out, _) = db.cli(&["rebuild"]);
    assert!(ok, "{out}");
    let s = Server::start_with(db, &["serve"]);
    // One batch: the new history is signed only at size 7, never again at the remembered size 4.
    let batch: Vec<Value> = (0..5)
        .map(|i| {
            donation(
                &format!("NEW-{i}"),
                "2020-01-30T10:00:00Z",
                money("7.00"),
                undesignated(),
            )
        })
        .collect();
    let r = s.post(
        &format!("/organizations/{ORG}/donations/batch"),
        Some(&charity),
        &json!({"donations": batch}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (ok, out) = s.audit(&["--org", ORG]);
    assert!(
        ok,
        "without memory the rewritten log is self-consistent: {out}"
    );
    let (ok, out) = s.audit(&["--org", ORG, "--state", state_path.to_str().expect("path")]);
    assert!(!ok, "{out}");
    assert!(out.contains("differs from the checkpoint remembered from an earlier audit (first bad seq between 1 and 4)"), "{out}");
}

#[test]
fn private_values_match_their_published_commitments() {
    let w = world_with(3);
    let (ok, out, err) = w.s.db.cli(&["verify-private"]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("6 private value(s) checked, 0 mismatch(es)"),
        "name and contact of 3 donors: {out}"
    );
    let drop = if w.s.db.is_postgres() {
        "DROP TRIGGER entry_private_append_only ON entry_private"
    } else {
        "DROP TRIGGER entry_private_no_update"
    };
    assert!(w.s.db.sql(drop).0);
    let (ok, out) = w.s.db.sql("UPDATE entry_private SET private = replace(private, '139 0000 7777', '139 0000 0000') WHERE seq = 2");
    assert!(ok, "{out}");
    let (ok, out, _) = w.s.db.cli(&["verify-private"]);
    assert!(!ok, "{out}");
    assert!(out.contains("#2: the private donor.contact"), "{out}");
}

#[test]
fn the_signing_key_is_created_private_and_reused() {
    let w = world_with(1);
    let path = w.s.db.signing_key();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&path).expect("key file").permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "the signing key is readable by its owner only"
    );
    let key = w.s.get("/public_key").body["public_key"].clone();
    let db = w.s.stop();
    let again = Server::start_with(db, &["serve"]);
    assert_eq!(
        again.get("/public_key").body["public_key"],
        key,
        "the same key after a restart"
    );
    let (ok, out) = again.audit(&[]);
    assert!(ok, "{out}");
}

#[test]
fn the_demo_loads_and_its_derived_state_matches_the_log() {
    let s = Server::demo();
    let hubei = s.log("hubei-red-cross");
    assert!(hubei.len() > 20, "demo data loaded: {}", hubei.len());
    assert_chain_intact(&hubei);
    assert_chain_intact(&s.log("wuhan-charity-federation"));
    assert_chain_intact(&s.log("china-health-foundation"));
    let kinds: std::collections::BTreeSet<String> = [
        "hubei-red-cross",
        "wuhan-charity-federation",
        "china-health-foundation",
    ]
    .iter()
    .flat_map(|o| s.log(o))
    .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
    .collect();
    for k in [
        "campaign.opened",
        "donation.received",
        "allocation.made",
        "disbursement.made",
        "acknowledgement.recorded",
        "usage.reported",
        "expense.recorded",
        "entry.corrected",
    ] {
        assert!(kinds.contains(k), "the demo has a {k} entry");
    }
    let (ok, out, err) = s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("0 difference(s)"), "{out}");
}
