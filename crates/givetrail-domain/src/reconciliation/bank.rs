//! Bank statements: parsing an uploaded CSV of bank lines, and matching lines to the money
//! receipts and disbursements of the log — by reference first, then by amount, currency,
//! direction and a date window.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::asset::{parse_units, Asset, AssetWire, Currency, Money};
use crate::entry::{DisbursementChannel, DonationChannel, Fact, MAX_SHORT_TEXT};
use crate::error::{FieldError, ValidationError};
use crate::import::row_field;
use crate::text::clean_line;

use super::inputs::Period;
use super::model::EntryAt;
use crate::disclosure::Ledger;

/// Columns of a bank statement CSV (header row, any order, all six present; `reference` and
/// `counterparty` cells may be empty).
pub const STATEMENT_COLUMNS: [&str; 6] = [
    "date",
    "amount",
    "currency",
    "direction",
    "reference",
    "counterparty",
];
/// Most lines in one uploaded statement.
pub const MAX_STATEMENT_LINES: usize = 10_000;
/// Most problems listed when a statement is refused (the first ones, in file order).
pub const MAX_LISTED_ERRORS: usize = 100;
/// How many days apart a bank line and a ledger entry of the same amount may be and still match.
pub const MATCH_WINDOW_DAYS: i64 = 3;

/// Money into or out of the charity's account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money in (a receipt).
    Credit,
    /// Money out (a disbursement).
    Debit,
}

impl Direction {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Credit => "credit",
            Self::Debit => "debit",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "credit" => Some(Self::Credit),
            "debit" => Some(Self::Debit),
            _ => None,
        }
    }
}

/// One line of an uploaded statement, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// Row of the CSV as a spreadsheet numbers it (the header is row 1).
    pub row: i64,
    /// Booking date.
    pub booked_on: NaiveDate,
    /// In or out.
    pub direction: Direction,
    /// How much.
    pub money: Money,
    /// Bank transaction reference (may be empty).
    pub reference: String,
    /// The other party's name or account (may be empty).
    pub counterparty: String,
}

/// A stored bank line: a [`StatementLine`] of a numbered statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankLine {
    /// Statement number within the organisation (1, 2, 3…).
    pub statement: i64,
    /// The line.
    pub line: StatementLine,
}

fn cell_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc).date_naive()))
        .map_err(|_| format!("'{s}' is not a date such as 2020-02-01"))
}

fn parse_row(
    row: i64,
    record: &csv::StringRecord,
    index: &BTreeMap<&str, usize>,
    errors: &mut Vec<FieldError>,
) -> Option<StatementLine> {
    let cell = |name: &str| index.get(name).and_then(|&i| record.get(i)).unwrap_or("");
    let mut failed = false;
    let mut bad = |column: &str, message: String| {
        errors.push(FieldError::new(row_field(row as u64, column), message));
        failed = true;
    };
    let booked_on = cell_date(cell("date")).map_err(|m| bad("date", m)).ok();
    let currency = Currency::parse(cell("currency"))
        .map_err(|m| bad("currency", m))
        .ok();
    let units = currency.and_then(|c| {
        parse_units(cell("amount"), c.exponent())
            .map_err(|m| bad("amount", m))
            .ok()
    });
    let direction = Direction::parse(cell("direction"));
    if direction.is_none() {
        bad(
            "direction",
            format!("'{}' must be credit or debit", cell("direction")),
        );
    }
    let mut texts = Vec::with_capacity(2);
    for column in ["reference", "counterparty"] {
        match clean_line(column, cell(column), MAX_SHORT_TEXT, false) {
            Ok(t) => texts.push(t),
            Err(e) => bad(column, e.message),
        }
    }
    if failed {
        return None;
    }
    let (Some(booked_on), Some(currency), Some(units), Some(direction), [reference, counterparty]) = (
        booked_on,
        currency,
        units,
        direction,
        <[String; 2]>::try_from(texts).ok()?,
    ) else {
        return None;
    };
    Some(StatementLine {
        row,
        booked_on,
        direction,
        money: Money::from_units(currency, units),
        reference,
        counterparty,
    })
}

