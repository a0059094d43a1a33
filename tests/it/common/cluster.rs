//! PostgreSQL clusters a test makes for itself with Debian's `pg_createcluster`, on a free
//! loopback port, for what must never happen to the shared server: a streaming replica, a
//! server stopped under load. They run in the PostgreSQL pass (`GIVETRAIL_TEST_POSTGRES` set,
//! as root with the server packages `.ci/run` uses), where a missing `pg_createcluster` fails
//! the test. Each cluster is dropped (stopped first) when its handle is, also when the test
//! fails.

use std::process::Command;

/// Run a program; its stdout. Panics, with its output, when it fails.
pub fn run(program: &str, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether this is the PostgreSQL pass; outside it a test of these clusters says why it does
/// nothing and returns.
pub fn postgres_pass(what: &str) -> bool {
    let on = std::env::var("GIVETRAIL_TEST_POSTGRES").is_ok_and(|v| !v.is_empty());
    if !on {
        eprintln!("{what} runs in the PostgreSQL pass (GIVETRAIL_TEST_POSTGRES)");
    }
    on
}

/// A port nobody listens on now (chosen by the kernel, so outside the fixed ports of other
/// clusters on this machine).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A name no other test run uses: `prefix_<pid>_<random>`.
pub fn tag(prefix: &str) -> String {
    format!("{prefix}_{}_{}", std::process::id(), rand::random::<u16>())
}

/// A Debian PostgreSQL cluster, dropped (stopped first) when the handle is.
pub struct Cluster {
    pub version: String,
    pub name: String,
    pub port: u16,
}

impl Cluster {
    /// A new cluster `name` (not started) of the newest installed PostgreSQL, trusting local
    /// connections, with extra `-o name=value` settings.
    pub fn create(name: String, settings: &[&str]) -> Cluster {
        let version = std::fs::read_dir("/etc/postgresql")
            .expect("Debian's PostgreSQL server packages")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max()
            .expect("a PostgreSQL version");
        let port = free_port().to_string();
        let mut args = vec![version.as_str(), name.as_str(), "-p", port.as_str()];
        for s in settings {
            args.extend(["-o", s]);
        }
        args.extend(["--", "--auth=trust"]);
        run("pg_createcluster", &args);
        let port = port.parse().expect("port");
        Cluster {
            version,
            name,
            port,
        }
    }

    /// The server's URL, without a database (`postgres://postgres@127.0.0.1:PORT`).
    pub fn server(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}", self.server())
    }

    /// Run one statement on `db` with psql; its output, trimmed.
    pub fn sql(&self, db: &str, statement: &str) -> String {
        run(
            "psql",
            &[&self.url(db), "-v", "ON_ERROR_STOP=1", "-Atc", statement],
        )
        .trim()
        .to_owned()
    }

    fn ctl(&self, args: &[&str]) {
        let mut all = vec!["--skip-systemctl-redirect", &self.version, &self.name];
        all.extend(args);
        run("pg_ctlcluster", &all);
    }

    /// Start the server (waits until it accepts connections).
    pub fn start(&self) {
        self.ctl(&["start"]);
    }

    /// Stop the server in `mode` (`smart`, `fast` or `immediate`; waits until it is down).
    pub fn stop(&self, mode: &str) {
        self.ctl(&["stop", "-m", mode]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
    }
}
