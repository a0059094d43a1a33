//! IATI Activity Standard 2.03 export: one activity per campaign (and one for money received
//! outside any campaign), `humanitarian="1"` for emergency appeals, and transactions of type
//! 1 (incoming funds: donations), 2 (outgoing commitment: allocations), 3 (disbursement) and
//! 4 (expenditure: the charity's own expenses, goods bought with donated money, and the
//! recipients' reported use).
//!
//! A purchase (`procurement.made`) is an expenditure of the activity whose money paid for it,
//! valued at what was paid, with the supplier as receiver and its invoice in the description.
//! The goods it bought are goods, so their allocations and disbursements are not exported here.
//!
//! IATI values are money, so goods flows are not exported here (they are in the CSV and JSON
//! feeds). Flows drawing on several campaigns' donations are split between their activities by
//! the oldest-first attribution of [`super::flows`].

use chrono::{DateTime, SecondsFormat, Utc};
use std::collections::BTreeMap;
use std::fmt::Write;

use crate::asset::{AssetKey, AssetWire};
use crate::entry::{Fact, ProcurementBody, Seq};

use super::flows;
use super::{Directory, Ledger, Party};

/// Prefix of organisation identifiers built from a unified social credit code.
pub const CREDIT_CODE_PREFIX: &str = "CN-USCC-";

/// The IATI/org-id style identifier of a registered party, when it has a credit code.
pub fn org_ref(p: &Party) -> Option<String> {
    p.credit_code
        .as_ref()
        .map(|c| format!("{CREDIT_CODE_PREFIX}{c}"))
}

/// IATI `OrganisationType` code of a party kind.
pub fn org_type(kind: &str) -> &'static str {
    match kind {
        "foundation" => "60",
        "red_cross" | "charity_federation" | "social_organization" | "charity" => "22",
        "hospital" | "welfare_institution" => "15",
        "government_agency" => "10",
        _ => "90",
    }
}

/// Escape text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The campaign a donation belongs to.
pub fn campaign_of_lot(ledger: &Ledger, lot: Seq) -> Option<String> {
    ledger
        .books
        .lots
        .get(&lot)
        .and_then(|l| l.campaign.as_ref().map(|c| c.to_string()))
}

struct Transaction {
    code: &'static str,
    at: DateTime<Utc>,
    seq: Seq,
    key: AssetKey,
    units: i64,
    description: String,
    provider: Option<(Option<String>, String)>,
    receiver: Option<(Option<String>, String)>,
}

fn party_ref(directory: &Directory, id: &str) -> (Option<String>, String) {
    match directory.get(id) {
        Some(p) => (org_ref(p), p.name.clone()),
        None => (None, id.to_owned()),
    }
}

fn org_xml(
    tag: &str,
    who: &Option<(Option<String>, String)>,
    out: &mut impl Write,
) -> std::fmt::Result {
    if let Some((r, name)) = who {
        let r = r
            .as_ref()
            .map(|r| format!(" ref=\"{}\"", xml_escape(r)))
            .unwrap_or_default();
        write!(
            out,
            "<{tag}{r}><narrative>{}</narrative></{tag}>",
            xml_escape(name)
        )?;
    }
    Ok(())
}

/// The receiver of a purchase: its supplier, with its credit code as an identifier if given.
fn supplier_ref(p: &ProcurementBody) -> (Option<String>, String) {
    (
        p.supplier
            .credit_code
            .as_ref()
            .map(|c| format!("{CREDIT_CODE_PREFIX}{}", c.as_str())),
        p.supplier.name.clone(),
    )
}

/// `采购 (purchase) 1000 set protective suit (GB 19082-2009), 发票 (invoice) FP-0001`.
fn purchase_description(p: &ProcurementBody) -> String {
    let goods = match p.goods.parse() {
        Ok(g) => g.describe(),
        Err(_) => match &p.goods {
            AssetWire::Goods { item, .. } => item.clone(),
            AssetWire::Money { .. } => String::new(),
        },
    };
    format!(
        "采购 (purchase) {goods}, 发票 (invoice) {}",
        p.invoice_reference
    )
}

