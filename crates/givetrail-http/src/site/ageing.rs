//! The stock-ageing chart of an organisation page: per asset, one stacked horizontal bar for what
//! is unallocated and one for what is allocated but not sent, each split by how long its units
//! have waited (the summary's `ageing`, [`givetrail_domain::disclosure::ageing`]). Drawn as
//! server-side SVG like the flow chart, with the same figures as a table for screen readers and
//! text browsers. Geometry uses floats, amounts never do.

use givetrail_domain::disclosure::ageing::AgeBuckets;
use givetrail_domain::disclosure::summary::Summary;
use givetrail_domain::disclosure::AssetLabel;

use super::format;
use super::i18n::{fill, Lang, Text};

/// Most assets charted on one page.
pub const MAX_CHARTS: usize = 6;

/// Width of the drawing (its viewBox).
pub const WIDTH: f64 = 760.0;
const BAR_X: f64 = 190.0;
const BAR_WIDTH: f64 = 340.0;
const BAR_HEIGHT: f64 = 22.0;
const ROW: f64 = 46.0;
const LEGEND: f64 = 34.0;
/// Youngest to oldest: cool to warm.
pub const COLOURS: [&str; 5] = ["#9ecae1", "#4292c6", "#f0a32f", "#d9622b", "#a50f15"];

/// One bucket's part of a bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Left.
    pub x: String,
    /// Width.
    pub w: String,
    /// Fill.
    pub colour: &'static str,
    /// Tooltip: `bucket: amount`.
    pub title: String,
}

/// One stage's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Stage name.
    pub stage: String,
    /// Top.
    pub y: String,
    /// Baseline of the labels.
    pub text_y: String,
    /// Where the total is written (after the bar).
    pub value_x: String,
    /// Total held and the oldest unit's age.
    pub value: String,
    /// The buckets that hold something, youngest first.
    pub segments: Vec<Segment>,
    /// Table cells: the five buckets, the total, the oldest unit's hours.
    pub cells: Vec<String>,
}

/// A legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// Swatch left.
    pub x: String,
    /// Label left.
    pub text_x: String,
    /// Fill.
    pub colour: &'static str,
    /// Bucket name.
    pub name: &'static str,
}

/// One asset's chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Element id (for `aria-labelledby`).
    pub id: String,
    /// What is charted.
    pub asset: String,
    /// viewBox height.
    pub height: String,
    /// Where the stage names end (right-aligned before the bars).
    pub stage_x: String,
    /// Height of a bar.
    pub bar_height: String,
    /// Legend.
    pub keys: Vec<Key>,
    /// Unallocated, then undisbursed.
    pub bars: Vec<Bar>,
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// A decimal string as a float, for geometry only (0 when it does not parse).
fn size(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(0.0)
}

/// The charts of a summary: one per asset holding anything unallocated or undisbursed, in the
/// summary's order, at most [`MAX_CHARTS`].
pub fn charts(summary: &Summary, lang: Lang) -> Vec<Chart> {
    let t = lang.text();
    summary
        .assets
        .iter()
        .filter(|a| {
            a.ageing.unallocated.oldest_hours.is_some()
                || a.ageing.undisbursed.oldest_hours.is_some()
        })
        .take(MAX_CHARTS)
        .enumerate()
        .map(|(i, a)| {
            let stages = [
                (t.unallocated, &a.ageing.unallocated, &a.totals.unallocated),
                (t.undisbursed, &a.ageing.undisbursed, &a.totals.undisbursed),
            ];
            let largest = stages
                .iter()
                .map(|(_, _, total)| size(total))
                .fold(0.0, f64::max);
            let scale = if largest > 0.0 {
                BAR_WIDTH / largest
            } else {
                0.0
            };
            let bars = stages
                .iter()
                .enumerate()
                .map(|(row, (stage, buckets, total))| {
                    bar(row, stage, buckets, total, scale, &a.asset, t, lang)
                })
                .collect();
            Chart {
                id: format!("ageing-{i}"),
                asset: format::label(&a.asset),
                height: px(LEGEND + 2.0 * ROW),
                stage_x: px(BAR_X - 10.0),
                bar_height: px(BAR_HEIGHT),
                keys: legend(t),
                bars,
            }
        })
        .collect()
}

fn legend(t: &Text) -> Vec<Key> {
    let step = WIDTH / 5.0;
    t.ageing_buckets
        .iter()
        .zip(COLOURS)
        .enumerate()
        .map(|(i, (name, colour))| Key {
            x: px(i as f64 * step),
            text_x: px(i as f64 * step + 18.0),
            colour,
            name,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn bar(
    row: usize,
    stage: &str,
    buckets: &AgeBuckets,
    total: &str,
    scale: f64,
    label: &AssetLabel,
    t: &Text,
    lang: Lang,
) -> Bar {
    let y = LEGEND + row as f64 * ROW;
    let mut x = BAR_X;
    let mut segments = Vec::new();
    for ((amount, colour), name) in buckets
        .amounts()
        .into_iter()
        .zip(COLOURS)
        .zip(t.ageing_buckets)
    {
        let units = size(amount);
        if units <= 0.0 {
            continue;
        }
        // A sliver stays visible; the table has the exact figure.
        let w = (units * scale).max(2.0);
        segments.push(Segment {
            x: px(x),
            w: px(w),
            colour,
            title: format!(
                "{stage} · {name}: {}",
                format::amount_of(label, amount, lang)
            ),
        });
        x += w;
    }
    let oldest = buckets.oldest_hours.map(|h| h.to_string());
    let mut value = format::amount_of(label, total, lang);
    if let Some(h) = &oldest {
        value.push_str(" · ");
        value.push_str(&fill(
            t.ageing_oldest,
            &[("hours", &format::number(h, false))],
        ));
    }
    let mut cells: Vec<String> = buckets
        .amounts()
        .iter()
        .map(|a| format::amount_of(label, a, lang))
        .collect();
    cells.push(format::amount_of(label, total, lang));
    cells.push(oldest.unwrap_or_else(|| t.none.to_owned()));
    Bar {
        stage: stage.to_owned(),
        y: px(y),
        text_y: px(y + BAR_HEIGHT / 2.0 + 4.0),
        value_x: px(x + 8.0),
        value,
        segments,
        cells,
    }
}
