//! Entries of an organisation's log: the kinds, roles and shared parts here; the request bodies
//! clients send in `request.rs`, and the public bodies stored in the log (with private fields
//! replaced by commitments) in `body.rs`. Both are re-exported, so every type is
//! `crate::entry::…`.

mod body;
mod request;

pub use body::*;
pub use request::*;

use serde::{Deserialize, Serialize};

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
