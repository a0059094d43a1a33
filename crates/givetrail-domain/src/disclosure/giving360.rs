//! 360Giving Data Standard 1.4 export: every money disbursement as a grant.
//!
//! Only disbursements are grants. A purchase (`procurement.made`) pays a supplier for goods, so
//! it is not a grant, and neither are the charity's own expenses; the goods bought, once
//! disbursed, are goods, exported as donated goods are (not here: 360Giving amounts are money).
//!
//! 360Giving amounts are JSON numbers. They are written as the exact decimal text of the
//! amount (a raw JSON number token), so no value ever passes through a float.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::entry::Fact;

use super::iati::{campaign_of_lot, org_ref};
use super::{flows, Directory, Ledger, Party};

/// Prefix of grant identifiers (`360G-givetrail-<org>-<seq>`).
pub const GRANT_PREFIX: &str = "360G-givetrail";

/// An organisation in a grant.
#[derive(Debug, Clone, Serialize)]
pub struct Organization {
    /// Organisation identifier.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A grant programme (our campaign).
#[derive(Debug, Clone, Serialize)]
pub struct GrantProgramme {
    /// Campaign slug.
    pub code: String,
    /// Campaign title.
    pub title: String,
}

/// One grant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    /// `360G-givetrail-<org>-<seq of the disbursement>`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount, exact.
    pub amount_awarded: Box<RawValue>,
    /// Amount paid, exact.
    pub amount_disbursed: Box<RawValue>,
    /// When the allocation was decided.
    pub award_date: String,
    /// The receiving unit.
    pub recipient_organization: Vec<Organization>,
    /// The giving charity.
    pub funding_organization: Vec<Organization>,
    /// Campaigns whose donations paid for it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grant_programme: Vec<GrantProgramme>,
    /// When it became public.
    pub date_modified: String,
}

/// A 360Giving package.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    /// Grants.
    pub grants: Vec<Grant>,
}

fn party_id(p: &Party, what: &str) -> String {
    org_ref(p).unwrap_or_else(|| format!("{GRANT_PREFIX}-{what}-{}", p.id))
}

fn number(text: &str) -> Box<RawValue> {
    // Amounts are formatted by `AssetKey::format`: plain decimals, always valid JSON numbers.
    RawValue::from_string(text.to_owned()).unwrap_or_default()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The 360Giving package of one organisation's money disbursements.
pub fn export(ledger: &Ledger, directory: &Directory) -> Package {
    let me = &ledger.organization;
    let funder = Organization {
        id: party_id(me, "org"),
        name: me.name.clone(),
    };
    let shares = flows::shares(ledger);
    let grants = ledger
        .books
        .disbursements
        .values()
        .filter(|d| d.live && d.asset.is_money())
        .filter_map(|d| {
            let f = ledger.fact(d.seq)?;
            let Fact::Disbursement(body) = &f.fact else {
                return None;
            };
            let allocation = ledger.fact(d.allocation)?;
            let purpose = match &allocation.fact {
                Fact::Allocation(a) => a.purpose.clone(),
                _ => String::new(),
            };
            let recipient = directory.get(d.recipient.as_str());
            let recipient_name =
                recipient.map_or_else(|| d.recipient.to_string(), |r| r.name.clone());
            let mut programmes: Vec<String> = shares
                .iter()
                .filter(|s| s.disbursement == d.seq)
                .filter_map(|s| campaign_of_lot(ledger, s.lot))
                .collect();
            programmes.sort();
            programmes.dedup();
            let amount = d.asset.format(d.units);
            let title: String = format!("{} → {}", me.name, recipient_name)
                .chars()
                .take(139)
                .collect();
            let description = if purpose.is_empty() {
                format!("Disbursement {} ({})", d.seq, body.reference)
            } else {
                format!("{purpose} ({})", body.reference)
            };
            Some(Grant {
                id: format!("{GRANT_PREFIX}-{}-{}", me.id, d.seq),
                title,
                description,
                currency: d.asset.to_key_string(),
                amount_awarded: number(&amount),
                amount_disbursed: number(&amount),
                award_date: stamp(allocation.occurred_at),
                recipient_organization: vec![Organization {
                    id: recipient.map_or_else(
                        || format!("{GRANT_PREFIX}-recipient-{}", d.recipient),
                        |r| party_id(r, "recipient"),
                    ),
                    name: recipient_name,
                }],
                funding_organization: vec![funder.clone()],
                grant_programme: programmes
                    .into_iter()
                    .map(|code| GrantProgramme {
                        title: ledger
                            .live_facts()
                            .find_map(|f| match &f.fact {
                                Fact::Campaign(c) if c.id.as_str() == code => Some(c.title.clone()),
                                _ => None,
                            })
                            .unwrap_or_else(|| code.clone()),
                        code,
                    })
                    .collect(),
                date_modified: stamp(f.recorded_at),
            })
        })
        .collect();
    Package { grants }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::test_log::{self, seq};

    #[test]
    fn purchases_are_not_grants() {
        let ledger = test_log::ledger();
        let package = export(&ledger, &test_log::directory());
        let ids: Vec<&str> = package.grants.iter().map(|g| g.id.as_str()).collect();
        // The one money disbursement; not the purchases (from a donation, from the pool), not
        // the expense, not the goods bought and disbursed.
        assert_eq!(
            ids,
            [format!(
                "{GRANT_PREFIX}-{}-{}",
                test_log::ORG,
                seq::MONEY_DISBURSEMENT
            )],
            "{package:#?}"
        );
        let grant = &package.grants[0];
        assert_eq!(grant.amount_awarded.get(), "20000.00");
        assert_eq!(grant.currency, "CNY");
        let programmes: Vec<&str> = grant
            .grant_programme
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        assert_eq!(programmes, [test_log::CAMPAIGN]);
        let json = serde_json::to_string(&package).expect("JSON");
        for never in ["某某防护用品有限公司", "某某医疗器械有限公司", "FP-0001"]
        {
            assert!(!json.contains(never), "{never} in {json}");
        }
    }
}