/// Parse an uploaded statement: UTF-8 CSV (a byte-order mark is allowed) with a header row of
/// [`STATEMENT_COLUMNS`]. Any problem refuses the whole statement; every problem found (up to
/// [`MAX_LISTED_ERRORS`]) is named as `row N: column` (as the donations import names them), rows numbered as a spreadsheet shows them.
pub fn parse_statement(bytes: &[u8]) -> Result<Vec<StatementLine>, ValidationError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| {
            ValidationError::field("row 1", format!("the header row is not readable CSV: {e}"))
        })?
        .clone();
    let mut index = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.to_ascii_lowercase();
        match STATEMENT_COLUMNS.iter().find(|c| **c == name) {
            Some(c) if index.insert(*c, i).is_some() => {
                errors.push(FieldError::new(row_field(1, c), "the column appears twice"))
            }
            Some(_) => {}
            None => errors.push(FieldError::new(
                row_field(1, &name),
                format!(
                    "unknown column; the columns are {}",
                    STATEMENT_COLUMNS.join(", ")
                ),
            )),
        }
    }
    for c in STATEMENT_COLUMNS.iter().filter(|c| !index.contains_key(*c)) {
        errors.push(FieldError::new(row_field(1, c), "this column is missing"));
    }
    if !errors.is_empty() {
        return Err(ValidationError(errors));
    }
    let mut lines = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as i64 + 2;
        if lines.len() + errors.len() >= MAX_STATEMENT_LINES {
            return Err(ValidationError::field(
                "",
                format!("a statement holds at most {MAX_STATEMENT_LINES} lines; split it"),
            ));
        }
        match record {
            Ok(r) if r.iter().any(|f| f.contains('\0')) => errors.push(FieldError::new(
                row_field(row as u64, ""),
                "must not contain a NUL character",
            )),
            Ok(r) => {
                if let Some(line) = parse_row(row, &r, &index, &mut errors) {
                    lines.push(line);
                }
            }
            Err(e) => errors.push(FieldError::new(
                row_field(row as u64, ""),
                format!("not a readable CSV row: {e}"),
            )),
        }
        if errors.len() >= MAX_LISTED_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ValidationError(errors));
    }
    if lines.is_empty() {
        return Err(ValidationError::field(
            "row 2",
            "the statement has no lines",
        ));
    }
    Ok(lines)
}

/// A bank line, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BankLineView {
    /// Statement number.
    pub statement: i64,
    /// Row in that statement's CSV.
    pub row: i64,
    /// Booking date.
    pub date: NaiveDate,
    /// `credit` or `debit`.
    pub direction: Direction,
    /// Amount and currency.
    pub amount: AssetWire,
    /// Bank reference.
    pub reference: String,
    /// Other party.
    pub counterparty: String,
}

impl From<&BankLine> for BankLineView {
    fn from(l: &BankLine) -> Self {
        Self {
            statement: l.statement,
            row: l.line.row,
            date: l.line.booked_on,
            direction: l.line.direction,
            amount: AssetWire::from(&Asset::Money(l.line.money)),
            reference: l.line.reference.clone(),
            counterparty: l.line.counterparty.clone(),
        }
    }
}

/// A money receipt or disbursement of the log that a bank line should show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerMoney {
    /// The entry.
    pub entry: EntryAt,
    /// `credit` for a receipt, `debit` for a disbursement.
    pub direction: Direction,
    /// When it happened (UTC date).
    pub date: NaiveDate,
    /// Amount and currency.
    pub amount: AssetWire,
    /// The receipt number, or the disbursement's bank reference.
    pub reference: String,
    #[serde(skip)]
    money: Money,
}

/// How a pair was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// The bank reference equals the receipt number or disbursement reference.
    Reference,
    /// Same amount, currency and direction within the date window.
    AmountAndDate,
}

/// A bank line and the ledger entry it accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MatchedPair {
    /// The bank line.
    pub line: BankLineView,
    /// The ledger entry.
    pub ledger: LedgerMoney,
    /// How they were matched.
    pub by: MatchedBy,
    /// Ledger amount minus bank amount when matched by reference with different amounts.
    pub difference: Option<String>,
}

/// The bank section's detail: what matched, what did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BankReconciliation {
    /// Statements uploaded.
    pub statements: usize,
    /// Lines considered (inside the report's period).
    pub lines: usize,
    /// Days the statements cover, per statement: `[first, last]` booking dates.
    pub coverage: Vec<StatementCoverage>,
    /// Matched pairs.
    pub matched: Vec<MatchedPair>,
    /// Money receipts and disbursements inside a statement's dates with no bank line.
    pub unmatched_entries: Vec<LedgerMoney>,
    /// Bank lines with no ledger entry.
    pub unmatched_lines: Vec<BankLineView>,
}

