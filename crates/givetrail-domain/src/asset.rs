//! Assets: money per currency and goods per (item, spec, unit), as exact decimals.
//!
//! On the wire every amount is a decimal string. Internally an amount is a count of
//! *units*: minor units of the currency for money (fen for CNY, cents for USD) and
//! thousandths for goods. Units are `i64`, which keeps sums exact in both SQLite and
//! PostgreSQL `BIGINT` columns.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{FieldError, ValidationError};

/// Largest amount of one asset in one entry, in units (10^15 units: ten trillion yuan in fen).
/// Keeps every sum of up to ~9,000 maximal entries inside `i64` and refuses absurd input early.
pub const MAX_UNITS: i64 = 1_000_000_000_000_000;

/// Decimal places of goods quantities.
pub const GOODS_SCALE: u32 = 3;

/// Longest item, spec or unit text.
pub const MAX_GOODS_TEXT: usize = 200;

/// ISO 4217 currencies accepted, with their minor-unit exponent.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("JPY", 0),
    ("KRW", 0),
    ("MOP", 2),
    ("NZD", 2),
    ("SGD", 2),
    ("TWD", 2),
    ("USD", 2),
];

/// The currencies accepted, as (ISO 4217 code, decimals of the minor unit).
pub fn currencies() -> impl Iterator<Item = (&'static str, u32)> {
    CURRENCIES.iter().copied()
}

/// An ISO 4217 currency this ledger knows the minor unit of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

impl Currency {
    /// Look up a currency by its ISO 4217 code.
    pub fn parse(code: &str) -> Result<Self, String> {
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(code, exponent)| Self {
                code,
                exponent: *exponent,
            })
            .ok_or_else(|| format!("unknown ISO 4217 currency '{code}'"))
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// Number of decimals of the currency's minor unit (2 for CNY, 0 for JPY).
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Parse a positive decimal string with at most `scale` decimals into units (`"12.5"`, scale 2 → 1250).
pub fn parse_units(text: &str, scale: u32) -> Result<i64, String> {
    parse_units_from(text, scale, false)
}

/// As [`parse_units`], but `"0"` is accepted (an acknowledgement that nothing arrived).
pub fn parse_units_or_zero(text: &str, scale: u32) -> Result<i64, String> {
    parse_units_from(text, scale, true)
}

/// Longest amount quoted back in an error message.
const MAX_QUOTED: usize = 40;

/// The one decimal grammar of every amount and quantity (API bodies, the donations CSV, bank
/// statements): ASCII digits, then optionally one point and at least one digit —
/// `[0-9]+(\.[0-9]+)?`. No sign, exponent, underscore, comma, space or other digit. The number of
/// decimals is checked on the text as written, before anything is rounded (`"1.000000000000000000000000000001"`
/// has 30 decimals, more than any currency has), and the value is built digit by digit with
/// checked arithmetic, so a digit string of any length is refused, never wrapped or rounded.
fn parse_units_from(text: &str, scale: u32, zero: bool) -> Result<i64, String> {
    let quoted = if text.chars().count() <= MAX_QUOTED {
        format!("'{text}' ")
    } else {
        String::new()
    };
    if text.starts_with('-') {
        return Err(if zero {
            "must not be negative".into()
        } else {
            "must be greater than zero".into()
        });
    }
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, frac),
        None => (text, ""),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (text.contains('.') && !digits(frac)) {
        return Err(format!(
            "{quoted}must be a plain decimal such as 1234.50: digits and at most one point, \
             without sign, exponent, separators or spaces"
        ));
    }
    if frac.len() > scale as usize {
        return Err(format!("must have at most {scale} decimal places"));
    }
    let pad = scale as usize - frac.len();
    let units = int
        .bytes()
        .chain(frac.bytes())
        .chain(std::iter::repeat_n(b'0', pad))
        .try_fold(0i64, |acc, b| {
            acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
        })
        .filter(|u| *u <= MAX_UNITS)
        .ok_or_else(|| format!("is too large: at most {} units", MAX_UNITS))?;
    if units == 0 && !zero {
        return Err("must be greater than zero".into());
    }
    Ok(units)
}

