//! The database fails and comes back, and is backed up, while the server runs:
//! - PostgreSQL stopped under a write load (`pg_ctlcluster stop -m fast`, then `-m immediate`)
//!   on a cluster the test makes for itself: every write and read answers 201 or a 503
//!   problem+json with `Retry-After` within [`BOUND`], never a 500 or a hang; once PostgreSQL is
//!   started again the same server process writes again, every acknowledged write is in the
//!   log exactly once, and `audit` and `rebuild --check` are clean;
//! - SQLite on a small tmpfs filled up: writes answer 507 problem+json and write nothing,
//!   reads go on, and after the filesystem grows writes succeed and everything verifies;
//! - PostgreSQL backed up with `pg_dump -Fc` under a write load and restored with `pg_restore`
//!   into a new database: the restore verifies and serves heads the live server signed;
//!   `givetrail backup` and `givetrail restore` refuse PostgreSQL, naming what to run instead.
//!
//! The PostgreSQL tests run in the PostgreSQL pass (`GIVETRAIL_TEST_POSTGRES`), the SQLite one in
//! every pass; it needs root to mount its tmpfs (CI runs as root: there a failed mount fails the
//! test; as another user it says why and does nothing).

use crate::common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::cluster::{postgres_pass, run, tag, Cluster};
use common::*;
use serde_json::{json, Value};

/// Longest any request may take while the database is down or full.
const BOUND: Duration = Duration::from_secs(12);
/// Longest the service may take to write again once the database is back.
const RECOVERY: Duration = Duration::from_secs(30);
/// Concurrent writers of the load.
const WRITERS: usize = 6;

/// One request of the load, as the client saw it.
#[derive(Debug)]
struct Attempt {
    receipt: String,
    status: u16,
    /// The problem's type, after the last `/`, for an error.
    problem: String,
    content_type: String,
    retry_after: bool,
    started: Instant,
    elapsed: Duration,
}

impl Attempt {
    fn of(receipt: &str, started: Instant, r: &Reply) -> Attempt {
        Attempt {
            receipt: receipt.to_owned(),
            status: r.status,
            problem: r.body["type"]
                .as_str()
                .and_then(|t| t.rsplit('/').next())
                .unwrap_or_default()
                .to_owned(),
            content_type: r
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            retry_after: r.headers.contains_key("retry-after"),
            started,
            elapsed: started.elapsed(),
        }
    }

    /// A clean refusal: `status` problem+json of `problem`, with `Retry-After` for a 503, in
    /// bounded time.
    fn assert_refused(&self, status: u16, problem: &str) {
        assert_eq!(
            (
                self.status,
                self.problem.as_str(),
                self.content_type.as_str()
            ),
            (status, problem, "application/problem+json"),
            "{self:?}"
        );
        assert!(
            self.retry_after || status != 503,
            "503 without Retry-After: {self:?}"
        );
        assert!(self.elapsed < BOUND, "answered too late: {self:?}");
    }
}

fn donate(w: &World, receipt: &str) -> Attempt {
    let started = Instant::now();
    let r = w.s.post_with(
        &format!("/organizations/{ORG}/donations"),
        Some(&w.charity),
        &donation(
            receipt,
            "2020-02-01T10:00:00Z",
            money("10.00"),
            undesignated(),
        ),
        Some(receipt),
    );
    Attempt::of(receipt, started, &r)
}

fn get(s: &Server, path: &str) -> Attempt {
    let started = Instant::now();
    let r = s.get(path);
    Attempt::of(path, started, &r)
}

