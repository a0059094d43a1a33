//! Balances: per asset, received = allocated + expenses + procured + unallocated and allocated =
//! disbursed + undisbursed, each side from its own source (lot counters, draws, allocations,
//! disbursements, expenses, the purchases' bodies).
//!
//! A purchase (`procurement.made`) draws money like an expense (the money lots count it in
//! `expensed`), but it is not one of the charity's own costs: its draws are told apart by the
//! kind of the drawing fact. The goods it bought are a lot of their own, so they count as goods
//! received (`purchased` says how much of that was bought).

use std::collections::BTreeMap;

use super::Findings;
use crate::asset::AssetKey;
use crate::disclosure::{flows, per_asset, AssetLabel, Ledger};
use crate::entry::{EntryKind, Fact};
use crate::reconciliation::kind::FindingKind;

/// One asset's figures, each from its own source so that the identities are real checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AssetBooks {
    /// Σ received of live lots.
    pub(crate) received: i64,
    /// Σ received of the live lots that are goods bought with donated money (part of
    /// `received`).
    pub(crate) purchased: i64,
    /// Σ goods bought, as the live purchases state them.
    pub(crate) purchases_bought: i64,
    /// Σ lot counters (`lot_expensed` counts what expenses and purchases took).
    pub(crate) lot_allocated: i64,
    pub(crate) lot_expensed: i64,
    /// Σ remaining of live lots.
    pub(crate) unallocated: i64,
    /// Σ draws of live allocations, expenses and purchases.
    pub(crate) drawn_allocated: i64,
    pub(crate) drawn_expensed: i64,
    pub(crate) drawn_procured: i64,
    /// Σ paid by live purchases, as they state it.
    pub(crate) procurements: i64,
    /// Σ live allocations, and what they record as disbursed.
    pub(crate) allocations: i64,
    pub(crate) allocation_disbursed: i64,
    /// Σ live disbursements.
    pub(crate) disbursed: i64,
    /// Σ acknowledged, and Σ sent of the acknowledged disbursements.
    pub(crate) acknowledged: i64,
    pub(crate) acknowledged_sent: i64,
    /// Σ reported used.
    pub(crate) used: i64,
    /// Σ live expenses.
    pub(crate) expenses: i64,
}

/// Each asset's figures, from the lot counters, the draws, the allocations, the disbursements,
/// the expenses and the purchases.
pub(crate) fn asset_books(ledger: &Ledger) -> BTreeMap<AssetKey, AssetBooks> {
    let books = &ledger.books;
    let mut out: BTreeMap<AssetKey, AssetBooks> = BTreeMap::new();
    for (l, bought) in ledger.live_lots() {
        let b = per_asset(&mut out, &l.asset);
        b.received += l.received;
        if bought {
            b.purchased += l.received;
        }
        b.lot_allocated += l.allocated;
        b.lot_expensed += l.expensed;
        b.unallocated += l.remaining();
    }
    for d in flows::live_draws(ledger) {
        let Some(l) = books.lots.get(&d.donation) else {
            continue;
        };
        let b = per_asset(&mut out, &l.asset);
        match flows::draw_use(ledger, d) {
            flows::DrawUse::Purchase => b.drawn_procured += d.units,
            flows::DrawUse::Expense => b.drawn_expensed += d.units,
            flows::DrawUse::Allocation => b.drawn_allocated += d.units,
        }
    }
    for f in ledger.live_facts_of(EntryKind::ProcurementMade) {
        let Fact::Procurement(p) = f.fact else {
            continue;
        };
        // A body that does not parse is left out, so the identities it should meet fail.
        if let Ok(paid) = p.paid.parse() {
            out.entry(paid.key()).or_default().procurements += paid.units();
        }
        if let Ok(goods) = p.goods.parse() {
            out.entry(goods.key()).or_default().purchases_bought += goods.units();
        }
    }
    for a in books.allocations.values().filter(|a| a.live) {
        let b = per_asset(&mut out, &a.asset);
        b.allocations += a.units;
        b.allocation_disbursed += a.disbursed;
    }
    for d in books.disbursements.values().filter(|d| d.live) {
        let b = per_asset(&mut out, &d.asset);
        b.disbursed += d.units;
        b.used += d.used;
        if let Some(a) = d.acknowledged {
            b.acknowledged += a;
            b.acknowledged_sent += d.units;
        }
    }
    for (key, units, live) in books.expenses.values() {
        if *live {
            per_asset(&mut out, key).expenses += units;
        }
    }
    out
}