/// Format units at `scale` as a decimal string with exactly `scale` decimals (1250, 2 → `"12.50"`).
pub fn format_units(units: i64, scale: u32) -> String {
    Decimal::new(units, scale).to_string()
}

/// An amount of money: positive, in a known currency, with no more decimals than it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    currency: Currency,
    units: i64,
}

impl Money {
    /// Build from minor units.
    pub fn from_units(currency: Currency, units: i64) -> Self {
        Self { currency, units }
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Minor units.
    pub fn units(&self) -> i64 {
        self.units
    }

    /// The amount as a decimal string with the currency's decimals.
    pub fn amount(&self) -> String {
        format_units(self.units, self.currency.exponent)
    }
}

/// What kind of goods: the balance key of in-kind gifts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct GoodsKind {
    /// What it is, e.g. `N95 respirator`.
    pub item: String,
    /// Standard or model, e.g. `GB 19083-2010`.
    pub spec: String,
    /// Counting unit, e.g. `piece`, `box`, `set`.
    pub unit: String,
}

impl GoodsKind {
    /// The form goods are compared and balanced in: item, spec and unit trimmed with inner
    /// whitespace collapsed to one space, and the unit in lower case (`Piece` = `piece`). Stored
    /// bodies keep what was sent; only balance keys use this form.
    pub fn normalized(&self) -> GoodsKind {
        fn collapse(s: &str) -> String {
            s.split_whitespace().collect::<Vec<_>>().join(" ")
        }
        GoodsKind {
            item: collapse(&self.item),
            spec: collapse(&self.spec),
            unit: collapse(&self.unit).to_lowercase(),
        }
    }
}

/// An asset: money, or a quantity of goods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// Money.
    Money(Money),
    /// Goods; `declared_value` is the donor's stated value, informative only.
    Goods {
        /// What the goods are.
        kind: GoodsKind,
        /// Thousandths of `kind.unit`.
        units: i64,
        /// The value the donor declared.
        declared_value: Option<Money>,
    },
}

/// The key balances are kept under: one per currency, one per goods kind.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssetKey {
    /// Money in one currency.
    Money(Currency),
    /// One kind of goods (boxed: a key is kept in every lot, allocation and disbursement of the
    /// books in memory, and goods' three strings would size every money key too).
    Goods(Box<GoodsKind>),
}

impl AssetKey {
    /// Stable text form, used as a database key: `CNY` or `goods:["N95 respirator","GB 19083-2010","piece"]`.
    pub fn to_key_string(&self) -> String {
        match self {
            AssetKey::Money(c) => c.code().to_owned(),
            AssetKey::Goods(g) => {
                let parts = serde_json::json!([g.item, g.spec, g.unit]);
                format!("goods:{parts}")
            }
        }
    }

    /// Parse the text form written by [`AssetKey::to_key_string`].
    pub fn from_key_string(s: &str) -> Option<Self> {
        match s.strip_prefix("goods:") {
            Some(json) => {
                let [item, spec, unit]: [String; 3] = serde_json::from_str(json).ok()?;
                Some(AssetKey::Goods(Box::new(GoodsKind { item, spec, unit })))
            }
            None => Currency::parse(s).ok().map(AssetKey::Money),
        }
    }

    /// Decimals of this asset's units.
    pub fn scale(&self) -> u32 {
        match self {
            AssetKey::Money(c) => c.exponent(),
            AssetKey::Goods(_) => GOODS_SCALE,
        }
    }

    /// Units of this asset as a decimal string.
    pub fn format(&self, units: i64) -> String {
        format_units(units, self.scale())
    }

    /// Rebuild an asset of this key from units (no declared value).
    pub fn asset(&self, units: i64) -> Asset {
        match self {
            AssetKey::Money(c) => Asset::Money(Money::from_units(*c, units)),
            AssetKey::Goods(kind) => Asset::Goods {
                kind: GoodsKind::clone(kind),
                units,
                declared_value: None,
            },
        }
    }

    /// Whether this is money.
    pub fn is_money(&self) -> bool {
        matches!(self, AssetKey::Money(_))
    }
}

impl fmt::Display for AssetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetKey::Money(c) => f.write_str(c.code()),
            AssetKey::Goods(g) => write!(f, "{} ({}, {})", g.item, g.spec, g.unit),
        }
    }
}

