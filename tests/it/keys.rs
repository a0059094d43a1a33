//! Signing keys with a history: a server refuses a key that does not verify the database's
//! checkpoints, `givetrail keys rotate-signing` is the one way to change it (a public rotation
//! record signed by the old key), `GET /public_keys` lists the history and `givetrail audit`
//! follows it and fails an unsigned change (SQLite, or PostgreSQL when GIVETRAIL_TEST_POSTGRES
//! is set).

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

use givetrail_domain::checkpoint::Checkpoint;

/// Run `givetrail serve` with `key` (or no `--signing-key` at all) and expect it to refuse to
/// start: returns its exit code and standard error.
fn refused_start(db: &TestDb, key: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(&db.dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("GIVETRAIL_DATABASE_URL", &db.url)
        .env_remove("GIVETRAIL_SIGNING_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(k) = key {
        cmd.args(["--signing-key", k]);
    }
    let mut child = cmd.spawn().expect("start givetrail");
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server started when it should have refused");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read as _;
        let _ = e.read_to_string(&mut err);
    }
    (status.code(), err)
}

fn checkpoints(s: &Server, org: &str) -> Vec<Checkpoint> {
    let r = s.get(&format!("/organizations/{org}/checkpoints?limit=1000"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    serde_json::from_value(r.body["checkpoints"].clone()).expect("checkpoints")
}

fn public_key(s: &Server) -> String {
    s.get("/public_key").body["public_key"]
        .as_str()
        .expect("public key")
        .to_owned()
}

/// A world with two donations of `ORG` (a checkpoint after each).
fn signed_world() -> World {
    let w = world();
    for i in 0..2 {
        w.donate(
            &format!("HB-{i}"),
            "2020-01-30T10:00:00Z",
            money("100.00"),
            undesignated(),
        );
    }
    assert_eq!(checkpoints(&w.s, ORG).len(), 2);
    let r = give(&w.s, OTHER_ORG, &w.other_charity, "WH-1", "1.00");
    assert_eq!(r.status, 201, "{:?}", r.body);
    w
}

#[test]
fn another_key_is_refused_and_a_rotation_is_followed_by_the_audit() {
    let w = signed_world();
    let old_key = public_key(&w.s);
    let keys = w.s.get("/public_keys");
    assert_eq!(keys.status, 200, "{:?}", keys.body);
    assert_eq!(
        keys.body["keys"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        keys.body
    );
    assert_eq!(keys.body["keys"][0]["public_key"], old_key.as_str());
    assert_eq!(keys.body["keys"][0]["rotation"], Value::Null);
    let db = w.s.stop();

    // The story of the issue: the same database, started with another (new) key file.
    let elsewhere = db.dir.join("elsewhere.key");
    let elsewhere = elsewhere.to_string_lossy().into_owned();
    let (code, err) = refused_start(&db, Some(&elsewhere));
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("refusing to start"), "{err}");
    assert!(
        err.contains(&elsewhere),
        "the refusal names the file it read: {err}"
    );
    assert!(
        err.contains("--signing-key") && err.contains("keys rotate-signing"),
        "{err}"
    );
    assert!(
        !std::path::Path::new(&elsewhere).exists(),
        "no key is created for a signed database"
    );
    // An existing key that is not this database's is refused too.
    let stranger = db.dir.join("stranger.key");
    std::fs::write(&stranger, hex_seed(9)).expect("write a key");
    let stranger = stranger.to_string_lossy().into_owned();
    let (code, err) = refused_start(&db, Some(&stranger));
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains(&stranger) && err.contains("not in the key history"),
        "{err}"
    );

    // The explicit rotation.
    let key_file = db.signing_key();
    let (ok, out, err) = db.cli(&["keys", "rotate-signing", "--signing-key", &key_file]);
    assert!(ok, "rotate-signing failed: {err}");
    let new_key = out.trim().to_owned();
    assert_eq!(new_key.len(), 64, "{out}");
    assert_ne!(new_key, old_key);
    let retired: Vec<_> = std::fs::read_dir(&db.dir)
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("signing.key.retired-"))
        .collect();
    assert_eq!(retired.len(), 1, "the old key file is kept: {retired:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the new key is readable by its owner only"
        );
    }

    let s = Server::start_with(db, &["serve"]);
    assert_eq!(public_key(&s), new_key);
    let charity = key_for(&s, ORG);
    let r = give(&s, ORG, &charity, "HB-9", "5.00");
    assert_eq!(r.status, 201, "{:?}", r.body);
    let cps = checkpoints(&s, ORG);
    let last = cps.last().expect("a checkpoint");
    assert_eq!(last.tree_size, 3);
    assert_eq!(
        last.verify(&new_key),
        Ok(()),
        "new checkpoints are signed by the new key"
    );
    assert!(cps[1].verify(&old_key).is_ok() && cps[1].verify(&new_key).is_err());

    let keys = s.get("/public_keys").body;
    let list = keys["keys"].as_array().expect("keys");
    assert_eq!(list.len(), 2, "{keys}");
    assert_eq!(list[0]["public_key"], old_key.as_str());
    assert_eq!(list[0]["until"], list[1]["from"]);
    assert_eq!(list[0]["signed"][0]["organization"], ORG);
    assert_eq!(list[0]["signed"][0]["first_tree_size"], 1);
    assert_eq!(list[0]["signed"][0]["last_tree_size"], 2);
    assert_eq!(list[1]["public_key"], new_key.as_str());
    assert_eq!(list[1]["current"], true);
    assert_eq!(list[1]["until"], Value::Null);
    let rotation = &list[1]["rotation"];
    assert_eq!(rotation["old_public_key"], old_key.as_str());
    assert_eq!(rotation["new_public_key"], new_key.as_str());
    assert_eq!(rotation["signed_sizes"][ORG], 2);
    assert_eq!(list[1]["signed"][0]["first_tree_size"], 3);
    assert_eq!(list[1]["signed"][0]["last_tree_size"], 3);
    // The organisation whose last checkpoint the old key signed still shows as verified, and
    // its reconciliation finds nothing wrong with the signature.
    let org = s.get(&format!("/organizations/{OTHER_ORG}"));
    assert_eq!(org.body["checkpoint_verified"], true, "{:?}", org.body);
    let report = s.get_keyed(
        &format!("/organizations/{OTHER_ORG}/reconciliation"),
        &s.regulator,
    );
    assert_eq!(report.status, 200, "{:?}", report.body);
    assert!(
        !report
            .body
            .to_string()
            .contains("checkpoint_signature_invalid"),
        "{}",
        report.body
    );

    let (ok, out) = s.audit(&[]);
    assert!(ok, "the audit follows the rotation: {out}");

    // A change of key that the old key did not sign: a row appended behind the server's back.
    // The forger holds the new key and signs with it, but cannot sign with the old one.
    use ed25519_dalek::Signer as _;
    let (stranger, forged_key) = (
        ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
        ed25519_dalek::SigningKey::from_bytes(&[8; 32]),
    );
    let forged_new = givetrail_domain::checkpoint::public_key_hex(&forged_key);
    let at = "2030-01-01T00:00:00Z";
    let sizes = std::collections::BTreeMap::from([(ORG.to_owned(), 3i64)]);
    let bytes = givetrail_domain::signing::rotation_bytes(&new_key, &forged_new, at, &sizes);
    let forged = givetrail_domain::signing::Rotation {
        old_public_key: new_key.clone(),
        new_public_key: forged_new.clone(),
        rotated_at: at.to_owned(),
        signed_sizes: sizes,
        old_signature: hex::encode(stranger.sign(&bytes).to_bytes()),
        new_signature: hex::encode(forged_key.sign(&bytes).to_bytes()),
    };
    let forged_json = serde_json::to_string(&forged).expect("json");
    let (ok, out) = s.db.sql(&format!(
        "INSERT INTO signing_keys (seq, public_key, valid_from, rotation) VALUES (3, '{forged_new}', '2030-01-01T00:00:00Z', '{forged_json}')"
    ));
    assert!(ok, "{out}");
    let (ok, out) = s.audit(&[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("the rotation from {new_key} to {forged_new}"))
            && out.contains(&format!("not signed by the old key {new_key}")),
        "the audit names the rotation: {out}"
    );
}

