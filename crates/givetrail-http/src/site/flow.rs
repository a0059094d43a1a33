//! The flow diagram of an organisation page: for one asset, bands from donors (left) to the
//! recipients that received it (right), plus what the charity spent on its own costs, what it
//! spent buying goods, and what it has not sent yet. Drawn as server-side SVG: no JavaScript,
//! no library.
//!
//! A purchase shows on both sides of its conversion: in the money's chart as its own sink
//! ("goods bought"), never as a cost, and in the goods' chart as their source ("bought with
//! donated money"), from where they flow on to recipients like donated goods.
//!
//! The flows are the ledger's oldest-first attribution of allocations and disbursements to
//! donations ([`flows::shares`]); this module only groups and lays them out. Geometry uses floats, amounts never do.

use std::collections::BTreeMap;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::disclosure::{flows, AssetLabel, Directory, Ledger};
use givetrail_domain::entry::{Fact, Seq};

use super::format;
use super::i18n::{Lang, Text};

/// Most donor nodes drawn; the rest are merged into "other donors".
pub const MAX_DONOR_NODES: usize = 6;
/// Most recipient nodes drawn; the rest are merged into "other recipients".
pub const MAX_RECIPIENT_NODES: usize = 7;
/// Most assets charted on one page.
pub const MAX_CHARTS: usize = 6;

const WIDTH: f64 = 760.0;
const NODE_WIDTH: f64 = 14.0;
const LEFT_X: f64 = 210.0;
const RIGHT_X: f64 = WIDTH - 210.0 - NODE_WIDTH;
const GAP: f64 = 12.0;
/// Height of all the bars of one side together (the gaps and label slots come on top).
const DATA_HEIGHT: f64 = 260.0;
/// Smallest vertical slot of a bar: room for its name and amount.
const MIN_SLOT: f64 = 34.0;
const LABEL_CHARS: usize = 13;
const PALETTE: [&str; 7] = [
    "#1f6f8b", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#2c3e50", "#7f8c8d",
];
const NOT_SENT_COLOUR: &str = "#b0b7bf";
const EXPENSES_COLOUR: &str = "#e0a800";
const PURCHASES_COLOUR: &str = "#5d8aa8";

/// A node (a bar) with its label.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Bar position and size.
    pub x: String,
    /// Top.
    pub y: String,
    /// Height.
    pub h: String,
    /// Width.
    pub w: String,
    /// Fill.
    pub colour: &'static str,
    /// Label x.
    pub label_x: String,
    /// Label baseline of the name.
    pub label_y: String,
    /// Baseline of the amount line.
    pub value_y: String,
    /// `start` or `end`.
    pub anchor: &'static str,
    /// Shortened name.
    pub label: String,
    /// Full name.
    pub full: String,
    /// Formatted amount.
    pub value: String,
}

/// A band between two nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// SVG path.
    pub d: String,
    /// Fill.
    pub colour: &'static str,
    /// Tooltip: `from → to: amount`.
    pub title: String,
}

/// One chart: one asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Element id (for `aria-labelledby`).
    pub id: String,
    /// What is charted.
    pub asset: String,
    /// Total received.
    pub total: String,
    /// viewBox height.
    pub height: String,
    /// Bars.
    pub nodes: Vec<Node>,
    /// Bands.
    pub links: Vec<Link>,
    /// The same data as table rows: (from, to, amount).
    pub rows: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Sink {
    Recipient(usize),
    OtherRecipients,
    Purchases,
    Expenses,
    NotSent,
}

/// The charts of an organisation, one per asset received (largest number of donations first).
pub fn charts(ledger: &Ledger, directory: &Directory, lang: Lang) -> Vec<Chart> {
    let t = lang.text();
    let shares = flows::shares(ledger);
    let mut assets: BTreeMap<AssetKey, usize> = BTreeMap::new();
    for lot in ledger.books.lots.values().filter(|l| l.live) {
        *assets.entry(lot.asset.clone()).or_default() += 1;
    }
    let mut keys: Vec<(AssetKey, usize)> = assets.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    keys.into_iter()
        .take(MAX_CHARTS)
        .enumerate()
        .map(|(i, (key, _))| chart(i, ledger, directory, shares, &key, t, lang))
        .collect()
}

