//! Needs: goods sent where nobody had asked for them while an urgent need in a priority region
//! waited (`allocation_bypassed_need`), and critical needs left open while the organisation held
//! the goods (`need_unmet_while_stock_held`).
//!
//! A need is *lacking* at a moment by what neither the pledges (live allocations naming it, by
//! any organisation) nor the acknowledged deliveries made before then cover; it lacks nothing
//! before it was posted or once it was withdrawn ([`NeedRecord::lacking_before`]). "Urgent" is
//! the urgency `high`, the level below `critical`.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use super::{at, day, describe, listed, number, span, Findings};
use crate::asset::AssetKey;
use crate::disclosure::{AssetLabel, Party};
use crate::entry::{Fact, Seq};
use crate::ids::RegionCode;
use crate::ledger::Lot;
use crate::needs::Urgency;
use crate::reconciliation::inputs::{Inputs, NeedRecord};
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::Severity;

/// How long a critical need may stay open while the organisation holds matching goods.
pub const CRITICAL_NEED_HOURS: i64 = 24;

/// Both checks.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    bypassed(inp, f);
    unmet_while_held(inp, f);
}

/// Whether goods of `lot` may go to `p` under the lot's designation.
fn lot_allows(lot: &Lot, p: &Party) -> bool {
    let Some(d) = &lot.designation else {
        return true;
    };
    let region = match (&d.region_code, RegionCode::parse(&p.region_code)) {
        (None, _) => true,
        (Some(r), Ok(code)) => r.contains(&code),
        (Some(_), Err(_)) => false,
    };
    region && d.recipient.as_ref().is_none_or(|r| r.as_str() == p.id)
}

/// `wuhan-private-hospital (private)`, `jinyintan-hospital (designated hospital, public)`.
fn who(p: &Party) -> String {
    let mut traits = Vec::new();
    if p.designated_hospital {
        traits.push("designated hospital".to_owned());
    }
    traits.extend(p.ownership.clone());
    if traits.is_empty() {
        p.id.clone()
    } else {
        format!("{} ({})", p.id, traits.join(", "))
    }
}

fn needs_by_asset<'a>(inp: &Inputs<'a>) -> BTreeMap<&'a AssetKey, Vec<&'a NeedRecord>> {
    let mut out: BTreeMap<&AssetKey, Vec<&NeedRecord>> = BTreeMap::new();
    for n in inp.needs {
        out.entry(&n.asset).or_default().push(n);
    }
    out
}

/// Goods allocated to a recipient with no open need for them while a recipient in a priority
/// region had an open critical or urgent need for the same goods that the allocated lots could
/// have served. Allocations naming a need, and allocations to a charity linked to an
/// organisation on Givetrail (which passes the goods on and is reported on itself), are not
/// checked.
fn bypassed(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let by_asset = needs_by_asset(inp);
    for a in ledger.books.allocations.values().filter(|a| a.live) {
        if a.need.is_some() {
            continue;
        }
        let Some(needs) = by_asset.get(&a.asset) else {
            continue;
        };
        let Some(fact) = ledger.fact(a.seq) else {
            continue;
        };
        let t = fact.occurred_at;
        if !inp.period.contains(t) {
            continue;
        }
        let Some(receiver) = inp.directory.get(a.recipient.as_str()) else {
            continue;
        };
        if receiver.organization.is_some() {
            continue;
        }
        if needs
            .iter()
            .any(|n| n.recipient.id == receiver.id && n.lacking_before(t) > 0)
        {
            continue;
        }
        let lots: Vec<&Lot> = match fact.fact {
            Fact::Allocation(b) => b
                .drawn_from
                .iter()
                .map(|d| d.donation)
                .chain(b.donation)
                .filter_map(|s| ledger.books.lots.get(&s).map(AsRef::as_ref))
                .collect(),
            _ => Vec::new(),
        };
        let mut waiting: Vec<(&NeedRecord, i64)> = needs
            .iter()
            .filter(|n| n.recipient.id != receiver.id)
            .filter(|n| matches!(n.urgency, Urgency::Critical | Urgency::High))
            .filter(|n| inp.policy.is_priority(&n.recipient.region_code))
            .filter(|n| lots.is_empty() || lots.iter().any(|l| lot_allows(l, &n.recipient)))
            .filter_map(|n| {
                let lacking = n.lacking_before(t);
                (lacking > 0).then_some((*n, lacking))
            })
            .collect();
        if waiting.is_empty() {
            continue;
        }
        // Designated hospitals first, then critical before urgent, then the longest waiting.
        waiting.sort_by_key(|(n, _)| (!n.recipient.designated_hospital, n.urgency, n.posted_at));
        let private = receiver.ownership.as_deref() == Some("private");
        let severity = if private && waiting[0].0.recipient.designated_hospital {
            Severity::Violation
        } else {
            Severity::Warning
        };
        let (n, lacking) = waiting[0];
        let more = match waiting.len() - 1 {
            0 => String::new(),
            1 => "; one more urgent need in a priority region was waiting too".to_owned(),
            k => format!("; {k} more urgent needs in priority regions were waiting too"),
        };
        let message = format!(
            "Allocation #{} on {} gave {} to {}, which had no open need for them, while {} in priority region {} had an open {} need {} still lacking {} (posted {}{}){more}.",
            a.seq,
            day(t),
            describe(&a.asset, a.units),
            who(receiver),
            who(&n.recipient),
            n.recipient.region_code,
            n.urgency.as_str(),
            n.id,
            number(&n.asset, lacking),
            day(n.posted_at),
            waited(t - n.posted_at),
        );
        if let Some(x) = f.add_as(
            FindingKind::AllocationBypassedNeed,
            severity,
            vec![at(inp, a.seq)],
            message,
        ) {
            x.asset = Some(AssetLabel::from(&a.asset));
        }
    }
}

