//! The regulator's reconciliation report: whether an organisation's books add up, designations
//! were honoured, goods reached and were used by recipients, the money matches the bank, and
//! what the public complained about — as findings a person can act on.
//!
//! [`reconcile`] is a pure function over what the store hands it ([`inputs::Inputs`]): the
//! organisation's log replayed into a [`Ledger`](crate::disclosure::Ledger) (the disclosure
//! module's, so the report sees exactly the balances the write rules and the public summaries
//! see), the recipients' registry entries, the integrity checks the store ran (hash chain, Merkle
//! root against the latest signed checkpoint, derived tables against a replay), bank lines,
//! references found on other organisations' books, complaints, recipients' needs, what linked
//! organisations recorded of this log's disbursements, and other organisations' purchases of
//! the same goods. It returns a
//! [`model::Report`].
//!
//! Each finding has a [`kind::FindingKind`] (the catalogue says what each means, in English and
//! Chinese), a `severity` (`info` says what holds, `warning` asks for a look, `violation` is a
//! broken rule or record), the entries it concerns and a sentence. Sections, in report order,
//! each a module of [`sections`]:
//!
//! 1. **integrity**: the hash chain and Merkle root recomputed and matched to the latest signed
//!    checkpoint; derived tables rebuilt from the log and compared.
//! 2. **balances**: per asset, received = allocated + expenses + unallocated and allocated =
//!    disbursed + undisbursed, each side from an independent source.
//! 3. **designations**: every allocation honours its donations' designations; every change.
//! 4. **ageing**: money and goods unallocated or undisbursed beyond their limit (7 days for an
//!    emergency campaign, 90 otherwise); receipt-to-disbursement times.
//! 5. **receipt**: disbursements unacknowledged beyond their limit, or acknowledged differently.
//! 6. **spending**: usage against acknowledgements; the charity's own expenses against receipts.
//! 7. **bank**: statement lines matched with money receipts and disbursements ([`bank`]).
//! 8. **disclosure**: late entries, corrections, dates that cannot be right.
//! 9. **fundraising**: fraud signals (record numbers, qualification, campaign dates, reused
//!    receipt numbers, references on other organisations' books).
//! 10. **priority**: the share of undesignated disbursements that went to priority regions.
//! 11. **needs**: goods allocated where nobody asked while an urgent need in a priority region
//!     waited; critical needs left open while the organisation held the goods.
//! 12. **transfers**: disbursements to linked organisations not recorded by them in time, or
//!     recorded short, or without their designation.
//! 13. **procurement**: unit prices above 1.5 times the median others paid within 14 days.
//! 14. **complaints**: complaints about the organisation ([`complaint`]).
//!
//! **Time.** The report is *as at* `to` (default: now): the log as it had been published by
//! then, ageing and overdue acknowledgements measured at that moment. A `to` in the future asks
//! what will be overdue by then if nothing changes. `from`/`to` also limit the event findings
//! (corrections, late entries, discrepancies, bank lines…) to what happened in `[from, to)`;
//! totals, balances and integrity always cover the whole log.
//!
//! **Destination.** [`destination::restrict`] narrows a finished report to the findings about
//! one region's recipients and gives that region's totals (a regulator of the destination).

pub mod bank;
pub mod complaint;
pub mod destination;
pub mod inputs;
pub mod kind;
pub mod model;
pub mod sections;
pub mod table;

use crate::disclosure::summary;

use inputs::Inputs;
use model::{Counts, Report, Severity};
use sections::Findings;

/// Compute the report.
pub fn reconcile(inp: &Inputs<'_>) -> Report {
    let summary = summary::organisation_summary(inp.ledger, inp.directory, inp.policy, inp.as_at);
    let mut f = Findings::default();
    sections::integrity::findings(inp, &mut f);
    let per_asset = sections::balances::asset_books(inp.ledger);
    sections::balances::findings(&per_asset, &mut f);
    sections::designations::findings(inp, &mut f);
    sections::ageing::findings(inp, &summary, &mut f);
    sections::receipt::findings(inp, &mut f);
    sections::spending::findings(&per_asset, &mut f);
    sections::spending::cost_ratios(inp, &mut f);
    let lines = sections::bank::lines_in(inp);
    let bank = bank::reconcile(
        inp.bank_statements,
        &lines,
        bank::ledger_money(inp.ledger, &inp.period, &lines),
    );
    sections::bank::findings(inp, &bank, &mut f);
    sections::disclosure::findings(inp, &summary, &mut f);
    sections::fundraising::findings(inp, &mut f);
    sections::priority::findings(&summary, &mut f);
    sections::needs::findings(inp, &mut f);
    sections::transfers::findings(inp, &mut f);
    sections::procurement::findings(inp, &mut f);
    let complaints = sections::complaints::findings(inp, &mut f);
    let findings = f.finish();
    let mut counts = Counts::default();
    for x in &findings {
        match x.severity {
            Severity::Info => counts.info += 1,
            Severity::Warning => counts.warning += 1,
            Severity::Violation => counts.violation += 1,
        }
    }
    Report {
        organization: inp.ledger.organization.id.clone(),
        organization_name: inp.ledger.organization.name.clone(),
        generated_at: inp.generated_at,
        as_at: inp.as_at,
        period: inp.period,
        totals: summary.assets.clone(),
        counts,
        findings,
        bank,
        complaints,
        destination: None,
    }
}
