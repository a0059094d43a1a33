//! The names of GB/T 2260 administrative divisions, so pages can say `湖北省 (420000)` rather
//! than `420000`.
//!
//! The table is the Ministry of Civil Affairs' list as at 2020-12-31 (provinces, prefectures and
//! counties), vendored in `vendor/gb2260/` with its source and licence, and embedded here at
//! compile time: looking a name up reads nothing at run time. English names exist for the
//! provincial level only ([`PROVINCES_EN`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

const PROVINCE_CSV: &str = include_str!("../../../vendor/gb2260/province.csv");
const CITY_CSV: &str = include_str!("../../../vendor/gb2260/city.csv");
const AREA_CSV: &str = include_str!("../../../vendor/gb2260/area.csv");

/// The English names of the provincial-level divisions, by their two-digit code.
pub const PROVINCES_EN: [(&str, &str); 34] = [
    ("11", "Beijing Municipality"),
    ("12", "Tianjin Municipality"),
    ("13", "Hebei Province"),
    ("14", "Shanxi Province"),
    ("15", "Inner Mongolia Autonomous Region"),
    ("21", "Liaoning Province"),
    ("22", "Jilin Province"),
    ("23", "Heilongjiang Province"),
    ("31", "Shanghai Municipality"),
    ("32", "Jiangsu Province"),
    ("33", "Zhejiang Province"),
    ("34", "Anhui Province"),
    ("35", "Fujian Province"),
    ("36", "Jiangxi Province"),
    ("37", "Shandong Province"),
    ("41", "Henan Province"),
    ("42", "Hubei Province"),
    ("43", "Hunan Province"),
    ("44", "Guangdong Province"),
    ("45", "Guangxi Zhuang Autonomous Region"),
    ("46", "Hainan Province"),
    ("50", "Chongqing Municipality"),
    ("51", "Sichuan Province"),
    ("52", "Guizhou Province"),
    ("53", "Yunnan Province"),
    ("54", "Xizang (Tibet) Autonomous Region"),
    ("61", "Shaanxi Province"),
    ("62", "Gansu Province"),
    ("63", "Qinghai Province"),
    ("64", "Ningxia Hui Autonomous Region"),
    ("65", "Xinjiang Uygur Autonomous Region"),
    ("71", "Taiwan Province"),
    ("81", "Hong Kong Special Administrative Region"),
    ("82", "Macao Special Administrative Region"),
];

/// Every division in the vendored table: six-digit code → Chinese name.
fn table() -> &'static BTreeMap<&'static str, &'static str> {
    static TABLE: OnceLock<BTreeMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        [PROVINCE_CSV, CITY_CSV, AREA_CSV]
            .iter()
            .flat_map(|csv| csv.lines().skip(1))
            .filter_map(|line| {
                let mut fields = line.split(',');
                let code = fields.next()?.trim();
                let name = fields.next()?.trim();
                // The table's placeholders for counties a province governs directly
                // (`429000,湖北省-自治区直辖县级行政区划`) are not divisions.
                let real = code.len() == 6
                    && code.bytes().all(|b| b.is_ascii_digit())
                    && !name.is_empty()
                    && !name.contains('-');
                real.then_some((code, name))
            })
            .collect()
    })
}

/// The Chinese name of the division with exactly this six-digit code, if the table has it.
pub fn name(code: &str) -> Option<&'static str> {
    table().get(code).copied()
}

/// How many divisions the table names at each level: provinces, prefectures, counties.
pub fn counts() -> (usize, usize, usize) {
    table().keys().fold((0, 0, 0), |(p, c, a), code| {
        if code.ends_with("0000") {
            (p + 1, c, a)
        } else if code.ends_with("00") {
            (p, c + 1, a)
        } else {
            (p, c, a + 1)
        }
    })
}

/// A region's names, as a page shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The Chinese name, with its prefecture (or province) before a county's, which alone is
    /// often ambiguous: `湖北省`, `武汉市`, `武汉市江岸区`.
    pub zh: String,
    /// The English name, for a provincial-level division: `Hubei Province`.
    pub en: Option<&'static str>,
    /// The English name of the province it lies in, when it is below the provincial level.
    pub province_en: Option<&'static str>,
}

/// The names of a region given as a six-digit code or a prefix of two, four or six digits (as
/// the region pages take it: `42` is Hubei, `4201` Wuhan); `None` when the table does not name
/// it or the text is no such code.
pub fn names(code: &str) -> Option<Names> {
    if !matches!(code.len(), 2 | 4 | 6) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let full = format!("{code:0<6}");
    let province = full.get(..2)?;
    let province_en = PROVINCES_EN
        .iter()
        .find(|(c, _)| *c == province)
        .map(|(_, n)| *n);
    let own = name(&full)?;
    if full.ends_with("0000") {
        return Some(Names {
            zh: own.to_owned(),
            en: province_en,
            province_en: None,
        });
    }
    let zh = if full.ends_with("00") {
        own.to_owned()
    } else {
        let prefecture = full
            .get(..4)
            .and_then(|p| name(&format!("{p}00")))
            .or_else(|| name(&format!("{province}0000")))
            .unwrap_or_default();
        format!("{prefecture}{own}")
    };
    Some(Names {
        zh,
        en: None,
        province_en,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_every_province_prefecture_and_county_of_2020() {
        let (provinces, prefectures, counties) = counts();
        assert_eq!(provinces, 34);
        assert_eq!(prefectures, 333, "337 rows less the four placeholders");
        assert_eq!(counties, 2846);
        for (code, _) in PROVINCES_EN {
            assert!(name(&format!("{code}0000")).is_some(), "{code}");
        }
    }

    #[test]
    fn names_read_at_each_level() {
        let hubei = names("420000").expect("Hubei");
        assert_eq!(hubei.zh, "湖北省");
        assert_eq!(hubei.en, Some("Hubei Province"));
        assert_eq!(names("42"), Some(hubei));
        let wuhan = names("420100").expect("Wuhan");
        assert_eq!(wuhan.zh, "武汉市");
        assert_eq!(
            (wuhan.en, wuhan.province_en),
            (None, Some("Hubei Province"))
        );
        assert_eq!(names("4201"), Some(wuhan));
        assert_eq!(names("420103").expect("district").zh, "武汉市江汉区");
        // Counties a province governs directly, and a municipality's districts, are named
        // under the province.
        assert_eq!(names("429004").expect("Xiantao").zh, "湖北省仙桃市");
        assert_eq!(names("110101").expect("Dongcheng").zh, "北京市东城区");
        assert_eq!(names("330100").expect("Hangzhou").zh, "杭州市");
    }

    #[test]
    fn unknown_or_malformed_codes_have_no_name() {
        for code in ["", "4", "429000", "999999", "42010", "4201a0", "4201000"] {
            assert_eq!(names(code), None, "{code:?}");
        }
    }
}