/// The dates one statement covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatementCoverage {
    /// Statement number.
    pub statement: i64,
    /// First booking date.
    pub from: NaiveDate,
    /// Last booking date.
    pub to: NaiveDate,
}

/// The money facts of the log a bank account should show (money donations not given in cash,
/// and money disbursements not delivered by hand) that one of `lines` could account for: those
/// whose receipt number or reference a line carries, and those within [`MATCH_WINDOW_DAYS`] of a
/// statement's dates. [`reconcile`] can match no other and expects no line for any other, so the
/// rest of the log is never copied: with no statement this is empty, whatever the log's size.
pub fn ledger_money(ledger: &Ledger, period: &Period, lines: &[BankLine]) -> Vec<LedgerMoney> {
    if lines.is_empty() {
        return Vec::new();
    }
    let reach = Reach::new(lines);
    let org = &ledger.organization.id;
    ledger
        .live_facts()
        .filter(|f| period.contains(f.occurred_at))
        .filter_map(|f| {
            let (direction, asset, reference) = match &f.fact {
                Fact::Donation(d) if d.channel != DonationChannel::Cash => {
                    (Direction::Credit, &d.asset, &d.receipt_number)
                }
                Fact::Disbursement(d) if d.channel != DisbursementChannel::HandDelivery => {
                    (Direction::Debit, &d.asset, &d.reference)
                }
                // Goods bought with donated money: paid to the supplier against its invoice.
                Fact::Procurement(p) => (Direction::Debit, &p.paid, &p.invoice_reference),
                Fact::Campaign(_)
                | Fact::Donation(_)
                | Fact::Allocation(_)
                | Fact::Disbursement(_)
                | Fact::Acknowledgement(_)
                | Fact::Usage(_)
                | Fact::Expense(_)
                | Fact::Correction(_)
                | Fact::Disclosure(_) => return None,
            };
            let date = f.occurred_at.date_naive();
            if !reach.covers(date, reference) {
                return None;
            }
            let Ok(Asset::Money(money)) = asset.parse() else {
                return None;
            };
            Some(LedgerMoney {
                entry: EntryAt::new(org, f.seq),
                direction,
                date,
                amount: asset.clone(),
                reference: reference.clone(),
                money,
            })
        })
        .collect()
}

/// What some bank line could account for: a reference one of them carries, or a date within
/// [`MATCH_WINDOW_DAYS`] of a statement's dates.
struct Reach<'a> {
    references: HashSet<&'a str>,
    windows: Vec<(NaiveDate, NaiveDate)>,
}

impl<'a> Reach<'a> {
    fn new(lines: &'a [BankLine]) -> Self {
        let window = Duration::days(MATCH_WINDOW_DAYS);
        Reach {
            references: lines
                .iter()
                .map(|l| l.line.reference.as_str())
                .filter(|r| !r.is_empty())
                .collect(),
            windows: coverage(lines)
                .into_values()
                .map(|(from, to)| (from - window, to + window))
                .collect(),
        }
    }

    fn covers(&self, date: NaiveDate, reference: &str) -> bool {
        self.references.contains(reference)
            || self.windows.iter().any(|(a, b)| *a <= date && date <= *b)
    }
}

/// Per statement, the first and last booking dates of its lines.
fn coverage(lines: &[BankLine]) -> BTreeMap<i64, (NaiveDate, NaiveDate)> {
    let mut coverage: BTreeMap<i64, (NaiveDate, NaiveDate)> = BTreeMap::new();
    for l in lines {
        let d = l.line.booked_on;
        let c = coverage.entry(l.statement).or_insert((d, d));
        c.0 = c.0.min(d);
        c.1 = c.1.max(d);
    }
    coverage
}

