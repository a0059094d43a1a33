//! Numbers, money, goods and dates as a reader of each language expects them. Amounts arrive as
//! the exact decimal strings of the API and stay strings: grouping digits never needs a float.

use chrono::{DateTime, Datelike, Timelike, Utc};

use givetrail_domain::asset::AssetWire;
use givetrail_domain::disclosure::AssetLabel;

use super::i18n::Lang;

/// `"36000.000"` → `"36,000"`, `"50000.00"` → `"50,000.00"`, `"-0.50"` → `"-0.50"`; goods
/// quantities lose trailing zero decimals, money keeps its currency's decimals.
pub fn number(decimal: &str, keep_decimals: bool) -> String {
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", decimal),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let frac = if keep_decimals {
        frac
    } else {
        frac.trim_end_matches('0')
    };
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// Money with its currency: `CN¥50,000.00` in English, `¥50,000.00` in Chinese (CLDR symbols
/// for the common currencies, the ISO code otherwise).
pub fn money(amount: &str, currency: &str, lang: Lang) -> String {
    let symbol = match (currency, lang) {
        ("CNY", Lang::Zh) => "¥",
        ("CNY", Lang::En) => "CN¥",
        ("USD", Lang::Zh) => "US$",
        ("USD", Lang::En) => "$",
        ("JPY", Lang::Zh) => "JP¥",
        ("JPY", Lang::En) => "¥",
        ("EUR", _) => "€",
        ("HKD", _) => "HK$",
        ("GBP", _) => "£",
        _ => "",
    };
    let n = number(amount, true);
    if symbol.is_empty() {
        format!("{currency} {n}")
    } else {
        format!("{symbol}{n}")
    }
}

/// A goods unit in the reader's language (the common ones; others as recorded).
pub fn unit(unit: &str, lang: Lang) -> String {
    match (lang, unit) {
        (Lang::Zh, "piece" | "pieces") => "件".into(),
        (Lang::Zh, "box" | "boxes") => "箱".into(),
        (Lang::Zh, "set" | "sets") => "套".into(),
        (Lang::Zh, "bottle" | "bottles") => "瓶".into(),
        (Lang::En, "piece") => "pieces".into(),
        (Lang::En, "box") => "boxes".into(),
        (Lang::En, "set") => "sets".into(),
        (_, other) => other.into(),
    }
}

/// A quantity of goods with its unit: `36,000 pieces`, `36,000 件`.
pub fn quantity(q: &str, u: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}{}", number(q, false), unit(u, lang)),
        Lang::En => format!("{} {}", number(q, false), unit(u, lang)),
    }
}

/// An amount of an asset known by its label (`amount` is the decimal string).
pub fn amount_of(label: &AssetLabel, amount: &str, lang: Lang) -> String {
    match label {
        AssetLabel::Money { currency } => money(amount, currency, lang),
        AssetLabel::Goods { unit, .. } => quantity(amount, unit, lang),
    }
}

/// What an asset is, without an amount: `CNY`, `N95 respirator (GB 19083-2010)`.
pub fn label(label: &AssetLabel) -> String {
    match label {
        AssetLabel::Money { currency } => currency.clone(),
        AssetLabel::Goods { item, spec, .. } if spec.is_empty() => item.clone(),
        AssetLabel::Goods { item, spec, .. } => format!("{item} ({spec})"),
    }
}

/// A whole asset: `CN¥50,000.00`, `36,000 pieces N95 respirator (GB 19083-2010)`.
pub fn asset(a: &AssetWire, lang: Lang) -> String {
    match a {
        AssetWire::Money { amount, currency } => money(amount, currency, lang),
        AssetWire::Goods {
            item,
            spec,
            unit,
            quantity: q,
            ..
        } => {
            let what = if spec.is_empty() {
                item.clone()
            } else {
                format!("{item} ({spec})")
            };
            format!("{} {what}", quantity(q, unit, lang))
        }
    }
}

