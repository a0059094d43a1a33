//! `Books` over the database: the ledger rules read and change one organisation's derived
//! state through this, inside the write transaction; replaying a log into it rebuilds the
//! derived tables.

use diesel::prelude::*;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::entry::{EntryKind, Seq, SourceDisbursement};
use givetrail_domain::ids::Slug;
use givetrail_domain::ledger::*;

use crate::db::AnyConnection;
use crate::models::{
    AllocationRow, CampaignRow, DisbursementRow, DrawRow, FactRow, ForeignDisbursementRow, LotRow,
    RecipientInfoRow,
};
use crate::schema::*;
use crate::{micros, StoreError};

/// One organisation's books in the database.
pub struct SqlBooks<'a> {
    /// The connection, inside a transaction.
    pub conn: &'a mut AnyConnection,
    /// The organisation.
    pub org: &'a str,
}

/// Page size when walking the pool oldest-first.
const POOL_PAGE: i64 = 256;

impl Books for SqlBooks<'_> {
    type Error = StoreError;

    fn campaign(&mut self, id: &Slug) -> Result<Option<CampaignState>, StoreError> {
        let row: Option<CampaignRow> = campaigns::table
            .filter(campaigns::organization.eq(self.org))
            .filter(campaigns::id.eq(id.as_str()))
            .order(campaigns::seq.desc())
            .select(CampaignRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(CampaignRow::into_state).transpose()
    }

    fn lot(&mut self, seq: Seq) -> Result<Option<Lot>, StoreError> {
        let row: Option<LotRow> = lots::table
            .filter(lots::organization.eq(self.org))
            .filter(lots::seq.eq(seq))
            .select(LotRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(LotRow::into_lot).transpose()
    }

    fn receipt_in_use(&mut self, receipt_number: &str) -> Result<bool, StoreError> {
        let n: i64 = lots::table
            .filter(lots::organization.eq(self.org))
            .filter(lots::receipt_number.eq(receipt_number))
            .filter(lots::voided_by.is_null())
            .count()
            .get_result(self.conn)?;
        Ok(n > 0)
    }

    fn pool_lots(&mut self, asset: &AssetKey, units: i64) -> Result<Vec<Lot>, StoreError> {
        let asset_key = asset.to_key_string();
        let mut out = Vec::new();
        let mut covered = 0i64;
        let mut after: Option<(i64, i64)> = None;
        loop {
            let mut q = lots::table
                .filter(lots::organization.eq(self.org))
                .filter(lots::asset_key.eq(&asset_key))
                .filter(lots::designated.eq(false))
                .filter(lots::voided_by.is_null())
                .filter((lots::allocated + lots::expensed).lt(lots::received))
                .order((lots::occurred_at.asc(), lots::seq.asc()))
                .select(LotRow::as_select())
                .limit(POOL_PAGE)
                .into_boxed();
            if let Some((at, seq)) = after {
                q = q.filter(
                    lots::occurred_at
                        .gt(at)
                        .or(lots::occurred_at.eq(at).and(lots::seq.gt(seq))),
                );
            }
            let rows: Vec<LotRow> = q.load(self.conn)?;
            let n = rows.len() as i64;
            for row in rows {
                after = Some((row.occurred_at, row.seq));
                let lot = row.into_lot()?;
                covered += lot.remaining();
                out.push(lot);
            }
            if covered >= units || n < POOL_PAGE {
                return Ok(out);
            }
        }
    }

    fn allocation(&mut self, seq: Seq) -> Result<Option<AllocationState>, StoreError> {
        let row: Option<AllocationRow> = allocations::table
            .filter(allocations::organization.eq(self.org))
            .filter(allocations::seq.eq(seq))
            .select(AllocationRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(AllocationRow::into_state).transpose()
    }

    fn disbursement(&mut self, seq: Seq) -> Result<Option<DisbursementState>, StoreError> {
        let row: Option<DisbursementRow> = disbursements::table
            .filter(disbursements::organization.eq(self.org))
            .filter(disbursements::seq.eq(seq))
            .select(DisbursementRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(DisbursementRow::into_state).transpose()
    }

    fn recipient(&mut self, id: &Slug) -> Result<Option<RecipientInfo>, StoreError> {
        let row: Option<RecipientInfoRow> = recipients::table
            .filter(recipients::id.eq(id.as_str()))
            .select(RecipientInfoRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(RecipientInfoRow::into_info).transpose()
    }

    fn fact(&mut self, seq: Seq) -> Result<Option<FactInfo>, StoreError> {
        let row: Option<FactRow> = facts::table
            .filter(facts::organization.eq(self.org))
            .filter(facts::seq.eq(seq))
            .select(FactRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(FactRow::into_info).transpose()
    }

    fn draws_by(&mut self, seq: Seq) -> Result<Vec<DrawState>, StoreError> {
        let rows: Vec<DrawRow> = draws::table
            .filter(draws::organization.eq(self.org))
            .filter(draws::by_seq.eq(seq))
            .select(DrawRow::as_select())
            .load(self.conn)?;
        Ok(rows.into_iter().map(DrawState::from).collect())
    }

    fn live_dependants(&mut self, seq: Seq) -> Result<i64, StoreError> {
        let Some(info) = self.fact(seq)? else {
            return Ok(0);
        };
        let org = self.org;
        Ok(match info.kind {
            EntryKind::DonationReceived => draws::table
                .inner_join(
                    facts::table.on(facts::organization
                        .eq(draws::organization)
                        .and(facts::seq.eq(draws::by_seq))),
                )
                .filter(draws::organization.eq(org))
                .filter(draws::donation_seq.eq(seq))
                .filter(facts::voided_by.is_null())
                .count()
                .get_result(self.conn)?,
            EntryKind::AllocationMade => disbursements::table
                .filter(disbursements::organization.eq(org))
                .filter(disbursements::allocation_seq.eq(seq))
                .filter(disbursements::voided_by.is_null())
                .count()
                .get_result(self.conn)?,
            EntryKind::DisbursementMade => self.disbursement(seq)?.map_or(0, |d| {
                i64::from(d.acknowledged.is_some()) + i64::from(d.used > 0)
            }),
            EntryKind::CampaignOpened => {
                let id: Option<String> = campaigns::table
                    .filter(campaigns::organization.eq(org))
                    .filter(campaigns::seq.eq(seq))
                    .select(campaigns::id)
                    .first(self.conn)
                    .optional()?;
                match id {
                    None => 0,
                    Some(id) => lots::table
                        .filter(lots::organization.eq(org))
                        .filter(lots::campaign.eq(id))
                        .filter(lots::voided_by.is_null())
                        .count()
                        .get_result(self.conn)?,
                }
            }
            _ => 0,
        })
    }

    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, StoreError> {
        let row: Option<ForeignDisbursementRow> = disbursements::table
            .filter(disbursements::organization.eq(source.organization.as_str()))
            .filter(disbursements::seq.eq(source.disbursement))
            .filter(disbursements::voided_by.is_null())
            .select(ForeignDisbursementRow::as_select())
            .first(self.conn)
            .optional()?;
        row.map(ForeignDisbursementRow::into_foreign).transpose()
    }

    fn source_recorded(&mut self, source: &SourceDisbursement) -> Result<bool, StoreError> {
        let n: i64 = lots::table
            .filter(lots::source_organization.eq(source.organization.as_str()))
            .filter(lots::source_seq.eq(source.disbursement))
            .filter(lots::voided_by.is_null())
            .count()
            .get_result(self.conn)?;
        Ok(n > 0)
    }

    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, StoreError> {
        crate::read::needs::state(self.conn, id.as_str())
    }

    fn apply(&mut self, change: Change) -> Result<(), StoreError> {
        let org = self.org;
        let conn = &mut *self.conn;
        match change {
            Change::Fact { seq, kind, at } => {
                diesel::insert_into(facts::table)
                    .values((
                        facts::organization.eq(org),
                        facts::seq.eq(seq),
                        facts::kind.eq(kind.as_str()),
                        facts::occurred_at.eq(micros(at)),
                        facts::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
            Change::OpenCampaign(c, body) => {
                diesel::insert_into(campaigns::table)
                    .values((
                        campaigns::organization.eq(org),
                        campaigns::seq.eq(c.seq),
                        campaigns::id.eq(c.id.as_str()),
                        campaigns::title.eq(&body.title),
                        campaigns::region_code.eq(body.region_code.as_str()),
                        campaigns::public_fundraising.eq(c.public_fundraising),
                        campaigns::record_number.eq(body.record_number.as_deref()),
                        campaigns::emergency.eq(c.emergency),
                        campaigns::starts_at.eq(micros(c.starts_at)),
                        campaigns::ends_at.eq(c.ends_at.map(micros)),
                        campaigns::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
            Change::AddLot(lot, body) => {
                let (region, recipient) = match &lot.designation {
                    Some(d) => (
                        d.region_code.as_ref().map(|r| r.as_str().to_owned()),
                        d.recipient.as_ref().map(|r| r.as_str().to_owned()),
                    ),
                    None => (None, None),
                };
                diesel::insert_into(lots::table)
                    .values((
                        lots::organization.eq(org),
                        lots::seq.eq(lot.seq),
                        lots::receipt_number.eq(&lot.receipt_number),
                        lots::campaign.eq(lot.campaign.as_ref().map(|c| c.as_str())),
                        lots::asset_key.eq(lot.asset.to_key_string()),
                        lots::received.eq(lot.received),
                        lots::allocated.eq(0i64),
                        lots::expensed.eq(0i64),
                        lots::designated.eq(lot.designation.is_some()),
                        lots::designated_region.eq(region),
                        lots::designated_recipient.eq(recipient),
                        lots::source_organization.eq(body
                            .source_disbursement
                            .as_ref()
                            .map(|s| s.organization.as_str())),
                        lots::source_seq
                            .eq(body.source_disbursement.as_ref().map(|s| s.disbursement)),
                        lots::occurred_at.eq(micros(lot.occurred_at)),
                        lots::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
            Change::Draw(d) => {
                diesel::insert_into(draws::table)
                    .values((
                        draws::organization.eq(org),
                        draws::by_seq.eq(d.by),
                        draws::donation_seq.eq(d.donation),
                        draws::units.eq(d.units),
                        draws::expense.eq(d.expense),
                    ))
                    .execute(conn)?;
                let target = lots::table
                    .filter(lots::organization.eq(org))
                    .filter(lots::seq.eq(d.donation));
                if d.expense {
                    diesel::update(target)
                        .set(lots::expensed.eq(lots::expensed + d.units))
                        .execute(conn)?;
                } else {
                    diesel::update(target)
                        .set(lots::allocated.eq(lots::allocated + d.units))
                        .execute(conn)?;
                }
            }
            Change::AddAllocation(a, body) => {
                diesel::insert_into(allocations::table)
                    .values((
                        allocations::organization.eq(org),
                        allocations::seq.eq(a.seq),
                        allocations::recipient.eq(a.recipient.as_str()),
                        allocations::asset_key.eq(a.asset.to_key_string()),
                        allocations::units.eq(a.units),
                        allocations::disbursed.eq(0i64),
                        allocations::pool.eq(body.pool),
                        allocations::donation_seq.eq(body.donation),
                        allocations::need.eq(a.need.as_ref().map(|n| n.as_str())),
                        allocations::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
            Change::AddDisbursement(d, body) => {
                diesel::insert_into(disbursements::table)
                    .values((
                        disbursements::organization.eq(org),
                        disbursements::seq.eq(d.seq),
                        disbursements::allocation_seq.eq(d.allocation),
                        disbursements::recipient.eq(d.recipient.as_str()),
                        disbursements::asset_key.eq(d.asset.to_key_string()),
                        disbursements::units.eq(d.units),
                        disbursements::acknowledged.eq(None::<i64>),
                        disbursements::used.eq(0i64),
                        disbursements::reference.eq(&body.reference),
                        disbursements::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
                diesel::update(
                    allocations::table
                        .filter(allocations::organization.eq(org))
                        .filter(allocations::seq.eq(d.allocation)),
                )
                .set(allocations::disbursed.eq(allocations::disbursed + d.units))
                .execute(conn)?;
            }
            Change::Acknowledge {
                disbursement,
                units,
                ..
            } => {
                // Set, not added: what the recipient states arrived (acknowledged once, never
                // corrected), as `MemoryBooks` records it.
                diesel::update(
                    disbursements::table
                        .filter(disbursements::organization.eq(org))
                        .filter(disbursements::seq.eq(disbursement)),
                )
                .set(disbursements::acknowledged.eq(Some(units)))
                .execute(conn)?;
            }
            Change::Use {
                disbursement,
                units,
                ..
            } => {
                diesel::update(
                    disbursements::table
                        .filter(disbursements::organization.eq(org))
                        .filter(disbursements::seq.eq(disbursement)),
                )
                .set(disbursements::used.eq(disbursements::used + units))
                .execute(conn)?;
            }
            Change::AddExpense { seq, asset, units } => {
                diesel::insert_into(expenses::table)
                    .values((
                        expenses::organization.eq(org),
                        expenses::seq.eq(seq),
                        expenses::asset_key.eq(asset.to_key_string()),
                        expenses::units.eq(units),
                        expenses::voided_by.eq(None::<i64>),
                    ))
                    .execute(conn)?;
            }
            Change::Void { seq, kind, by } => {
                diesel::update(
                    facts::table
                        .filter(facts::organization.eq(org))
                        .filter(facts::seq.eq(seq)),
                )
                .set(facts::voided_by.eq(Some(by)))
                .execute(conn)?;
                match kind {
                    EntryKind::CampaignOpened => {
                        diesel::update(
                            campaigns::table
                                .filter(campaigns::organization.eq(org))
                                .filter(campaigns::seq.eq(seq)),
                        )
                        .set(campaigns::voided_by.eq(Some(by)))
                        .execute(conn)?;
                    }
                    EntryKind::DonationReceived => {
                        diesel::update(
                            lots::table
                                .filter(lots::organization.eq(org))
                                .filter(lots::seq.eq(seq)),
                        )
                        .set(lots::voided_by.eq(Some(by)))
                        .execute(conn)?;
                    }
                    EntryKind::AllocationMade | EntryKind::ExpenseRecorded => {
                        for d in self.draws_by(seq)? {
                            let target = lots::table
                                .filter(lots::organization.eq(org))
                                .filter(lots::seq.eq(d.donation));
                            if d.expense {
                                diesel::update(target)
                                    .set(lots::expensed.eq(lots::expensed - d.units))
                                    .execute(self.conn)?;
                            } else {
                                diesel::update(target)
                                    .set(lots::allocated.eq(lots::allocated - d.units))
                                    .execute(self.conn)?;
                            }
                        }
                        diesel::update(
                            allocations::table
                                .filter(allocations::organization.eq(org))
                                .filter(allocations::seq.eq(seq)),
                        )
                        .set(allocations::voided_by.eq(Some(by)))
                        .execute(self.conn)?;
                        diesel::update(
                            expenses::table
                                .filter(expenses::organization.eq(org))
                                .filter(expenses::seq.eq(seq)),
                        )
                        .set(expenses::voided_by.eq(Some(by)))
                        .execute(self.conn)?;
                    }
                    EntryKind::DisbursementMade => {
                        if let Some(d) = self.disbursement(seq)? {
                            diesel::update(
                                allocations::table
                                    .filter(allocations::organization.eq(org))
                                    .filter(allocations::seq.eq(d.allocation)),
                            )
                            .set(allocations::disbursed.eq(allocations::disbursed - d.units))
                            .execute(self.conn)?;
                        }
                        diesel::update(
                            disbursements::table
                                .filter(disbursements::organization.eq(org))
                                .filter(disbursements::seq.eq(seq)),
                        )
                        .set(disbursements::voided_by.eq(Some(by)))
                        .execute(self.conn)?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
