//! [`MemoryBooks`]: the derived state of one organisation's books in memory, for property tests
//! and for rebuilding derived state from the log.

use std::collections::BTreeMap;

use super::state::{
    AllocationState, CampaignState, DisbursementState, DrawState, FactInfo, ForeignDisbursement,
    Lot, NeedState, RecipientInfo,
};
use super::{Books, Change};
use crate::asset::AssetKey;
use crate::entry::{EntryKind, Seq, SourceDisbursement};
use crate::ids::Slug;

/// The derived state of one organisation's books, in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryBooks {
    /// Campaigns by slug (the live one, or the last voided).
    pub campaigns: BTreeMap<Slug, CampaignState>,
    /// Lots by seq.
    pub lots: BTreeMap<Seq, Lot>,
    /// Allocations by seq.
    pub allocations: BTreeMap<Seq, AllocationState>,
    /// Disbursements by seq.
    pub disbursements: BTreeMap<Seq, DisbursementState>,
    /// Expenses by seq: (asset, units, live).
    pub expenses: BTreeMap<Seq, (AssetKey, i64, bool)>,
    /// Draws in order.
    pub draws: Vec<DrawState>,
    /// Facts by seq.
    pub facts: BTreeMap<Seq, FactInfo>,
    /// Source disbursements recorded by live donations: (organisation, seq) → donation seq.
    pub sources: BTreeMap<(Slug, Seq), Seq>,
    /// Recipients known (shared across organisations).
    pub recipients: BTreeMap<Slug, RecipientInfo>,
    /// Disbursements of other organisations.
    pub foreign: BTreeMap<(Slug, Seq), ForeignDisbursement>,
    /// Recipients' needs (shared across organisations).
    pub needs: BTreeMap<Slug, NeedState>,
}

