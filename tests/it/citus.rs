//! Givetrail on Citus (distributed PostgreSQL): what is distributed, where it lives, and what
//! happens when a worker stops.
//!
//! Runs when `GIVETRAIL_TEST_CITUS` names a Citus coordinator (`.ci/citus-cluster` makes one with
//! two workers and prints its URL; `.ci/run` sets the variable, so in CI a missing cluster fails
//! the run). Unset, every test here says so and passes without checking anything. The worker
//! failure test builds a cluster of its own (a coordinator and two workers on free ports, as root,
//! with Citus installed) so that stopping a worker does not disturb the tests sharing the CI
//! cluster; it is dropped afterwards, also when the test fails.

use crate::common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{
    citus_server, credit_code, donation, host_port, key_for, money, psql_in, undesignated, Server,
    TestDb, ORG,
};
use serde_json::{json, Value};

/// Longest a request to an organisation on a stopped worker may take to be refused.
const REFUSAL_BOUND: Duration = Duration::from_secs(10);

fn citus_or_skip(test: &str) -> bool {
    if citus_server().is_none() {
        eprintln!("{test}: runs on Citus (GIVETRAIL_TEST_CITUS, see .ci/citus-cluster)");
        return false;
    }
    true
}

/// The worker placement of `org`'s shard of `table`: (worker server URL, shard table name).
fn placement(db: &TestDb, table: &str, org: &str) -> (String, String) {
    let (_, coordinator_port) = host_port(&db.url[..db.url.rfind('/').expect("a database")]);
    // A reference table has one shard, with a placement on every node.
    let value = if table == "signing_keys" {
        String::new()
    } else {
        format!(", '{org}'")
    };
    let (ok, out) = db.sql(&format!(
        "SELECT nodename || ':' || nodeport || ' ' || shard_name FROM citus_shards \
         WHERE table_name = '{table}'::regclass \
         AND shardid = get_shard_id_for_distribution_column('{table}'{value}) \
         AND nodeport <> {coordinator_port} ORDER BY nodeport LIMIT 1"
    ));
    assert!(ok, "{out}");
    let (node, shard) = out
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("no worker placement of {table} for {org}: {out:?}"));
    (format!("postgres://postgres@{node}"), shard.to_owned())
}

/// Two organisation slugs whose logs live on different workers (the shard of `entries` each
/// hashes to is placed on another node).
fn orgs_on_two_workers(db: &TestDb) -> [(String, String); 2] {
    let mut first: Option<(String, String)> = None;
    for n in 0..64 {
        let org = format!("charity-{n}");
        let (worker, _) = placement(db, "entries", &org);
        match &first {
            None => first = Some((org, worker)),
            Some((a, wa)) if *wa != worker => return [(a.clone(), wa.clone()), (org, worker)],
            Some(_) => {}
        }
    }
    panic!("no two organisations on different workers among 64 slugs");
}