fn date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// Money transactions of the log, grouped by campaign (`None`: outside any campaign).
fn transactions(
    ledger: &Ledger,
    directory: &Directory,
) -> BTreeMap<Option<String>, Vec<Transaction>> {
    let me = &ledger.organization;
    let me_ref = (org_ref(me), me.name.clone());
    let mut out: BTreeMap<Option<String>, Vec<Transaction>> = BTreeMap::new();
    let money = |lot: Seq| {
        ledger
            .books
            .lots
            .get(&lot)
            .filter(|l| l.asset.is_money())
            .map(|l| l.asset.clone())
    };
    for lot in ledger
        .books
        .lots
        .values()
        .filter(|l| l.live && l.asset.is_money())
    {
        let Some(f) = ledger.fact(lot.seq) else {
            continue;
        };
        let Fact::Donation(d) = &f.fact else { continue };
        let donor = d
            .donor
            .display_name
            .clone()
            .unwrap_or_else(|| "匿名捐赠人 (anonymous donor)".to_owned());
        out.entry(campaign_of_lot(ledger, lot.seq))
            .or_default()
            .push(Transaction {
                code: "1",
                at: f.occurred_at,
                seq: lot.seq,
                key: lot.asset.clone(),
                units: lot.received,
                description: format!("{} {}", d.receipt_number, donor),
                provider: Some((None, donor)),
                receiver: Some(me_ref.clone()),
            });
    }
    // Allocations (2), expenses and purchases (4): their draws, summed per campaign (a purchase
    // from the pool may be paid by several campaigns' donations).
    let mut drawn: BTreeMap<(Seq, Option<String>), (AssetKey, i64, bool)> = BTreeMap::new();
    for d in flows::live_draws(ledger) {
        let Some(key) = money(d.donation) else {
            continue;
        };
        let e = drawn
            .entry((d.by, campaign_of_lot(ledger, d.donation)))
            .or_insert((key, 0, d.expense));
        e.1 += d.units;
    }
    for ((by, campaign), (key, units, expense)) in drawn {
        let Some(f) = ledger.fact(by) else { continue };
        let (code, description, receiver) = match &f.fact {
            Fact::Allocation(a) if !expense => (
                "2",
                a.purpose.clone(),
                Some(party_ref(directory, a.recipient.as_str())),
            ),
            Fact::Expense(e) if expense => ("4", e.description.clone(), None),
            Fact::Procurement(p) if expense => {
                ("4", purchase_description(p), Some(supplier_ref(p)))
            }
            _ => continue,
        };
        out.entry(campaign).or_default().push(Transaction {
            code,
            at: f.occurred_at,
            seq: by,
            key,
            units,
            description,
            provider: Some(me_ref.clone()),
            receiver,
        });
    }
    // Disbursements (3) and recipients' reported use (4), per campaign through the shares.
    let mut sent: BTreeMap<(Seq, Option<String>), (AssetKey, i64)> = BTreeMap::new();
    let mut used: BTreeMap<(Seq, Option<String>), (AssetKey, i64)> = BTreeMap::new();
    for s in flows::shares(ledger) {
        let Some(key) = money(s.lot) else { continue };
        let campaign = campaign_of_lot(ledger, s.lot);
        sent.entry((s.disbursement, campaign.clone()))
            .or_insert((key.clone(), 0))
            .1 += s.units;
        for &(useq, u) in &s.usages {
            used.entry((useq, campaign.clone()))
                .or_insert((key.clone(), 0))
                .1 += u;
        }
    }
    for (code, map) in [("3", sent), ("4", used)] {
        for ((seq, campaign), (key, units)) in map {
            let Some(f) = ledger.fact(seq) else { continue };
            let (description, provider, receiver) = match &f.fact {
                Fact::Disbursement(d) => (
                    d.reference.clone(),
                    Some(me_ref.clone()),
                    Some(party_ref(directory, d.recipient.as_str())),
                ),
                Fact::Usage(u) => (
                    u.description.clone(),
                    Some(party_ref(directory, u.recipient.as_str())),
                    None,
                ),
                _ => continue,
            };
            out.entry(campaign).or_default().push(Transaction {
                code,
                at: f.occurred_at,
                seq,
                key,
                units,
                description,
                provider,
                receiver,
            });
        }
    }
    for v in out.values_mut() {
        v.sort_by_key(|t| (t.at, t.seq, t.code));
    }
    out
}

/// An IATI activity: a campaign, or the gifts outside any campaign.
struct Activity {
    campaign: Option<String>,
    title: String,
    description: String,
    emergency: bool,
    starts: DateTime<Utc>,
    ends: Option<DateTime<Utc>>,
}

/// The IATI 2.03 `iati-activities` document of one organisation's log.
pub fn export(ledger: &Ledger, directory: &Directory, generated_at: DateTime<Utc>) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_export(ledger, directory, generated_at, &mut out);
    out
}

