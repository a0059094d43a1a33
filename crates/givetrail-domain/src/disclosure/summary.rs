//! Organisation, campaign and recipient summaries, per asset.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::asset::{AssetKey, AssetWire};
use crate::entry::{DesignationChange, EntryKind, Fact, Seq};

use super::ageing::{self, Ageing};
use super::flows::{self, Share};
use super::timeliness::{self, TimelinessSummary};
use super::{asset_wire, per_asset, percent, AssetLabel, Directory, Ledger, Policy};

/// Running totals of one asset, in units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Received (live donations).
    pub received: i64,
    /// Allocated to recipients.
    pub allocated: i64,
    /// Spent on the charity's own costs.
    pub expenses: i64,
    /// Money spent buying goods (procurements).
    pub procured: i64,
    /// Goods received by buying them with donated money (part of `received`).
    pub purchased: i64,
    /// Sent to recipients.
    pub disbursed: i64,
    /// Acknowledged by recipients as arrived.
    pub acknowledged: i64,
    /// Reported used by recipients.
    pub used: i64,
    /// Disbursed and not yet acknowledged.
    pub unacknowledged: i64,
    /// Disbursed minus acknowledged, over acknowledged disbursements (negative: more arrived).
    pub shortfall: i64,
}

impl Totals {
    /// Received and neither allocated nor spent (on expenses or on buying goods).
    pub fn unallocated(&self) -> i64 {
        self.received - self.allocated - self.expenses - self.procured
    }

    /// Allocated and not yet disbursed.
    pub fn undisbursed(&self) -> i64 {
        self.allocated - self.disbursed
    }

    /// Add a disbursement share: disbursed, acknowledged (or unacknowledged), used.
    pub fn add_share(&mut self, s: &Share) {
        self.disbursed += s.units;
        self.used += s.used;
        match s.acknowledged {
            Some(a) => {
                self.acknowledged += a;
                self.shortfall += s.units - a;
            }
            None => self.unacknowledged += s.units,
        }
    }
}

/// [`Totals`] as decimal strings of the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TotalsWire {
    /// Received.
    pub received: String,
    /// Allocated.
    pub allocated: String,
    /// Disbursed.
    pub disbursed: String,
    /// Acknowledged by recipients.
    pub acknowledged: String,
    /// Reported used by recipients.
    pub used: String,
    /// The charity's own expenses.
    pub expenses: String,
    /// Money spent buying goods (procurements).
    pub procured: String,
    /// Goods bought with donated money (included in `received`).
    pub purchased: String,
    /// Received − allocated − expenses − procured.
    pub unallocated: String,
    /// Allocated − disbursed.
    pub undisbursed: String,
    /// Disbursed and not yet acknowledged.
    pub unacknowledged: String,
    /// Disbursed − acknowledged over acknowledged disbursements (negative: more arrived).
    pub shortfall: String,
}

impl TotalsWire {
    /// Format totals of `key`.
    pub fn new(key: &AssetKey, t: &Totals) -> Self {
        Self {
            received: key.format(t.received),
            allocated: key.format(t.allocated),
            disbursed: key.format(t.disbursed),
            acknowledged: key.format(t.acknowledged),
            used: key.format(t.used),
            expenses: key.format(t.expenses),
            procured: key.format(t.procured),
            purchased: key.format(t.purchased),
            unallocated: key.format(t.unallocated()),
            undisbursed: key.format(t.undisbursed()),
            unacknowledged: key.format(t.unacknowledged),
            shortfall: key.format(t.shortfall),
        }
    }
}

/// The share of undesignated assets disbursed into priority regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PriorityShare {
    /// Undesignated units disbursed.
    pub undesignated_disbursed: String,
    /// Of those, to recipients in a priority region.
    pub to_priority_regions: String,
    /// The percentage, two decimals (`"87.50"`); `null` when nothing undesignated was disbursed.
    pub share_percent: Option<String>,
}

