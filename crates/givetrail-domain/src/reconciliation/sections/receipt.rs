//! Receipt: disbursements unacknowledged beyond their limit or acknowledged differently.

use super::{at, day, describe, emergency_of, limit_words, number, span, Findings};
use crate::disclosure::{flows, AssetLabel};
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::{Section, Severity};

/// Acknowledgements of the disbursements of the period.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let statements = flows::statements(ledger);
    let (mut sent, mut acknowledged) = (0usize, 0usize);
    for d in ledger.books.disbursements.values().filter(|d| d.live) {
        let Some(fact) = ledger.fact(d.seq) else {
            continue;
        };
        if !inp.period.contains(fact.occurred_at) {
            continue;
        }
        sent += 1;
        let label = Some(AssetLabel::from(&d.asset));
        match d.acknowledged {
            None => {
                let emergency = emergency_of(ledger, d.seq);
                let age = inp.as_at - fact.occurred_at;
                if age > inp.limits.limit(emergency) {
                    let message = format!(
                        "{} sent to {} by disbursement #{} on {} has not been acknowledged, {} later — beyond {}.",
                        describe(&d.asset, d.units),
                        d.recipient,
                        d.seq,
                        day(fact.occurred_at),
                        span(age),
                        limit_words(&inp.limits, emergency),
                    );
                    if let Some(x) =
                        f.add(FindingKind::Unacknowledged, vec![at(inp, d.seq)], message)
                    {
                        x.asset = label;
                    }
                }
            }
            Some(got) => {
                acknowledged += 1;
                if got == d.units {
                    continue;
                }
                let mut entries = vec![at(inp, d.seq)];
                let ack = statements.get(&d.seq).and_then(|st| st.acknowledgement);
                entries.extend(ack.map(|a| at(inp, a)));
                let gap = if got < d.units {
                    format!("{} short", number(&d.asset, d.units - got))
                } else {
                    format!("{} more than was sent", number(&d.asset, got - d.units))
                };
                let by = ack
                    .map(|a| format!(" (acknowledgement #{a})"))
                    .unwrap_or_default();
                if let Some(x) = f.add(
                    FindingKind::AcknowledgementDiscrepancy,
                    entries,
                    format!(
                        "{} acknowledged {} of the {} sent by disbursement #{}{by}: {gap}.",
                        d.recipient,
                        number(&d.asset, got),
                        describe(&d.asset, d.units),
                        d.seq
                    ),
                ) {
                    x.asset = label;
                }
            }
        }
    }
    if !f.has(Section::Receipt, Severity::Warning) {
        let message = format!(
            "{acknowledged} of {sent} disbursements are acknowledged, each as sent; none is overdue."
        );
        f.add(FindingKind::ReceiptsConsistent, Vec::new(), message);
    }
}