/// A rotation made while a server runs: the server stops writing (503, nothing written) rather
/// than sign past what its key handed over; restarted with the key file, it writes again.
#[test]
fn a_server_whose_key_was_rotated_under_it_refuses_to_sign() {
    let w = signed_world();
    let key_file = w.s.db.signing_key();
    let (ok, out, err) =
        w.s.db
            .cli(&["keys", "rotate-signing", "--signing-key", &key_file]);
    assert!(ok, "{err}");
    let new_key = out.trim().to_owned();
    let before = w.s.log(ORG).len();
    let r = give(&w.s, ORG, &w.charity, "HB-7", "5.00");
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.body.to_string().contains("restart"), "{:?}", r.body);
    assert_eq!(w.s.log(ORG).len(), before, "nothing was written");
    // The stale server still publishes its old key as current: the audit says so.
    let (ok, out) = w.s.audit(&[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("but the key history ends with {new_key}")),
        "{out}"
    );

    let s = Server::start_with(w.s.stop(), &["serve"]);
    assert_eq!(public_key(&s), new_key);
    let charity = key_for(&s, ORG);
    let r = give(&s, ORG, &charity, "HB-7", "5.00");
    assert_eq!(r.status, 201, "{:?}", r.body);
    let (ok, out) = s.audit(&[]);
    assert!(ok, "{out}");
}

