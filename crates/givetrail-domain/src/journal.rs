//! Plain-text accounting: an organisation's live log as an hledger / ledger-cli journal, so its
//! books can be checked with tools accountants already trust (`hledger -f x.journal bal`).
//!
//! Every transaction balances per commodity (a currency, or one kind of goods):
//! - a donation: `assets:<org>:unallocated:<asset>` from `income:donations`;
//! - an allocation: `assets:<org>:allocated:<recipient>` from `assets:<org>:unallocated:<asset>`;
//! - a disbursement: `expenses:disbursed:<recipient>` from `assets:<org>:allocated:<recipient>`;
//! - an expense: `expenses:costs` from `assets:<org>:unallocated:<asset>`.
//!
//! So the balances equal the public summary: `income:donations` is −received, the unallocated
//! accounts hold what is unallocated, the allocated accounts what is undisbursed.
//! Campaigns, acknowledgements and usage reports move nothing and are left out; corrected
//! entries appear as corrected (voided ones not at all).

use std::fmt::Write as _;

use crate::asset::AssetWire;
use crate::disclosure::Ledger;
use crate::entry::Fact;

/// Account of what was received.
pub const INCOME: &str = "income:donations";
/// Account of what was disbursed, per recipient (`expenses:disbursed:<recipient>`).
pub const DISBURSED: &str = "expenses:disbursed";
/// Account of the charity's own costs.
pub const COSTS: &str = "expenses:costs";

/// The commodity of an asset: the currency code, or the goods kind quoted (`"N95 respirator
/// GB 19083-2010 piece"`).
pub fn commodity(asset: &AssetWire) -> String {
    match asset {
        AssetWire::Money { currency, .. } => {
            currency.chars().filter(char::is_ascii_alphabetic).collect()
        }
        AssetWire::Goods {
            item, spec, unit, ..
        } => {
            let words = [item.as_str(), spec.as_str(), unit.as_str()]
                .into_iter()
                .filter(|w| !w.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            format!("\"{}\"", clean(&words, &['"']))
        }
    }
}

/// An account name segment: no `:` (the separator), no characters the journal formats treat
/// specially, single spaces only (two spaces end an account name).
fn segment(text: &str) -> String {
    let s = clean(text, &[':', ';', '(', ')', '[', ']', '"', '@', '*', '!']);
    if s.is_empty() {
        "-".into()
    } else {
        s
    }
}

/// `text` on one line with single spaces, `forbidden` characters replaced by `-`.
fn clean(text: &str, forbidden: &[char]) -> String {
    let replaced: String = text
        .chars()
        .map(|c| {
            if forbidden.contains(&c) {
                '-'
            } else if c.is_control() || c.is_whitespace() {
                ' '
            } else {
                c
            }
        })
        .collect();
    replaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn quantity(asset: &AssetWire) -> &str {
    match asset {
        AssetWire::Money { amount, .. } => amount,
        AssetWire::Goods { quantity, .. } => quantity,
    }
}

/// The asset's account segment (`CNY`, or the goods kind).
fn asset_segment(asset: &AssetWire) -> String {
    match asset {
        AssetWire::Money { .. } => commodity(asset),
        AssetWire::Goods { .. } => segment(commodity(asset).trim_matches('"')),
    }
}

/// The journal of `ledger`'s live entries, in seq order.
pub fn journal(ledger: &Ledger) -> String {
    let org = segment(&ledger.organization.id);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; Givetrail journal of {} ({}), live entries in log order; the code is the entry's seq.\n",
        clean(&ledger.organization.name, &[]),
        ledger.organization.id
    );
    for f in ledger.live_facts() {
        let (what, to, from, asset) = match &f.fact {
            Fact::Donation(d) => (
                format!("donation {}", d.receipt_number),
                format!("assets:{org}:unallocated:{}", asset_segment(&d.asset)),
                INCOME.to_owned(),
                &d.asset,
            ),
            Fact::Allocation(a) => (
                format!("allocation to {}", a.recipient),
                format!("assets:{org}:allocated:{}", segment(a.recipient.as_str())),
                format!("assets:{org}:unallocated:{}", asset_segment(&a.asset)),
                &a.asset,
            ),
            Fact::Disbursement(d) => (
                format!("disbursement to {} ({})", d.recipient, d.reference),
                format!("{DISBURSED}:{}", segment(d.recipient.as_str())),
                format!("assets:{org}:allocated:{}", segment(d.recipient.as_str())),
                &d.asset,
            ),
            Fact::Expense(e) => (
                format!("expense: {}", e.description),
                COSTS.to_owned(),
                format!("assets:{org}:unallocated:{}", asset_segment(&e.asset)),
                &e.asset,
            ),
            _ => continue,
        };
        let c = commodity(asset);
        let q = quantity(asset);
        let _ = writeln!(
            out,
            "{} * ({}) {}\n    {to}  {q} {c}\n    {from}  -{q} {c}\n",
            f.occurred_at.format("%Y-%m-%d"),
            f.seq,
            clean(&what, &[';', '#'])
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_for_the_journal_formats() {
        assert_eq!(segment("a:b;  c\n(d)"), "a-b- c -d-");
        let goods = AssetWire::Goods {
            item: "N95 \"respirator\"".into(),
            spec: "GB 19083-2010".into(),
            unit: "piece".into(),
            quantity: "1.000".into(),
            declared_value: None,
        };
        assert_eq!(
            commodity(&goods),
            "\"N95 -respirator- GB 19083-2010 piece\""
        );
        assert_eq!(
            asset_segment(&goods),
            "N95 -respirator- GB 19083-2010 piece"
        );
        let money = AssetWire::Money {
            amount: "1.00".into(),
            currency: "CNY".into(),
        };
        assert_eq!(commodity(&money), "CNY");
    }
}
