//! Rows as the queries read them: one struct per shape, its columns named once (`Selectable`),
//! with the conversion to the domain's type beside it. A row that does not convert is corrupt
//! stored data ([`StoreError::Corrupt`]).

use diesel::prelude::*;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::entry::EntryKind;
use givetrail_domain::ids::{RegionCode, Slug};
use givetrail_domain::ledger::{
    AllocationState, CampaignState, Designation, DisbursementState, DrawState, FactInfo,
    ForeignDisbursement, Lot, OrgContext, RecipientInfo,
};

use crate::schema::*;
use crate::{from_micros, StoreError};

/// A stored slug.
pub(crate) fn slug(s: String) -> Result<Slug, StoreError> {
    Slug::parse(&s).map_err(|e| StoreError::Corrupt(format!("stored slug {s:?}: {e}")))
}

/// A stored asset key.
pub(crate) fn asset(s: &str) -> Result<AssetKey, StoreError> {
    AssetKey::from_key_string(s)
        .ok_or_else(|| StoreError::Corrupt(format!("stored asset key {s:?}")))
}

/// A stored region code.
pub(crate) fn region(s: &str) -> Result<RegionCode, StoreError> {
    RegionCode::parse(s).map_err(StoreError::Corrupt)
}

/// An entry of a log as stored: the canonical form as text (exactly what was hashed) and its
/// three hashes.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = entries)]
pub struct EntryRow {
    /// Position in the log.
    pub seq: i64,
    /// RFC 8785 form of the public entry object.
    pub canonical: String,
    /// Hash chaining this entry to the previous one.
    pub entry_hash: String,
    /// The previous entry's hash.
    pub prev_entry_hash: String,
    /// RFC 9162 leaf hash.
    pub leaf_hash: String,
}

/// An entry as replay reads it: its kind, when it happened and its canonical form.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = entries)]
pub(crate) struct FactEntryRow {
    pub seq: i64,
    pub kind: String,
    pub occurred_at: i64,
    pub canonical: String,
}

/// What the ledger rules need of an organisation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub(crate) struct OrgContextRow {
    pub id: String,
    pub region_code: String,
    pub public_fundraising_qualified: bool,
}

impl OrgContextRow {
    pub(crate) fn into_context(self) -> Result<OrgContext, StoreError> {
        Ok(OrgContext {
            id: Slug::parse(&self.id).map_err(StoreError::Corrupt)?,
            region_code: region(&self.region_code)?,
            public_fundraising_qualified: self.public_fundraising_qualified,
        })
    }
}

/// A recipient as the designation rules see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recipients)]
pub(crate) struct RecipientInfoRow {
    pub id: String,
    pub region_code: String,
    pub organization: Option<String>,
}

impl RecipientInfoRow {
    pub(crate) fn into_info(self) -> Result<RecipientInfo, StoreError> {
        Ok(RecipientInfo {
            id: slug(self.id)?,
            region_code: region(&self.region_code)?,
            organization: self.organization.map(slug).transpose()?,
        })
    }
}

/// A donation lot: what was received and how much of it is allocated or expensed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub(crate) struct LotRow {
    pub seq: i64,
    pub receipt_number: String,
    pub campaign: Option<String>,
    pub asset_key: String,
    pub received: i64,
    pub allocated: i64,
    pub expensed: i64,
    pub designated: bool,
    pub designated_region: Option<String>,
    pub designated_recipient: Option<String>,
    pub occurred_at: i64,
    pub voided_by: Option<i64>,
    pub costs_allowed: bool,
}

