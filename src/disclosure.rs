//! Disclosure settings of `serve`/`demo`, and `givetrail export`.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};

use givetrail_domain::disclosure::{giving360, iati, table, Policy, Record};
use givetrail_store::read::disclosure as store;
use givetrail_store::read::model::ReadModel;

use crate::{open, Db};

/// What the disclosure reports measure against.
#[derive(Args, Clone)]
pub struct PolicyArgs {
    /// Priority region prefixes, comma-separated (reports show the share of undesignated
    /// assets that went there).
    #[arg(long, env = "GIVETRAIL_PRIORITY_REGIONS", default_value = "42")]
    priority_regions: String,
    /// Disclosure deadline of entries of emergency campaigns, in hours.
    #[arg(long, default_value_t = 24)]
    emergency_deadline_hours: i64,
    /// Disclosure deadline of every other entry, in days.
    #[arg(long, default_value_t = 90)]
    standard_deadline_days: i64,
}

impl PolicyArgs {
    /// The policy these flags describe.
    pub fn policy(&self) -> anyhow::Result<Policy> {
        let priority_regions = Policy::parse_regions(&self.priority_regions)
            .map_err(|e| anyhow::anyhow!("--priority-regions: {e}"))?;
        if self.emergency_deadline_hours <= 0 || self.standard_deadline_days <= 0 {
            bail!("--emergency-deadline-hours and --standard-deadline-days must be positive");
        }
        Ok(Policy {
            priority_regions,
            emergency_deadline: chrono::Duration::hours(self.emergency_deadline_hours),
            standard_deadline: chrono::Duration::days(self.standard_deadline_days),
        })
    }
}

/// Export formats.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// IATI 2.03 activities XML.
    Iati,
    /// 360Giving 1.4 package JSON.
    #[value(name = "360giving")]
    Giving360,
    /// CSV of a public feed (see --feed).
    Csv,
    /// The same feed as an Excel workbook (`.xlsx`; give --output).
    Xlsx,
    /// hledger / ledger-cli journal of the postings (`hledger -f out.journal bal`).
    Ledger,
}

/// Feeds the CSV and workbook exports can write.
#[derive(Clone, Copy, ValueEnum)]
pub enum Feed {
    /// Donations received.
    Donations,
    /// Allocations made.
    Allocations,
    /// Disbursements made.
    Disbursements,
}

/// `givetrail export`.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    db: Db,
    /// Organisation slug.
    #[arg(long)]
    org: String,
    /// iati, 360giving, csv, xlsx (an Excel workbook of the feed) or ledger.
    #[arg(long, value_enum)]
    format: Format,
    /// Which feed the CSV holds.
    #[arg(long, value_enum, default_value = "donations")]
    feed: Feed,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Write an organisation's export, exactly as the HTTP endpoints serve it.
pub fn export(a: ExportArgs) -> anyhow::Result<()> {
    let (_, mut conn) = open(&a.db)?;
    let (ledger, directory) =
        store::ledger_with_directory(&mut conn, &ReadModel::default(), &a.org)?
            .with_context(|| format!("organisation {} is not registered", a.org))?;
    let bytes = match a.format {
        Format::Iati => iati::export(&ledger, &directory, chrono::Utc::now()).into_bytes(),
        Format::Giving360 => {
            serde_json::to_string_pretty(&giving360::export(&ledger, &directory))?.into_bytes()
        }
        Format::Ledger => givetrail_domain::journal::journal(&ledger).into_bytes(),
        Format::Csv | Format::Xlsx => {
            let live: Vec<Record> = ledger
                .records
                .iter()
                .filter(|r| ledger.is_live(r.seq))
                .cloned()
                .collect();
            let t = match a.feed {
                Feed::Donations => table::donations(&a.org, &live),
                Feed::Allocations => table::allocations(&a.org, &live, &directory),
                Feed::Disbursements => table::disbursements(&a.org, &live, &directory),
            };
            match a.format {
                Format::Xlsx => t.xlsx().map_err(anyhow::Error::msg)?,
                _ => t.csv().into_bytes(),
            }
        }
    };
    match a.output {
        Some(path) => std::fs::write(&path, bytes)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::Write::write_all(&mut std::io::stdout(), &bytes)?,
    }
    Ok(())
}
