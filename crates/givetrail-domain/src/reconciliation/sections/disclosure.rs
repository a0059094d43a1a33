//! Disclosure: late entries, corrections, dates that cannot be right.

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

use super::{at, day, listed, Findings};
use crate::disclosure::summary::Summary;
use crate::disclosure::{flows, Ledger};
use crate::entry::{Fact, Seq};
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
                        | Fact::Correction(_),
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
        Fact::Campaign(_) | Fact::Donation(_) | Fact::Correction(_) => {}
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
        .records
        .iter()
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
    for fact in ledger
        .live_facts()
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
    if !f.has(Section::Disclosure, Severity::Warning) {
        let message = "Every entry became public within its deadline; nothing was corrected; no date is impossible.".to_owned();
        f.add(FindingKind::DisclosureTimely, Vec::new(), message);
    }
}
