//! Priority: the share of undesignated disbursements that went to priority regions.

use super::{label_text, Findings};
use crate::disclosure::summary::Summary;
use crate::reconciliation::kind::FindingKind;

/// The priority-region share of each asset.
pub(crate) fn findings(summary: &Summary, f: &mut Findings) {
    let regions = summary.priority_regions.join(", ");
    let mut any = false;
    for a in &summary.assets {
        let Some(share) = &a.priority_regions.share_percent else {
            continue;
        };
        any = true;
        let message = format!(
            "{}: {} of the {} undesignated disbursed ({share}%) went to priority regions {regions}.",
            label_text(&a.asset),
            a.priority_regions.to_priority_regions,
            a.priority_regions.undesignated_disbursed,
        );
        if let Some(x) = f.add(FindingKind::PriorityShare, Vec::new(), message) {
            x.asset = Some(a.asset.clone());
        }
    }
    if !any {
        let message = format!(
            "No undesignated money or goods have been disbursed, so no share went to priority regions {regions} yet."
        );
        f.add(FindingKind::PriorityShare, Vec::new(), message);
    }
}
