//! Where it went, by destination: what every organisation allocated, disbursed and saw
//! acknowledged for the recipients of one region (a GB/T 2260 code prefix), per organisation,
//! recipient and asset, and the region's open needs with what they still lack.
//!
//! The store sums the derived tables per (organisation, recipient, asset) for the region's
//! recipients ([`Given`]); [`inflows`] arranges those sums into the public document
//! ([`RegionInflows`]), adds the totals per organisation and per region, and formats units as
//! the asset's decimal strings. The same per-asset row ([`AssetInflow`]) is what a
//! reconciliation report restricted to a destination gives as its totals ([`totals_of`]).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::asset::AssetKey;
use crate::needs::{Need, NeedView};

use crate::disclosure::received::GivenTotals;
use crate::disclosure::{AssetLabel, Directory};

/// Most recipients of one region an inflows document covers (in slug order); a region with more
/// says so in `meta.recipients_truncated`.
pub const MAX_REGION_RECIPIENTS: usize = 1_000;
/// Most open needs of one region an inflows document lists (oldest first); more are flagged in
/// `meta.open_needs_truncated`.
pub const MAX_REGION_NEEDS: usize = 500;

/// What one organisation gave one recipient of one asset (live allocations and disbursements,
/// those that happened in the period), as the store sums it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The giving organisation.
    pub organization: String,
    /// The recipient.
    pub recipient: String,
    /// The asset.
    pub asset: AssetKey,
    /// Allocations and their units; disbursements, their units, what was acknowledged of them,
    /// used, and sent without an acknowledgement yet.
    pub totals: GivenTotals,
}

/// One asset's inflow: counts and quantities as decimal strings of the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AssetInflow {
    /// The asset.
    pub asset: AssetLabel,
    /// Live allocations counted.
    pub allocations: usize,
    /// Allocated.
    pub allocated: String,
    /// Live disbursements counted.
    pub disbursements: usize,
    /// Sent.
    pub disbursed: String,
    /// Acknowledged by the recipients as arrived, of what was sent (the disbursements counted).
    pub acknowledged: String,
    /// Sent and not acknowledged yet.
    pub unacknowledged: String,
    /// Reported used, of what was sent.
    pub used: String,
}

impl AssetInflow {
    /// The row of `totals` of `key`.
    pub fn new(key: &AssetKey, t: &GivenTotals) -> Self {
        Self {
            asset: AssetLabel::from(key),
            allocations: t.allocations,
            allocated: key.format(t.allocated),
            disbursements: t.disbursements,
            disbursed: key.format(t.disbursed),
            acknowledged: key.format(t.acknowledged),
            unacknowledged: key.format(t.unacknowledged),
            used: key.format(t.used),
        }
    }
}

/// Rows of per-asset totals, in asset order.
fn rows(totals: &BTreeMap<AssetKey, GivenTotals>) -> Vec<AssetInflow> {
    totals.iter().map(|(k, t)| AssetInflow::new(k, t)).collect()
}

/// Per-asset totals as rows (a restricted reconciliation report's totals, among others).
pub fn totals_of<'a>(
    gifts: impl IntoIterator<Item = (&'a AssetKey, &'a GivenTotals)>,
) -> Vec<AssetInflow> {
    let mut sum: BTreeMap<AssetKey, GivenTotals> = BTreeMap::new();
    for (k, t) in gifts {
        sum.entry(k.clone()).or_default().add(t);
    }
    rows(&sum)
}

/// What one organisation gave one recipient of the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecipientInflow {
    /// Recipient slug.
    pub recipient: String,
    /// Its public name (a person receiving individual aid appears masked).
    pub name: String,
    /// Its 6-digit region code.
    pub region_code: String,
    /// Per asset.
    pub assets: Vec<AssetInflow>,
}