/// One asset's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AssetSummary {
    /// The asset.
    pub asset: AssetLabel,
    /// All donations.
    #[serde(flatten)]
    pub totals: TotalsWire,
    /// Donations the donor designated.
    pub designated: TotalsWire,
    /// Undesignated donations (the pool).
    pub undesignated: TotalsWire,
    /// Where undesignated assets went.
    pub priority_regions: PriorityShare,
    /// How many corrections (correction notices) concern entries of this asset.
    pub corrections: u64,
    /// Stock ageing as at the summary's moment: `unallocated` and `undisbursed` by how long
    /// they have waited (each stage's buckets add up to the totals above).
    pub ageing: Ageing,
}

/// A departure from a donor's designation, with the donor's consent reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DesignationChangeNotice {
    /// Seq of the allocation that departed.
    pub allocation: Seq,
    /// The designated donation.
    pub donation: Option<Seq>,
    /// Where it went.
    pub recipient: String,
    /// Why, and the consent reference.
    #[serde(flatten)]
    pub change: DesignationChange,
}

/// A correction notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CorrectionNotice {
    /// Seq of the correction.
    pub seq: Seq,
    /// Seq of the corrected entry.
    pub corrects: Seq,
    /// Kind of the corrected entry.
    pub corrected_kind: String,
    /// Why.
    pub reason: String,
    /// Whether a replacement lives at the correction's seq.
    pub replaced: bool,
    /// When the correction was published.
    pub recorded_at: DateTime<Utc>,
}

/// An organisation's or a campaign's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    /// Organisation slug.
    pub organization: String,
    /// Campaign slug, for a campaign summary.
    pub campaign: Option<String>,
    /// Region prefixes counted as priority.
    pub priority_regions: Vec<String>,
    /// Per asset.
    pub assets: Vec<AssetSummary>,
    /// Every documented departure from a designation.
    pub designation_changes: Vec<DesignationChangeNotice>,
    /// Every correction notice.
    pub corrections: Vec<CorrectionNotice>,
    /// Deadlines and receipt-to-disbursement times.
    pub timeliness: TimelinessSummary,
}

#[derive(Default)]
struct Acc {
    all: Totals,
    designated: Totals,
    undesignated: Totals,
    to_priority: i64,
}

impl Acc {
    fn add(&mut self, designated: bool, f: impl Fn(&mut Totals)) {
        f(&mut self.all);
        f(if designated {
            &mut self.designated
        } else {
            &mut self.undesignated
        });
    }
}

/// [`summarise`] of the whole log as at `as_at`. Everything but the ageing is worked out once
/// per version of the ledger (see [`Ledger::derived`]) and the ageing from the holdings kept
/// beside it, so a summary as at any moment costs a few binary searches per asset. `directory`
/// must be the recipients this ledger names, which a version fixes.
pub fn organisation_summary(
    ledger: &Ledger,
    directory: &Directory,
    policy: &Policy,
    as_at: DateTime<Utc>,
) -> Summary {
    let unaged = ledger.derived(&format!("summary {policy:?}"), || {
        unaged(ledger, directory, policy, None)
    });
    aged(Summary::clone(&unaged), ledger, None, as_at)
}

/// Summarise the whole log (`campaign: None`) or the donations of one campaign and everything
/// drawn on them; stock ageing as at `as_at` (the report's moment: the end of a period, a
/// `?to=`, or now).
pub fn summarise(
    ledger: &Ledger,
    directory: &Directory,
    policy: &Policy,
    campaign: Option<&str>,
    as_at: DateTime<Utc>,
) -> Summary {
    aged(
        unaged(ledger, directory, policy, campaign),
        ledger,
        campaign,
        as_at,
    )
}

