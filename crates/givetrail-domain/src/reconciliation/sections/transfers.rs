//! Transfers (逐级拨付逐级公布): every live disbursement to a recipient linked to an organisation
//! on Givetrail, against the donations that organisation recorded of it
//! (`source_disbursement` naming it or an earlier version of it): not recorded within the
//! disbursement's disclosure deadline (`transfer_not_recorded`), recorded short
//! (`transfer_quantity_differs`), recorded without its designation by donor consent
//! (`transfer_designation_changed`).

use super::{at, day, describe, emergency_of, listed, number, span, Findings};
use crate::disclosure::AssetLabel;
use crate::entry::Seq;
use crate::reconciliation::inputs::{Inputs, TransferRecord};
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::EntryAt;

/// The three checks, for the disbursements of the period.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    for d in ledger.books.disbursements.values().filter(|d| d.live) {
        let Some(receiver) = inp
            .directory
            .get(d.recipient.as_str())
            .and_then(|p| p.organization.as_deref())
            .filter(|o| *o != org)
        else {
            continue;
        };
        let Some(fact) = ledger.fact(d.seq) else {
            continue;
        };
        if !inp.period.contains(fact.occurred_at) {
            continue;
        }
        let versions = ledger.versions(d.seq);
        let mut records: Vec<&TransferRecord> = inp
            .transfers
            .iter()
            .filter(|t| {
                t.organization == receiver
                    && versions.contains(&t.disbursement)
                    && t.recorded_at <= inp.as_at
            })
            .collect();
        records.sort_by_key(|t| (t.recorded_at, t.seq));
        let allowed = inp.policy.deadline(emergency_of(ledger, d.seq));
        let deadline = fact.occurred_at + allowed;
        let overdue = inp.as_at > deadline;
        let label = AssetLabel::from(&d.asset);
        let theirs: Vec<Seq> = records.iter().map(|t| t.seq).collect();
        let mut entries = vec![at(inp, d.seq)];
        entries.extend(records.iter().map(|t| EntryAt::new(&t.organization, t.seq)));
        let sent = format!(
            "Disbursement #{} on {} sent {} to {} ({receiver} on Givetrail)",
            d.seq,
            day(fact.occurred_at),
            describe(&d.asset, d.units),
            d.recipient,
        );
        if overdue && !records.iter().any(|t| t.recorded_at <= deadline) {
            let message = match records.first() {
                None => format!(
                    "{sent}; {receiver} has not recorded receiving it, {} later, beyond its disclosure deadline of {}.",
                    span(inp.as_at - fact.occurred_at),
                    span(allowed),
                ),
                Some(first) => format!(
                    "{sent}; {receiver} recorded it only on {} (donation {}), after its disclosure deadline of {}.",
                    day(first.recorded_at),
                    listed(&theirs),
                    span(allowed),
                ),
            };
            if let Some(x) = f.add(FindingKind::TransferNotRecorded, entries.clone(), message) {
                x.asset = Some(label.clone());
            }
        }
        let recorded: i64 = records.iter().map(|t| t.units).sum();
        if overdue && !records.is_empty() && recorded < d.units {
            let message = format!(
                "{sent}; {receiver} recorded only {} of it (donation {}): {} short.",
                describe(&d.asset, recorded),
                listed(&theirs),
                number(&d.asset, d.units - recorded),
            );
            if let Some(x) = f.add(
                FindingKind::TransferQuantityDiffers,
                entries.clone(),
                message,
            ) {
                x.asset = Some(label.clone());
            }
        }
        for t in &records {
            let Some(change) = &t.designation_change else {
                continue;
            };
            let message = format!(
                "{sent}; {receiver} recorded it as donation #{} without the designation it carried, citing donor consent {}: {}.",
                t.seq,
                change.donor_consent_reference,
                change.reason.trim_end_matches('.'),
            );
            if let Some(x) = f.add(
                FindingKind::TransferDesignationChanged,
                vec![at(inp, d.seq), EntryAt::new(&t.organization, t.seq)],
                message,
            ) {
                x.asset = Some(label.clone());
            }
        }
    }
}