/// What one organisation gave the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrganizationInflow {
    /// Organisation slug.
    pub organization: String,
    /// Its registered name.
    pub organization_name: String,
    /// Per recipient (slug order).
    pub recipients: Vec<RecipientInflow>,
    /// Its totals in the region, per asset.
    pub totals: Vec<AssetInflow>,
}

/// Sizes and limits of an inflows document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InflowsMeta {
    /// Registered recipients of the region covered (at most `max_recipients`).
    pub recipients: usize,
    /// Whether the region has more recipients than were covered (the first by slug are).
    pub recipients_truncated: bool,
    /// Whether the region has more open needs than are listed (the oldest are).
    pub open_needs_truncated: bool,
    /// [`MAX_REGION_RECIPIENTS`].
    pub max_recipients: usize,
    /// [`MAX_REGION_NEEDS`].
    pub max_open_needs: usize,
}

/// Where it went, by destination (`GET /regions/{code}/inflows`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegionInflows {
    /// The region-code prefix asked for.
    pub region: String,
    /// Allocations and disbursements that happened at or after this moment (`null`: from the start).
    pub from: Option<DateTime<Utc>>,
    /// … and before this moment (`null`: until now).
    pub to: Option<DateTime<Utc>>,
    /// Per giving organisation (slug order), recipient and asset.
    pub organizations: Vec<OrganizationInflow>,
    /// The region's totals per asset, every organisation together.
    pub totals: Vec<AssetInflow>,
    /// Open needs of the region's recipients, oldest first; `outstanding` is what each still
    /// lacks (asked − acknowledged against it), `unpledged` what no charity has allocated yet.
    pub open_needs: Vec<NeedView>,
    /// Sizes and limits.
    pub meta: InflowsMeta,
}

/// What the store read for one region, in one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionBooks {
    /// The region-code prefix.
    pub region: String,
    /// The period's ends.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive).
    pub to: Option<DateTime<Utc>>,
    /// The region's recipients covered (at most [`MAX_REGION_RECIPIENTS`]).
    pub recipients: Directory,
    /// Whether it has more.
    pub recipients_truncated: bool,
    /// Names of the organisations that gave, by slug.
    pub organizations: BTreeMap<String, String>,
    /// The sums per organisation, recipient and asset.
    pub given: Vec<Given>,
    /// Open needs of the region (at most [`MAX_REGION_NEEDS`]), oldest first.
    pub open_needs: Vec<Need>,
    /// Whether it has more.
    pub open_needs_truncated: bool,
}

