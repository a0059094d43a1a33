//! [`MemoryBooks`]: the derived state of one organisation's books in memory, for property tests
//! and for rebuilding derived state from the log.

use std::sync::Arc;

use imbl::{OrdMap, Vector};

use super::state::{
    AllocationState, CampaignState, Dependant, DisbursementState, DrawState, FactInfo,
    ForeignDisbursement, Lot, NeedState, RecipientInfo,
};
use super::{Books, Change};
use crate::asset::AssetKey;
use crate::entry::{EntryKind, Seq, SourceDisbursement};
use crate::ids::Slug;

/// What lives at each seq of one log, densely: a log's seqs run from 1 without gaps and every
/// entry has a fact, so the fact at seq `s` is at position `s - 1` of a vector (a seq without
/// one holds `None`). Kept as an ordered map, each entry cost a 48-byte pair in leaves that
/// in-order inserts leave half full, plus the tree's nodes; here it costs its 40 bytes in full
/// chunks. A copy shares the chunks it does not change, as a map's copy shares its nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactTable(Vector<Option<FactInfo>>);

// What the books in memory cost per entry and per lot (see ARCHITECTURE.md, "The read model"):
// a change that grows them shows here, not only in the benchmarks' RSS.
const _: () = assert!(std::mem::size_of::<Option<FactInfo>>() <= 40);
const _: () = assert!(std::mem::size_of::<Lot>() <= 128);

/// Most seqs without a fact that [`FactTable::insert`] fills before the seq it is given: more
/// means the seq is not of this log (a corrupt row), and the table refuses it rather than fill
/// memory.
pub const MAX_FACT_GAP: usize = 1 << 20;

impl FactTable {
    fn position(seq: Seq) -> Option<usize> {
        usize::try_from(seq).ok()?.checked_sub(1)
    }

    /// The fact at `seq`.
    pub fn get(&self, seq: &Seq) -> Option<&FactInfo> {
        self.0.get(Self::position(*seq)?)?.as_ref()
    }

    /// The fact at `seq`, to change.
    pub fn get_mut(&mut self, seq: &Seq) -> Option<&mut FactInfo> {
        self.0.get_mut(Self::position(*seq)?)?.as_mut()
    }

    /// Put `info` at `seq`. Refused (`false`, nothing changed) for a seq below 1 or more than
    /// [`MAX_FACT_GAP`] past the last.
    pub fn insert(&mut self, seq: Seq, info: FactInfo) -> bool {
        let Some(i) = Self::position(seq) else {
            return false;
        };
        if i >= self.0.len() {
            if i - self.0.len() > MAX_FACT_GAP {
                return false;
            }
            while self.0.len() < i {
                self.0.push_back(None);
            }
            self.0.push_back(Some(info));
        } else {
            self.0.set(i, Some(info));
        }
        true
    }

    /// The facts in seq order.
    pub fn iter(&self) -> impl Iterator<Item = (Seq, &FactInfo)> {
        (1..)
            .zip(self.0.iter())
            .filter_map(|(s, f)| Some((s, f.as_ref()?)))
    }
}

/// The derived state of one organisation's books, in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemoryBooks {
    /// Campaigns by slug (the live one, or the last voided).
    pub campaigns: OrdMap<Slug, CampaignState>,
    /// Lots by seq, each behind its own pointer: lots are inserted in seq order, which leaves
    /// every node of the tree half full, and a node of 16 pointers costs less than one of 16
    /// lots; a new version that changes a lot copies the pointers and that lot only.
    pub lots: OrdMap<Seq, Arc<Lot>>,
    /// Allocations by seq.
    pub allocations: OrdMap<Seq, AllocationState>,
    /// Disbursements by seq.
    pub disbursements: OrdMap<Seq, DisbursementState>,
    /// Expenses by seq: (asset, units, live).
    pub expenses: OrdMap<Seq, (AssetKey, i64, bool)>,
    /// Draws in order.
    pub draws: Vector<DrawState>,
    /// Facts by seq.
    pub facts: FactTable,
    /// Source disbursements recorded by live donations: (organisation, seq) → donation seqs.
    pub sources: OrdMap<(Slug, Seq), Vec<Seq>>,
    /// Recipients' statements (acknowledgements, usage reports) by the disbursement they are
    /// about, in seq order, live or not.
    pub statements: OrdMap<Seq, Vec<Seq>>,
    /// Corrected facts whose replacement took over their dependants: voided seq → replacement.
    pub successors: OrdMap<Seq, Seq>,
    /// Recipients known (shared across organisations).
    pub recipients: OrdMap<Slug, RecipientInfo>,
    /// Disbursements of other organisations.
    pub foreign: OrdMap<(Slug, Seq), ForeignDisbursement>,
    /// Recipients' needs (shared across organisations).
    pub needs: OrdMap<Slug, NeedState>,
}

