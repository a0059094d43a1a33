//! Text as it comes in: the one rule every text field of a request, an import row or an uploaded
//! statement passes before it is stored or hashed.
//!
//! [`clean`] (and [`clean_line`] for names, which are one line) canonicalises to Unicode NFC,
//! trims, checks the length in characters of the NFC form, and refuses:
//! - control characters (general category Cc), except a line feed or tab in multi-line text;
//! - *invisible* characters: format characters (Cf: U+00AD soft hyphen, U+200B–U+200F zero-width
//!   and direction marks, U+202A–U+202E bidirectional embeddings and overrides, U+2060–U+2064,
//!   U+2066–U+2069 isolates, U+FEFF, …) and the line and paragraph separators (Zl U+2028,
//!   Zp U+2029). `HBRC-2020-00017\u{200b}` looks exactly like `HBRC-2020-00017`, and U+202E makes
//!   a name read backwards, so neither may stand in a receipt number, a reference or a name.
//!
//! Only new input goes through here. Stored bodies are read as they were written (their hashes
//! never change), so nothing that replays a log calls these functions.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::FieldError;

/// Why `c` may not appear in text, if it may not: `None` for an allowed character.
/// Line feed and tab are allowed only when `multiline`.
pub fn refused(c: char, multiline: bool) -> Option<&'static str> {
    match c.general_category() {
        GeneralCategory::Control if multiline && (c == '\n' || c == '\t') => None,
        GeneralCategory::Control => Some("control"),
        GeneralCategory::Format => Some("invisible or bidirectional-control"),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some("line or paragraph separator")
        }
        _ => None,
    }
}

/// `s` in Unicode Normalization Form C (composed: `e` + U+0301 becomes `é`).
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Whether two texts are the same once both are NFC and trimmed (names compared for duplicates).
pub fn same(a: &str, b: &str) -> bool {
    nfc(a.trim()).trim() == nfc(b.trim()).trim()
}

fn check(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
    multiline: bool,
) -> Result<String, FieldError> {
    let normal = nfc(value);
    let v = normal.trim();
    if required && v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    // Invisible characters are refused wherever they stand, even where trimming would drop them
    // (U+2028 and U+2029 are white space); control characters only inside the trimmed text.
    let leading = normal.chars().count() - normal.trim_start().chars().count();
    let found = normal.chars().enumerate().find_map(|(i, c)| {
        let what = refused(c, multiline)?;
        let inside = i >= leading && i < leading + v.chars().count();
        (inside || what != "control").then_some((i + 1, c, what))
    });
    if let Some((at, c, what)) = found {
        return Err(FieldError::new(
            field,
            format!(
                "must not contain {what} characters (U+{:04X} at character {at})",
                u32::from(c)
            ),
        ));
    }
    Ok(v.to_owned())
}

/// A text field that may span lines (descriptions, purposes, notes): NFC, trimmed, at most `max`
/// characters, no control character but line feed and tab, nothing invisible.
pub fn clean(field: &str, value: &str, max: usize, required: bool) -> Result<String, FieldError> {
    check(field, value, max, required, true)
}

/// A one-line text field (names, receipt numbers, references): as [`clean`], and no line feed or
/// tab either.
pub fn clean_line(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    check(field, value, max, required, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVISIBLE: [char; 22] = [
        '\u{00AD}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202A}',
        '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2060}', '\u{2061}', '\u{2062}',
        '\u{2063}', '\u{2064}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{FEFF}',
        '\u{2028}',
    ];

    #[test]
    fn invisible_and_bidirectional_controls_are_refused_anywhere() {
        for c in INVISIBLE.into_iter().chain(['\u{2029}']) {
            for text in [
                format!("HBRC-2020-00017{c}"),
                format!("{c}HBRC-2020-00017"),
                format!("HBRC{c}-2020-00017"),
            ] {
                let e = clean("receipt_number", &text, 200, true).unwrap_err();
                assert_eq!(e.field, "receipt_number");
                assert!(
                    e.message.contains(&format!("U+{:04X}", u32::from(c))),
                    "{}",
                    e.message
                );
            }
        }
        let e = clean_line("name", "协和\u{202E}医院", 200, true).unwrap_err();
        assert_eq!(
            e.message,
            "must not contain invisible or bidirectional-control characters (U+202E at character 3)"
        );
    }

    #[test]
    fn visible_text_passes_and_lines_only_where_allowed() {
        for ok in [
            "华中科技大学同济医学院附属协和医院",
            "Hôpital Saint-Éloi",
            "N95 respirator (GB 19083-2010)",
            "مستشفى",
            "a\u{3000}b",
        ] {
            assert_eq!(clean_line("name", ok, 200, true).unwrap(), ok);
        }
        assert_eq!(
            clean("note", "one\ntwo\tthree", 200, false).unwrap(),
            "one\ntwo\tthree"
        );
        assert!(clean_line("name", "one\ntwo", 200, true).is_err());
        assert!(clean("note", "bell\u{7}", 200, false).is_err());
        assert!(clean("note", "", 200, true).is_err());
        assert_eq!(clean("note", "  ", 200, false).unwrap(), "");
    }

    #[test]
    fn text_is_stored_composed() {
        let decomposed = "Cafe\u{301} Wuhan";
        let stored = clean_line("name", decomposed, 200, true).unwrap();
        assert_eq!(stored, "Caf\u{e9} Wuhan");
        assert!(same(decomposed, " Caf\u{e9} Wuhan "));
        // The limit counts the composed form: 200 × (e + U+0301) is 200 characters.
        assert!(clean("note", &"e\u{301}".repeat(200), 200, true).is_ok());
        assert!(clean("note", &"e\u{301}".repeat(201), 200, true).is_err());
    }
}
