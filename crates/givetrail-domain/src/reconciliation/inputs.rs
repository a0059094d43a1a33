//! What the report is computed from: [`Inputs`] the store gathers (the log replayed as at the
//! report's moment, the recipients, integrity checks, bank lines, references on other
//! organisations' books, complaints, recipients' needs, what receiving organisations recorded of
//! this log's disbursements, other organisations' purchases), the [`Period`] and the
//! [`AgeingLimits`].

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::asset::{AssetKey, AssetWire};
use crate::disclosure::{Directory, Ledger, Party, Policy, Record};
use crate::entry::{DesignationChange, Fact, Seq};
use crate::needs::Urgency;

use super::bank::BankLine;
use super::complaint::Complaint;

/// Longest an emergency campaign's money or goods may stay unallocated, undisbursed or
/// unacknowledged before the report flags it, by default.
pub const DEFAULT_EMERGENCY_AGEING_DAYS: i64 = 7;
/// The same limit for everything else.
pub const DEFAULT_STANDARD_AGEING_DAYS: i64 = 90;

/// How long balances may wait before ageing flags them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeingLimits {
    /// For anything drawn from an emergency campaign's donations.
    pub emergency: Duration,
    /// For everything else.
    pub standard: Duration,
}

impl Default for AgeingLimits {
    fn default() -> Self {
        Self {
            emergency: Duration::days(DEFAULT_EMERGENCY_AGEING_DAYS),
            standard: Duration::days(DEFAULT_STANDARD_AGEING_DAYS),
        }
    }
}

impl AgeingLimits {
    /// The limit for an emergency (or other) campaign.
    pub fn limit(&self, emergency: bool) -> Duration {
        if emergency {
            self.emergency
        } else {
            self.standard
        }
    }
}

/// The report's period: `[from, to)`, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    /// Start (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive).
    pub to: Option<DateTime<Utc>>,
}

impl Period {
    /// Whether `at` falls inside.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| at >= f) && self.to.is_none_or(|t| at < t)
    }
}

/// Where recomputing the hash chain first failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first bad seq.
    pub seq: Seq,
    /// What did not recompute.
    pub reason: String,
}

/// The latest signed checkpoint, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointStatus {
    /// Entries it covers.
    pub tree_size: i64,
    /// The root it signs.
    pub root_hash: String,
    /// The root recomputed from the first `tree_size` canonical forms.
    pub recomputed_root: Option<String>,
    /// Whether the signature verifies; `None` when no public key was available.
    pub signature_valid: Option<bool>,
}

/// What the store found when it checked the log's integrity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Integrity {
    /// Entries in the log.
    pub entries: i64,
    /// The first entry whose hashes do not recompute, if any.
    pub chain_break: Option<ChainBreak>,
    /// The latest signed checkpoint, if any.
    pub checkpoint: Option<CheckpointStatus>,
    /// Entries `1..=verified_before` were verified by an earlier check of this server and were
    /// not recomputed for this report (0 when every entry was recomputed).
    pub verified_before: i64,
    /// Differences between the derived tables and a replay of the log, in words; `None` when
    /// they were not compared (an incremental report).
    pub derived_differences: Option<Vec<String>>,
}

/// Which kind of reference another organisation's books hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferenceKind {
    /// A donation's receipt number.
    ReceiptNumber,
    /// A disbursement's bank or waybill reference.
    DisbursementReference,
}

/// A live entry of another organisation whose receipt number or disbursement reference equals
/// one of this organisation's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignReference {
    /// The shared value.
    pub reference: String,
    /// The other organisation.
    pub organization: String,
    /// Its entry.
    pub seq: Seq,
    /// What the value is there.
    pub kind: ReferenceKind,
    /// For a donation there: the disbursement it says it came from (`organization`, seq).
    pub source: Option<(String, Seq)>,
}

/// A recipient this organisation registered or gave to, registered under the same name (NFC,
/// trimmed) as recipients registered before it (`recipient_name_duplicate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameDuplicate {
    /// The later registration.
    pub recipient: Party,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// The recipients registered earlier under the same name (slug, registration time), oldest
    /// first.
    pub earlier: Vec<(String, DateTime<Utc>)>,
}

/// A need a recipient posted for goods this organisation holds or allocated, with what happened
/// to it over time, so the needs section can ask whether it was open at a given moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedRecord {
    /// Slug (`need-17`).
    pub id: String,
    /// The recipient's registry entry (region, ownership, designated hospital).
    pub recipient: Party,
    /// The goods asked for.
    pub asset: AssetKey,
    /// Units asked for.
    pub units: i64,
    /// How urgent.
    pub urgency: Urgency,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// When its recipient withdrew it, if it did.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Live allocations naming it, by any organisation: (when, units).
    pub pledges: Vec<(DateTime<Utc>, i64)>,
    /// Acknowledged deliveries against those allocations: (when, units).
    pub deliveries: Vec<(DateTime<Utc>, i64)>,
}

