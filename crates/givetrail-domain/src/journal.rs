//! Plain-text accounting: an organisation's live log as an hledger / ledger-cli journal, so its
//! books can be checked with tools accountants already trust (`hledger -f x.journal bal`).
//!
//! Every transaction balances per commodity (a currency, or one kind of goods):
//! - a donation: `assets:<org>:unallocated:<asset>` from `income:donations`;
//! - an allocation: `assets:<org>:allocated:<recipient>` from `assets:<org>:unallocated:<asset>`;
//! - a disbursement: `expenses:disbursed:<recipient>` from `assets:<org>:allocated:<recipient>`;
//! - an expense: `expenses:costs` from `assets:<org>:unallocated:<asset>`;
//! - a purchase: `assets:<org>:unallocated:<goods>` from `assets:<org>:unallocated:<currency>`,
//!   the goods priced at what was paid (`1000 "protective suit …" @@ 50000.00 CNY`), so the
//!   money becomes the goods commodity and the goods then flow on like donated goods.
//!
//! So the balances equal the public summary: `income:donations` is −received (of donations:
//! goods bought were not given, so they are received only through their purchase), the
//! unallocated accounts hold what is unallocated, the allocated accounts what is undisbursed.
//! A purchase balances at its cost, so the journal's total is zero at cost (`hledger bal -B`,
//! `ledger bal -B`); without `-B` the money paid and the goods bought remain as two commodities.
//! Campaigns, acknowledgements and usage reports move nothing and are left out; corrected
//! entries appear as corrected (voided ones not at all).

use std::fmt::Write as _;

use crate::asset::AssetWire;
use crate::disclosure::Ledger;
use crate::entry::{Fact, ProcurementBody};

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

/// A purchase: the goods, at the price paid, from the money.
fn purchase(org: &str, p: &ProcurementBody) -> (String, String) {
    let what = format!(
        "purchase from {} (invoice {})",
        p.supplier.name, p.invoice_reference
    );
    let (c, q) = (commodity(&p.goods), quantity(&p.goods));
    let (m, paid) = (commodity(&p.paid), quantity(&p.paid));
    let postings = format!(
        "    assets:{org}:unallocated:{}  {q} {c} @@ {paid} {m}\n    assets:{org}:unallocated:{}  -{paid} {m}\n",
        asset_segment(&p.goods),
        asset_segment(&p.paid),
    );
    (what, postings)
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
            Fact::Procurement(p) => {
                let (what, postings) = purchase(&org, p);
                let _ = writeln!(
                    out,
                    "{} * ({}) {}\n{postings}",
                    f.occurred_at.format("%Y-%m-%d"),
                    f.seq,
                    clean(&what, &[';', '#'])
                );
                continue;
            }
            Fact::Campaign(_)
            | Fact::Acknowledgement(_)
            | Fact::Usage(_)
            | Fact::Correction(_)
            | Fact::Disclosure(_) => continue,
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

#[cfg(test)]
mod purchase_tests {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    use super::*;
    use crate::disclosure::test_log;

    const SUITS: &str = "protective suit GB 19082-2009 set";
    const MASKS: &str = "N95 respirator GB 19083-2010 piece";

    fn run(tool: &str, args: &[&str], file: &Path) -> Output {
        Command::new(tool)
            .arg("-f")
            .arg(file)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool} must be installed (.ci/run installs it): {e}"))
    }

    fn last_line(out: &Output) -> String {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    struct Journal(PathBuf);

    impl Journal {
        fn new(name: &str, text: &str) -> Journal {
            let dir = std::env::temp_dir().join(format!(
                "givetrail-journal-unit-{}-{name}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("a temporary folder");
            let file = dir.join("books.journal");
            std::fs::write(&file, text).expect("written");
            Journal(file)
        }
    }

    impl Drop for Journal {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[test]
    fn a_purchase_turns_money_into_goods_at_the_price_paid() {
        let ledger = test_log::ledger();
        let text = journal(&ledger);
        let org = test_log::ORG;
        assert!(
            text.contains(&format!(
                "    assets:{org}:unallocated:{SUITS}  1000.000 \"{SUITS}\" @@ 50000.00 CNY\n    assets:{org}:unallocated:CNY  -50000.00 CNY\n"
            )),
            "{text}"
        );
        assert!(text.contains("purchase from 某某防护用品有限公司 (invoice FP-0001)"));
        assert!(
            !text.contains("FP-0003"),
            "a voided purchase is left out: {text}"
        );
        let file = Journal::new("books", &text);

        // hledger accepts it (every transaction balances) and its balances are the books'.
        let out = run(
            "hledger",
            &["bal", "--layout=bare", "-O", "csv", "--flat", "-N"],
            &file.0,
        );
        assert!(
            out.status.success(),
            "hledger: {}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut balances: BTreeMap<(String, String), String> = BTreeMap::new();
        let csv_text = String::from_utf8_lossy(&out.stdout).into_owned();
        for r in csv::Reader::from_reader(csv_text.as_bytes()).records() {
            let r = r.expect("hledger's CSV");
            balances.insert((r[0].to_owned(), r[1].to_owned()), r[2].to_owned());
        }
        let got = |account: &str, commodity: &str| {
            balances
                .get(&(account.to_owned(), commodity.to_owned()))
                .cloned()
                .unwrap_or_else(|| panic!("{account} in {commodity}: {csv_text}"))
        };
        let unallocated = |what: &str| format!("assets:{org}:unallocated:{what}");
        // 110000.00 − 20000.00 allocated − 1000.00 costs − 85000.00 of purchases.
        assert_eq!(got(&unallocated("CNY"), "CNY"), "4000.00");
        assert_eq!(got(&unallocated(SUITS), SUITS), "400.000");
        assert_eq!(got(&unallocated(MASKS), MASKS), "500.000");
        // Purchases are not the charity's costs; the goods bought flow on to the recipient.
        assert_eq!(got(COSTS, "CNY"), "1000.00");
        assert_eq!(
            got(&format!("{DISBURSED}:{}", test_log::HOSPITAL), SUITS),
            "600.000"
        );
        assert_eq!(got(INCOME, "CNY"), "-110000.00");
        assert!(
            !balances.keys().any(|(a, c)| a == INCOME && c != "CNY"),
            "nothing bought was donated: {csv_text}"
        );
        // At cost, everything balances to zero.
        let out = run("hledger", &["bal", "-B", "--flat"], &file.0);
        assert!(out.status.success());
        assert_eq!(
            last_line(&out),
            "0",
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // ledger-cli reads the same journal and agrees.
        let out = run("ledger", &["bal"], &file.0);
        assert!(
            out.status.success(),
            "ledger: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run("ledger", &["bal", "-B"], &file.0);
        assert!(out.status.success());
        assert_eq!(
            last_line(&out),
            "0",
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );

        // A purchase priced at other than what left the money account does not balance, and
        // both tools say so.
        let mispriced = Journal::new(
            "mispriced",
            &text.replace("@@ 50000.00 CNY", "@@ 49000.00 CNY"),
        );
        assert!(!run("hledger", &["bal"], &mispriced.0).status.success());
        assert!(!run("ledger", &["bal"], &mispriced.0).status.success());
    }
}
