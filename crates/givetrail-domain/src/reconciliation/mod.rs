//! The regulator's reconciliation report (CONTRACT §6): whether an organisation's books add up,
//! designations were honoured, goods reached and were used by recipients, the money matches the
//! bank, and what the public complained about — as findings a person can act on.
//!
//! [`reconcile`] is a pure function over what the store hands it: the organisation's log replayed
//! into a [`Ledger`] (the disclosure module's, so the report sees exactly the balances the write
//! rules and the public summaries see), the recipients' registry entries, the integrity checks the
//! store ran (hash chain, Merkle root against the latest signed checkpoint, derived tables against
//! a replay), bank lines, references found on other organisations' books, and complaints.
//!
//! Sections, in order: integrity, balances, designations, ageing, receipt, spending, bank,
//! disclosure, fundraising, priority, complaints. Each finding has a `kind`, a `severity`
//! (`info` says what holds, `warning` asks for a look, `violation` is a broken rule or record),
//! the entries it concerns and a sentence.
//!
//! **Time.** The report is *as at* `to` (default: now): the log as it had been published by
//! then, ageing and overdue acknowledgements measured at that moment. A `to` in the future asks
//! what will be overdue by then if nothing changes. `from`/`to` also limit the event findings
//! (corrections, late entries, discrepancies, bank lines…) to what happened in `[from, to)`;
//! totals, balances and integrity always cover the whole log.

pub mod bank;
pub mod complaint;
pub mod csv;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::asset::AssetKey;
use crate::disclosure::summary::{self, AssetSummary, Summary};
use crate::disclosure::{flows, percent, AssetLabel, Directory, Ledger, Policy, Record};
use crate::entry::{DonationChannel, Fact, Seq};
use crate::ids::{RegionCode, Slug};
use crate::ledger::{designation_breach, Lot, RecipientInfo};

use bank::{BankLine, BankReconciliation};
use complaint::Complaint;

/// Longest an emergency campaign's money or goods may stay unallocated, undisbursed or
/// unacknowledged before the report flags it, by default.
pub const DEFAULT_EMERGENCY_AGEING_DAYS: i64 = 7;
/// The same limit for everything else.
pub const DEFAULT_STANDARD_AGEING_DAYS: i64 = 90;
/// Expenses above this share of what was received are flagged (the Charity Law's ceiling on
/// administrative costs, applied per asset as a signal, not a legal finding).
pub const EXPENSE_SHARE_WARNING_PERCENT: i64 = 10;
/// Most findings of one kind listed; one more finding says how many were left out.
pub const MAX_FINDINGS_PER_KIND: usize = 1_000;
/// Longest excerpt of a complaint's description quoted in a finding.
pub const COMPLAINT_EXCERPT_CHARS: usize = 200;

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

/// The report's sections (CONTRACT §6, plus complaints), in report order.
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
    pub kind: String,
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
    /// Differences between the derived tables and a replay of the log, in words.
    pub derived_differences: Vec<String>,
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
}

/// The records published before `as_at`: a prefix of the log, since `recorded_at` follows seq.
pub fn records_as_at(records: Vec<Record>, as_at: DateTime<Utc>) -> Vec<Record> {
    records
        .into_iter()
        .take_while(|r| r.recorded_at <= as_at)
        .collect()
}

/// Findings, at most [`MAX_FINDINGS_PER_KIND`] of each kind.
#[derive(Default)]
struct Findings {
    list: Vec<Finding>,
    per_kind: BTreeMap<(Section, String), usize>,
    left_out: BTreeMap<(Section, String), (Severity, usize)>,
}

impl Findings {
    fn add(
        &mut self,
        section: Section,
        kind: &str,
        severity: Severity,
        entries: Vec<EntryAt>,
        message: String,
    ) -> Option<&mut Finding> {
        let key = (section, kind.to_owned());
        let n = self.per_kind.entry(key.clone()).or_default();
        *n += 1;
        if *n > MAX_FINDINGS_PER_KIND {
            let e = self.left_out.entry(key).or_insert((severity, 0));
            e.0 = e.0.max(severity);
            e.1 += 1;
            return None;
        }
        self.list.push(Finding {
            section,
            kind: kind.to_owned(),
            severity,
            entries,
            message,
            asset: None,
            bank_line: None,
            complaint: None,
        });
        self.list.last_mut()
    }

    fn finish(mut self) -> Vec<Finding> {
        for ((section, kind), (severity, n)) in self.left_out {
            self.list.push(Finding {
                section,
                kind: kind.clone(),
                severity,
                entries: Vec::new(),
                message: format!("{n} more findings of kind {kind} are not listed."),
                asset: None,
                bank_line: None,
                complaint: None,
            });
        }
        self.list.sort_by_key(|f| f.section);
        self.list
    }

    fn has(&self, section: Section, above: Severity) -> bool {
        self.list
            .iter()
            .any(|f| f.section == section && f.severity >= above)
    }
}

/// Compute the report.
pub fn reconcile(inp: &Inputs<'_>) -> Report {
    let summary = summary::summarise(inp.ledger, inp.directory, inp.policy, None);
    let mut f = Findings::default();
    integrity(inp, &mut f);
    let per_asset = asset_books(inp.ledger);
    balances(&per_asset, &mut f);
    designations(inp, &mut f);
    ageing(inp, &summary, &mut f);
    receipt(inp, &mut f);
    spending(&per_asset, &mut f);
    let bank = bank::reconcile(
        inp.bank_statements,
        &bank_lines_in(inp),
        bank::ledger_money(inp.ledger, &inp.period),
    );
    bank_findings(inp, &bank, &mut f);
    disclosure(inp, &summary, &mut f);
    fundraising(inp, &mut f);
    priority(&summary, &mut f);
    let complaints = complaints(inp, &mut f);
    let findings = f.finish();
    let mut counts = Counts::default();
    for x in &findings {
        match x.severity {
            Severity::Info => counts.info += 1,
            Severity::Warning => counts.warning += 1,
            Severity::Violation => counts.violation += 1,
        }
    }
    Report {
        organization: inp.ledger.organization.id.clone(),
        organization_name: inp.ledger.organization.name.clone(),
        generated_at: inp.generated_at,
        as_at: inp.as_at,
        period: inp.period,
        totals: summary.assets,
        counts,
        findings,
        bank,
        complaints,
    }
}

