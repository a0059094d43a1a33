//! Entries of an organisation's log: the request bodies clients send, and the public
//! bodies stored in the log (with private fields replaced by commitments).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::asset::AssetWire;
use crate::ids::{RegionCode, Slug};

/// Position of an entry in its organisation's log: 1, 2, 3… without gaps.
pub type Seq = i64;

/// Longest free text (purpose, description, note, reason).
pub const MAX_TEXT: usize = 2_000;
/// Longest short text (names, receipt numbers, references).
pub const MAX_SHORT_TEXT: usize = 200;

/// The kinds of entry a log holds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
pub enum EntryKind {
    /// A campaign (appeal) was opened.
    #[serde(rename = "campaign.opened")]
    CampaignOpened,
    /// Money or goods were received.
    #[serde(rename = "donation.received")]
    DonationReceived,
    /// Part of a donation or of the undesignated pool was allocated to a recipient.
    #[serde(rename = "allocation.made")]
    AllocationMade,
    /// Part of an allocation was sent to the recipient.
    #[serde(rename = "disbursement.made")]
    DisbursementMade,
    /// The recipient recorded what actually arrived.
    #[serde(rename = "acknowledgement.recorded")]
    AcknowledgementRecorded,
    /// The recipient reported how it used what arrived.
    #[serde(rename = "usage.reported")]
    UsageReported,
    /// The charity's own cost, charged to a donation or the pool.
    #[serde(rename = "expense.recorded")]
    ExpenseRecorded,
    /// Donated money bought goods, which became a new lot.
    #[serde(rename = "procurement.made")]
    ProcurementMade,
    /// An earlier entry was corrected (voided, optionally replaced).
    #[serde(rename = "entry.corrected")]
    EntryCorrected,
    /// A periodic disclosure: the SHA-256 of the organisation's summary for a period.
    #[serde(rename = "disclosure.published")]
    DisclosurePublished,
}

impl EntryKind {
    /// Every kind, in a stable order.
    pub const ALL: [EntryKind; 10] = [
        EntryKind::CampaignOpened,
        EntryKind::DonationReceived,
        EntryKind::AllocationMade,
        EntryKind::DisbursementMade,
        EntryKind::AcknowledgementRecorded,
        EntryKind::UsageReported,
        EntryKind::ExpenseRecorded,
        EntryKind::ProcurementMade,
        EntryKind::EntryCorrected,
        EntryKind::DisclosurePublished,
    ];

    /// The dotted name (`donation.received`).
    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::CampaignOpened => "campaign.opened",
            EntryKind::DonationReceived => "donation.received",
            EntryKind::AllocationMade => "allocation.made",
            EntryKind::DisbursementMade => "disbursement.made",
            EntryKind::AcknowledgementRecorded => "acknowledgement.recorded",
            EntryKind::UsageReported => "usage.reported",
            EntryKind::ExpenseRecorded => "expense.recorded",
            EntryKind::ProcurementMade => "procurement.made",
            EntryKind::EntryCorrected => "entry.corrected",
            EntryKind::DisclosurePublished => "disclosure.published",
        }
    }

    /// Parse the dotted name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Roles a key can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A civil-affairs bureau, with a jurisdiction prefix.
    Regulator,
    /// A charity, bound to one organisation.
    Charity,
    /// A recipient, bound to one recipient.
    Recipient,
}

impl Role {
    /// The role's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Regulator => "regulator",
            Role::Charity => "charity",
            Role::Recipient => "recipient",
        }
    }

    /// Parse a role name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "regulator" => Some(Role::Regulator),
            "charity" => Some(Role::Charity),
            "recipient" => Some(Role::Recipient),
            _ => None,
        }
    }
}

/// Who wrote an entry: the key's role and subject (organisation or recipient slug, or the regulator's jurisdiction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Author {
    /// Role of the key.
    pub role: Role,
    /// Organisation or recipient slug; for a regulator its jurisdiction (`national` when empty).
    pub subject: String,
}

/// Kinds of organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganizationKind {
    /// A Red Cross society.
    RedCross,
    /// A charity federation.
    CharityFederation,
    /// A foundation.
    Foundation,
    /// Another social organisation.
    SocialOrganization,
    /// Anything else.
    Other,
}