fn register(s: &Server, org: &str, n: u32) -> String {
    let r = s.post(
        "/organizations",
        Some(&s.regulator),
        &json!({"id": org, "name": format!("{org} 慈善"), "credit_code": credit_code(n),
            "kind": "charity_federation", "region_code": "420100", "public_fundraising_qualified": true}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    key_for(s, org)
}

fn seq(r: &common::Reply) -> i64 {
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["seq"].as_i64().expect("seq")
}

/// The database's own tables with how Citus holds them: `name:h` (distributed by hash, with
/// `:colocated` when in `entries`' colocation group), `name:n` (reference), `name:-` (local to
/// the coordinator).
fn table_kinds(db: &TestDb) -> Vec<String> {
    let (ok, out) = db.sql(
        "SELECT c.relname || ':' || COALESCE(p.partmethod::text, '-') || \
         CASE WHEN p.colocationid = (SELECT colocationid FROM pg_dist_partition \
              WHERE logicalrelid = 'entries'::regclass) AND p.partmethod = 'h' \
              THEN ':colocated' ELSE '' END \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_dist_partition p ON p.logicalrelid = c.oid \
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_dist_shard s WHERE c.relname = \
              s.logicalrelid::regclass::text || '_' || s.shardid) \
         ORDER BY c.relname",
    );
    assert!(ok, "{out}");
    out.lines().map(|l| l.trim().to_owned()).collect()
}

#[test]
fn per_organisation_tables_are_distributed_by_organisation_and_the_registry_is_replicated() {
    if !citus_or_skip("distribution") {
        return;
    }
    let s = Server::start();
    assert!(s.db.is_citus());
    let distributed = [
        "allocations",
        "bank_lines",
        "bank_statements",
        "campaigns",
        "checkpoints",
        "complaint_events",
        "complaints",
        "disbursements",
        "draws",
        "entries",
        "entry_private",
        "expenses",
        "facts",
        "lots",
        "merkle_nodes",
    ];
    let reference = [
        "api_keys",
        "needs",
        "organizations",
        "recipients",
        "signing_keys",
    ];
    // Local to the coordinator: diesel's migration record, and the idempotency records (keyed
    // by API key, written with every replayable write; a reference table would need every
    // worker up for any write, a distributed one the worker its key hashes to).
    let local = ["__diesel_schema_migrations", "idempotency"];
    let mut expected: Vec<String> = distributed
        .iter()
        .map(|t| format!("{t}:h:colocated"))
        .chain(reference.iter().map(|t| format!("{t}:n")))
        .chain(local.iter().map(|t| format!("{t}:-")))
        .collect();
    expected.sort();
    assert_eq!(
        table_kinds(&s.db),
        expected,
        "every table, and how Citus holds it"
    );

    // Every distributed table is distributed by `organization`.
    let (ok, out) = s.db.sql(
        "SELECT DISTINCT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition \
         WHERE partmethod = 'h'",
    );
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "organization");
    // Their shards are spread over both workers.
    let (ok, out) = s.db.sql(&format!(
        "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'entries'::regclass \
         AND nodeport <> {}",
        host_port(&citus_server().expect("citus")).1
    ));
    assert!(ok, "{out}");
    assert_eq!(out.trim(), s.db.citus_workers().len().to_string());
    // The foreign keys between colocated tables are kept, as on one PostgreSQL.
    let (ok, out) = s.db.sql(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid IN \
         ('bank_lines'::regclass, 'complaint_events'::regclass) ORDER BY 1",
    );
    assert!(ok, "{out}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "bank_lines_organization_statement_fkey",
            "complaint_events_organization_code_fkey"
        ]
    );
}

/// The tables whose triggers refuse changes (as tests/it/ledger_api.rs lists them).
const APPEND_ONLY: [&str; 8] = [
    "bank_lines",
    "bank_statements",
    "checkpoints",
    "complaint_events",
    "complaints",
    "entries",
    "entry_private",
    "signing_keys",
];

