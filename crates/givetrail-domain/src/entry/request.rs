//! The request bodies clients send, one per kind of write, and `Command`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::asset::AssetWire;
use crate::ids::{RegionCode, Slug};

use super::*;

/// The donor as the charity records it (contact and related parties are private).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonorRequest {
    /// Full name (of a person, private unless `public_name`; of an organisation, public).
    pub name: String,
    /// Person or organisation.
    pub kind: DonorKind,
    /// The donor asked not to be named.
    #[serde(default)]
    pub anonymous: bool,
    /// The name a person chose to be shown under.
    #[serde(default)]
    pub public_name: Option<String>,
    /// Contact data (private: only a commitment is published).
    #[serde(default)]
    pub contact: Option<String>,
    /// Recipients the donor is related to (private; they may not be designated).
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub related_recipients: Vec<Slug>,
}

/// `POST /organizations/{org}/campaigns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    /// Slug, unique within the organisation.
    #[schema(value_type = String)]
    pub id: Slug,
    /// Title.
    pub title: String,
    /// Purpose.
    #[serde(default)]
    pub purpose: String,
    /// Region the appeal is for.
    #[schema(value_type = String)]
    pub region_code: RegionCode,
    /// Whether it raises from the public (needs a record number and a qualified organisation).
    #[serde(default)]
    pub public_fundraising: bool,
    /// Fundraising-plan record number.
    #[serde(default)]
    pub record_number: Option<String>,
    /// An emergency appeal (24 h disclosure deadline, 7-day ageing limit).
    #[serde(default)]
    pub emergency: bool,
    /// Start of the appeal.
    pub starts_at: DateTime<Utc>,
    /// End of the appeal, if fixed.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Optional target per asset.
    #[serde(default)]
    pub targets: Vec<AssetWire>,
    /// How long money or goods of this campaign may wait unallocated or undisbursed before the
    /// reconciliation flags them (default 168 hours for an emergency campaign, 2160 otherwise).
    #[serde(default)]
    pub ageing_limit_hours: Option<u32>,
    /// The share of (disbursed + expenses) the charity's own expenses may take before the
    /// reconciliation flags it (default 10).
    #[serde(default)]
    pub cost_limit_percent: Option<u32>,
    /// When the campaign was opened.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /organizations/{org}/donations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DonationRequest {
    /// Receipt number, unique per organisation.
    pub receipt_number: String,
    /// When it was received.
    pub occurred_at: DateTime<Utc>,
    /// The donor.
    pub donor: DonorRequest,
    /// Campaign slug of this organisation.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub campaign: Option<Slug>,
    /// How it arrived.
    pub channel: DonationChannel,
    /// The donor's restriction.
    pub restriction: RestrictionWire,
    /// What was given.
    pub asset: AssetWire,
    /// The other charity's disbursement this came from.
    #[serde(default)]
    pub source_disbursement: Option<SourceDisbursement>,
    /// For a gift passed on by another charity: a documented departure from the designations of
    /// the source disbursement, with the donor's consent.
    #[serde(default)]
    pub designation_change: Option<DesignationChange>,
}

/// `POST /organizations/{org}/allocations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllocationRequest {
    /// Seq of the donation (lot) to allocate from; or use `pool`.
    #[serde(default)]
    pub donation: Option<Seq>,
    /// Allocate from the undesignated pool of this asset (attributed oldest-first).
    #[serde(default)]
    pub pool: bool,
    /// Recipient slug.
    #[schema(value_type = String)]
    pub recipient: Slug,
    /// What it is for.
    #[serde(default)]
    pub purpose: String,
    /// How much.
    pub asset: AssetWire,
    /// The need this allocation serves.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub need: Option<Slug>,
    /// Departure from the donor's designation, with consent.
    #[serde(default)]
    pub designation_change: Option<DesignationChange>,
    /// When the allocation was decided.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /organizations/{org}/disbursements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisbursementRequest {
    /// Seq of the allocation.
    pub allocation: Seq,
    /// How much is sent.
    pub asset: AssetWire,
    /// How it is sent.
    pub channel: DisbursementChannel,
    /// Bank transaction id or waybill number.
    pub reference: String,
    /// When it was sent.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /recipients/{recipient}/acknowledgements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgementRequest {
    /// The disbursement acknowledged.
    pub disbursement: EntryRef,
    /// What actually arrived.
    pub asset: AssetWire,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Remarks (e.g. damaged, short).
    #[serde(default)]
    pub note: String,
    /// When the acknowledgement was made.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /recipients/{recipient}/usage_reports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageRequest {
    /// The disbursement whose goods or money were used.
    pub disbursement: EntryRef,
    /// How much was used.
    pub asset: AssetWire,
    /// How it was used.
    pub description: String,
    /// SHA-256 of supporting evidence (photo, invoice), lowercase hex.
    #[serde(default)]
    pub evidence_sha256: Option<String>,
    /// When it was used.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /organizations/{org}/expenses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpenseRequest {
    /// Seq of the donation charged; or use `pool`.
    #[serde(default)]
    pub donation: Option<Seq>,
    /// Charge the undesignated pool of this asset.
    #[serde(default)]
    pub pool: bool,
    /// How much.
    pub asset: AssetWire,
    /// What the cost was.
    pub description: String,
    /// Consent to charge a designated donation that does not allow costs.
    #[serde(default)]
    pub designation_change: Option<DesignationChange>,
    /// When it was incurred.
    pub occurred_at: DateTime<Utc>,
}

