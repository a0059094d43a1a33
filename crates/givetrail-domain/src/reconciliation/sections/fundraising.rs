//! Fundraising: fraud signals — record numbers, qualification, campaign dates, reused receipt
//! numbers, references on other organisations' books, and recipients registered under the name
//! of an earlier one (`recipient_name_duplicate`: a lookalike hospital the organisation
//! registered or gave to).

use serde::Serialize;
use std::collections::BTreeSet;

use super::{at, day, listed, Findings};
use crate::entry::{DonationChannel, EntryKind, Fact, Seq};
use crate::reconciliation::inputs::{Inputs, ReferenceKind};
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::{EntryAt, Section, Severity};

/// Fraud signals around fundraising.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = &ledger.organization.id;
    for fact in ledger.live_facts() {
        match &fact.fact {
            Fact::Campaign(c) if c.public_fundraising => {
                if c.record_number.is_none() {
                    let message = format!(
                        "Campaign {} raises from the public without a fundraising-plan record number.", c.id
                    );
                    f.add(
                        FindingKind::CampaignWithoutRecordNumber,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
                if !inp.public_fundraising_qualified {
                    let message = format!(
                        "Campaign {} raises from the public, but {org} is not qualified for public fundraising.", c.id
                    );
                    f.add(
                        FindingKind::UnqualifiedPublicFundraising,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
            }
            Fact::Donation(d) if inp.period.contains(fact.occurred_at) => {
                if let Some(cid) = &d.campaign {
                    let campaign = ledger.books.campaigns.get(cid);
                    let body =
                        campaign
                            .and_then(|st| ledger.fact(st.seq))
                            .and_then(|x| match &x.fact {
                                Fact::Campaign(b) => Some(b),
                                Fact::Donation(_)
                                | Fact::Allocation(_)
                                | Fact::Disbursement(_)
                                | Fact::Acknowledgement(_)
                                | Fact::Usage(_)
                                | Fact::Expense(_)
                                | Fact::Procurement(_)
                                | Fact::Correction(_)
                                | Fact::Disclosure(_) => None,
                            });
                    if let Some(b) = body {
                        if b.public_fundraising && b.record_number.is_none() {
                            let message = format!(
                                "Donation #{} (receipt {}) was raised from the public for campaign {cid}, which has no fundraising-plan record number.",
                                fact.seq, d.receipt_number
                            );
                            f.add(
                                FindingKind::ReceiptWithoutRecordNumber,
                                vec![at(inp, fact.seq)],
                                message,
                            );
                        }
                        let outside = fact.occurred_at < b.starts_at
                            || b.ends_at.is_some_and(|e| fact.occurred_at > e);
                        if outside {
                            let until = b.ends_at.map_or("open-ended".to_owned(), day);
                            let message = format!(
                                "Donation #{} (receipt {}) is dated {}, outside campaign {cid} ({} to {until}).",
                                fact.seq, d.receipt_number, day(fact.occurred_at), day(b.starts_at)
                            );
                            f.add(
                                FindingKind::ReceiptOutsideCampaign,
                                vec![at(inp, fact.seq)],
                                message,
                            );
                        }
                    }
                }
                if !inp.public_fundraising_qualified && d.channel == DonationChannel::OnlinePlatform
                {
                    let message = format!(
                        "Donation #{} (receipt {}) came through an online fundraising platform, but {org} is not qualified for public fundraising.",
                        fact.seq, d.receipt_number
                    );
                    f.add_as(
                        FindingKind::UnqualifiedPublicFundraising,
                        Severity::Warning,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
            }
            Fact::Campaign(_)
            | Fact::Donation(_)
            | Fact::Allocation(_)
            | Fact::Disbursement(_)
            | Fact::Acknowledgement(_)
            | Fact::Usage(_)
            | Fact::Expense(_)
            | Fact::Procurement(_)
            | Fact::Correction(_)
            | Fact::Disclosure(_) => {}
        }
    }
    receipt_reuse(inp, f);
    foreign_references(inp, f);
    name_duplicates(inp, f);
    if !f.has(Section::Fundraising, Severity::Warning) {
        let message = "No fraud signal: every campaign receipt has a record number and falls inside its campaign's dates, no receipt number is reused across channels, no reference appears on another organisation's books, and no recipient it registered or gave to repeats an earlier recipient's name.".to_owned();
        f.add(FindingKind::NoFraudSignal, Vec::new(), message);
    }
}

/// Recipients registered under the exact name (NFC, trimmed) of an earlier recipient, that this
/// organisation registered or allocated to; the entries are its live allocations to them.
fn name_duplicates(inp: &Inputs<'_>, f: &mut Findings) {
    if inp.name_duplicates.is_empty() {
        return;
    }
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    let mut allocations: std::collections::BTreeMap<&str, Vec<Seq>> = Default::default();
    for fact in ledger.live_facts_of(EntryKind::AllocationMade) {
        if let Fact::Allocation(a) = &fact.fact {
            allocations
                .entry(a.recipient.as_str())
                .or_default()
                .push(fact.seq);
        }
    }
    for d in inp.name_duplicates {
        let r = &d.recipient;
        let seqs = allocations.get(r.id.as_str()).cloned().unwrap_or_default();
        let by = match r.registered_by.as_ref() {
            Some(crate::disclosure::Registrar::Charity { organization }) => {
                format!("by charity {organization}")
            }
            Some(crate::disclosure::Registrar::Regulator { jurisdiction }) => {
                format!(
                    "by the regulator of {}",
                    if jurisdiction.is_empty() {
                        "the nation"
                    } else {
                        jurisdiction
                    }
                )
            }
            None => "before registrations were recorded".to_owned(),
        };
        let confirmed = if r.confirmed_at.is_some() {
            "confirmed by a regulator"
        } else {
            "not confirmed by a regulator"
        };
        let earlier: Vec<String> = d
            .earlier
            .iter()
            .map(|(id, at)| format!("{id} (registered {})", day(*at)))
            .collect();
        let given = if seqs.is_empty() {
            format!("{org} has allocated nothing to it")
        } else {
            format!("{org} allocated to it in entries {}", listed(&seqs))
        };
        let message = format!(
            "Recipient {} \"{}\" (region {}), registered {by} on {}, {confirmed}, has exactly the name of {}; {given}.",
            r.id,
            r.name,
            r.region_code,
            day(d.registered_at),
            earlier.join(", ")
        );
        f.add(
            FindingKind::RecipientNameDuplicate,
            seqs.iter().map(|q| at(inp, *q)).collect(),
            message,
        );
    }
}

fn receipt_reuse(inp: &Inputs<'_>, f: &mut Findings) {
    // Only the receipt numbers more than one donation carried: the ledger keeps them as it
    // advances, so this is linear in what it finds, not in the log.
    let ledger = inp.ledger;
    for (receipt, seqs) in ledger.reused_receipts() {
        let uses: Vec<(Seq, DonationChannel)> = seqs
            .iter()
            .filter_map(|&q| match ledger.fact(q).map(|x| x.fact) {
                Some(Fact::Donation(d)) => Some((q, d.channel)),
                _ => None,
            })
            .collect();
        let channels: BTreeSet<String> = uses.iter().map(|(_, c)| channel_name(*c)).collect();
        if channels.len() < 2 {
            continue;
        }
        let seqs: Vec<Seq> = uses.iter().map(|(q, _)| *q).collect();
        f.add(
            FindingKind::ReceiptReusedAcrossChannels,
            seqs.iter().map(|q| at(inp, *q)).collect(),
            format!(
                "Receipt number {receipt} is used by entries {} with different channels ({}).",
                listed(&seqs),
                channels.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

fn channel_name<T: Serialize>(c: T) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// An entry of this log carrying a reference: its seq, what the reference is there, and for a
/// donation the disbursement (organisation, seq) it says it came from.
type OurReference = (Seq, ReferenceKind, Option<(String, Seq)>);

fn foreign_references(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    // This log's live entries carrying a reference, found through the ledger's indexes: linear
    // in the references found on other books, not in the log.
    let ours = |reference: &str| -> Vec<OurReference> {
        let donations = ledger
            .donations_with_receipt(reference)
            .into_iter()
            .filter_map(|q| match ledger.fact(q).map(|x| x.fact) {
                Some(Fact::Donation(d)) if ledger.is_live(q) => Some((
                    q,
                    ReferenceKind::ReceiptNumber,
                    d.source_disbursement
                        .as_ref()
                        .map(|s| (s.organization.to_string(), s.disbursement)),
                )),
                _ => None,
            });
        let disbursements = ledger
            .disbursements_with_reference(reference)
            .iter()
            .filter(|&&q| ledger.is_live(q))
            .map(|&q| (q, ReferenceKind::DisbursementReference, None));
        let mut all: Vec<OurReference> = donations.chain(disbursements).collect();
        all.sort_by_key(|x| x.0);
        all
    };
    let what = |k: ReferenceKind| match k {
        ReferenceKind::ReceiptNumber => "receipt number",
        ReferenceKind::DisbursementReference => "disbursement reference",
    };
    for theirs in inp.foreign.iter().filter(|x| x.organization != org) {
        for (seq, kind, source) in &ours(theirs.reference.as_str()) {
            // A gift passed on between charities legitimately shows the same reference twice.
            let passed_on = match (kind, theirs.kind) {
                (ReferenceKind::ReceiptNumber, ReferenceKind::DisbursementReference) => {
                    source.as_ref() == Some(&(theirs.organization.clone(), theirs.seq))
                }
                (ReferenceKind::DisbursementReference, ReferenceKind::ReceiptNumber) => {
                    theirs.source.as_ref() == Some(&(org.to_owned(), *seq))
                }
                (ReferenceKind::ReceiptNumber, ReferenceKind::ReceiptNumber)
                | (ReferenceKind::DisbursementReference, ReferenceKind::DisbursementReference) => {
                    false
                }
            };
            if passed_on {
                continue;
            }
            let message = format!(
                "Entry #{seq} has {} {}, which {} #{} also records as its {}: the same money may be claimed twice.",
                what(*kind), theirs.reference, theirs.organization, theirs.seq, what(theirs.kind)
            );
            f.add(
                FindingKind::ReferenceOnOtherBooks,
                vec![
                    at(inp, *seq),
                    EntryAt::new(&theirs.organization, theirs.seq),
                ],
                message,
            );
        }
    }
}