impl LotRow {
    pub(crate) fn into_lot(self) -> Result<Lot, StoreError> {
        let designation = if self.designated {
            Some(Designation {
                region_code: self.designated_region.as_deref().map(region).transpose()?,
                recipient: self.designated_recipient.map(slug).transpose()?,
                costs_allowed: self.costs_allowed,
            })
        } else {
            None
        };
        Ok(Lot {
            seq: self.seq,
            receipt_number: self.receipt_number,
            campaign: self.campaign.map(slug).transpose()?,
            asset: asset(&self.asset_key)?,
            received: self.received,
            allocated: self.allocated,
            expensed: self.expensed,
            designation: designation.map(Box::new),
            occurred_at: from_micros(self.occurred_at),
            live: self.voided_by.is_none(),
        })
    }
}

/// A campaign as the rules see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub(crate) struct CampaignRow {
    pub seq: i64,
    pub id: String,
    pub public_fundraising: bool,
    pub emergency: bool,
    pub starts_at: i64,
    pub ends_at: Option<i64>,
    pub voided_by: Option<i64>,
}

impl CampaignRow {
    pub(crate) fn into_state(self) -> Result<CampaignState, StoreError> {
        Ok(CampaignState {
            seq: self.seq,
            id: slug(self.id)?,
            public_fundraising: self.public_fundraising,
            emergency: self.emergency,
            starts_at: from_micros(self.starts_at),
            ends_at: self.ends_at.map(from_micros),
            live: self.voided_by.is_none(),
        })
    }
}

/// An allocation as the rules see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = allocations)]
pub(crate) struct AllocationRow {
    pub seq: i64,
    pub recipient: String,
    pub asset_key: String,
    pub units: i64,
    pub disbursed: i64,
    pub need: Option<String>,
    pub voided_by: Option<i64>,
}

impl AllocationRow {
    pub(crate) fn into_state(self) -> Result<AllocationState, StoreError> {
        Ok(AllocationState {
            seq: self.seq,
            recipient: slug(self.recipient)?,
            asset: asset(&self.asset_key)?,
            units: self.units,
            disbursed: self.disbursed,
            need: self.need.map(slug).transpose()?,
            live: self.voided_by.is_none(),
        })
    }
}

/// A disbursement as the rules see it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursements)]
pub(crate) struct DisbursementRow {
    pub seq: i64,
    pub allocation_seq: i64,
    pub recipient: String,
    pub asset_key: String,
    pub units: i64,
    pub acknowledged: Option<i64>,
    pub used: i64,
    pub voided_by: Option<i64>,
}

impl DisbursementRow {
    pub(crate) fn into_state(self) -> Result<DisbursementState, StoreError> {
        Ok(DisbursementState {
            seq: self.seq,
            allocation: self.allocation_seq,
            recipient: slug(self.recipient)?,
            asset: asset(&self.asset_key)?,
            units: self.units,
            acknowledged: self.acknowledged,
            used: self.used,
            live: self.voided_by.is_none(),
        })
    }
}

/// Another organisation's disbursement, as a lot recording it sees it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursements)]
pub(crate) struct ForeignDisbursementRow {
    pub allocation_seq: i64,
    pub recipient: String,
    pub asset_key: String,
    pub units: i64,
}

impl ForeignDisbursementRow {
    /// The disbursement, with when it was sent and the designations it kept (filled by the caller).
    pub(crate) fn into_foreign(
        self,
        occurred_at: i64,
        designations: Vec<givetrail_domain::ledger::Designation>,
    ) -> Result<ForeignDisbursement, StoreError> {
        Ok(ForeignDisbursement {
            recipient: slug(self.recipient)?,
            asset: asset(&self.asset_key)?,
            units: self.units,
            occurred_at: from_micros(occurred_at),
            designations,
        })
    }
}

/// What kind of fact a seq holds and whether it is live.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = facts)]
pub(crate) struct FactRow {
    pub kind: String,
    pub voided_by: Option<i64>,
    pub occurred_at: i64,
    pub about_seq: Option<i64>,
    pub units: i64,
}

/// A fact row with its seq, for reading the whole table.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = facts)]
pub(crate) struct FactSeqRow {
    pub seq: i64,
    #[diesel(embed)]
    pub info: FactRow,
}