/// One writer of the load: donations `{prefix}-{n}` in turn, each retried with its
/// Idempotency-Key until it is acknowledged, until `stop`.
fn write_until(w: &World, prefix: &str, stop: &AtomicBool, attempts: &Mutex<Vec<Attempt>>) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let a = donate(w, &format!("{prefix}-{n}"));
        let acknowledged = a.status == 201;
        attempts.lock().expect("attempts").push(a);
        if acknowledged {
            n += 1;
        } else {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Raises the flag when dropped: the load stops also when the test fails while it runs (the
/// scope would otherwise wait for its writers forever).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Wait until `done`, at most [`RECOVERY`]; how long it took.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < RECOVERY, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
    start.elapsed()
}

/// The log holds every acknowledged donation exactly once, and nothing that was never sent.
fn assert_every_acknowledged_write_once(s: &Server, attempts: &[Attempt]) -> usize {
    let logged = receipts(s, ORG);
    for (receipt, n) in &logged {
        assert_eq!(*n, 1, "{receipt} is in the log {n} times");
    }
    let mut acknowledged = 0;
    for a in attempts.iter().filter(|a| a.status == 201) {
        assert!(
            logged.contains_key(&a.receipt),
            "acknowledged {} is lost",
            a.receipt
        );
        acknowledged += 1;
    }
    for receipt in logged.keys() {
        assert!(
            attempts.iter().any(|a| &a.receipt == receipt),
            "{receipt} was never sent"
        );
    }
    acknowledged
}

/// `givetrail audit` against the server and `givetrail rebuild --check` on its database.
fn assert_verifies(s: &Server) {
    let (ok, out) = s.audit(&[]);
    assert!(ok, "audit: {out}");
    eprintln!("givetrail audit: {}", out.trim().replace('\n', " | "));
    let (ok, out, err) = s.db.cli(&["rebuild", "--check"]);
    assert!(
        ok && out.contains(", 0 difference(s)"),
        "rebuild --check: {out}{err}"
    );
    eprintln!("givetrail rebuild --check: {}", out.trim());
}

#[test]
fn postgres_stopped_under_load_answers_503_and_the_service_recovers_by_itself() {
    if !postgres_pass("the PostgreSQL outage test") {
        return;
    }
    let cluster = Cluster::create(tag("gt_outage"), &[]);
    cluster.start();
    let w = world_on(Server::start_with(
        TestDb::on_server(&cluster.server()),
        &["serve"],
    ));
    let pid = w.s.pid();
    let attempts = Mutex::new(Vec::new());
    for mode in ["fast", "immediate"] {
        let stop = AtomicBool::new(false);
        let mut reads = Vec::new();
        let (mut stopped, mut restarted) = (Instant::now(), Instant::now());
        std::thread::scope(|scope| {
            for t in 0..WRITERS {
                let (w, stop, attempts) = (&w, &stop, &attempts);
                scope.spawn(move || write_until(w, &format!("{mode}-{t}"), stop, attempts));
            }
            let _stop = StopOnDrop(&stop);
            std::thread::sleep(Duration::from_secs(1));
            stopped = Instant::now();
            cluster.stop(mode);
            eprintln!("pg_ctlcluster stop -m {mode}: {:?}", stopped.elapsed());
            // Down: writes keep coming; reads of every kind are refused too.
            std::thread::sleep(Duration::from_secs(1));
            for path in [
                format!("/organizations/{ORG}/entries?limit=10"),
                format!("/organizations/{ORG}/summary"),
                format!("/organizations/{ORG}/checkpoints/latest"),
            ] {
                reads.push(get(&w.s, &path));
            }
            std::thread::sleep(Duration::from_secs(2));
            cluster.start();
            restarted = Instant::now();
            let took = wait_for("a write acknowledged after the restart", || {
                let a = attempts.lock().expect("attempts");
                a.iter().any(|a| a.status == 201 && a.started > restarted)
            });
            eprintln!("{mode}: first write acknowledged {took:?} after PostgreSQL was started");
            std::thread::sleep(Duration::from_millis(500));
            stop.store(true, Ordering::Relaxed);
        });
        for r in &reads {
            r.assert_refused(503, "database-unavailable");
        }
        let a = attempts.lock().expect("attempts");
        let phase: Vec<&Attempt> = a.iter().filter(|a| a.receipt.starts_with(mode)).collect();
        for a in &phase {
            if a.status != 201 {
                a.assert_refused(503, "database-unavailable");
            }
        }
        let during = |a: &&&Attempt| a.started > stopped && a.started < restarted;
        let refused = phase.iter().filter(|a| a.status == 503).count();
        let acknowledged = phase.iter().filter(|a| a.status == 201).count();
        let slowest = phase
            .iter()
            .filter(|a| a.status == 503)
            .map(|a| a.elapsed)
            .max()
            .unwrap_or_default();
        assert!(
            phase.iter().filter(during).any(|a| a.status == 503),
            "no write met the outage"
        );
        eprintln!(
            "stop -m {mode}: {acknowledged} writes acknowledged (201), {refused} refused (503 \
             database-unavailable, Retry-After; slowest {slowest:?}), reads during the outage: {:?}",
            reads.iter().map(|r| r.status).collect::<Vec<_>>()
        );
    }
    assert_eq!(w.s.pid(), pid, "the same server process throughout");
    let attempts = attempts.into_inner().expect("attempts");
    let acknowledged = assert_every_acknowledged_write_once(&w.s, &attempts);
    eprintln!("{acknowledged} acknowledged donations, each in the log exactly once");
    assert_verifies(&w.s);
    drop(w);
    drop(cluster);
}

/// A tmpfs of a few MiB mounted for one test, unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mount one of `mib` MiB; `None` (with the reason printed) only when not root.
    fn mount(mib: u32) -> Option<Tmpfs> {
        let path = std::env::temp_dir().join(tag("givetrail-full"));
        std::fs::create_dir_all(&path).expect("mount point");
        let size = format!("size={mib}m");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &size, "tmpfs"])
            .arg(&path)
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(Tmpfs { path }),
            _ if run("id", &["-u"]).trim() != "0" => {
                eprintln!("the full-disk test mounts a tmpfs, which needs root; not run");
                let _ = std::fs::remove_dir(&path);
                None
            }
            other => panic!("cannot mount a tmpfs at {}: {other:?}", path.display()),
        }
    }

    fn resize(&self, mib: u32) {
        let path = self.path.to_string_lossy();
        run("mount", &["-o", &format!("remount,size={mib}m"), &path]);
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).output();
        let _ = std::fs::remove_dir(&self.path);
    }
}