fn donor_name(ledger: &Ledger, lot: Seq, t: &Text) -> String {
    if ledger.is_purchase(lot) {
        return t.flow_purchased.to_owned();
    }
    match ledger.fact(lot).map(|f| f.fact) {
        Some(Fact::Donation(d)) => d
            .donor
            .display_name
            .clone()
            .unwrap_or_else(|| t.flow_anonymous.to_owned()),
        _ => t.flow_anonymous.to_owned(),
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(LABEL_CHARS - 1).collect();
        out.push('…');
        out
    }
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

fn chart(
    index: usize,
    ledger: &Ledger,
    directory: &Directory,
    shares: &[flows::Share],
    key: &AssetKey,
    t: &Text,
    lang: Lang,
) -> Chart {
    let label = AssetLabel::from(key);
    let amount = |units: i64| format::amount_of(&label, &key.format(units), lang);
    // Donor groups by public name, with what each received.
    let mut lot_group: BTreeMap<Seq, String> = BTreeMap::new();
    let mut donors: BTreeMap<String, i64> = BTreeMap::new();
    for lot in ledger
        .books
        .lots
        .values()
        .filter(|l| l.live && &l.asset == key)
    {
        let name = donor_name(ledger, lot.seq, t);
        *donors.entry(name.clone()).or_default() += lot.received;
        lot_group.insert(lot.seq, name);
    }
    let mut donor_order: Vec<(String, i64)> = donors.into_iter().collect();
    donor_order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let shown: Vec<String> = donor_order
        .iter()
        .take(MAX_DONOR_NODES)
        .map(|(n, _)| n.clone())
        .collect();
    let group_of = |lot: Seq| -> usize {
        let name = lot_group.get(&lot).cloned().unwrap_or_default();
        shown
            .iter()
            .position(|n| *n == name)
            .unwrap_or(MAX_DONOR_NODES)
    };
    let mut left_names: Vec<String> = shown.clone();
    if donor_order.len() > MAX_DONOR_NODES {
        left_names.push(t.flow_other_donors.to_owned());
    }
    // Recipients by amount received.
    let mut per_recipient: BTreeMap<String, i64> = BTreeMap::new();
    for s in shares {
        if lot_group.contains_key(&s.lot) {
            if let Some(d) = ledger.books.disbursements.get(&s.disbursement) {
                *per_recipient.entry(d.recipient.to_string()).or_default() += s.units;
            }
        }
    }
    let mut recipients: Vec<(String, i64)> = per_recipient.into_iter().collect();
    recipients.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let top: Vec<String> = recipients
        .iter()
        .take(MAX_RECIPIENT_NODES)
        .map(|(r, _)| r.clone())
        .collect();
    let sink_of = |recipient: &str| match top.iter().position(|r| r == recipient) {
        Some(i) => Sink::Recipient(i),
        None => Sink::OtherRecipients,
    };
    // Flows (donor group, sink) → units.
    let mut flows_map: BTreeMap<(usize, Sink), i64> = BTreeMap::new();
    let mut sent_or_spent: BTreeMap<Seq, i64> = BTreeMap::new();
    for s in shares.iter().filter(|s| lot_group.contains_key(&s.lot)) {
        if let Some(d) = ledger.books.disbursements.get(&s.disbursement) {
            *flows_map
                .entry((group_of(s.lot), sink_of(d.recipient.as_str())))
                .or_default() += s.units;
            *sent_or_spent.entry(s.lot).or_default() += s.units;
        }
    }
    for d in flows::live_draws(ledger).filter(|d| lot_group.contains_key(&d.donation)) {
        let sink = match flows::draw_use(ledger, d) {
            flows::DrawUse::Allocation => continue,
            flows::DrawUse::Expense => Sink::Expenses,
            flows::DrawUse::Purchase => Sink::Purchases,
        };
        *flows_map.entry((group_of(d.donation), sink)).or_default() += d.units;
        *sent_or_spent.entry(d.donation).or_default() += d.units;
    }
    for lot in ledger
        .books
        .lots
        .values()
        .filter(|l| l.live && &l.asset == key)
    {
        let left = lot.received - sent_or_spent.get(&lot.seq).copied().unwrap_or(0);
        if left > 0 {
            *flows_map
                .entry((group_of(lot.seq), Sink::NotSent))
                .or_default() += left;
        }
    }
    let mut sinks: Vec<Sink> = flows_map.keys().map(|(_, s)| *s).collect();
    sinks.sort();
    sinks.dedup();
    let sink_name = |s: Sink| -> String {
        match s {
            Sink::Recipient(i) => {
                let id = &top[i];
                directory
                    .get(id)
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| id.clone())
            }
            Sink::OtherRecipients => t.flow_other_recipients.to_owned(),
            Sink::Purchases => t.flow_purchases.to_owned(),
            Sink::Expenses => t.flow_expenses.to_owned(),
            Sink::NotSent => t.flow_not_disbursed.to_owned(),
        }
    };
    let left_values: Vec<i64> = (0..left_names.len())
        .map(|g| {
            flows_map
                .iter()
                .filter(|((lg, _), _)| *lg == g)
                .map(|(_, v)| v)
                .sum()
        })
        .collect();
    let right_values: Vec<i64> = sinks
        .iter()
        .map(|s| {
            flows_map
                .iter()
                .filter(|((_, rs), _)| rs == s)
                .map(|(_, v)| v)
                .sum()
        })
        .collect();
    let total: i64 = left_values.iter().sum();
    // One scale for both sides, so a band is as thick where it leaves as where it arrives.
    let scale = if total > 0 {
        DATA_HEIGHT / total as f64
    } else {
        0.0
    };
    let (ls, rs) = (scale, scale);
    // Each bar sits in the middle of a slot tall enough for its two-line label, so labels of
    // small flows never overlap.
    let place = |values: &[i64], s: f64| -> (Vec<(f64, f64)>, f64) {
        let mut y = 0.0;
        let at = values
            .iter()
            .map(|v| {
                let h = (*v as f64 * s).max(2.0);
                let slot = h.max(MIN_SLOT);
                let bar = (y + (slot - h) / 2.0, h);
                y += slot + GAP;
                bar
            })
            .collect();
        (at, (y - GAP).max(0.0))
    };
    let (left_pos, left_height) = place(&left_values, ls);
    let (right_pos, right_height) = place(&right_values, rs);
    let height = left_height.max(right_height).max(MIN_SLOT);
    let colour_of_sink = |s: Sink| match s {
        Sink::NotSent => NOT_SENT_COLOUR,
        Sink::Expenses => EXPENSES_COLOUR,
        Sink::Purchases => PURCHASES_COLOUR,
        Sink::Recipient(i) => PALETTE[(i + 3) % PALETTE.len()],
        Sink::OtherRecipients => PALETTE[PALETTE.len() - 1],
    };
    let node = |x: f64, (y, h): (f64, f64), colour, left: bool, name: &str, value: i64| Node {
        x: px(x),
        y: px(y),
        h: px(h),
        w: px(NODE_WIDTH),
        colour,
        label_x: px(if left { x - 6.0 } else { x + NODE_WIDTH + 6.0 }),
        label_y: px(y + h / 2.0 - 2.0),
        value_y: px(y + h / 2.0 + 12.0),
        anchor: if left { "end" } else { "start" },
        label: shorten(name),
        full: name.to_owned(),
        value: amount(value),
    };
    let mut nodes = Vec::new();
    for (g, name) in left_names.iter().enumerate() {
        nodes.push(node(
            LEFT_X,
            left_pos[g],
            PALETTE[g % PALETTE.len()],
            true,
            name,
            left_values[g],
        ));
    }
    for (i, s) in sinks.iter().enumerate() {
        nodes.push(node(
            RIGHT_X,
            right_pos[i],
            colour_of_sink(*s),
            false,
            &sink_name(*s),
            right_values[i],
        ));
    }
    let mut left_offset = vec![0.0; left_names.len()];
    let mut right_offset = vec![0.0; sinks.len()];
    let mut links = Vec::new();
    let mut rows = Vec::new();
    let x0 = LEFT_X + NODE_WIDTH;
    let x1 = RIGHT_X;
    let xm = (x0 + x1) / 2.0;
    // Bands leave each donor top to bottom in sink order and enter each sink in donor order.
    for ((g, s), units) in &flows_map {
        let Some(si) = sinks.iter().position(|x| x == s) else {
            continue;
        };
        let (lh, rh) = (*units as f64 * ls, *units as f64 * rs);
        let y0 = left_pos[*g].0 + left_offset[*g];
        let y1 = right_pos[si].0 + right_offset[si];
        left_offset[*g] += lh;
        right_offset[si] += rh;
        let (lh, rh) = (lh.max(1.0), rh.max(1.0));
        let d = format!(
            "M{} {} C{} {} {} {} {} {} L{} {} C{} {} {} {} {} {} Z",
            px(x0),
            px(y0),
            px(xm),
            px(y0),
            px(xm),
            px(y1),
            px(x1),
            px(y1),
            px(x1),
            px(y1 + rh),
            px(xm),
            px(y1 + rh),
            px(xm),
            px(y0 + lh),
            px(x0),
            px(y0 + lh),
        );
        let (from, to) = (left_names[*g].clone(), sink_name(*s));
        links.push(Link {
            d,
            colour: if matches!(s, Sink::NotSent) {
                NOT_SENT_COLOUR
            } else {
                PALETTE[*g % PALETTE.len()]
            },
            title: format!("{from} → {to}: {}", amount(*units)),
        });
        rows.push((from, to, amount(*units)));
    }
    Chart {
        id: format!("flow-{index}"),
        asset: format::label(&label),
        total: amount(total),
        height: px(height),
        nodes,
        links,
        rows,
    }
}
