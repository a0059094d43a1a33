//! Disclosure: late entries, corrections, dates that cannot be right.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use super::{at, day, listed, Findings};
use crate::disclosure::summary::Summary;
use crate::disclosure::{flows, Ledger};
use crate::entry::{EntryKind, Fact, Seq};
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::{Section, Severity};

/// Why the date of `fact` (living at `seq`, happening at `when`) cannot be right, from the facts
/// it depends on and the campaigns it belongs to.
fn date_problems(ledger: &Ledger, seq: Seq, fact: &Fact, when: DateTime<Utc>) -> Vec<String> {
    let books = &ledger.books;
    let occurred = |s: Seq| ledger.fact(s).map(|x| x.occurred_at);
    let mut out = Vec::new();
    let mut before = |what: String, t: Option<DateTime<Utc>>| {
        if let Some(t) = t.filter(|t| when < *t) {
            out.push(format!("before {what} ({})", day(t)));
        }
    };
    match fact {
        Fact::Allocation(a) => a.drawn_from.iter().for_each(|d| {
            before(
                format!("donation #{} was received", d.donation),
                books.lots.get(&d.donation).map(|l| l.occurred_at),
            )
        }),
        Fact::Expense(e) => e.drawn_from.iter().for_each(|d| {
            before(
                format!("donation #{} was received", d.donation),
                books.lots.get(&d.donation).map(|l| l.occurred_at),
            )
        }),
        Fact::Procurement(p) => p.drawn_from.iter().for_each(|d| {
            before(
                format!("donation #{} was received", d.donation),
                books.lots.get(&d.donation).map(|l| l.occurred_at),
            )
        }),
        Fact::Disbursement(d) => before(
            format!("allocation #{} was made", d.allocation),
            occurred(d.allocation),
        ),
        Fact::Acknowledgement(a) => {
            before(
                format!("disbursement #{} was sent", a.disbursement),
                occurred(a.disbursement),
            );
            if a.received_at > when {
                out.push(format!("before the goods arrived ({})", day(a.received_at)));
            }
        }
        Fact::Usage(u) => {
            let arrived = flows::statements(ledger)
                .get(&u.disbursement)
                .and_then(|st| st.acknowledgement)
                .and_then(|a| match ledger.fact(a).map(|x| x.fact) {
                    Some(Fact::Acknowledgement(b)) => Some(b.received_at),
                    Some(
                        Fact::Campaign(_)
                        | Fact::Donation(_)
                        | Fact::Allocation(_)
                        | Fact::Disbursement(_)
                        | Fact::Usage(_)
                        | Fact::Expense(_)
                        | Fact::Procurement(_)
                        | Fact::Correction(_)
                        | Fact::Disclosure(_),
                    )
                    | None => None,
                });
            before(
                format!(
                    "what it reports on arrived (disbursement #{})",
                    u.disbursement
                ),
                arrived,
            );
        }
        Fact::Campaign(_) | Fact::Donation(_) | Fact::Correction(_) | Fact::Disclosure(_) => {}
    }
    if !matches!(fact, Fact::Campaign(_) | Fact::Donation(_)) {
        for c in ledger.campaigns_of(seq) {
            let start = books
                .campaigns
                .iter()
                .find(|(id, _)| id.as_str() == c)
                .map(|(_, st)| st.starts_at);
            if let Some(t) = start.filter(|t| when < *t) {
                out.push(format!("before campaign {c} started ({})", day(t)));
            }
        }
    }
    out
}