/// The seller of goods bought with donated money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    /// Registered name.
    pub name: String,
    /// Unified social credit code, if it has one (check character verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub credit_code: Option<crate::ids::CreditCode>,
}

/// `POST /organizations/{org}/procurements`: donated money buys goods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcurementRequest {
    /// Seq of the money donation (lot) paid from; or use `pool`.
    #[serde(default)]
    pub donation: Option<Seq>,
    /// Pay from the undesignated pool of the currency (oldest lots first).
    #[serde(default)]
    pub pool: bool,
    /// What was paid: `{"kind": "money", "amount", "currency"}`.
    pub paid: AssetWire,
    /// Who sold the goods.
    pub supplier: Supplier,
    /// The supplier's invoice (fapiao) number.
    pub invoice_reference: String,
    /// What was bought: a goods asset, which becomes a new lot.
    pub goods: AssetWire,
    /// When it was bought.
    pub occurred_at: DateTime<Utc>,
}

/// A period of time, `from` inclusive, `to` exclusive.
///
/// Named `DisclosurePeriod` in the OpenAPI document: the reconciliation report's period (both
/// ends optional) is `Period` there, and one name for both gave a disclosure the wrong schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DisclosurePeriod)]
pub struct Period {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive); also the moment the log is taken at.
    pub to: DateTime<Utc>,
}

impl Period {
    /// Whether `t` lies in `[from, to)`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// `POST /organizations/{org}/disclosures`: publish the organisation's summary for a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclosureRequest {
    /// The period disclosed: `from` before `to`, `to` not in the future.
    pub period: Period,
    /// When the disclosure was made.
    pub occurred_at: DateTime<Utc>,
}

/// A periodic disclosure as the writer decides it: the request, and the SHA-256 of the period
/// summary, which only the writer can compute (it has the log; the rules do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureCommand {
    /// What the charity sent.
    pub request: DisclosureRequest,
    /// SHA-256 (lowercase hex) of the JCS form of the period summary; `None` until the writer
    /// has computed it (the rule refuses a command without it).
    pub summary_sha256: Option<String>,
}

/// `POST /organizations/{org}/corrections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// Seq of the entry corrected.
    pub corrects: Seq,
    /// Why.
    pub reason: String,
    /// Optional replacement: a body of the same kind as the corrected entry (without `occurred_at`).
    #[serde(default)]
    pub replacement: Option<serde_json::Value>,
    /// When the correction was made.
    pub occurred_at: DateTime<Utc>,
}

/// `POST /recipients/{recipient}/corrections`: a recipient corrects its own acknowledgement or
/// usage report, which lives in the organisation's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientCorrectionRequest {
    /// The entry corrected: `{"organization", "seq"}`.
    pub corrects: EntryRef,
    /// Why.
    pub reason: String,
    /// Optional replacement: an acknowledgement or usage report body; `disbursement` may be left
    /// out (it defaults to the corrected entry's).
    #[serde(default)]
    pub replacement: Option<serde_json::Value>,
    /// When the correction was made.
    pub occurred_at: DateTime<Utc>,
}

impl RecipientCorrectionRequest {
    /// The correction as the organisation's log records it.
    pub fn into_correction(self) -> CorrectionRequest {
        CorrectionRequest {
            corrects: self.corrects.seq,
            reason: self.reason,
            replacement: self.replacement,
            occurred_at: self.occurred_at,
        }
    }
}

/// A write to a log, parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open a campaign.
    Campaign(CampaignRequest),
    /// Record a donation.
    Donation(DonationRequest),
    /// Allocate.
    Allocation(AllocationRequest),
    /// Disburse.
    Disbursement(DisbursementRequest),
    /// Acknowledge receipt (recipient).
    Acknowledgement(AcknowledgementRequest),
    /// Report usage (recipient).
    Usage(UsageRequest),
    /// Record an expense.
    Expense(ExpenseRequest),
    /// Buy goods with donated money.
    Procurement(ProcurementRequest),
    /// Correct an entry.
    Correction(CorrectionRequest),
    /// Publish a periodic disclosure.
    Disclosure(DisclosureCommand),
}

impl Command {
    /// When the fact happened, as the client says.
    pub fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Command::Campaign(r) => r.occurred_at,
            Command::Donation(r) => r.occurred_at,
            Command::Allocation(r) => r.occurred_at,
            Command::Disbursement(r) => r.occurred_at,
            Command::Acknowledgement(r) => r.occurred_at,
            Command::Usage(r) => r.occurred_at,
            Command::Expense(r) => r.occurred_at,
            Command::Procurement(r) => r.occurred_at,
            Command::Correction(r) => r.occurred_at,
            Command::Disclosure(r) => r.request.occurred_at,
        }
    }

    /// The kind of entry it writes.
    pub fn kind(&self) -> EntryKind {
        match self {
            Command::Campaign(_) => EntryKind::CampaignOpened,
            Command::Donation(_) => EntryKind::DonationReceived,
            Command::Allocation(_) => EntryKind::AllocationMade,
            Command::Disbursement(_) => EntryKind::DisbursementMade,
            Command::Acknowledgement(_) => EntryKind::AcknowledgementRecorded,
            Command::Usage(_) => EntryKind::UsageReported,
            Command::Expense(_) => EntryKind::ExpenseRecorded,
            Command::Procurement(_) => EntryKind::ProcurementMade,
            Command::Correction(_) => EntryKind::EntryCorrected,
            Command::Disclosure(_) => EntryKind::DisclosurePublished,
        }
    }
}
