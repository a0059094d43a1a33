//! Test harness: a real `givetrail serve` process on a fresh database, spoken to over HTTP.
//!
//! Backend: SQLite in a temporary file, or PostgreSQL when `GIVETRAIL_TEST_POSTGRES` holds a server
//! URL such as `postgres://postgres@127.0.0.1:5432` (a fresh database is created per test and
//! dropped after it). If that variable is set and PostgreSQL is unreachable, tests fail.
//!
//! Citus: `GIVETRAIL_TEST_CITUS` holds the coordinator's server URL (`.ci/citus-cluster` prints
//! it), and wins over `GIVETRAIL_TEST_POSTGRES`. Each test's database is made on the coordinator
//! and on every worker (read from the coordinator's `postgres` database), with the `citus`
//! extension in each and the workers registered in the coordinator's copy, so the server's
//! migrations distribute the tables there. Dropped on every node afterwards.
#![allow(dead_code)]

pub mod cluster;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_givetrail");

/// A file of the checkout the tests run from. `cargo test` starts each test binary in the package
/// root, so this is resolved at run time rather than baked in with `CARGO_MANIFEST_DIR`: a binary
/// built in one clone and reused from a shared target folder by another still reads its own
/// checkout's files.
#[allow(dead_code)]
pub fn repo_file(relative: &str) -> PathBuf {
    std::env::current_dir()
        .expect("the test's working directory")
        .join(relative)
}

/// Where the servers' logs and the secrets they issued go, when `GIVETRAIL_TEST_LOG_DIR` is set:
/// `scripts/test` (and `.ci/run` on PostgreSQL) set it for the whole suite, then
/// `scripts/scan-logs` fails the run if any key or complaint tracking code issued to a test
/// appears in any server's log. Servers log at debug level there, so the scan sees everything.
fn log_dir() -> Option<PathBuf> {
    std::env::var_os("GIVETRAIL_TEST_LOG_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether a field's string value is a secret: an API key, or a complaint's tracking code (five
/// groups of four characters, the key to the complaint's status).
fn is_secret(field: &str, value: &str) -> bool {
    let tracking_code =
        value.len() == 24 && value.split('-').map(str::len).eq(std::iter::repeat_n(4, 5));
    field == "key" || (field == "code" && tracking_code)
}

/// Note the secrets in `values` (keys, tracking codes) for the log scan, if the suite keeps logs.
pub fn record_secrets<'a>(values: impl IntoIterator<Item = &'a str>) {
    use std::io::Write as _;
    let Some(dir) = log_dir() else { return };
    let lines: String = values
        .into_iter()
        .filter(|v| v.len() >= 8)
        .map(|v| format!("{v}\n"))
        .collect();
    if lines.is_empty() {
        return;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("secrets.txt"));
    file.and_then(|mut f| f.write_all(lines.as_bytes()))
        .expect("record the secrets issued to this test");
}

/// The secret strings anywhere in a response body.
fn secrets_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match x {
                    Value::String(s) if is_secret(k, s) => out.push(s.clone()),
                    _ => secrets_in(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| secrets_in(x, out)),
        _ => {}
    }
}

/// A new scratch folder: the SQLite file (unless elsewhere) and the signing key of one test.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("givetrail-test"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh database for one test.
pub struct TestDb {
    pub url: String,
    pg: Option<(String, String)>,
    /// On Citus: the workers' server URLs (the database of the same name exists on each).
    citus_workers: Vec<String>,
    /// Scratch directory of this test: the SQLite file (if any) and the signing key.
    pub dir: PathBuf,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u32>())
}

impl TestDb {
    /// A fresh database of this test pass with the service's schema in it (on PostgreSQL and
    /// Citus; a SQLite file is made by the first command that opens it).
    pub fn new() -> TestDb {
        Self::fresh(true)
    }

    /// A fresh database of this test pass with nothing in it, for a test of what happens before
    /// the service's migrations run.
    pub fn empty() -> TestDb {
        Self::fresh(false)
    }

