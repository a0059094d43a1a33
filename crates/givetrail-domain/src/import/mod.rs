//! The donations file a charity imports (`givetrail import`, `POST …/donations/import`), as CSV
//! ([`DonationCsv`]) or as an Excel workbook ([`sheet::DonationSheet`]): its columns, and the
//! pure mapping of one row to a [`DonationRequest`], with every problem named by row and column.
//!
//! Rows are numbered as a spreadsheet shows them: in a CSV the header is row 1, the first
//! donation row 2; in a workbook, the rows keep the sheet's own numbers.

pub mod sheet;

use std::io::Read;

use chrono::{DateTime, Utc};

use crate::asset::AssetWire;
use crate::entry::{DonationChannel, DonationRequest, DonorKind, DonorRequest, RestrictionWire};
use crate::error::{FieldError, RuleError, ValidationError};
use crate::ids::{RegionCode, Slug};
use crate::ledger::Rejection;

/// The columns of the donations CSV (docs/API.md, "HTTP paths"), in their documented order.
pub const COLUMNS: [&str; 20] = [
    "receipt_number",
    "occurred_at",
    "donor_name",
    "donor_kind",
    "anonymous",
    "donor_public_name",
    "donor_contact",
    "channel",
    "campaign",
    "restriction",
    "designated_region_code",
    "designated_recipient",
    "purpose",
    "asset_kind",
    "currency",
    "amount",
    "item",
    "spec",
    "unit",
    "quantity",
];

/// Columns every file must have (the others may be left out when they never apply).
pub const REQUIRED_COLUMNS: [&str; 5] = [
    "receipt_number",
    "occurred_at",
    "donor_name",
    "donor_kind",
    "asset_kind",
];

/// Longest CSV field accepted (longer than any valid value; stops runaway quoted fields early).
pub const MAX_FIELD_BYTES: usize = 8 * 1024;

/// Where each documented column sits in a file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    index: [Option<usize>; 20],
}

impl Header {
    /// Read a header row: names in any order (a UTF-8 byte-order mark is ignored), each at most
    /// once, none unknown, the required ones present.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Header, ValidationError> {
        Self::parse_row(1, names)
    }

    /// [`Header::parse`] of a header that is row `row` of its sheet.
    pub fn parse_row<'a>(
        row: u64,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Header, ValidationError> {
        let mut index = [None; 20];
        let mut errors = Vec::new();
        for (i, raw) in names.into_iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}').trim();
            match COLUMNS.iter().position(|c| *c == name) {
                Some(c) if index[c].is_some() => {
                    errors.push(FieldError::new(
                        row_field(row, name),
                        "the column appears twice in the header",
                    ));
                }
                Some(c) => index[c] = Some(i),
                None => errors.push(FieldError::new(
                    row_field(row, name),
                    format!("unknown column; the columns are {}", COLUMNS.join(", ")),
                )),
            }
        }
        for required in REQUIRED_COLUMNS {
            if column_index(required).and_then(|c| index[c]).is_none() {
                errors.push(FieldError::new(
                    row_field(row, required),
                    "the header lacks this required column",
                ));
            }
        }
        if errors.is_empty() {
            Ok(Header { index })
        } else {
            Err(ValidationError(errors))
        }
    }

    /// The column at position `i` of the file, if it is one of [`COLUMNS`].
    pub fn column_at(&self, i: usize) -> Option<&'static str> {
        self.index
            .iter()
            .position(|at| *at == Some(i))
            .map(|c| COLUMNS[c])
    }

    /// The trimmed value of `column` in `record` (empty when the file lacks the column).
    fn get<'r>(&self, record: &'r [&'r str], column: &str) -> &'r str {
        column_index(column)
            .and_then(|c| self.index[c])
            .and_then(|i| record.get(i).copied())
            .unwrap_or("")
            .trim()
    }
}

