//! Complaints about the organisation in the period, and open ones filed before its end.

use super::{at, day, Findings};
use crate::reconciliation::complaint::Complaint;
use crate::reconciliation::inputs::Inputs;
use crate::reconciliation::kind::FindingKind;
use crate::reconciliation::model::Severity;

/// Longest excerpt of a complaint's description quoted in a finding.
pub const COMPLAINT_EXCERPT_CHARS: usize = 200;

/// A finding per complaint filed in the period, or open and filed before its end; returns them.
pub(crate) fn findings(inp: &Inputs<'_>, f: &mut Findings) -> Vec<Complaint> {
    let mut shown = Vec::new();
    for c in inp.complaints {
        let open = !c.status.is_closed();
        let filed_in = inp.period.contains(c.filed_at);
        let before_end = inp.period.to.is_none_or(|t| c.filed_at < t);
        if !(filed_in || (open && before_end)) {
            continue;
        }
        let excerpt: String = c
            .description
            .chars()
            .take(COMPLAINT_EXCERPT_CHARS)
            .collect();
        let ellipsis = if c.description.chars().count() > COMPLAINT_EXCERPT_CHARS {
            "…"
        } else {
            ""
        };
        let about = c
            .entry
            .map(|e| format!(" about entry #{e}"))
            .unwrap_or_default();
        let severity = if open {
            Severity::Warning
        } else {
            Severity::Info
        };
        if let Some(x) = f.add_as(
            FindingKind::Complaint,
            severity,
            c.entry.map(|e| at(inp, e)).into_iter().collect(),
            format!(
                "Complaint {} ({}{about}), filed {}, is {}: “{excerpt}{ellipsis}”",
                c.code,
                c.category.as_str(),
                day(c.filed_at),
                c.status.as_str()
            ),
        ) {
            x.complaint = Some(c.code.clone());
        }
        shown.push(c.clone());
    }
    shown
}