impl FactRow {
    pub(crate) fn into_info(self) -> Result<FactInfo, StoreError> {
        let kind = EntryKind::parse(&self.kind)
            .ok_or_else(|| StoreError::Corrupt(format!("fact kind {}", self.kind)))?;
        Ok(FactInfo {
            kind,
            live: self.voided_by.is_none(),
            occurred_at: from_micros(self.occurred_at),
            about: self.about_seq,
            units: self.units,
        })
    }
}

/// Units an allocation or expense drew from a donation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = draws)]
pub(crate) struct DrawRow {
    pub by_seq: i64,
    pub donation_seq: i64,
    pub units: i64,
    pub expense: bool,
}

impl From<DrawRow> for DrawState {
    fn from(r: DrawRow) -> DrawState {
        DrawState {
            by: r.by_seq,
            donation: r.donation_seq,
            units: r.units,
            expense: r.expense,
        }
    }
}

/// An expense as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = expenses)]
pub(crate) struct ExpenseRow {
    pub seq: i64,
    pub asset_key: String,
    pub units: i64,
    pub voided_by: Option<i64>,
}

/// A signed checkpoint as stored (read and written).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkpoints, treat_none_as_default_value = false)]
pub(crate) struct CheckpointRow {
    pub organization: String,
    pub tree_size: i64,
    pub root_hash: String,
    pub timestamp: String,
    pub signature: String,
}

impl From<Checkpoint> for CheckpointRow {
    fn from(c: Checkpoint) -> CheckpointRow {
        CheckpointRow {
            organization: c.organization,
            tree_size: c.tree_size,
            root_hash: c.root_hash,
            timestamp: c.timestamp,
            signature: c.signature,
        }
    }
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Checkpoint {
        Checkpoint {
            organization: r.organization,
            tree_size: r.tree_size,
            root_hash: r.root_hash,
            timestamp: r.timestamp,
            signature: r.signature,
        }
    }
}

/// A need as stored (its progress is computed, never stored).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = needs)]
pub(crate) struct NeedRow {
    pub id: String,
    pub number: i64,
    pub recipient: String,
    pub region_code: String,
    pub asset_key: String,
    pub units: i64,
    pub urgency: String,
    pub needed_by: Option<i64>,
    pub note: String,
    pub posted_at: i64,
    pub withdrawn_at: Option<i64>,
    pub withdrawal_reason: Option<String>,
}

/// A line of a bank statement as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bank_lines)]
pub(crate) struct BankLineRow {
    pub statement: i64,
    pub row_no: i64,
    pub booked_on: String,
    pub direction: String,
    pub currency: String,
    pub units: i64,
    pub reference: String,
    pub counterparty: String,
}

/// A complaint as stored (its status comes from its events).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = complaints)]
pub(crate) struct ComplaintRow {
    pub organization: String,
    pub code: String,
    pub entry_seq: Option<i64>,
    pub category: String,
    pub description: String,
    pub contact: Option<String>,
    pub filed_at: i64,
}

/// An event in a complaint's history as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = complaint_events)]
pub(crate) struct ComplaintEventRow {
    pub code: String,
    pub seq: i64,
    pub status: String,
    pub note: String,
    pub author: String,
    pub recorded_at: i64,
}

/// An API key as stored, without its hash.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub(crate) struct KeyRow {
    pub key_id: String,
    pub role: String,
    pub organization: Option<String>,
    pub recipient: Option<String>,
    pub jurisdiction: Option<String>,
    pub revoked_at: Option<i64>,
}

/// The first response to an idempotent request as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency)]
pub(crate) struct IdempotencyRow {
    pub request_hash: String,
    pub status: i32,
    pub response: String,
}

/// A donation of another organisation whose receipt number matches one of this log's.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub(crate) struct ReceiptRow {
    pub organization: String,
    pub seq: i64,
    pub receipt_number: String,
    pub source_organization: Option<String>,
    pub source_seq: Option<i64>,
}