impl Header {
    /// How an error names the cell at position `i`: its column, else `field {i + 1}`.
    pub fn cell_name(&self, i: usize) -> String {
        self.column_at(i)
            .map_or_else(|| format!("field {}", i + 1), str::to_owned)
    }
}

fn column_index(column: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| *c == column)
}

/// The field name every error of `row` / `column` carries: `row 7: amount`.
pub fn row_field(row: u64, column: &str) -> String {
    if column.is_empty() {
        format!("row {row}")
    } else {
        format!("row {row}: {column}")
    }
}

/// The CSV column a request path (as the ledger rules name fields) comes from.
pub fn column_for_field(field: &str) -> &str {
    match field {
        "donor.name" => "donor_name",
        "donor.kind" => "donor_kind",
        "donor.anonymous" => "anonymous",
        "donor.public_name" => "donor_public_name",
        "donor.contact" => "donor_contact",
        "restriction" | "restriction.kind" => "restriction",
        "restriction.region_code" => "designated_region_code",
        "restriction.recipient" => "designated_recipient",
        "restriction.purpose" => "purpose",
        "asset" | "asset.kind" => "asset_kind",
        "asset.declared_value.amount" => "amount",
        "asset.declared_value.currency" => "currency",
        f => f.strip_prefix("asset.").unwrap_or(f),
    }
}

/// Name a refusal of the donation in `row` by row and CSV column (`row 7: campaign`).
pub fn name_row<E>(row: u64, rejection: Rejection<E>) -> Rejection<E> {
    let rename = |field: &str| row_field(row, column_for_field(field));
    match rejection {
        Rejection::Invalid(v) => Rejection::Invalid(ValidationError(
            v.0.into_iter()
                .map(|e| FieldError::new(rename(&e.field), e.message))
                .collect(),
        )),
        Rejection::Rule(r) => Rejection::Rule(match r {
            RuleError::NotFound { field, what } => RuleError::NotFound {
                what: format!("{}: {what}", rename(&field)),
                field: rename(&field),
            },
            RuleError::Conflict { field, message } => RuleError::Conflict {
                message: format!("{}: {message}", rename(&field)),
                field: rename(&field),
            },
            RuleError::Refused { field, message } => RuleError::Refused {
                message: format!("{}: {message}", rename(&field)),
                field: rename(&field),
            },
            RuleError::Forbidden { field, message } => RuleError::Forbidden {
                message: format!("{}: {message}", rename(&field)),
                field: rename(&field),
            },
        }),
        Rejection::Store(e) => Rejection::Store(e),
    }
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "" | "false" | "no" | "0" => Ok(false),
        "true" | "yes" | "1" => Ok(true),
        _ => Err("must be true or false (or empty for false)".into()),
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(value: &str, allowed: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| format!("must be one of {allowed}, not {value:?}"))
}

