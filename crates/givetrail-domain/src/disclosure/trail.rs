//! "Where did my donation go": from `(organization, receipt_number)`, every allocation,
//! disbursement, acknowledgement and usage report that draws on the donation, with the quantity
//! that came from it at each step, following a disbursement into the log of the charity that
//! received it (a donation recorded there with `source_disbursement`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::asset::AssetWire;
use crate::entry::{
    Author, DesignationChange, DisbursementChannel, Fact, PublicDonor, RestrictionWire, Seq,
    SourceDisbursement, Supplier,
};

use super::flows::{self, Share};
use super::summary::{Totals, TotalsWire};
use super::{asset_wire, Ledger, Party};

/// How many charity-to-charity hops a trail follows.
pub const MAX_TRAIL_DEPTH: usize = 4;

/// Where a trail reads logs and registry entries from.
pub trait Source {
    /// Storage error.
    type Error;
    /// An organisation's replayed log; `None` if it is not registered.
    fn ledger(&mut self, organization: &str) -> Result<Option<Arc<Ledger>>, Self::Error>;
    /// A recipient's registry entry.
    fn recipient(&mut self, id: &str) -> Result<Option<Party>, Self::Error>;
}

/// What the recipient said had arrived.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailAcknowledgement {
    /// Seq of the acknowledgement (in the giving organisation's log).
    pub seq: Seq,
    /// When it arrived, as the recipient says.
    pub received_at: DateTime<Utc>,
    /// What arrived of the whole disbursement.
    pub acknowledged_total: AssetWire,
    /// Disbursed minus arrived, for the whole disbursement.
    pub shortfall_total: String,
    /// Of what came from this donation, the part that arrived.
    pub from_this_donation: String,
    /// The recipient's remarks.
    pub note: String,
}

/// A usage report covering part of this donation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailUsage {
    /// Seq of the report.
    pub seq: Seq,
    /// When it was used.
    pub occurred_at: DateTime<Utc>,
    /// Of what came from this donation, the part reported used here.
    pub from_this_donation: String,
    /// How it was used.
    pub description: String,
    /// Evidence hash, if given.
    pub evidence_sha256: Option<String>,
}

/// A disbursement carrying part of this donation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailDisbursement {
    /// Seq.
    pub seq: Seq,
    /// When it was sent.
    pub occurred_at: DateTime<Utc>,
    /// The receiving unit.
    pub recipient: String,
    /// Its registered name.
    pub recipient_name: Option<String>,
    /// Its region code.
    pub recipient_region_code: Option<String>,
    /// How it was sent.
    pub channel: DisbursementChannel,
    /// Bank transaction id or waybill.
    pub reference: String,
    /// The whole disbursement.
    pub disbursement_total: AssetWire,
    /// The part of it that came from this donation.
    pub from_this_donation: String,
    /// The recipient's acknowledgement; `null` while unacknowledged.
    pub acknowledgement: Option<TrailAcknowledgement>,
    /// Usage reports covering this donation's part.
    pub usage_reports: Vec<TrailUsage>,
    /// When the recipient is a charity on Givetrail: the trail of the donation it recorded from
    /// this disbursement, in its own log.
    #[schema(value_type = Option<Object>)]
    pub onward: Option<Box<Trail>>,
}

/// An allocation drawing on this donation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailAllocation {
    /// Seq.
    pub seq: Seq,
    /// When it was decided.
    pub occurred_at: DateTime<Utc>,
    /// The recipient.
    pub recipient: String,
    /// Its registered name.
    pub recipient_name: Option<String>,
    /// Whether it drew on the undesignated pool (then several donations share it).
    pub pool: bool,
    /// Purpose.
    pub purpose: String,
    /// The whole allocation.
    pub allocation_total: AssetWire,
    /// The part drawn on this donation.
    pub from_this_donation: String,
    /// Of that part, what is not yet disbursed.
    pub undisbursed_from_this_donation: String,
    /// A documented departure from the designation.
    pub designation_change: Option<DesignationChange>,
    /// Disbursements carrying this donation's part (oldest-first attribution).
    pub disbursements: Vec<TrailDisbursement>,
}

