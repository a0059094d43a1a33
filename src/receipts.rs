//! `givetrail receipts --org X --from T --to T --public-url URL`: a printable HTML sheet of an
//! organisation's receipts, each with the QR code of its trail page
//! (`givetrail_http::site::receipts`).

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use givetrail_http::link::PublicUrl;
use givetrail_http::site::i18n::Lang;

use crate::Db;

/// The sheet's language.
#[derive(Clone, Copy, ValueEnum)]
pub enum SheetLang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

#[derive(Args)]
pub struct ReceiptsArgs {
    #[command(flatten)]
    db: Db,
    /// Organisation slug.
    #[arg(long)]
    org: String,
    /// Donations received at or after this moment (RFC 3339).
    #[arg(long)]
    from: Option<DateTime<Utc>>,
    /// Donations received before this moment (RFC 3339).
    #[arg(long)]
    to: Option<DateTime<Utc>>,
    /// Where the public reaches the server (`https://givetrail.example.org`): the codes hold
    /// `<public-url>/trail/<org>/<receipt number>`. Required: a printed code cannot follow a
    /// request's Host.
    #[arg(long, env = "GIVETRAIL_PUBLIC_URL", value_parser = PublicUrl::parse)]
    public_url: PublicUrl,
    /// zh (default) or en.
    #[arg(long, value_enum, default_value = "zh")]
    lang: SheetLang,
    /// Write to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

pub fn run(a: ReceiptsArgs) -> anyhow::Result<()> {
    let (_, mut conn) = crate::open(&a.db)?;
    let origin = a
        .public_url
        .configured()
        .context("--public-url is required")?;
    let lang = match a.lang {
        SheetLang::Zh => Lang::Zh,
        SheetLang::En => Lang::En,
    };
    let html =
        givetrail_http::site::receipts::sheet(&mut conn, &a.org, a.from, a.to, origin, lang)?;
    match a.output {
        Some(path) => std::fs::write(&path, html)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{html}"),
    }
    Ok(())
}