fn batch(w: &World, receipts: &[String]) -> Reply {
    let donations: Vec<Value> = receipts
        .iter()
        .map(|r| donation(r, "2020-02-01T10:00:00Z", money("1.00"), undesignated()))
        .collect();
    w.s.post(
        &format!("/organizations/{ORG}/donations/batch"),
        Some(&w.charity),
        &json!({ "donations": donations }),
    )
}

#[test]
fn a_full_disk_refuses_writes_with_507_while_reads_go_on_and_all_is_consistent_after() {
    let Some(disk) = Tmpfs::mount(4) else {
        return;
    };
    let w = world_on(Server::start_with(
        TestDb::sqlite_in(&disk.path),
        &["serve"],
    ));
    let mut attempts = Vec::new();
    // Fill it: batches of 100 until one is refused, then single donations until one is.
    let mut refused_batch = None;
    for b in 0..1000 {
        let receipts: Vec<String> = (0..100).map(|i| format!("B-{b}-{i}")).collect();
        let started = Instant::now();
        let r = batch(&w, &receipts);
        if r.status != 201 {
            let a = Attempt::of(&receipts[0], started, &r);
            a.assert_refused(507, "storage-full");
            refused_batch = Some(receipts);
            break;
        }
        attempts.extend(
            receipts
                .iter()
                .map(|receipt| Attempt::of(receipt, started, &r)),
        );
    }
    let refused_batch = refused_batch.expect("4 MiB filled within 100,000 donations");
    for n in 0.. {
        assert!(n < 100_000, "single donations never filled the disk");
        let a = donate(&w, &format!("S-{n}"));
        let full = a.status != 201;
        attempts.push(a);
        if full {
            break;
        }
    }
    // Full: more writes are refused (or, where a freed page fits one, made), never a 500.
    for i in 0..20 {
        attempts.push(donate(&w, &format!("F-{i}")));
    }
    for a in attempts.iter().filter(|a| a.status != 201) {
        a.assert_refused(507, "storage-full");
    }
    let refused = attempts.iter().filter(|a| a.status == 507).count();
    eprintln!(
        "tmpfs of 4 MiB full after {} acknowledged donations; {refused} single writes and a batch \
         refused with 507 storage-full",
        attempts.iter().filter(|a| a.status == 201).count()
    );
    // Reads go on.
    for path in [
        format!("/organizations/{ORG}/entries?limit=1000"),
        format!("/organizations/{ORG}/summary"),
        format!("/organizations/{ORG}/checkpoints/latest"),
        format!("/organizations/{ORG}/donations/B-0-0/trail"),
    ] {
        let a = get(&w.s, &path);
        assert_eq!(a.status, 200, "{a:?}");
    }
    let page = reqwest::blocking::get(format!("{}/organizations/{ORG}", w.s.base)).expect("GET");
    assert_eq!(page.status().as_u16(), 200, "the organisation's page");
    // Space returns: the same server writes again at once.
    disk.resize(64);
    let a = donate(&w, "AFTER-1");
    assert_eq!(a.status, 201, "{a:?}");
    attempts.push(a);
    let again: Vec<String> = (0..100).map(|i| format!("AFTER-B-{i}")).collect();
    let r = batch(&w, &again);
    assert_eq!(r.status, 201, "{:?}", r.body);
    let started = Instant::now();
    attempts.extend(
        again
            .iter()
            .map(|receipt| Attempt::of(receipt, started, &r)),
    );
    // A refused write wrote nothing; every acknowledged one is there once.
    let logged = receipts(&w.s, ORG);
    for receipt in refused_batch.iter().chain(
        attempts
            .iter()
            .filter(|a| a.status == 507)
            .map(|a| &a.receipt),
    ) {
        assert!(
            !logged.contains_key(receipt),
            "refused {receipt} was written"
        );
    }
    let acknowledged = assert_every_acknowledged_write_once(&w.s, &attempts);
    eprintln!("after remount,size=64m: {acknowledged} acknowledged donations, each once");
    let (ok, out) = w.s.db.sql("PRAGMA integrity_check");
    assert!(ok && out.trim() == "ok", "{out}");
    assert_verifies(&w.s);
    drop(w);
    drop(disk);
}