/// Late entries, corrections and impossible dates of the period.
pub(crate) fn findings(inp: &Inputs<'_>, summary: &Summary, f: &mut Findings) {
    let ledger = inp.ledger;
    for d in &summary.timeliness.deadlines {
        let missed: Vec<Seq> = d
            .missed_entries
            .iter()
            .copied()
            .filter(|seq| {
                ledger
                    .records
                    .get((*seq - 1) as usize)
                    .is_some_and(|r| inp.period.contains(r.occurred_at))
            })
            .collect();
        if missed.is_empty() {
            continue;
        }
        let of = match &d.campaign {
            Some(c) if d.emergency => format!("emergency campaign {c}"),
            Some(c) => format!("campaign {c}"),
            None => "no campaign".into(),
        };
        f.add(
            FindingKind::LateDisclosure,
            missed.iter().map(|q| at(inp, *q)).collect(),
            format!(
            "{} entries of {of} became public more than {} hours after they happened (entries {}).",
            missed.len(), d.deadline_hours, listed(&missed)
        ),
        );
    }
    let mut replaced = BTreeSet::new();
    for r in ledger
        .correction_records()
        .filter(|r| inp.period.contains(r.occurred_at))
    {
        let Fact::Correction(c) = &r.fact else {
            continue;
        };
        let original = ledger.records.get((c.corrects - 1) as usize);
        let mut problems = Vec::new();
        if let Some(o) = original.filter(|o| r.occurred_at < o.occurred_at) {
            problems.push(format!(
                "the correction is dated {}, before the entry it corrects ({})",
                day(r.occurred_at),
                day(o.occurred_at)
            ));
        }
        if let Some(rep) = &c.replacement {
            replaced.insert(r.seq);
            let when = c.replacement_occurred_at.unwrap_or(r.occurred_at);
            if when > r.occurred_at {
                problems.push(format!(
                    "its replacement is dated {}, after the correction itself ({})",
                    day(when),
                    day(r.occurred_at)
                ));
            }
            for p in date_problems(ledger, r.seq, rep, when) {
                problems.push(format!("its replacement is dated {}, {p}", day(when)));
            }
        }
        let (kind, severity, tail) = if problems.is_empty() {
            (FindingKind::Correction, Severity::Warning, ".".to_owned())
        } else {
            (
                FindingKind::CorrectionWithImpossibleDate,
                Severity::Violation,
                format!(". Impossible: {}.", problems.join("; ")),
            )
        };
        let replacement = if c.replacement.is_some() {
            ", replacing it"
        } else {
            ""
        };
        f.add_as(
            kind,
            severity,
            vec![at(inp, c.corrects), at(inp, r.seq)],
            format!(
                "Entry #{} ({}) was corrected by #{}{replacement}; reason: “{}”{tail}",
                c.corrects,
                c.corrected_kind.as_str(),
                r.seq,
                c.reason
            ),
        );
    }
    // A campaign's or a donation's own date depends on nothing earlier (`date_problems`).
    let dependent: Vec<EntryKind> = EntryKind::ALL
        .into_iter()
        .filter(|k| !matches!(k, EntryKind::CampaignOpened | EntryKind::DonationReceived))
        .collect();
    for fact in ledger
        .live_facts_of_any(&dependent)
        .into_iter()
        .filter(|x| !replaced.contains(&x.seq) && inp.period.contains(x.occurred_at))
    {
        let problems = date_problems(ledger, fact.seq, fact.fact, fact.occurred_at);
        if !problems.is_empty() {
            f.add(
                FindingKind::ImpossibleDate,
                vec![at(inp, fact.seq)],
                format!(
                    "Entry #{} ({}) is dated {}: {}.",
                    fact.seq,
                    fact.fact.kind().as_str(),
                    day(fact.occurred_at),
                    problems.join("; ")
                ),
            );
        }
    }
    overdue_quarters(inp, f);
    if !f.has(Section::Disclosure, Severity::Warning) {
        let message = "Every entry became public within its deadline; nothing was corrected; no date is impossible.".to_owned();
        f.add(FindingKind::DisclosureTimely, Vec::new(), message);
    }
}

/// Days after a quarter's end within which a periodic disclosure covering it is due.
pub const QUARTERLY_DISCLOSURE_DAYS: i64 = 30;
/// Calendar quarters are those of China Standard Time (UTC+8), in hours east of UTC.
pub const QUARTER_UTC_OFFSET_HOURS: i32 = 8;

/// The calendar quarter (China Standard Time) holding `t`: `[start, end)` in UTC.
pub fn quarter_of(t: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    use chrono::{Datelike, FixedOffset, Months, NaiveDate, TimeZone};
    let tz = FixedOffset::east_opt(QUARTER_UTC_OFFSET_HOURS * 3600).expect("a valid offset");
    let local = t.with_timezone(&tz);
    let month = (local.month0() / 3) * 3 + 1;
    let start_day = NaiveDate::from_ymd_opt(local.year(), month, 1).expect("a valid date");
    let start = tz
        .from_local_datetime(&start_day.and_hms_opt(0, 0, 0).expect("midnight"))
        .single()
        .expect("a fixed offset has one local time")
        .with_timezone(&Utc);
    let end = start
        .with_timezone(&tz)
        .checked_add_months(Months::new(3))
        .expect("a later quarter")
        .with_timezone(&Utc);
    (start, end)
}

