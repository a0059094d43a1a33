//! `--read-database-url`: public reads from a PostgreSQL hot standby. The test builds a real
//! primary and streaming replica on loopback with Debian's `pg_createcluster` and
//! `pg_basebackup -R`, pauses WAL replay on the replica, and shows that a write acknowledged by
//! the primary is not yet visible through the API (reads come from the replica) until replay
//! resumes; authentication stays on the primary (a key created during the pause works at once).
//!
//! Runs in the PostgreSQL pass (`GIVETRAIL_TEST_POSTGRES` set; as root, with the server packages
//! `.ci/run` uses). Clusters are dropped afterwards, also when the test fails.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::cluster::{postgres_pass, run, tag, Cluster};
use common::{credit_code, BIN};
use serde_json::{json, Value};

/// How long the replica may take to catch up before the test fails.
const CATCH_UP: Duration = Duration::from_secs(30);

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn post(s: &Server, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let r = http()
        .post(format!("{}/api/v1{path}", s.base))
        .bearer_auth(key)
        .json(body)
        .send()
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn entries(s: &Server, org: &str) -> usize {
    let r = http()
        .get(format!(
            "{}/api/v1/organizations/{org}/entries?limit=1000",
            s.base
        ))
        .send()
        .expect("GET");
    if r.status().as_u16() != 200 {
        return 0;
    }
    let v: Value = r.json().unwrap_or(Value::Null);
    v["entries"].as_array().map_or(0, Vec::len)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < CATCH_UP, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn donation(receipt: &str) -> Value {
    json!({
        "receipt_number": receipt, "occurred_at": "2020-02-01T10:00:00Z",
        "donor": {"name": "张三", "kind": "individual"},
        "channel": "bank_transfer", "restriction": {"kind": "none"},
        "asset": {"kind": "money", "amount": "100.00", "currency": "CNY"}
    })
}

#[test]
fn public_reads_come_from_a_streaming_replica() {
    if !postgres_pass("the replica test") {
        return;
    }
    let tag = tag("gt");
    let settings = ["wal_level=replica", "hot_standby=on", "max_wal_senders=4"];
    let primary = Cluster::create(format!("{tag}_primary"), &settings);
    primary.start();
    primary.sql("postgres", "CREATE DATABASE givetrail");
    let replica = Cluster::create(format!("{tag}_replica"), &settings);
    let data = format!("/var/lib/postgresql/{}/{}", replica.version, replica.name);
    std::fs::remove_dir_all(&data).expect("empty the replica's data directory");
    run(
        "install",
        &[
            "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", &data,
        ],
    );
    run(
        "runuser",
        &[
            "-u",
            "postgres",
            "--",
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            &primary.port.to_string(),
            "-U",
            "postgres",
            "-D",
            &data,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ],
    );
    replica.start();
    assert_eq!(replica.sql("postgres", "SELECT pg_is_in_recovery()"), "t");

    // The service: writes (and migrations) on the primary, public reads on the replica.
    let dir = std::env::temp_dir().join(format!("givetrail-replica-{tag}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key_file = dir.join("signing.key").to_string_lossy().into_owned();
    let regulator = run(
        BIN,
        &[
            "keys",
            "create",
            "--role",
            "regulator",
            "--database-url",
            &primary.url("givetrail"),
        ],
    )
    .trim()
    .to_owned();
    let mut child = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0", "--signing-key", &key_file])
        .args(["--database-url", &primary.url("givetrail")])
        .args(["--read-database-url", &replica.url("givetrail")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start givetrail");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    reader.read_line(&mut line).expect("listening line");
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    let s = Server { child, base };

    // The server's read pool is connected to the replica.
    let on_replica = replica.sql(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'givetrail' AND backend_type = 'client backend'",
    );
    assert!(
        on_replica.parse::<u32>().unwrap_or(0) > 0,
        "no connections on the replica"
    );

    let org = "replica-charity";
    let (status, body) = post(
        &s,
        "/organizations",
        &regulator,
        &json!({"id": org, "name": "复制慈善会", "credit_code": credit_code(77), "kind": "foundation", "region_code": "420000", "public_fundraising_qualified": true}),
    );
    assert_eq!(status, 201, "{body:?}");
    let (status, body) = post(
        &s,
        &format!("/organizations/{org}/keys"),
        &regulator,
        &json!({}),
    );
    assert_eq!(status, 201, "{body:?}");
    let charity = body["key"].as_str().expect("key").to_owned();
    let (status, body) = post(
        &s,
        &format!("/organizations/{org}/donations"),
        &charity,
        &donation("R-1"),
    );
    assert_eq!(status, 201, "{body:?}");
    wait_for("the replica to show the first donation", || {
        entries(&s, org) == 1
    });

    // Pause replay: the primary commits, the public API (the replica) does not see it yet.
    replica.sql("postgres", "SELECT pg_wal_replay_pause()");
    let (status, body) = post(
        &s,
        &format!("/organizations/{org}/keys"),
        &regulator,
        &json!({}),
    );
    assert_eq!(status, 201, "{body:?}");
    let new_key = body["key"].as_str().expect("key").to_owned();
    // Authentication reads the primary: a key created during the pause works at once.
    let (status, body) = post(
        &s,
        &format!("/organizations/{org}/donations"),
        &new_key,
        &donation("R-2"),
    );
    assert_eq!(status, 201, "{body:?}");
    assert_eq!(
        primary.sql(
            "givetrail",
            &format!("SELECT count(*) FROM entries WHERE organization = '{org}'")
        ),
        "2"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        entries(&s, org),
        1,
        "public reads must come from the paused replica"
    );
    replica.sql("postgres", "SELECT pg_wal_replay_resume()");
    wait_for("the replica to catch up", || entries(&s, org) == 2);

    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    drop(replica);
    drop(primary);
}
