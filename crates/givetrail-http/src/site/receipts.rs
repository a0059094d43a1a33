//! The printable sheet of receipts `givetrail receipts` writes: each donation of an organisation
//! in a period with its receipt number, date, donor (as the public sees it), gift, and the QR code
//! of its trail page ([`crate::qr`]), two to a row. A standalone HTML file: the codes are inline
//! SVG, so it prints without a server.

use askama::Template;
use chrono::{DateTime, Utc};

use givetrail_domain::disclosure::Record;
use givetrail_domain::entry::Fact;
use givetrail_store::read::feeds::{self, Feed, FeedFilter};
use givetrail_store::read::MAX_PAGE;
use givetrail_store::{registry, AnyConnection, StoreError};

use super::format;
use super::i18n::{fill, Lang, Text};

/// One receipt on the sheet.
pub struct Receipt {
    /// Receipt number.
    pub receipt_number: String,
    /// When it was received, in the sheet's language.
    pub occurred_at: String,
    /// The donor as the public sees them.
    pub donor: String,
    /// The gift, in words.
    pub gift: String,
    /// The trail page's address the code holds.
    pub url: String,
    /// The code, as inline SVG.
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "receipts.html")]
struct Sheet {
    html_lang: &'static str,
    title: String,
    t: &'static Text,
    receipts: Vec<Receipt>,
}

/// Why no sheet was written.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// The organisation is not registered.
    #[error("organisation {0} is not registered")]
    UnknownOrganization(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A code or the page could not be made.
    #[error("{0}")]
    Render(String),
}

/// The sheet of `org`'s live donations that happened in `[from, to)`, oldest first, each code
/// holding its trail page's address at `origin` (`https://givetrail.example.org`).
pub fn sheet(
    c: &mut AnyConnection,
    org: &str,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    origin: &str,
    lang: Lang,
) -> Result<String, SheetError> {
    let o = registry::organization(c, org)?
        .ok_or_else(|| SheetError::UnknownOrganization(org.to_owned()))?;
    let t = lang.text();
    let filter = FeedFilter {
        campaign: None,
        recipient: None,
        region: None,
        asset: None,
        from: from.map(|t| t.timestamp_micros()),
        to: to.map(|t| t.timestamp_micros()),
        include_voided: false,
    };
    let mut receipts = Vec::new();
    let mut after = 0;
    loop {
        let page = feeds::feed(c, org, Feed::Donations, &filter, after, MAX_PAGE)?;
        for e in &page.items {
            let r = Record::from_entry(e).map_err(StoreError::Corrupt)?;
            let donation = match &r.fact {
                Fact::Donation(d) => d,
                Fact::Correction(c) => match c.replacement.as_deref() {
                    Some(Fact::Donation(d)) => d,
                    _ => continue,
                },
                _ => continue,
            };
            let url = crate::qr::trail_url(origin, org, &donation.receipt_number);
            let svg = crate::qr::svg(&url).map_err(SheetError::Render)?;
            receipts.push(Receipt {
                receipt_number: donation.receipt_number.clone(),
                occurred_at: format::datetime(&r.occurred_at, lang),
                donor: donation
                    .donor
                    .display_name
                    .clone()
                    .unwrap_or_else(|| t.anonymous_donor.to_owned()),
                gift: format::asset(&donation.asset, lang),
                url,
                // Inline in HTML: without the XML declaration.
                qr_svg: svg
                    .find("<svg")
                    .map_or(svg.clone(), |i| svg[i..].to_owned()),
            });
        }
        match page.next.and_then(|n| n.parse().ok()) {
            Some(n) => after = n,
            None => break,
        }
    }
    Sheet {
        html_lang: lang.html(),
        title: fill(t.receipts_title, &[("org", &o.name)]),
        t,
        receipts,
    }
    .render()
    .map_err(|e| SheetError::Render(e.to_string()))
}