/// Kinds of recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecipientKind {
    /// A hospital.
    Hospital,
    /// A welfare institution.
    WelfareInstitution,
    /// A community (residents' committee, village).
    Community,
    /// A government agency.
    GovernmentAgency,
    /// Another charity; may be linked to an organisation on Givetrail.
    Charity,
    /// Aid to an individual (their name is private).
    IndividualAid,
    /// Anything else.
    Other,
}

/// Who owns a recipient: the needs section tells a private hospital from a public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ownership {
    /// Owned by the state (a public hospital).
    Public,
    /// Privately owned, for profit.
    Private,
    /// A private non-profit.
    Nonprofit,
}

impl Ownership {
    /// The wire name (`private`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
            Self::Nonprofit => "nonprofit",
        }
    }
}

/// How a donation arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DonationChannel {
    /// Bank transfer.
    BankTransfer,
    /// An online fundraising platform.
    OnlinePlatform,
    /// Cash.
    Cash,
    /// Goods in kind.
    InKind,
    /// Passed on by another charity.
    TransferFromCharity,
}

/// How a disbursement was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisbursementChannel {
    /// Bank transfer.
    BankTransfer,
    /// Logistics (waybill).
    Logistics,
    /// Delivered by hand.
    HandDelivery,
    /// Anything else.
    Other,
}

/// Whether the donor is a person or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DonorKind {
    /// A natural person.
    Individual,
    /// A company or other organisation.
    Organization,
}

/// A donation's restriction, as sent and as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RestrictionWire {
    /// Undesignated: goes to the pool.
    None,
    /// Designated by the donor: only inside `region_code`, only to `recipient` if named.
    Designated {
        /// Region the donation may go to (prefix semantics: 420000 = anywhere in 42xxxx).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        region_code: Option<RegionCode>,
        /// The only recipient it may go to.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        recipient: Option<Slug>,
        /// The donor's stated purpose.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        purpose: Option<String>,
        /// Whether the donor allows the charity's own costs to be charged to it (expenses).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        costs_allowed: bool,
    },
}

/// A reference to an entry of another organisation's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRef {
    /// Organisation slug.
    #[schema(value_type = String)]
    pub organization: Slug,
    /// Seq in that organisation's log.
    pub seq: Seq,
}

/// The disbursement of another charity this donation came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceDisbursement {
    /// The giving organisation.
    #[schema(value_type = String)]
    pub organization: Slug,
    /// Seq of its `disbursement.made` entry.
    pub disbursement: Seq,
}

/// A documented departure from a donor's designation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationChange {
    /// Why the designation is departed from.
    pub reason: String,
    /// Reference of the donor's written consent.
    pub donor_consent_reference: String,
}

// ---------------------------------------------------------------------------------------------
// Requests

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

// ---------------------------------------------------------------------------------------------
// Public bodies

/// A campaign as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignBody {
    /// Slug.
    #[schema(value_type = String)]
    pub id: Slug,
    /// Title.
    pub title: String,
    /// Purpose.
    pub purpose: String,
    /// Region.
    #[schema(value_type = String)]
    pub region_code: RegionCode,
    /// Raises from the public.
    pub public_fundraising: bool,
    /// Fundraising-plan record number.
    pub record_number: Option<String>,
    /// Emergency appeal.
    pub emergency: bool,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: Option<DateTime<Utc>>,
    /// Targets per asset.
    pub targets: Vec<AssetWire>,
    /// Ageing limit in hours (the default filled in when the request gave none; absent in
    /// campaigns opened before the second edition, which use the server's limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ageing_limit_hours: Option<u32>,
    /// Cost limit in percent (the default filled in when the request gave none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_limit_percent: Option<u32>,
}

/// Ageing limit of an emergency campaign when it states none: 168 hours (7 days).
pub const DEFAULT_EMERGENCY_AGEING_HOURS: u32 = 168;
/// Ageing limit of any other campaign when it states none: 2160 hours (90 days).
pub const DEFAULT_STANDARD_AGEING_HOURS: u32 = 2160;
/// Cost limit of a campaign when it states none: 10 percent.
pub const DEFAULT_COST_LIMIT_PERCENT: u32 = 10;
/// Longest ageing limit a campaign may state: ten years.
pub const MAX_AGEING_HOURS: u32 = 87_600;

/// The donor as the public sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicDonor {
    /// Person or organisation.
    pub kind: DonorKind,
    /// The donor asked not to be named.
    pub anonymous: bool,
    /// Name shown: an organisation's name, a person's chosen public name or masked name; absent when anonymous.
    pub display_name: Option<String>,
    /// Commitment to the full name when it is not shown as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_commitment: Option<String>,
    /// Commitment to the contact data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_commitment: Option<String>,
    /// Commitment to the related recipients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_recipients_commitment: Option<String>,
}

