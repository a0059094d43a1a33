//! `givetrail`: the service and its command-line tools.

mod audit;
mod disclosure;
mod import;
mod receipts;
mod reconcile;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand};
use ed25519_dalek::SigningKey;

use givetrail_domain::entry::Role;
use givetrail_domain::ids::{parse_region_prefix, Slug};
use givetrail_domain::signing::Rotation;
use givetrail_http::load::Load;
use givetrail_http::AppState;
use givetrail_store::db::{establish, pool, Backend};
use givetrail_store::registry::{self, NewKey};
use givetrail_store::verify::keys::{self, Adoption};
use givetrail_store::verify::rebuild;
use givetrail_store::write::Writer;
use givetrail_store::AnyConnection;

#[derive(Parser)]
#[command(
    name = "givetrail",
    version,
    about = "An append-only, publicly verifiable ledger of charitable donations"
)]
struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Db {
    /// `givetrail.db` (SQLite in the working directory), `sqlite:///path.db`, a path, or `postgres://…`.
    #[arg(long, env = "GIVETRAIL_DATABASE_URL", default_value = "givetrail.db")]
    database_url: String,
}

#[derive(Args, Clone)]
struct Serve {
    #[command(flatten)]
    db: Db,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "GIVETRAIL_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Where the public reaches this server (`https://givetrail.example.org`): the origin of the
    /// absolute links in feeds and QR codes. Without it, `http://` and each request's `Host`.
    #[arg(long, env = "GIVETRAIL_PUBLIC_URL", value_parser = givetrail_http::link::PublicUrl::parse)]
    public_url: Option<givetrail_http::link::PublicUrl>,
    /// A PostgreSQL streaming replica of the database: public reads go there (authentication
    /// and writes stay on the primary).
    #[arg(long, env = "GIVETRAIL_READ_DATABASE_URL")]
    read_database_url: Option<String>,
    /// Writer threads (PostgreSQL; SQLite always has one writer). Default: one per core, at
    /// most 4 (each thread commits its own groups; more threads than cores only make the
    /// groups smaller).
    #[arg(long, default_value_t = default_writers())]
    writers: usize,
    /// Connections in the pool of public reads (on the replica when there is one).
    /// Authentication has its own pool of 4 on the primary. A quarter of them (at least one) is
    /// kept from the expensive reads (exports, reports, pages, feeds), which share the rest.
    #[arg(long, env = "GIVETRAIL_READ_CONNECTIONS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    read_connections: u32,
    /// Expensive reads (exports, reports, pages, feeds) per second allowed to one client address,
    /// with a burst of four seconds' worth; past it, 429 with `Retry-After`. Cheap reads (the log,
    /// entries, proofs, checkpoints, trails) are not counted. 0 turns the limit off (behind a
    /// reverse proxy every client has the proxy's address: limit there).
    #[arg(long, env = "GIVETRAIL_CLIENT_READ_RATE", default_value_t = 50)]
    client_read_rate: u32,
    /// Ed25519 key checkpoints are signed with; created (mode 0600) only for a database that
    /// has never signed anything. Default: beside the SQLite file (`<db>.signing-key`); required
    /// for PostgreSQL. The server refuses to start with a key that is not the current key of the
    /// database's key history (`givetrail keys rotate-signing` changes it).
    #[arg(long, env = "GIVETRAIL_SIGNING_KEY")]
    signing_key: Option<PathBuf>,
    #[command(flatten)]
    policy: disclosure::PolicyArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve(Serve),
    /// Load the demo fixtures into an empty database, then serve it and print the demo keys.
    Demo {
        #[command(flatten)]
        serve: Serve,
        /// Fixture file to load instead of the 2020 replay built into the binary
        /// (`fixtures/demo.json` in the repository).
        #[arg(long)]
        fixtures: Option<PathBuf>,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Recompute derived tables from the log; with --check, only report differences.
    Rebuild {
        #[command(flatten)]
        db: Db,
        /// Report differences, change nothing; exit 1 if any.
        #[arg(long)]
        check: bool,
        /// Only this organisation.
        #[arg(long)]
        org: Option<String>,
    },
    /// Import a donations CSV or Excel workbook into an organisation's log (all rows or none,
    /// unless --chunk).
    Import(import::ImportArgs),
    /// Write a printable HTML sheet of an organisation's receipts, each with the QR code of its
    /// trail page.
    Receipts(receipts::ReceiptsArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Write an organisation's IATI, 360Giving or CSV export.
    Export(disclosure::ExportArgs),
    /// Print an organisation's reconciliation report (integrity, balances, designations, ageing,
    /// receipt, spending, bank, disclosure, fundraising, priority, complaints).
    Reconcile(reconcile::ReconcileArgs),
    /// Write a consistent copy of the SQLite database while the server runs (PostgreSQL: refused,
    /// naming the pg_dump command to use instead).
    Backup {
        #[command(flatten)]
        db: Db,
        /// Where to write the copy (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Put a backup in place as a new database (refuses to overwrite), checking its integrity.
    /// Then serve it and run `givetrail audit` against it. (A PostgreSQL target or a pg_dump
    /// archive is refused, naming the pg_restore command to use instead.)
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The new database file (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Verify a deployment from outside through its public API; exit 1 on any failure.
    Audit {
        /// Base URL of the deployment, e.g. http://127.0.0.1:8080
        base_url: String,
        /// Only this organisation.
        #[arg(long)]
        org: Option<String>,
        /// File remembering the checkpoints seen, so a later rewrite of history is detected.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Regulator check: every private value and salt in the database matches the commitment
    /// published in its entry; exit 1 on any mismatch.
    VerifyPrivate {
        #[command(flatten)]
        db: Db,
        /// Only this organisation.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key and print it, alone, on standard output.
    Create {
        #[command(flatten)]
        db: Db,
        /// regulator, charity or recipient.
        #[arg(long)]
        role: String,
        /// Organisation of a charity key.
        #[arg(long)]
        org: Option<String>,
        /// Recipient of a recipient key.
        #[arg(long)]
        recipient: Option<String>,
        /// Jurisdiction prefix of a regulator key (empty = national).
        #[arg(long)]
        jurisdiction: Option<String>,
    },
    /// Replace the checkpoint signing key: append a public rotation record signed by the current
    /// key and the new one, keep the current key file as `<file>.retired-<time>` and write the
    /// new key in its place. Stop the server first.
    RotateSigning {
        #[command(flatten)]
        db: Db,
        /// The current key file (default as `serve`: `<db>.signing-key` for SQLite; required
        /// for PostgreSQL).
        #[arg(long, env = "GIVETRAIL_SIGNING_KEY")]
        signing_key: Option<PathBuf>,
    },
    /// Revoke a key by its key id (`key_…`).
    Revoke {
        #[command(flatten)]
        db: Db,
        /// The key id printed when it was created.
        key_id: String,
    },
}

/// Why `backup` refuses a PostgreSQL database, and what to run instead (README, "Backups").
const POSTGRES_BACKUP: &str = "givetrail backup copies a SQLite database; back up PostgreSQL \
    with its own tools while the server runs: `pg_dump --format=custom --serializable-deferrable \
    --file=givetrail.dump DATABASE_URL` (one consistent snapshot), or pg_basebackup for the whole \
    cluster. Keep a copy of the signing key file (--signing-key) with it: it is not in the database";

/// Why `restore` refuses a PostgreSQL target or a pg_dump archive, and what to run instead.
const POSTGRES_RESTORE: &str = "givetrail restore puts back a SQLite backup; restore a pg_dump \
    archive with PostgreSQL's tools into a new, empty database: `createdb NEW` then \
    `pg_restore --no-owner --exit-on-error --dbname=NEW givetrail.dump`, then check it with \
    `givetrail rebuild --check --database-url NEW`, serve it with the signing key file kept with \
    the dump, and run `givetrail audit` against it";

/// Whether `path` is a pg_dump archive (custom format: it starts with `PGDMP`).
fn is_pg_dump(path: &Path) -> bool {
    use std::io::Read as _;
    let mut magic = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"PGDMP")
}

fn open(db: &Db) -> anyhow::Result<(Backend, AnyConnection)> {
    let backend = Backend::from_url(&db.database_url);
    let mut conn = establish(&backend)?;
    rebuild::migrate_and_rebuild(&mut conn)?;
    Ok((backend, conn))
}

/// Connections on the primary for authentication (see `serve`'s pools).
const AUTH_CONNECTIONS: u32 = 4;

/// mimalloc: per-thread caches with memory freed on one thread reused by others. Under glibc's
/// malloc the writer thread spent about 40% of a 10,000-donation batch in `malloc_consolidate`,
/// `unlink_chunk`, `_int_free` and `memmove`, and bounding its arenas (below) to keep the RSS flat
/// cost a fifth of the single-POST rate. With mimalloc, single POSTs on SQLite went from 9.2–10.0k
/// to 11.9–12.7k req/s in the same runs, and a 3-minute soak ended 5% under where it started.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One writer thread per core, at most 4: on 2 cores, 32 clients POSTing to 8 organisations on
/// PostgreSQL ran at 2,100 (1 writer), 3,200-3,600 (2) and 2,700-3,100 req/s (4).
fn default_writers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

fn main() {
    bound_malloc_arenas();
    let cli = Cli::parse();
    init_logs(cli.log_json);
    if let Err(e) = run(cli.command) {
        eprintln!("givetrail: {e:#}");
        std::process::exit(1);
    }
}

/// What still allocates through glibc's malloc (SQLite's page cache, libpq) gets two arenas: with
/// glibc's default (up to 8 per core), memory freed in one arena is not reused by another, and when
/// all of the server's allocations went through it, its RSS kept rising under a steady mix of
/// readers and writers (`scripts/bench/soak`: 96 → 617 MiB in 10 minutes). An operator's own
/// `MALLOC_ARENA_MAX` wins.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: called first in `main`, before any other thread exists; mallopt only sets a
        // parameter of the allocator (it returns 0 if refused, which leaves the default).
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

fn init_logs(json: bool) {
    let mut filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // actix's logger prints each error response in full at debug level; those messages may name
    // a tracking code or whatever was pasted into a path, so they never reach the logs.
    if let Ok(d) = "actix_web::middleware::logger=info".parse() {
        filter = filter.add_directive(d);
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(s) => serve(s, None),
        Command::Demo { serve: s, fixtures } => serve(s, Some(Demo::from(fixtures))),
        Command::Keys {
            command:
                KeysCommand::Create {
                    db,
                    role,
                    org,
                    recipient,
                    jurisdiction,
                },
        } => {
            let (_, mut conn) = open(&db)?;
            let role = Role::parse(&role).with_context(|| {
                format!("--role must be regulator, charity or recipient, not {role:?}")
            })?;
            let key = match role {
                Role::Regulator => {
                    let j = parse_region_prefix(jurisdiction.as_deref().unwrap_or(""))
                        .map_err(|e| anyhow::anyhow!("--jurisdiction {e}"))?;
                    NewKey {
                        key: registry::generate_key(),
                        role,
                        organization: None,
                        recipient: None,
                        jurisdiction: Some(j),
                    }
                }
                Role::Charity => {
                    let org = org.context("a charity key needs --org")?;
                    Slug::parse(&org).map_err(|e| anyhow::anyhow!("--org {e}"))?;
                    registry::organization(&mut conn, &org)?
                        .with_context(|| format!("organisation {org} is not registered"))?;
                    NewKey {
                        key: registry::generate_key(),
                        role,
                        organization: Some(org),
                        recipient: None,
                        jurisdiction: None,
                    }
                }
                Role::Recipient => {
                    let r = recipient.context("a recipient key needs --recipient")?;
                    registry::recipient(&mut conn, &r)?
                        .with_context(|| format!("recipient {r} is not registered"))?;
                    NewKey {
                        key: registry::generate_key(),
                        role,
                        organization: None,
                        recipient: Some(r),
                        jurisdiction: None,
                    }
                }
            };
            let id = registry::insert_key(&mut conn, &key, chrono::Utc::now().timestamp_micros())?;
            eprintln!("created {} key {id}", role.as_str());
            println!("{}", key.key);
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::Revoke { db, key_id },
        } => {
            let (_, mut conn) = open(&db)?;
            if !registry::revoke_key(&mut conn, &key_id, chrono::Utc::now().timestamp_micros())? {
                bail!("no active key {key_id}");
            }
            eprintln!("revoked {key_id}");
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::RotateSigning { db, signing_key },
        } => rotate_signing(&db, signing_key),
        Command::Rebuild { db, check, org } => {
            let (_, mut conn) = open(&db)?;
            let orgs = match org {
                Some(o) => vec![o],
                None => registry::organization_ids(&mut conn)?,
            };
            let mut differences = 0;
            for o in &orgs {
                if check {
                    let diffs = rebuild::check(&mut conn, o)?;
                    for d in &diffs {
                        println!("{d}");
                    }
                    differences += diffs.len();
                } else {
                    rebuild::rebuild(&mut conn, o)?;
                }
            }
            if check {
                println!(
                    "{} organisation(s) checked, {differences} difference(s)",
                    orgs.len()
                );
                if differences > 0 {
                    std::process::exit(1);
                }
            } else {
                println!("{} organisation(s) rebuilt from their logs", orgs.len());
            }
            Ok(())
        }
        Command::Openapi => {
            println!("{}", givetrail_http::openapi_json());
            Ok(())
        }
        Command::Export(a) => disclosure::export(a),
        Command::Import(a) => import::run(a),
        Command::Receipts(a) => receipts::run(a),
        Command::Reconcile(a) => reconcile::run(a),
        Command::Backup { db, to } => {
            if !Backend::from_url(&db.database_url).is_sqlite() {
                bail!("{POSTGRES_BACKUP}");
            }
            let (_, mut conn) = open(&db)?;
            givetrail_store::db::backup(&mut conn, &to)?;
            println!("backup written to {}", to.display());
            Ok(())
        }
        Command::Restore { from, to } => {
            if !Backend::from_url(&to.to_string_lossy()).is_sqlite() || is_pg_dump(&from) {
                bail!("{POSTGRES_RESTORE}");
            }
            if to.exists() {
                bail!("{} already exists; restore into a new file", to.display());
            }
            std::fs::copy(&from, &to)
                .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))?;
            let mut conn = establish(&Backend::Sqlite(to.to_string_lossy().into_owned()))?;
            givetrail_store::db::integrity_check(&mut conn)?;
            rebuild::migrate_and_rebuild(&mut conn)?;
            println!(
                "restored {} to {}; serve it and run `givetrail audit` to verify every log",
                from.display(),
                to.display()
            );
            Ok(())
        }
        Command::Audit {
            base_url,
            org,
            state,
        } => {
            if !audit::run(&base_url, org.as_deref(), state.as_deref())? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::VerifyPrivate { db, org } => {
            let (_, mut conn) = open(&db)?;
            let orgs = match org {
                Some(o) => vec![o],
                None => registry::organization_ids(&mut conn)?,
            };
            let mut bad = 0;
            let mut checked = 0;
            for o in &orgs {
                let (n, problems) =
                    givetrail_store::verify::commitments::check_commitments(&mut conn, o)?;
                checked += n;
                for p in &problems {
                    println!("{p}");
                }
                bad += problems.len();
            }
            println!("{checked} private value(s) checked, {bad} mismatch(es)");
            if bad > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Read a signing key file (a hex Ed25519 seed); `None` when there is no such file.
fn read_signing_key(path: &Path) -> anyhow::Result<Option<SigningKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut seed = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut seed)
                .with_context(|| format!("{} does not hold a hex Ed25519 seed", path.display()))?;
            Ok(Some(SigningKey::from_bytes(&seed)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Write a new random key to `path`, which must not exist (mode 0600).
fn create_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    use std::io::Write as _;
    let seed: [u8; 32] = rand::random();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(hex::encode(seed).as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Read a signing key, never creating one (for checks that only verify).
fn signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    read_signing_key(path)?.with_context(|| format!("no signing key at {}", path.display()))
}

/// The signing key this database's checkpoints are signed with, checked against its key
/// history: created only when the database has never signed anything; refused (naming the
/// file and what to do) when it is not the current key or does not verify the latest
/// checkpoints.
fn checked_signing_key(conn: &mut AnyConnection, path: &Path) -> anyhow::Result<SigningKey> {
    let what_to_do = |reason: &str| {
        anyhow::anyhow!(
            "refusing to start: the signing key file {} {reason}. Point --signing-key (or \
             GIVETRAIL_SIGNING_KEY) at the key file this database's checkpoints are signed with; \
             to change keys on purpose, stop the server and run `givetrail keys rotate-signing \
             --database-url <url> --signing-key <the current key file>`; `GET /public_keys` lists \
             the key history",
            path.display()
        )
    };
    let key = match read_signing_key(path)? {
        Some(k) => k,
        None if keys::is_unsigned(conn)? => {
            let k = match create_signing_key(path) {
                Ok(k) => k,
                // Another process created it first: use theirs.
                Err(_) if path.exists() => signing_key(path)?,
                Err(e) => return Err(e),
            };
            eprintln!("created checkpoint signing key {}", path.display());
            k
        }
        None => {
            return Err(what_to_do(
                "does not exist, and this database already holds signed checkpoints or a key \
                 history, so a new key would silently change who signs",
            ))
        }
    };
    let public = givetrail_domain::checkpoint::public_key_hex(&key);
    match keys::adopt(conn, &public, &now_rfc3339())? {
        Adoption::Current => Ok(key),
        Adoption::First => {
            eprintln!("recorded signing key {public} as the first key of the key history");
            Ok(key)
        }
        Adoption::Refused(reason) => Err(what_to_do(&reason)),
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Where the signing key is: the flag or `GIVETRAIL_SIGNING_KEY`, else beside a SQLite file;
/// PostgreSQL has no file to sit beside, so there it must be given.
fn key_path(backend: &Backend, given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match (given, backend) {
        (Some(p), _) => Ok(p),
        (None, Backend::Sqlite(p)) => Ok(PathBuf::from(format!("{p}.signing-key"))),
        (None, Backend::Postgres(_)) => bail!(
            "a PostgreSQL database needs --signing-key <file> (or GIVETRAIL_SIGNING_KEY): the \
             checkpoint signing key is never looked for in the working directory. Give the file \
             its checkpoints are signed with (a new one is created there only for an empty \
             database)"
        ),
    }
}

/// `givetrail keys rotate-signing`: a new key, a rotation record signed by the current key and
/// the new one, the current file kept as `<file>.retired-<time>` and the new key in its place.
fn rotate_signing(db: &Db, given: Option<PathBuf>) -> anyhow::Result<()> {
    let path = key_path(&Backend::from_url(&db.database_url), given)?;
    let (_, mut conn) = open(db)?;
    let old = read_signing_key(&path)?.with_context(|| {
        format!(
            "no signing key at {}: a rotation is signed by the current key",
            path.display()
        )
    })?;
    let old_public = givetrail_domain::checkpoint::public_key_hex(&old);
    if let Adoption::Refused(reason) = keys::adopt(&mut conn, &old_public, &now_rfc3339())? {
        bail!(
            "{} {reason}: a rotation must be signed by the current key",
            path.display()
        );
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ").to_string();
    let next = PathBuf::from(format!("{}.next", path.display()));
    let retired = PathBuf::from(format!("{}.retired-{stamp}", path.display()));
    let new = create_signing_key(&next).with_context(|| {
        format!(
            "{} exists: an earlier rotation did not finish; look at it and remove it",
            next.display()
        )
    })?;
    let sizes = keys::signed_sizes(&mut conn)?;
    let rotation = Rotation::sign(&old, &new, &now_rfc3339(), sizes);
    if let Err(e) = keys::record_rotation(&mut conn, &rotation) {
        let _ = std::fs::remove_file(&next);
        return Err(anyhow::Error::from(e).context("the rotation was not recorded"));
    }
    std::fs::rename(&path, &retired).with_context(|| {
        format!(
            "the rotation is recorded, but {} could not be renamed: rename it to {} and {} to {}",
            path.display(),
            retired.display(),
            next.display(),
            path.display()
        )
    })?;
    std::fs::rename(&next, &path).with_context(|| {
        format!(
            "the rotation is recorded, but {} could not be renamed to {}",
            next.display(),
            path.display()
        )
    })?;
    eprintln!(
        "rotated the checkpoint signing key from {} to {}; the old key is kept in {}",
        rotation.old_public_key,
        rotation.new_public_key,
        retired.display()
    );
    println!("{}", rotation.new_public_key);
    Ok(())
}

/// The 2020 replay that `givetrail demo` loads, built into the binary so it runs from any folder.
const DEMO_FIXTURES: &str = include_str!("../fixtures/demo.json");

/// Where `givetrail demo` takes its fixtures from.
enum Demo {
    BuiltIn,
    File(PathBuf),
}

impl From<Option<PathBuf>> for Demo {
    fn from(path: Option<PathBuf>) -> Self {
        path.map_or(Demo::BuiltIn, Demo::File)
    }
}

impl Demo {
    fn fixture(&self) -> anyhow::Result<givetrail_http::fixtures::Fixture> {
        match self {
            Demo::BuiltIn => serde_json::from_str(DEMO_FIXTURES)
                .context("the built-in demo fixtures are not a valid fixture file"),
            Demo::File(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("{} is not a valid fixture file", path.display()))
            }
        }
    }
}

fn serve(s: Serve, fixtures: Option<Demo>) -> anyhow::Result<()> {
    // Where the key is, before the database is touched (a PostgreSQL database needs it given).
    let key_path = key_path(
        &Backend::from_url(&s.db.database_url),
        s.signing_key.clone(),
    )?;
    let (backend, mut conn) = open(&s.db)?;
    let key = checked_signing_key(&mut conn, &key_path)?;
    let public_key = givetrail_domain::checkpoint::public_key_hex(&key);
    let policy = Arc::new(s.policy.policy()?);
    let writer = Arc::new(Writer::start(
        &backend,
        s.writers,
        Arc::new(key),
        policy.clone(),
    )?);
    // Authentication has a pool of its own on the primary: a crowd of public readers holding
    // every read connection never keeps a write waiting for its key check.
    let primary = pool(&backend, AUTH_CONNECTIONS)?;
    let read = match &s.read_database_url {
        Some(url) => {
            let replica = Backend::from_url(url);
            if replica.is_sqlite() || !matches!(backend, Backend::Postgres(_)) {
                bail!(
                    "--read-database-url names a PostgreSQL replica of a PostgreSQL --database-url"
                );
            }
            eprintln!("public reads from {}", replica.describe());
            pool(&replica, s.read_connections)?
        }
        None => pool(&backend, s.read_connections)?,
    };
    let readers = givetrail_http::readers::ReadThreads::start(
        usize::try_from(s.read_connections).unwrap_or(1),
    )?;
    let state = AppState {
        read,
        readers: Arc::new(readers),
        primary,
        writer: writer.clone(),
        keys: Arc::default(),
        public_key,
        read_model: Arc::default(),
        policy,
        load: Arc::new(
            Load::new(
                s.read_connections,
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )
            .with_client_rate(s.client_read_rate),
        ),
        public_url: s.public_url.clone().unwrap_or_default(),
    };
    let listener =
        TcpListener::bind(&s.bind).with_context(|| format!("cannot listen on {}", s.bind))?;
    let addr = listener.local_addr()?;
    let demo_keys = match &fixtures {
        Some(demo) => Some((
            demo.fixture()?,
            registry::organization_ids(&mut conn)?.is_empty(),
        )),
        None => None,
    };
    drop(conn);
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        if let Some((fixture, empty)) = &demo_keys {
            if *empty {
                let n = givetrail_http::fixtures::load(&state, fixture)
                    .await
                    .map_err(|e| anyhow::anyhow!("loading demo data: {e}"))?;
                eprintln!("loaded {n} demo requests from fixtures");
            } else {
                eprintln!("database already holds data; demo fixtures not loaded again");
            }
        }
        let server = givetrail_http::server(state, listener)?;
        println!(
            "givetrail listening on http://{addr} ({})",
            backend.describe()
        );
        if let Some((fixture, _)) = &demo_keys {
            println!("demo keys (for trying the API; never use them in production):");
            for k in &fixture.keys {
                let subject = k
                    .organization
                    .clone()
                    .or(k.recipient.clone())
                    .or(k.jurisdiction.clone().map(|j| {
                        if j.is_empty() {
                            "national".into()
                        } else {
                            format!("jurisdiction {j}")
                        }
                    }))
                    .unwrap_or_default();
                println!("  {:<10} {:<34} {}", k.role.as_str(), subject, k.key);
            }
        }
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        server.await?;
        anyhow::Ok(())
    })?;
    // Actix has finished in-flight requests; let the writer commit what is queued, then stop.
    if let Ok(w) = Arc::try_unwrap(writer) {
        w.shutdown();
    }
    Ok(())
}