impl Asset {
    /// The balance key.
    pub fn key(&self) -> AssetKey {
        match self {
            Asset::Money(m) => AssetKey::Money(m.currency),
            Asset::Goods { kind, .. } => AssetKey::Goods(Box::new(kind.normalized())),
        }
    }

    /// The amount in units.
    pub fn units(&self) -> i64 {
        match self {
            Asset::Money(m) => m.units,
            Asset::Goods { units, .. } => *units,
        }
    }

    /// `"money"` or `"goods"`.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Asset::Money(_) => "money",
            Asset::Goods { .. } => "goods",
        }
    }

    /// Human text: `50000.00 CNY`, `36000 piece N95 respirator`.
    pub fn describe(&self) -> String {
        match self {
            Asset::Money(m) => format!("{} {}", m.amount(), m.currency.code()),
            Asset::Goods { kind, units, .. } => {
                let q = Decimal::new(*units, GOODS_SCALE).normalize();
                format!("{q} {} {} ({})", kind.unit, kind.item, kind.spec)
            }
        }
    }
}

/// Wire form of an asset (both for requests and for the public body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssetWire {
    /// Money: `{"kind": "money", "amount": "1234.50", "currency": "CNY"}`.
    Money {
        /// Decimal string > 0 with no more decimals than the currency has.
        amount: String,
        /// ISO 4217 code.
        currency: String,
    },
    /// Goods: `{"kind": "goods", "item": "N95 respirator", "spec": "GB 19083-2010", "unit": "piece", "quantity": "36000"}`.
    Goods {
        /// What it is.
        item: String,
        /// Standard or model.
        #[serde(default)]
        spec: String,
        /// Counting unit.
        unit: String,
        /// Decimal string > 0, at most 3 decimals.
        quantity: String,
        // Boxed: rare, and every asset of every entry the read model keeps would carry its size.
        /// Optional value declared by the donor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        declared_value: Option<Box<MoneyWire>>,
    },
}

/// The tag of a money object (`"kind": "money"`), optional on input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoneyTag {
    /// Money.
    #[default]
    Money,
}

/// Wire form of a money amount: `{"kind": "money", "amount": "100.00", "currency": "CNY"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyWire {
    /// Always `money`.
    #[serde(default)]
    pub kind: MoneyTag,
    /// Decimal string > 0.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
}

impl MoneyWire {
    /// Parse into [`Money`].
    pub fn parse(&self) -> Result<Money, ValidationError> {
        let currency =
            Currency::parse(&self.currency).map_err(|m| ValidationError::field("currency", m))?;
        let units = parse_units(&self.amount, currency.exponent())
            .map_err(|m| ValidationError::field("amount", m))?;
        Ok(Money { currency, units })
    }
}

impl From<Money> for MoneyWire {
    fn from(m: Money) -> Self {
        Self {
            kind: MoneyTag::Money,
            amount: m.amount(),
            currency: m.currency.code().to_owned(),
        }
    }
}

fn goods_text(field: &str, value: &str, required: bool, input: bool) -> Result<String, FieldError> {
    if input {
        return crate::text::clean(field, value, MAX_GOODS_TEXT, required);
    }
    let v = value.trim();
    if required && v.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if v.chars().count() > MAX_GOODS_TEXT {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_GOODS_TEXT} characters"),
        ));
    }
    Ok(v.to_owned())
}

impl AssetWire {
    /// Parse a stored body's asset (field names in errors are relative to the asset): goods text
    /// is read as it was written, only trimmed, so a replay keys balances as they always were.
    pub fn parse(&self) -> Result<Asset, ValidationError> {
        self.parse_from(false, false)
    }

    /// As [`AssetWire::parse`], but an amount or quantity of `"0"` is accepted.
    pub fn parse_or_zero(&self) -> Result<Asset, ValidationError> {
        self.parse_from(true, false)
    }

    /// Parse an asset of new input: as [`AssetWire::parse`], and the goods' item, spec and unit
    /// pass [`crate::text::clean`] (NFC, no control or invisible character).
    pub fn parse_input(&self) -> Result<Asset, ValidationError> {
        self.parse_from(false, true)
    }