    fn fresh(migrated: bool) -> TestDb {
        if let Some(coordinator) = citus_server() {
            let workers = citus_workers_of(&coordinator);
            return if migrated {
                TestDb::copy_of_template(&coordinator, &workers)
            } else {
                TestDb::on_citus(&coordinator, &workers)
            };
        }
        match std::env::var("GIVETRAIL_TEST_POSTGRES") {
            Ok(server) if !server.is_empty() && migrated => TestDb::copy_of_template(&server, &[]),
            Ok(server) if !server.is_empty() => TestDb::on_server(&server),
            _ => {
                let dir = scratch();
                TestDb {
                    url: dir.join("test.db").to_string_lossy().into_owned(),
                    pg: None,
                    citus_workers: Vec::new(),
                    dir,
                }
            }
        }
    }

    /// A fresh database with the service's schema on the PostgreSQL server at `server`, or on the
    /// Citus cluster of coordinator `server` and `workers`: a copy of the template of this
    /// checkout's migrations ([`template`]), made on each node. Copying takes a tenth of a second
    /// per node where migrating takes seconds on Citus (the extension, distributing the tables).
    fn copy_of_template(server: &str, workers: &[String]) -> TestDb {
        let template = template(server, workers);
        let dir = scratch();
        let name = unique("givetrail_test");
        for node in workers.iter().map(String::as_str).chain([server]) {
            psql(node, &format!("CREATE DATABASE {name} TEMPLATE {template}"));
        }
        if !workers.is_empty() {
            // Database settings are not copied with the database.
            few_shards(server, &name);
        }
        TestDb {
            url: format!("{server}/{name}"),
            pg: Some((server.to_owned(), name)),
            citus_workers: workers.to_vec(),
            dir,
        }
    }

    /// A fresh, empty database on the PostgreSQL server at `server` (`postgres://user@host:port`).
    pub fn on_server(server: &str) -> TestDb {
        let dir = scratch();
        let name = unique("givetrail_test");
        psql(server, &format!("CREATE DATABASE {name}"));
        TestDb {
            url: format!("{server}/{name}"),
            pg: Some((server.to_owned(), name)),
            citus_workers: Vec::new(),
            dir,
        }
    }

    /// A SQLite database `test.db` in `data` (made if missing), whatever the test pass; the
    /// signing key goes to a scratch folder of its own.
    pub fn sqlite_in(data: &std::path::Path) -> TestDb {
        std::fs::create_dir_all(data).expect("data dir");
        TestDb {
            url: data.join("test.db").to_string_lossy().into_owned(),
            pg: None,
            citus_workers: Vec::new(),
            dir: scratch(),
        }
    }

    /// A fresh database, without the service's schema, on a given Citus cluster: the
    /// coordinator's and the workers' server URLs (`postgres://user@host:port`).
    pub fn on_citus(coordinator: &str, workers: &[String]) -> TestDb {
        let dir = scratch();
        let name = unique("givetrail_test");
        citus_database(coordinator, &name, workers);
        TestDb {
            url: format!("{coordinator}/{name}"),
            pg: Some((coordinator.to_owned(), name)),
            citus_workers: workers.to_vec(),
            dir,
        }
    }

    /// The checkpoint signing key file of this deployment.
    pub fn signing_key(&self) -> String {
        self.dir.join("signing.key").to_string_lossy().into_owned()
    }