#[test]
fn the_append_only_triggers_hold_on_the_worker_shards_themselves() {
    if !citus_or_skip("append-only shards") {
        return;
    }
    let w = common::world();
    w.donate(
        "HB-1",
        "2020-01-30T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let name = w.s.db.pg_name().expect("a PostgreSQL database").to_owned();
    for table in APPEND_ONLY {
        let (worker, shard) = placement(&w.s.db, table, ORG);
        let on_worker = format!("{worker}/{name}");
        let triggers = psql_in(
            &on_worker,
            &format!(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = '{shard}'::regclass \
                 AND tgfoid = 'givetrail_refuse_change'::regproc"
            ),
        );
        assert_eq!(
            triggers.trim(),
            "2",
            "{shard} on {worker}: the row and the TRUNCATE trigger"
        );
        let rows = psql_in(&on_worker, &format!("SELECT count(*) FROM {shard}"));
        // Straight at the shard, past Citus's own guard against changing shards by hand: only
        // the triggers stand in the way.
        let attempt = |statement: &str| {
            let out = Command::new("psql")
                .args([&on_worker, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement])
                .env("PGOPTIONS", "-c citus.enable_manual_changes_to_shards=on")
                .output()
                .expect("psql");
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let mut statements = vec![format!("TRUNCATE {shard} CASCADE")];
        if rows.trim() != "0" {
            let column = if table == "signing_keys" {
                "seq"
            } else {
                "organization"
            };
            statements.push(format!("UPDATE {shard} SET {column} = {column}"));
            statements.push(format!("DELETE FROM {shard}"));
        }
        for statement in &statements {
            let (ok, err) = attempt(statement);
            assert!(
                !ok && err.contains("append-only"),
                "`{statement}` on {worker} must be refused by the trigger: {err}"
            );
        }
        assert_eq!(
            psql_in(&on_worker, &format!("SELECT count(*) FROM {shard}")),
            rows,
            "{shard} keeps its rows"
        );
    }
    // Through the coordinator as well.
    for statement in [
        "UPDATE entries SET kind = 'x'",
        "DELETE FROM entries",
        "TRUNCATE entries",
    ] {
        let (ok, out) = w.s.db.sql(statement);
        assert!(!ok && out.contains("append-only"), "{statement}: {out}");
    }
    assert_eq!(w.entry_count(), 1);
}

#[test]
fn two_organisations_on_two_workers_write_at_once_and_a_trail_crosses_between_them() {
    if !citus_or_skip("two workers") {
        return;
    }
    let s = Server::start();
    let [(a, worker_a), (b, worker_b)] = orgs_on_two_workers(&s.db);
    assert_ne!(worker_a, worker_b);
    let key_a = register(&s, &a, 1);
    let key_b = register(&s, &b, 2);
    // Every per-organisation table of an organisation lives on its log's worker.
    for table in [
        "entries",
        "checkpoints",
        "lots",
        "merkle_nodes",
        "entry_private",
    ] {
        assert_eq!(placement(&s.db, table, &a).0, worker_a, "{table} of {a}");
        assert_eq!(placement(&s.db, table, &b).0, worker_b, "{table} of {b}");
    }

    // Concurrent writes to both organisations, four clients each.
    std::thread::scope(|scope| {
        for (org, key) in [(&a, &key_a), (&b, &key_b)] {
            for client in 0..4 {
                let s = &s;
                scope.spawn(move || {
                    for i in 0..10 {
                        let r = s.post(
                            &format!("/organizations/{org}/donations"),
                            Some(key),
                            &donation(
                                &format!("R-{client}-{i}"),
                                "2020-01-30T10:00:00Z",
                                money("100.00"),
                                undesignated(),
                            ),
                        );
                        assert_eq!(r.status, 201, "{org}: {:?}", r.body);
                    }
                });
            }
        }
    });
    let (log_a, log_b) = (s.log(&a), s.log(&b));
    assert_eq!((log_a.len(), log_b.len()), (40, 40));
    common::assert_chain_intact(&log_a);
    common::assert_chain_intact(&log_b);
    // The rows are where citus_shards says: counted on each worker's shard directly.
    let name = s.db.pg_name().expect("database").to_owned();
    for (org, worker) in [(&a, &worker_a), (&b, &worker_b)] {
        let (_, shard) = placement(&s.db, "entries", org);
        let n = psql_in(
            &format!("{worker}/{name}"),
            &format!("SELECT count(*) FROM {shard} WHERE organization = '{org}'"),
        );
        assert_eq!(n.trim(), "40", "{org}'s entries on {worker}");
    }

    // A gift from A to B's federation, recorded by B as a transfer: the trail crosses workers.
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": format!("{b}-recipient"), "name": "武汉市慈善总会", "kind": "charity",
            "region_code": "420100", "organization": b}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let post = |org: &str, key: &str, kind: &str, body: Value| {
        s.post(&format!("/organizations/{org}/{kind}"), Some(key), &body)
    };
    let d = seq(&post(
        &a,
        &key_a,
        "donations",
        donation(
            "GIFT-1",
            "2020-01-30T10:00:00Z",
            money("5000.00"),
            json!({"kind": "designated", "region_code": "420100"}),
        ),
    ));
    let al = seq(&post(
        &a,
        &key_a,
        "allocations",
        json!({"donation": d, "recipient": format!("{b}-recipient"), "purpose": "via the federation",
            "asset": money("3000.00"), "occurred_at": "2020-01-31T10:00:00Z"}),
    ));
    let x = seq(&post(
        &a,
        &key_a,
        "disbursements",
        json!({"allocation": al, "asset": money("3000.00"), "channel": "bank_transfer",
            "reference": "BANK-1", "occurred_at": "2020-02-01T10:00:00Z"}),
    ));
    let onward = seq(&post(
        &b,
        &key_b,
        "donations",
        json!({"receipt_number": "FROM-A-1", "occurred_at": "2020-02-02T10:00:00Z",
            "donor": {"name": a, "kind": "organization", "anonymous": false},
            "channel": "transfer_from_charity", "restriction": {"kind": "designated", "region_code": "420100"},
            "asset": money("3000.00"), "source_disbursement": {"organization": a, "disbursement": x}}),
    ));
    seq(&post(
        &b,
        &key_b,
        "allocations",
        json!({"donation": onward, "recipient": format!("{b}-recipient"), "purpose": "city relief",
            "asset": money("1200.00"), "occurred_at": "2020-02-03T10:00:00Z"}),
    ));
    let trail = s.get(&format!("/organizations/{a}/donations/GIFT-1/trail"));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let step = &trail.body["allocations"][0]["disbursements"][0];
    assert_eq!(step["from_this_donation"], "3000.00", "{:?}", trail.body);
    assert_eq!(step["onward"]["organization"], json!(b));
    assert_eq!(step["onward"]["receipt_number"], "FROM-A-1");
    assert_eq!(
        step["onward"]["source_disbursement"],
        json!({"organization": a, "disbursement": x})
    );
    assert_eq!(
        step["onward"]["allocations"][0]["from_this_donation"],
        "1200.00"
    );
    assert_eq!(step["onward"]["totals"]["unallocated"], "1800.00");

    let (ok, out) = s.audit(&[]);
    assert!(ok, "audit: {out}");
    let (ok, out, err) = s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "rebuild --check: {out}{err}");
}

