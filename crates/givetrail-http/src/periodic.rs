//! A periodic disclosure's summary: what `disclosure.published` hashed, recomputed from the
//! public log at the end of its period, so anyone can compare it with the published hash.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;

use givetrail_domain::disclosure::period::{period_summary_from, summary_sha256, PeriodSummary};
use givetrail_domain::entry::{Fact, Period, Seq};

use crate::disclosure::ledger;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A periodic disclosure with the summary it hashed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DisclosureView {
    /// Organisation slug.
    pub organization: String,
    /// Seq of the `disclosure.published` entry.
    pub seq: Seq,
    /// The period disclosed.
    pub period: Period,
    /// The hash the entry published.
    pub summary_sha256: String,
    /// SHA-256 of the RFC 8785 form of `summary`, recomputed now.
    pub recomputed_sha256: String,
    /// Whether the two agree (they differ only if the server's policy, such as its priority
    /// regions, or the summary's form (stock ageing was added to it) changed since the
    /// disclosure was made).
    pub matches: bool,
    /// The period summary (docs/API.md, "Periodic disclosures"): the object that was hashed.
    pub summary: PeriodSummary,
}

/// The summary a periodic disclosure hashed, recomputed from the public log at the end of its
/// period: `summary_sha256` is SHA-256 of the RFC 8785 form of `summary`.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), ("seq" = i64, Path, description = "seq of the `disclosure.published` entry")),
    responses((status = 200, body = DisclosureView), (status = 404, body = Problem)))]
#[get("/organizations/{org}/disclosures/{seq}")]
pub async fn disclosure_summary(
    state: web::Data<AppState>,
    path: web::Path<(String, Seq)>,
) -> Result<HttpResponse, ApiError> {
    let (org, seq) = path.into_inner();
    let (l, d) = ledger(&state, &org).await?;
    let Some(Fact::Disclosure(body)) = l.fact(seq).map(|f| f.fact) else {
        return Err(ApiError::not_found(format!(
            "disclosure {seq} of {org} not found"
        )));
    };
    let policy = state.policy.clone();
    let period = body.period;
    let summary = l.derived(&format!("disclosure {seq} {policy:?}"), || {
        period_summary_from(&l, &d, &policy, period)
    });
    let summary = summary
        .as_ref()
        .clone()
        .map_err(|m| ApiError::from(givetrail_store::StoreError::Corrupt(m)))?;
    let recomputed = summary_sha256(&summary);
    Ok(HttpResponse::Ok().json(DisclosureView {
        organization: org,
        seq,
        period,
        matches: recomputed == body.summary_sha256,
        summary_sha256: body.summary_sha256.clone(),
        recomputed_sha256: recomputed,
        summary,
    }))
}