impl NeedRecord {
    /// Units still lacking just before `at`: nothing before it was posted or once withdrawn,
    /// otherwise what neither pledges nor deliveries made before `at` cover.
    pub fn lacking_before(&self, at: DateTime<Utc>) -> i64 {
        if at < self.posted_at || self.withdrawn_at.is_some_and(|w| w <= at) {
            return 0;
        }
        let before = |events: &[(DateTime<Utc>, i64)]| -> i64 {
            events
                .iter()
                .filter(|(t, _)| *t < at)
                .map(|(_, u)| *u)
                .sum()
        };
        let covered = before(&self.pledges).max(before(&self.deliveries));
        (self.units - covered).max(0)
    }

    /// The moments its lack can change: its posting, withdrawal, pledges and deliveries.
    pub fn changes(&self) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        std::iter::once(self.posted_at)
            .chain(self.withdrawn_at)
            .chain(self.pledges.iter().map(|(t, _)| *t))
            .chain(self.deliveries.iter().map(|(t, _)| *t))
    }
}

/// A live donation on another organisation's books recording one of this log's disbursements
/// (`source_disbursement` naming it or an earlier version of it): the other half of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRecord {
    /// The receiving organisation.
    pub organization: String,
    /// Its donation entry.
    pub seq: Seq,
    /// The seq of this log's disbursement it names.
    pub disbursement: Seq,
    /// Units it records.
    pub units: i64,
    /// When the receiver published it.
    pub recorded_at: DateTime<Utc>,
    /// The documented departure from the disbursement's designations, if any.
    pub designation_change: Option<DesignationChange>,
}

/// A live purchase (`procurement.made`) of goods, with its unit price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseRecord {
    /// The buying organisation.
    pub organization: String,
    /// Its entry.
    pub seq: Seq,
    /// When it was bought.
    pub occurred_at: DateTime<Utc>,
    /// The goods bought (normalised key).
    pub goods: AssetKey,
    /// The currency paid in (ISO 4217).
    pub currency: String,
    /// Money paid per unit of the goods.
    pub unit_price: Decimal,
}

/// The fact a record publishes (a correction's replacement unwrapped), with its date.
fn published(r: &Record) -> (&Fact, DateTime<Utc>) {
    match &r.fact {
        Fact::Correction(c) => match &c.replacement {
            Some(f) => (
                f.as_ref(),
                c.replacement_occurred_at.unwrap_or(r.occurred_at),
            ),
            None => (&r.fact, r.occurred_at),
        },
        other => (other, r.occurred_at),
    }
}

impl TransferRecord {
    /// The transfer a donation of `organization` records, if it names a source disbursement of
    /// `source` (a correction replacing such a donation counts as the donation).
    pub fn from_record(organization: &str, source: &str, r: &Record) -> Option<TransferRecord> {
        let (Fact::Donation(d), _) = published(r) else {
            return None;
        };
        let from = d.source_disbursement.as_ref()?;
        if from.organization.as_str() != source {
            return None;
        }
        Some(TransferRecord {
            organization: organization.to_owned(),
            seq: r.seq,
            disbursement: from.disbursement,
            units: d.asset.parse().ok()?.units(),
            recorded_at: r.recorded_at,
            designation_change: d.designation_change.as_deref().cloned(),
        })
    }
}

impl PurchaseRecord {
    /// The purchase a record of `organization` publishes (a `procurement.made`, or a correction
    /// replacing one), if it is one.
    pub fn from_record(organization: &str, r: &Record) -> Option<PurchaseRecord> {
        let (Fact::Procurement(p), occurred_at) = published(r) else {
            return None;
        };
        let currency = match &p.paid {
            AssetWire::Money { currency, .. } => currency.clone(),
            AssetWire::Goods { .. } => return None,
        };
        Some(PurchaseRecord {
            organization: organization.to_owned(),
            seq: r.seq,
            occurred_at,
            goods: p.goods.parse().ok()?.key(),
            currency,
            unit_price: p.unit_price.parse().ok()?,
        })
    }
}

/// Everything the report is computed from.
pub struct Inputs<'a> {
    /// The log as at `as_at`, replayed.
    pub ledger: &'a Ledger,
    /// Registry entries of the recipients the log names.
    pub directory: &'a Directory,
    /// Priority regions and disclosure deadlines.
    pub policy: &'a Policy,
    /// Ageing limits.
    pub limits: AgeingLimits,
    /// Whether the organisation is qualified for public fundraising.
    pub public_fundraising_qualified: bool,
    /// Integrity checks of the whole log.
    pub integrity: &'a Integrity,
    /// Statements uploaded.
    pub bank_statements: usize,
    /// Their lines.
    pub bank_lines: &'a [BankLine],
    /// References of this log seen on other organisations' books.
    pub foreign: &'a [ForeignReference],
    /// Complaints about the organisation.
    pub complaints: &'a [Complaint],
    /// Needs for the goods this organisation received or allocated (any recipient).
    pub needs: &'a [NeedRecord],
    /// What receiving organisations recorded of this log's disbursements.
    pub transfers: &'a [TransferRecord],
    /// Other organisations' purchases of the goods this organisation bought, around the dates
    /// it bought them.
    pub purchases: &'a [PurchaseRecord],
    /// Recipients it registered or gave to whose name an earlier recipient already had.
    pub name_duplicates: &'a [NameDuplicate],
    /// The period.
    pub period: Period,
    /// The moment the report describes.
    pub as_at: DateTime<Utc>,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}
