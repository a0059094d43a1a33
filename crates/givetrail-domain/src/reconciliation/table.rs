//! The reconciliation report as a table (CSV or workbook, `disclosure::table`): one header, the
//! per-asset totals first (section `totals`; in a report restricted to a destination, kind
//! `destination_totals`: what went there), then one row per finding.

use chrono::SecondsFormat;

use crate::disclosure::table::{Cell, Table};
use crate::disclosure::AssetLabel;

use super::model::{Finding, Report};

/// Columns of the report table.
pub const REPORT_COLUMNS: [&str; 15] = [
    "section",
    "kind",
    "severity",
    "asset",
    "received",
    "allocated",
    "expenses",
    "unallocated",
    "disbursed",
    "undisbursed",
    "acknowledged",
    "used",
    "entries",
    "bank_line",
    "message",
];

fn label(a: &AssetLabel) -> String {
    match a {
        AssetLabel::Money { currency } => currency.clone(),
        AssetLabel::Goods { item, spec, unit } => format!("{item} | {spec} | {unit}"),
    }
}

fn finding_row(f: &Finding) -> Vec<Cell> {
    let mut row = vec![
        Cell::Value(f.section.as_str().to_owned()),
        Cell::Value(f.kind.as_str().to_owned()),
        Cell::Value(f.severity.as_str().to_owned()),
        Cell::Text(f.asset.as_ref().map(label).unwrap_or_default()),
    ];
    row.extend((0..8).map(|_| Cell::Empty));
    row.push(Cell::Value(
        f.entries
            .iter()
            .map(|e| format!("{}#{}", e.organization, e.seq))
            .collect::<Vec<_>>()
            .join(" "),
    ));
    row.push(Cell::Value(
        f.bank_line
            .as_ref()
            .map(|b| format!("{}/{}", b.statement, b.row))
            .or_else(|| f.complaint.clone())
            .unwrap_or_default(),
    ));
    row.push(Cell::Text(f.message.clone()));
    row
}

/// The report as a table.
pub fn report(r: &Report) -> Table {
    let as_at = r.as_at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let mut rows: Vec<Vec<Cell>> = r
        .totals
        .iter()
        .map(|a| {
            let t = &a.totals;
            let mut row = vec![
                Cell::Value("totals".into()),
                Cell::Value("asset_totals".into()),
                Cell::Value("info".into()),
                Cell::Text(label(&a.asset)),
            ];
            row.extend(
                [
                    &t.received,
                    &t.allocated,
                    &t.expenses,
                    &t.unallocated,
                    &t.disbursed,
                    &t.undisbursed,
                    &t.acknowledged,
                    &t.used,
                ]
                .map(|v| Cell::Number(v.clone())),
            );
            row.extend([
                Cell::Empty,
                Cell::Empty,
                Cell::Text(format!("{} as at {as_at}", r.organization)),
            ]);
            row
        })
        .collect();
    if let Some(d) = &r.destination {
        rows.extend(d.totals.iter().map(|a| {
            let mut row = vec![
                Cell::Value("totals".into()),
                Cell::Value("destination_totals".into()),
                Cell::Value("info".into()),
                Cell::Text(label(&a.asset)),
            ];
            let none = || Cell::Empty;
            row.extend([
                none(),
                Cell::Number(a.allocated.clone()),
                none(),
                none(),
                Cell::Number(a.disbursed.clone()),
                none(),
                Cell::Number(a.acknowledged.clone()),
                Cell::Number(a.used.clone()),
                none(),
                none(),
                Cell::Text(format!(
                    "{} to region {} as at {as_at}",
                    r.organization, d.region
                )),
            ]);
            row
        }));
    }
    rows.extend(r.findings.iter().map(finding_row));
    Table::new("reconciliation", REPORT_COLUMNS.to_vec(), rows)
}