/// `summary` (of `campaign`'s scope in `ledger`) with each asset's ageing as at `as_at`.
fn aged(
    mut summary: Summary,
    ledger: &Ledger,
    campaign: Option<&str>,
    as_at: DateTime<Utc>,
) -> Summary {
    // An asset nothing is held of keeps the empty ageing `unaged` gave it.
    for (key, stock) in ageing::holdings(ledger, campaign).iter() {
        let label = AssetLabel::from(key);
        if let Some(a) = summary.assets.iter_mut().find(|a| a.asset == label) {
            a.ageing = Ageing::new(key, stock, as_at);
        }
    }
    summary
}

/// The summary with every asset's ageing empty (filled by [`aged`]).
fn unaged(
    ledger: &Ledger,
    directory: &Directory,
    policy: &Policy,
    campaign: Option<&str>,
) -> Summary {
    let books = &ledger.books;
    let scoped = |l: &crate::ledger::Lot| {
        campaign.is_none() || l.campaign.as_ref().map(|c| c.as_str()) == campaign
    };
    let in_scope = |lot: Seq| books.lots.get(&lot).is_some_and(|l| l.live && scoped(l));
    let mut acc: BTreeMap<AssetKey, Acc> = BTreeMap::new();
    for (lot, bought) in ledger.live_lots().filter(|(l, _)| scoped(l)) {
        let designated = lot.designation.is_some();
        per_asset(&mut acc, &lot.asset).add(designated, |t| {
            t.received += lot.received;
            if bought {
                t.purchased += lot.received;
            }
        });
    }
    for d in flows::live_draws(ledger).filter(|d| in_scope(d.donation)) {
        let Some(lot) = books.lots.get(&d.donation) else {
            continue;
        };
        per_asset(&mut acc, &lot.asset).add(lot.designation.is_some(), |t| {
            if !d.expense {
                t.allocated += d.units;
            } else if ledger.is_purchase(d.by) {
                t.procured += d.units;
            } else {
                t.expenses += d.units;
            }
        });
    }
    let shares = flows::shares(ledger);
    for s in shares.iter().filter(|s| in_scope(s.lot)) {
        let Some(lot) = books.lots.get(&s.lot) else {
            continue;
        };
        let designated = lot.designation.is_some();
        let a = per_asset(&mut acc, &lot.asset);
        a.add(designated, |t| t.add_share(s));
        let priority = books
            .disbursements
            .get(&s.disbursement)
            .and_then(|d| directory.get(d.recipient.as_str()))
            .is_some_and(|r| policy.is_priority(&r.region_code));
        if !designated && priority {
            a.to_priority += s.units;
        }
    }
    let mut corrections_of: BTreeMap<AssetKey, u64> = BTreeMap::new();
    for r in ledger.correction_records() {
        let Fact::Correction(c) = &r.fact else {
            continue;
        };
        if !in_campaign_scope(ledger, campaign, r.seq) {
            continue;
        }
        for key in ledger
            .fact(c.corrects)
            .map(|f| assets_of(f.fact))
            .unwrap_or_default()
        {
            *corrections_of.entry(key).or_default() += 1;
        }
    }
    let assets = acc
        .iter()
        .map(|(key, a)| AssetSummary {
            asset: AssetLabel::from(key),
            totals: TotalsWire::new(key, &a.all),
            designated: TotalsWire::new(key, &a.designated),
            undesignated: TotalsWire::new(key, &a.undesignated),
            priority_regions: PriorityShare {
                undesignated_disbursed: key.format(a.undesignated.disbursed),
                to_priority_regions: key.format(a.to_priority),
                share_percent: percent(a.to_priority, a.undesignated.disbursed),
            },
            corrections: corrections_of.get(key).copied().unwrap_or(0),
            ageing: Ageing::nothing(key),
        })
        .collect();
    let in_campaign =
        |seq: Seq| campaign.is_none_or(|c| ledger.campaigns_of(seq).iter().any(|x| x == c));
    let designation_changes = ledger
        .live_facts_of(EntryKind::AllocationMade)
        .filter(|f| in_campaign(f.seq))
        .filter_map(|f| match &f.fact {
            Fact::Allocation(a) => {
                a.designation_change
                    .clone()
                    .map(|change| DesignationChangeNotice {
                        allocation: f.seq,
                        donation: a.donation,
                        recipient: a.recipient.to_string(),
                        change,
                    })
            }
            _ => None,
        })
        .collect();
    let corrections = ledger
        .correction_records()
        .filter(|r| in_campaign(r.seq))
        .filter_map(|r| match &r.fact {
            Fact::Correction(c) => Some(CorrectionNotice {
                seq: r.seq,
                corrects: c.corrects,
                corrected_kind: c.corrected_kind.as_str().to_owned(),
                reason: c.reason.clone(),
                replaced: c.replacement.is_some(),
                recorded_at: r.recorded_at,
            }),
            _ => None,
        })
        .collect();
    Summary {
        organization: ledger.organization.id.clone(),
        campaign: campaign.map(str::to_owned),
        priority_regions: policy.priority_regions.clone(),
        assets,
        designation_changes,
        corrections,
        timeliness: timeliness::summarise(ledger, policy, campaign, shares),
    }
}