/// A donation as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DonationBody {
    /// Receipt number.
    pub receipt_number: String,
    /// The donor, public form.
    pub donor: PublicDonor,
    /// Campaign slug.
    #[schema(value_type = Option<String>)]
    pub campaign: Option<Slug>,
    /// How it arrived.
    pub channel: DonationChannel,
    /// The donor's restriction.
    pub restriction: RestrictionWire,
    /// What was given.
    pub asset: AssetWire,
    /// Where it came from on Givetrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_disbursement: Option<SourceDisbursement>,
    /// A documented departure from the source disbursement's designations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation_change: Option<DesignationChange>,
}

/// One donation (lot) an allocation or expense draws on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Draw {
    /// Seq of the donation.
    pub donation: Seq,
    /// Amount or quantity taken from it, as a decimal string of the asset.
    pub amount: String,
}

/// An allocation as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllocationBody {
    /// Donation allocated from (absent for pool allocations).
    pub donation: Option<Seq>,
    /// Whether it came from the undesignated pool.
    pub pool: bool,
    /// Recipient slug.
    #[schema(value_type = String)]
    pub recipient: Slug,
    /// Purpose.
    pub purpose: String,
    /// How much.
    pub asset: AssetWire,
    /// Need served.
    #[schema(value_type = Option<String>)]
    pub need: Option<Slug>,
    /// Documented departure from the designation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation_change: Option<DesignationChange>,
    /// The donations it draws on (oldest first for the pool).
    pub drawn_from: Vec<Draw>,
}

/// A disbursement as published: who received how much (level-by-level publication).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisbursementBody {
    /// Seq of the allocation.
    pub allocation: Seq,
    /// The receiving unit.
    #[schema(value_type = String)]
    pub recipient: Slug,
    /// How much.
    pub asset: AssetWire,
    /// How it was sent.
    pub channel: DisbursementChannel,
    /// Bank transaction id or waybill number.
    pub reference: String,
}

/// An acknowledgement as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AcknowledgementBody {
    /// Seq of the disbursement (in this log).
    pub disbursement: Seq,
    /// The acknowledging recipient.
    #[schema(value_type = String)]
    pub recipient: Slug,
    /// What arrived.
    pub asset: AssetWire,
    /// What was disbursed.
    pub disbursed: AssetWire,
    /// Disbursed minus received (negative when more arrived), as a decimal string of the asset.
    pub shortfall: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Remarks.
    pub note: String,
}

/// A usage report as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageBody {
    /// Seq of the disbursement (in this log).
    pub disbursement: Seq,
    /// The reporting recipient.
    #[schema(value_type = String)]
    pub recipient: Slug,
    /// How much was used.
    pub asset: AssetWire,
    /// How.
    pub description: String,
    /// Evidence hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_sha256: Option<String>,
}

/// An expense as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpenseBody {
    /// Donation charged (absent for the pool).
    pub donation: Option<Seq>,
    /// Charged to the undesignated pool.
    pub pool: bool,
    /// How much.
    pub asset: AssetWire,
    /// What it was.
    pub description: String,
    /// Documented consent to charge a designated donation that does not allow costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation_change: Option<DesignationChange>,
    /// The donations it draws on.
    pub drawn_from: Vec<Draw>,
}

/// A procurement as published: what was paid, to whom, for which goods, at what unit price. The
/// goods are a new lot at this entry's seq, carrying the restriction of the money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcurementBody {
    /// Money donation paid from (absent for the pool).
    pub donation: Option<Seq>,
    /// Paid from the undesignated pool.
    pub pool: bool,
    /// The campaign of the money donation paid from, if any (the goods serve it too).
    #[schema(value_type = Option<String>)]
    pub campaign: Option<Slug>,
    /// What was paid.
    pub paid: AssetWire,
    /// Who sold the goods.
    pub supplier: Supplier,
    /// The supplier's invoice number.
    pub invoice_reference: String,
    /// What was bought.
    pub goods: AssetWire,
    /// `paid` ÷ quantity, per unit of the goods, as a decimal string: exact when the division
    /// ends within 10 decimal places, else rounded there (half to even) and `unit_price_rounded`.
    pub unit_price: String,
    /// Whether `unit_price` had to be rounded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unit_price_rounded: bool,
    /// The restriction the goods carry: the designation of the money paid (none from the pool).
    pub restriction: RestrictionWire,
    /// The money donations paid from (oldest first for the pool).
    pub drawn_from: Vec<Draw>,
}

