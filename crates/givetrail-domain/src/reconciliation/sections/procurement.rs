//! Procurement: unit prices far above what organisations on Givetrail paid for the same goods
//! around the same time (`procurement_price_outlier`), a fraud signal of 2020.
//!
//! Each live purchase of the period is compared with every other live purchase of the same goods
//! (normalised key), paid in the same currency, by any organisation (this one included), within
//! [`PRICE_WINDOW_DAYS`] days either side. The purchase itself is left out of the comparison set.

use chrono::Duration;
use rust_decimal::Decimal;

use super::{at, day, label_text, Findings};
use crate::disclosure::{AssetLabel, Ledger};
use crate::entry::EntryKind;
use crate::reconciliation::inputs::{Inputs, PurchaseRecord};
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::EntryAt;

/// Days either side of a purchase whose purchases it is compared with.
pub const PRICE_WINDOW_DAYS: i64 = 14;

/// A unit price above this many times the median is an outlier (1.5).
pub fn outlier_ratio() -> Decimal {
    Decimal::new(15, 1)
}

/// The live purchases of a log, with their unit prices.
pub fn purchases(ledger: &Ledger) -> Vec<PurchaseRecord> {
    let org = ledger.organization.id.as_str();
    ledger
        .live_facts_of(EntryKind::ProcurementMade)
        .filter_map(|f| ledger.record(f.seq))
        .filter_map(|r| PurchaseRecord::from_record(org, r))
        .collect()
}

/// The median of a non-empty list (the mean of the middle two for an even count).
pub fn median(mut prices: Vec<Decimal>) -> Option<Decimal> {
    prices.sort();
    let n = prices.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => prices.get(n / 2).copied(),
        _ => Some((prices[n / 2 - 1] + prices[n / 2]) / Decimal::TWO),
    }
}

/// Outliers among this log's purchases of the period.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    let org = ledger.organization.id.as_str();
    let ours = purchases(ledger);
    let window = Duration::days(PRICE_WINDOW_DAYS);
    let all: Vec<&PurchaseRecord> = ours
        .iter()
        .chain(inp.purchases.iter().filter(|p| p.organization != org))
        .collect();
    for p in ours.iter().filter(|p| inp.period.contains(p.occurred_at)) {
        let mut others: Vec<&PurchaseRecord> = all
            .iter()
            .copied()
            .filter(|q| !(q.organization == p.organization && q.seq == p.seq))
            .filter(|q| q.goods == p.goods && q.currency == p.currency)
            .filter(|q| (q.occurred_at - p.occurred_at).abs() <= window)
            .collect();
        let Some(median) = median(others.iter().map(|q| q.unit_price).collect()) else {
            continue;
        };
        if median <= Decimal::ZERO || p.unit_price <= median * outlier_ratio() {
            continue;
        }
        others.sort_by_key(|q| (q.occurred_at, q.organization.clone(), q.seq));
        let ratio = (p.unit_price / median).round_dp(1);
        let elsewhere: Vec<String> = others
            .iter()
            .take(10)
            .map(|q| {
                if q.organization == org {
                    format!("#{} at {}", q.seq, q.unit_price.normalize())
                } else {
                    format!(
                        "{} #{} at {}",
                        q.organization,
                        q.seq,
                        q.unit_price.normalize()
                    )
                }
            })
            .collect();
        let rest = if others.len() > 10 {
            format!(" and {} more", others.len() - 10)
        } else {
            String::new()
        };
        let message = format!(
            "Purchase #{} on {} paid {} {} per unit of {}: {ratio} times the median {} {} of {} other purchases of the same goods within {PRICE_WINDOW_DAYS} days ({}{rest}).",
            p.seq,
            day(p.occurred_at),
            p.unit_price.normalize(),
            p.currency,
            label_text(&AssetLabel::from(&p.goods)),
            median.normalize(),
            p.currency,
            others.len(),
            elsewhere.join(", "),
        );
        let mut entries = vec![at(inp, p.seq)];
        entries.extend(
            others
                .iter()
                .take(10)
                .map(|q| EntryAt::new(&q.organization, q.seq)),
        );
        if let Some(x) = f.add(FindingKind::ProcurementPriceOutlier, entries, message) {
            x.asset = Some(AssetLabel::from(&p.goods));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::test_log::{self, seq, ORG};
    use crate::reconciliation::sections::test_report;
    use chrono::{DateTime, TimeZone, Utc};

    fn price(s: &str) -> Decimal {
        s.parse().expect("a decimal")
    }

    /// Another organisation's purchase of the log's protective suits on `d` February.
    fn suits_elsewhere(seq: i64, d: u32, unit_price: &str) -> PurchaseRecord {
        let ledger = test_log::ledger();
        let at: DateTime<Utc> = Utc
            .with_ymd_and_hms(2020, 2, d, 10, 0, 0)
            .single()
            .expect("a date");
        PurchaseRecord {
            organization: "wuhan-charity-federation".into(),
            seq,
            occurred_at: at,
            goods: ledger.books.lots[&seq::PURCHASE].asset.clone(),
            currency: "CNY".into(),
            unit_price: price(unit_price),
        }
    }

    fn outliers(purchases: &[PurchaseRecord]) -> Vec<Vec<EntryAt>> {
        test_report(&test_log::directory(), &[], &[], purchases)
            .into_iter()
            .filter(|f| f.kind == FindingKind::ProcurementPriceOutlier)
            .map(|f| f.entries)
            .collect()
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![]), None);
        assert_eq!(
            median(vec![price("3"), price("1"), price("2")]),
            Some(price("2"))
        );
        assert_eq!(median(vec![price("3"), price("2")]), Some(price("2.5")));
    }

    #[test]
    fn the_log_prices_its_live_purchases_exactly() {
        let ours = purchases(&test_log::ledger());
        let prices: Vec<(i64, Decimal)> = ours.iter().map(|p| (p.seq, p.unit_price)).collect();
        // The voided goggles are left out.
        assert_eq!(
            prices,
            [
                (seq::PURCHASE, price("50")),
                (seq::POOL_PURCHASE, price("70"))
            ]
        );
    }

    #[test]
    fn suits_bought_at_50_are_an_outlier_only_against_prices_below_33_34() {
        // Median 30 (20 and 40): 50 > 45.
        assert_eq!(
            outliers(&[suits_elsewhere(7, 1, "20"), suits_elsewhere(8, 10, "40")]),
            [vec![
                EntryAt::new(ORG, seq::PURCHASE),
                EntryAt::new("wuhan-charity-federation", 7),
                EntryAt::new("wuhan-charity-federation", 8),
            ]]
        );
        // Median 34: 50 ≤ 51.
        assert!(outliers(&[suits_elsewhere(7, 1, "34")]).is_empty());
        // Cheaper, but more than 14 days away, or in another currency: nothing to compare.
        assert!(outliers(&[suits_elsewhere(7, 20, "10")]).is_empty());
        let mut dollars = suits_elsewhere(7, 3, "1");
        dollars.currency = "USD".into();
        assert!(outliers(&[dollars]).is_empty());
    }
}