/// `disclosure_overdue`: every calendar quarter with entries in the report's period whose
/// disclosure was due by `as_at` (30 days after its end) and that no `disclosure.published`
/// covers (`period.from` ≤ the quarter's start, `period.to` ≥ its end) with an `occurred_at`
/// within those 30 days.
fn overdue_quarters(inp: &Inputs<'_>, f: &mut Findings) {
    let ledger = inp.ledger;
    // Quarter start → (its end, the first and last of its entries, how many). Entries mostly
    // follow one another within a quarter: the last quarter found is tried first.
    let mut quarters: std::collections::BTreeMap<DateTime<Utc>, (DateTime<Utc>, Seq, Seq, usize)> =
        std::collections::BTreeMap::new();
    let mut disclosures = Vec::new();
    let mut last_quarter: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for r in &ledger.records {
        match &r.fact {
            Fact::Disclosure(d) => disclosures.push((r.seq, r.occurred_at, d.period)),
            _ if inp.period.contains(r.occurred_at) => {
                let (start, end) = match last_quarter {
                    Some((s, e)) if s <= r.occurred_at && r.occurred_at < e => (s, e),
                    _ => quarter_of(r.occurred_at),
                };
                last_quarter = Some((start, end));
                let q = quarters.entry(start).or_insert((end, r.seq, r.seq, 0));
                q.1 = q.1.min(r.seq);
                q.2 = q.2.max(r.seq);
                q.3 += 1;
            }
            _ => {}
        }
    }
    for (start, (end, first, last, count)) in quarters {
        let due = end + chrono::Duration::days(QUARTERLY_DISCLOSURE_DAYS);
        if due > inp.as_at {
            continue;
        }
        let covering: Vec<_> = disclosures
            .iter()
            .filter(|(_, _, p)| p.from <= start && p.to >= end)
            .collect();
        if covering.iter().any(|(_, when, _)| *when <= due) {
            continue;
        }
        let mut entries = vec![at(inp, first)];
        if last != first {
            entries.push(at(inp, last));
        }
        entries.extend(covering.iter().map(|(seq, _, _)| at(inp, *seq)));
        let late = match covering.first() {
            Some((seq, when, _)) => format!(
                " The first disclosure covering it, #{seq}, was made only on {}.",
                day(*when)
            ),
            None => " No disclosure covers it.".to_owned(),
        };
        let tz =
            chrono::FixedOffset::east_opt(QUARTER_UTC_OFFSET_HOURS * 3600).expect("a valid offset");
        let local = start.with_timezone(&tz);
        f.add(
            FindingKind::DisclosureOverdue,
            entries,
            format!(
                "Quarter {}-Q{} (China Standard Time) has {} entries (#{first} to #{last}), but no periodic disclosure covering it was made by {}, {} days after it ended.{late}",
                chrono::Datelike::year(&local),
                chrono::Datelike::month0(&local) / 3 + 1,
                count,
                day(due),
                QUARTERLY_DISCLOSURE_DAYS,
            ),
        );
    }
}

#[cfg(test)]
mod quarter_tests {
    use super::quarter_of;
    use chrono::{DateTime, Utc};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("a date")
            .with_timezone(&Utc)
    }

    #[test]
    fn quarters_follow_china_standard_time() {
        assert_eq!(
            quarter_of(t("2020-02-10T08:00:00Z")),
            (t("2019-12-31T16:00:00Z"), t("2020-03-31T16:00:00Z"))
        );
        // 2020-03-31T17:00Z is already 1 April in Beijing.
        assert_eq!(
            quarter_of(t("2020-03-31T17:00:00Z")).0,
            t("2020-03-31T16:00:00Z")
        );
        assert_eq!(
            quarter_of(t("2020-12-31T15:59:59Z")).1,
            t("2020-12-31T16:00:00Z")
        );
    }
}