/// Write the IATI document to `out` as it is made, so a caller can stream it (a sink that fails,
/// such as a client gone away, stops the export).
pub fn write_export(
    ledger: &Ledger,
    directory: &Directory,
    generated_at: DateTime<Utc>,
    out: &mut impl Write,
) -> std::fmt::Result {
    let me = &ledger.organization;
    let me_ref = org_ref(me).unwrap_or_else(|| format!("XI-GIVETRAIL-{}", me.id));
    let mut tx = transactions(ledger, directory);
    let last_updated = ledger
        .records
        .last()
        .map_or(generated_at, |r| r.recorded_at);
    out.write_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")?;
    // The document is generated from the log as it stood when its newest entry was published:
    // the same version of the log gives the same bytes (with the same campaigns ended by
    // `generated_at`), which is what lets the server answer it with a strong validator.
    writeln!(
        out,
        "<iati-activities version=\"2.03\" generated-datetime=\"{}\">",
        last_updated.to_rfc3339_opts(SecondsFormat::Secs, true)
    )?;
    let mut activities: Vec<Activity> = ledger
        .live_facts()
        .filter_map(|f| match &f.fact {
            Fact::Campaign(c) => Some(Activity {
                campaign: Some(c.id.to_string()),
                title: c.title.clone(),
                description: if c.purpose.is_empty() {
                    c.title.clone()
                } else {
                    c.purpose.clone()
                },
                emergency: c.emergency,
                starts: c.starts_at,
                ends: c.ends_at,
            }),
            _ => None,
        })
        .collect();
    if tx.contains_key(&None) || activities.is_empty() {
        let first = ledger
            .records
            .front()
            .map_or(generated_at, |r| r.occurred_at);
        activities.push(Activity {
            campaign: None,
            title: format!(
                "{}：募捐活动以外的捐赠 (gifts outside any campaign)",
                me.name
            ),
            description: format!("{} 收到的不属于任何募捐活动的捐赠及其去向。", me.name),
            emergency: false,
            starts: first,
            ends: None,
        });
    }
    for Activity {
        campaign: id,
        title,
        description,
        emergency,
        starts,
        ends,
    } in activities
    {
        let suffix = id.clone().unwrap_or_else(|| "general".to_owned());
        write!(
            out,
            "  <iati-activity last-updated-datetime=\"{}\" xml:lang=\"zh\" default-currency=\"CNY\" humanitarian=\"{}\">\n    <iati-identifier>{}-{}</iati-identifier>\n",
            last_updated.to_rfc3339_opts(SecondsFormat::Secs, true),
            if emergency { "1" } else { "0" },
            xml_escape(&me_ref),
            xml_escape(&suffix)
        )?;
        write!(
            out,
            "    <reporting-org ref=\"{}\" type=\"{}\"><narrative>{}</narrative></reporting-org>\n    <title><narrative>{}</narrative></title>\n    <description><narrative>{}</narrative></description>\n",
            xml_escape(&me_ref),
            org_type(&me.kind),
            xml_escape(&me.name),
            xml_escape(&title),
            xml_escape(&description)
        )?;
        writeln!(
            out,
            "    <participating-org ref=\"{}\" role=\"4\" type=\"{}\"><narrative>{}</narrative></participating-org>",
            xml_escape(&me_ref),
            org_type(&me.kind),
            xml_escape(&me.name)
        )?;
        let finished = ends.is_some_and(|e| e < generated_at);
        write!(
            out,
            "    <activity-status code=\"{}\"/>\n    <activity-date type=\"2\" iso-date=\"{}\"/>\n",
            if finished { "3" } else { "2" },
            date(starts)
        )?;
        if let Some(e) = ends {
            writeln!(
                out,
                "    <activity-date type=\"{}\" iso-date=\"{}\"/>",
                if finished { "4" } else { "3" },
                date(e)
            )?;
        }
        out.write_str("    <recipient-country code=\"CN\"/>\n")?;
        for t in tx.remove(&id).unwrap_or_default() {
            let AssetKey::Money(currency) = &t.key else {
                continue;
            };
            let day = date(t.at);
            write!(
                out,
                "    <transaction ref=\"{}-{}\"><transaction-type code=\"{}\"/><transaction-date iso-date=\"{day}\"/><value currency=\"{}\" value-date=\"{day}\">{}</value>",
                xml_escape(&me.id),
                t.seq,
                t.code,
                currency.code(),
                t.key.format(t.units)
            )?;
            if !t.description.is_empty() {
                write!(
                    out,
                    "<description><narrative>{}</narrative></description>",
                    xml_escape(&t.description)
                )?;
            }
            org_xml("provider-org", &t.provider, out)?;
            org_xml("receiver-org", &t.receiver, out)?;
            out.write_str("</transaction>\n")?;
        }
        out.write_str("  </iati-activity>\n")?;
    }
    out.write_str("</iati-activities>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::disclosure::test_log::{self, seq};

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }

    /// The transactions of the activity whose identifier ends with `-<suffix>`.
    fn activity<'a>(xml: &'a str, suffix: &str) -> Vec<&'a str> {
        let tail = format!("-{suffix}</iati-identifier>");
        let part = xml
            .split("<iati-activity ")
            .find(|a| a.contains(&tail))
            .unwrap_or_else(|| panic!("an activity {suffix}: {xml}"));
        part.lines()
            .filter(|l| l.trim_start().starts_with("<transaction "))
            .collect()
    }

    fn transaction<'a>(transactions: &[&'a str], seq: Seq) -> Vec<&'a str> {
        let tag = format!("<transaction ref=\"{}-{seq}\">", test_log::ORG);
        transactions
            .iter()
            .copied()
            .filter(|t| t.contains(&tag))
            .collect()
    }

    #[test]
    fn a_purchase_is_an_expenditure_paid_to_its_supplier() {
        let ledger = test_log::ledger();
        let at = ledger.records.last().map(|r| r.recorded_at).expect("a log");
        let xml = export(&ledger, &test_log::directory(), at);
        let campaign = activity(&xml, test_log::CAMPAIGN);
        let bought = transaction(&campaign, seq::PURCHASE);
        assert_eq!(bought.len(), 1, "{xml}");
        let t = bought[0];
        assert!(t.contains("<transaction-type code=\"4\"/>"), "{t}");
        assert!(
            t.contains("<value currency=\"CNY\" value-date=\"2020-02-03\">50000.00</value>"),
            "{t}"
        );
        assert!(
            t.contains(&format!(
                "<receiver-org ref=\"CN-USCC-{}\"><narrative>某某防护用品有限公司</narrative></receiver-org>",
                test_log::supplier_credit_code()
            )),
            "{t}"
        );
        assert!(t.contains("FP-0001"), "the invoice: {t}");
        assert!(t.contains("protective suit"), "{t}");
        // The charity's own expense is still type 4, the goods' allocation is not exported.
        assert!(transaction(&campaign, seq::EXPENSE)[0].contains("code=\"4\""));
        assert!(transaction(&campaign, seq::GOODS_ALLOCATION).is_empty());
        assert!(transaction(&campaign, seq::GOODS_DISBURSEMENT).is_empty());
        // From the pool: 29000.00 of the campaign's donation, 6000.00 of the gift outside it;
        // a supplier without a credit code is named only.
        let pool = transaction(&campaign, seq::POOL_PURCHASE);
        assert_eq!(pool.len(), 1, "{xml}");
        assert!(pool[0].contains(">29000.00</value>"), "{}", pool[0]);
        assert!(pool[0].contains("<receiver-org><narrative>某某医疗器械有限公司</narrative>"));
        let general = activity(&xml, "general");
        let rest = transaction(&general, seq::POOL_PURCHASE);
        assert_eq!(rest.len(), 1, "{xml}");
        assert!(rest[0].contains("code=\"4\""), "{}", rest[0]);
        assert!(rest[0].contains(">6000.00</value>"), "{}", rest[0]);
        // A voided purchase is not exported.
        assert!(
            !xml.contains(&format!("-{}\">", seq::VOIDED_PURCHASE)),
            "{xml}"
        );
        validate(&xml);
    }

    /// The export is valid against the vendored IATI 2.03 schema (`xmllint`, from Debian's
    /// libxml2-utils, as the export tests over HTTP use).
    fn validate(xml: &str) {
        let schema = std::env::current_dir()
            .expect("a working directory")
            .join("../../vendor/standards/iati-2.03/iati-activities-schema.xsd");
        assert!(schema.exists(), "the schema at {}", schema.display());
        let dir = std::env::temp_dir().join(format!("givetrail-iati-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let file = dir.join("iati.xml");
        std::fs::write(&file, xml).expect("written");
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(&schema)
            .arg(&file)
            .output()
            .expect("xmllint is installed (Debian libxml2-utils; .ci/run installs it)");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "IATI export is valid: {}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
