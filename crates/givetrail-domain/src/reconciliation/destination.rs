//! A report restricted to one destination (`?destination={code}`): what a regulator of the
//! region the goods and money went to may read of any organisation's report.
//!
//! **How.** The report is computed over the whole log as usual (its balances, oldest-first
//! attribution and designation checks need every entry), and then [`restrict`] keeps only the
//! findings that name at least one of this log's allocations, disbursements, acknowledgements or
//! usage reports (or a correction of one) whose recipient's region code starts with the
//! destination code. Findings about the log as a whole or about donations alone (integrity,
//! balances, ageing of unallocated stock, fundraising, bank lines) name no such entry and are
//! left out, as are the bank matching detail and the complaints about the organisation. The
//! organisation's totals are replaced by the destination's: per asset, what the log allocated,
//! disbursed, saw acknowledged and used for the destination's recipients (`destination.totals`;
//! the top-level `totals` is empty).

use serde::Serialize;

use crate::disclosure::{Directory, Ledger};
use crate::entry::{Fact, Seq};
use crate::ids::region_has_prefix;
use crate::regions::{totals_of, AssetInflow};

use super::bank::BankReconciliation;
use super::model::{Counts, Report, Severity};

/// The destination a restricted report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Destination {
    /// The region-code prefix.
    pub region: String,
    /// The log's recipients in that region (slug order).
    pub recipients: Vec<String>,
    /// What the log gave them, per asset (live allocations and disbursements as at the report's
    /// moment).
    pub totals: Vec<AssetInflow>,
}

/// The recipient an allocation, disbursement, acknowledgement or usage report at `seq` is
/// about (a correction: that of what it corrected), live or not.
pub fn recipient_of(ledger: &Ledger, seq: Seq) -> Option<&str> {
    let books = &ledger.books;
    if let Some(a) = books.allocations.get(&seq) {
        return Some(a.recipient.as_str());
    }
    if let Some(d) = books.disbursements.get(&seq) {
        return Some(d.recipient.as_str());
    }
    if let Some(about) = books.facts.get(&seq).and_then(|f| f.about) {
        return books
            .disbursements
            .get(&about)
            .map(|d| d.recipient.as_str());
    }
    match ledger.fact(seq).map(|f| f.fact) {
        // A correction comes after what it corrects, so this ends.
        Some(Fact::Correction(c)) if c.corrects < seq => recipient_of(ledger, c.corrects),
        _ => None,
    }
}

/// `report` restricted to the recipients of `ledger` whose region code starts with `region`
/// (see the module documentation). `directory` holds the recipients the log names.
pub fn restrict(
    mut report: Report,
    ledger: &Ledger,
    directory: &Directory,
    region: &str,
) -> Report {
    let in_region = |recipient: &str| {
        directory
            .get(recipient)
            .is_some_and(|p| region_has_prefix(&p.region_code, region))
    };
    let org = ledger.organization.id.as_str();
    report.findings.retain(|f| {
        f.entries
            .iter()
            .any(|e| e.organization == org && recipient_of(ledger, e.seq).is_some_and(in_region))
    });
    let mut counts = Counts::default();
    for f in &report.findings {
        match f.severity {
            Severity::Info => counts.info += 1,
            Severity::Warning => counts.warning += 1,
            Severity::Violation => counts.violation += 1,
        }
    }
    report.counts = counts;
    let recipients: Vec<String> = ledger
        .recipient_ids()
        .into_iter()
        .filter(|r| in_region(r))
        .collect();
    let totals = totals_of(
        recipients
            .iter()
            .filter_map(|r| ledger.received(r))
            .flat_map(|r| r.totals.iter()),
    );
    report.totals = Vec::new();
    report.bank = BankReconciliation::default();
    report.complaints = Vec::new();
    report.destination = Some(Destination {
        region: region.to_owned(),
        recipients,
        totals,
    });
    report
}
