//! The report's sections, one module each, in report order: integrity, balances, designations,
//! ageing, receipt, spending, bank, disclosure, fundraising, priority, needs, transfers,
//! procurement, complaints. Each adds its
//! findings to a [`Findings`] collector; the wording helpers they share live here.

pub mod ageing;
pub mod balances;
pub mod bank;
pub mod complaints;
pub mod designations;
pub mod disclosure;
pub mod fundraising;
pub mod integrity;
pub mod needs;
pub mod priority;
pub mod procurement;
pub mod receipt;
pub mod spending;
pub mod transfers;

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use crate::asset::AssetKey;
use crate::disclosure::{AssetLabel, Ledger};
use crate::entry::Seq;

use super::inputs::{AgeingLimits, Inputs};
use super::kind::FindingKind;
use super::model::{EntryAt, Finding, Section, Severity};

/// Most findings of one kind listed; one more finding says how many were left out.
pub const MAX_FINDINGS_PER_KIND: usize = 1_000;

/// Findings, at most [`MAX_FINDINGS_PER_KIND`] of each kind.
#[derive(Default)]
pub(crate) struct Findings {
    list: Vec<Finding>,
    per_kind: BTreeMap<(Section, &'static str), usize>,
    left_out: BTreeMap<(Section, &'static str), (FindingKind, Severity, usize)>,
}

impl Findings {
    /// Add a finding of `kind` with its usual severity.
    pub(crate) fn add(
        &mut self,
        kind: FindingKind,
        entries: Vec<EntryAt>,
        message: String,
    ) -> Option<&mut Finding> {
        self.add_as(kind, kind.severity(), entries, message)
    }

    /// Add a finding of `kind` with `severity`; `None` once the kind has reached its limit.
    pub(crate) fn add_as(
        &mut self,
        kind: FindingKind,
        severity: Severity,
        entries: Vec<EntryAt>,
        message: String,
    ) -> Option<&mut Finding> {
        self.add_made(kind, severity, || (entries, message))
    }

    /// Add a finding of `kind` with its usual severity, making its entries and message only if
    /// it will be listed: a kind past its limit is only counted. For the checks that can find
    /// one per lot or per entry of a large log.
    pub(crate) fn add_with(
        &mut self,
        kind: FindingKind,
        make: impl FnOnce() -> (Vec<EntryAt>, String),
    ) -> Option<&mut Finding> {
        self.add_made(kind, kind.severity(), make)
    }

    fn add_made(
        &mut self,
        kind: FindingKind,
        severity: Severity,
        make: impl FnOnce() -> (Vec<EntryAt>, String),
    ) -> Option<&mut Finding> {
        let section = kind.section();
        let key = (section, kind.as_str());
        let n = self.per_kind.entry(key).or_default();
        *n += 1;
        if *n > MAX_FINDINGS_PER_KIND {
            let e = self.left_out.entry(key).or_insert((kind, severity, 0));
            e.1 = e.1.max(severity);
            e.2 += 1;
            return None;
        }
        let (entries, message) = make();
        self.list.push(Finding {
            section,
            kind,
            severity,
            entries,
            message,
            asset: None,
            bank_line: None,
            complaint: None,
        });
        self.list.last_mut()
    }

    /// Every finding, section by section, then one per kind saying how many were left out.
    pub(crate) fn finish(mut self) -> Vec<Finding> {
        for ((section, name), (kind, severity, n)) in self.left_out {
            self.list.push(Finding {
                section,
                kind,
                severity,
                entries: Vec::new(),
                message: format!("{n} more findings of kind {name} are not listed."),
                asset: None,
                bank_line: None,
                complaint: None,
            });
        }
        self.list.sort_by_key(|f| f.section);
        self.list
    }

    /// Whether `section` has a finding at least as serious as `above`.
    pub(crate) fn has(&self, section: Section, above: Severity) -> bool {
        self.list
            .iter()
            .any(|f| f.section == section && f.severity >= above)
    }
}

/// Entry `seq` of the organisation reported on.
pub(crate) fn at(inp: &Inputs<'_>, seq: Seq) -> EntryAt {
    EntryAt::new(&inp.ledger.organization.id, seq)
}

/// `units` of `key` with their unit, as a sentence names them.
pub(crate) fn describe(key: &AssetKey, units: i64) -> String {
    key.asset(units).describe()
}

/// Units of `key` as a person writes them: `1000` pieces, `1000.00` yuan.
pub(crate) fn number(key: &AssetKey, units: i64) -> String {
    match key {
        AssetKey::Money(_) => key.format(units),
        AssetKey::Goods(_) => rust_decimal::Decimal::new(units, key.scale())
            .normalize()
            .to_string(),
    }
}

/// A duration in days, or in hours below two days.
pub(crate) fn span(d: Duration) -> String {
    if d >= Duration::days(2) {
        format!("{} days", d.num_days())
    } else {
        format!("{} hours", d.num_hours())
    }
}

/// A moment to the minute, in UTC.
pub(crate) fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An asset label as a sentence names it: `CNY`, `N95 respirator (GB2626, piece)`.
pub(crate) fn label_text(l: &AssetLabel) -> String {
    match l {
        AssetLabel::Money { currency } => currency.clone(),
        AssetLabel::Goods { item, spec, unit } => format!("{item} ({spec}, {unit})"),
    }
}

/// Whether entry `seq` draws on an emergency campaign's donations.
pub(crate) fn emergency_of(ledger: &Ledger, seq: Seq) -> bool {
    ledger
        .campaigns_of(seq)
        .iter()
        .any(|c| ledger.is_emergency(c))
}

/// How long what belongs to `campaigns` may wait: the smallest `ageing_limit_hours` any of them
/// states, else the server's limit for an emergency (or other) appeal; and that limit in words.
pub(crate) fn ageing_limit(
    ledger: &Ledger,
    limits: &AgeingLimits,
    campaigns: &[String],
    emergency: bool,
) -> (chrono::Duration, String) {
    let stated = campaigns
        .iter()
        .filter_map(|c| {
            ledger
                .campaign_body(c)
                .and_then(|b| b.ageing_limit_hours)
                .map(|h| (h, c))
        })
        .min();
    match stated {
        Some((hours, c)) => (
            chrono::Duration::hours(i64::from(hours)),
            format!("campaign {c}'s ageing limit of {hours} hours"),
        ),
        None => (limits.limit(emergency), limit_words(limits, emergency)),
    }
}

/// `the 7-day limit for an emergency campaign`.
pub(crate) fn limit_words(limits: &AgeingLimits, emergency: bool) -> String {
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

/// `#1, #2, #3` — at most ten seqs, then how many more.
pub(crate) fn listed(seqs: &[Seq]) -> String {
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

/// The report over the unit tests' log ([`crate::disclosure::test_log`]) as at 2020-02-28, with
/// the needs, transfers and purchases the oversight sections read.
#[cfg(test)]
pub(crate) fn test_report(
    directory: &crate::disclosure::Directory,
    needs: &[super::inputs::NeedRecord],
    transfers: &[super::inputs::TransferRecord],
    purchases: &[super::inputs::PurchaseRecord],
) -> Vec<Finding> {
    use super::inputs::{Integrity, Period};
    use crate::disclosure::{test_log, Policy};
    use chrono::TimeZone;
    let ledger = test_log::ledger();
    let policy = Policy::default();
    let integrity = Integrity::default();
    let at = Utc
        .with_ymd_and_hms(2020, 2, 28, 0, 0, 0)
        .single()
        .expect("a date");
    super::reconcile(&Inputs {
        ledger: &ledger,
        directory,
        policy: &policy,
        limits: AgeingLimits::default(),
        public_fundraising_qualified: true,
        integrity: &integrity,
        bank_statements: 0,
        bank_lines: &[],
        foreign: &[],
        complaints: &[],
        needs,
        transfers,
        purchases,
        name_duplicates: &[],
        period: Period::default(),
        as_at: at,
        generated_at: at,
    })
    .findings
}