/// An expense charged to this donation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailExpense {
    /// Seq.
    pub seq: Seq,
    /// When it was incurred.
    pub occurred_at: DateTime<Utc>,
    /// The part charged to this donation.
    pub from_this_donation: String,
    /// What it was.
    pub description: String,
}

/// Goods bought with money from this donation, and where those goods went.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailPurchase {
    /// Seq of the procurement (also the seq of the goods lot).
    pub seq: Seq,
    /// When it was bought.
    pub occurred_at: DateTime<Utc>,
    /// Who sold the goods.
    pub supplier: Supplier,
    /// The supplier's invoice number.
    pub invoice_reference: String,
    /// What the whole purchase paid.
    pub paid_total: AssetWire,
    /// What the whole purchase bought.
    pub goods_total: AssetWire,
    /// The part of the payment that came from this donation.
    pub paid_from_this_donation: String,
    /// The goods that part bought, in proportion (rounded down to the goods' thousandths).
    pub goods_from_this_donation: String,
    /// Price per unit of the goods.
    pub unit_price: String,
    /// Where the goods stand (received = bought).
    pub goods_totals: TotalsWire,
    /// Allocations of the goods bought (the whole purchase; several donations may share it),
    /// with their disbursements, acknowledgements and usage reports.
    pub allocations: Vec<TrailAllocation>,
    /// Expenses charged to the goods bought.
    pub expenses: Vec<TrailExpense>,
}

/// A correction that touched this donation or a step of its trail (a correction notice).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrailCorrection {
    /// Seq of the correction.
    pub seq: Seq,
    /// Seq of the entry it corrected.
    pub corrects: Seq,
    /// Kind of the corrected entry.
    pub corrected_kind: crate::entry::EntryKind,
    /// Why.
    pub reason: String,
    /// Who corrected it (the charity, or the recipient for its own statements).
    pub author: Option<Author>,
    /// When the correction was published.
    pub recorded_at: DateTime<Utc>,
    /// The corrected entry's body.
    #[schema(value_type = Object)]
    pub before: Fact,
    /// The replacement's body; `null` for a void.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Fact>,
}

/// The trail of one donation.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Trail {
    /// The organisation that received it.
    pub organization: String,
    /// Its name.
    pub organization_name: String,
    /// Seq of the donation.
    pub donation: Seq,
    /// Receipt number.
    pub receipt_number: String,
    /// When it was received.
    pub occurred_at: DateTime<Utc>,
    /// When it was published.
    pub recorded_at: DateTime<Utc>,
    /// The donor as the public sees it.
    pub donor: PublicDonor,
    /// Campaign.
    pub campaign: Option<String>,
    /// The donor's restriction.
    pub restriction: RestrictionWire,
    /// What was given.
    pub asset: AssetWire,
    /// When it came from another charity's disbursement.
    pub source_disbursement: Option<SourceDisbursement>,
    /// Where it stands: received, allocated, disbursed, acknowledged, used, expenses and what
    /// remains unallocated, undisbursed and unacknowledged.
    pub totals: TotalsWire,
    /// Allocations drawing on it.
    pub allocations: Vec<TrailAllocation>,
    /// Expenses charged to it.
    pub expenses: Vec<TrailExpense>,
    /// Goods bought with it (money donations), followed into their allocations.
    pub purchases: Vec<TrailPurchase>,
    /// Every correction that touched it or any step of it, in log order.
    pub corrections: Vec<TrailCorrection>,
}

/// What a receipt number leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Traced {
    /// The live donation's trail.
    Found(Box<Trail>),
    /// The donation was voided by the correction at this seq (and not replaced).
    Voided {
        /// Seq of the correcting entry.
        correction: Seq,
    },
    /// No donation ever carried this receipt number (or the organisation is unknown).
    NotFound,
}

