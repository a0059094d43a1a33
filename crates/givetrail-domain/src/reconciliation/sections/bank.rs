//! Bank: statement lines against money receipts and disbursements.

use super::Findings;
use crate::reconciliation::bank::{self, BankLine, BankReconciliation};
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::BankLineRef;

/// Bank lines inside the period: a line's day counts from its midnight (UTC), so `to` at
/// midnight leaves that day out, as it leaves out the ledger entries of that day.
pub(crate) fn lines_in(inp: &Inputs<'_>) -> Vec<BankLine> {
    let from = inp.period.from.map(|t| t.date_naive());
    inp.bank_lines
        .iter()
        .filter(|l| {
            let starts = l.line.booked_on.and_time(chrono::NaiveTime::MIN).and_utc();
            from.is_none_or(|d| l.line.booked_on >= d) && inp.period.to.is_none_or(|t| starts < t)
        })
        .cloned()
        .collect()
}

/// What the bank matching found.
pub(crate) fn findings(inp: &Inputs<'_>, b: &BankReconciliation, f: &mut Findings) {
    if inp.bank_statements == 0 {
        let message = "No bank statement has been uploaded, so money receipts and disbursements are not compared with the bank.".to_owned();
        f.add(FindingKind::NoBankStatement, Vec::new(), message);
        return;
    }
    let by_reference = b
        .matched
        .iter()
        .filter(|p| p.by == bank::MatchedBy::Reference)
        .count();
    let message = format!(
        "{} of {} bank lines match a ledger entry ({by_reference} by reference, {} by amount and date within {} days).",
        b.matched.len(), b.lines, b.matched.len() - by_reference, bank::MATCH_WINDOW_DAYS
    );
    f.add(FindingKind::BankMatched, Vec::new(), message);
    let amount = |a: &crate::asset::AssetWire| a.parse().map(|x| x.describe()).unwrap_or_default();
    for p in b.matched.iter().filter(|p| p.difference.is_some()) {
        if let Some(x) = f.add(
            FindingKind::BankAmountMismatch,
            vec![p.ledger.entry.clone()],
            format!(
                "Bank line {}/{} (reference {}) shows {}, but entry #{} records {}.",
                p.line.statement,
                p.line.row,
                p.line.reference,
                amount(&p.line.amount),
                p.ledger.entry.seq,
                amount(&p.ledger.amount)
            ),
        ) {
            x.bank_line = Some(BankLineRef {
                statement: p.line.statement,
                row: p.line.row,
            });
        }
    }
    for m in &b.unmatched_entries {
        let what = match m.direction {
            bank::Direction::Credit => format!("Receipt #{} ({})", m.entry.seq, m.reference),
            bank::Direction::Debit => {
                format!("Disbursement #{} (reference {})", m.entry.seq, m.reference)
            }
        };
        f.add(
            FindingKind::EntryWithoutBankLine,
            vec![m.entry.clone()],
            format!(
            "{what} of {} on {} has no bank line, though an uploaded statement covers that date.",
            amount(&m.amount), m.date
        ),
        );
    }
    for l in &b.unmatched_lines {
        let reference = if l.reference.is_empty() {
            "no reference".to_owned()
        } else {
            format!("reference {}", l.reference)
        };
        let what = match l.direction {
            bank::Direction::Credit => "receipt",
            bank::Direction::Debit => "disbursement",
        };
        let message = format!(
            "Bank line {}/{} — {} of {} on {} ({reference}, counterparty “{}”) — matches no {what} in the log.",
            l.statement, l.row, l.direction.as_str(), amount(&l.amount), l.date, l.counterparty
        );
        if let Some(x) = f.add(FindingKind::BankLineWithoutEntry, Vec::new(), message) {
            x.bank_line = Some(BankLineRef {
                statement: l.statement,
                row: l.row,
            });
        }
    }
}
