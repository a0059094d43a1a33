//! Connections to either backend, opened from one URL, with migrations run at start.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{
    ConnectionManager, CustomizeConnection, ManageConnection, Pool, PooledConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::{Duration, Instant};

use crate::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to SQLite or PostgreSQL; one set of queries runs on both.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (production).
    Postgresql(diesel::PgConnection),
    /// SQLite (embedded default).
    Sqlite(diesel::SqliteConnection),
}

/// Most rows in one multi-row `INSERT` on SQLite (the widest written row has 16 columns: 16,000
/// bound values, under its 32,766).
pub(crate) const ROWS_PER_INSERT: usize = 1_000;

/// Pages the SQLite WAL may hold before the committing connection copies them back into the
/// database (SQLite's default is 1,000). A commit group rewrites the same hot pages (the tails
/// of the tables and their indexes), and a checkpoint copies each page once however many times
/// the WAL holds it, so copying every 8,000 pages (32 MiB of WAL at 4 KiB pages) instead of
/// every 1,000 spends less of the single writer thread copying (single POSTs on a fresh
/// database, three interleaved 10-second runs each: 11,423/s at 1,000, 11,780/s at 8,000).
pub(crate) const WAL_AUTOCHECKPOINT_PAGES: u32 = 8_000;

/// Most rows SQLite takes one `INSERT` at a time rather than in one multi-row `INSERT`: a
/// single-row statement is prepared once and kept in the connection's statement cache, where a
/// multi-row one (its text depends on the number of rows) is parsed again each time, which was
/// 6% of the writer thread under single POSTs (commit groups of about 15 requests): 11,144/s
/// before, 11,423/s after (three interleaved 10-second runs each).
pub(crate) const SQLITE_ROWS_ONE_BY_ONE: usize = 32;

/// Most rows PostgreSQL takes in one multi-row `INSERT` rather than a `COPY` (see
/// [`insert_rows`]).
pub(crate) const PG_ROWS_PER_INSERT: usize = 64;

/// A PostgreSQL statement kept in the connection's statement cache (a named prepared statement,
/// parsed once per connection) although diesel would not keep it: diesel sends every
/// `sql_query` and every multi-row `INSERT` unnamed, so the server parses it on each call
/// (under single POSTs, 9 of a commit group's 12 statements were). Diesel keys a statement
/// without a static type id by its SQL text and bind types, so caching is sound whenever the
/// same text means the same statement. Wrap only statements of a bounded number of texts (fixed
/// text, or a row count with a small upper bound): every text stays prepared for the
/// connection's life. And only statements whose best plan does not depend on their parameters
/// or on the table's size: after five executions PostgreSQL may keep one generic plan for a
/// prepared statement (the receipt prefetch, cached, got a plan that scanned `lots`: 6 ms a
/// call instead of 0.1).
///
/// Run it with [`Cached::run`] (a statement whose rows are not wanted) or `load`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached<Q>(pub(crate) Q);

impl<Q> diesel::query_builder::QueryId for Cached<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> diesel::query_builder::Query for Cached<Q> {
    type SqlType = diesel::sql_types::Untyped;
}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>>
    diesel::query_builder::QueryFragment<diesel::pg::Pg> for Cached<Q>
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // Diesel's hook (public, hidden from its docs) for whether a statement may be cached; the
    // inner statement says no only because its text may vary.
    fn is_safe_to_cache_prepared(&self, _: &diesel::pg::Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, C> RunQueryDsl<C> for Cached<Q> {}

/// No columns: what [`Cached::run`] reads of a statement's result.
#[derive(diesel::QueryableByName)]
struct NoColumns {}

impl<Q: diesel::query_builder::QueryFragment<diesel::pg::Pg>> Cached<Q> {
    /// Run the statement, ignoring any rows it returns. Through diesel's load path, which hands
    /// the statement itself to the cache: its execute path hands a reference, and a reference's
    /// `QueryFragment` does not pass `is_safe_to_cache_prepared` on (the statement went unnamed).
    pub(crate) fn run(self, conn: &mut diesel::PgConnection) -> QueryResult<()> {
        self.load::<NoColumns>(conn).map(drop)
    }
}

/// Insert a slice of `Insertable` rows into `$table`; evaluates to the `QueryResult` of the rows
/// inserted. PostgreSQL: one binary `COPY … FROM STDIN` (no statement to parse, no parameters to
/// bind: about twice as fast as a multi-row `INSERT` of the same rows, and Citus routes it by
/// shard), except for at most [`PG_ROWS_PER_INSERT`] rows, which go by one multi-row `INSERT`:
/// a `COPY` costs two round trips (the statement, then the data) and a fixed 0.2–0.5 ms in
/// the server whatever its size, which a commit group of a few single POSTs paid six times.
/// SQLite: cached single-row `INSERT`s for at most [`SQLITE_ROWS_ONE_BY_ONE`] rows, else
/// multi-row `INSERT`s of at most [`ROWS_PER_INSERT`] rows. Nothing is sent for no rows.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl as _;
        let conn: &mut $crate::db::AnyConnection = $conn;
        let rows = $rows;
        let mut insert = || -> diesel::QueryResult<usize> {
            if rows.is_empty() {
                return Ok(0);
            }
            match &mut *conn {
                $crate::db::AnyConnection::Postgresql(c) => {
                    if rows.len() <= $crate::db::PG_ROWS_PER_INSERT {
                        $crate::db::Cached(diesel::insert_into($table).values(rows))
                            .run(c)
                            .map(|()| rows.len())
                    } else {
                        diesel::copy_from($table).from_insertable(rows).execute(c)
                    }
                }
                $crate::db::AnyConnection::Sqlite(c) => {
                    let mut inserted = 0;
                    if rows.len() <= $crate::db::SQLITE_ROWS_ONE_BY_ONE {
                        for row in rows.iter() {
                            inserted += diesel::insert_into($table).values(row).execute(c)?;
                        }
                        return Ok(inserted);
                    }
                    for chunk in rows.chunks($crate::db::ROWS_PER_INSERT) {
                        inserted += diesel::insert_into($table).values(chunk).execute(c)?;
                    }
                    Ok(inserted)
                }
            }
        };
        insert()
    }};
}
pub(crate) use insert_rows;

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// A path, or `sqlite://…`.
    Sqlite(String),
}