type Cache = BTreeMap<String, Arc<Ledger>>;

fn ledger<S: Source>(
    source: &mut S,
    cache: &mut Cache,
    org: &str,
) -> Result<Option<Arc<Ledger>>, S::Error> {
    if let Some(l) = cache.get(org) {
        return Ok(Some(l.clone()));
    }
    let Some(l) = source.ledger(org)? else {
        return Ok(None);
    };
    cache.insert(org.to_owned(), l.clone());
    Ok(Some(l))
}

/// The trail of the live donation with `receipt_number` in `organization`'s log.
pub fn trace<S: Source>(
    source: &mut S,
    organization: &str,
    receipt_number: &str,
) -> Result<Option<Trail>, S::Error> {
    Ok(match trace_receipt(source, organization, receipt_number)? {
        Traced::Found(t) => Some(*t),
        Traced::Voided { .. } | Traced::NotFound => None,
    })
}

/// What `receipt_number` in `organization`'s log leads to: the live donation's trail, or the
/// correction that voided it.
pub fn trace_receipt<S: Source>(
    source: &mut S,
    organization: &str,
    receipt_number: &str,
) -> Result<Traced, S::Error> {
    let mut cache = Cache::new();
    let Some(l) = ledger(source, &mut cache, organization)? else {
        return Ok(Traced::NotFound);
    };
    let Some(seq) = l.donation_by_receipt(receipt_number) else {
        let voided_by = l
            .donations_with_receipt(receipt_number)
            .last()
            .and_then(|&seq| l.correction_of(seq));
        return Ok(match voided_by {
            Some(correction) => Traced::Voided { correction },
            None => Traced::NotFound,
        });
    };
    let mut seen = BTreeSet::new();
    Ok(match build(source, &mut cache, &mut seen, l, seq, 0)? {
        Some(t) => Traced::Found(Box::new(t)),
        None => Traced::NotFound,
    })
}

/// Every correction that touched the lot at `lot_seq` or a step drawing on it: its earlier
/// versions, the allocations and expenses that draw (or drew) on it, their disbursements, and the
/// recipients' statements about those, in log order.
fn corrections(l: &Ledger, lot_seq: Seq) -> Vec<TrailCorrection> {
    let mut touched: BTreeSet<Seq> = l.versions(lot_seq).into_iter().collect();
    let mut steps: Vec<Seq> = Vec::new();
    for d in l.all_draws_on(lot_seq) {
        steps.extend(l.versions(d.by));
    }
    steps.sort_unstable();
    steps.dedup();
    for by in steps {
        touched.insert(by);
        for &dseq in l.disbursements_of(by) {
            for v in l.versions(dseq) {
                touched.insert(v);
                for &st in l.books.statements.get(&v).into_iter().flatten() {
                    touched.extend(l.versions(st));
                }
            }
        }
    }
    let mut seqs: Vec<Seq> = touched.iter().filter_map(|&s| l.correction_of(s)).collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs.into_iter()
        .filter_map(|cseq| {
            let r = l.records.get(usize::try_from(cseq - 1).ok()?)?;
            let Fact::Correction(c) = &r.fact else {
                return None;
            };
            let before = l.fact(c.corrects)?.fact.clone();
            Some(TrailCorrection {
                seq: cseq,
                corrects: c.corrects,
                corrected_kind: c.corrected_kind,
                reason: c.reason.clone(),
                author: r.author.as_deref().cloned(),
                recorded_at: r.recorded_at,
                before,
                after: c.replacement.as_deref().cloned(),
            })
        })
        .collect()
}

