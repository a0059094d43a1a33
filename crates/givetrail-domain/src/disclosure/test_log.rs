//! A small public log for the reports' unit tests: money donated, goods bought with it (from one
//! donation and from the pool), those goods allocated, disbursed and acknowledged, money
//! allocated and disbursed, an expense, and a purchase voided.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

use crate::disclosure::{Directory, Ledger, Party, Record};
use crate::entry::{Author, Command, CorrectionRequest, Fact, Role};
use crate::ids::{credit_code_check_char, RegionCode, Slug};
use crate::ledger::{execute, Context, MemoryBooks, OrgContext, RecipientInfo};

/// The organisation's slug.
pub(crate) const ORG: &str = "hubei-charity";
/// The recipient of the goods and the money.
pub(crate) const HOSPITAL: &str = "wuhan-union-hospital";
/// The campaign of the first donation.
pub(crate) const CAMPAIGN: &str = "wuhan-2020";

/// Seqs of the log [`ledger`] builds (every entry is named, whether or not a test refers to it).
#[allow(dead_code)]
pub(crate) mod seq {
    use crate::entry::Seq;
    /// `campaign.opened`.
    pub const CAMPAIGN: Seq = 1;
    /// 100000.00 CNY in the campaign.
    pub const DONATION: Seq = 2;
    /// 50000.00 CNY from donation 2 for 1000 protective suits.
    pub const PURCHASE: Seq = 3;
    /// 600 suits to the hospital.
    pub const GOODS_ALLOCATION: Seq = 4;
    /// The 600 suits sent.
    pub const GOODS_DISBURSEMENT: Seq = 5;
    /// The hospital acknowledges 600 suits.
    pub const GOODS_ACKNOWLEDGEMENT: Seq = 6;
    /// 1000.00 CNY of the charity's own costs, from donation 2.
    pub const EXPENSE: Seq = 7;
    /// 20000.00 CNY to the hospital, from donation 2.
    pub const MONEY_ALLOCATION: Seq = 8;
    /// The 20000.00 CNY sent.
    pub const MONEY_DISBURSEMENT: Seq = 9;
    /// 10000.00 CNY outside any campaign.
    pub const SECOND_DONATION: Seq = 10;
    /// 35000.00 CNY from the pool (29000.00 of donation 2, 6000.00 of donation 10) for 500
    /// respirators.
    pub const POOL_PURCHASE: Seq = 11;
    /// 1000.00 CNY from donation 10 for 100 goggles, voided at 13.
    pub const VOIDED_PURCHASE: Seq = 12;
    /// The void of 12.
    pub const VOID: Seq = 13;
}

/// A valid credit code for the supplier.
pub(crate) fn supplier_credit_code() -> String {
    let first17 = "91420100MA4K0000X";
    let check = credit_code_check_char(first17).expect("17 characters of the alphabet");
    format!("{first17}{check}")
}

fn day(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 2, d, 10, 0, 0)
        .single()
        .expect("a date")
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a request")
}

fn cny(amount: &str) -> Value {
    json!({"kind": "money", "amount": amount, "currency": "CNY"})
}

fn suits(quantity: &str) -> Value {
    json!({"kind": "goods", "item": "protective suit", "spec": "GB 19082-2009", "unit": "set", "quantity": quantity})
}

/// The organisation.
pub(crate) fn party() -> Party {
    Party {
        id: ORG.into(),
        name: "湖北省慈善总会".into(),
        credit_code: None,
        kind: "charity_federation".into(),
        region_code: "420000".into(),
        organization: None,
        ownership: None,
        designated_hospital: false,
        registered_by: None,
        confirmed_at: None,
    }
}

/// The recipients the log names.
pub(crate) fn directory() -> Directory {
    Directory::from([(
        HOSPITAL.to_owned(),
        Party {
            id: HOSPITAL.into(),
            name: "华中科技大学同济医学院附属协和医院".into(),
            credit_code: None,
            kind: "hospital".into(),
            region_code: "420103".into(),
            organization: None,
            ownership: None,
            designated_hospital: false,
            registered_by: None,
            confirmed_at: None,
        },
    )])
}

