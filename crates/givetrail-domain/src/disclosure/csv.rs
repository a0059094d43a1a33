//! CSV forms of the public feeds: UTF-8 with a byte-order mark (so spreadsheet programs read
//! Chinese text correctly), a header row, CRLF line ends (RFC 4180). Only public values appear:
//! the donor's public name, never contact data or related parties.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::asset::AssetWire;
use crate::entry::{Fact, RestrictionWire};

use super::timeliness::EntryTimeliness;
use super::{Directory, Party, Record};

/// The UTF-8 byte-order mark every CSV starts with.
pub const BOM: &str = "\u{feff}";

/// Columns of the donations CSV that are never public.
pub const PRIVATE_COLUMNS: [&str; 2] = ["donor_public_name", "donor_contact"];

/// Columns of the public donations CSV: `organization`, `seq`, the donations CSV's columns
/// ([`crate::import::COLUMNS`], in its order) less [`PRIVATE_COLUMNS`] (`donor_name` holds the
/// name the public sees), then `recorded_at`, the declared value, the source disbursement and
/// `entry_hash`.
pub fn donation_columns() -> Vec<&'static str> {
    let mut out = vec!["organization", "seq"];
    out.extend(
        crate::import::COLUMNS
            .iter()
            .filter(|c| !PRIVATE_COLUMNS.contains(c)),
    );
    out.extend([
        "recorded_at",
        "declared_value",
        "declared_value_currency",
        "source_organization",
        "source_disbursement",
        "entry_hash",
    ]);
    out
}

const ASSET_COLUMNS: [&str; 7] = [
    "asset_kind",
    "currency",
    "amount",
    "item",
    "spec",
    "unit",
    "quantity",
];

/// One cell: free text (guarded against spreadsheet formulas) or a value we produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text someone typed (names, purposes): a leading `=`, `+`, `-`, `@` is neutralised.
    Text(String),
    /// A number, date, slug or code this program wrote.
    Value(String),
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn value(s: impl ToString) -> Cell {
    Cell::Value(s.to_string())
}

fn empty() -> Cell {
    Cell::Value(String::new())
}