fn build<S: Source>(
    source: &mut S,
    cache: &mut Cache,
    seen: &mut BTreeSet<(String, Seq)>,
    l: Arc<Ledger>,
    lot_seq: Seq,
    depth: usize,
) -> Result<Option<Trail>, S::Error> {
    let org = l.organization.id.clone();
    seen.insert((org.clone(), lot_seq));
    let Some(lot) = l.books.lots.get(&lot_seq).cloned() else {
        return Ok(None);
    };
    let key = lot.asset.clone();
    // A lot is a donation, or goods bought (whose steps a money donation's trail shows under
    // `purchases`; the donor fields of such an inner trail are never served).
    let Some((f, body)) = l.fact(lot_seq).and_then(|f| match &f.fact {
        Fact::Donation(b) => Some((f, b.clone())),
        Fact::Procurement(p) => Some((
            f,
            crate::entry::DonationBody {
                receipt_number: String::new(),
                donor: PublicDonor {
                    kind: crate::entry::DonorKind::Organization,
                    anonymous: false,
                    display_name: Some(p.supplier.name.clone()),
                    name_commitment: None,
                    contact_commitment: None,
                    related_recipients_commitment: None,
                },
                campaign: p.campaign.clone(),
                channel: crate::entry::DonationChannel::BankTransfer,
                restriction: p.restriction.clone(),
                asset: p.goods.clone(),
                source_disbursement: None,
                designation_change: None,
            },
        )),
        _ => None,
    }) else {
        return Ok(None);
    };
    let statements = flows::statements(&l);
    let shares: Vec<&Share> = flows::shares_of(&l, lot_seq).collect();
    let mut totals = Totals {
        received: lot.received,
        ..Totals::default()
    };
    let mut allocations = Vec::new();
    let mut expenses = Vec::new();
    let mut purchases = Vec::new();
    for d in l.live_draws_on(lot_seq) {
        let Some(by) = l.fact(d.by) else { continue };
        if let (true, Fact::Procurement(p)) = (d.expense, &by.fact) {
            totals.procured += d.units;
            let goods_lot = l.books.lots.get(&d.by).cloned();
            let paid_units = p.paid.parse().map(|a| a.units()).unwrap_or(0);
            let (goods_key, goods_units) = match &goods_lot {
                Some(g) => (g.asset.clone(), g.received),
                None => continue,
            };
            let share = if paid_units > 0 {
                i64::try_from(
                    i128::from(goods_units) * i128::from(d.units) / i128::from(paid_units),
                )
                .unwrap_or(goods_units)
            } else {
                0
            };
            // The goods' own trail: the purchase is a lot of this log.
            let goods = if seen.contains(&(org.clone(), d.by)) {
                None
            } else {
                build(source, cache, seen, l.clone(), d.by, depth + 1)?
            };
            purchases.push(TrailPurchase {
                seq: d.by,
                occurred_at: by.occurred_at,
                supplier: p.supplier.clone(),
                invoice_reference: p.invoice_reference.clone(),
                paid_total: p.paid.clone(),
                goods_total: p.goods.clone(),
                paid_from_this_donation: key.format(d.units),
                goods_from_this_donation: goods_key.format(share),
                unit_price: p.unit_price.clone(),
                goods_totals: goods
                    .as_ref()
                    .map(|g| g.totals.clone())
                    .unwrap_or_else(|| TotalsWire::new(&goods_key, &Totals::default())),
                allocations: goods
                    .as_ref()
                    .map(|g| g.allocations.clone())
                    .unwrap_or_default(),
                expenses: goods.map(|g| g.expenses).unwrap_or_default(),
            });
            continue;
        }
        if d.expense {
            totals.expenses += d.units;
            if let Fact::Expense(e) = &by.fact {
                expenses.push(TrailExpense {
                    seq: d.by,
                    occurred_at: by.occurred_at,
                    from_this_donation: key.format(d.units),
                    description: e.description.clone(),
                });
            }
            continue;
        }
        totals.allocated += d.units;
        let Fact::Allocation(a) = &by.fact else {
            continue;
        };
        let mut disbursements = Vec::new();
        let mut sent = 0i64;
        for s in shares.iter().filter(|s| s.allocation == d.by) {
            totals.add_share(s);
            sent += s.units;
            let Some(df) = l.fact(s.disbursement) else {
                continue;
            };
            let Fact::Disbursement(db) = &df.fact else {
                continue;
            };
            let recipient = source.recipient(db.recipient.as_str())?;
            let acknowledgement = statements
                .get(&s.disbursement)
                .and_then(|said| said.acknowledgement)
                .and_then(|aseq| l.fact(aseq))
                .and_then(|x| match &x.fact {
                    Fact::Acknowledgement(ack) => Some(TrailAcknowledgement {
                        seq: x.seq,
                        received_at: ack.received_at,
                        acknowledged_total: ack.asset.clone(),
                        shortfall_total: ack.shortfall.clone(),
                        from_this_donation: key.format(s.acknowledged.unwrap_or(0)),
                        note: ack.note.clone(),
                    }),
                    _ => None,
                });
            let usage_reports = s
                .usages
                .iter()
                .filter_map(|&(useq, units)| {
                    let uf = l.fact(useq)?;
                    let Fact::Usage(u) = &uf.fact else {
                        return None;
                    };
                    Some(TrailUsage {
                        seq: useq,
                        occurred_at: uf.occurred_at,
                        from_this_donation: key.format(units),
                        description: u.description.clone(),
                        evidence_sha256: u.evidence_sha256.clone(),
                    })
                })
                .collect();
            let onward = match recipient.as_ref().and_then(|r| r.organization.clone()) {
                Some(next) if depth < MAX_TRAIL_DEPTH => match ledger(source, cache, &next)? {
                    // The receiver recorded the disbursement as it was when it did (an earlier
                    // version, if the disbursement was corrected since).
                    Some(nl) => {
                        let recorded = l
                            .versions(s.disbursement)
                            .into_iter()
                            .flat_map(|v| nl.donations_from(&org, v))
                            .find(|nseq| !seen.contains(&(next.clone(), *nseq)));
                        match recorded {
                            Some(nseq) => {
                                build(source, cache, seen, nl, nseq, depth + 1)?.map(Box::new)
                            }
                            None => None,
                        }
                    }
                    None => None,
                },
                _ => None,
            };
            disbursements.push(TrailDisbursement {
                seq: s.disbursement,
                occurred_at: df.occurred_at,
                recipient: db.recipient.to_string(),
                recipient_name: recipient.as_ref().map(|r| r.name.clone()),
                recipient_region_code: recipient.as_ref().map(|r| r.region_code.clone()),
                channel: db.channel,
                reference: db.reference.clone(),
                disbursement_total: db.asset.clone(),
                from_this_donation: key.format(s.units),
                acknowledgement,
                usage_reports,
                onward,
            });
        }
        let recipient = source.recipient(a.recipient.as_str())?;
        allocations.push(TrailAllocation {
            seq: d.by,
            occurred_at: by.occurred_at,
            recipient: a.recipient.to_string(),
            recipient_name: recipient.map(|r| r.name),
            pool: a.pool,
            purpose: a.purpose.clone(),
            allocation_total: a.asset.clone(),
            from_this_donation: key.format(d.units),
            undisbursed_from_this_donation: key.format(d.units - sent),
            designation_change: a.designation_change.clone(),
            disbursements,
        });
    }
    Ok(Some(Trail {
        organization: org,
        organization_name: l.organization.name.clone(),
        donation: lot_seq,
        receipt_number: body.receipt_number.clone(),
        occurred_at: f.occurred_at,
        recorded_at: f.recorded_at,
        donor: body.donor.clone(),
        campaign: body.campaign.as_ref().map(|c| c.to_string()),
        restriction: body.restriction.clone(),
        asset: asset_wire(&key, totals.received),
        source_disbursement: body.source_disbursement.as_deref().cloned(),
        totals: TotalsWire::new(&key, &totals),
        allocations,
        expenses,
        purchases,
        corrections: corrections(&l, lot_seq),
    }))
}
