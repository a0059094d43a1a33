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
    NewFact, NewLot, RecipientInfoRow,
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

    fn dependants(&mut self, seq: Seq, limit: usize) -> Result<Vec<Dependant>, StoreError> {
        let Some(info) = self.fact(seq)? else {
            return Ok(Vec::new());
        };
        let org = self.org;
        let n = i64::try_from(limit).unwrap_or(i64::MAX);
        let here = |rows: Vec<(i64, String)>| -> Result<Vec<Dependant>, StoreError> {
            rows.into_iter()
                .map(|(seq, kind)| {
                    let kind = EntryKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("fact kind {kind}")))?;
                    Ok(Dependant {
                        organization: None,
                        seq,
                        kind,
                    })
                })
                .collect()
        };
        let mut out = match info.kind {
            EntryKind::DonationReceived | EntryKind::ProcurementMade => here(
                draws::table
                    .inner_join(
                        facts::table.on(facts::organization
                            .eq(draws::organization)
                            .and(facts::seq.eq(draws::by_seq))),
                    )
                    .filter(draws::organization.eq(org))
                    .filter(draws::donation_seq.eq(seq))
                    .filter(facts::voided_by.is_null())
                    .order(draws::by_seq.asc())
                    .limit(n)
                    .select((draws::by_seq, facts::kind))
                    .load(self.conn)?,
            )?,
            EntryKind::AllocationMade => disbursements::table
                .filter(disbursements::organization.eq(org))
                .filter(disbursements::allocation_seq.eq(seq))
                .filter(disbursements::voided_by.is_null())
                .order(disbursements::seq.asc())
                .limit(n)
                .select(disbursements::seq)
                .load::<i64>(self.conn)?
                .into_iter()
                .map(|seq| Dependant {
                    organization: None,
                    seq,
                    kind: EntryKind::DisbursementMade,
                })
                .collect(),
            EntryKind::DisbursementMade => {
                let mut out = here(
                    facts::table
                        .filter(facts::organization.eq(org))
                        .filter(facts::about_seq.eq(seq))
                        .filter(facts::voided_by.is_null())
                        .order(facts::seq.asc())
                        .limit(n)
                        .select((facts::seq, facts::kind))
                        .load(self.conn)?,
                )?;
                // Level by level: a donation recording it (or an earlier version of it, before a
                // correction replaced it) in the receiving charity's log.
                let versions = versions(self.conn, org, seq)?;
                let received: Vec<(String, i64)> = lots::table
                    .filter(lots::source_organization.eq(org))
                    .filter(lots::source_seq.eq_any(versions))
                    .filter(lots::voided_by.is_null())
                    .order((lots::organization.asc(), lots::seq.asc()))
                    .limit(n)
                    .select((lots::organization, lots::seq))
                    .load(self.conn)?;
                for (o, s) in received {
                    out.push(Dependant {
                        organization: Some(crate::models::slug(o)?),
                        seq: s,
                        kind: EntryKind::DonationReceived,
                    });
                }
                out
            }
            EntryKind::AcknowledgementRecorded => match info.about {
                None => Vec::new(),
                Some(d) => here(
                    facts::table
                        .filter(facts::organization.eq(org))
                        .filter(facts::about_seq.eq(d))
                        .filter(facts::kind.eq(EntryKind::UsageReported.as_str()))
                        .filter(facts::voided_by.is_null())
                        .order(facts::seq.asc())
                        .limit(n)
                        .select((facts::seq, facts::kind))
                        .load(self.conn)?,
                )?,
            },
            EntryKind::CampaignOpened => {
                let id: Option<String> = campaigns::table
                    .filter(campaigns::organization.eq(org))
                    .filter(campaigns::seq.eq(seq))
                    .select(campaigns::id)
                    .first(self.conn)
                    .optional()?;
                // Donations naming it, and goods bought with their money (which name it too):
                // each by the kind of the fact that lives at the lot's seq.
                match id {
                    None => Vec::new(),
                    Some(id) => here(
                        lots::table
                            .inner_join(
                                facts::table.on(facts::organization
                                    .eq(lots::organization)
                                    .and(facts::seq.eq(lots::seq))),
                            )
                            .filter(lots::organization.eq(org))
                            .filter(lots::campaign.eq(id))
                            .filter(lots::voided_by.is_null())
                            .order(lots::seq.asc())
                            .limit(n)
                            .select((lots::seq, facts::kind))
                            .load(self.conn)?,
                    )?,
                }
            }
            _ => Vec::new(),
        };
        out.truncate(limit);
        Ok(out)
    }

    fn foreign_disbursement(
        &mut self,
        source: &SourceDisbursement,
    ) -> Result<Option<ForeignDisbursement>, StoreError> {
        let from = source.organization.as_str();
        let row: Option<ForeignDisbursementRow> = disbursements::table
            .filter(disbursements::organization.eq(from))
            .filter(disbursements::seq.eq(source.disbursement))
            .filter(disbursements::voided_by.is_null())
            .select(ForeignDisbursementRow::as_select())
            .first(self.conn)
            .optional()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let at: i64 = facts::table
            .filter(facts::organization.eq(from))
            .filter(facts::seq.eq(source.disbursement))
            .select(facts::occurred_at)
            .first(self.conn)?;
        // The designations of the lots its allocation drew on, except those the allocation
        // departed from (with the donor's consent) to send to this recipient.
        let drawn: Vec<LotRow> = lots::table
            .inner_join(
                draws::table.on(draws::organization
                    .eq(lots::organization)
                    .and(draws::donation_seq.eq(lots::seq))),
            )
            .filter(draws::organization.eq(from))
            .filter(draws::by_seq.eq(row.allocation_seq))
            .filter(lots::designated.eq(true))
            .select(LotRow::as_select())
            .load(self.conn)?;
        let recipient = self.recipient(&crate::models::slug(row.recipient.clone())?)?;
        let mut designations = Vec::new();
        for lot in drawn {
            let lot = lot.into_lot()?;
            let kept = recipient
                .as_ref()
                .is_some_and(|r| designation_breach(&lot, r).is_none());
            if let (true, Some(d)) = (kept, lot.designation) {
                if !designations.contains(&*d) {
                    designations.push(*d);
                }
            }
        }
        row.into_foreign(at, designations).map(Some)
    }

    fn source_recorded_units(&mut self, source: &SourceDisbursement) -> Result<i64, StoreError> {
        // What the receivers recorded of this disbursement and of the versions it replaced.
        let versions = versions(self.conn, source.organization.as_str(), source.disbursement)?;
        let received: Vec<i64> = lots::table
            .filter(lots::source_organization.eq(source.organization.as_str()))
            .filter(lots::source_seq.eq_any(versions))
            .filter(lots::voided_by.is_null())
            .select(lots::received)
            .load(self.conn)?;
        Ok(received.iter().sum())
    }

    fn need(&mut self, id: &Slug) -> Result<Option<NeedState>, StoreError> {
        crate::read::needs::state(self.conn, id.as_str())
    }

    fn apply(&mut self, change: Change) -> Result<(), StoreError> {
        let org = self.org;
        let conn = &mut *self.conn;
        match change {
            Change::Fact {
                seq,
                kind,
                at,
                about,
                units,
            } => {
                diesel::insert_into(facts::table)
                    .values(&NewFact::new(org, seq, kind, at, about, units))
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
            Change::AddLot(lot, source) => {
                diesel::insert_into(lots::table)
                    .values(&NewLot::new(org, &lot, source.as_ref()))
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
                let info = self.fact(seq)?;
                let conn = &mut *self.conn;
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
                    EntryKind::AllocationMade
                    | EntryKind::ExpenseRecorded
                    | EntryKind::ProcurementMade => {
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
                        // Goods bought: their lot goes with the purchase.
                        diesel::update(
                            lots::table
                                .filter(lots::organization.eq(org))
                                .filter(lots::seq.eq(seq)),
                        )
                        .set(lots::voided_by.eq(Some(by)))
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
                    // A recipient's statement withdrawn: an acknowledgement takes what was
                    // reported used with it (a replacement's `Carry` sums the live reports again).
                    EntryKind::AcknowledgementRecorded => {
                        if let Some(d) = info.and_then(|f| f.about) {
                            diesel::update(disbursement_row(org, d))
                                .set((
                                    disbursements::acknowledged.eq(None::<i64>),
                                    disbursements::used.eq(0i64),
                                ))
                                .execute(self.conn)?;
                        }
                    }
                    EntryKind::UsageReported => {
                        if let Some(f) = info {
                            if let Some(d) = f.about {
                                diesel::update(disbursement_row(org, d))
                                    .set(disbursements::used.eq(disbursements::used - f.units))
                                    .execute(self.conn)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Change::Carry { from, to, kind } => self.carry(from, to, kind)?,
        }
        Ok(())
    }
}

/// The row of one disbursement of one organisation, as a query.
type OneDisbursement<'a> = diesel::dsl::Filter<
    diesel::dsl::Filter<
        disbursements::table,
        diesel::dsl::Eq<disbursements::organization, &'a str>,
    >,
    diesel::dsl::Eq<disbursements::seq, Seq>,
>;

fn disbursement_row(org: &str, seq: Seq) -> OneDisbursement<'_> {
    disbursements::table
        .filter(disbursements::organization.eq(org))
        .filter(disbursements::seq.eq(seq))
}

/// `seq` and the earlier versions of the fact it replaced (a replacement lives at the seq of the
/// correction that voided the version before it), newest first.
fn versions(conn: &mut AnyConnection, org: &str, seq: Seq) -> Result<Vec<Seq>, StoreError> {
    let mut out = vec![seq];
    while out.len() < 64 {
        let Some(&at) = out.last() else { break };
        let earlier: Option<i64> = facts::table
            .filter(facts::organization.eq(org))
            .filter(facts::voided_by.eq(Some(at)))
            .select(facts::seq)
            .first(conn)
            .optional()?;
        match earlier {
            Some(e) => out.push(e),
            None => break,
        }
    }
    Ok(out)
}

impl SqlBooks<'_> {
    /// `Change::Carry`: the replacement at `to` takes over what depended on `from`.
    fn carry(&mut self, from: Seq, to: Seq, kind: EntryKind) -> Result<(), StoreError> {
        let org = self.org;
        let conn = &mut *self.conn;
        match kind {
            EntryKind::DonationReceived | EntryKind::ProcurementMade => {
                let moved: Option<(i64, i64)> = lots::table
                    .filter(lots::organization.eq(org))
                    .filter(lots::seq.eq(from))
                    .select((lots::allocated, lots::expensed))
                    .first(conn)
                    .optional()?;
                let (allocated, expensed) = moved.unwrap_or_default();
                diesel::update(
                    lots::table
                        .filter(lots::organization.eq(org))
                        .filter(lots::seq.eq(from)),
                )
                .set((lots::allocated.eq(0i64), lots::expensed.eq(0i64)))
                .execute(conn)?;
                diesel::update(
                    lots::table
                        .filter(lots::organization.eq(org))
                        .filter(lots::seq.eq(to)),
                )
                .set((
                    lots::allocated.eq(lots::allocated + allocated),
                    lots::expensed.eq(lots::expensed + expensed),
                ))
                .execute(conn)?;
                diesel::update(
                    draws::table
                        .filter(draws::organization.eq(org))
                        .filter(draws::donation_seq.eq(from)),
                )
                .set(draws::donation_seq.eq(to))
                .execute(conn)?;
            }
            EntryKind::AllocationMade => {
                let moved: Option<i64> = allocations::table
                    .filter(allocations::organization.eq(org))
                    .filter(allocations::seq.eq(from))
                    .select(allocations::disbursed)
                    .first(conn)
                    .optional()?;
                diesel::update(
                    allocations::table
                        .filter(allocations::organization.eq(org))
                        .filter(allocations::seq.eq(from)),
                )
                .set(allocations::disbursed.eq(0i64))
                .execute(conn)?;
                diesel::update(
                    allocations::table
                        .filter(allocations::organization.eq(org))
                        .filter(allocations::seq.eq(to)),
                )
                .set(allocations::disbursed.eq(allocations::disbursed + moved.unwrap_or(0)))
                .execute(conn)?;
                diesel::update(
                    disbursements::table
                        .filter(disbursements::organization.eq(org))
                        .filter(disbursements::allocation_seq.eq(from)),
                )
                .set(disbursements::allocation_seq.eq(to))
                .execute(conn)?;
            }
            EntryKind::DisbursementMade => {
                let moved: Option<(Option<i64>, i64)> = disbursements::table
                    .filter(disbursements::organization.eq(org))
                    .filter(disbursements::seq.eq(from))
                    .select((disbursements::acknowledged, disbursements::used))
                    .first(conn)
                    .optional()?;
                let (acknowledged, used) = moved.unwrap_or((None, 0));
                diesel::update(disbursement_row(org, from))
                    .set((
                        disbursements::acknowledged.eq(None::<i64>),
                        disbursements::used.eq(0i64),
                    ))
                    .execute(conn)?;
                diesel::update(disbursement_row(org, to))
                    .set((
                        disbursements::acknowledged.eq(acknowledged),
                        disbursements::used.eq(used),
                    ))
                    .execute(conn)?;
                diesel::update(
                    facts::table
                        .filter(facts::organization.eq(org))
                        .filter(facts::about_seq.eq(from)),
                )
                .set(facts::about_seq.eq(Some(to)))
                .execute(conn)?;
            }
            EntryKind::AcknowledgementRecorded => {
                // The live usage reports of the disbursement count again against the replacement.
                let about: Option<Option<i64>> = facts::table
                    .filter(facts::organization.eq(org))
                    .filter(facts::seq.eq(to))
                    .select(facts::about_seq)
                    .first(conn)
                    .optional()?;
                if let Some(d) = about.flatten() {
                    let used: Vec<i64> = facts::table
                        .filter(facts::organization.eq(org))
                        .filter(facts::about_seq.eq(d))
                        .filter(facts::kind.eq(EntryKind::UsageReported.as_str()))
                        .filter(facts::voided_by.is_null())
                        .select(facts::units)
                        .load(conn)?;
                    diesel::update(disbursement_row(org, d))
                        .set(disbursements::used.eq(used.iter().sum::<i64>()))
                        .execute(conn)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}
