//! `givetrail import --org X donations.csv` (or `.xlsx`): stream a donations CSV, or read a
//! donations workbook, into an organisation's log.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use givetrail_domain::entry::{Author, Role};
use givetrail_domain::import::sheet::DonationSheet;
use givetrail_domain::import::{DonationCsv, Row};
use givetrail_store::write::import::{import, ImportError};

use crate::Db;

/// Progress message refreshed every this many rows.
const PROGRESS_EVERY_ROWS: u64 = 1_000;

#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    db: Db,
    /// Organisation whose log receives the donations.
    #[arg(long)]
    org: String,
    /// Commit every N rows (each commit signs a checkpoint); without it the file is one
    /// transaction: every row or none.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    chunk: Option<u64>,
    /// Ed25519 key checkpoints are signed with: the server's (same default as `serve`;
    /// required for PostgreSQL).
    #[arg(long, env = "GIVETRAIL_SIGNING_KEY")]
    signing_key: Option<PathBuf>,
    /// The donations CSV, or an Excel workbook (`.xlsx`, its first worksheet), with the
    /// documented columns, header row first.
    file: PathBuf,
}

pub fn run(a: ImportArgs) -> anyhow::Result<()> {
    let key_path = crate::key_path(
        &givetrail_store::db::Backend::from_url(&a.db.database_url),
        a.signing_key.clone(),
    )?;
    let (_, mut conn) = crate::open(&a.db)?;
    if givetrail_store::registry::organization(&mut conn, &a.org)?.is_none() {
        bail!("organisation {} is not registered", a.org);
    }
    let key = crate::checked_signing_key(&mut conn, &key_path)?;
    let nothing_written = |v: givetrail_domain::error::ValidationError| {
        anyhow::anyhow!(
            "{}: {}; nothing was written",
            a.file.display(),
            v.to_string().trim_start_matches("invalid request: ")
        )
    };
    let workbook = a
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let bar;
    let (mut rows, first_row): (Box<dyn Iterator<Item = Row>>, u64) = if workbook {
        // A workbook is a zip archive: it is read whole.
        let bytes =
            std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
        let sheet = DonationSheet::new(&bytes).map_err(nothing_written)?;
        bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let first = sheet.header_row() + 1;
        (Box::new(sheet), first)
    } else {
        let file = std::fs::File::open(&a.file)
            .with_context(|| format!("cannot open {}", a.file.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let input = std::io::BufReader::with_capacity(1 << 16, bar.wrap_read(file));
        (
            Box::new(DonationCsv::new(input).map_err(nothing_written)?),
            2,
        )
    };
    let author = Author {
        role: Role::Charity,
        subject: a.org.clone(),
    };
    let started = Instant::now();
    let mut count = 0u64;
    let mut progress = |n: u64| {
        count += n;
        if count.is_multiple_of(PROGRESS_EVERY_ROWS) {
            let rate = count as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{count} rows, {rate:.0} rows/s"));
        }
    };
    let result = import(
        &mut conn,
        &a.org,
        &author,
        &mut rows,
        a.chunk,
        &key,
        &mut progress,
    );
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(done) if done.rows == 0 => {
            bail!(
                "{}: row {first_row}: the file has a header but no donation rows",
                a.file.display()
            )
        }
        Ok(done) => {
            println!(
                "imported {} donation(s) into {} (seq {}–{}) in {seconds:.2} s ({:.0} rows/s), {} commit(s) with signed checkpoints",
                done.rows,
                a.org,
                done.first_seq,
                done.last_seq,
                done.rows as f64 / seconds.max(1e-6),
                done.commits
            );
            Ok(())
        }
        Err(failure) => {
            let what = match &failure.error {
                ImportError::Rejected(_) => format!("{}: {}", a.file.display(), failure.error),
                other => other.to_string(),
            };
            if failure.committed.rows == 0 {
                bail!("{what}; nothing was written");
            }
            bail!(
                "{what}; the {} row(s) of earlier chunks stay committed (seq {}–{})",
                failure.committed.rows,
                failure.committed.first_seq,
                failure.committed.last_seq
            );
        }
    }
}