/// `, 3 days before` — nothing under an hour.
fn waited(d: Duration) -> String {
    if d < Duration::hours(1) {
        String::new()
    } else {
        format!(", {} before", span(d))
    }
}

/// Units of the goods left unallocated in each lot just after `t`, from the lot's date and the
/// dates of the live allocations, expenses and purchases drawing on it.
fn held_after(inp: &Inputs<'_>, lots: &[&Lot], t: DateTime<Utc>) -> Vec<(Seq, i64)> {
    let ledger = inp.ledger;
    lots.iter()
        .filter(|l| l.occurred_at <= t)
        .map(|l| {
            let drawn: i64 = ledger
                .live_draws_on(l.seq)
                .filter(|d| ledger.fact(d.by).is_some_and(|x| x.occurred_at <= t))
                .map(|d| d.units)
                .sum();
            (l.seq, l.received - drawn)
        })
        .filter(|(_, left)| *left > 0)
        .collect()
}

/// A critical need still lacking more than [`CRITICAL_NEED_HOURS`] after it was posted, at a
/// moment when this organisation held unallocated goods of the same kind that its donors'
/// designations allowed to go to the need's recipient. One finding per need, at the first such
/// moment inside the period.
fn unmet_while_held(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    for n in inp.needs.iter().filter(|n| n.urgency == Urgency::Critical) {
        let lots: Vec<&Lot> = ledger
            .books
            .lots
            .values()
            .map(AsRef::as_ref)
            .filter(|l| l.live && l.asset == n.asset && lot_allows(l, &n.recipient))
            .collect();
        if lots.is_empty() {
            continue;
        }
        let start = (n.posted_at + Duration::hours(CRITICAL_NEED_HOURS))
            .max(inp.period.from.unwrap_or(DateTime::<Utc>::MIN_UTC));
        let end = inp.period.to.map_or(inp.as_at, |to| to.min(inp.as_at));
        if start >= end {
            continue;
        }
        // The holdings and the lack change only at these moments.
        let mut moments: Vec<DateTime<Utc>> = vec![start];
        for l in &lots {
            moments.push(l.occurred_at);
            moments.extend(
                ledger
                    .live_draws_on(l.seq)
                    .filter_map(|d| ledger.fact(d.by).map(|x| x.occurred_at)),
            );
        }
        moments.extend(n.changes());
        moments.retain(|m| *m >= start && *m < end);
        moments.sort();
        moments.dedup();
        let found = moments.into_iter().find_map(|m| {
            // Just after `m`: what its events changed, counted.
            let lacking = n.lacking_before(m + Duration::microseconds(1));
            let held = held_after(inp, &lots, m);
            (lacking > 0 && !held.is_empty()).then_some((m, lacking, held))
        });
        let Some((m, lacking, held)) = found else {
            continue;
        };
        let units: i64 = held.iter().map(|(_, u)| *u).sum();
        let seqs: Vec<Seq> = held.iter().map(|(s, _)| *s).collect();
        let message = format!(
            "Critical need {} of {} in region {} for {}, posted {}, was still lacking {} on {}, {} after it was posted, while {org} held {} unallocated that could have gone there (donations {}).",
            n.id,
            who(&n.recipient),
            n.recipient.region_code,
            describe(&n.asset, n.units),
            day(n.posted_at),
            number(&n.asset, lacking),
            day(m),
            span(m - n.posted_at),
            describe(&n.asset, units),
            listed(&seqs),
        );
        if let Some(x) = f.add(
            FindingKind::NeedUnmetWhileStockHeld,
            seqs.iter().map(|s| at(inp, *s)).collect(),
            message,
        ) {
            x.asset = Some(AssetLabel::from(&n.asset));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::test_log::{self, seq, HOSPITAL, ORG};
    use crate::disclosure::Directory;
    use crate::reconciliation::model::{EntryAt, Finding};
    use crate::reconciliation::sections::test_report;
    use chrono::TimeZone;

    fn day(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 2, d, h, 0, 0)
            .single()
            .expect("a date")
    }

    fn fever_hospital() -> Party {
        Party {
            id: "wuhan-fever-hospital".into(),
            name: "武汉市金银潭医院".into(),
            credit_code: None,
            kind: "hospital".into(),
            region_code: "420105".into(),
            organization: None,
            ownership: Some("public".into()),
            designated_hospital: true,
            registered_by: None,
            confirmed_at: None,
        }
    }

    /// A need for the log's protective suits, posted on 3 February at 10:00.
    fn suits_need(urgency: Urgency) -> NeedRecord {
        let ledger = test_log::ledger();
        NeedRecord {
            id: "need-1".into(),
            recipient: fever_hospital(),
            asset: ledger.books.lots[&seq::PURCHASE].asset.clone(),
            units: 800_000,
            urgency,
            posted_at: day(3, 10),
            withdrawn_at: None,
            pledges: Vec::new(),
            deliveries: Vec::new(),
        }
    }

    fn of_kind(findings: &[Finding], kind: FindingKind) -> Vec<&Finding> {
        findings.iter().filter(|f| f.kind == kind).collect()
    }

    #[test]
    fn a_need_lacks_what_pledges_and_deliveries_do_not_cover_until_withdrawn() {
        let mut n = suits_need(Urgency::Critical);
        assert_eq!(n.lacking_before(day(3, 9)), 0, "not posted yet");
        assert_eq!(n.lacking_before(day(3, 11)), 800_000);
        n.pledges.push((day(4, 10), 300_000));
        n.deliveries.push((day(5, 10), 500_000));
        assert_eq!(n.lacking_before(day(4, 10)), 800_000, "strictly before");
        assert_eq!(n.lacking_before(day(4, 11)), 500_000);
        assert_eq!(n.lacking_before(day(5, 11)), 300_000);
        n.withdrawn_at = Some(day(6, 10));
        assert_eq!(n.lacking_before(day(6, 10)), 0);
    }

    #[test]
    fn suits_sent_past_a_designated_hospitals_need_are_flagged_worse_for_a_private_receiver() {
        let mut directory = test_log::directory();
        let bypassed = |d: &Directory, n: NeedRecord| {
            of_kind(
                &test_report(d, &[n], &[], &[]),
                FindingKind::AllocationBypassedNeed,
            )
            .into_iter()
            .map(|f| (f.severity, f.entries.clone()))
            .collect::<Vec<_>>()
        };
        let allocation = vec![EntryAt::new(ORG, seq::GOODS_ALLOCATION)];
        assert_eq!(
            bypassed(&directory, suits_need(Urgency::Critical)),
            [(Severity::Warning, allocation.clone())]
        );
        if let Some(p) = directory.get_mut(HOSPITAL) {
            p.ownership = Some("private".into());
        }
        assert_eq!(
            bypassed(&directory, suits_need(Urgency::High)),
            [(Severity::Violation, allocation)]
        );
        // A normal need, a need outside the priority regions, a need posted after the
        // allocation, one pledged in full before it, and one of the receiver's own: no finding.
        assert!(bypassed(&directory, suits_need(Urgency::Normal)).is_empty());
        let mut far = suits_need(Urgency::Critical);
        far.recipient.region_code = "330100".into();
        assert!(bypassed(&directory, far).is_empty());
        let mut late = suits_need(Urgency::Critical);
        late.posted_at = day(4, 11);
        assert!(bypassed(&directory, late).is_empty());
        let mut pledged = suits_need(Urgency::Critical);
        pledged.pledges.push((day(3, 12), 800_000));
        assert!(bypassed(&directory, pledged).is_empty());
        let mut own = suits_need(Urgency::Normal);
        own.recipient = directory[HOSPITAL].clone();
        let found = of_kind(
            &test_report(&directory, &[own, suits_need(Urgency::Critical)], &[], &[]),
            FindingKind::AllocationBypassedNeed,
        )
        .len();
        assert_eq!(found, 0);
    }

    #[test]
    fn a_critical_need_waiting_a_day_beside_unallocated_suits_is_flagged_once() {
        let directory = test_log::directory();
        let findings = test_report(&directory, &[suits_need(Urgency::Critical)], &[], &[]);
        let found = of_kind(&findings, FindingKind::NeedUnmetWhileStockHeld);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].entries, [EntryAt::new(ORG, seq::PURCHASE)]);
        assert!(found[0].message.contains("400 set"), "{}", found[0].message);
        // Pledged in full within the day, or urgent rather than critical: nothing.
        let mut pledged = suits_need(Urgency::Critical);
        pledged.pledges.push((day(4, 9), 800_000));
        let high = suits_need(Urgency::High);
        for n in [pledged, high] {
            let findings = test_report(&directory, &[n], &[], &[]);
            assert!(of_kind(&findings, FindingKind::NeedUnmetWhileStockHeld).is_empty());
        }
    }
}