fn in_campaign_scope(ledger: &Ledger, campaign: Option<&str>, seq: Seq) -> bool {
    campaign.is_none_or(|c| ledger.campaigns_of(seq).iter().any(|x| x == c))
}

/// The balance keys a fact moves (a purchase moves money and goods; a campaign none).
fn assets_of(fact: &Fact) -> Vec<AssetKey> {
    let key = |w: &crate::asset::AssetWire| w.parse_or_zero().ok().map(|a| a.key());
    match fact {
        Fact::Donation(d) => key(&d.asset).into_iter().collect(),
        Fact::Allocation(a) => key(&a.asset).into_iter().collect(),
        Fact::Disbursement(d) => key(&d.asset).into_iter().collect(),
        Fact::Acknowledgement(a) => key(&a.asset).into_iter().collect(),
        Fact::Usage(u) => key(&u.asset).into_iter().collect(),
        Fact::Expense(e) => key(&e.asset).into_iter().collect(),
        Fact::Procurement(p) => key(&p.paid).into_iter().chain(key(&p.goods)).collect(),
        Fact::Campaign(_) | Fact::Correction(_) | Fact::Disclosure(_) => Vec::new(),
    }
}

/// What a recipient received from one organisation, per asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ReceivedFrom {
    /// The giving organisation.
    pub organization: String,
    /// Its name.
    pub organization_name: String,
    /// The asset.
    pub asset: AssetLabel,
    /// Number of live disbursements.
    pub disbursements: usize,
    /// Allocated to the recipient (live allocations).
    pub allocated: String,
    /// Sent.
    pub disbursed: String,
    /// Acknowledged as arrived.
    pub acknowledged: String,
    /// Reported used.
    pub used: String,
    /// Sent and not yet acknowledged.
    pub unacknowledged: String,
}

/// One donation a disbursement came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FromDonation {
    /// Seq of the donation.
    pub donation: Seq,
    /// Its receipt number.
    pub receipt_number: String,
    /// The donor's public name (`null` when anonymous).
    pub donor: Option<String>,
    /// The part of the disbursement that came from it.
    pub amount: String,
}

/// One disbursement a recipient received.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReceivedDisbursement {
    /// The giving organisation.
    pub organization: String,
    /// Seq of the disbursement in its log.
    pub seq: Seq,
    /// When it was sent.
    pub occurred_at: DateTime<Utc>,
    /// What was sent.
    pub asset: AssetWire,
    /// Bank transaction id or waybill.
    pub reference: String,
    /// Purpose of the allocation.
    pub purpose: String,
    /// Seq of the acknowledgement, if any.
    pub acknowledgement: Option<Seq>,
    /// What arrived, once acknowledged.
    pub acknowledged: Option<AssetWire>,
    /// Reported used.
    pub used: String,
    /// Seqs of the usage reports.
    pub usage_reports: Vec<Seq>,
    /// The donations it came from (oldest-first attribution).
    pub from_donations: Vec<FromDonation>,
}