/// Map one data row (its cells, in file order) to a donation request; every problem is named
/// `row N: column`.
pub fn donation_from_row(
    header: &Header,
    row: u64,
    record: &[&str],
) -> Result<DonationRequest, ValidationError> {
    let mut errors = Vec::new();
    let get = |column: &str| header.get(record, column);
    let mut fail = |column: &str, message: String| {
        errors.push(FieldError::new(row_field(row, column), message));
    };
    let receipt_number = get("receipt_number").to_owned();
    if receipt_number.is_empty() {
        fail("receipt_number", "must not be empty".into());
    }
    let occurred_at = match DateTime::parse_from_rfc3339(get("occurred_at")) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            fail(
                "occurred_at",
                format!(
                    "must be an RFC 3339 time such as 2020-01-28T09:30:00+08:00, not {:?}",
                    get("occurred_at")
                ),
            );
            None
        }
    };
    let donor_name = get("donor_name").to_owned();
    if donor_name.is_empty() {
        fail("donor_name", "must not be empty".into());
    }
    let donor_kind = parse_enum::<DonorKind>(get("donor_kind"), "individual, organization")
        .map_err(|m| fail("donor_kind", m))
        .ok();
    let anonymous = parse_bool(get("anonymous"))
        .map_err(|m| fail("anonymous", m))
        .ok();
    let channel_text = get("channel");
    let channel = if channel_text.is_empty() {
        // Goods arrive in kind; money by bank transfer unless the file says otherwise.
        Some(if get("asset_kind") == "goods" {
            DonationChannel::InKind
        } else {
            DonationChannel::BankTransfer
        })
    } else {
        parse_enum::<DonationChannel>(
            channel_text,
            "bank_transfer, online_platform, cash, in_kind, transfer_from_charity",
        )
        .map_err(|m| fail("channel", m))
        .ok()
    };
    let campaign = match get("campaign") {
        "" => Some(None),
        c => Slug::parse(c)
            .map(Some)
            .map_err(|m| fail("campaign", m))
            .ok(),
    };
    let region_code = match get("designated_region_code") {
        "" => Some(None),
        r => RegionCode::parse(r)
            .map(Some)
            .map_err(|m| fail("designated_region_code", m))
            .ok(),
    };
    let designated_recipient = match get("designated_recipient") {
        "" => Some(None),
        r => Slug::parse(r)
            .map(Some)
            .map_err(|m| fail("designated_recipient", m))
            .ok(),
    };
    let purpose = optional(get("purpose"));
    let designation_given = !get("designated_region_code").is_empty()
        || !get("designated_recipient").is_empty()
        || purpose.is_some();
    let designated = match get("restriction") {
        "" => Some(designation_given),
        "designated" => Some(true),
        "none" if designation_given => {
            fail(
                "restriction",
                "is none, but a designated region, recipient or purpose is given".into(),
            );
            None
        }
        "none" => Some(false),
        other => {
            fail(
                "restriction",
                format!("must be none or designated, not {other:?}"),
            );
            None
        }
    };
    let asset = match get("asset_kind") {
        "money" => {
            for (column, given) in [
                ("item", get("item")),
                ("spec", get("spec")),
                ("unit", get("unit")),
                ("quantity", get("quantity")),
            ] {
                if !given.is_empty() {
                    fail(
                        column,
                        "applies to goods only; leave it empty for money".into(),
                    );
                }
            }
            Some(AssetWire::Money {
                amount: get("amount").to_owned(),
                currency: get("currency").to_owned(),
            })
        }
        "goods" => {
            let declared_value = match (get("amount"), get("currency")) {
                ("", "") => None,
                (amount, currency) => Some(crate::asset::MoneyWire {
                    kind: crate::asset::MoneyTag::Money,
                    amount: amount.to_owned(),
                    currency: currency.to_owned(),
                }),
            };
            Some(AssetWire::Goods {
                item: get("item").to_owned(),
                spec: get("spec").to_owned(),
                unit: get("unit").to_owned(),
                quantity: get("quantity").to_owned(),
                declared_value: declared_value.map(Box::new),
            })
        }
        other => {
            fail(
                "asset_kind",
                format!("must be money or goods, not {other:?}"),
            );
            None
        }
    };
    if let Some(a) = &asset {
        // Amounts and quantities are checked here too, so a bad row is found before any write.
        if let Err(v) = a.parse_input() {
            for e in v.0 {
                let column = match (a, e.field.as_str()) {
                    (AssetWire::Goods { .. }, f) if f.starts_with("declared_value.") => {
                        column_for_field(&format!("asset.{f}")).to_owned()
                    }
                    (_, f) => column_for_field(&format!("asset.{f}")).to_owned(),
                };
                fail(&column, e.message);
            }
        }
    }
    match (
        occurred_at,
        donor_kind,
        anonymous,
        channel,
        campaign,
        region_code,
        designated_recipient,
        designated,
        asset,
    ) {
        (
            Some(occurred_at),
            Some(kind),
            Some(anonymous),
            Some(channel),
            Some(campaign),
            Some(region_code),
            Some(recipient),
            Some(designated),
            Some(asset),
        ) if errors.is_empty() => Ok(DonationRequest {
            receipt_number,
            occurred_at,
            donor: DonorRequest {
                name: donor_name,
                kind,
                anonymous,
                public_name: optional(get("donor_public_name")),
                contact: optional(get("donor_contact")),
                related_recipients: Vec::new(),
            },
            campaign,
            channel,
            restriction: if designated {
                RestrictionWire::Designated {
                    region_code,
                    recipient,
                    purpose,
                    costs_allowed: false,
                }
            } else {
                RestrictionWire::None
            },
            asset,
            source_disbursement: None,
            designation_change: None,
        }),
        _ => Err(ValidationError(errors)),
    }
}

