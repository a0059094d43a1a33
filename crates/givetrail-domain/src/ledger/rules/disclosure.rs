//! `disclosure.published`: a periodic disclosure. The rule checks the period and publishes the
//! SHA-256 the writer computed from the log at `period.to` (the rules cannot read the log; see
//! `disclosure::period` for the summary it hashes).

use super::super::validate::Res;
use super::{public, Context, Decision};
use crate::entry::{DisclosureBody, DisclosureCommand, Fact};
use crate::error::{RuleError, ValidationError};

pub(super) fn decide_disclosure<E>(ctx: &Context<'_>, c: &DisclosureCommand) -> Res<Decision, E> {
    let period = c.request.period;
    if period.from >= period.to {
        return Err(ValidationError::field("period.to", "must be after period.from").into());
    }
    if period.to > ctx.now {
        return Err(ValidationError::field(
            "period.to",
            "must not be in the future: a period is disclosed once it has ended",
        )
        .into());
    }
    if c.request.occurred_at < period.to {
        return Err(RuleError::refused(
            "occurred_at",
            "a disclosure is made after the end of the period it covers",
        )
        .into());
    }
    let Some(summary_sha256) = c.summary_sha256.clone() else {
        return Err(RuleError::refused(
            "period",
            "the summary of this period could not be computed",
        )
        .into());
    };
    Ok(public(Fact::Disclosure(DisclosureBody {
        period,
        summary_sha256,
    })))
}