impl Books for MemoryBooks {
    type Error = std::convert::Infallible;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, Self::Error> {
        Ok(self.campaigns.get(id).cloned())
    }
    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, Self::Error> {
        Ok(self.lots.get(&seq).map(|l| Lot::clone(l)))
    }
    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, Self::Error> {
        Ok(self
            .lots
            .values()
            .any(|l| l.receipt_number == receipt_number))
    }
    fn pool_lots(&mut self, asset: &AssetKey, _units: i64) -> Result<Vec<Lot>, Self::Error> {
        let mut lots: Vec<Lot> = self
            .lots
            .values()
            .filter(|l| l.live && l.designation.is_none() && &l.asset == asset && l.remaining() > 0)
            .map(|l| Lot::clone(l))
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
    fn dependants(&mut self, seq: Seq, limit: usize) -> Result<Vec<Dependant>, Self::Error> {
        let Some(info) = self.facts.get(&seq).copied() else {
            return Ok(Vec::new());
        };
        let live = |s: &Seq| self.facts.get(s).filter(|f| f.live).map(|f| (*s, f.kind));
        let mut found: Vec<(Seq, EntryKind)> = match info.kind {
            EntryKind::DonationReceived | EntryKind::ProcurementMade => self
                .draws
                .iter()
                .filter(|d| d.donation == seq)
                .filter_map(|d| live(&d.by))
                .collect(),
            EntryKind::AllocationMade => self
                .disbursements
                .values()
                .filter(|d| d.live && d.allocation == seq)
                .map(|d| (d.seq, EntryKind::DisbursementMade))
                .collect(),
            EntryKind::DisbursementMade => self
                .statements
                .get(&seq)
                .into_iter()
                .flatten()
                .filter_map(live)
                .collect(),
            EntryKind::AcknowledgementRecorded => info
                .about
                .and_then(|d| self.statements.get(&d))
                .into_iter()
                .flatten()
                .filter_map(live)
                .filter(|(_, k)| *k == EntryKind::UsageReported)
                .collect(),
            EntryKind::CampaignOpened => {
                let id = self
                    .campaigns
                    .values()
                    .find(|c| c.seq == seq)
                    .map(|c| c.id.clone());
                // Donations naming it, and goods bought with their money (which name it too):
                // each by the kind of the fact that lives at the lot's seq.
                self.lots
                    .values()
                    .filter(|l| l.live && l.campaign.is_some() && l.campaign == id)
                    .filter_map(|l| live(&l.seq))
                    .collect()
            }
            // Nothing refers to these; an expense's draws are returned when it is voided.
            EntryKind::UsageReported
            | EntryKind::ExpenseRecorded
            | EntryKind::EntryCorrected
            | EntryKind::DisclosurePublished => Vec::new(),
        };
        found.sort_unstable();
        found.dedup();
        found.truncate(limit);
        Ok(found
            .into_iter()
            .map(|(seq, kind)| Dependant {
                organization: None,
                seq,
                kind,
            })
            .collect())
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
    fn source_recorded_units(&mut self, source: &SourceDisbursement) -> Result<i64, Self::Error> {
        Ok(self
            .sources
            .get(&(source.organization.clone(), source.disbursement))
            .into_iter()
            .flatten()
            .filter_map(|seq| self.lots.get(seq))
            .filter(|l| l.live)
            .map(|l| l.received)
            .sum())
    }
    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, Self::Error> {
        Ok(self.needs.get(id).cloned())
    }
    fn apply(&mut self, change: Change) -> Result<(), Self::Error> {
        match change {
            Change::Fact {
                seq,
                kind,
                at,
                about,
                units,
            } => {
                self.facts.insert(
                    seq,
                    FactInfo {
                        kind,
                        live: true,
                        occurred_at: at,
                        about,
                        units,
                    },
                );
                if let Some(d) = about {
                    self.statements.entry(d).or_default().push(seq);
                }
            }
            Change::OpenCampaign(c, _) => {
                self.campaigns.insert(c.id.clone(), c);
            }
            Change::AddLot(lot, source) => {
                if let Some(src) = &source {
                    self.sources
                        .entry((src.organization.clone(), src.disbursement))
                        .or_default()
                        .push(lot.seq);
                }
                self.lots.insert(lot.seq, Arc::new(lot));
            }
            Change::Draw(d) => {
                if let Some(lot) = self.lots.get_mut(&d.donation).map(Arc::make_mut) {
                    if d.expense {
                        lot.expensed += d.units;
                    } else {
                        lot.allocated += d.units;
                    }
                    assert!(lot.remaining() >= 0, "lot {} over-drawn", lot.seq);
                }
                self.draws.push_back(d);
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
                let info = self.facts.get_mut(&seq).map(|f| {
                    f.live = false;
                    *f
                });
                match kind {
                    EntryKind::CampaignOpened => {
                        let id = self.campaigns.iter().find(|(_, c)| c.seq == seq);
                        if let Some(id) = id.map(|(id, _)| id.clone()) {
                            if let Some(c) = self.campaigns.get_mut(&id) {
                                c.live = false;
                            }
                        }
                    }
                    EntryKind::DonationReceived => {
                        if let Some(l) = self.lots.get_mut(&seq).map(Arc::make_mut) {
                            l.live = false;
                        }
                        let naming: Vec<_> = (self.sources.iter())
                            .filter(|(_, v)| v.contains(&seq))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for k in naming {
                            let left = self.sources.get_mut(&k).map(|v| {
                                v.retain(|s| *s != seq);
                                v.is_empty()
                            });
                            if left == Some(true) {
                                self.sources.remove(&k);
                            }
                        }
                    }
                    EntryKind::AllocationMade
                    | EntryKind::ExpenseRecorded
                    | EntryKind::ProcurementMade => {
                        for d in self.draws.iter().filter(|d| d.by == seq) {
                            if let Some(lot) = self.lots.get_mut(&d.donation).map(Arc::make_mut) {
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
                        if kind == EntryKind::ProcurementMade {
                            if let Some(l) = self.lots.get_mut(&seq).map(Arc::make_mut) {
                                l.live = false;
                            }
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
                    // A recipient's statement, voided by the recipient: what it stated is withdrawn
                    // (an acknowledgement takes what was reported used with it; a replacement's
                    // `Carry` sums the live reports again).
                    EntryKind::AcknowledgementRecorded => {
                        let about = info.and_then(|f| f.about);
                        if let Some(d) = about.and_then(|d| self.disbursements.get_mut(&d)) {
                            d.acknowledged = None;
                            d.used = 0;
                        }
                    }
                    EntryKind::UsageReported => {
                        if let Some(f) = info {
                            if let Some(d) = f.about.and_then(|d| self.disbursements.get_mut(&d)) {
                                d.used -= f.units;
                            }
                        }
                    }
                    // Correction notices and disclosures are never voided.
                    EntryKind::EntryCorrected | EntryKind::DisclosurePublished => {}
                }
            }
            Change::Carry { from, to, kind } => {
                self.successors.insert(from, to);
                match kind {
                    EntryKind::DonationReceived | EntryKind::ProcurementMade => {
                        let (allocated, expensed) = self
                            .lots
                            .get_mut(&from)
                            .map(Arc::make_mut)
                            .map(|l| {
                                let moved = (l.allocated, l.expensed);
                                l.allocated = 0;
                                l.expensed = 0;
                                moved
                            })
                            .unwrap_or_default();
                        if let Some(l) = self.lots.get_mut(&to).map(Arc::make_mut) {
                            l.allocated += allocated;
                            l.expensed += expensed;
                        }
                        for d in self.draws.iter_mut().filter(|d| d.donation == from) {
                            d.donation = to;
                        }
                    }
                    EntryKind::AllocationMade => {
                        let moved = self
                            .allocations
                            .get_mut(&from)
                            .map(|a| std::mem::take(&mut a.disbursed))
                            .unwrap_or_default();
                        if let Some(a) = self.allocations.get_mut(&to) {
                            a.disbursed += moved;
                        }
                        let moved: Vec<Seq> = (self.disbursements.values())
                            .filter(|d| d.allocation == from)
                            .map(|d| d.seq)
                            .collect();
                        for seq in moved {
                            if let Some(d) = self.disbursements.get_mut(&seq) {
                                d.allocation = to;
                            }
                        }
                    }
                    EntryKind::DisbursementMade => {
                        let moved = self
                            .disbursements
                            .get_mut(&from)
                            .map(|d| (d.acknowledged.take(), std::mem::take(&mut d.used)));
                        if let (Some((acknowledged, used)), Some(d)) =
                            (moved, self.disbursements.get_mut(&to))
                        {
                            d.acknowledged = acknowledged;
                            d.used = used;
                        }
                        if let Some(statements) = self.statements.remove(&from) {
                            for s in &statements {
                                if let Some(f) = self.facts.get_mut(s) {
                                    f.about = Some(to);
                                }
                            }
                            let mut all = statements;
                            all.extend(self.statements.remove(&to).unwrap_or_default());
                            all.sort_unstable();
                            self.statements.insert(to, all);
                        }
                    }
                    EntryKind::AcknowledgementRecorded => {
                        let about = self.facts.get(&to).and_then(|f| f.about);
                        if let Some(d) = about {
                            let used: i64 = self
                                .statements
                                .get(&d)
                                .into_iter()
                                .flatten()
                                .filter_map(|s| self.facts.get(s))
                                .filter(|f| f.live && f.kind == EntryKind::UsageReported)
                                .map(|f| f.units)
                                .sum();
                            if let Some(state) = self.disbursements.get_mut(&d) {
                                state.used = used;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