/// The two forms of a donations file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// CSV (`text/csv`), header on row 1.
    Csv,
    /// An Excel workbook (`.xlsx`), read from its first worksheet ([`sheet::DonationSheet`]).
    Xlsx,
}

/// A row as a reader yields it: its number and request, or its problems.
pub type Row = Result<(u64, DonationRequest), ValidationError>;

/// The rows of a donations file held in memory, and the number of the row after the header
/// (where the first donation belongs).
pub fn rows(
    format: FileFormat,
    bytes: &[u8],
) -> Result<(Box<dyn Iterator<Item = Row> + '_>, u64), ValidationError> {
    Ok(match format {
        FileFormat::Csv => (Box::new(DonationCsv::new(bytes)?), 2),
        FileFormat::Xlsx => {
            let sheet = sheet::DonationSheet::new(bytes)?;
            let first = sheet.header_row() + 1;
            (Box::new(sheet), first)
        }
    })
}

/// One row's cells, checked as any file's (length, no NUL), mapped to a donation request.
pub(crate) fn request_of(
    header: &Header,
    row: u64,
    cells: &[&str],
) -> Result<DonationRequest, ValidationError> {
    if let Some((i, _)) = cells
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() > MAX_FIELD_BYTES)
    {
        return Err(ValidationError::field(
            row_field(row, &header.cell_name(i)),
            format!("is longer than {MAX_FIELD_BYTES} bytes"),
        ));
    }
    // NUL cannot be stored as text (PostgreSQL refuses it): name the cell.
    if let Some(i) = cells.iter().position(|f| f.contains('\0')) {
        return Err(ValidationError::field(
            row_field(row, &header.cell_name(i)),
            "must not contain a NUL character",
        ));
    }
    donation_from_row(header, row, cells)
}

/// Reads a donations CSV row by row (memory stays flat with file size): each item is the row
/// number and its request, or the row's problems.
pub struct DonationCsv<R: Read> {
    reader: csv::Reader<R>,
    header: Header,
    record: csv::StringRecord,
}

impl<R: Read> DonationCsv<R> {
    /// Read the header row.
    pub fn new(input: R) -> Result<Self, ValidationError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let names = reader
            .headers()
            .map_err(|e| ValidationError::field("row 1", csv_message(&e)))?
            .clone();
        if names.is_empty() {
            return Err(ValidationError::field(
                "row 1",
                "the file is empty; it needs a header row",
            ));
        }
        let header = Header::parse(names.iter())?;
        Ok(DonationCsv {
            reader,
            header,
            record: csv::StringRecord::new(),
        })
    }
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("is not valid UTF-8 (field {})", err.field() + 1)
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} fields; the header has {expected_len}"),
        csv::ErrorKind::Io(io) => format!("cannot be read: {io}"),
        _ => format!("is not valid CSV: {e}"),
    }
}

