//! The public feeds and reports as tables: a header and rows of typed [`Cell`]s, written as CSV
//! ([`Table::csv`]: UTF-8 with a byte-order mark so spreadsheet programs read Chinese text
//! correctly, a header row, CRLF line ends per RFC 4180, formulas neutralised) or as an Excel
//! workbook ([`Table::xlsx`], [`super::xlsx`]: numbers as numbers, times as dates, the header row
//! frozen). One table, two writers: both formats always hold the same columns and rows. Only
//! public values appear: the donor's public name, never contact data or related parties.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::asset::AssetWire;
use crate::entry::{Fact, RestrictionWire};

use super::summary::Summary;
use super::timeliness::EntryTimeliness;
use super::{AssetLabel, Directory, Party, Record};

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

/// One cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Text someone typed (names, purposes): in CSV a leading `=`, `+`, `-`, `@` is neutralised.
    Text(String),
    /// A slug, code, hash or list this program wrote: text in both formats.
    Value(String),
    /// An exact decimal or integer this program wrote (`"100.50"`, a seq): a number in a
    /// workbook, written as it stands in CSV.
    Number(String),
    /// A moment: RFC 3339 UTC in CSV, a date and time (UTC) in a workbook.
    Time(DateTime<Utc>),
    /// `true` or `false`.
    Bool(bool),
    /// Nothing.
    Empty,
}

/// A table: what one CSV file or one worksheet holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The worksheet's name (at most 31 characters).
    pub name: &'static str,
    /// Column names.
    pub header: Vec<&'static str>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<Cell>>,
}

pub(crate) fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn value(s: impl ToString) -> Cell {
    Cell::Value(s.to_string())
}

pub(crate) fn number(s: impl ToString) -> Cell {
    Cell::Number(s.to_string())
}

pub(crate) fn empty() -> Cell {
    Cell::Empty
}

fn opt(s: Option<impl ToString>) -> Cell {
    s.map_or_else(empty, value)
}

fn opt_number(s: Option<impl ToString>) -> Cell {
    s.map_or_else(empty, number)
}

impl Cell {
    /// The cell as CSV text, before quoting.
    fn csv_text(&self) -> String {
        match self {
            Cell::Text(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
            Cell::Text(s) | Cell::Value(s) | Cell::Number(s) => s.clone(),
            Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            Cell::Bool(b) => b.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

fn escape(cell: &Cell) -> String {
    let raw = cell.csv_text();
    if raw.contains([',', '"', '\n', '\r']) || raw.trim() != raw {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw
    }
}

impl Table {
    /// A table named `name`.
    pub fn new(name: &'static str, header: Vec<&'static str>, rows: Vec<Vec<Cell>>) -> Table {
        Table { name, header, rows }
    }

    /// The CSV document: BOM, header row, rows.
    pub fn csv(&self) -> String {
        let mut out = String::from(BOM);
        out.push_str(&self.header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let line: Vec<String> = row.iter().map(escape).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The workbook (`.xlsx`) of one worksheet holding this table ([`super::xlsx::workbook`]).
    pub fn xlsx(&self) -> Result<Vec<u8>, String> {
        super::xlsx::workbook(self)
    }
}

fn asset_cells(a: &AssetWire) -> [Cell; 7] {
    match a {
        AssetWire::Money { amount, currency } => [
            value("money"),
            value(currency),
            number(amount),
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
            number(quantity),
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
pub fn donations(organization: &str, records: &[Record]) -> Table {
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
                } => (number(&v.amount), value(&v.currency)),
                _ => (empty(), empty()),
            };
            let mut row = vec![
                value(organization),
                number(r.seq),
                text(&d.receipt_number),
                Cell::Time(r.occurred_at),
                text(d.donor.display_name.clone().unwrap_or_default()),
                value(enum_name(&d.donor.kind)),
                Cell::Bool(d.donor.anonymous),
                value(enum_name(&d.channel)),
                opt(d.campaign.as_ref()),
                value(restriction),
                opt(region),
                opt(recipient),
                text(purpose.unwrap_or_default()),
            ];
            row.extend(asset_cells(&d.asset));
            row.extend([
                Cell::Time(r.recorded_at),
                declared.0,
                declared.1,
                opt(d.source_disbursement.as_ref().map(|s| &s.organization)),
                opt_number(d.source_disbursement.as_ref().map(|s| s.disbursement)),
                value(r.entry_hash),
            ]);
            row
        })
        .collect();
    Table::new("donations", donation_columns(), rows)
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
pub fn allocations(organization: &str, records: &[Record], directory: &Directory) -> Table {
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
                number(r.seq),
                Cell::Time(r.occurred_at),
                Cell::Time(r.recorded_at),
                value(&a.recipient),
                recipient_name(directory, a.recipient.as_str()),
                text(&a.purpose),
                Cell::Bool(a.pool),
                opt_number(a.donation),
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
            row.push(value(r.entry_hash));
            row
        })
        .collect();
    Table::new("allocations", header, rows)
}

/// The disbursements CSV: every receiving unit and amount (level-by-level publication).
pub fn disbursements(organization: &str, records: &[Record], directory: &Directory) -> Table {
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
                number(r.seq),
                Cell::Time(r.occurred_at),
                Cell::Time(r.recorded_at),
                number(d.allocation),
                value(&d.recipient),
                recipient_name(directory, d.recipient.as_str()),
                opt(region),
                value(enum_name(&d.channel)),
                text(&d.reference),
            ];
            row.extend(asset_cells(&d.asset));
            row.push(value(r.entry_hash));
            row
        })
        .collect();
    Table::new("disbursements", header, rows)
}

/// The procurements CSV: what donated money bought, from whom, at what unit price. Money
/// columns say what was paid; goods columns what was bought.
pub fn procurements(organization: &str, records: &[Record]) -> Table {
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
                AssetWire::Money { amount, currency } => (value(currency), number(amount)),
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
                number(r.seq),
                Cell::Time(r.occurred_at),
                Cell::Time(r.recorded_at),
                opt_number(p.donation),
                Cell::Bool(p.pool),
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
                number(&p.unit_price),
                Cell::Bool(p.unit_price_rounded),
                value(restriction),
                opt(region),
                opt(recipient),
                value(drawn.join(";")),
                value(r.entry_hash),
            ]
        })
        .collect();
    Table::new("procurements", header, rows)
}

