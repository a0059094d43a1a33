//! `givetrail reconcile`: the reconciliation report from the command line, exactly as
//! `GET /organizations/{org}/reconciliation` serves it.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use givetrail_domain::checkpoint::public_key_hex;
use givetrail_domain::ids::parse_region_prefix;
use givetrail_domain::reconciliation::inputs::{AgeingLimits, Period};
use givetrail_domain::reconciliation::{self as report};
use givetrail_store::read::model::ReadModel;
use givetrail_store::reconciliation as store;

use crate::{disclosure, key_path, open, signing_key, Db};

/// Output formats of the report.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    /// The JSON document of the API.
    Json,
    /// Totals rows, then one row per finding.
    Csv,
}

/// `givetrail reconcile`.
#[derive(Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    db: Db,
    /// Organisation slug.
    #[arg(long)]
    org: String,
    /// json or csv.
    #[arg(long, value_enum, default_value = "json")]
    format: ReportFormat,
    /// Event findings from this moment on (RFC 3339, e.g. 2020-01-23T00:00:00Z).
    #[arg(long)]
    from: Option<DateTime<Utc>>,
    /// Event findings before this moment; the books as at then (default: now).
    #[arg(long)]
    to: Option<DateTime<Utc>>,
    /// The server's checkpoint signing key, to verify the latest checkpoint's signature (read
    /// only; never created). Default: as `serve` (`<db>.signing-key` beside a SQLite file).
    #[arg(long, env = "GIVETRAIL_SIGNING_KEY", conflicts_with = "public_key")]
    signing_key: Option<PathBuf>,
    /// The server's public key (hex, as `GET /public_key` gives it), instead of the signing key.
    #[arg(long)]
    public_key: Option<String>,
    /// Also compare the derived balance tables with a replay of the whole log (every entry's
    /// hashes are recomputed either way: nothing is remembered between runs).
    #[arg(long)]
    full: bool,
    /// Restrict the report to what went to recipients whose region code starts with this
    /// prefix (1 to 6 digits), as `?destination=` does.
    #[arg(long)]
    destination: Option<String>,
    #[command(flatten)]
    policy: disclosure::PolicyArgs,
}

/// Print the report.
pub fn run(a: ReconcileArgs) -> anyhow::Result<()> {
    if let (Some(from), Some(to)) = (a.from, a.to) {
        if from >= to {
            bail!("--to must be after --from");
        }
    }
    let destination = a
        .destination
        .as_deref()
        .map(|d| match d {
            "" => bail!("--destination: must be 1 to 6 digits of an administrative division code"),
            d => parse_region_prefix(d).map_err(|e| anyhow::anyhow!("--destination: {e}")),
        })
        .transpose()?;
    let policy = a.policy.policy()?;
    let (backend, mut conn) = open(&a.db)?;
    let public_key = match a.public_key {
        Some(k) => Some(k),
        None => {
            // Without a key the report says the signature was not checked.
            match key_path(&backend, a.signing_key) {
                Ok(path) if path.exists() => Some(public_key_hex(&signing_key(&path)?)),
                _ => None,
            }
        }
    };
    let now = Utc::now();
    let depth = if a.full {
        store::Depth::Full
    } else {
        store::Depth::Incremental
    };
    let gathered = store::gather(
        &mut conn,
        &ReadModel::default(),
        &a.org,
        public_key.as_deref(),
        a.to.unwrap_or(now),
        depth,
    )?
    .with_context(|| format!("organisation {} is not registered", a.org))?;
    let period = Period {
        from: a.from,
        to: a.to,
    };
    let mut r = report::reconcile(&gathered.inputs(&policy, AgeingLimits::default(), period, now));
    if let Some(d) = &destination {
        r = report::destination::restrict(r, &gathered.ledger, &gathered.directory, d);
    }
    match a.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        ReportFormat::Csv => print!("{}", report::table::report(&r).csv()),
    }
    Ok(())
}
