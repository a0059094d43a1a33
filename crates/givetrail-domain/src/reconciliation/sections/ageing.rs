//! Ageing: money and goods unallocated or undisbursed beyond their limit; receipt-to-disbursement
//! times.

use std::collections::HashMap;

use super::{ageing_limit, at, day, describe, emergency_of, label_text, span, Findings};
use crate::disclosure::ageing::{age, unallocated_lots, undisbursed_allocations};
use crate::disclosure::summary::Summary;
use crate::disclosure::AssetLabel;
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::{Section, Severity};

/// Balances held beyond their limit as at the report's moment (what is held, and its age, as the
/// summaries' stock ageing counts them: `disclosure::ageing`), and receipt-to-disbursement
/// times.
pub(crate) fn findings(inp: &Inputs<'_>, summary: &Summary, f: &mut Findings) {
    let ledger = inp.ledger;
    // A lot belongs to at most one campaign: its limit is worked out once per campaign.
    let mut limits: HashMap<Option<&str>, (chrono::Duration, String)> = HashMap::new();
    for lot in unallocated_lots(ledger) {
        let campaign = lot.campaign.as_ref().map(|c| c.as_str());
        let (limit, limit_text) = limits.entry(campaign).or_insert_with(|| {
            let emergency = campaign.is_some_and(|c| ledger.is_emergency(c));
            let campaigns: Vec<String> = campaign.iter().map(|c| c.to_string()).collect();
            ageing_limit(ledger, &inp.limits, &campaigns, emergency)
        });
        let (limit, limit_text) = (*limit, limit_text.as_str());
        let waited = age(lot.occurred_at, inp.as_at);
        if waited > limit {
            let message = || {
                format!(
                "{} of {} is still on hand, unallocated, {} after it was received on {} — beyond {}.",
                describe(&lot.asset, lot.remaining()),
                if lot.receipt_number.is_empty() {
                    format!("purchase #{}", lot.seq)
                } else {
                    format!("donation #{} (receipt {})", lot.seq, lot.receipt_number)
                },
                span(waited),
                day(lot.occurred_at),
                limit_text,
            )
            };
            if let Some(x) = f.add_with(FindingKind::UnallocatedTooLong, || {
                (vec![at(inp, lot.seq)], message())
            }) {
                x.asset = Some(AssetLabel::from(&lot.asset));
            }
        }
    }
    for (a, allocated_at) in undisbursed_allocations(ledger) {
        let emergency = emergency_of(ledger, a.seq);
        let (limit, limit_text) =
            ageing_limit(ledger, &inp.limits, &ledger.campaigns_of(a.seq), emergency);
        let waited = age(allocated_at, inp.as_at);
        if waited > limit {
            let message = || {
                format!(
                "{} allocated to {} by allocation #{} has not been sent, {} after the allocation — beyond {}.",
                describe(&a.asset, a.units - a.disbursed),
                a.recipient,
                a.seq,
                span(waited),
                limit_text,
            )
            };
            if let Some(x) = f.add_with(FindingKind::UndisbursedTooLong, || {
                (vec![at(inp, a.seq)], message())
            }) {
                x.asset = Some(AssetLabel::from(&a.asset));
            }
        }
    }
    if !f.has(Section::Ageing, Severity::Warning) {
        let message = format!(
            "Nothing is unallocated or undisbursed beyond its limit ({} days for emergency campaigns, {} otherwise).",
            inp.limits.emergency.num_days(), inp.limits.standard.num_days()
        );
        f.add(FindingKind::NothingOverdue, Vec::new(), message);
    }
    for l in &summary.timeliness.receipt_to_disbursement {
        let message = format!(
            "{}: disbursed units waited a median of {} hours (90th percentile {} hours) after their donation was received.",
            label_text(&l.asset), l.median_hours, l.p90_hours
        );
        if let Some(x) = f.add(FindingKind::ReceiptToDisbursement, Vec::new(), message) {
            x.asset = Some(l.asset.clone());
        }
    }
}