/// The campaigns CSV.
pub fn campaigns(organization: &str, records: &[Record]) -> Table {
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
                number(r.seq),
                value(&c.id),
                text(&c.title),
                text(&c.purpose),
                value(&c.region_code),
                Cell::Bool(c.public_fundraising),
                text(c.record_number.clone().unwrap_or_default()),
                Cell::Bool(c.emergency),
                Cell::Time(c.starts_at),
                c.ends_at.map_or_else(empty, Cell::Time),
            ]),
            _ => None,
        })
        .collect();
    Table::new("campaigns", header.to_vec(), rows)
}

/// The organisations or recipients CSV of the public registry.
pub fn parties(parties: &[Party]) -> Table {
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
                Cell::Bool(p.designated_hospital),
                opt(role),
                opt(by),
                p.confirmed_at.map_or_else(empty, Cell::Time),
            ]
        })
        .collect();
    Table::new("registry", header.to_vec(), rows)
}

/// The per-entry timeliness CSV.
pub fn timeliness(organization: &str, entries: &[EntryTimeliness]) -> Table {
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
                number(e.seq),
                value(&e.kind),
                Cell::Time(e.occurred_at),
                Cell::Time(e.recorded_at),
                number(&e.delay_hours),
                value(e.campaigns.join(";")),
                number(e.deadline_hours),
                Cell::Bool(e.missed),
            ]
        })
        .collect();
    Table::new("timeliness", header.to_vec(), rows)
}

/// A summary's totals columns, in [`super::summary::TotalsWire`]'s order.
const TOTALS_COLUMNS: [&str; 12] = [
    "received",
    "allocated",
    "disbursed",
    "acknowledged",
    "used",
    "expenses",
    "procured",
    "purchased",
    "unallocated",
    "undisbursed",
    "unacknowledged",
    "shortfall",
];
const DESIGNATED_COLUMNS: [&str; 12] = [
    "designated_received",
    "designated_allocated",
    "designated_disbursed",
    "designated_acknowledged",
    "designated_used",
    "designated_expenses",
    "designated_procured",
    "designated_purchased",
    "designated_unallocated",
    "designated_undisbursed",
    "designated_unacknowledged",
    "designated_shortfall",
];
const UNDESIGNATED_COLUMNS: [&str; 12] = [
    "undesignated_received",
    "undesignated_allocated",
    "undesignated_disbursed",
    "undesignated_acknowledged",
    "undesignated_used",
    "undesignated_expenses",
    "undesignated_procured",
    "undesignated_purchased",
    "undesignated_unallocated",
    "undesignated_undisbursed",
    "undesignated_unacknowledged",
    "undesignated_shortfall",
];