/// What a recipient received, from whom, what it acknowledged and used.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecipientView {
    /// Totals per giving organisation and asset (over every live allocation and disbursement,
    /// whatever page of `disbursements` this is).
    pub received_from: Vec<ReceivedFrom>,
    /// One page of the live disbursements to it, oldest first (by when they happened, then
    /// organisation, then seq).
    pub disbursements: Vec<ReceivedDisbursement>,
    /// Where the next page starts, when there are more disbursements.
    #[serde(skip)]
    pub next: Option<ReceivedCursor>,
}

/// A place in a recipient's disbursements (the recipient view's order): a page that starts
/// `after` it lists what follows. On the wire: `<occurred_at in µs>.<organisation>.<seq>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceivedCursor {
    /// When the disbursement happened.
    pub occurred_at: DateTime<Utc>,
    /// The giving organisation.
    pub organization: String,
    /// Seq of the disbursement in its log.
    pub seq: Seq,
}

impl std::fmt::Display for ReceivedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.occurred_at.timestamp_micros(),
            self.organization,
            self.seq
        )
    }
}

impl std::str::FromStr for ReceivedCursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a cursor from meta.next");
        let mut parts = s.split('.');
        let (Some(at), Some(org), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let occurred_at = at
            .parse::<i64>()
            .ok()
            .and_then(DateTime::<Utc>::from_timestamp_micros)
            .ok_or_else(bad)?;
        let organization = crate::ids::Slug::parse(org).map_err(|_| bad())?;
        let seq = seq
            .parse::<Seq>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(bad)?;
        Ok(ReceivedCursor {
            occurred_at,
            organization: organization.as_str().to_owned(),
            seq,
        })
    }
}

/// The donor's name as the public sees it, from a donation's public body.
pub fn donor_display(ledger: &Ledger, donation: Seq) -> (String, Option<String>) {
    match ledger.fact(donation).map(|f| f.fact) {
        Some(Fact::Donation(d)) => (d.receipt_number.clone(), d.donor.display_name.clone()),
        _ => (String::new(), None),
    }
}

/// The live disbursements to `recipient` in `ledger` that come after `after` in the view's
/// order, the first `n` of them, from the index [`Ledger::extend`] keeps.
fn disbursements_after<'a>(
    ledger: &'a Ledger,
    recipient: &str,
    after: Option<&ReceivedCursor>,
    n: usize,
) -> impl Iterator<Item = (DateTime<Utc>, Seq)> + 'a {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let org = ledger.organization.id.as_str();
    let from = match after {
        None => Unbounded,
        // Same time, earlier organisation: only what happened later follows.
        Some(c) if org < c.organization.as_str() => Excluded((c.occurred_at, Seq::MAX)),
        Some(c) if org > c.organization.as_str() => Included((c.occurred_at, Seq::MIN)),
        Some(c) => Excluded((c.occurred_at, c.seq)),
    };
    ledger
        .received(recipient)
        .into_iter()
        .flat_map(move |r| r.disbursements.range((from, Unbounded)))
        .copied()
        .take(n)
}

/// One disbursement as the recipient view lists it.
fn received_disbursement(ledger: &Ledger, seq: Seq) -> Option<ReceivedDisbursement> {
    let d = ledger.books.disbursements.get(&seq)?;
    let said = flows::statements(ledger)
        .get(&d.seq)
        .cloned()
        .unwrap_or_default();
    let purpose = match ledger.fact(d.allocation).map(|f| f.fact) {
        Some(Fact::Allocation(a)) => a.purpose.clone(),
        _ => String::new(),
    };
    let (occurred_at, reference) = match ledger.fact(d.seq) {
        Some(f) => (
            f.occurred_at,
            match &f.fact {
                Fact::Disbursement(b) => b.reference.clone(),
                _ => String::new(),
            },
        ),
        None => (DateTime::<Utc>::MIN_UTC, String::new()),
    };
    Some(ReceivedDisbursement {
        organization: ledger.organization.id.clone(),
        seq: d.seq,
        occurred_at,
        asset: asset_wire(&d.asset, d.units),
        reference,
        purpose,
        acknowledgement: said.acknowledgement,
        acknowledged: d.acknowledged.map(|a| asset_wire(&d.asset, a)),
        used: d.asset.format(d.used),
        usage_reports: said.usages.iter().map(|u| u.0).collect(),
        from_donations: flows::shares_of_disbursement(ledger, d.seq)
            .map(|s| {
                let (receipt_number, donor) = donor_display(ledger, s.lot);
                FromDonation {
                    donation: s.lot,
                    receipt_number,
                    donor,
                    amount: d.asset.format(s.units),
                }
            })
            .collect(),
    })
}