/// A database from before the key history: its key is recorded on the first start, provided it
/// verifies every log's latest checkpoint; any other key is refused.
#[test]
fn a_database_without_a_key_history_adopts_only_the_key_that_signed_it() {
    let w = signed_world();
    let key = public_key(&w.s);
    let db = w.s.stop();
    let drop_guard = if db.is_postgres() {
        "DROP TRIGGER signing_keys_append_only ON signing_keys"
    } else {
        "DROP TRIGGER signing_keys_no_delete"
    };
    assert!(db.sql(drop_guard).0);
    assert!(db.sql("DELETE FROM signing_keys").0);

    let stranger = db.dir.join("stranger.key");
    std::fs::write(&stranger, hex_seed(5)).expect("write a key");
    let stranger = stranger.to_string_lossy().into_owned();
    let (code, err) = refused_start(&db, Some(&stranger));
    assert_ne!(code, Some(0), "{err}");
    assert!(
        err.contains(&stranger)
            && err.contains("does not verify the latest checkpoint of hubei-red-cross"),
        "{err}"
    );
    let (ok, out) = db.sql("SELECT COUNT(*) FROM signing_keys");
    assert!(
        ok && out.trim() == "0",
        "nothing recorded for a refused key: {out}"
    );

    let s = Server::start_with(db, &["serve"]);
    let keys = s.get("/public_keys").body;
    assert_eq!(keys["keys"].as_array().map(Vec::len), Some(1), "{keys}");
    assert_eq!(keys["keys"][0]["public_key"], key.as_str());
    let (ok, out) = s.audit(&[]);
    assert!(ok, "{out}");
}

#[test]
fn an_unsigned_change_of_key_fails_the_audit() {
    let w = signed_world();
    let old_key = public_key(&w.s);
    let state = w.s.db.dir.join("audit-state.json");
    let state = state.to_string_lossy().into_owned();
    let (ok, out) = w.s.audit(&["--state", &state]);
    assert!(ok, "{out}");
    // A second key row with no rotation record at all.
    let other = "ab".repeat(32);
    let (ok, out) = w.s.db.sql(&format!(
        "INSERT INTO signing_keys (seq, public_key, valid_from) VALUES (2, '{other}', '2030-01-01T00:00:00Z')"
    ));
    assert!(ok, "{out}");
    let (ok, out) = w.s.audit(&["--state", &state]);
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!("replaced {old_key} with no rotation record")),
        "{out}"
    );
}

#[test]
fn the_default_key_path_lives_beside_the_data() {
    let db = TestDb::empty();
    if db.is_postgres() {
        let (code, err) = refused_start(&db, None);
        assert_ne!(code, Some(0), "{err}");
        assert!(
            err.contains("--signing-key") && err.contains("GIVETRAIL_SIGNING_KEY"),
            "{err}"
        );
        assert!(
            !db.dir.join("givetrail-signing.key").exists(),
            "no key in the working directory"
        );
        let (ok, out) =
            db.sql("SELECT count(*) FROM information_schema.tables WHERE table_name = 'entries'");
        assert!(
            ok && out.trim() == "0",
            "refused before the database is touched: {out}"
        );
    } else {
        // `keys rotate-signing` on a database that has never signed: the first key is recorded,
        // then rotated; both files sit beside the database.
        let beside = format!("{}.signing-key", db.url);
        std::fs::write(&beside, hex_seed(3)).expect("write a key");
        let (ok, _, err) = db.cli(&["keys", "rotate-signing"]);
        assert!(ok, "{err}");
        assert!(std::path::Path::new(&beside).exists());
        assert!(
            !db.dir.join("givetrail-signing.key").exists(),
            "no key in the working directory"
        );
        let (ok, _, err) = db.cli(&["keys", "rotate-signing"]);
        assert!(ok, "a second rotation from the new key: {err}");
        let (ok, out) = db.sql("SELECT COUNT(*) FROM signing_keys");
        assert!(ok && out.trim() == "3", "{out}");
    }
}

/// Post a donation of `amount` CNY to `org`'s log.
fn give(s: &Server, org: &str, key: &str, receipt: &str, amount: &str) -> Reply {
    s.post(
        &format!("/organizations/{org}/donations"),
        Some(key),
        &donation(
            receipt,
            "2020-01-30T10:00:00Z",
            money(amount),
            undesignated(),
        ),
    )
}

fn hex_seed(b: u8) -> String {
    format!("{b:02x}").repeat(32)
}
