//! What the report is computed from: [`Inputs`] the store gathers (the log replayed as at the
//! report's moment, the recipients, integrity checks, bank lines, references on other
//! organisations' books, complaints), the [`Period`] and the [`AgeingLimits`].

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::disclosure::{Directory, Ledger, Policy, Record};
use crate::entry::Seq;

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
    /// The period.
    pub period: Period,
    /// The moment the report describes.
    pub as_at: DateTime<Utc>,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
}

/// The records published before `as_at`: a prefix of the log, since `recorded_at` follows seq.
pub fn records_as_at(records: Vec<Record>, as_at: DateTime<Utc>) -> Vec<Record> {
    records
        .into_iter()
        .take_while(|r| r.recorded_at <= as_at)
        .collect()
}