/// The commands of the log, each with its author.
fn commands() -> Vec<(Author, Command)> {
    let charity = Author {
        role: Role::Charity,
        subject: ORG.into(),
    };
    let hospital = Author {
        role: Role::Recipient,
        subject: HOSPITAL.into(),
    };
    let donation = |receipt: &str, campaign: Option<&str>, amount: &str, d: u32| {
        Command::Donation(parse(json!({
            "receipt_number": receipt, "occurred_at": day(d),
            "donor": {"name": "某某科技有限公司", "kind": "organization"},
            "campaign": campaign, "channel": "bank_transfer",
            "restriction": {"kind": "none"}, "asset": cny(amount)
        })))
    };
    let supplier = json!({"name": "某某防护用品有限公司", "credit_code": supplier_credit_code()});
    vec![
        (
            charity.clone(),
            Command::Campaign(parse(json!({
                "id": CAMPAIGN, "title": "抗击疫情", "purpose": "防护物资",
                "region_code": "420100", "emergency": true,
                "starts_at": day(1), "occurred_at": day(1)
            }))),
        ),
        (
            charity.clone(),
            donation("HBCF-2020-0001", Some(CAMPAIGN), "100000.00", 2),
        ),
        (
            charity.clone(),
            Command::Procurement(parse(json!({
                "donation": seq::DONATION, "paid": cny("50000.00"), "supplier": supplier,
                "invoice_reference": "FP-0001", "goods": suits("1000"), "occurred_at": day(3)
            }))),
        ),
        (
            charity.clone(),
            Command::Allocation(parse(json!({
                "donation": seq::PURCHASE, "recipient": HOSPITAL, "purpose": "一线防护",
                "asset": suits("600"), "occurred_at": day(4)
            }))),
        ),
        (
            charity.clone(),
            Command::Disbursement(parse(json!({
                "allocation": seq::GOODS_ALLOCATION, "asset": suits("600"),
                "channel": "logistics", "reference": "SF-0001", "occurred_at": day(5)
            }))),
        ),
        (
            hospital,
            Command::Acknowledgement(parse(json!({
                "disbursement": {"organization": ORG, "seq": seq::GOODS_DISBURSEMENT},
                "asset": suits("600"), "received_at": day(6), "occurred_at": day(6)
            }))),
        ),
        (
            charity.clone(),
            Command::Expense(parse(json!({
                "donation": seq::DONATION, "asset": cny("1000.00"),
                "description": "运费", "occurred_at": day(6)
            }))),
        ),
        (
            charity.clone(),
            Command::Allocation(parse(json!({
                "donation": seq::DONATION, "recipient": HOSPITAL, "purpose": "医疗费用",
                "asset": cny("20000.00"), "occurred_at": day(7)
            }))),
        ),
        (
            charity.clone(),
            Command::Disbursement(parse(json!({
                "allocation": seq::MONEY_ALLOCATION, "asset": cny("20000.00"),
                "channel": "bank_transfer", "reference": "BANK-0001", "occurred_at": day(8)
            }))),
        ),
        (
            charity.clone(),
            donation("HBCF-2020-0002", None, "10000.00", 9),
        ),
        (
            charity.clone(),
            Command::Procurement(parse(json!({
                "pool": true, "paid": cny("35000.00"),
                "supplier": {"name": "某某医疗器械有限公司"},
                "invoice_reference": "FP-0002",
                "goods": {"kind": "goods", "item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece", "quantity": "500"},
                "occurred_at": day(10)
            }))),
        ),
        (
            charity.clone(),
            Command::Procurement(parse(json!({
                "donation": seq::SECOND_DONATION, "paid": cny("1000.00"),
                "supplier": {"name": "某某眼镜厂"}, "invoice_reference": "FP-0003",
                "goods": {"kind": "goods", "item": "goggles", "spec": "", "unit": "pair", "quantity": "100"},
                "occurred_at": day(11)
            }))),
        ),
        (
            charity,
            Command::Correction(CorrectionRequest {
                corrects: seq::VOIDED_PURCHASE,
                reason: "录入重复".into(),
                replacement: None,
                occurred_at: day(12),
            }),
        ),
    ]
}

/// The log as published, replayed.
pub(crate) fn ledger() -> Ledger {
    let mut books = MemoryBooks::default();
    books.recipients.insert(
        Slug::parse(HOSPITAL).expect("slug"),
        RecipientInfo {
            id: Slug::parse(HOSPITAL).expect("slug"),
            region_code: RegionCode::parse("420103").expect("region"),
            organization: None,
        },
    );
    let org = OrgContext {
        id: Slug::parse(ORG).expect("slug"),
        region_code: RegionCode::parse("420000").expect("region"),
        public_fundraising_qualified: true,
    };
    let now = day(28);
    let mut salts = 0u32;
    let mut salt = move || {
        salts += 1;
        format!("{salts:064x}")
    };
    let mut records = Vec::new();
    for (i, (author, cmd)) in commands().into_iter().enumerate() {
        let seq = i64::try_from(i).expect("few") + 1;
        let decision = execute(
            &mut books,
            &mut Context {
                org: &org,
                author: &author,
                now,
                salt: &mut salt,
                replacing: None,
            },
            seq,
            &cmd,
        )
        .unwrap_or_else(|e| panic!("entry {seq} is accepted: {e:?}"));
        // As stored and served: the body survives its public form.
        let fact = Fact::from_body(
            decision.fact.kind(),
            serde_json::to_value(&decision.fact).expect("a body"),
        )
        .expect("the body parses");
        records.push(Record {
            seq,
            kind: fact.kind(),
            occurred_at: cmd.occurred_at(),
            recorded_at: cmd.occurred_at(),
            fact,
            entry_hash: Default::default(),
            author: Some(Box::new(author)),
        });
    }
    Ledger::new(party(), records).expect("the log replays")
}