/// The label of a wire asset.
pub fn asset_label(a: &AssetWire) -> AssetLabel {
    match a {
        AssetWire::Money { currency, .. } => AssetLabel::Money {
            currency: currency.clone(),
        },
        AssetWire::Goods {
            item, spec, unit, ..
        } => AssetLabel::Goods {
            item: item.clone(),
            spec: spec.clone(),
            unit: unit.clone(),
        },
    }
}

/// A date and time in UTC: `30 Jan 2020, 10:00 UTC` / `2020年1月30日 10:00 (UTC)`.
pub fn datetime(t: &DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!(
            "{}年{}月{}日 {:02}:{:02} (UTC)",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute()
        ),
        Lang::En => format!("{}, {:02}:{:02} UTC", date(t, lang), t.hour(), t.minute()),
    }
}

/// A date: `30 Jan 2020` / `2020年1月30日`.
pub fn date(t: &DateTime<Utc>, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match lang {
        Lang::Zh => format!("{}年{}月{}日", t.year(), t.month(), t.day()),
        Lang::En => format!(
            "{} {} {}",
            t.day(),
            MONTHS[t.month0() as usize % 12],
            t.year()
        ),
    }
}

/// The `datetime` attribute of a `<time>` element.
pub fn iso(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A region code (six digits, or a prefix of two or four as the region pages take it) with its
/// GB/T 2260 name: `湖北省 (420000)`, `武汉市江汉区 (420103)`; in English the provincial name in
/// both languages (`Hubei Province 湖北省 (420000)`) and, below it, the Chinese name with the
/// province's English one (`武汉市, Hubei Province (420100)`). A code the table does not name is
/// shown as it is.
pub fn region(code: &str, lang: Lang) -> String {
    let Some(n) = givetrail_domain::divisions::names(code) else {
        return code.to_owned();
    };
    match (lang, n.en, n.province_en) {
        (Lang::En, Some(en), _) => format!("{en} {} ({code})", n.zh),
        (Lang::En, None, Some(province)) => format!("{}, {province} ({code})", n.zh),
        _ => format!("{} ({code})", n.zh),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn regions_are_named_in_each_language() {
        assert_eq!(region("420000", Lang::Zh), "湖北省 (420000)");
        assert_eq!(region("420000", Lang::En), "Hubei Province 湖北省 (420000)");
        assert_eq!(region("420100", Lang::Zh), "武汉市 (420100)");
        assert_eq!(region("4201", Lang::En), "武汉市, Hubei Province (4201)");
        assert_eq!(region("420103", Lang::Zh), "武汉市江汉区 (420103)");
        assert_eq!(region("990000", Lang::Zh), "990000");
    }

    #[test]
    fn digits_are_grouped_exactly() {
        assert_eq!(number("36000.000", false), "36,000");
        assert_eq!(number("1000000.50", true), "1,000,000.50");
        assert_eq!(number("999.125", false), "999.125");
        assert_eq!(number("-1200.000", false), "-1,200");
        assert_eq!(number("0.00", true), "0.00");
        assert_eq!(number("12", false), "12");
    }

    #[test]
    fn money_carries_its_currency_in_each_language() {
        assert_eq!(money("50000.00", "CNY", Lang::Zh), "¥50,000.00");
        assert_eq!(money("50000.00", "CNY", Lang::En), "CN¥50,000.00");
        assert_eq!(money("20000.00", "USD", Lang::Zh), "US$20,000.00");
        assert_eq!(money("5.00", "CHF", Lang::En), "CHF 5.00");
    }

    #[test]
    fn goods_and_dates_read_naturally() {
        assert_eq!(quantity("36000.000", "piece", Lang::En), "36,000 pieces");
        assert_eq!(quantity("36000.000", "piece", Lang::Zh), "36,000件");
        let t = Utc
            .with_ymd_and_hms(2020, 1, 30, 10, 5, 0)
            .single()
            .expect("t");
        assert_eq!(datetime(&t, Lang::En), "30 Jan 2020, 10:05 UTC");
        assert_eq!(datetime(&t, Lang::Zh), "2020年1月30日 10:05 (UTC)");
    }
}