/// Stock ageing columns: unallocated, then undisbursed, each by bucket and the oldest unit's hours.
const AGEING_COLUMNS: [&str; 12] = [
    "unallocated_under_24h",
    "unallocated_1d_to_3d",
    "unallocated_3d_to_7d",
    "unallocated_7d_to_30d",
    "unallocated_over_30d",
    "unallocated_oldest_hours",
    "undisbursed_under_24h",
    "undisbursed_1d_to_3d",
    "undisbursed_3d_to_7d",
    "undisbursed_7d_to_30d",
    "undisbursed_over_30d",
    "undisbursed_oldest_hours",
];

fn totals_cells(t: &super::summary::TotalsWire) -> [Cell; 12] {
    [
        &t.received,
        &t.allocated,
        &t.disbursed,
        &t.acknowledged,
        &t.used,
        &t.expenses,
        &t.procured,
        &t.purchased,
        &t.unallocated,
        &t.undisbursed,
        &t.unacknowledged,
        &t.shortfall,
    ]
    .map(number)
}

fn ageing_cells(a: &super::ageing::AgeBuckets) -> [Cell; 6] {
    [
        number(&a.under_24h),
        number(&a.d1_to_3d),
        number(&a.d3_to_7d),
        number(&a.d7_to_30d),
        number(&a.over_30d),
        opt_number(a.oldest_hours),
    ]
}

fn asset_label_cells(a: &AssetLabel) -> [Cell; 5] {
    match a {
        AssetLabel::Money { currency } => {
            [value("money"), value(currency), empty(), empty(), empty()]
        }
        AssetLabel::Goods { item, spec, unit } => {
            [value("goods"), empty(), text(item), text(spec), text(unit)]
        }
    }
}

/// A summary as a table: one row per asset with its totals, the designated and undesignated
/// totals, the priority-region share, the corrections counted and the stock ageing.
pub fn summary(s: &Summary) -> Table {
    let mut header = vec![
        "organization",
        "campaign",
        "asset_kind",
        "currency",
        "item",
        "spec",
        "unit",
    ];
    header.extend(TOTALS_COLUMNS);
    header.extend(DESIGNATED_COLUMNS);
    header.extend(UNDESIGNATED_COLUMNS);
    header.extend([
        "priority_undesignated_disbursed",
        "priority_to_priority_regions",
        "priority_share_percent",
        "corrections",
    ]);
    header.extend(AGEING_COLUMNS);
    let rows = s
        .assets
        .iter()
        .map(|a| {
            let mut row = vec![value(&s.organization), opt(s.campaign.as_ref())];
            row.extend(asset_label_cells(&a.asset));
            row.extend(totals_cells(&a.totals));
            row.extend(totals_cells(&a.designated));
            row.extend(totals_cells(&a.undesignated));
            row.extend([
                number(&a.priority_regions.undesignated_disbursed),
                number(&a.priority_regions.to_priority_regions),
                opt_number(a.priority_regions.share_percent.as_ref()),
                number(a.corrections),
            ]);
            row.extend(ageing_cells(&a.ageing.unallocated));
            row.extend(ageing_cells(&a.ageing.undisbursed));
            row
        })
        .collect();
    Table::new("summary", header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        let doc = Table::new(
            "t",
            vec!["a", "b", "c", "d", "e"],
            vec![vec![
                text("=HYPERLINK(\"x\")"),
                text("武汉, 湖北"),
                number("-5.00"),
                Cell::Bool(true),
                Cell::Time(DateTime::from_timestamp(1_580_175_000, 0).expect("t")),
            ]],
        )
        .csv();
        assert!(doc.starts_with(BOM));
        assert_eq!(
            doc.trim_start_matches(BOM),
            "a,b,c,d,e\r\n\"'=HYPERLINK(\"\"x\"\")\",\"武汉, 湖北\",-5.00,true,2020-01-28T01:30:00Z\r\n"
        );
    }
}
