//! Designations: every allocation honours its donations' designations; every designation change.

use super::{at, Findings};
use crate::disclosure::Directory;
use crate::entry::{EntryKind, Fact};
use crate::ids::{RegionCode, Slug};
use crate::ledger::{designation_breach, Lot, RecipientInfo};
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::{Section, Severity};

fn recipient_info(directory: &Directory, id: &Slug) -> Option<RecipientInfo> {
    let p = directory.get(id.as_str())?;
    Some(RecipientInfo {
        id: id.clone(),
        region_code: RegionCode::parse(&p.region_code).ok()?,
        organization: p.organization.as_deref().and_then(|o| Slug::parse(o).ok()),
    })
}

fn designation_text(lot: &Lot) -> String {
    match &lot.designation {
        None => "undesignated".into(),
        Some(d) => {
            let mut parts = Vec::new();
            if let Some(r) = &d.region_code {
                parts.push(format!("region {r}"));
            }
            if let Some(r) = &d.recipient {
                parts.push(format!("recipient {r}"));
            }
            format!("designated for {}", parts.join(" and "))
        }
    }
}

/// Designation breaches and changes in the period.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let books = &ledger.books;
    let mut designated_allocations = 0usize;
    for fact in ledger
        .live_facts_of(EntryKind::AllocationMade)
        .filter(|x| inp.period.contains(x.occurred_at))
    {
        let Fact::Allocation(a) = &fact.fact else {
            continue;
        };
        let lots: Vec<&Lot> = a
            .drawn_from
            .iter()
            .filter_map(|d| books.lots.get(&d.donation).map(AsRef::as_ref))
            .collect();
        let region = inp
            .directory
            .get(a.recipient.as_str())
            .map_or("unknown region", |p| p.region_code.as_str());
        let amount = a.asset.parse().map(|x| x.describe()).unwrap_or_default();
        let mut entries = vec![at(inp, fact.seq)];
        entries.extend(lots.iter().map(|l| at(inp, l.seq)));
        if let Some(change) = &a.designation_change {
            let from = lots
                .iter()
                .map(|l| format!("donation #{} ({})", l.seq, designation_text(l)))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "Allocation #{} sends {amount} from {from} to {} ({region}), departing from the donor's designation; reason: “{}”; donor consent reference: “{}”; check the consent",
                fact.seq, a.recipient, change.reason, change.donor_consent_reference
            );
            f.add(FindingKind::DesignationChange, entries, message);
            continue;
        }
        let Some(info) = recipient_info(inp.directory, &a.recipient) else {
            continue;
        };
        for lot in lots.iter().filter(|l| l.designation.is_some()) {
            designated_allocations += 1;
            if let Some(why) = designation_breach(lot, &info) {
                f.add(
                    FindingKind::DesignationBreach,
                    vec![at(inp, fact.seq), at(inp, lot.seq)],
                    format!(
                        "Allocation #{} sends {amount} to {} without the donor's consent: {why}.",
                        fact.seq, a.recipient
                    ),
                );
            }
        }
    }
    if !f.has(Section::Designations, Severity::Warning) {
        let message = format!(
            "Every allocation honours its donations' designations ({designated_allocations} draws on designated donations checked); no designation was changed."
        );
        f.add(FindingKind::DesignationsHonoured, Vec::new(), message);
    }
}
