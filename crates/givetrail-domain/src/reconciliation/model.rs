//! What the report says: [`Report`], its [`Finding`]s with their [`Section`] and [`Severity`],
//! and the references a finding carries (entries, bank lines).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::disclosure::summary::AssetSummary;
use crate::disclosure::AssetLabel;
use crate::entry::Seq;

use super::bank::BankReconciliation;
use super::complaint::Complaint;
use super::inputs::Period;
use super::kind::FindingKind;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// What holds, for the record.
    Info,
    /// Needs a look: a discrepancy, an overdue balance, a fraud signal.
    Warning,
    /// A broken rule or a record that cannot be right.
    Violation,
}

impl Severity {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Violation => "violation",
        }
    }
}

/// The report's sections, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Hash chain, Merkle root and signed checkpoint; derived tables against a replay.
    Integrity,
    /// Per-asset identities.
    Balances,
    /// Designations honoured; every designation change.
    Designations,
    /// Balances held too long; receipt-to-disbursement times.
    Ageing,
    /// Disbursements unacknowledged or acknowledged differently.
    Receipt,
    /// Usage against acknowledgements; expenses against receipts.
    Spending,
    /// Bank lines against money receipts and disbursements.
    Bank,
    /// Late entries, corrections, impossible dates.
    Disclosure,
    /// Fraud signals around fundraising.
    Fundraising,
    /// Share of undesignated assets that went to priority regions.
    Priority,
    /// Allocations against recipients' open needs.
    Needs,
    /// Disbursements to linked organisations against what they recorded.
    Transfers,
    /// Unit prices of purchases against what others paid.
    Procurement,
    /// Complaints about the organisation.
    Complaints,
}

impl Section {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Integrity => "integrity",
            Self::Balances => "balances",
            Self::Designations => "designations",
            Self::Ageing => "ageing",
            Self::Receipt => "receipt",
            Self::Spending => "spending",
            Self::Bank => "bank",
            Self::Disclosure => "disclosure",
            Self::Fundraising => "fundraising",
            Self::Priority => "priority",
            Self::Needs => "needs",
            Self::Transfers => "transfers",
            Self::Procurement => "procurement",
            Self::Complaints => "complaints",
        }
    }
}

/// An entry of a log: `{"organization", "seq"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
pub struct EntryAt {
    /// Organisation slug.
    pub organization: String,
    /// Seq in its log.
    pub seq: Seq,
}

impl EntryAt {
    /// Entry `seq` of `organization`.
    pub fn new(organization: &str, seq: Seq) -> Self {
        Self {
            organization: organization.to_owned(),
            seq,
        }
    }
}

/// A bank line a finding concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BankLineRef {
    /// Statement number.
    pub statement: i64,
    /// Row of its CSV.
    pub row: i64,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// The section it belongs to.
    pub section: Section,
    /// What was found, e.g. `acknowledgement_discrepancy`.
    pub kind: FindingKind,
    /// How serious.
    pub severity: Severity,
    /// The entries it concerns.
    pub entries: Vec<EntryAt>,
    /// A sentence a person understands.
    pub message: String,
    /// The asset, for per-asset findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<AssetLabel>,
    /// The bank line, for bank findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_line: Option<BankLineRef>,
    /// The complaint's tracking code, for complaint findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaint: Option<String>,
}

/// How many findings of each severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    /// Info.
    pub info: usize,
    /// Warnings.
    pub warning: usize,
    /// Violations.
    pub violation: usize,
}

/// The reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Report {
    /// Organisation slug.
    pub organization: String,
    /// Its registered name.
    pub organization_name: String,
    /// When the report was computed.
    pub generated_at: DateTime<Utc>,
    /// The moment it describes (`to`, or now).
    pub as_at: DateTime<Utc>,
    /// The period of event findings.
    pub period: Period,
    /// Totals per asset (the public summary's figures, as at `as_at`).
    pub totals: Vec<AssetSummary>,
    /// Findings per severity.
    pub counts: Counts,
    /// Every finding, section by section.
    pub findings: Vec<Finding>,
    /// Bank statement matching in detail.
    pub bank: BankReconciliation,
    /// Complaints about the organisation (without complainants' contacts).
    pub complaints: Vec<Complaint>,
    /// In a report restricted to a destination (`?destination=`): the region, its recipients
    /// and what the log gave them; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<super::destination::Destination>,
}