/// The recipient view over the logs of every organisation that allocated or disbursed to it:
/// the totals per organisation and asset (kept by [`Ledger::extend`], so they cost the number of
/// organisations and assets, not of disbursements), and the page of at most `limit`
/// disbursements that follows `after` (the first page when `None`), with the cursor of the next
/// page when more follow.
pub fn recipient_view(
    recipient: &str,
    ledgers: &[Arc<Ledger>],
    after: Option<&ReceivedCursor>,
    limit: usize,
) -> RecipientView {
    let mut received_from = Vec::new();
    let mut page: Vec<(ReceivedCursor, &Ledger)> = Vec::new();
    for ledger in ledgers {
        let Some(r) = ledger.received(recipient) else {
            continue;
        };
        received_from.extend(r.totals.iter().map(|(key, t)| ReceivedFrom {
            organization: ledger.organization.id.clone(),
            organization_name: ledger.organization.name.clone(),
            asset: AssetLabel::from(key),
            disbursements: t.disbursements,
            allocated: key.format(t.allocated),
            disbursed: key.format(t.disbursed),
            acknowledged: key.format(t.acknowledged),
            used: key.format(t.used),
            unacknowledged: key.format(t.unacknowledged),
        }));
        // One more than a page from each log tells whether anything follows the page.
        page.extend(
            disbursements_after(ledger, recipient, after, limit.saturating_add(1)).map(
                |(occurred_at, seq)| {
                    let at = ReceivedCursor {
                        occurred_at,
                        organization: ledger.organization.id.clone(),
                        seq,
                    };
                    (at, &**ledger)
                },
            ),
        );
    }
    page.sort_by(|a, b| a.0.cmp(&b.0));
    let next = (page.len() > limit).then(|| {
        page.truncate(limit);
        page.last().map(|(at, _)| at.clone())
    });
    let disbursements = page
        .iter()
        .filter_map(|(at, ledger)| received_disbursement(ledger, at.seq))
        .collect();
    RecipientView {
        received_from,
        disbursements,
        next: next.flatten(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_cursors_round_trip_and_order_as_the_view_does() {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).expect("a time");
        let c = |s: i64, org: &str, seq: Seq| ReceivedCursor {
            occurred_at: at(s),
            organization: org.into(),
            seq,
        };
        let one = c(1_580_983_200, "hubei-red-cross", 11);
        assert_eq!(one.to_string(), "1580983200000000.hubei-red-cross.11");
        assert_eq!(one.to_string().parse::<ReceivedCursor>(), Ok(one.clone()));
        for bad in [
            "",
            "11",
            "1.a.2.3",
            "x.hubei.1",
            "1.Hubei.1",
            "1.hubei.-1",
            "1..1",
        ] {
            assert!(bad.parse::<ReceivedCursor>().is_err(), "{bad}");
        }
        let mut v = vec![c(2, "a", 1), c(1, "b", 9), c(1, "a", 5), c(1, "b", 2)];
        v.sort();
        assert_eq!(
            v,
            vec![c(1, "a", 5), c(1, "b", 2), c(1, "b", 9), c(2, "a", 1)]
        );
    }
}
