//! `givetrail export --format ledger`: the demo's books as an hledger / ledger-cli journal whose
//! balances, computed by hledger, equal the public summary's totals; ledger-cli reads it too.
//! The demo buys protective suits with donated money: the purchase converts money into goods at
//! the price paid, so the journal balances to zero at cost (`-B`).

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

use common::*;
use serde_json::Value;

/// A decimal string (at most 3 decimals, as every asset has) in thousandths.
fn milli(text: &str) -> i128 {
    let (negative, digits) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    assert!(fraction.len() <= 3, "more than 3 decimals: {text}");
    let v: i128 = format!("{whole}{fraction:0<3}")
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal: {text:?}"));
    if negative {
        -v
    } else {
        v
    }
}

fn commodity(asset: &Value) -> String {
    match asset["currency"].as_str() {
        Some(c) => c.to_owned(),
        None => ["item", "spec", "unit"]
            .iter()
            .filter_map(|k| asset[*k].as_str())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[test]
fn ledger_export_of_the_demo_balances_to_the_summary_in_hledger_and_ledger() {
    let s = Server::demo();
    let orgs = s.get("/organizations");
    assert_eq!(orgs.status, 200, "{:?}", orgs.body);
    let ids: Vec<String> = orgs.body["organizations"]
        .as_array()
        .expect("organisations")
        .iter()
        .filter_map(|o| o["id"].as_str().map(str::to_owned))
        .collect();
    assert!(!ids.is_empty());
    let mut postings = 0;
    for org in &ids {
        let file = s.db.dir.join(format!("{org}.journal"));
        let path = file.to_string_lossy().into_owned();
        let (ok, _, err) = s.db.cli(&[
            "export", "--org", org, "--format", "ledger", "--output", &path,
        ]);
        assert!(ok, "export failed: {err}");
        postings += std::fs::read_to_string(&file)
            .expect("journal")
            .lines()
            .filter(|l| l.starts_with("    "))
            .count();

        let out = Command::new("hledger")
            .args(["-f", &path, "bal", "--layout=bare", "-O", "csv", "--flat"])
            .arg("-N")
            .output()
            .expect("hledger must be installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "hledger: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut balances: BTreeMap<(String, String), i128> = BTreeMap::new();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            let r = record.expect("hledger csv");
            balances.insert((r[0].to_owned(), r[1].to_owned()), milli(&r[2]));
        }
        let summary = s.get(&format!("/organizations/{org}/summary"));
        assert_eq!(summary.status, 200, "{:?}", summary.body);
        for a in summary.body["assets"].as_array().expect("assets") {
            let c = commodity(&a["asset"]);
            // The balance of an account and its subaccounts, in this commodity.
            let got = |account: &str| -> i128 {
                balances
                    .iter()
                    .filter(|((name, commodity), _)| {
                        *commodity == c
                            && (name == account || name.starts_with(&format!("{account}:")))
                    })
                    .map(|(_, v)| v)
                    .sum()
            };
            let want = |field: &str| milli(a[field].as_str().expect(field));
            // Goods bought were received by buying them, not given.
            assert_eq!(
                got("income:donations"),
                -(want("received") - want("purchased")),
                "{org} {c}"
            );
            assert_eq!(
                got(&format!("assets:{org}:unallocated")),
                want("unallocated"),
                "{org} {c}"
            );
            assert_eq!(
                got(&format!("assets:{org}:allocated")),
                want("undisbursed"),
                "{org} {c}"
            );
            assert_eq!(got("expenses:disbursed"), want("disbursed"), "{org} {c}");
            assert_eq!(got("expenses:costs"), want("expenses"), "{org} {c}");
        }

        // ledger-cli reads the same journal, and every transaction balances (total 0 at cost:
        // a purchase turns money into goods at the price paid).
        let out = Command::new("ledger")
            .args(["-f", &path, "bal", "-B"])
            .output()
            .expect("ledger must be installed (.ci/run installs it)");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "ledger: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text.lines().last().map(str::trim), Some("0"), "{text}");
    }
    assert!(postings > 0, "the demo has postings");
}