#[test]
fn a_pg_dump_taken_under_load_restores_verifies_and_serves_the_same_heads() {
    if !postgres_pass("the pg_dump test") {
        return;
    }
    let w = world();
    // A log nobody writes to during the dump: its head comes back exactly.
    let r = w.s.post(
        &format!("/organizations/{OTHER_ORG}/donations"),
        Some(&w.other_charity),
        &donation("Q-1", "2020-02-01T10:00:00Z", money("5.00"), undesignated()),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let dump = w.s.db.dir.join("givetrail.dump");
    let dump_path = dump.to_string_lossy().into_owned();
    let stop = AtomicBool::new(false);
    let attempts = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..2 {
            let (w, stop, attempts) = (&w, &stop, &attempts);
            scope.spawn(move || write_until(w, &format!("D-{t}"), stop, attempts));
        }
        let _stop = StopOnDrop(&stop);
        std::thread::sleep(Duration::from_millis(500));
        run(
            "pg_dump",
            &[
                "--format=custom",
                "--serializable-deferrable",
                "--file",
                &dump_path,
                &w.s.db.url,
            ],
        );
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
    });
    let attempts = attempts.into_inner().expect("attempts");
    assert!(attempts.iter().all(|a| a.status == 201), "the load wrote");
    let server = std::env::var("GIVETRAIL_TEST_POSTGRES").expect("the PostgreSQL pass");
    let restored = TestDb::on_server(&server);
    run(
        "pg_restore",
        &[
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            &restored.url,
            &dump_path,
        ],
    );
    // The signing key is not in the dump: it is copied beside it.
    std::fs::copy(w.s.db.signing_key(), restored.signing_key()).expect("the signing key");
    let r = Server::start_with(restored, &["serve"]);
    for org in [ORG, OTHER_ORG] {
        let live = w.s.log(org);
        let back = r.log(org);
        assert!(back.len() <= live.len());
        assert!(
            org == ORG || back.len() == live.len(),
            "{org}: the whole log"
        );
        let hashes =
            |log: &[Value]| -> Vec<Value> { log.iter().map(|e| e["entry_hash"].clone()).collect() };
        assert_eq!(
            hashes(&back),
            hashes(&live[..back.len()]),
            "{org}: a prefix"
        );
        // The head the restore serves is one the live server signed, signature and all.
        let head = r.get(&format!("/organizations/{org}/checkpoints/latest"));
        assert_eq!(head.status, 200, "{:?}", head.body);
        let size = head.body["tree_size"].as_i64().expect("tree_size");
        let signed = w.s.get(&format!(
            "/organizations/{org}/checkpoints?after={}&limit=1",
            size - 1
        ));
        assert_eq!(signed.body["checkpoints"][0], head.body, "{org}");
        eprintln!("{org}: restored head {size} of {} live entries", live.len());
    }
    let in_dump = receipts(&r, ORG).len();
    assert!(
        in_dump > 0 && in_dump < attempts.len(),
        "the dump was taken mid-load"
    );
    assert_verifies(&r);
    // `givetrail restore` points at pg_restore for a pg_dump archive or a PostgreSQL target;
    // `givetrail backup` at pg_dump.
    let (ok, _, err) =
        w.s.db
            .cli(&["restore", "--from", &dump_path, "--to", "x.db"]);
    assert!(!ok && err.contains("pg_restore --no-owner"), "{err}");
    let (ok, _, err) = w.s.db.cli(&["backup", "--to", "x.db"]);
    assert!(!ok && err.contains("pg_dump --format=custom"), "{err}");
}

#[test]
fn backup_and_restore_refuse_postgresql_before_connecting() {
    let unreachable = "postgres://nobody@127.0.0.1:1/nothing";
    let out = Command::new(BIN)
        .args([
            "backup",
            "--database-url",
            unreachable,
            "--to",
            "/nonexistent/x.db",
        ])
        .output()
        .expect("backup");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("pg_dump --format=custom"),
        "{err}"
    );
    assert!(err.contains("signing key"), "{err}");
    let out = Command::new(BIN)
        .args([
            "restore",
            "--from",
            "/nonexistent/x.db",
            "--to",
            unreachable,
        ])
        .output()
        .expect("restore");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("pg_restore --no-owner"),
        "{err}"
    );
}
