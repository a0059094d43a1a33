//! Where it went, by destination: `GET /regions/{code}/inflows`. The sums are
//! `givetrail_store::read::regions::region_books`, the document
//! `givetrail_domain::regions::inflows`.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use givetrail_domain::ids::parse_region_prefix;
use givetrail_domain::regions::{inflows, RegionBooks, RegionInflows};
use givetrail_store::read::regions::region_books;

use crate::db::read_snapshot;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The period of the inflows.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct InflowParams {
    /// Count allocations and disbursements that happened at or after this moment (RFC 3339).
    pub from: Option<String>,
    /// … and before this moment (RFC 3339); must be after `from`.
    pub to: Option<String>,
}

fn moment(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError::field(
                    field,
                    "must be an RFC 3339 moment such as 2020-02-01T00:00:00Z",
                )
            }),
    }
}

/// A period's ends, either open.
pub type Ends = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

impl InflowParams {
    /// `(from, to)`, or 400 naming the field.
    pub fn period(&self) -> Result<Ends, ApiError> {
        let from = moment("from", self.from.as_deref())?;
        let to = moment("to", self.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to) {
            if f >= t {
                return Err(ApiError::field("to", "must be after from"));
            }
        }
        Ok((from, to))
    }
}

/// A region-code prefix from the path (1 to 6 digits), or 400 naming `field`.
pub fn region_code(field: &str, code: &str) -> Result<String, ApiError> {
    if code.is_empty() {
        return Err(ApiError::field(
            field,
            "must be 1 to 6 digits of an administrative division code",
        ));
    }
    parse_region_prefix(code).map_err(|e| ApiError::field(field, e))
}

/// What a region's inflows show, read in one snapshot (shared with the region page).
pub async fn region(
    state: &AppState,
    code: &str,
    q: &InflowParams,
) -> Result<(RegionBooks, RegionInflows), ApiError> {
    let code = region_code("code", code)?;
    let (from, to) = q.period()?;
    let books = read_snapshot(state, move |c| region_books(c, &code, from, to)).await?;
    let doc = inflows(&books);
    Ok((books, doc))
}

/// Where it went, by destination: for the registered recipients whose region code starts with
/// `code` (`42` Hubei, `4201` Wuhan, `420103` one district), what every organisation allocated,
/// disbursed and saw acknowledged, per organisation, recipient and asset, with each
/// organisation's and the region's totals; and the region's open needs with what each still
/// lacks (`outstanding`: asked − acknowledged against it; `unpledged`: asked − allocated against
/// it). `from`/`to` count the allocations and disbursements that happened in `[from, to)` (by
/// `occurred_at`; a correction's replacement by its own date); `acknowledged`, `unacknowledged`
/// and `used` are of the disbursements counted, whenever the recipient stated them. Open needs
/// are as now, whatever the period. Live entries only (corrected-away ones are not counted).
/// Limits: the first 1,000 recipients of the region by slug and the 500 oldest open needs
/// (`meta.recipients_truncated`, `meta.open_needs_truncated` say when there are more). Public.
#[utoipa::path(tag = "public reads",
    params(("code" = String, Path, description = "region-code prefix: 1 to 6 digits (GB/T 2260)"), InflowParams),
    responses((status = 200, body = RegionInflows), (status = 400, body = Problem)))]
#[get("/regions/{code}/inflows")]
pub async fn region_inflows(
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<InflowParams>,
) -> Result<HttpResponse, ApiError> {
    let (_, doc) = region(&state, &code, &q).await?;
    Ok(HttpResponse::Ok().json(doc))
}