    /// As [`AssetWire::parse_input`], but an amount or quantity of `"0"` is accepted.
    pub fn parse_input_or_zero(&self) -> Result<Asset, ValidationError> {
        self.parse_from(true, true)
    }

    fn parse_from(&self, zero: bool, input: bool) -> Result<Asset, ValidationError> {
        match self {
            AssetWire::Money { amount, currency } => {
                let currency =
                    Currency::parse(currency).map_err(|m| ValidationError::field("currency", m))?;
                let units = parse_units_from(amount, currency.exponent(), zero)
                    .map_err(|m| ValidationError::field("amount", m))?;
                Ok(Asset::Money(Money { currency, units }))
            }
            AssetWire::Goods {
                item,
                spec,
                unit,
                quantity,
                declared_value,
            } => {
                let mut errors = Vec::new();
                let item = goods_text("item", item, true, input)
                    .map_err(|e| errors.push(e))
                    .ok();
                let spec = goods_text("spec", spec, false, input)
                    .map_err(|e| errors.push(e))
                    .ok();
                let unit = goods_text("unit", unit, true, input)
                    .map_err(|e| errors.push(e))
                    .ok();
                let units = parse_units_from(quantity, GOODS_SCALE, zero)
                    .map_err(|m| errors.push(FieldError::new("quantity", m)))
                    .ok();
                let declared_value = match declared_value {
                    Some(v) => v
                        .parse()
                        .map_err(|e| errors.extend(e.under("declared_value").0))
                        .ok(),
                    None => None,
                };
                match (item, spec, unit, units) {
                    (Some(item), Some(spec), Some(unit), Some(units)) if errors.is_empty() => {
                        Ok(Asset::Goods {
                            kind: GoodsKind { item, spec, unit },
                            units,
                            declared_value,
                        })
                    }
                    _ => Err(ValidationError(errors)),
                }
            }
        }
    }
}

impl From<&Asset> for AssetWire {
    fn from(a: &Asset) -> Self {
        match a {
            Asset::Money(m) => AssetWire::Money {
                amount: m.amount(),
                currency: m.currency.code().to_owned(),
            },
            Asset::Goods {
                kind,
                units,
                declared_value,
            } => AssetWire::Goods {
                item: kind.item.clone(),
                spec: kind.spec.clone(),
                unit: kind.unit.clone(),
                quantity: format_units(*units, GOODS_SCALE),
                declared_value: declared_value.map(|v| Box::new(MoneyWire::from(v))),
            },
        }
    }
}

impl Serialize for Asset {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        AssetWire::from(self).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly_and_refuse_bad_precision() {
        assert_eq!(parse_units("1234.50", 2), Ok(123450));
        assert_eq!(parse_units("1234.5", 2), Ok(123450));
        assert_eq!(parse_units("36000", 3), Ok(36_000_000));
        assert!(parse_units("1.234", 2).is_err());
        assert!(parse_units("0", 2).is_err());
        assert!(parse_units("-5", 2).is_err());
        assert!(parse_units("1e3", 2).is_err());
        assert!(parse_units("abc", 2).is_err());
        assert!(parse_units("99999999999999999999999", 2).is_err());
        assert_eq!(parse_units_or_zero("0", 3), Ok(0));
        assert_eq!(parse_units_or_zero("0.000", 3), Ok(0));
        assert!(parse_units_or_zero("-0", 3).is_err());
        assert!(parse_units_or_zero("-1", 3).is_err());
        assert_eq!(format_units(123450, 2), "1234.50");
        assert_eq!(format_units(36_000_000, 3), "36000.000");
    }