impl<R: Read> Iterator for DonationCsv<R> {
    type Item = Result<(u64, DonationRequest), ValidationError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Row numbers count records (a quoted field may span lines): header = 1.
        let row = self.reader.position().record() + 1;
        match self.reader.read_record(&mut self.record) {
            Ok(false) => None,
            Err(e) => Some(Err(ValidationError::field(
                row_field(row, ""),
                csv_message(&e),
            ))),
            Ok(true) => {
                let cells: Vec<&str> = self.record.iter().collect();
                Some(request_of(&self.header, row, &cells).map(|d| (row, d)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "receipt_number,occurred_at,donor_name,donor_kind,anonymous,donor_public_name,donor_contact,channel,campaign,restriction,designated_region_code,designated_recipient,purpose,asset_kind,currency,amount,item,spec,unit,quantity\n";

    fn rows(body: &str) -> Vec<Result<(u64, DonationRequest), ValidationError>> {
        match DonationCsv::new(format!("{HEAD}{body}").as_bytes()) {
            Ok(r) => r.collect(),
            Err(e) => vec![Err(e)],
        }
    }

    #[test]
    fn money_and_goods_rows_map_to_requests() {
        let r = rows(
            "R-1,2020-01-28T09:30:00+08:00,Zhang San,individual,true,,138,online_platform,,,420100,,masks,money,CNY,100.50,,,,\n\
             R-2,2020-01-28T10:00:00Z,Acme Ltd,organization,,,,,wuhan,designated,,,,goods,,,N95 respirator,GB 19083-2010,piece,36000\n",
        );
        let (row, d) = r[0].clone().expect("row 2 parses");
        assert_eq!(row, 2);
        assert!(d.donor.anonymous);
        assert_eq!(d.donor.contact.as_deref(), Some("138"));
        assert!(
            matches!(d.restriction, RestrictionWire::Designated { ref purpose, .. } if purpose.as_deref() == Some("masks"))
        );
        assert_eq!(d.channel, DonationChannel::OnlinePlatform);
        let (row, d) = r[1].clone().expect("row 3 parses");
        assert_eq!(row, 3);
        assert_eq!(d.channel, DonationChannel::InKind);
        assert!(matches!(d.asset, AssetWire::Goods { ref quantity, .. } if quantity == "36000"));
    }

    #[test]
    fn errors_name_row_and_column() {
        let r = rows(
            "R-1,2020-01-28T09:30:00Z,A,individual,,,,,,,,,,money,CNY,1.00,,,,\n\
             R-2,yesterday,B,person,maybe,,,,,,,,,money,CNY,1.001,,,,\n",
        );
        assert!(r[0].is_ok());
        let e = r[1].clone().expect_err("row 3 is bad");
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "row 3: occurred_at",
                "row 3: donor_kind",
                "row 3: anonymous",
                "row 3: amount"
            ]
        );
    }

    #[test]
    fn header_problems_are_named() {
        let e = DonationCsv::new("receipt_number,occurred_at,donor,asset_kind\n".as_bytes())
            .err()
            .expect("bad header");
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["row 1: donor", "row 1: donor_name", "row 1: donor_kind"]
        );
        // Columns in any order, a byte-order mark, optional columns left out.
        let mut r = DonationCsv::new(
            "\u{feff}asset_kind,amount,currency,donor_kind,donor_name,occurred_at,receipt_number\nmoney,5,CNY,individual,Li,2020-02-01T00:00:00Z,R-9\n"
                .as_bytes(),
        )
        .expect("header");
        let (_, d) = r.next().expect("one row").expect("valid");
        assert_eq!(d.receipt_number, "R-9");
    }

    #[test]
    fn ragged_rows_are_named() {
        let r = rows("R-1,2020-01-28T09:30:00Z,A\n");
        let e = r[0].clone().expect_err("short row");
        assert_eq!(e.0[0].field, "row 2");
    }

    #[test]
    fn rule_refusals_are_renamed_to_columns() {
        let r: Rejection<()> = name_row(
            7,
            Rejection::Rule(RuleError::not_found("campaign", "campaign x")),
        );
        match r {
            Rejection::Rule(e) => assert_eq!(e.field(), "row 7: campaign"),
            _ => panic!("kept its kind"),
        }
        assert_eq!(
            column_for_field("restriction.recipient"),
            "designated_recipient"
        );
        assert_eq!(column_for_field("asset.amount"), "amount");
    }
}