/// A disbursement of another organisation whose reference matches one of this log's.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursements)]
pub(crate) struct ReferenceRow {
    pub organization: String,
    pub seq: i64,
    pub reference: String,
}

// Rows as they are written. Each is `Insertable`, so one row and a commit group's rows (a
// multi-row `INSERT`) go through the same column list.

/// A log entry as stored: the canonical form and its three hashes.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = entries, treat_none_as_default_value = false)]
pub(crate) struct NewEntry {
    pub organization: String,
    pub seq: i64,
    pub kind: &'static str,
    pub occurred_at: i64,
    pub recorded_at: i64,
    pub canonical: String,
    pub entry_hash: String,
    pub prev_entry_hash: String,
    pub leaf_hash: String,
}

/// An entry's private values (JCS), beside the log.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = entry_private, treat_none_as_default_value = false)]
pub(crate) struct NewPrivate {
    pub organization: String,
    pub seq: i64,
    pub private: String,
}

/// One stored Merkle subtree hash.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = merkle_nodes, treat_none_as_default_value = false)]
pub(crate) struct NewNode {
    pub organization: String,
    pub level: i32,
    pub idx: i64,
    pub hash: String,
}

/// What lives at a seq, as the rules' `Change::Fact` records it.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = facts, treat_none_as_default_value = false)]
pub(crate) struct NewFact {
    pub organization: String,
    pub seq: i64,
    pub kind: &'static str,
    pub occurred_at: i64,
    pub voided_by: Option<i64>,
    pub about_seq: Option<i64>,
    pub units: i64,
}

impl NewFact {
    pub(crate) fn new(
        org: &str,
        seq: i64,
        kind: EntryKind,
        at: chrono::DateTime<chrono::Utc>,
        about: Option<i64>,
        units: i64,
    ) -> Self {
        Self {
            organization: org.to_owned(),
            seq,
            kind: kind.as_str(),
            occurred_at: crate::micros(at),
            voided_by: None,
            about_seq: about,
            units,
        }
    }
}

/// A new lot, as the rules' `Change::AddLot` records it (nothing drawn yet).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = lots, treat_none_as_default_value = false)]
pub(crate) struct NewLot {
    pub organization: String,
    pub seq: i64,
    pub receipt_number: String,
    pub campaign: Option<String>,
    pub asset_key: String,
    pub received: i64,
    pub allocated: i64,
    pub expensed: i64,
    pub designated: bool,
    pub designated_region: Option<String>,
    pub designated_recipient: Option<String>,
    pub source_organization: Option<String>,
    pub source_seq: Option<i64>,
    pub occurred_at: i64,
    pub voided_by: Option<i64>,
    pub costs_allowed: bool,
}

impl NewLot {
    pub(crate) fn new(
        org: &str,
        lot: &Lot,
        source: Option<&givetrail_domain::entry::SourceDisbursement>,
    ) -> Self {
        let d = lot.designation.as_ref();
        Self {
            organization: org.to_owned(),
            seq: lot.seq,
            receipt_number: lot.receipt_number.clone(),
            campaign: lot.campaign.as_ref().map(|c| c.as_str().to_owned()),
            asset_key: lot.asset.to_key_string(),
            received: lot.received,
            allocated: 0,
            expensed: 0,
            designated: d.is_some(),
            designated_region: d
                .and_then(|d| d.region_code.as_ref())
                .map(|r| r.as_str().to_owned()),
            designated_recipient: d
                .and_then(|d| d.recipient.as_ref())
                .map(|r| r.as_str().to_owned()),
            source_organization: source.map(|s| s.organization.as_str().to_owned()),
            source_seq: source.map(|s| s.disbursement),
            occurred_at: crate::micros(lot.occurred_at),
            voided_by: None,
            costs_allowed: d.is_some_and(|d| d.costs_allowed),
        }
    }
}
