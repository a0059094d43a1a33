//! The donations file as an Excel workbook (`.xlsx`, read with `calamine` from bytes in
//! memory): the first worksheet, its first non-empty row the header (the same columns as the
//! CSV), every later row a donation, each numbered as the sheet numbers it. Blank rows are
//! skipped. Every cell becomes the text the CSV would have held, under the same grammar:
//!
//! - text and booleans as they are (`true`, `false`);
//! - a number cell (Excel keeps numbers as IEEE doubles) as the shortest decimal that reads back
//!   as the same double. A decimal typed with at most 15 significant digits (Excel's own
//!   precision) is exactly what was typed, less trailing zeros (`100.50` reads `100.5`), so
//!   the strict amount grammar and the currency's decimals apply to what the person typed. A
//!   number of more than 15 significant digits is refused: it may not be what was typed (a
//!   computed `0.1 + 0.2` is the double `0.30000000000000004`);
//! - a date cell is refused: a spreadsheet date has no time zone, and `occurred_at` needs one;
//! - an error cell (`#DIV/0!`) is refused.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};

use super::{request_of, row_field, Header};
use crate::entry::DonationRequest;
use crate::error::{FieldError, ValidationError};

/// Most significant digits a number cell may have (what a spreadsheet keeps exactly).
pub const MAX_NUMBER_DIGITS: usize = 15;

/// The text a number cell stands for, or why it is refused.
pub fn number_text(f: f64) -> Result<String, String> {
    if !f.is_finite() {
        return Err("is not a finite number".into());
    }
    // Rust prints a double as the shortest decimal that reads back as it, never in exponent form.
    let s = format!("{f}");
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    if digits.trim_start_matches('0').trim_end_matches('0').len() > MAX_NUMBER_DIGITS {
        return Err(format!(
            "is a number of more than {MAX_NUMBER_DIGITS} significant digits ({s}), more than a \
             spreadsheet keeps exactly; type it as text"
        ));
    }
    Ok(s)
}

/// The text of one cell as the CSV would hold it, or why it is refused.
pub fn cell_text(d: &Data) -> Result<String, String> {
    match d {
        Data::Empty => Ok(String::new()),
        Data::String(s) => Ok(s.clone()),
        Data::Int(i) => Ok(i.to_string()),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => Ok(b.to_string()),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => Err(
            "is a date cell, and a spreadsheet date has no time zone; type the time as RFC 3339 \
             text such as 2020-01-28T09:30:00+08:00"
                .into(),
        ),
        Data::Error(e) => Err(format!("holds the spreadsheet error {e}")),
    }
}

/// Reads the donations of a workbook's first worksheet: each item is the row number and its
/// request, or the row's problems.
pub struct DonationSheet {
    range: Range<Data>,
    header: Header,
    /// The sheet's number of the range's first row (the header).
    header_row: u64,
    /// How many columns the header names (cells to its right must be empty).
    width: usize,
    /// Next row of the range to read (0 is the header).
    next: usize,
}

impl DonationSheet {
    /// Open a workbook and read its header row.
    pub fn new(bytes: &[u8]) -> Result<Self, ValidationError> {
        let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
            ValidationError::field("file", format!("is not an Excel workbook (.xlsx): {e}"))
        })?;
        let range = match book.worksheet_range_at(0) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                return Err(ValidationError::field(
                    "file",
                    format!("its first worksheet cannot be read: {e}"),
                ))
            }
            None => {
                return Err(ValidationError::field(
                    "file",
                    "the workbook has no worksheet",
                ))
            }
        };
        let Some((first_row, _)) = range.start() else {
            return Err(ValidationError::field(
                "row 1",
                "the sheet is empty; it needs a header row",
            ));
        };
        let header_row = u64::from(first_row) + 1;
        let cells = range.rows().next().unwrap_or_default();
        let mut names = Vec::with_capacity(cells.len());
        let mut errors = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            match cell_text(c) {
                Ok(name) => names.push(name),
                Err(m) => {
                    errors.push(FieldError::new(
                        row_field(header_row, &format!("field {}", i + 1)),
                        m,
                    ));
                    names.push(String::new());
                }
            }
        }
        if !errors.is_empty() {
            return Err(ValidationError(errors));
        }
        let width = names
            .iter()
            .rposition(|n| !n.trim().is_empty())
            .map_or(0, |i| i + 1);
        let header = Header::parse_row(header_row, names[..width].iter().map(String::as_str))?;
        Ok(DonationSheet {
            range,
            header,
            header_row,
            width,
            next: 1,
        })
    }

    /// The sheet's number of its header row (the first donation is on a later row).
    pub fn header_row(&self) -> u64 {
        self.header_row
    }

    fn read(&self, row: u64, cells: &[Data]) -> Result<DonationRequest, ValidationError> {
        let mut texts = Vec::with_capacity(cells.len());
        let mut errors = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            let name = self.header.cell_name(i);
            match cell_text(c) {
                Ok(t) if i >= self.width && !t.trim().is_empty() => errors.push(FieldError::new(
                    row_field(row, &name),
                    "has a value, but the header names no column there",
                )),
                Ok(t) => texts.push(t),
                Err(m) => errors.push(FieldError::new(row_field(row, &name), m)),
            }
        }
        if !errors.is_empty() {
            return Err(ValidationError(errors));
        }
        let cells: Vec<&str> = texts.iter().map(String::as_str).collect();
        request_of(&self.header, row, &cells)
    }
}

impl Iterator for DonationSheet {
    type Item = Result<(u64, DonationRequest), ValidationError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let i = self.next;
            let cells = self.range.rows().nth(i)?;
            self.next += 1;
            if cells.iter().all(|c| matches!(c, Data::Empty)) {
                continue;
            }
            let row = self.header_row + i as u64;
            return Some(self.read(row, cells).map(|d| (row, d)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_cells_read_as_what_was_typed() {
        assert_eq!(number_text(100.5).as_deref(), Ok("100.5"));
        assert_eq!(number_text(36000.0).as_deref(), Ok("36000"));
        assert_eq!(number_text(0.1).as_deref(), Ok("0.1"));
        assert_eq!(number_text(-5.0).as_deref(), Ok("-5"));
        assert_eq!(
            number_text(123_456_789_012.345).as_deref(),
            Ok("123456789012.345")
        );
        // What no one typed: a sum's rounding error, and digits a double cannot hold.
        assert!(number_text(0.1 + 0.2).is_err_and(|m| m.contains("0.30000000000000004")));
        assert!(number_text(1234567890123456.0).is_err());
        assert!(number_text(f64::NAN).is_err());
    }

    #[test]
    fn cells_become_text_or_are_refused() {
        assert_eq!(cell_text(&Data::Int(420100)).as_deref(), Ok("420100"));
        assert_eq!(cell_text(&Data::Bool(true)).as_deref(), Ok("true"));
        assert_eq!(cell_text(&Data::Empty).as_deref(), Ok(""));
        assert!(cell_text(&Data::DateTimeIso("2020-01-28T09:30:00".into())).is_err());
        assert!(cell_text(&Data::Error(calamine::CellErrorType::Div0))
            .is_err_and(|m| m.contains("#DIV/0!")));
    }

    #[test]
    fn a_file_that_is_no_workbook_is_named() {
        let e = DonationSheet::new(b"receipt_number,occurred_at\n")
            .err()
            .expect("not a workbook");
        assert_eq!(e.0[0].field, "file");
    }
}