/// Arrange what the store read into the public document.
pub fn inflows(b: &RegionBooks) -> RegionInflows {
    type PerRecipient = BTreeMap<String, BTreeMap<AssetKey, GivenTotals>>;
    let mut by_org: BTreeMap<&str, PerRecipient> = BTreeMap::new();
    let mut region: BTreeMap<AssetKey, GivenTotals> = BTreeMap::new();
    for g in &b.given {
        // The store reads only the region's recipients; anything else is not counted.
        if !b.recipients.contains_key(&g.recipient) {
            continue;
        }
        by_org
            .entry(&g.organization)
            .or_default()
            .entry(g.recipient.clone())
            .or_default()
            .entry(g.asset.clone())
            .or_default()
            .add(&g.totals);
        region.entry(g.asset.clone()).or_default().add(&g.totals);
    }
    let organizations = by_org
        .into_iter()
        .map(|(org, recipients)| {
            let totals = totals_of(recipients.values().flat_map(|a| a.iter()));
            OrganizationInflow {
                organization: org.to_owned(),
                organization_name: b
                    .organizations
                    .get(org)
                    .cloned()
                    .unwrap_or_else(|| org.to_owned()),
                recipients: recipients
                    .iter()
                    .map(|(id, assets)| {
                        let party = b.recipients.get(id);
                        RecipientInflow {
                            recipient: id.clone(),
                            name: party.map(|p| p.name.clone()).unwrap_or_else(|| id.clone()),
                            region_code: party.map(|p| p.region_code.clone()).unwrap_or_default(),
                            assets: rows(assets),
                        }
                    })
                    .collect(),
                totals,
            }
        })
        .collect();
    RegionInflows {
        region: b.region.clone(),
        from: b.from,
        to: b.to,
        organizations,
        totals: rows(&region),
        open_needs: b.open_needs.iter().map(Need::view).collect(),
        meta: InflowsMeta {
            recipients: b.recipients.len(),
            recipients_truncated: b.recipients_truncated,
            open_needs_truncated: b.open_needs_truncated,
            max_recipients: MAX_REGION_RECIPIENTS,
            max_open_needs: MAX_REGION_NEEDS,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::{Currency, GoodsKind};
    use crate::disclosure::Party;

    fn party(id: &str, region: &str) -> (String, Party) {
        (
            id.to_owned(),
            Party {
                id: id.to_owned(),
                name: format!("{id} name"),
                credit_code: None,
                kind: "hospital".into(),
                region_code: region.into(),
                organization: None,
                ownership: None,
                designated_hospital: false,
                registered_by: None,
                confirmed_at: None,
            },
        )
    }

    fn given(
        org: &str,
        recipient: &str,
        asset: &AssetKey,
        allocated: i64,
        disbursed: i64,
        acknowledged: i64,
    ) -> Given {
        Given {
            organization: org.into(),
            recipient: recipient.into(),
            asset: asset.clone(),
            totals: GivenTotals {
                allocations: 1,
                allocated,
                disbursements: 1,
                disbursed,
                acknowledged,
                used: 0,
                unacknowledged: 0,
            },
        }
    }

    #[test]
    fn sums_nest_by_organisation_recipient_and_asset_and_add_up_per_region() {
        let cny = AssetKey::Money(Currency::parse("CNY").expect("CNY"));
        let masks = AssetKey::Goods(Box::new(GoodsKind {
            item: "N95 respirator".into(),
            spec: "GB 19083-2010".into(),
            unit: "piece".into(),
        }));
        let b = RegionBooks {
            region: "42".into(),
            recipients: [party("a-hospital", "420103"), party("b-hospital", "420105")].into(),
            organizations: [("org-one".to_owned(), "One".to_owned())].into(),
            given: vec![
                given("org-two", "b-hospital", &masks, 5_000, 4_000, 3_000),
                given("org-one", "b-hospital", &cny, 10_000, 6_000, 6_000),
                given("org-one", "a-hospital", &masks, 20_000, 20_000, 19_000),
                given("org-one", "outside", &masks, 1, 1, 1),
            ],
            ..RegionBooks::default()
        };
        let doc = inflows(&b);
        assert_eq!(doc.organizations.len(), 2);
        let one = &doc.organizations[0];
        assert_eq!(
            (one.organization.as_str(), one.organization_name.as_str()),
            ("org-one", "One")
        );
        assert_eq!(doc.organizations[1].organization_name, "org-two");
        assert_eq!(
            one.recipients
                .iter()
                .map(|r| r.recipient.as_str())
                .collect::<Vec<_>>(),
            ["a-hospital", "b-hospital"]
        );
        // Goods count thousandths, money the currency's minor units.
        assert_eq!(one.recipients[0].assets[0].acknowledged, "19.000");
        assert_eq!(one.recipients[1].assets[0].allocated, "100.00");
        assert_eq!(one.totals.len(), 2);
        // Region totals: money from one organisation, masks from both (the recipient outside
        // the region is not counted).
        let masks_total = doc
            .totals
            .iter()
            .find(|t| matches!(t.asset, AssetLabel::Goods { .. }))
            .expect("masks");
        assert_eq!(
            (
                masks_total.allocated.as_str(),
                masks_total.disbursed.as_str(),
                masks_total.acknowledged.as_str()
            ),
            ("25.000", "24.000", "22.000")
        );
        assert_eq!(masks_total.allocations, 2);
        assert_eq!(doc.meta.recipients, 2);
    }
}
