//! `campaign.opened`: opening a campaign (appeal).

use super::super::validate::{collect, finish, line, store, text, Res};
use super::super::Books;
use super::{public, Context, Decision};
use crate::asset::AssetWire;
use crate::entry::{
    CampaignBody, CampaignRequest, Fact, DEFAULT_COST_LIMIT_PERCENT,
    DEFAULT_EMERGENCY_AGEING_HOURS, DEFAULT_STANDARD_AGEING_HOURS, MAX_AGEING_HOURS,
    MAX_SHORT_TEXT, MAX_TEXT,
};
use crate::error::{FieldError, RuleError};

pub(super) fn decide_campaign<B: Books>(
    books: &mut B,
    ctx: &Context<'_>,
    r: &CampaignRequest,
) -> Res<Decision, B::Error> {
    let mut errors = Vec::new();
    let title = collect(&mut errors, text("title", &r.title, MAX_SHORT_TEXT, true));
    let purpose = collect(&mut errors, text("purpose", &r.purpose, MAX_TEXT, false));
    let record_number = match &r.record_number {
        Some(n) => collect(&mut errors, line("record_number", n, MAX_SHORT_TEXT, true)),
        None => None,
    };
    let mut targets = Vec::new();
    for (i, t) in r.targets.iter().enumerate() {
        match t.parse() {
            Ok(a) => targets.push(AssetWire::from(&a)),
            Err(e) => errors.extend(e.under(&format!("targets[{i}]")).0),
        }
    }
    if r.ageing_limit_hours
        .is_some_and(|h| h == 0 || h > MAX_AGEING_HOURS)
    {
        errors.push(FieldError::new(
            "ageing_limit_hours",
            format!("must be between 1 and {MAX_AGEING_HOURS} hours"),
        ));
    }
    if r.cost_limit_percent.is_some_and(|p| p > 100) {
        errors.push(FieldError::new(
            "cost_limit_percent",
            "must be between 0 and 100",
        ));
    }
    if let Some(end) = r.ends_at {
        if end < r.starts_at {
            errors.push(FieldError::new("ends_at", "must not be before starts_at"));
        }
    }
    finish(errors)?;
    if r.public_fundraising {
        if record_number.is_none() {
            return Err(RuleError::refused(
                "record_number",
                "a campaign raising from the public needs its fundraising-plan record number",
            )
            .into());
        }
        if !ctx.org.public_fundraising_qualified {
            return Err(RuleError::refused(
                "public_fundraising",
                format!(
                    "organisation {} is not qualified for public fundraising",
                    ctx.org.id
                ),
            )
            .into());
        }
    }
    if let Some(c) = store(books.campaign(&r.id))? {
        if c.live {
            return Err(RuleError::Conflict {
                field: "id".into(),
                message: format!("campaign {} already exists", r.id),
            }
            .into());
        }
    }
    Ok(public(Fact::Campaign(CampaignBody {
        id: r.id.clone(),
        title: title.unwrap_or_default(),
        purpose: purpose.unwrap_or_default(),
        region_code: r.region_code.clone(),
        public_fundraising: r.public_fundraising,
        record_number,
        emergency: r.emergency,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        targets,
        ageing_limit_hours: Some(r.ageing_limit_hours.unwrap_or(if r.emergency {
            DEFAULT_EMERGENCY_AGEING_HOURS
        } else {
            DEFAULT_STANDARD_AGEING_HOURS
        })),
        cost_limit_percent: Some(r.cost_limit_percent.unwrap_or(DEFAULT_COST_LIMIT_PERCENT)),
    })))
}
