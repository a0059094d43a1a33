//! A [`Table`] as an Excel workbook (Office Open XML, `.xlsx`), written in memory with
//! `rust_xlsxwriter`: one worksheet named after the table, the header row bold and frozen, and
//! each cell with its type.
//!
//! - [`Cell::Number`]: a number when the decimal converts to an IEEE double and back exactly,
//!   which holds for every decimal of at most 15 significant digits (Excel's own precision);
//!   shown with as many decimals as written (`"100.50"` as `100.50`, number format `0.00`).
//!   A decimal with more significant digits is written as text, so no digit is ever lost.
//! - [`Cell::Time`]: a date and time in UTC (format `yyyy-mm-dd hh:mm:ss`); Excel keeps it to
//!   the millisecond.
//! - [`Cell::Bool`]: a boolean; text and values: strings, never formulas (a leading `=` stays
//!   text, so no guard is needed).

use std::collections::HashMap;

use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

use super::table::{Cell, Table};

/// Most significant digits a decimal may have to be written as a number.
pub const MAX_NUMBER_DIGITS: usize = 15;

/// Longest text Excel keeps in a cell (UTF-16 units); longer text is cut with an ellipsis.
const MAX_CELL_TEXT: usize = 32_767;

/// The media type of a workbook.
pub const MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `s` as a double and its number of decimals, when `s` is a plain decimal
/// (`-?[0-9]+(\.[0-9]+)?`) of at most [`MAX_NUMBER_DIGITS`] significant digits.
pub fn exact_number(s: &str) -> Option<(f64, usize)> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !digits_only(int)
        || !digits_only(frac)
        || (s.contains('.') && frac.is_empty())
    {
        return None;
    }
    let all: String = format!("{int}{frac}");
    let significant = all.trim_start_matches('0').trim_end_matches('0').len();
    if significant > MAX_NUMBER_DIGITS {
        return None;
    }
    s.parse::<f64>().ok().map(|f| (f, frac.len()))
}

fn text_cell(s: &str) -> String {
    if s.encode_utf16().count() <= MAX_CELL_TEXT {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut units = 0;
    for c in s.chars() {
        units += c.len_utf16();
        if units > MAX_CELL_TEXT - 1 {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

fn date_time(t: &chrono::DateTime<chrono::Utc>) -> Result<ExcelDateTime, XlsxError> {
    let seconds = f64::from(t.second()) + f64::from(t.nanosecond() / 1_000) / 1e6;
    let year = u16::try_from(t.year()).map_err(|_| {
        XlsxError::DateTimeRangeError(format!("year {} is outside Excel's range", t.year()))
    })?;
    // Month, day, hour and minute always fit their types.
    ExcelDateTime::from_ymd(year, t.month() as u8, t.day() as u8)?.and_hms(
        t.hour() as u16,
        t.minute() as u8,
        seconds,
    )
}

/// The workbook of one worksheet holding `table`.
pub fn workbook(table: &Table) -> Result<Vec<u8>, String> {
    write(table).map_err(|e| format!("the workbook could not be written: {e}"))
}

fn write(table: &Table) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(table.name)?;
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let mut decimals: HashMap<usize, Format> = HashMap::new();
    for (c, name) in table.header.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| XlsxError::RowColumnLimitError)?;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) | Cell::Value(s) => {
                    sheet.write_string(r, c, text_cell(s))?;
                }
                Cell::Number(s) => match exact_number(s) {
                    Some((n, places)) => {
                        let format = decimals.entry(places).or_insert_with(|| {
                            let pattern = if places == 0 {
                                "0".to_owned()
                            } else {
                                format!("0.{}", "0".repeat(places))
                            };
                            Format::new().set_num_format(pattern)
                        });
                        sheet.write_number_with_format(r, c, n, format)?;
                    }
                    None => {
                        sheet.write_string(r, c, text_cell(s))?;
                    }
                },
                // Excel's dates run from 1900 to 9999: a moment outside them (a campaign said
                // to start in 0438) is written as its RFC 3339 text rather than failing the sheet.
                Cell::Time(t) => match date_time(t) {
                    Ok(d) => {
                        sheet.write_datetime_with_format(r, c, d, &when)?;
                    }
                    Err(_) => {
                        sheet.write_string(r, c, t.to_rfc3339())?;
                    }
                },
                Cell::Bool(b) => {
                    sheet.write_boolean(r, c, *b)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofit();
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_numbers_only_when_exact() {
        assert_eq!(exact_number("100.50"), Some((100.5, 2)));
        assert_eq!(exact_number("36000.000"), Some((36000.0, 3)));
        assert_eq!(exact_number("-5"), Some((-5.0, 0)));
        assert_eq!(exact_number("0.000001"), Some((0.000001, 6)));
        // 15 significant digits convert; 16 stay text.
        assert_eq!(
            exact_number("1234567890123.45"),
            Some((1_234_567_890_123.45, 2))
        );
        assert_eq!(exact_number("12345678901234.56"), None);
        assert_eq!(exact_number("10000000000000000000.00"), Some((1e19, 2)));
        for bad in ["", "1.", ".5", "1e5", "+1", "1,000", "NaN", "inf"] {
            assert_eq!(exact_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        let long = "武".repeat(40_000);
        let cut = text_cell(&long);
        assert_eq!(cut.encode_utf16().count(), MAX_CELL_TEXT);
        assert!(cut.ends_with('…'));
        assert_eq!(text_cell("short"), "short");
    }

    #[test]
    fn a_table_makes_a_zip_workbook() {
        let t = Table::new(
            "donations",
            vec!["seq", "amount", "at", "name"],
            vec![vec![
                Cell::Number("1".into()),
                Cell::Number("100.50".into()),
                Cell::Time(chrono::DateTime::from_timestamp(1_580_175_000, 0).expect("t")),
                Cell::Text("=1+1".into()),
            ]],
        );
        let bytes = t.xlsx().expect("workbook");
        assert!(bytes.starts_with(b"PK\x03\x04"));
    }
}