impl Backend {
    /// Interpret a database URL: `postgres://…`, `sqlite:///abs/path.db`, `sqlite://rel.db`, or a plain path.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres(url.to_owned())
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            Backend::Sqlite(path.to_owned())
        }
    }

    /// The URL connections are opened with. For PostgreSQL, libpq's timeouts are added unless
    /// the URL sets them: [`CONNECT_TIMEOUT_SECS`] to open a connection, and
    /// [`TCP_USER_TIMEOUT_MS`] for data sent and not acknowledged, so a server that stops
    /// answering (host down, network cut) fails a query in bounded time instead of hanging it.
    pub fn connection_url(&self) -> String {
        match self {
            Backend::Sqlite(p) => p.clone(),
            Backend::Postgres(u) => {
                let mut url = u.clone();
                let timeouts = [
                    ("connect_timeout", CONNECT_TIMEOUT_SECS.to_string()),
                    ("tcp_user_timeout", TCP_USER_TIMEOUT_MS.to_string()),
                ];
                for (name, value) in timeouts {
                    let query = url.split_once('?').map_or("", |(_, q)| q);
                    if query.split('&').any(|p| p.split('=').next() == Some(name)) {
                        continue;
                    }
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str(&format!("{name}={value}"));
                }
                url
            }
        }
    }

    /// Whether this is SQLite.
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Backend::Sqlite(_))
    }

    /// A description safe to log (no password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite(p) => format!("SQLite {p}"),
            Backend::Postgres(u) => {
                let safe = match (u.find("://"), u.rfind('@')) {
                    (Some(s), Some(at)) if at > s => format!("{}://…@{}", &u[..s], &u[at + 1..]),
                    _ => u.clone(),
                };
                format!("PostgreSQL {safe}")
            }
        }
    }
}

/// Seconds libpq waits for a PostgreSQL connection to open (`connect_timeout`).
pub const CONNECT_TIMEOUT_SECS: u64 = 5;
/// Milliseconds data sent to PostgreSQL may stay unacknowledged before the connection is
/// dropped (`tcp_user_timeout`).
pub const TCP_USER_TIMEOUT_MS: u64 = 10_000;