/// The balance identities of each asset.
pub(crate) fn findings(per_asset: &BTreeMap<AssetKey, AssetBooks>, f: &mut Findings) {
    for (key, b) in per_asset {
        let fmt = |u: i64| key.format(u);
        let mut problems = Vec::new();
        // Purchases are named only where there are some, so that books without any read as
        // they always did.
        let procured = if b.drawn_procured != 0 || b.procurements != 0 {
            format!(" + procured {}", fmt(b.drawn_procured))
        } else {
            String::new()
        };
        let bought = if b.purchased != 0 || b.purchases_bought != 0 {
            format!(" (of which {} bought)", fmt(b.purchased))
        } else {
            String::new()
        };
        if b.received != b.drawn_allocated + b.drawn_expensed + b.drawn_procured + b.unallocated {
            problems.push(format!(
                "received {}{bought} ≠ allocated {} + expenses {}{procured} + unallocated {}",
                fmt(b.received),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed),
                fmt(b.unallocated)
            ));
        }
        if b.lot_allocated != b.drawn_allocated
            || b.lot_expensed != b.drawn_expensed + b.drawn_procured
        {
            problems.push(format!(
                "the donations record {} allocated and {} expensed or spent on purchases, but the draws on them total {} and {}",
                fmt(b.lot_allocated),
                fmt(b.lot_expensed),
                fmt(b.drawn_allocated),
                fmt(b.drawn_expensed + b.drawn_procured),
            ));
        }
        if b.procurements != b.drawn_procured {
            problems.push(format!(
                "purchases paid {} but draw {} from donations",
                fmt(b.procurements),
                fmt(b.drawn_procured)
            ));
        }
        if b.purchased != b.purchases_bought {
            problems.push(format!(
                "purchases bought {} but their goods lots received {}",
                fmt(b.purchases_bought),
                fmt(b.purchased)
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
                FindingKind::BalanceMismatch,
                Vec::new(),
                format!("{key}: the books do not add up: {}.", problems.join("; ")),
            ) {
                x.asset = label.clone();
            }
        }
        if b.acknowledged > b.disbursed {
            if let Some(x) = f.add(
                FindingKind::AcknowledgedExceedsDisbursed,
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
                "{key}: received {}{bought} = allocated {} + expenses {}{procured} + unallocated {}; allocated {} = disbursed {} + undisbursed {}; acknowledged {} of {} disbursed; used {} ≤ acknowledged {}.",
                fmt(b.received), fmt(b.drawn_allocated), fmt(b.drawn_expensed), fmt(b.unallocated),
                fmt(b.allocations), fmt(b.disbursed), fmt(b.allocations - b.disbursed),
                fmt(b.acknowledged), fmt(b.disbursed), fmt(b.used), fmt(b.acknowledged)
            );
            if let Some(x) = f.add(FindingKind::BalancesHold, Vec::new(), message) {
                x.asset = label;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::asset::AssetWire;
    use crate::disclosure::test_log;
    use crate::disclosure::Policy;
    use crate::reconciliation::inputs::{AgeingLimits, Inputs, Integrity, Period};
    use crate::reconciliation::model::{Finding, Section, Severity};
    use crate::reconciliation::reconcile;

    fn key(asset: serde_json::Value) -> AssetKey {
        serde_json::from_value::<AssetWire>(asset)
            .expect("an asset")
            .parse()
            .expect("valid")
            .key()
    }

    fn cny() -> AssetKey {
        key(serde_json::json!({"kind": "money", "amount": "1", "currency": "CNY"}))
    }

    fn goods(item: &str, spec: &str, unit: &str) -> AssetKey {
        key(
            serde_json::json!({"kind": "goods", "item": item, "spec": spec, "unit": unit, "quantity": "1"}),
        )
    }

    fn findings(ledger: &Ledger) -> Vec<Finding> {
        let directory = test_log::directory();
        let policy = Policy::default();
        let integrity = Integrity::default();
        let at = Utc
            .with_ymd_and_hms(2020, 2, 28, 0, 0, 0)
            .single()
            .expect("a date");
        reconcile(&Inputs {
            ledger,
            directory: &directory,
            policy: &policy,
            limits: AgeingLimits::default(),
            public_fundraising_qualified: true,
            integrity: &integrity,
            bank_statements: 0,
            bank_lines: &[],
            foreign: &[],
            complaints: &[],
            needs: &[],
            transfers: &[],
            purchases: &[],
            name_duplicates: &[],
            period: Period::default(),
            as_at: at,
            generated_at: at,
        })
        .findings
    }

    #[test]
    fn money_received_is_allocated_expensed_procured_or_unallocated() {
        let ledger = test_log::ledger();
        let per_asset = asset_books(&ledger);
        let money = per_asset[&cny()];
        // 100000.00 + 10000.00 received; 20000.00 allocated; 1000.00 of costs; 50000.00 and
        // 35000.00 paid for goods (the voided purchase of 1000.00 left out); 4000.00 left.
        assert_eq!(money.received, 11_000_000);
        assert_eq!(money.drawn_allocated, 2_000_000);
        assert_eq!(money.drawn_expensed, 100_000);
        assert_eq!(money.expenses, 100_000);
        assert_eq!(money.drawn_procured, 8_500_000);
        assert_eq!(money.procurements, 8_500_000);
        assert_eq!(money.lot_expensed, 8_600_000);
        assert_eq!(money.unallocated, 400_000);
        assert_eq!(money.purchased, 0);
        assert_eq!(
            money.received,
            money.drawn_allocated + money.drawn_expensed + money.drawn_procured + money.unallocated
        );
        // The goods bought are received goods, allocated and disbursed like donated ones.
        let suits = per_asset[&goods("protective suit", "GB 19082-2009", "set")];
        assert_eq!(suits.received, 1_000_000);
        assert_eq!(suits.purchased, 1_000_000);
        assert_eq!(suits.purchases_bought, 1_000_000);
        assert_eq!(suits.drawn_allocated, 600_000);
        assert_eq!(suits.disbursed, 600_000);
        assert_eq!(suits.acknowledged, 600_000);
        assert_eq!(suits.unallocated, 400_000);
        let masks = per_asset[&goods("N95 respirator", "GB 19083-2010", "piece")];
        assert_eq!((masks.received, masks.unallocated), (500_000, 500_000));
        assert!(
            !per_asset.contains_key(&goods("goggles", "", "pair")),
            "a voided purchase bought nothing"
        );

        let all = findings(&ledger);
        let of = |kind: FindingKind| -> Vec<&Finding> {
            all.iter().filter(|f| f.kind == kind).collect()
        };
        assert!(of(FindingKind::BalanceMismatch).is_empty(), "{all:#?}");
        let hold = of(FindingKind::BalancesHold);
        assert_eq!(hold.len(), 3, "{hold:#?}");
        let money_hold = hold
            .iter()
            .find(|f| f.message.starts_with("CNY"))
            .expect("CNY holds");
        assert!(
            money_hold.message.contains(
                "received 110000.00 = allocated 20000.00 + expenses 1000.00 + procured 85000.00 + unallocated 4000.00"
            ),
            "{}",
            money_hold.message
        );
        assert!(
            hold.iter().any(|f| f
                .message
                .contains("received 1000.000 (of which 1000.000 bought)")),
            "{hold:#?}"
        );
        // Purchases are not the charity's own costs: 1000.00 of 110000.00 is 0.90% (truncated).
        let share = of(FindingKind::ExpenseShare);
        let money_share = share
            .iter()
            .find(|f| f.message.starts_with("CNY"))
            .expect("a CNY share");
        assert!(
            money_share
                .message
                .contains("expenses are 1000.00 of 110000.00 received (0.90%)"),
            "{}",
            money_share.message
        );
        assert!(money_share.message.contains("85000.00 bought goods"));
        assert!(of(FindingKind::ExpenseShareHigh).is_empty(), "{all:#?}");
        assert!(
            !all.iter().any(
                |f| matches!(f.section, Section::Balances | Section::Spending)
                    && f.severity > Severity::Info
            ),
            "{all:#?}"
        );
    }

    #[test]
    fn a_purchase_whose_draws_disagree_with_what_it_paid_is_a_mismatch() {
        let mut ledger = test_log::ledger();
        // Books that lost one draw of the pool purchase (as a corrupt store would).
        let i = ledger
            .books
            .draws
            .iter()
            .position(|d| d.by == test_log::seq::POOL_PURCHASE)
            .expect("a draw of the pool purchase");
        let lost = ledger.books.draws.remove(i);
        if let Some(lot) = ledger
            .books
            .lots
            .get_mut(&lost.donation)
            .map(std::sync::Arc::make_mut)
        {
            lot.expensed -= lost.units;
        }
        let all = findings(&ledger);
        let mismatch: Vec<&Finding> = all
            .iter()
            .filter(|f| f.kind == FindingKind::BalanceMismatch)
            .collect();
        assert_eq!(mismatch.len(), 1, "{all:#?}");
        assert!(
            mismatch[0]
                .message
                .contains("purchases paid 85000.00 but draw"),
            "{}",
            mismatch[0].message
        );
    }
}
