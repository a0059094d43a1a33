//! Replaying facts already in the log into books, without re-running the rules.

use chrono::{DateTime, Utc};

use super::rules::fact_changes;
use super::validate::{store, Res};
use super::{Books, Change};
use crate::entry::{EntryKind, Fact, Seq};
use crate::error::RuleError;

/// Apply a fact already in the log, at `seq`, that happened at `at` (for rebuilding derived
/// state from the log). No rule is re-checked: the fact was decided when it was written.
pub fn replay<B: Books>(
    books: &mut B,
    seq: Seq,
    at: DateTime<Utc>,
    fact: &Fact,
) -> Res<(), B::Error> {
    let (fact, at, carry) = match fact {
        Fact::Correction(c) => {
            let kind = void(books, c.corrects, seq)?;
            match &c.replacement {
                Some(r) => (
                    r.as_ref(),
                    c.replacement_occurred_at.unwrap_or(at),
                    Some(Change::Carry {
                        from: c.corrects,
                        to: seq,
                        kind,
                    }),
                ),
                None => {
                    let notice = Change::Fact {
                        seq,
                        kind: EntryKind::EntryCorrected,
                        at,
                        about: None,
                        units: 0,
                    };
                    return store(books.apply(notice));
                }
            }
        }
        other => (other, at, None),
    };
    for change in fact_changes(seq, at, fact)? {
        store(books.apply(change))?;
    }
    if let Some(carry) = carry {
        store(books.apply(carry))?;
    }
    Ok(())
}

fn void<B: Books>(books: &mut B, target: Seq, by: Seq) -> Res<EntryKind, B::Error> {
    let info = store(books.fact(target))?
        .ok_or_else(|| RuleError::not_found("corrects", format!("entry {target}")))?;
    store(books.apply(Change::Void {
        seq: target,
        kind: info.kind,
        by,
    }))?;
    Ok(info.kind)
}