/// Open one connection (with the pragmas each backend needs).
pub fn establish(backend: &Backend) -> Result<AnyConnection, StoreError> {
    match backend {
        Backend::Postgres(_) => {
            // Establish the concrete type first: the multi-connection error only says "invalid url".
            let conn = diesel::PgConnection::establish(&backend.connection_url())
                .map_err(|e| StoreError::Connect(format!("{}: {e}", backend.describe())))?;
            Ok(AnyConnection::Postgresql(conn))
        }
        Backend::Sqlite(path) => {
            let mut conn = diesel::SqliteConnection::establish(path)
                .map_err(|e| StoreError::Connect(format!("{}: {e}", backend.describe())))?;
            // WAL for concurrent readers; synchronous=FULL so an acknowledged write survives power
            // loss. Statement journals (a multi-row INSERT inside a transaction keeps one, to undo
            // itself alone) in memory, not in a temporary file opened and unlinked each time.
            // The busy timeout first: `journal_mode` reads the file, and while another process
            // holds it (a server checkpointing the WAL as it stops), a connection without one
            // failed at once with "database is locked" (`givetrail import` run just after the
            // server was stopped, once in six runs).
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                 PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; \
                 PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
            ))?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

/// Run the embedded migrations of the backend; the versions applied (digits only,
/// `20261129000001`), oldest first.
pub fn migrate(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let result = match conn {
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
    };
    result
        .map(|applied| {
            applied
                .iter()
                .map(|v| v.to_string().chars().filter(char::is_ascii_digit).collect())
                .collect()
        })
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// Whether the database is distributed with Citus (its tables are then distributed by the
/// migration `2026-12-07-000001_citus`). The few queries Citus plans differently ask this.
pub fn is_distributed(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        citus: bool,
    }
    match conn {
        AnyConnection::Sqlite(_) => Ok(false),
        AnyConnection::Postgresql(pg) => {
            let row: Row = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS citus",
            )
            .get_result(pg)?;
            Ok(row.citus)
        }
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<AnyConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), diesel::r2d2::Error> {
        if let AnyConnection::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                 PRAGMA temp_store = MEMORY;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A pool of read connections.
pub type ReadPool = Pool<Manager>;
/// A connection from the pool.
pub type PooledConn = PooledConnection<Manager>;

/// Longest a read waits for a pooled connection before it is refused (the HTTP layer answers
/// 503 with `Retry-After`): a caller under load hears "busy" quickly instead of queueing.
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection used less than this long ago is trusted; one idle longer is asked (`SELECT 1`)
/// before it is used, since the database may have restarted meanwhile. Pooled reads and the
/// writer threads both follow it: a connection in steady use costs no extra round trip.
pub const IDLE_CHECK: Duration = Duration::from_secs(1);

thread_local! {
    /// Set by [`with_pooled`] just before it drops a connection that was lost, so that
    /// [`Manager::has_broken`], which r2d2 calls on the same thread as the connection goes
    /// back, closes it instead of keeping it.
    static LOST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// When a pooled connection was last used (kept in the pool's per-connection extensions).
struct LastUsed(Instant);

/// The pool's connection manager: diesel's, except that a connection a caller found lost is
/// closed when it comes back, and that nothing is asked on checkout (see [`with_pooled`]).
#[derive(Debug)]
pub struct Manager(ConnectionManager<AnyConnection>);

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        LOST.with(|l| l.replace(false)) || self.0.has_broken(conn)
    }
}

/// Build a pool of `size` connections; a checkout waits at most [`CHECKOUT_TIMEOUT`].
pub fn pool(backend: &Backend, size: u32) -> Result<ReadPool, StoreError> {
    let manager = Manager(ConnectionManager::<AnyConnection>::new(
        backend.connection_url(),
    ));
    Pool::builder()
        .max_size(size)
        .connection_timeout(CHECKOUT_TIMEOUT)
        // r2d2 would ask every connection `SELECT 1` on each checkout: a round trip per read,
        // as many as the read itself on PostgreSQL. `with_pooled` asks only idle ones.
        .test_on_check_out(false)
        .connection_customizer(Box::new(SqlitePragmas))
        .build(manager)
        .map_err(|e| StoreError::Connect(format!("{}: {e}", backend.describe())))
}

/// Whether the connection still answers a query.
pub fn alive(conn: &mut AnyConnection) -> bool {
    conn.batch_execute("SELECT 1").is_ok()
}

/// Take a connection from `pool` and run `f` on it. A connection idle for longer than
/// [`IDLE_CHECK`] is asked first, and closed if it does not answer (the next one is taken, up
/// to the pool's size, then a new one). When `f` finds the database unreachable, the connection
/// is closed rather than returned (the next read opens a new one). `Err` when no connection came
/// within the pool's checkout timeout.
pub fn with_pooled<T>(
    pool: &ReadPool,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<Result<T, StoreError>, diesel::r2d2::PoolError> {
    let mut conn = pool.get()?;
    for _ in 0..pool.max_size() {
        let idle = PooledConnection::extensions(&conn)
            .get::<LastUsed>()
            .is_none_or(|u| u.0.elapsed() > IDLE_CHECK);
        if !idle || alive(&mut conn) {
            break;
        }
        LOST.with(|l| l.set(true));
        drop(conn);
        conn = pool.get()?;
    }
    let out = f(&mut conn);
    if matches!(&out, Err(e) if e.is_unreachable()) {
        LOST.with(|l| l.set(true));
    } else {
        PooledConnection::extensions_mut(&mut conn).insert(LastUsed(Instant::now()));
    }
    Ok(out)
}

/// Run `f`'s reads in one read transaction, so they all see the same committed state: on SQLite
/// a deferred transaction (its snapshot starts at the first read and holds until the end), on
/// PostgreSQL `REPEATABLE READ, READ ONLY` (which a streaming replica also serves). `conn` must not
/// already be inside a transaction.
pub fn snapshot<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.transaction::<_, StoreError, _>(|c| {
        if let AnyConnection::Postgresql(pg) = c {
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(pg)?;
        }
        f(c)
    })
}

/// Write a consistent copy of a SQLite database to `to` while it is in use (`VACUUM INTO`: one
/// read transaction, so the copy is a snapshot even while the writer commits).
pub fn backup(conn: &mut AnyConnection, to: &std::path::Path) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Sqlite(c) => {
            if to.exists() {
                return Err(StoreError::Connect(format!("{} already exists; choose a new file", to.display())));
            }
            diesel::sql_query("VACUUM INTO ?")
                .bind::<diesel::sql_types::Text, _>(to.to_string_lossy().into_owned())
                .execute(c)?;
            Ok(())
        }
        AnyConnection::Postgresql(_) => Err(StoreError::Connect(
            "PostgreSQL is backed up with its own tools (pg_dump --format=custom --serializable-deferrable, or pg_basebackup)".into(),
        )),
    }
}