/// Match bank lines to ledger money: by reference (same direction and currency) first, then
/// by amount, currency and direction within [`MATCH_WINDOW_DAYS`] (nearest date first). Ledger
/// entries outside every statement's dates are not expected to have a line and are left out.
pub fn reconcile(
    statements: usize,
    lines: &[BankLine],
    ledger: Vec<LedgerMoney>,
) -> BankReconciliation {
    let coverage = coverage(lines);
    let covered = |d: NaiveDate| coverage.values().any(|(a, b)| *a <= d && d <= *b);
    let mut taken = vec![false; lines.len()];
    let mut matched = Vec::new();
    let mut rest = Vec::new();
    let same_kind = |l: &BankLine, m: &LedgerMoney| {
        l.line.direction == m.direction && l.line.money.currency() == m.money.currency()
    };
    // Line numbers by reference and by amount, in statement order: each ledger entry looks only
    // at the lines it could match.
    let mut with_reference: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut with_units: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        if !l.line.reference.is_empty() {
            with_reference
                .entry(l.line.reference.as_str())
                .or_default()
                .push(i);
        }
        with_units.entry(l.line.money.units()).or_default().push(i);
    }
    for m in ledger {
        let by_reference = with_reference
            .get(m.reference.as_str())
            .and_then(|found| {
                found
                    .iter()
                    .find(|&&i| !taken[i] && same_kind(&lines[i], &m))
            })
            .copied();
        match by_reference {
            Some(i) => {
                taken[i] = true;
                let diff = m.money.units() - lines[i].line.money.units();
                let difference = (diff != 0).then(|| {
                    crate::asset::format_units(diff, lines[i].line.money.currency().exponent())
                });
                matched.push(MatchedPair {
                    line: BankLineView::from(&lines[i]),
                    ledger: m,
                    by: MatchedBy::Reference,
                    difference,
                });
            }
            None => rest.push(m),
        }
    }
    let mut unmatched_entries = Vec::new();
    for m in rest {
        let best = with_units
            .get(&m.money.units())
            .into_iter()
            .flatten()
            .map(|&i| (i, &lines[i]))
            .filter(|(i, l)| {
                !taken[*i]
                    && same_kind(l, &m)
                    && (l.line.booked_on - m.date).num_days().abs() <= MATCH_WINDOW_DAYS
            })
            .min_by_key(|(_, l)| {
                (
                    (l.line.booked_on - m.date).num_days().abs(),
                    l.statement,
                    l.line.row,
                )
            })
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                taken[i] = true;
                matched.push(MatchedPair {
                    line: BankLineView::from(&lines[i]),
                    ledger: m,
                    by: MatchedBy::AmountAndDate,
                    difference: None,
                });
            }
            None if covered(m.date) => unmatched_entries.push(m),
            None => {}
        }
    }
    let unmatched_lines = lines
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(l, _)| BankLineView::from(l))
        .collect();
    matched.sort_by_key(|p| (p.line.statement, p.line.row));
    BankReconciliation {
        statements,
        lines: lines.len(),
        coverage: coverage
            .into_iter()
            .map(|(statement, (from, to))| StatementCoverage {
                statement,
                from,
                to,
            })
            .collect(),
        matched,
        unmatched_entries,
        unmatched_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "date,amount,currency,direction,reference,counterparty\n";

    #[test]
    fn a_statement_parses_with_columns_in_any_order_and_a_bom() {
        let csv = "\u{feff}Reference,date,amount,currency,direction,counterparty\r\nTX-1,2020-02-01,5000.00,CNY,credit,\"某公司, 武汉\"\r\n,2020-02-02T10:00:00+08:00,12,CNY,debit,\r\n";
        let lines = parse_statement(csv.as_bytes()).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].row, 2);
        assert_eq!(lines[0].money.units(), 500_000);
        assert_eq!(lines[0].counterparty, "某公司, 武汉");
        assert_eq!(lines[1].direction, Direction::Debit);
        assert_eq!(
            lines[1].booked_on,
            NaiveDate::from_ymd_opt(2020, 2, 2).unwrap()
        );
    }

    #[test]
    fn a_malformed_statement_is_refused_whole_naming_row_and_column() {
        let csv = format!(
            "{HEADER}2020-02-01,5000.00,CNY,credit,TX-1,\n2020-02-31,5.001,CNY,sideways,TX-2,\n"
        );
        let e = parse_statement(csv.as_bytes()).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["row 3: date", "row 3: amount", "row 3: direction"]);
        let missing = parse_statement(b"date,amount,currency,direction,reference\n").unwrap_err();
        assert_eq!(missing.0[0].field, "row 1: counterparty");
        let short = format!("{HEADER}2020-02-01,5000.00,CNY\n");
        assert_eq!(
            parse_statement(short.as_bytes()).unwrap_err().0[0].field,
            "row 2"
        );
        assert_eq!(
            parse_statement(HEADER.as_bytes()).unwrap_err().0[0].field,
            "row 2"
        );
    }

    fn line(statement: i64, row: i64, day: u32, units: i64, reference: &str) -> BankLine {
        BankLine {
            statement,
            line: StatementLine {
                row,
                booked_on: NaiveDate::from_ymd_opt(2020, 2, day).unwrap(),
                direction: Direction::Credit,
                money: Money::from_units(Currency::parse("CNY").unwrap(), units),
                reference: reference.into(),
                counterparty: String::new(),
            },
        }
    }

    fn receipt(seq: i64, day: u32, units: i64, reference: &str) -> LedgerMoney {
        let money = Money::from_units(Currency::parse("CNY").unwrap(), units);
        LedgerMoney {
            entry: EntryAt::new("hubei-red-cross", seq),
            direction: Direction::Credit,
            date: NaiveDate::from_ymd_opt(2020, 2, day).unwrap(),
            amount: AssetWire::from(&Asset::Money(money)),
            reference: reference.into(),
            money,
        }
    }

    #[test]
    fn lines_match_by_reference_then_by_amount_within_the_window() {
        let lines = [
            line(1, 2, 1, 500_000, "HB-1"),
            line(1, 3, 4, 120_000, ""),
            line(1, 4, 5, 120_000, ""),
            line(1, 5, 6, 80_000, "TX-77"),
            line(1, 6, 9, 30_000, "HB-9"),
        ];
        let ledger = vec![
            receipt(1, 1, 500_000, "HB-1"),
            receipt(2, 5, 120_000, "HB-2"),
            receipt(3, 6, 30_000, "HB-3"),
            receipt(4, 20, 10_000, "HB-4"),
            receipt(5, 9, 31_000, "HB-9"),
        ];
        let r = reconcile(1, &lines, ledger);
        let pairs: Vec<(i64, i64, MatchedBy)> = r
            .matched
            .iter()
            .map(|p| (p.line.row, p.ledger.entry.seq, p.by))
            .collect();
        // #2 takes the nearest line of its amount (row 4, same day), not row 3.
        assert_eq!(
            pairs,
            [
                (2, 1, MatchedBy::Reference),
                (4, 2, MatchedBy::AmountAndDate),
                (6, 5, MatchedBy::Reference)
            ]
        );
        assert_eq!(r.matched[2].difference.as_deref(), Some("10.00"));
        // #3 has no line inside the statement's dates; #4 lies after them, so nothing is expected.
        let missing: Vec<i64> = r.unmatched_entries.iter().map(|m| m.entry.seq).collect();
        assert_eq!(missing, [3]);
        let stray: Vec<i64> = r.unmatched_lines.iter().map(|l| l.row).collect();
        assert_eq!(stray, [3, 5]);
        assert_eq!(
            r.coverage[0].to,
            NaiveDate::from_ymd_opt(2020, 2, 9).unwrap()
        );
    }

    #[test]
    fn money_no_line_could_account_for_changes_nothing_and_is_left_out() {
        let lines = [
            line(1, 2, 10, 500_000, "HB-1"),
            line(1, 3, 12, 120_000, ""),
            line(2, 2, 20, 80_000, ""),
        ];
        let ledger = vec![
            receipt(1, 1, 500_000, "HB-1"), // far before, but its reference is on a line
            receipt(2, 7, 120_000, "HB-2"), // three days before statement 1: may match by amount
            receipt(3, 6, 120_000, "HB-3"), // four days before: nothing can match it
            receipt(4, 15, 10_000, "HB-4"), // three days after statement 1
            receipt(5, 16, 10_000, "HB-5"), // between the statements, beyond both windows
            receipt(6, 23, 80_000, "HB-6"), // three days after statement 2
            receipt(7, 24, 80_000, "HB-7"), // beyond it
        ];
        let reach = Reach::new(&lines);
        let kept: Vec<LedgerMoney> = ledger
            .iter()
            .filter(|m| reach.covers(m.date, &m.reference))
            .cloned()
            .collect();
        let seqs: Vec<i64> = kept.iter().map(|m| m.entry.seq).collect();
        assert_eq!(seqs, [1, 2, 4, 6]);
        assert_eq!(reconcile(2, &lines, kept), reconcile(2, &lines, ledger));
        assert!(Reach::new(&[]).windows.is_empty());
    }
}
