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

/// Each campaign's own expenses against its `cost_limit_percent` of what it disbursed plus its
/// expenses, per money asset (goods bought are not costs).
pub(crate) fn cost_ratios(inp: &crate::reconciliation::inputs::Inputs<'_>, f: &mut Findings) {
    use crate::disclosure::flows;
    let ledger = inp.ledger;
    // (campaign, asset) → (expenses, disbursed, expense seqs)
    let mut per: BTreeMap<(String, AssetKey), (i64, i64, Vec<i64>)> = BTreeMap::new();
    let campaign_of = |lot: i64| {
        ledger
            .books
            .lots
            .get(&lot)
            .filter(|l| l.live && l.asset.is_money())
            .and_then(|l| {
                l.campaign
                    .as_ref()
                    .map(|c| (c.to_string(), l.asset.clone()))
            })
    };
    for d in flows::live_draws(ledger).filter(|d| d.expense && !ledger.is_purchase(d.by)) {
        if let Some(k) = campaign_of(d.donation) {
            let e = per.entry(k).or_default();
            e.0 += d.units;
            if !e.2.contains(&d.by) {
                e.2.push(d.by);
            }
        }
    }
    for s in flows::shares(ledger) {
        if let Some(k) = campaign_of(s.lot) {
            per.entry(k).or_default().1 += s.units;
        }
    }
    for ((campaign, key), (expenses, disbursed, seqs)) in per {
        let Some(body) = ledger.campaign_body(&campaign) else {
            continue;
        };
        let Some(limit) = body.cost_limit_percent else {
            continue;
        };
        if expenses == 0
            || i128::from(expenses) * 100
                <= i128::from(limit) * (i128::from(disbursed) + i128::from(expenses))
        {
            continue;
        }
        let share = percent(expenses, disbursed + expenses).unwrap_or_default();
        let mut entries = vec![super::at(
            inp,
            ledger
                .books
                .campaigns
                .iter()
                .find(|(id, _)| id.as_str() == campaign)
                .map_or(0, |(_, c)| c.seq),
        )];
        entries.extend(seqs.iter().map(|s| super::at(inp, *s)));
        let message = format!(
            "Campaign {campaign}: its own expenses are {} of {} disbursed plus expenses in {key} ({share}%), above its cost limit of {limit}%.",
            key.format(expenses),
            key.format(disbursed + expenses),
        );
        if let Some(x) = f.add(FindingKind::CostRatioExceeded, entries, message) {
            x.asset = Some(AssetLabel::from(&key));
        }
    }
}