/// Check a SQLite file is intact (`PRAGMA integrity_check`).
pub fn integrity_check(conn: &mut AnyConnection) -> Result<(), StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    if let AnyConnection::Sqlite(c) = conn {
        let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check").load(c)?;
        if rows.iter().any(|r| r.integrity_check != "ok") {
            let what: Vec<String> = rows.into_iter().map(|r| r.integrity_check).collect();
            return Err(StoreError::Corrupt(what.join("; ")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn rows(conn: &mut AnyConnection) -> Result<i64, StoreError> {
        let AnyConnection::Sqlite(c) = conn else {
            return Err(StoreError::Connect("expected SQLite".into()));
        };
        let counted: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM t").get_result(c)?;
        Ok(counted.n)
    }

    #[test]
    fn postgres_connections_get_timeouts_unless_the_url_sets_them() {
        let url = |u: &str| Backend::from_url(u).connection_url();
        assert_eq!(
            url("postgres://u@h/db"),
            "postgres://u@h/db?connect_timeout=5&tcp_user_timeout=10000"
        );
        assert_eq!(
            url("postgres://u@h/db?sslmode=require&connect_timeout=30"),
            "postgres://u@h/db?sslmode=require&connect_timeout=30&tcp_user_timeout=10000"
        );
        assert_eq!(url("/var/lib/givetrail.db"), "/var/lib/givetrail.db");
    }

    /// A folder of this test process's own and the path of a database file in it that does not
    /// exist yet.
    fn fresh_file(name: &str) -> Result<(std::path::PathBuf, std::path::PathBuf), StoreError> {
        let dir = std::env::temp_dir().join(format!("givetrail-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Connect(e.to_string()))?;
        let path = dir.join(format!("{name}.db"));
        let _ = std::fs::remove_file(&path);
        Ok((dir, path))
    }

    #[test]
    fn a_connection_opened_while_another_holds_the_file_waits_for_it() -> Result<(), StoreError> {
        let (dir, path) = fresh_file("busy")?;
        // A file not yet in WAL mode, locked exclusively: switching it to WAL must wait.
        let mut holder = diesel::SqliteConnection::establish(&path.to_string_lossy())
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        holder.batch_execute(
            "CREATE TABLE t (x INTEGER); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);",
        )?;
        let backend = Backend::Sqlite(path.to_string_lossy().into_owned());
        let opened = std::thread::spawn(move || {
            let start = std::time::Instant::now();
            establish(&backend).map(|_| start.elapsed())
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        holder.batch_execute("COMMIT;")?;
        let waited = opened
            .join()
            .map_err(|_| StoreError::Connect("the opening thread panicked".into()))??;
        assert!(
            waited >= std::time::Duration::from_millis(250),
            "opened after {waited:?}, before the lock was released"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn a_snapshot_does_not_see_commits_made_during_it() -> Result<(), StoreError> {
        let (dir, path) = fresh_file("snapshot")?;
        let backend = Backend::Sqlite(path.to_string_lossy().into_owned());
        let mut reader = establish(&backend)?;
        let mut writer = establish(&backend)?;
        writer.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")?;
        let (before, after) = snapshot(&mut reader, |c| {
            let before = rows(c)?;
            writer.batch_execute("INSERT INTO t VALUES (2);")?;
            Ok((before, rows(c)?))
        })?;
        assert_eq!((before, after), (1, 1));
        assert_eq!(rows(&mut reader)?, 2);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