/// A Debian PostgreSQL cluster with Citus preloaded, dropped (stopped first) when the test ends.
struct Node {
    name: String,
    port: u16,
}

impl Node {
    fn create(name: String) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        run(
            "pg_createcluster",
            &[
                "15",
                &name,
                "-p",
                &port.to_string(),
                "-o",
                "shared_preload_libraries=citus",
                "-o",
                "max_prepared_transactions=100",
                "--",
                "--auth=trust",
            ],
        );
        let node = Node { name, port };
        node.ctl("start");
        node
    }

    fn ctl(&self, action: &str) {
        run(
            "pg_ctlcluster",
            &["--skip-systemctl-redirect", "15", &self.name, action],
        );
    }

    fn server(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", "15", &self.name])
            .output();
    }
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What one client saw: receipts acknowledged with 201, and every other answer.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    refused: Vec<(u16, Value, Duration, Option<String>)>,
    slowest: Duration,
}

#[test]
fn a_stopped_worker_refuses_only_its_organisations_with_503_and_loses_nothing() {
    if !citus_or_skip("worker failure") {
        return;
    }
    let tag = format!("{}_{}", std::process::id(), rand::random::<u16>());
    let coordinator = Node::create(format!("gtf_coord_{tag}"));
    let workers = [
        Node::create(format!("gtf_w1_{tag}")),
        Node::create(format!("gtf_w2_{tag}")),
    ];
    let worker_urls: Vec<String> = workers.iter().map(Node::server).collect();
    let db = TestDb::on_citus(&coordinator.server(), &worker_urls);
    let s = Server::start_with(db, &["serve"]);
    let [(live, live_worker), (lost, lost_worker)] = orgs_on_two_workers(&s.db);
    let key_live = register(&s, &live, 1);
    let key_lost = register(&s, &lost, 2);
    let stopped = workers
        .iter()
        .find(|w| w.server() == lost_worker)
        .expect("the lost organisation's worker");
    assert_ne!(stopped.server(), live_worker);

    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let give = |org: &str, key: &str, receipt: &str| {
        let started = Instant::now();
        let r = client
            .post(format!("{}/api/v1/organizations/{org}/donations", s.base))
            .bearer_auth(key)
            .json(&donation(
                receipt,
                "2020-01-30T10:00:00Z",
                money("100.00"),
                undesignated(),
            ))
            .send()
            .expect("POST");
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = r.json().unwrap_or(Value::Null);
        (status, body, started.elapsed(), content_type, retry_after)
    };
    for (org, key) in [(&live, &key_live), (&lost, &key_lost)] {
        let (status, body, ..) = give(org, key, "BEFORE");
        assert_eq!(status, 201, "{org}: {body:?}");
    }

    // Two clients per organisation write without pause while the lost organisation's worker
    // is stopped and started again.
    let running = AtomicBool::new(true);
    let seen: Vec<Arc<Mutex<Seen>>> = (0..4).map(|_| Arc::default()).collect();
    let outage = Mutex::new(None::<(Instant, Instant)>);
    /// Stops the clients when the scope ends, also when an assertion fails first.
    struct StopOnExit<'a>(&'a AtomicBool);
    impl Drop for StopOnExit<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::SeqCst);
        }
    }
    std::thread::scope(|scope| {
        let _stop = StopOnExit(&running);
        for (i, slot) in seen.iter().enumerate() {
            let (org, key) = if i % 2 == 0 {
                (&live, &key_live)
            } else {
                (&lost, &key_lost)
            };
            let (give, running) = (&give, &running);
            scope.spawn(move || {
                let mut n = 0;
                while running.load(Ordering::SeqCst) {
                    n += 1;
                    let receipt = format!("C{i}-{n}");
                    let (status, body, took, content_type, retry_after) = give(org, key, &receipt);
                    let mut seen = slot.lock().expect("seen");
                    seen.slowest = seen.slowest.max(took);
                    if status == 201 {
                        seen.acknowledged.push(receipt);
                    } else {
                        assert_eq!(
                            content_type.as_deref(),
                            Some("application/problem+json"),
                            "{status} {body:?}"
                        );
                        seen.refused.push((status, body, took, retry_after));
                        drop(seen);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_secs(2));
        let down = Instant::now();
        stopped.ctl("stop");
        // While it is down: the live organisation writes and reads; the lost one is refused.
        std::thread::sleep(Duration::from_secs(6));
        for path in [
            format!("/organizations/{live}/entries"),
            format!("/organizations/{live}/summary"),
            format!("/organizations/{live}/checkpoints/latest"),
        ] {
            let r = s.get(&path);
            assert_eq!(
                r.status, 200,
                "{path} while {lost}'s worker is down: {:?}",
                r.body
            );
        }
        let started = Instant::now();
        let r = s.get(&format!("/organizations/{lost}/entries"));
        assert_eq!(
            r.status, 503,
            "{lost}'s log while its worker is down: {:?}",
            r.body
        );
        assert!(started.elapsed() < REFUSAL_BOUND);
        let (status, body, took, _, retry_after) = give(&lost, &key_lost, "DURING");
        assert_eq!(status, 503, "{body:?}");
        assert!(took < REFUSAL_BOUND, "refused after {took:?}");
        assert!(retry_after.is_some(), "503 carries Retry-After");
        let (status, body, ..) = give(&live, &key_live, "DURING");
        assert_eq!(
            status, 201,
            "{live} while {lost}'s worker is down: {body:?}"
        );
        stopped.ctl("start");
        let up = Instant::now();
        *outage.lock().expect("outage") = Some((down, up));
        // Back: the lost organisation's writes succeed again within a bounded time.
        let mut back = false;
        for attempt in 0..100 {
            let (status, ..) = give(&lost, &key_lost, &format!("AFTER-{attempt}"));
            if status == 201 {
                back = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            back,
            "{lost} accepts writes again after its worker restarts"
        );
        std::thread::sleep(Duration::from_secs(2));
        running.store(false, Ordering::SeqCst);
    });

    let seen: Vec<Seen> = seen
        .into_iter()
        .map(|m| {
            Arc::try_unwrap(m)
                .ok()
                .expect("one owner")
                .into_inner()
                .expect("seen")
        })
        .collect();
    for (i, client) in seen.iter().enumerate() {
        let org = if i % 2 == 0 { &live } else { &lost };
        for (status, body, took, retry_after) in &client.refused {
            assert_eq!(
                *status, 503,
                "{org}: only 503 while a worker is down: {body:?}"
            );
            assert!(*took < REFUSAL_BOUND, "{org}: refused after {took:?}");
            assert!(retry_after.is_some(), "{org}: 503 carries Retry-After");
        }
        assert!(
            client.slowest < REFUSAL_BOUND,
            "{org}: a request took {:?}",
            client.slowest
        );
        if org == &live {
            assert!(
                client.refused.is_empty(),
                "{live} is never refused: {:?}",
                client.refused
            );
        } else {
            assert!(
                !client.refused.is_empty(),
                "{lost} was refused while its worker was down"
            );
        }
    }
    let live_writes: usize = seen.iter().step_by(2).map(|c| c.acknowledged.len()).sum();
    eprintln!(
        "worker failure: {live_writes} writes to {live} acknowledged during the run; {} refused for {lost}",
        seen.iter().skip(1).step_by(2).map(|c| c.refused.len()).sum::<usize>()
    );
    assert!(outage.lock().expect("outage").is_some());

    // Nothing acknowledged is lost, the logs verify, derived tables match the logs.
    for (i, client) in seen.iter().enumerate() {
        let org = if i % 2 == 0 { &live } else { &lost };
        let log = s.log(org);
        let receipts: std::collections::HashSet<String> = log
            .iter()
            .filter_map(|e| e["body"]["receipt_number"].as_str().map(str::to_owned))
            .collect();
        for r in &client.acknowledged {
            assert!(
                receipts.contains(r),
                "{org}: acknowledged {r} is in the log"
            );
        }
        common::assert_chain_intact(&log);
    }
    let (ok, out) = s.audit(&[]);
    assert!(ok, "audit: {out}");
    let (ok, out, err) = s.db.cli(&["rebuild", "--check"]);
    assert!(ok, "rebuild --check: {out}{err}");
}