impl Books for MemoryBooks {
    type Error = std::convert::Infallible;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, Self::Error> {
        Ok(self.campaigns.get(id).cloned())
    }
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, Self::Error> {
        Ok(self.lots.get(&seq).cloned())
    }
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, Self::Error> {
        Ok(self
            .lots
            .values()
            .any(|l| l.live && l.receipt_number == receipt_number))
    }
    fn pool_lots(&mut self, asset: &AssetKey, _units: i64) -> Result<Vec<Lot>, Self::Error> {
        let mut lots: Vec<Lot> = self
            .lots
            .values()
            .filter(|l| l.live && l.designation.is_none() && &l.asset == asset && l.remaining() > 0)
            .cloned()
            .collect();
        lots.sort_by_key(|l| (l.occurred_at, l.seq));
        Ok(lots)
    }
    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, Self::Error> {
        Ok(self.allocations.get(&seq).cloned())
    }
    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, Self::Error> {
        Ok(self.disbursements.get(&seq).cloned())
    }
    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, Self::Error> {
        Ok(self.recipients.get(id).cloned())
    }
    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, Self::Error> {
        Ok(self.facts.get(&seq).copied())
    }
    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, Self::Error> {
        Ok(self.draws.iter().filter(|d| d.by == seq).copied().collect())
    }
    fn live_dependants(&mut self, seq: Seq) -> Result<i64, Self::Error> {
        let Some(info) = self.facts.get(&seq).copied() else {
            return Ok(0);
        };
        let n = match info.kind {
            EntryKind::DonationReceived => self
                .draws
                .iter()
                .filter(|d| d.donation == seq && self.facts.get(&d.by).is_some_and(|f| f.live))
                .count(),
            EntryKind::AllocationMade => self
                .disbursements
                .values()
                .filter(|d| d.live && d.allocation == seq)
                .count(),
            EntryKind::DisbursementMade => self.disbursements.get(&seq).map_or(0, |d| {
                usize::from(d.acknowledged.is_some()) + usize::from(d.used > 0)
            }),
            EntryKind::CampaignOpened => {
                let id = self
                    .campaigns
                    .values()
                    .find(|c| c.seq == seq)
                    .map(|c| c.id.clone());
                self.lots
                    .values()
                    .filter(|l| l.live && l.campaign.is_some() && l.campaign == id)
                    .count()
            }
            // Nothing refers to these; an expense's draws are returned when it is voided.
            EntryKind::AcknowledgementRecorded
            | EntryKind::UsageReported
            | EntryKind::ExpenseRecorded
            | EntryKind::EntryCorrected => 0,
        };
        Ok(n as i64)
    }
    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, Self::Error> {
        Ok(self
            .foreign
            .get(&(source.organization.clone(), source.disbursement))
            .cloned())
    }
    fn source_recorded(&mut self, source: &SourceDisbursement) -> Result<bool, Self::Error> {
        Ok(self
            .sources
            .contains_key(&(source.organization.clone(), source.disbursement)))
    }
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Self::Error> {
        Ok(self.needs.get(id).cloned())
    }
    fn apply(&mut self, change: Change) -> Result<(), Self::Error> {
        match change {
            Change::Fact { seq, kind, at } => {
                self.facts.insert(
                    seq,
                    FactInfo {
                        kind,
                        live: true,
                        occurred_at: at,
                    },
                );
            }
            Change::OpenCampaign(c, _) => {
                self.campaigns.insert(c.id.clone(), c);
            }
            Change::AddLot(lot, body) => {
                if let Some(src) = &body.source_disbursement {
                    self.sources
                        .insert((src.organization.clone(), src.disbursement), lot.seq);
                }
                self.lots.insert(lot.seq, lot);
            }
            Change::Draw(d) => {
                if let Some(lot) = self.lots.get_mut(&d.donation) {
                    if d.expense {
                        lot.expensed += d.units;
                    } else {
                        lot.allocated += d.units;
                    }
                    assert!(lot.remaining() >= 0, "lot {} over-drawn", lot.seq);
                }
                self.draws.push(d);
            }
            Change::AddAllocation(a, _) => {
                self.allocations.insert(a.seq, a);
            }
            Change::AddDisbursement(d, _) => {
                if let Some(a) = self.allocations.get_mut(&d.allocation) {
                    a.disbursed += d.units;
                    assert!(
                        a.disbursed <= a.units,
                        "allocation {} over-disbursed",
                        a.seq
                    );
                }
                self.disbursements.insert(d.seq, d);
            }
            Change::Acknowledge {
                disbursement,
                units,
                ..
            } => {
                // The recipient's statement of everything that arrived, not an increment: a
                // disbursement is acknowledged at most once (a second is a conflict), and an
                // acknowledgement is never corrected, so it is recorded as stated (as `SqlBooks`
                // does).
                if let Some(d) = self.disbursements.get_mut(&disbursement) {
                    d.acknowledged = Some(units);
                }
            }
            Change::Use {
                disbursement,
                units,
                ..
            } => {
                if let Some(d) = self.disbursements.get_mut(&disbursement) {
                    d.used += units;
                    assert!(
                        d.used <= d.acknowledged.unwrap_or(0),
                        "disbursement {} over-used",
                        d.seq
                    );
                }
            }
            Change::AddExpense { seq, asset, units } => {
                self.expenses.insert(seq, (asset, units, true));
            }
            Change::Void { seq, kind, .. } => {
                if let Some(f) = self.facts.get_mut(&seq) {
                    f.live = false;
                }
                match kind {
                    EntryKind::CampaignOpened => {
                        if let Some(c) = self.campaigns.values_mut().find(|c| c.seq == seq) {
                            c.live = false;
                        }
                    }
                    EntryKind::DonationReceived => {
                        if let Some(l) = self.lots.get_mut(&seq) {
                            l.live = false;
                        }
                        self.sources.retain(|_, v| *v != seq);
                    }
                    EntryKind::AllocationMade | EntryKind::ExpenseRecorded => {
                        for d in self.draws.iter().filter(|d| d.by == seq) {
                            if let Some(lot) = self.lots.get_mut(&d.donation) {
                                if d.expense {
                                    lot.expensed -= d.units;
                                } else {
                                    lot.allocated -= d.units;
                                }
                            }
                        }
                        if let Some(a) = self.allocations.get_mut(&seq) {
                            a.live = false;
                        }
                        if let Some(e) = self.expenses.get_mut(&seq) {
                            e.2 = false;
                        }
                    }
                    EntryKind::DisbursementMade => {
                        if let Some(d) = self.disbursements.get_mut(&seq) {
                            d.live = false;
                            let (alloc, units) = (d.allocation, d.units);
                            if let Some(a) = self.allocations.get_mut(&alloc) {
                                a.disbursed -= units;
                            }
                        }
                    }
                    // The recipient's statements and correction notices are never voided.
                    EntryKind::AcknowledgementRecorded
                    | EntryKind::UsageReported
                    | EntryKind::EntryCorrected => {}
                }
            }
        }
        Ok(())
    }
}
