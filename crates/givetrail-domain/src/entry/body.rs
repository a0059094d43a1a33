//! The public bodies stored in the log (private fields replaced by commitments), and `Fact`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::asset::AssetWire;
use crate::canonical::HexDigest;
use crate::ids::{RegionCode, Slug};

use super::*;

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
    #[schema(value_type = Option<String>)]
    pub name_commitment: Option<HexDigest>,
    /// Commitment to the contact data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub contact_commitment: Option<HexDigest>,
    /// Commitment to the related recipients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub related_recipients_commitment: Option<HexDigest>,
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
    // Boxed, as the next field: rare, and every donation the read model keeps would carry
    // their size.
    /// Where it came from on Givetrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_disbursement: Option<Box<SourceDisbursement>>,
    /// A documented departure from the source disbursement's designations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub designation_change: Option<Box<DesignationChange>>,
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
    // Boxed: the largest body, and a rare one, would size every fact.
    /// `procurement.made`.
    Procurement(Box<ProcurementBody>),
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

    /// [`Fact::from_body`] from the body's JSON text, typed without a `serde_json::Value` in
    /// between (a correction, whose replacement is typed by the kind it names, goes through one).
    pub fn from_body_text(kind: EntryKind, body: &str) -> Result<Fact, serde_json::Error> {
        if kind == EntryKind::EntryCorrected {
            return Fact::from_body(kind, serde_json::from_str(body)?);
        }
        let mut de = serde_json::Deserializer::from_str(body);
        let fact = Fact::typed(kind, &mut de)?;
        de.end()?;
        Ok(fact)
    }

    /// Read a stored body back, knowing its kind (untagged parsing alone would be ambiguous).
    pub fn from_body(kind: EntryKind, body: serde_json::Value) -> Result<Fact, serde_json::Error> {
        let mut body = body;
        let replacement = match kind {
            EntryKind::EntryCorrected => body.as_object_mut().and_then(|o| o.remove("replacement")),
            _ => None,
        };
        let mut fact = Fact::typed(kind, body)?;
        if let (Fact::Correction(c), Some(r)) = (&mut fact, replacement) {
            c.replacement = Some(Box::new(Fact::from_body(c.corrected_kind, r)?));
        }
        Ok(fact)
    }

    /// The body of `kind` from any deserializer; a correction without its replacement.
    fn typed<'de, D: serde::Deserializer<'de>>(kind: EntryKind, d: D) -> Result<Fact, D::Error> {
        Ok(match kind {
            EntryKind::CampaignOpened => Fact::Campaign(Deserialize::deserialize(d)?),
            EntryKind::DonationReceived => Fact::Donation(Deserialize::deserialize(d)?),
            EntryKind::AllocationMade => Fact::Allocation(Deserialize::deserialize(d)?),
            EntryKind::DisbursementMade => Fact::Disbursement(Deserialize::deserialize(d)?),
            EntryKind::AcknowledgementRecorded => {
                Fact::Acknowledgement(Deserialize::deserialize(d)?)
            }
            EntryKind::UsageReported => Fact::Usage(Deserialize::deserialize(d)?),
            EntryKind::ExpenseRecorded => Fact::Expense(Deserialize::deserialize(d)?),
            EntryKind::ProcurementMade => Fact::Procurement(Deserialize::deserialize(d)?),
            EntryKind::DisclosurePublished => Fact::Disclosure(Deserialize::deserialize(d)?),
            EntryKind::EntryCorrected => Fact::Correction(Deserialize::deserialize(d)?),
        })
    }
}