/// A correction as published (a correction notice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CorrectionBody {
    /// Seq of the corrected entry.
    pub corrects: Seq,
    /// Kind of the fact corrected.
    pub corrected_kind: EntryKind,
    /// Why.
    pub reason: String,
    /// The replacement fact (same kind as the corrected one), which lives at this correction's seq.
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    #[schema(value_type = Option<Object>)]
    pub replacement: Option<Box<Fact>>,
    /// When the replacement fact happened: the corrected entry's date unless the correction
    /// states another (a changed date is visible here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement_occurred_at: Option<DateTime<Utc>>,
}

/// A periodic disclosure as published: the period and the SHA-256 of the organisation's
/// summary for it, computed by the server from the public log at `period.to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DisclosureBody {
    /// The period disclosed.
    pub period: Period,
    /// SHA-256 (lowercase hex) of the RFC 8785 form of the period summary
    /// (`GET /organizations/{org}/disclosures/{seq}` serves it; docs/API.md defines it).
    pub summary_sha256: String,
}

/// A fact of the ledger: the public body of an entry, typed. Read back with [`Fact::from_body`].
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Fact {
    /// `campaign.opened`.
    Campaign(CampaignBody),
    /// `donation.received`.
    Donation(DonationBody),
    /// `allocation.made`.
    Allocation(AllocationBody),
    /// `disbursement.made`.
    Disbursement(DisbursementBody),
    /// `acknowledgement.recorded`.
    Acknowledgement(AcknowledgementBody),
    /// `usage.reported`.
    Usage(UsageBody),
    /// `expense.recorded`.
    Expense(ExpenseBody),
    /// `procurement.made`.
    Procurement(ProcurementBody),
    /// `entry.corrected`.
    Correction(CorrectionBody),
    /// `disclosure.published`.
    Disclosure(DisclosureBody),
}

impl Fact {
    /// The entry kind of this fact.
    pub fn kind(&self) -> EntryKind {
        match self {
            Fact::Campaign(_) => EntryKind::CampaignOpened,
            Fact::Donation(_) => EntryKind::DonationReceived,
            Fact::Allocation(_) => EntryKind::AllocationMade,
            Fact::Disbursement(_) => EntryKind::DisbursementMade,
            Fact::Acknowledgement(_) => EntryKind::AcknowledgementRecorded,
            Fact::Usage(_) => EntryKind::UsageReported,
            Fact::Expense(_) => EntryKind::ExpenseRecorded,
            Fact::Procurement(_) => EntryKind::ProcurementMade,
            Fact::Correction(_) => EntryKind::EntryCorrected,
            Fact::Disclosure(_) => EntryKind::DisclosurePublished,
        }
    }

    /// Read a stored body back, knowing its kind (untagged parsing alone would be ambiguous).
    pub fn from_body(kind: EntryKind, body: serde_json::Value) -> Result<Fact, serde_json::Error> {
        Ok(match kind {
            EntryKind::CampaignOpened => Fact::Campaign(serde_json::from_value(body)?),
            EntryKind::DonationReceived => Fact::Donation(serde_json::from_value(body)?),
            EntryKind::AllocationMade => Fact::Allocation(serde_json::from_value(body)?),
            EntryKind::DisbursementMade => Fact::Disbursement(serde_json::from_value(body)?),
            EntryKind::AcknowledgementRecorded => {
                Fact::Acknowledgement(serde_json::from_value(body)?)
            }
            EntryKind::UsageReported => Fact::Usage(serde_json::from_value(body)?),
            EntryKind::ExpenseRecorded => Fact::Expense(serde_json::from_value(body)?),
            EntryKind::ProcurementMade => Fact::Procurement(serde_json::from_value(body)?),
            EntryKind::DisclosurePublished => Fact::Disclosure(serde_json::from_value(body)?),
            EntryKind::EntryCorrected => {
                let mut body = body;
                let replacement = body.as_object_mut().and_then(|o| o.remove("replacement"));
                let mut c: CorrectionBody = serde_json::from_value(body)?;
                if let Some(r) = replacement {
                    c.replacement = Some(Box::new(Fact::from_body(c.corrected_kind, r)?));
                }
                Fact::Correction(c)
            }
        })
    }
}