fn time(t: DateTime<Utc>) -> Cell {
    Cell::Value(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn opt(s: Option<impl ToString>) -> Cell {
    s.map_or_else(empty, value)
}

fn escape(cell: &Cell) -> String {
    let raw = match cell {
        Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Cell::Text(s) | Cell::Value(s) => s.clone(),
    };
    if raw.contains([',', '"', '\n', '\r']) || raw.trim() != raw {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}

/// A CSV document: BOM, header row, rows.
pub fn document(header: &[&str], rows: &[Vec<Cell>]) -> String {
    let mut out = String::from(BOM);
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let line: Vec<String> = row.iter().map(escape).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn asset_cells(a: &AssetWire) -> [Cell; 7] {
    match a {
        AssetWire::Money { amount, currency } => [
            value("money"),
            value(currency),
            value(amount),
            empty(),
            empty(),
            empty(),
            empty(),
        ],
        AssetWire::Goods {
            item,
            spec,
            unit,
            quantity,
            ..
        } => [
            value("goods"),
            empty(),
            empty(),
            text(item),
            text(spec),
            text(unit),
            value(quantity),
        ],
    }
}

fn enum_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The live fact of a record (a correction's replacement unwrapped).
fn fact_of(r: &Record) -> &Fact {
    match &r.fact {
        Fact::Correction(c) => c.replacement.as_deref().unwrap_or(&r.fact),
        f => f,
    }
}

/// The donations CSV of feed records (donation entries, or corrections replacing one).
pub fn donations(organization: &str, records: &[Record]) -> String {
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .filter_map(|r| match fact_of(r) {
            Fact::Donation(d) => Some((r, d)),
            _ => None,
        })
        .map(|(r, d)| {
            let (restriction, region, recipient, purpose) = match &d.restriction {
                RestrictionWire::None => ("none", None, None, None),
                RestrictionWire::Designated {
                    region_code,
                    recipient,
                    purpose,
                    ..
                } => (
                    "designated",
                    region_code.as_ref().map(|x| x.to_string()),
                    recipient.as_ref().map(|x| x.to_string()),
                    purpose.clone(),
                ),
            };
            let declared = match &d.asset {
                AssetWire::Goods {
                    declared_value: Some(v),
                    ..
                } => (value(&v.amount), value(&v.currency)),
                _ => (empty(), empty()),
            };
            let mut row = vec![
                value(organization),
                value(r.seq),
                text(&d.receipt_number),
                time(r.occurred_at),
                text(d.donor.display_name.clone().unwrap_or_default()),
                value(enum_name(&d.donor.kind)),
                value(d.donor.anonymous),
                value(enum_name(&d.channel)),
                opt(d.campaign.as_ref()),
                value(restriction),
                opt(region),
                opt(recipient),
                text(purpose.unwrap_or_default()),
            ];
            row.extend(asset_cells(&d.asset));
            row.extend([
                time(r.recorded_at),
                declared.0,
                declared.1,
                opt(d.source_disbursement.as_ref().map(|s| &s.organization)),
                opt(d.source_disbursement.as_ref().map(|s| s.disbursement)),
                value(&r.entry_hash),
            ]);
            row
        })
        .collect();
    document(&donation_columns(), &rows)
}

fn recipient_name(directory: &Directory, id: &str) -> Cell {
    text(
        directory
            .get(id)
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    )
}

/// The allocations CSV.
pub fn allocations(organization: &str, records: &[Record], directory: &Directory) -> String {
    let mut header = vec![
        "organization",
        "seq",
        "occurred_at",
        "recorded_at",
        "recipient",
        "recipient_name",
        "purpose",
        "pool",
        "donation",
        "drawn_from",
        "designation_change_reason",
        "donor_consent_reference",
        "need",
    ];
    header.extend(ASSET_COLUMNS);
    header.push("entry_hash");
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .filter_map(|r| match fact_of(r) {
            Fact::Allocation(a) => Some((r, a)),
            _ => None,
        })
        .map(|(r, a)| {
            let drawn: Vec<String> = a
                .drawn_from
                .iter()
                .map(|d| format!("{}:{}", d.donation, d.amount))
                .collect();
            let mut row = vec![
                value(organization),
                value(r.seq),
                time(r.occurred_at),
                time(r.recorded_at),
                value(&a.recipient),
                recipient_name(directory, a.recipient.as_str()),
                text(&a.purpose),
                value(a.pool),
                opt(a.donation),
                value(drawn.join(";")),
                text(
                    a.designation_change
                        .as_ref()
                        .map(|c| c.reason.clone())
                        .unwrap_or_default(),
                ),
                text(
                    a.designation_change
                        .as_ref()
                        .map(|c| c.donor_consent_reference.clone())
                        .unwrap_or_default(),
                ),
                opt(a.need.as_ref()),
            ];
            row.extend(asset_cells(&a.asset));
            row.push(value(&r.entry_hash));
            row
        })
        .collect();
    document(&header, &rows)
}

/// The disbursements CSV: every receiving unit and amount (level-by-level publication).
pub fn disbursements(organization: &str, records: &[Record], directory: &Directory) -> String {
    let mut header = vec![
        "organization",
        "seq",
        "occurred_at",
        "recorded_at",
        "allocation",
        "recipient",
        "recipient_name",
        "recipient_region_code",
        "channel",
        "reference",
    ];
    header.extend(ASSET_COLUMNS);
    header.push("entry_hash");
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .filter_map(|r| match fact_of(r) {
            Fact::Disbursement(d) => Some((r, d)),
            _ => None,
        })
        .map(|(r, d)| {
            let region = directory
                .get(d.recipient.as_str())
                .map(|p| p.region_code.clone());
            let mut row = vec![
                value(organization),
                value(r.seq),
                time(r.occurred_at),
                time(r.recorded_at),
                value(d.allocation),
                value(&d.recipient),
                recipient_name(directory, d.recipient.as_str()),
                opt(region),
                value(enum_name(&d.channel)),
                text(&d.reference),
            ];
            row.extend(asset_cells(&d.asset));
            row.push(value(&r.entry_hash));
            row
        })
        .collect();
    document(&header, &rows)
}

/// The procurements CSV: what donated money bought, from whom, at what unit price. Money
/// columns say what was paid; goods columns what was bought.
pub fn procurements(organization: &str, records: &[Record]) -> String {
    let header = vec![
        "organization",
        "seq",
        "occurred_at",
        "recorded_at",
        "donation",
        "pool",
        "campaign",
        "supplier_name",
        "supplier_credit_code",
        "invoice_reference",
        "currency",
        "paid",
        "item",
        "spec",
        "unit",
        "quantity",
        "unit_price",
        "unit_price_rounded",
        "restriction",
        "designated_region_code",
        "designated_recipient",
        "drawn_from",
        "entry_hash",
    ];
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .filter_map(|r| match fact_of(r) {
            Fact::Procurement(p) => Some((r, p)),
            _ => None,
        })
        .map(|(r, p)| {
            let (currency, paid) = match &p.paid {
                AssetWire::Money { amount, currency } => (value(currency), value(amount)),
                AssetWire::Goods { .. } => (empty(), empty()),
            };
            let goods = asset_cells(&p.goods);
            let (restriction, region, recipient) = match &p.restriction {
                RestrictionWire::None => ("none", None, None),
                RestrictionWire::Designated {
                    region_code,
                    recipient,
                    ..
                } => (
                    "designated",
                    region_code.as_ref().map(|x| x.to_string()),
                    recipient.as_ref().map(|x| x.to_string()),
                ),
            };
            let drawn: Vec<String> = p
                .drawn_from
                .iter()
                .map(|d| format!("{}:{}", d.donation, d.amount))
                .collect();
            let [_, _, _, item, spec, unit, quantity] = goods;
            vec![
                value(organization),
                value(r.seq),
                time(r.occurred_at),
                time(r.recorded_at),
                opt(p.donation),
                value(p.pool),
                opt(p.campaign.as_ref()),
                text(&p.supplier.name),
                opt(p.supplier.credit_code.clone().map(String::from)),
                text(&p.invoice_reference),
                currency,
                paid,
                item,
                spec,
                unit,
                quantity,
                value(&p.unit_price),
                value(p.unit_price_rounded),
                value(restriction),
                opt(region),
                opt(recipient),
                value(drawn.join(";")),
                value(&r.entry_hash),
            ]
        })
        .collect();
    document(&header, &rows)
}

/// The campaigns CSV.
pub fn campaigns(organization: &str, records: &[Record]) -> String {
    let header = [
        "organization",
        "seq",
        "id",
        "title",
        "purpose",
        "region_code",
        "public_fundraising",
        "record_number",
        "emergency",
        "starts_at",
        "ends_at",
    ];
    let rows: Vec<Vec<Cell>> = records
        .iter()
        .filter_map(|r| match fact_of(r) {
            Fact::Campaign(c) => Some(vec![
                value(organization),
                value(r.seq),
                value(&c.id),
                text(&c.title),
                text(&c.purpose),
                value(&c.region_code),
                value(c.public_fundraising),
                text(c.record_number.clone().unwrap_or_default()),
                value(c.emergency),
                time(c.starts_at),
                c.ends_at.map_or_else(empty, time),
            ]),
            _ => None,
        })
        .collect();
    document(&header, &rows)
}

/// The organisations or recipients CSV of the public registry.
pub fn parties(parties: &[Party]) -> String {
    let header = [
        "id",
        "name",
        "kind",
        "region_code",
        "credit_code",
        "organization",
        "ownership",
        "designated_hospital",
        "registered_by_role",
        "registered_by",
        "confirmed_at",
    ];
    let rows: Vec<Vec<Cell>> = parties
        .iter()
        .map(|p| {
            let (role, by) = match &p.registered_by {
                Some(super::Registrar::Charity { organization }) => {
                    (Some("charity"), Some(organization.as_str()))
                }
                Some(super::Registrar::Regulator { jurisdiction }) => {
                    (Some("regulator"), Some(jurisdiction.as_str()))
                }
                None => (None, None),
            };
            vec![
                value(&p.id),
                text(&p.name),
                value(&p.kind),
                value(&p.region_code),
                opt(p.credit_code.as_ref()),
                opt(p.organization.as_ref()),
                opt(p.ownership.as_ref()),
                value(if p.designated_hospital {
                    "true"
                } else {
                    "false"
                }),
                opt(role),
                opt(by),
                opt(p
                    .confirmed_at
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
            ]
        })
        .collect();
    document(&header, &rows)
}

/// The per-entry timeliness CSV.
pub fn timeliness(organization: &str, entries: &[EntryTimeliness]) -> String {
    let header = [
        "organization",
        "seq",
        "kind",
        "occurred_at",
        "recorded_at",
        "delay_hours",
        "campaigns",
        "deadline_hours",
        "missed",
    ];
    let rows: Vec<Vec<Cell>> = entries
        .iter()
        .map(|e| {
            vec![
                value(organization),
                value(e.seq),
                value(&e.kind),
                time(e.occurred_at),
                time(e.recorded_at),
                value(&e.delay_hours),
                value(e.campaigns.join(";")),
                value(e.deadline_hours),
                value(e.missed),
            ]
        })
        .collect();
    document(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        let doc = document(
            &["a", "b", "c"],
            &[vec![
                text("=HYPERLINK(\"x\")"),
                text("武汉, 湖北"),
                value("-5.00"),
            ]],
        );
        assert!(doc.starts_with(BOM));
        assert_eq!(
            doc.trim_start_matches(BOM),
            "a,b,c\r\n\"'=HYPERLINK(\"\"x\"\")\",\"武汉, 湖北\",-5.00\r\n"
        );
    }
}