fn at(inp: &Inputs<'_>, seq: Seq) -> EntryAt {
    EntryAt::new(&inp.ledger.organization.id, seq)
}

fn describe(key: &AssetKey, units: i64) -> String {
    key.asset(units).describe()
}

/// Units of `key` as a person writes them: `1000` pieces, `1000.00` yuan.
fn number(key: &AssetKey, units: i64) -> String {
    match key {
        AssetKey::Money(_) => key.format(units),
        AssetKey::Goods(_) => rust_decimal::Decimal::new(units, key.scale())
            .normalize()
            .to_string(),
    }
}

fn span(d: Duration) -> String {
    if d >= Duration::days(2) {
        format!("{} days", d.num_days())
    } else {
        format!("{} hours", d.num_hours())
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

// ---------------------------------------------------------------------------------------------
// 1. Integrity

fn integrity(inp: &Inputs<'_>, f: &mut Findings) {
    let i = inp.integrity;
    let s = Section::Integrity;
    match &i.chain_break {
        Some(b) => {
            let message = format!(
                "The log's hashes do not recompute at seq {}: {}. The published history cannot be trusted from there on.",
                b.seq, b.reason
            );
            f.add(
                s,
                "chain_broken",
                Severity::Violation,
                vec![at(inp, b.seq)],
                message,
            );
        }
        None => {
            let message = format!(
                "All {} entries recompute: canonical form, entry hash, link to the previous entry and Merkle leaf.",
                i.entries
            );
            f.add(s, "chain_verified", Severity::Info, Vec::new(), message);
        }
    }
    match &i.checkpoint {
        None if i.entries > 0 => {
            let message = format!(
                "The log has {} entries but no signed checkpoint: nothing commits the server to this history.",
                i.entries
            );
            f.add(
                s,
                "checkpoint_missing",
                Severity::Violation,
                Vec::new(),
                message,
            );
        }
        None => {
            f.add(
                s,
                "checkpoint_verified",
                Severity::Info,
                Vec::new(),
                "The log is empty; there is nothing to checkpoint.".into(),
            );
        }
        Some(c) => {
            let mut ok = true;
            if c.recomputed_root.as_deref() != Some(c.root_hash.as_str()) {
                ok = false;
                let got = c
                    .recomputed_root
                    .as_deref()
                    .unwrap_or("nothing (the log is shorter)");
                let message = format!(
                    "The latest signed checkpoint commits to root {} for {} entries, but those entries give {got}: the history differs from what was signed.",
                    c.root_hash, c.tree_size
                );
                f.add(
                    s,
                    "checkpoint_root_mismatch",
                    Severity::Violation,
                    Vec::new(),
                    message,
                );
            }
            match c.signature_valid {
                Some(true) => {}
                Some(false) => {
                    ok = false;
                    let message = format!(
                        "The signature of the latest checkpoint (size {}) does not verify with the server's public key.",
                        c.tree_size
                    );
                    f.add(
                        s,
                        "checkpoint_signature_invalid",
                        Severity::Violation,
                        Vec::new(),
                        message,
                    );
                }
                None => {
                    ok = false;
                    let message = format!(
                        "The signature of the latest checkpoint (size {}) was not checked: no public key was available.",
                        c.tree_size
                    );
                    f.add(
                        s,
                        "checkpoint_signature_unchecked",
                        Severity::Warning,
                        Vec::new(),
                        message,
                    );
                }
            }
            if c.tree_size < i.entries {
                ok = false;
                f.add(
                    s,
                    "checkpoint_behind",
                    Severity::Warning,
                    Vec::new(),
                    format!(
                        "The latest signed checkpoint covers {} of {} entries.",
                        c.tree_size, i.entries
                    ),
                );
            }
            if ok {
                let message = format!(
                    "The latest signed checkpoint covers all {} entries; its Merkle root matches the log and its signature verifies.",
                    c.tree_size
                );
                f.add(
                    s,
                    "checkpoint_verified",
                    Severity::Info,
                    Vec::new(),
                    message,
                );
            }
        }
    }
    if i.derived_differences.is_empty() {
        f.add(
            s,
            "derived_consistent",
            Severity::Info,
            Vec::new(),
            "The derived balances rebuilt from the log equal the stored ones.".into(),
        );
    }
    for d in &i.derived_differences {
        f.add(
            s,
            "derived_mismatch",
            Severity::Violation,
            Vec::new(),
            format!("The stored derived state differs from a replay of the log: {d}."),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Balances, 6. spending

/// One asset's figures, each from its own source so that the identities are real checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct AssetBooks {
    /// Σ received of live lots.
    received: i64,
    /// Σ lot counters.
    lot_allocated: i64,
    lot_expensed: i64,
    /// Σ remaining of live lots.
    unallocated: i64,
    /// Σ draws of live allocations and expenses.
    drawn_allocated: i64,
    drawn_expensed: i64,
    /// Σ live allocations, and what they record as disbursed.
    allocations: i64,
    allocation_disbursed: i64,
    /// Σ live disbursements.
    disbursed: i64,
    /// Σ acknowledged, and Σ sent of the acknowledged disbursements.
    acknowledged: i64,
    acknowledged_sent: i64,
    /// Σ reported used.
    used: i64,
    /// Σ live expenses.
    expenses: i64,
}

fn asset_books(ledger: &Ledger) -> BTreeMap<AssetKey, AssetBooks> {
    let books = &ledger.books;
    let mut out: BTreeMap<AssetKey, AssetBooks> = BTreeMap::new();
    for l in books.lots.values().filter(|l| l.live) {
        let b = out.entry(l.asset.clone()).or_default();
        b.received += l.received;
        b.lot_allocated += l.allocated;
        b.lot_expensed += l.expensed;
        b.unallocated += l.remaining();
    }
    for d in flows::live_draws(ledger) {
        let Some(l) = books.lots.get(&d.donation) else {
            continue;
        };
        let b = out.entry(l.asset.clone()).or_default();
        if d.expense {
            b.drawn_expensed += d.units;
        } else {
            b.drawn_allocated += d.units;
        }
    }
    for a in books.allocations.values().filter(|a| a.live) {
        let b = out.entry(a.asset.clone()).or_default();
        b.allocations += a.units;
        b.allocation_disbursed += a.disbursed;
    }
    for d in books.disbursements.values().filter(|d| d.live) {
        let b = out.entry(d.asset.clone()).or_default();
        b.disbursed += d.units;
        b.used += d.used;
        if let Some(a) = d.acknowledged {
            b.acknowledged += a;
            b.acknowledged_sent += d.units;
        }
    }
    for (key, units, live) in books.expenses.values() {
        if *live {
            out.entry(key.clone()).or_default().expenses += units;
        }
    }
    out
}

fn balances(per_asset: &BTreeMap<AssetKey, AssetBooks>, f: &mut Findings) {
    let s = Section::Balances;
    for (key, b) in per_asset {
        let fmt = |u: i64| key.format(u);
        let mut problems = Vec::new();
        if b.received != b.drawn_allocated + b.drawn_expensed + b.unallocated {
            problems.push(format!(
                "received {} ≠ allocated {} + expenses {} + unallocated {}",
                fmt(b.received),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed),
                fmt(b.unallocated)
            ));
        }
        if b.lot_allocated != b.drawn_allocated || b.lot_expensed != b.drawn_expensed {
            problems.push(format!(
                "the donations record {} allocated and {} expensed, but the draws on them total {} and {}",
                fmt(b.lot_allocated),
                fmt(b.lot_expensed),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed),
            ));
        }
        if b.allocations != b.drawn_allocated {
            problems.push(format!(
                "allocations total {} but draw {} from donations",
                fmt(b.allocations),
                fmt(b.drawn_allocated)
            ));
        }
        if b.expenses != b.drawn_expensed {
            problems.push(format!(
                "expenses total {} but draw {} from donations",
                fmt(b.expenses),
                fmt(b.drawn_expensed)
            ));
        }
        if b.allocation_disbursed != b.disbursed || b.disbursed > b.allocations {
            problems.push(format!(
                "allocated {} ≠ disbursed {} + undisbursed {} (the allocations record {} disbursed)",
                fmt(b.allocations),
                fmt(b.disbursed),
                fmt(b.allocations - b.disbursed),
                fmt(b.allocation_disbursed),
            ));
        }
        if b.used > b.acknowledged {
            problems.push(format!(
                "used {} > acknowledged {}",
                fmt(b.used),
                fmt(b.acknowledged)
            ));
        }
        let label = Some(AssetLabel::from(key));
        if !problems.is_empty() {
            if let Some(x) = f.add(
                s,
                "balance_mismatch",
                Severity::Violation,
                Vec::new(),
                format!("{key}: the books do not add up: {}.", problems.join("; ")),
            ) {
                x.asset = label.clone();
            }
        }
        if b.acknowledged > b.disbursed {
            if let Some(x) = f.add(
                s,
                "acknowledged_exceeds_disbursed",
                Severity::Warning,
                Vec::new(),
                format!(
                    "{key}: recipients acknowledged {}, more than the {} disbursed.",
                    fmt(b.acknowledged),
                    fmt(b.disbursed)
                ),
            ) {
                x.asset = label.clone();
            }
        }
        if problems.is_empty() {
            let message = format!(
                "{key}: received {} = allocated {} + expenses {} + unallocated {}; allocated {} = disbursed {} + undisbursed {}; acknowledged {} of {} disbursed; used {} ≤ acknowledged {}.",
                fmt(b.received), fmt(b.drawn_allocated), fmt(b.drawn_expensed), fmt(b.unallocated),
                fmt(b.allocations), fmt(b.disbursed), fmt(b.allocations - b.disbursed),
                fmt(b.acknowledged), fmt(b.disbursed), fmt(b.used), fmt(b.acknowledged)
            );
            if let Some(x) = f.add(s, "balances_hold", Severity::Info, Vec::new(), message) {
                x.asset = label;
            }
        }
    }
}

fn spending(per_asset: &BTreeMap<AssetKey, AssetBooks>, f: &mut Findings) {
    let s = Section::Spending;
    for (key, b) in per_asset {
        let fmt = |u: i64| key.format(u);
        let label = Some(AssetLabel::from(key));
        if b.acknowledged > 0 {
            let share = percent(b.used, b.acknowledged).unwrap_or_default();
            if let Some(x) = f.add(
                s,
                "usage_reported",
                Severity::Info,
                Vec::new(),
                format!(
                    "{key}: recipients reported using {} of the {} they acknowledged ({share}%).",
                    fmt(b.used),
                    fmt(b.acknowledged)
                ),
            ) {
                x.asset = label.clone();
            }
        }
        // Every money asset; goods only when the charity charged some to itself.
        if b.received > 0 && (key.is_money() || b.expenses > 0) {
            let share = percent(b.expenses, b.received).unwrap_or_default();
            let high = i128::from(b.expenses) * 100
                > i128::from(b.received) * i128::from(EXPENSE_SHARE_WARNING_PERCENT);
            let (kind, severity, tail) = if high {
                (
                    "expense_share_high",
                    Severity::Warning,
                    format!(", above the {EXPENSE_SHARE_WARNING_PERCENT}% signal"),
                )
            } else {
                ("expense_share", Severity::Info, String::new())
            };
            if let Some(x) = f.add(
                s,
                kind,
                severity,
                Vec::new(),
                format!(
                    "{key}: the charity's own expenses are {} of {} received ({share}%){tail}.",
                    fmt(b.expenses),
                    fmt(b.received)
                ),
            ) {
                x.asset = label;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Designations

fn recipient_info(directory: &Directory, id: &Slug) -> Option<RecipientInfo> {
    let p = directory.get(id.as_str())?;
    Some(RecipientInfo {
        id: id.clone(),
        region_code: RegionCode::parse(&p.region_code).ok()?,
        organization: p.organization.as_deref().and_then(|o| Slug::parse(o).ok()),
    })
}

fn designation_text(lot: &Lot) -> String {
    match &lot.designation {
        None => "undesignated".into(),
        Some(d) => {
            let mut parts = Vec::new();
            if let Some(r) = &d.region_code {
                parts.push(format!("region {r}"));
            }
            if let Some(r) = &d.recipient {
                parts.push(format!("recipient {r}"));
            }
            format!("designated for {}", parts.join(" and "))
        }
    }
}

fn designations(inp: &Inputs<'_>, f: &mut Findings) {
    let s = Section::Designations;
    let ledger = inp.ledger;
    let books = &ledger.books;
    let mut designated_allocations = 0usize;
    for fact in ledger
        .live_facts()
        .filter(|x| inp.period.contains(x.occurred_at))
    {
        let Fact::Allocation(a) = &fact.fact else {
            continue;
        };
        let lots: Vec<&Lot> = a
            .drawn_from
            .iter()
            .filter_map(|d| books.lots.get(&d.donation))
            .collect();
        let region = inp
            .directory
            .get(a.recipient.as_str())
            .map_or("unknown region", |p| p.region_code.as_str());
        let amount = a.asset.parse().map(|x| x.describe()).unwrap_or_default();
        let mut entries = vec![at(inp, fact.seq)];
        entries.extend(lots.iter().map(|l| at(inp, l.seq)));
        if let Some(change) = &a.designation_change {
            let from = lots
                .iter()
                .map(|l| format!("donation #{} ({})", l.seq, designation_text(l)))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "Allocation #{} sends {amount} from {from} to {} ({region}), departing from the donor's designation; reason: “{}”; donor consent reference: “{}”; check the consent",
                fact.seq, a.recipient, change.reason, change.donor_consent_reference
            );
            f.add(s, "designation_change", Severity::Warning, entries, message);
            continue;
        }
        let Some(info) = recipient_info(inp.directory, &a.recipient) else {
            continue;
        };
        for lot in lots.iter().filter(|l| l.designation.is_some()) {
            designated_allocations += 1;
            if let Some(why) = designation_breach(lot, &info) {
                f.add(
                    s,
                    "designation_breach",
                    Severity::Violation,
                    vec![at(inp, fact.seq), at(inp, lot.seq)],
                    format!(
                        "Allocation #{} sends {amount} to {} without the donor's consent: {why}.",
                        fact.seq, a.recipient
                    ),
                );
            }
        }
    }
    if !f.has(s, Severity::Warning) {
        let message = format!(
            "Every allocation honours its donations' designations ({designated_allocations} draws on designated donations checked); no designation was changed."
        );
        f.add(
            s,
            "designations_honoured",
            Severity::Info,
            Vec::new(),
            message,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Ageing, 5. receipt

fn emergency_of(ledger: &Ledger, seq: Seq) -> bool {
    ledger
        .campaigns_of(seq)
        .iter()
        .any(|c| ledger.is_emergency(c))
}

fn limit_words(limits: &AgeingLimits, emergency: bool) -> String {
    let what = if emergency {
        "an emergency campaign"
    } else {
        "a non-emergency appeal"
    };
    format!(
        "the {}-day limit for {what}",
        limits.limit(emergency).num_days()
    )
}

fn ageing(inp: &Inputs<'_>, summary: &Summary, f: &mut Findings) {
    let s = Section::Ageing;
    let ledger = inp.ledger;
    for lot in ledger
        .books
        .lots
        .values()
        .filter(|l| l.live && l.remaining() > 0)
    {
        let emergency = lot
            .campaign
            .as_ref()
            .is_some_and(|c| ledger.is_emergency(c.as_str()));
        let age = inp.as_at - lot.occurred_at;
        if age > inp.limits.limit(emergency) {
            let message = format!(
                "{} of donation #{} (receipt {}) is still on hand, unallocated, {} after it was received on {} — beyond {}.",
                describe(&lot.asset, lot.remaining()),
                lot.seq,
                lot.receipt_number,
                span(age),
                day(lot.occurred_at),
                limit_words(&inp.limits, emergency),
            );
            if let Some(x) = f.add(
                s,
                "unallocated_too_long",
                Severity::Warning,
                vec![at(inp, lot.seq)],
                message,
            ) {
                x.asset = Some(AssetLabel::from(&lot.asset));
            }
        }
    }
    for a in ledger
        .books
        .allocations
        .values()
        .filter(|a| a.live && a.units > a.disbursed)
    {
        let Some(fact) = ledger.fact(a.seq) else {
            continue;
        };
        let emergency = emergency_of(ledger, a.seq);
        let age = inp.as_at - fact.occurred_at;
        if age > inp.limits.limit(emergency) {
            let message = format!(
                "{} allocated to {} by allocation #{} has not been sent, {} after the allocation — beyond {}.",
                describe(&a.asset, a.units - a.disbursed),
                a.recipient,
                a.seq,
                span(age),
                limit_words(&inp.limits, emergency),
            );
            if let Some(x) = f.add(
                s,
                "undisbursed_too_long",
                Severity::Warning,
                vec![at(inp, a.seq)],
                message,
            ) {
                x.asset = Some(AssetLabel::from(&a.asset));
            }
        }
    }
    if !f.has(s, Severity::Warning) {
        let message = format!(
            "Nothing is unallocated or undisbursed beyond its limit ({} days for emergency campaigns, {} otherwise).",
            inp.limits.emergency.num_days(), inp.limits.standard.num_days()
        );
        f.add(s, "nothing_overdue", Severity::Info, Vec::new(), message);
    }
    for l in &summary.timeliness.receipt_to_disbursement {
        let message = format!(
            "{}: disbursed units waited a median of {} hours (90th percentile {} hours) after their donation was received.",
            label_text(&l.asset), l.median_hours, l.p90_hours
        );
        if let Some(x) = f.add(
            s,
            "receipt_to_disbursement",
            Severity::Info,
            Vec::new(),
            message,
        ) {
            x.asset = Some(l.asset.clone());
        }
    }
}

fn label_text(l: &AssetLabel) -> String {
    match l {
        AssetLabel::Money { currency } => currency.clone(),
        AssetLabel::Goods { item, spec, unit } => format!("{item} ({spec}, {unit})"),
    }
}

fn receipt(inp: &Inputs<'_>, f: &mut Findings) {
    let s = Section::Receipt;
    let ledger = inp.ledger;
    let statements = flows::statements(ledger);
    let (mut sent, mut acknowledged) = (0usize, 0usize);
    for d in ledger.books.disbursements.values().filter(|d| d.live) {
        let Some(fact) = ledger.fact(d.seq) else {
            continue;
        };
        if !inp.period.contains(fact.occurred_at) {
            continue;
        }
        sent += 1;
        let label = Some(AssetLabel::from(&d.asset));
        match d.acknowledged {
            None => {
                let emergency = emergency_of(ledger, d.seq);
                let age = inp.as_at - fact.occurred_at;
                if age > inp.limits.limit(emergency) {
                    let message = format!(
                        "{} sent to {} by disbursement #{} on {} has not been acknowledged, {} later — beyond {}.",
                        describe(&d.asset, d.units),
                        d.recipient,
                        d.seq,
                        day(fact.occurred_at),
                        span(age),
                        limit_words(&inp.limits, emergency),
                    );
                    if let Some(x) = f.add(
                        s,
                        "unacknowledged",
                        Severity::Warning,
                        vec![at(inp, d.seq)],
                        message,
                    ) {
                        x.asset = label;
                    }
                }
            }
            Some(got) => {
                acknowledged += 1;
                if got == d.units {
                    continue;
                }
                let mut entries = vec![at(inp, d.seq)];
                let ack = statements.get(&d.seq).and_then(|st| st.acknowledgement);
                entries.extend(ack.map(|a| at(inp, a)));
                let gap = if got < d.units {
                    format!("{} short", number(&d.asset, d.units - got))
                } else {
                    format!("{} more than was sent", number(&d.asset, got - d.units))
                };
                let by = ack
                    .map(|a| format!(" (acknowledgement #{a})"))
                    .unwrap_or_default();
                if let Some(x) = f.add(
                    s,
                    "acknowledgement_discrepancy",
                    Severity::Warning,
                    entries,
                    format!(
                        "{} acknowledged {} of the {} sent by disbursement #{}{by}: {gap}.",
                        d.recipient,
                        number(&d.asset, got),
                        describe(&d.asset, d.units),
                        d.seq
                    ),
                ) {
                    x.asset = label;
                }
            }
        }
    }
    if !f.has(s, Severity::Warning) {
        let message = format!(
            "{acknowledged} of {sent} disbursements are acknowledged, each as sent; none is overdue."
        );
        f.add(
            s,
            "receipts_consistent",
            Severity::Info,
            Vec::new(),
            message,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Bank

/// Bank lines inside the period: a line's day counts from its midnight (UTC), so `to` at
/// midnight leaves that day out, as it leaves out the ledger entries of that day.
fn bank_lines_in(inp: &Inputs<'_>) -> Vec<BankLine> {
    let from = inp.period.from.map(|t| t.date_naive());
    inp.bank_lines
        .iter()
        .filter(|l| {
            let starts = l.line.booked_on.and_time(chrono::NaiveTime::MIN).and_utc();
            from.is_none_or(|d| l.line.booked_on >= d) && inp.period.to.is_none_or(|t| starts < t)
        })
        .cloned()
        .collect()
}

fn bank_findings(inp: &Inputs<'_>, b: &BankReconciliation, f: &mut Findings) {
    let s = Section::Bank;
    if inp.bank_statements == 0 {
        let message = "No bank statement has been uploaded, so money receipts and disbursements are not compared with the bank.".to_owned();
        f.add(s, "no_bank_statement", Severity::Info, Vec::new(), message);
        return;
    }
    let by_reference = b
        .matched
        .iter()
        .filter(|p| p.by == bank::MatchedBy::Reference)
        .count();
    let message = format!(
        "{} of {} bank lines match a ledger entry ({by_reference} by reference, {} by amount and date within {} days).",
        b.matched.len(), b.lines, b.matched.len() - by_reference, bank::MATCH_WINDOW_DAYS
    );
    f.add(s, "bank_matched", Severity::Info, Vec::new(), message);
    let amount = |a: &crate::asset::AssetWire| a.parse().map(|x| x.describe()).unwrap_or_default();
    for p in b.matched.iter().filter(|p| p.difference.is_some()) {
        if let Some(x) = f.add(
            s,
            "bank_amount_mismatch",
            Severity::Warning,
            vec![p.ledger.entry.clone()],
            format!(
                "Bank line {}/{} (reference {}) shows {}, but entry #{} records {}.",
                p.line.statement,
                p.line.row,
                p.line.reference,
                amount(&p.line.amount),
                p.ledger.entry.seq,
                amount(&p.ledger.amount)
            ),
        ) {
            x.bank_line = Some(BankLineRef {
                statement: p.line.statement,
                row: p.line.row,
            });
        }
    }
    for m in &b.unmatched_entries {
        let what = match m.direction {
            bank::Direction::Credit => format!("Receipt #{} ({})", m.entry.seq, m.reference),
            bank::Direction::Debit => {
                format!("Disbursement #{} (reference {})", m.entry.seq, m.reference)
            }
        };
        f.add(
            s,
            "entry_without_bank_line",
            Severity::Warning,
            vec![m.entry.clone()],
            format!(
            "{what} of {} on {} has no bank line, though an uploaded statement covers that date.",
            amount(&m.amount), m.date
        ),
        );
    }
    for l in &b.unmatched_lines {
        let reference = if l.reference.is_empty() {
            "no reference".to_owned()
        } else {
            format!("reference {}", l.reference)
        };
        let what = match l.direction {
            bank::Direction::Credit => "receipt",
            bank::Direction::Debit => "disbursement",
        };
        let message = format!(
            "Bank line {}/{} — {} of {} on {} ({reference}, counterparty “{}”) — matches no {what} in the log.",
            l.statement, l.row, l.direction.as_str(), amount(&l.amount), l.date, l.counterparty
        );
        if let Some(x) = f.add(
            s,
            "bank_line_without_entry",
            Severity::Warning,
            Vec::new(),
            message,
        ) {
            x.bank_line = Some(BankLineRef {
                statement: l.statement,
                row: l.row,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Disclosure

/// Why the date of `fact` (living at `seq`, happening at `when`) cannot be right, from the facts
/// it depends on and the campaigns it belongs to.
fn date_problems(ledger: &Ledger, seq: Seq, fact: &Fact, when: DateTime<Utc>) -> Vec<String> {
    let books = &ledger.books;
    let occurred = |s: Seq| ledger.fact(s).map(|x| x.occurred_at);
    let mut out = Vec::new();
    let mut before = |what: String, t: Option<DateTime<Utc>>| {
        if let Some(t) = t.filter(|t| when < *t) {
            out.push(format!("before {what} ({})", day(t)));
        }
    };
    match fact {
        Fact::Allocation(a) => a.drawn_from.iter().for_each(|d| {
            before(
                format!("donation #{} was received", d.donation),
                books.lots.get(&d.donation).map(|l| l.occurred_at),
            )
        }),
        Fact::Expense(e) => e.drawn_from.iter().for_each(|d| {
            before(
                format!("donation #{} was received", d.donation),
                books.lots.get(&d.donation).map(|l| l.occurred_at),
            )
        }),
        Fact::Disbursement(d) => before(
            format!("allocation #{} was made", d.allocation),
            occurred(d.allocation),
        ),
        Fact::Acknowledgement(a) => {
            before(
                format!("disbursement #{} was sent", a.disbursement),
                occurred(a.disbursement),
            );
            if a.received_at > when {
                out.push(format!("before the goods arrived ({})", day(a.received_at)));
            }
        }
        Fact::Usage(u) => {
            let arrived = flows::statements(ledger)
                .get(&u.disbursement)
                .and_then(|st| st.acknowledgement)
                .and_then(|a| match ledger.fact(a).map(|x| &x.fact) {
                    Some(Fact::Acknowledgement(b)) => Some(b.received_at),
                    _ => None,
                });
            before(
                format!(
                    "what it reports on arrived (disbursement #{})",
                    u.disbursement
                ),
                arrived,
            );
        }
        Fact::Campaign(_) | Fact::Donation(_) | Fact::Correction(_) => {}
    }
    if !matches!(fact, Fact::Campaign(_) | Fact::Donation(_)) {
        for c in ledger.campaigns_of(seq) {
            let start = books
                .campaigns
                .iter()
                .find(|(id, _)| id.as_str() == c)
                .map(|(_, st)| st.starts_at);
            if let Some(t) = start.filter(|t| when < *t) {
                out.push(format!("before campaign {c} started ({})", day(t)));
            }
        }
    }
    out
}

fn disclosure(inp: &Inputs<'_>, summary: &Summary, f: &mut Findings) {
    let s = Section::Disclosure;
    let ledger = inp.ledger;
    for d in &summary.timeliness.deadlines {
        let missed: Vec<Seq> = d
            .missed_entries
            .iter()
            .copied()
            .filter(|seq| {
                ledger
                    .records
                    .get((*seq - 1) as usize)
                    .is_some_and(|r| inp.period.contains(r.occurred_at))
            })
            .collect();
        if missed.is_empty() {
            continue;
        }
        let of = match &d.campaign {
            Some(c) if d.emergency => format!("emergency campaign {c}"),
            Some(c) => format!("campaign {c}"),
            None => "no campaign".into(),
        };
        f.add(
            s,
            "late_disclosure",
            Severity::Warning,
            missed.iter().map(|q| at(inp, *q)).collect(),
            format!(
            "{} entries of {of} became public more than {} hours after they happened (entries {}).",
            missed.len(), d.deadline_hours, listed(&missed)
        ),
        );
    }
    let mut replaced = BTreeSet::new();
    for r in ledger
        .records
        .iter()
        .filter(|r| inp.period.contains(r.occurred_at))
    {
        let Fact::Correction(c) = &r.fact else {
            continue;
        };
        let original = ledger.records.get((c.corrects - 1) as usize);
        let mut problems = Vec::new();
        if let Some(o) = original.filter(|o| r.occurred_at < o.occurred_at) {
            problems.push(format!(
                "the correction is dated {}, before the entry it corrects ({})",
                day(r.occurred_at),
                day(o.occurred_at)
            ));
        }
        if let Some(rep) = &c.replacement {
            replaced.insert(r.seq);
            let when = c.replacement_occurred_at.unwrap_or(r.occurred_at);
            if when > r.occurred_at {
                problems.push(format!(
                    "its replacement is dated {}, after the correction itself ({})",
                    day(when),
                    day(r.occurred_at)
                ));
            }
            for p in date_problems(ledger, r.seq, rep, when) {
                problems.push(format!("its replacement is dated {}, {p}", day(when)));
            }
        }
        let (kind, severity, tail) = if problems.is_empty() {
            ("correction", Severity::Warning, ".".to_owned())
        } else {
            (
                "correction_with_impossible_date",
                Severity::Violation,
                format!(". Impossible: {}.", problems.join("; ")),
            )
        };
        let replacement = if c.replacement.is_some() {
            ", replacing it"
        } else {
            ""
        };
        f.add(
            s,
            kind,
            severity,
            vec![at(inp, c.corrects), at(inp, r.seq)],
            format!(
                "Entry #{} ({}) was corrected by #{}{replacement}; reason: “{}”{tail}",
                c.corrects,
                c.corrected_kind.as_str(),
                r.seq,
                c.reason
            ),
        );
    }
    for fact in ledger
        .live_facts()
        .filter(|x| !replaced.contains(&x.seq) && inp.period.contains(x.occurred_at))
    {
        let problems = date_problems(ledger, fact.seq, &fact.fact, fact.occurred_at);
        if !problems.is_empty() {
            f.add(
                s,
                "impossible_date",
                Severity::Violation,
                vec![at(inp, fact.seq)],
                format!(
                    "Entry #{} ({}) is dated {}: {}.",
                    fact.seq,
                    fact.fact.kind().as_str(),
                    day(fact.occurred_at),
                    problems.join("; ")
                ),
            );
        }
    }
    if !f.has(s, Severity::Warning) {
        let message = "Every entry became public within its deadline; nothing was corrected; no date is impossible.".to_owned();
        f.add(s, "disclosure_timely", Severity::Info, Vec::new(), message);
    }
}

/// `#1, #2, #3` — at most ten seqs, then how many more.
fn listed(seqs: &[Seq]) -> String {
    const SHOWN: usize = 10;
    let mut text = seqs
        .iter()
        .take(SHOWN)
        .map(|q| format!("#{q}"))
        .collect::<Vec<_>>()
        .join(", ");
    if seqs.len() > SHOWN {
        text.push_str(&format!(" and {} more", seqs.len() - SHOWN));
    }
    text
}

// ---------------------------------------------------------------------------------------------
// 9. Fundraising

fn fundraising(inp: &Inputs<'_>, f: &mut Findings) {
    let s = Section::Fundraising;
    let ledger = inp.ledger;
    let org = &ledger.organization.id;
    for fact in ledger.live_facts() {
        match &fact.fact {
            Fact::Campaign(c) if c.public_fundraising => {
                if c.record_number.is_none() {
                    let message = format!(
                        "Campaign {} raises from the public without a fundraising-plan record number.", c.id
                    );
                    f.add(
                        s,
                        "campaign_without_record_number",
                        Severity::Violation,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
                if !inp.public_fundraising_qualified {
                    let message = format!(
                        "Campaign {} raises from the public, but {org} is not qualified for public fundraising.", c.id
                    );
                    f.add(
                        s,
                        "unqualified_public_fundraising",
                        Severity::Violation,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
            }
            Fact::Donation(d) if inp.period.contains(fact.occurred_at) => {
                if let Some(cid) = &d.campaign {
                    let campaign = ledger.books.campaigns.get(cid);
                    let body =
                        campaign
                            .and_then(|st| ledger.fact(st.seq))
                            .and_then(|x| match &x.fact {
                                Fact::Campaign(b) => Some(b),
                                _ => None,
                            });
                    if let Some(b) = body {
                        if b.public_fundraising && b.record_number.is_none() {
                            let message = format!(
                                "Donation #{} (receipt {}) was raised from the public for campaign {cid}, which has no fundraising-plan record number.",
                                fact.seq, d.receipt_number
                            );
                            f.add(
                                s,
                                "receipt_without_record_number",
                                Severity::Violation,
                                vec![at(inp, fact.seq)],
                                message,
                            );
                        }
                        let outside = fact.occurred_at < b.starts_at
                            || b.ends_at.is_some_and(|e| fact.occurred_at > e);
                        if outside {
                            let until = b.ends_at.map_or("open-ended".to_owned(), day);
                            let message = format!(
                                "Donation #{} (receipt {}) is dated {}, outside campaign {cid} ({} to {until}).",
                                fact.seq, d.receipt_number, day(fact.occurred_at), day(b.starts_at)
                            );
                            f.add(
                                s,
                                "receipt_outside_campaign",
                                Severity::Warning,
                                vec![at(inp, fact.seq)],
                                message,
                            );
                        }
                    }
                }
                if !inp.public_fundraising_qualified && d.channel == DonationChannel::OnlinePlatform
                {
                    let message = format!(
                        "Donation #{} (receipt {}) came through an online fundraising platform, but {org} is not qualified for public fundraising.",
                        fact.seq, d.receipt_number
                    );
                    f.add(
                        s,
                        "unqualified_public_fundraising",
                        Severity::Warning,
                        vec![at(inp, fact.seq)],
                        message,
                    );
                }
            }
            _ => {}
        }
    }
    receipt_reuse(inp, f);
    foreign_references(inp, f);
    if !f.has(s, Severity::Warning) {
        let message = "No fraud signal: every campaign receipt has a record number and falls inside its campaign's dates, no receipt number is reused across channels, and no reference appears on another organisation's books.".to_owned();
        f.add(s, "no_fraud_signal", Severity::Info, Vec::new(), message);
    }
}

/// Every donation body in the log (voided ones and replacements included), with its seq.
fn all_donations(ledger: &Ledger) -> impl Iterator<Item = (Seq, &crate::entry::DonationBody)> {
    ledger.records.iter().filter_map(|r| match &r.fact {
        Fact::Donation(d) => Some((r.seq, d)),
        Fact::Correction(c) => match c.replacement.as_deref() {
            Some(Fact::Donation(d)) => Some((r.seq, d)),
            _ => None,
        },
        _ => None,
    })
}

fn receipt_reuse(inp: &Inputs<'_>, f: &mut Findings) {
    let mut by_receipt: BTreeMap<&str, Vec<(Seq, DonationChannel)>> = BTreeMap::new();
    for (seq, d) in all_donations(inp.ledger) {
        by_receipt
            .entry(&d.receipt_number)
            .or_default()
            .push((seq, d.channel));
    }
    for (receipt, uses) in by_receipt {
        let channels: BTreeSet<String> = uses.iter().map(|(_, c)| channel_name(*c)).collect();
        if channels.len() < 2 {
            continue;
        }
        let seqs: Vec<Seq> = uses.iter().map(|(q, _)| *q).collect();
        f.add(
            Section::Fundraising,
            "receipt_reused_across_channels",
            Severity::Warning,
            seqs.iter().map(|q| at(inp, *q)).collect(),
            format!(
                "Receipt number {receipt} is used by entries {} with different channels ({}).",
                listed(&seqs),
                channels.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
}

fn channel_name<T: Serialize>(c: T) -> String {
    match serde_json::to_value(c) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// An entry of this log carrying a reference: its seq, what the reference is there, and for a
/// donation the disbursement (organisation, seq) it says it came from.
type OurReference = (Seq, ReferenceKind, Option<(String, Seq)>);

fn foreign_references(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    let mut ours: BTreeMap<&str, Vec<OurReference>> = BTreeMap::new();
    for fact in ledger.live_facts() {
        match &fact.fact {
            Fact::Donation(d) => ours.entry(&d.receipt_number).or_default().push((
                fact.seq,
                ReferenceKind::ReceiptNumber,
                d.source_disbursement
                    .as_ref()
                    .map(|s| (s.organization.to_string(), s.disbursement)),
            )),
            Fact::Disbursement(d) => ours.entry(&d.reference).or_default().push((
                fact.seq,
                ReferenceKind::DisbursementReference,
                None,
            )),
            _ => {}
        }
    }
    let what = |k: ReferenceKind| match k {
        ReferenceKind::ReceiptNumber => "receipt number",
        ReferenceKind::DisbursementReference => "disbursement reference",
    };
    for theirs in inp.foreign.iter().filter(|x| x.organization != org) {
        for (seq, kind, source) in ours.get(theirs.reference.as_str()).into_iter().flatten() {
            // A gift passed on between charities legitimately shows the same reference twice.
            let passed_on = match (kind, theirs.kind) {
                (ReferenceKind::ReceiptNumber, ReferenceKind::DisbursementReference) => {
                    source.as_ref() == Some(&(theirs.organization.clone(), theirs.seq))
                }
                (ReferenceKind::DisbursementReference, ReferenceKind::ReceiptNumber) => {
                    theirs.source.as_ref() == Some(&(org.to_owned(), *seq))
                }
                _ => false,
            };
            if passed_on {
                continue;
            }
            let message = format!(
                "Entry #{seq} has {} {}, which {} #{} also records as its {}: the same money may be claimed twice.",
                what(*kind), theirs.reference, theirs.organization, theirs.seq, what(theirs.kind)
            );
            f.add(
                Section::Fundraising,
                "reference_on_other_books",
                Severity::Warning,
                vec![
                    at(inp, *seq),
                    EntryAt::new(&theirs.organization, theirs.seq),
                ],
                message,
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Priority, complaints

fn priority(summary: &Summary, f: &mut Findings) {
    let regions = summary.priority_regions.join(", ");
    let mut any = false;
    for a in &summary.assets {
        let Some(share) = &a.priority_regions.share_percent else {
            continue;
        };
        any = true;
        let message = format!(
            "{}: {} of the {} undesignated disbursed ({share}%) went to priority regions {regions}.",
            label_text(&a.asset),
            a.priority_regions.to_priority_regions,
            a.priority_regions.undesignated_disbursed,
        );
        if let Some(x) = f.add(
            Section::Priority,
            "priority_share",
            Severity::Info,
            Vec::new(),
            message,
        ) {
            x.asset = Some(a.asset.clone());
        }
    }
    if !any {
        let message = format!(
            "No undesignated money or goods have been disbursed, so no share went to priority regions {regions} yet."
        );
        f.add(
            Section::Priority,
            "priority_share",
            Severity::Info,
            Vec::new(),
            message,
        );
    }
}

fn complaints(inp: &Inputs<'_>, f: &mut Findings) -> Vec<Complaint> {
    let mut shown = Vec::new();
    for c in inp.complaints {
        let open = !c.status.is_closed();
        let filed_in = inp.period.contains(c.filed_at);
        let before_end = inp.period.to.is_none_or(|t| c.filed_at < t);
        if !(filed_in || (open && before_end)) {
            continue;
        }
        let excerpt: String = c
            .description
            .chars()
            .take(COMPLAINT_EXCERPT_CHARS)
            .collect();
        let ellipsis = if c.description.chars().count() > COMPLAINT_EXCERPT_CHARS {
            "…"
        } else {
            ""
        };
        let about = c
            .entry
            .map(|e| format!(" about entry #{e}"))
            .unwrap_or_default();
        let severity = if open {
            Severity::Warning
        } else {
            Severity::Info
        };
        if let Some(x) = f.add(
            Section::Complaints,
            "complaint",
            severity,
            c.entry.map(|e| at(inp, e)).into_iter().collect(),
            format!(
                "Complaint {} ({}{about}), filed {}, is {}: “{excerpt}{ellipsis}”",
                c.code,
                c.category.as_str(),
                day(c.filed_at),
                c.status.as_str()
            ),
        ) {
            x.complaint = Some(c.code.clone());
        }
        shown.push(c.clone());
    }
    shown
}
