//! Identifiers of the domain: slugs, administrative-division codes and unified social credit codes.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::ValidationError;

/// Longest slug accepted (organisation, recipient, campaign, need ids).
pub const MAX_SLUG_LEN: usize = 64;

/// A human key used in paths: lowercase ASCII letters, digits and single hyphens, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parse a slug.
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if s.is_empty() || s.len() > MAX_SLUG_LEN {
            return Err(format!("must be 1 to {MAX_SLUG_LEN} characters"));
        }
        if !ok_chars || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err("must be lowercase letters, digits and single inner hyphens".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 6-digit administrative-division code (GB/T 2260), e.g. `420100` for Wuhan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parse a region code: exactly six ASCII digits, not starting with `0`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return Err("must be a 6-digit administrative division code such as 420100".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix that designates this division and everything inside it:
    /// `420000` → `42`, `420100` → `4201`, `420103` → `420103`.
    pub fn prefix(&self) -> &str {
        let mut p = self.0.as_str();
        while p.len() > 2 && p.ends_with("00") {
            p = &p[..p.len() - 2];
        }
        p
    }

    /// Whether `other` lies inside this division.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix())
    }
}

impl TryFrom<String> for RegionCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<RegionCode> for String {
    fn from(s: RegionCode) -> String {
        s.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a region code falls under a jurisdiction or priority prefix (`""` = everything).
pub fn region_has_prefix(region: &str, prefix: &str) -> bool {
    region.starts_with(prefix)
}

/// Validate a jurisdiction or priority-region prefix: 0 to 6 digits.
pub fn parse_region_prefix(s: &str) -> Result<String, String> {
    if s.len() > 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be 0 to 6 digits of an administrative division code".into());
    }
    Ok(s.to_owned())
}

const CREDIT_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character unified social credit code (GB 32100-2015) whose check character is correct.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Parse and verify a credit code, including its check character.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bytes = s.as_bytes();
        if bytes.len() != 18 {
            return Err("must be 18 characters".into());
        }
        let mut values = [0u32; 18];
        for (i, b) in bytes.iter().enumerate() {
            let Some(v) = CREDIT_ALPHABET.iter().position(|c| c == b) else {
                return Err(format!(
                    "character {} ('{}') is not allowed in a credit code",
                    i + 1,
                    char::from(*b)
                ));
            };
            values[i] = v as u32;
        }
        if !s[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err("characters 3 to 8 must be the administrative division code".into());
        }
        let check = check_value(&values[..17]);
        if values[17] != check {
            return Err(format!(
                "check character should be '{}'",
                char::from(CREDIT_ALPHABET[check as usize])
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_value(first17: &[u32]) -> u32 {
    let sum: u32 = first17.iter().zip(CREDIT_WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31
}

/// The check character for the first 17 characters of a credit code (for tools and fixtures).
pub fn credit_code_check_char(first17: &str) -> Option<char> {
    let values: Option<Vec<u32>> = first17
        .bytes()
        .map(|b| {
            CREDIT_ALPHABET
                .iter()
                .position(|c| *c == b)
                .map(|v| v as u32)
        })
        .collect();
    let values = values?;
    (values.len() == 17).then(|| char::from(CREDIT_ALPHABET[check_value(&values) as usize]))
}

impl TryFrom<String> for CreditCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(s: CreditCode) -> String {
        s.0
    }
}

/// Turn a `Result<T, String>` from a parser into a field-named validation error.
pub fn named<T>(field: &str, r: Result<T, String>) -> Result<T, ValidationError> {
    r.map_err(|m| ValidationError::field(field, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_prefix_strips_trailing_zero_pairs() {
        assert_eq!(RegionCode::parse("420000").unwrap().prefix(), "42");
        assert_eq!(RegionCode::parse("420100").unwrap().prefix(), "4201");
        assert_eq!(RegionCode::parse("420103").unwrap().prefix(), "420103");
        let hubei = RegionCode::parse("420000").unwrap();
        assert!(hubei.contains(&RegionCode::parse("420103").unwrap()));
        assert!(!hubei.contains(&RegionCode::parse("330100").unwrap()));
    }

    #[test]
    fn credit_code_check_character_is_verified() {
        // A code built with the GB 32100-2015 algorithm.
        let first17 = "53420000MJ0000001";
        let check = credit_code_check_char(first17).unwrap();
        let code = format!("{first17}{check}");
        assert!(CreditCode::parse(&code).is_ok());
        let wrong = if check == '0' { '1' } else { '0' };
        assert!(CreditCode::parse(&format!("{first17}{wrong}")).is_err());
        assert!(CreditCode::parse("too-short").is_err());
        assert!(CreditCode::parse("53420000MJ000000IO").is_err());
    }

    #[test]
    fn published_credit_code_verifies() {
        // The Red Cross Society of China's code as published on its certificate.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn slugs_are_strict() {
        assert!(Slug::parse("hubei-red-cross").is_ok());
        for bad in ["", "Hubei", "a--b", "-a", "a-", "a b", "红十字"] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
    }
}
