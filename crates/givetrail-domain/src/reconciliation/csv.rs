//! The reconciliation report as CSV: one header, the per-asset totals first (section `totals`;
//! in a report restricted to a destination, kind `destination_totals`: what went there), then
//! one row per finding. Written with the disclosure CSV writer (BOM, CRLF, formula guard).

use chrono::SecondsFormat;

use crate::disclosure::csv::{document, Cell};
use crate::disclosure::AssetLabel;

use super::model::{Finding, Report};

/// Columns of the report CSV.
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
    row.extend((0..8).map(|_| Cell::Value(String::new())));
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

/// The report as a CSV document.
pub fn report(r: &Report) -> String {
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
                .map(|v| Cell::Value(v.clone())),
            );
            row.extend([
                Cell::Value(String::new()),
                Cell::Value(String::new()),
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
            let none = || Cell::Value(String::new());
            row.extend([
                none(),
                Cell::Value(a.allocated.clone()),
                none(),
                none(),
                Cell::Value(a.disbursed.clone()),
                none(),
                Cell::Value(a.acknowledged.clone()),
                Cell::Value(a.used.clone()),
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
    document(&REPORT_COLUMNS, &rows)
}