    /// A copy of this database and its signing key (the server must be stopped).
    pub fn fork(&self) -> TestDb {
        let dir = std::env::temp_dir().join(unique("givetrail-fork"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::copy(self.signing_key(), dir.join("signing.key")).expect("copy the signing key");
        match &self.pg {
            Some((server, name)) => {
                let copy = unique("givetrail_fork");
                // On Citus the copy is made on every node from the same-named database (the
                // shards keep their ids, so the copies form a cluster of their own).
                for node in self.citus_workers.iter().chain(std::iter::once(server)) {
                    copy_database(node, name, &copy, self.is_citus());
                }
                TestDb {
                    url: format!("{server}/{copy}"),
                    pg: Some((server.clone(), copy)),
                    citus_workers: self.citus_workers.clone(),
                    dir,
                }
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let from = format!("{}{suffix}", self.url);
                    if std::path::Path::new(&from).exists() {
                        std::fs::copy(&from, dir.join(format!("test.db{suffix}")))
                            .expect("copy the database");
                    }
                }
                TestDb {
                    url: dir.join("test.db").to_string_lossy().into_owned(),
                    pg: None,
                    citus_workers: Vec::new(),
                    dir,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Whether this database is distributed over a Citus cluster.
    pub fn is_citus(&self) -> bool {
        !self.citus_workers.is_empty()
    }

    /// On Citus, the workers' server URLs (`postgres://…:port`, no database).
    pub fn citus_workers(&self) -> &[String] {
        &self.citus_workers
    }

    /// The database's name on its server (PostgreSQL and Citus only).
    pub fn pg_name(&self) -> Option<&str> {
        self.pg.as_ref().map(|(_, name)| name.as_str())
    }

    /// Run SQL directly against the database with the backend's own CLI; returns (success, output).
    pub fn sql(&self, statement: &str) -> (bool, String) {
        let out = match &self.pg {
            // On Citus a test tampering with triggers acts as a database owner would, with the
            // setting Citus asks for before trigger DDL on distributed tables.
            Some(_) => Command::new("psql")
                .args([&self.url, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement])
                .env("PGOPTIONS", "-c citus.enable_unsafe_triggers=on")
                .output(),
            None => Command::new("sqlite3")
                .args([&self.url, statement])
                .output(),
        }
        .expect("run the database CLI");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success() && !text.contains("Error"), text)
    }

    /// Run a givetrail subcommand against this database; returns (status ok, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(BIN)
            .current_dir(&self.dir)
            .args(args)
            .env("GIVETRAIL_DATABASE_URL", &self.url)
            .output()
            .expect("run givetrail");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// The Citus coordinator to test on, if `GIVETRAIL_TEST_CITUS` is set.
pub fn citus_server() -> Option<String> {
    std::env::var("GIVETRAIL_TEST_CITUS")
        .ok()
        .filter(|v| !v.is_empty())
}

/// The workers of the Citus cluster whose coordinator is `coordinator`, as registered in its
/// `postgres` database (`.ci/citus-cluster` registers them there).
pub fn citus_workers_of(coordinator: &str) -> Vec<String> {
    let nodes = psql_in(
        &format!("{coordinator}/postgres"),
        "SELECT nodename || ':' || nodeport FROM pg_dist_node \
         WHERE groupid <> 0 AND noderole = 'primary' ORDER BY nodeport",
    );
    let workers: Vec<String> = nodes
        .lines()
        .map(|n| format!("postgres://postgres@{}", n.trim()))
        .collect();
    assert!(
        !workers.is_empty(),
        "the Citus coordinator at {coordinator} (GIVETRAIL_TEST_CITUS) has no workers: run .ci/citus-cluster"
    );
    workers
}

/// `host` and `port` of a server URL `postgres://user@host:port`.
pub fn host_port(server: &str) -> (String, u16) {
    let (host, port) = server
        .rsplit('@')
        .next()
        .and_then(|h| h.split_once(':'))
        .unwrap_or_else(|| panic!("{server} is not postgres://user@host:port"));
    (host.to_owned(), port.parse().expect("a port number"))
}

/// Make database `name` on a Citus cluster: on the coordinator and each worker, with the
/// extension, the workers registered in the coordinator's copy, and few shards (4 per table
/// instead of Citus's 32: each test database is small and made afresh).
fn citus_database(coordinator: &str, name: &str, workers: &[String]) {
    for node in std::iter::once(coordinator).chain(workers.iter().map(String::as_str)) {
        psql(node, &format!("CREATE DATABASE {name}"));
        psql_in(&format!("{node}/{name}"), "CREATE EXTENSION citus");
    }
    few_shards(coordinator, name);
    let (host, port) = host_port(coordinator);
    let mut register = format!("SELECT citus_set_coordinator_host('{host}', {port});");
    for w in workers {
        let (host, port) = host_port(w);
        register.push_str(&format!("SELECT citus_add_node('{host}', {port});"));
    }
    // Registering a node copies the cluster's roles to it: two test databases registering at
    // once may collide there ("tuple concurrently updated"), and the statement is then tried again.
    let url = format!("{coordinator}/{name}");
    psql_retrying(&[&url, "-c", &register], "concurrently");
}

/// The template database of this checkout's migrations on `server` (with `workers`, a Citus
/// cluster): `givetrail_tpl_<`[`migrations_digest`]`>`, made on first use by the service's own
/// migration code (`givetrail_store::db::migrate`), on Citus after the extension is created and
/// the workers registered, as for [`TestDb::on_citus`]. It is closed to connections, since a
/// database is copied only while nobody is connected to it and Citus's maintenance daemon
/// connects to every database with the extension. Templates of other migrations, and any
/// half-made one a failed test run left, are dropped when a new one is made. A lock file keeps
/// two test processes from making it at once.
fn template(server: &str, workers: &[String]) -> String {
    use sha2::{Digest, Sha256};
    static MADE: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut made = MADE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, name)) = made.iter().find(|(s, _)| s == server) {
        return name.clone();
    }
    let name = format!("givetrail_tpl_{}", migrations_digest());
    let nodes: Vec<&str> = workers.iter().map(String::as_str).chain([server]).collect();
    let lock_path = std::env::temp_dir().join(format!(
        "givetrail-test-template-{}.lock",
        hex::encode(Sha256::digest(server.as_bytes()))
    ));
    let lock = std::fs::File::create(&lock_path).expect("the template's lock file");
    lock.lock().expect("lock the template's lock file");
    let exists = |node: &str, db: &str| {
        psql_in(
            &format!("{node}/postgres"),
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'"),
        )
        .trim()
            == "1"
    };
    if !nodes.iter().all(|node| exists(node, &name)) {
        let fresh = unique("givetrail_tplnew");
        if workers.is_empty() {
            psql(server, &format!("CREATE DATABASE {fresh}"));
        } else {
            citus_database(server, &fresh, workers);
        }
        let backend = givetrail_store::Backend::from_url(&format!("{server}/{fresh}"));
        let mut conn = givetrail_store::db::establish(&backend).expect("connect to the template");
        givetrail_store::db::migrate(&mut conn).expect("migrate the template");
        drop(conn);
        for node in &nodes {
            let old = psql_in(
                &format!("{node}/postgres"),
                &format!(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'givetrail\\_tpl%' \
                     AND datname <> '{fresh}'"
                ),
            );
            for db in old.lines().filter(|db| !db.is_empty()) {
                psql(node, &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
            psql_retrying(
                &[
                    &format!("{node}/postgres"),
                    "-c",
                    &format!("ALTER DATABASE {fresh} ALLOW_CONNECTIONS false"),
                    "-c",
                    &end_sessions(&fresh),
                    "-c",
                    &format!("ALTER DATABASE {fresh} RENAME TO {name}"),
                ],
                "being accessed by other users",
            );
        }
    }
    drop(lock);
    made.push((server.to_owned(), name.clone()));
    name
}

/// The first 16 hex digits of a SHA-256 of this checkout's PostgreSQL migrations (each file's
/// path under the folder, then its bytes, in path order).
fn migrations_digest() -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    let root = repo_file("crates/givetrail-store/migrations/postgres");
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("the PostgreSQL migrations") {
            let path = entry.expect("a migration file").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut digest = Sha256::new();
    for file in &files {
        digest.update(
            file.strip_prefix(&root)
                .expect("under the root")
                .to_string_lossy()
                .as_bytes(),
        );
        digest.update(std::fs::read(file).expect("read a migration"));
    }
    hex::encode(digest.finalize())[..16].to_owned()
}

/// Citus's shards per table for database `name` of `coordinator`: 4 instead of 32, each test
/// database being small and made afresh.
fn few_shards(coordinator: &str, name: &str) {
    psql(
        coordinator,
        &format!("ALTER DATABASE {name} SET citus.shard_count = 4"),
    );
}

/// Run psql with `args` (after the connection's options), again while it fails saying `transient`
/// (at most 20 times); fails the test on any other error.
fn psql_retrying(args: &[&str], transient: &str) {
    for attempt in 0.. {
        let out = Command::new("psql")
            .args(["-v", "ON_ERROR_STOP=1", "-At"])
            .args(args)
            .output()
            .expect("psql");
        if out.status.success() {
            return;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            attempt < 20 && err.contains(transient),
            "psql {args:?} failed: {err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(
            100 + u64::from(rand::random::<u8>()),
        ));
    }
}

/// The statement that ends every other session connected to database `db`.
fn end_sessions(db: &str) -> String {
    format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = '{db}' AND pid <> pg_backend_pid()"
    )
}

/// `CREATE DATABASE to TEMPLATE from` on `server`. On Citus the template is never idle (the
/// extension's maintenance daemon and the coordinator's cached connections stay connected), so
/// those sessions are ended first, and the copy is tried again if one came back in between.
fn copy_database(server: &str, from: &str, to: &str, citus: bool) {
    if !citus {
        psql(server, &format!("CREATE DATABASE {to} TEMPLATE {from}"));
        return;
    }
    psql_retrying(
        &[
            &format!("{server}/postgres"),
            "-c",
            &end_sessions(from),
            "-c",
            &format!("CREATE DATABASE {to} TEMPLATE {from}"),
        ],
        "being accessed by other users",
    );
}

/// Run `statement` in database `url`; its output (`-At`). Fails the test if it fails.
pub fn psql_in(url: &str, statement: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement])
        .output()
        .expect("psql must be installed for the PostgreSQL run");
    assert!(
        out.status.success(),
        "`{statement}` failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn psql(server: &str, statement: &str) {
    let out = Command::new("psql")
        .args([
            &format!("{server}/postgres"),
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            statement,
        ])
        .output()
        .expect("psql must be installed for the PostgreSQL run");
    assert!(
        out.status.success(),
        "PostgreSQL at {server} is required (GIVETRAIL_TEST_POSTGRES is set) but `{statement}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.pg {
            for node in std::iter::once(server).chain(&self.citus_workers) {
                let _ = Command::new("psql")
                    .args([
                        &format!("{node}/postgres"),
                        "-c",
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    ])
                    .output();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running server on a fresh database, with a national regulator key.
pub struct Server {
    pub base: String,
    pub regulator: String,
    pub db: TestDb,
    child: Child,
    http: reqwest::blocking::Client,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with(TestDb::new(), &["serve"])
    }

    /// `givetrail demo` on a fresh database, with the fixtures built into the binary (the server
    /// runs in the database's temporary folder, so nothing is read from the repository).
    pub fn demo() -> Server {
        Self::start_with(TestDb::new(), &["demo"])
    }

    pub fn start_with(db: TestDb, args: &[&str]) -> Server {
        Self::start_logging(db, args, None)
    }

    /// Start with the server's log (stderr) written to `log` (at debug level).
    pub fn start_logging(db: TestDb, args: &[&str], log: Option<&std::path::Path>) -> Server {
        let (ok, key, err) = db.cli(&["keys", "create", "--role", "regulator"]);
        assert!(ok, "keys create failed: {err}");
        let regulator = key.trim().to_owned();
        assert!(
            !regulator.is_empty() && !regulator.contains(' '),
            "keys create prints the key alone: {key:?}"
        );
        record_secrets([regulator.as_str()]);
        let suite_log = log_dir().map(|d| d.join(format!("{}.log", unique("server"))));
        let log = log.map(std::path::Path::to_path_buf).or(suite_log);
        let mut child = Command::new(BIN)
            .current_dir(&db.dir)
            .args(args)
            .args(["--bind", "127.0.0.1:0", "--signing-key", &db.signing_key()])
            .env("GIVETRAIL_DATABASE_URL", &db.url)
            .env("RUST_LOG", if log.is_some() { "debug" } else { "warn" })
            .stdout(Stdio::piped())
            .stderr(match &log {
                Some(p) => Stdio::from(std::fs::File::create(p).expect("log file")),
                None => Stdio::inherit(),
            })
            .spawn()
            .expect("start givetrail");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("read the listening line");
        // Keep draining: the server may print more (demo keys), and a closed pipe would kill it.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("server did not report its address: {line:?}"))
            .to_owned();
        let http = reqwest::blocking::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            // The server closes a keep-alive connection after 5 s idle (actix's default); a
            // request sent on it just then fails with `IncompleteMessage`, which once failed a
            // Citus test reading the log after its outage phase. Idle connections are dropped
            // here first.
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("client");
        Server {
            base,
            regulator,
            db,
            child,
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// A response as status, JSON body (or the text as a string) and headers.
    pub fn reply(r: reqwest::blocking::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let mut secrets = Vec::new();
        secrets_in(&body, &mut secrets);
        record_secrets(secrets.iter().map(String::as_str));
        Reply {
            status,
            body,
            headers,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        Self::reply(self.http.get(self.url(path)).send().expect("GET"))
    }

    pub fn post(&self, path: &str, key: Option<&str>, body: &Value) -> Reply {
        self.post_with(path, key, body, None)
    }

    pub fn post_with(
        &self,
        path: &str,
        key: Option<&str>,
        body: &Value,
        idempotency: Option<&str>,
    ) -> Reply {
        let mut req = self.http.post(self.url(path)).json(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(i) = idempotency {
            req = req.header("Idempotency-Key", i);
        }
        Self::reply(req.send().expect("POST"))
    }

    /// POST a body of any content type (CSV uploads) with a key.
    pub fn post_typed(&self, path: &str, key: &str, content_type: &str, body: &str) -> Reply {
        let req = self
            .http
            .post(self.url(path))
            .bearer_auth(key)
            .header("Content-Type", content_type)
            .body(body.to_owned());
        Self::reply(req.send().expect("POST"))
    }

    /// GET with a key.
    pub fn get_keyed(&self, path: &str, key: &str) -> Reply {
        Self::reply(
            self.http
                .get(self.url(path))
                .bearer_auth(key)
                .send()
                .expect("GET"),
        )
    }

    pub fn delete(&self, path: &str, key: Option<&str>) -> Reply {
        let mut req = self.http.delete(self.url(path));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        Self::reply(req.send().expect("DELETE"))
    }

    pub fn post_raw(&self, path: &str, key: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        Self::reply(req.send().expect("POST"))
    }

    /// Every entry of an organisation's log.
    pub fn log(&self, org: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let r = self.get(&format!(
                "/organizations/{org}/entries?after={after}&limit=1000"
            ));
            assert_eq!(r.status, 200, "{:?}", r.body);
            let items = r.body["entries"].as_array().cloned().unwrap_or_default();
            out.extend(items);
            match r.body["meta"]["next"].as_str() {
                Some(n) => after = n.parse().expect("cursor"),
                None => return out,
            }
        }
    }
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for the server to exit on its own; returns its database and exit code.
    pub fn wait_exit(mut self) -> (TestDb, Option<i32>) {
        let code = self.child.wait().ok().and_then(|s| s.code());
        (std::mem::replace(&mut self.db, TestDb::placeholder()), code)
    }

    /// SIGKILL the server process without waiting (the handle stays usable for `stop`).
    pub fn kill_now(&self) {
        let _ = Command::new("kill")
            .args(["-9", &self.child.id().to_string()])
            .status();
    }

    /// Stop the server (SIGKILL) and hand back its database.
    pub fn stop(mut self) -> TestDb {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Let PostgreSQL notice the closed connections before the database is copied or dropped.
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::mem::replace(&mut self.db, TestDb::placeholder())
    }

    /// Run `givetrail audit` against this server; returns (exit ok, stdout).
    pub fn audit(&self, extra: &[&str]) -> (bool, String) {
        let out = Command::new(BIN)
            .arg("audit")
            .arg(&self.base)
            .args(extra)
            .output()
            .expect("run audit");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl TestDb {
    fn placeholder() -> TestDb {
        TestDb {
            url: String::new(),
            pg: None,
            citus_workers: Vec::new(),
            dir: PathBuf::from("/nonexistent-givetrail-placeholder"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// A small world: two charities, recipients in and out of Wuhan.

pub const ORG: &str = "hubei-red-cross";
pub const OTHER_ORG: &str = "wuhan-charity-federation";

/// A valid credit code for region `420000` with a distinct organisation part.
pub fn credit_code(n: u32) -> String {
    let first17 = format!("53420000MJ{n:07}");
    let c = givetrail_domain_check(&first17);
    format!("{first17}{c}")
}

fn givetrail_domain_check(first17: &str) -> char {
    const A: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const W: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = first17
        .bytes()
        .zip(W)
        .map(|(b, w)| A.iter().position(|c| *c == b).expect("alphabet") * w)
        .sum();
    char::from(A[(31 - sum % 31) % 31])
}

pub struct World {
    pub s: Server,
    pub charity: String,
    pub other_charity: String,
    pub union_hospital: String,
    pub jinyintan: String,
}

pub fn recipient(s: &Server, id: &str, region: &str) {
    let r = s.post(
        "/recipients",
        Some(&s.regulator),
        &json!({"id": id, "name": format!("{id} 医院"), "kind": "hospital", "region_code": region}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
}

pub fn world() -> World {
    world_on(Server::start())
}

/// The small world on a server already started.
pub fn world_on(s: Server) -> World {
    for (i, (id, region)) in [(ORG, "420000"), (OTHER_ORG, "420100")].iter().enumerate() {
        let r = s.post(
            "/organizations",
            Some(&s.regulator),
            &json!({"id": id, "name": format!("{id} 慈善"), "credit_code": credit_code(i as u32 + 1), "kind": "red_cross", "region_code": region, "public_fundraising_qualified": true}),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    recipient(&s, "wuhan-union-hospital", "420103");
    recipient(&s, "wuhan-jinyintan-hospital", "420105");
    recipient(&s, "hangzhou-hospital", "330100");
    let charity = key_for(&s, ORG);
    let other_charity = key_for(&s, OTHER_ORG);
    let union_hospital = recipient_key(&s, "wuhan-union-hospital");
    let jinyintan = recipient_key(&s, "wuhan-jinyintan-hospital");
    World {
        s,
        charity,
        other_charity,
        union_hospital,
        jinyintan,
    }
}

pub fn key_for(s: &Server, org: &str) -> String {
    key_and_id(s, org).0
}

/// A new charity key of `org` and its public id.
pub fn key_and_id(s: &Server, org: &str) -> (String, String) {
    let r = s.post(
        &format!("/organizations/{org}/keys"),
        Some(&s.regulator),
        &json!({}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let key = r.body["key"].as_str().expect("key").to_owned();
    (key, r.body["key_id"].as_str().expect("key_id").to_owned())
}

pub fn recipient_key(s: &Server, id: &str) -> String {
    let r = s.post(
        &format!("/recipients/{id}/keys"),
        Some(&s.regulator),
        &json!({}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["key"].as_str().expect("key").to_owned()
}

pub fn money(amount: &str) -> Value {
    json!({"kind": "money", "amount": amount, "currency": "CNY"})
}

pub fn masks(q: &str) -> Value {
    json!({"kind": "goods", "item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece", "quantity": q})
}

pub fn donation(receipt: &str, at: &str, asset: Value, restriction: Value) -> Value {
    json!({
        "receipt_number": receipt, "occurred_at": at,
        "donor": {"name": "张三丰", "kind": "individual", "anonymous": false, "contact": "+86 139 0000 7777"},
        "channel": "bank_transfer", "restriction": restriction, "asset": asset
    })
}

/// The field names a problem's `errors` name, in order.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub fn undesignated() -> Value {
    json!({"kind": "none"})
}

/// `givetrail import --org ORG` of `file` with the server's signing key; (ok, stdout, stderr).
pub fn cli_import(w: &World, file: &str, extra: &[&str]) -> (bool, String, String) {
    let key = w.s.db.signing_key();
    let mut args = vec!["import", "--org", ORG, "--signing-key", &key];
    args.extend_from_slice(extra);
    args.push(file);
    w.s.db.cli(&args)
}

impl World {
    /// Post a donation and return its seq.
    pub fn donate(&self, receipt: &str, at: &str, asset: Value, restriction: Value) -> i64 {
        let r = self.s.post(
            &format!("/organizations/{ORG}/donations"),
            Some(&self.charity),
            &donation(receipt, at, asset, restriction),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
        r.body["seq"].as_i64().expect("seq")
    }

    pub fn allocate(&self, body: Value) -> Reply {
        self.s.post(
            &format!("/organizations/{ORG}/allocations"),
            Some(&self.charity),
            &body,
        )
    }

    pub fn entry_count(&self) -> usize {
        self.s.log(ORG).len()
    }
}

/// Every donation receipt number in an organisation's log, with how often it appears.
pub fn receipts(s: &Server, org: &str) -> std::collections::BTreeMap<String, usize> {
    let mut out = std::collections::BTreeMap::new();
    for e in s.log(org) {
        if e["kind"] == "donation.received" {
            let receipt = e["body"]["receipt_number"].as_str().unwrap_or_default();
            *out.entry(receipt.to_owned()).or_insert(0) += 1;
        }
    }
    out
}

/// Recompute every entry's canonical form and hash chain from what the public API serves.
pub fn assert_chain_intact(log: &[Value]) {
    use givetrail_domain::canonical::{canonical_entry, entry_hash, leaf_hash, GENESIS_HASH};
    let mut prev = GENESIS_HASH;
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e["seq"].as_i64(), Some(i as i64 + 1), "seq is gapless");
        let canonical = canonical_entry(e);
        assert_eq!(
            e["prev_entry_hash"].as_str(),
            Some(hex::encode(prev).as_str()),
            "entry {} links to its predecessor",
            i + 1
        );
        let h = entry_hash(&prev, canonical.as_bytes());
        assert_eq!(
            e["entry_hash"].as_str(),
            Some(hex::encode(h).as_str()),
            "entry {} hash recomputes",
            i + 1
        );
        assert_eq!(
            e["leaf_hash"].as_str(),
            Some(hex::encode(leaf_hash(canonical.as_bytes())).as_str())
        );
        prev = h;
    }
}

/// A regulator key limited to `jurisdiction` (a region-code prefix), made with the CLI.
pub fn regulator_of(s: &Server, jurisdiction: &str) -> String {
    let (ok, key, err) = s.db.cli(&[
        "keys",
        "create",
        "--role",
        "regulator",
        "--jurisdiction",
        jurisdiction,
    ]);
    assert!(ok, "keys create: {err}");
    key.trim().to_owned()
}
