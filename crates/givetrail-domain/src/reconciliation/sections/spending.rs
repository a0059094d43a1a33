//! Spending: usage against acknowledgements, the charity's own expenses against receipts.
//! Goods bought with donated money (`procurement.made`) are not the charity's own costs: the
//! money they took is named beside the share, never in it.

use std::collections::BTreeMap;

use super::balances::AssetBooks;
use super::Findings;
use crate::asset::AssetKey;
use crate::disclosure::{percent, AssetLabel};
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::Severity;

/// Expenses above this share of what was received are flagged (the Charity Law's ceiling on
/// administrative costs, applied per asset as a signal, not a legal finding).
pub const EXPENSE_SHARE_WARNING_PERCENT: i64 = 10;

/// Usage and expense shares of each asset.
pub(crate) fn findings(per_asset: &BTreeMap<AssetKey, AssetBooks>, f: &mut Findings) {
    for (key, b) in per_asset {
        let fmt = |u: i64| key.format(u);
        let label = Some(AssetLabel::from(key));
        if b.acknowledged > 0 {
            let share = percent(b.used, b.acknowledged).unwrap_or_default();
            if let Some(x) = f.add(
                FindingKind::UsageReported,
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
                    FindingKind::ExpenseShareHigh,
                    Severity::Warning,
                    format!(", above the {EXPENSE_SHARE_WARNING_PERCENT}% signal"),
                )
            } else {
                (FindingKind::ExpenseShare, Severity::Info, String::new())
            };
            let purchases = if b.drawn_procured > 0 {
                format!(
                    "; a further {} bought goods, which are not counted as its own costs",
                    fmt(b.drawn_procured)
                )
            } else {
                String::new()
            };
            if let Some(x) = f.add_as(
                kind,
                severity,
                Vec::new(),
                format!(
                    "{key}: the charity's own expenses are {} of {} received ({share}%){tail}{purchases}.",
                    fmt(b.expenses),
                    fmt(b.received)
                ),
            ) {
                x.asset = label;
            }
        }
    }
}