    #[test]
    fn the_decimal_grammar_is_strict_and_never_rounds() {
        // Digits, one optional point with digits after it: nothing else.
        for bad in [
            "1_000.00",
            "1e3",
            "1E3",
            "+1",
            " 1",
            "1 ",
            "1,000.00",
            "1.",
            ".5",
            "",
            ".",
            "1..0",
            "1.0.0",
            "0x10",
            "１",
            "١",
            "NaN",
            "inf",
            "1\u{200b}",
            "\u{200b}1",
        ] {
            let e = parse_units(bad, 2).unwrap_err();
            assert!(e.contains("plain decimal"), "{bad:?}: {e}");
        }
        // More decimals than allowed, however many and whatever they are: refused, not rounded.
        assert_eq!(
            parse_units("1.000000000000000000000000000001", 2),
            Err("must have at most 2 decimal places".into())
        );
        assert!(parse_units("1.000", 2).is_err());
        assert!(parse_units("1.0", 0).is_err());
        assert!(parse_units(&format!("1.{}", "0".repeat(100_000)), 3).is_err());
        // Any length of digits: a clean refusal, never a wrap or a panic.
        for long in [
            "9223372036854775808".to_string(),
            "1".repeat(10_000),
            format!("{}.5", "9".repeat(40)),
        ] {
            assert!(parse_units(&long, 2)
                .unwrap_err()
                .starts_with("is too large"));
        }
        assert_eq!(parse_units("10000000000000.00", 2), Ok(MAX_UNITS));
        assert!(parse_units("10000000000000.01", 2).is_err());
        // Leading zeros are digits like any other.
        assert_eq!(parse_units("007.5", 2), Ok(750));
        assert_eq!(parse_units("0.01", 2), Ok(1));
        assert!(parse_units("0.00", 2).is_err());
        assert_eq!(
            parse_units_or_zero("-0", 3),
            Err("must not be negative".into())
        );
        assert_eq!(
            parse_units("-1", 3),
            Err("must be greater than zero".into())
        );
        // Long input is not quoted back.
        assert!(!parse_units(&"x".repeat(1000), 2)
            .unwrap_err()
            .contains("xxx"));
    }

    #[test]
    fn goods_text_of_new_input_is_checked_and_composed() {
        let wire = |item: &str| AssetWire::Goods {
            item: item.into(),
            spec: String::new(),
            unit: "piece".into(),
            quantity: "1".into(),
            declared_value: None,
        };
        let e = wire("N95\u{200b}").parse_input().unwrap_err();
        assert_eq!(e.0[0].field, "item");
        // A stored body is read as written.
        assert!(wire("N95\u{200b}").parse().is_ok());
        let Asset::Goods { kind, .. } = wire("Caf\u{65}\u{301}").parse_input().unwrap() else {
            panic!("goods")
        };
        assert_eq!(kind.item, "Caf\u{e9}");
    }

    #[test]
    fn currency_decimals_are_enforced() {
        let jpy = MoneyWire {
            kind: MoneyTag::Money,
            amount: "10.5".into(),
            currency: "JPY".into(),
        };
        assert_eq!(jpy.parse().unwrap_err().0[0].field, "amount");
        let xxx = MoneyWire {
            kind: MoneyTag::Money,
            amount: "10".into(),
            currency: "XXX".into(),
        };
        assert_eq!(xxx.parse().unwrap_err().0[0].field, "currency");
    }

    #[test]
    fn goods_keys_compare_after_normalising() {
        let wire = |item: &str, unit: &str| AssetWire::Goods {
            item: item.into(),
            spec: "GB  19083-2010".into(),
            unit: unit.into(),
            quantity: "1".into(),
            declared_value: None,
        };
        let a = wire(" N95   respirator ", "Piece").parse().unwrap();
        let b = wire("N95 respirator", "piece").parse().unwrap();
        assert_eq!(a.key(), b.key());
        assert_ne!(
            a.key(),
            wire("n95 respirator", "piece").parse().unwrap().key()
        );
        // The body keeps what was sent (trimmed).
        let AssetWire::Goods { item, unit, .. } = AssetWire::from(&a) else {
            panic!("goods")
        };
        assert_eq!(
            (item.as_str(), unit.as_str()),
            ("N95   respirator", "Piece")
        );
    }

    #[test]
    fn asset_keys_round_trip() {
        let k = AssetKey::Goods(Box::new(GoodsKind {
            item: "N95 \"respirator\"|x".into(),
            spec: "GB 19083-2010".into(),
            unit: "piece".into(),
        }));
        assert_eq!(AssetKey::from_key_string(&k.to_key_string()), Some(k));
        let m = AssetKey::Money(Currency::parse("CNY").unwrap());
        assert_eq!(AssetKey::from_key_string(&m.to_key_string()), Some(m));
    }
}
