//! The needs board: recipients post needs, everyone reads them, and a charity sees its
//! unallocated goods ranked against open needs. Rules and ranking are
//! `givetrail_domain::needs`; queries `givetrail_store::read::needs`.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use givetrail_domain::asset::AssetKey;
use givetrail_domain::ids::parse_region_prefix;
use givetrail_domain::needs::{
    rank_matches, MatchView, Need, NeedRequest, NeedStatus, NeedView, NeedWithdrawalRequest,
    MAX_ITEM_FILTER,
};
use givetrail_store::read::needs::{self as store, NeedFilter};
use givetrail_store::read::Page;
use givetrail_store::registry;
use givetrail_store::write::needs::{NeedWithdrawal, NewNeed};
use givetrail_store::write::Write;
use givetrail_store::{AnyConnection, StoreError};

use crate::auth::{recipient_of, required};
use crate::body::{parse, MAX_BODY_BYTES};
use crate::db::read;
use crate::paging::page_limit;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::writes::{limit_body, submit};

/// Post a need (the recipient's own key). The response is the need with its progress; an
/// allocation names it in `need`, and it closes (`met`) once acknowledged deliveries cover it.
#[utoipa::path(tag = "recipient writes", request_body = NeedRequest,
    params(("recipient" = String, Path, description = "recipient slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the need, numbered `need-<n>`", body = NeedView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/needs")]
pub async fn post_need(
    req: HttpRequest,
    state: web::Data<AppState>,
    recipient: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let recipient = recipient.into_inner();
    let p = required(&req, &state).await?;
    recipient_of(&p, &recipient)?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let need = parse::<NeedRequest>(&body)?
        .validate()
        .map_err(ApiError::invalid)?;
    let lookup = recipient.clone();
    let r = read(&state, move |c| registry::recipient(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("recipient {recipient} is not registered")))?;
    let write = Write::Need(NewNeed {
        recipient: r.id,
        region_code: r.region_code,
        need,
    });
    submit(&req, &state, &p, &body, write).await
}

/// Withdraw a need (the posting recipient's own key) with a public `reason`. The need stays on
/// the board marked `withdrawn` with its date and reason; it stops counting as open from that
/// moment (matches, reconciliation's needs section), and no allocation may name it any more.
/// A met or already withdrawn need answers 409; another recipient's need 403.
#[utoipa::path(tag = "recipient writes", request_body = NeedWithdrawalRequest,
    params(("recipient" = String, Path, description = "recipient slug"), ("need" = String, Path, description = "need id (`need-17`)"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    responses((status = 201, description = "the need, now `withdrawn`", body = NeedView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 413, body = Problem)),
    security(("bearer" = [])))]
#[post("/recipients/{recipient}/needs/{need}/withdrawals")]
pub async fn post_withdrawal(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (recipient, need) = path.into_inner();
    let p = required(&req, &state).await?;
    recipient_of(&p, &recipient)?;
    limit_body(&body, MAX_BODY_BYTES)?;
    let reason = parse::<NeedWithdrawalRequest>(&body)?
        .validate()
        .map_err(ApiError::invalid)?;
    // A need that does not exist is a missing resource (404); whether this recipient may
    // withdraw it is decided by the writer on the need as it stands in its transaction.
    let lookup = need.clone();
    if read(&state, move |c| store::get(c, &lookup))
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("need {need} not found")));
    }
    let write = Write::NeedWithdrawal(NeedWithdrawal {
        need,
        recipient,
        reason,
    });
    submit(&req, &state, &p, &body, write).await
}

/// Filters of the needs board.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct NeedParams {
    /// Region-code prefix of the recipient (`42` Hubei, `4201` Wuhan).
    pub region: Option<String>,
    /// Exact item name (`N95 respirator`).
    pub item: Option<String>,
    /// `open`, `met` or `withdrawn`; all when absent.
    pub status: Option<String>,
    /// Only this recipient's needs.
    pub recipient: Option<String>,
    /// Cursor from `meta.next`.
    pub after: Option<String>,
    /// Page size (default 100, at most 1000).
    pub limit: Option<i64>,
}

impl NeedParams {
    /// The store filter these parameters name, or 400.
    pub fn filter(&self) -> Result<NeedFilter, ApiError> {
        let region = self
            .region
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(|r| parse_region_prefix(r).map_err(|e| ApiError::field("region", e)))
            .transpose()?;
        let item = self
            .item
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty());
        if item.is_some_and(|i| i.chars().count() > MAX_ITEM_FILTER) {
            return Err(ApiError::field(
                "item",
                format!("must be at most {MAX_ITEM_FILTER} characters"),
            ));
        }
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(
                NeedStatus::parse(s)
                    .ok_or_else(|| ApiError::field("status", "must be open, met or withdrawn"))?,
            ),
        };
        Ok(NeedFilter {
            region,
            item: item.map(str::to_owned),
            status,
            recipient: self.recipient.clone().filter(|r| !r.is_empty()),
        })
    }

    /// The page size, or 400.
    pub fn limit(&self) -> Result<i64, ApiError> {
        page_limit(self.limit)
    }

    /// The cursor (a need's serial number).
    pub fn after(&self) -> Result<i64, ApiError> {
        match self.after.as_deref() {
            None | Some("") => Ok(0),
            Some(a) => a.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::field("after", "must be a cursor from meta.next (a need's number)")
            }),
        }
    }
}

/// A page of needs for these parameters (shared with the needs board page).
pub async fn needs_page(state: &AppState, p: &NeedParams) -> Result<Page<Need>, ApiError> {
    let filter = p.filter()?;
    let after = p.after()?;
    let limit = p.limit()?;
    read(state, move |c| store::list(c, &filter, after, limit)).await
}

/// The needs board: every need with its quantity, pledged (allocated), delivered
/// (acknowledged) and outstanding, oldest first.
#[utoipa::path(tag = "needs", params(NeedParams),
    responses((status = 200, description = "`{\"needs\": [NeedView], \"meta\": {\"next\"}}`", body = Object), (status = 400, body = Problem)))]
#[get("/needs")]
pub async fn list_needs(
    state: web::Data<AppState>,
    p: web::Query<NeedParams>,
) -> Result<HttpResponse, ApiError> {
    let page = needs_page(&state, &p).await?;
    let items: Vec<NeedView> = page.items.iter().map(Need::view).collect();
    Ok(HttpResponse::Ok().json(json!({"needs": items, "meta": {"next": page.next}})))
}

/// One need with its progress.
#[utoipa::path(tag = "needs", params(("need" = String, Path, description = "need id (`need-17`)")),
    responses((status = 200, body = NeedView), (status = 404, body = Problem)))]
#[get("/needs/{need}")]
pub async fn get_need(
    state: web::Data<AppState>,
    need: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = need.into_inner();
    let lookup = id.clone();
    let n = read(&state, move |c| store::get(c, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("need {id} not found")))?;
    Ok(HttpResponse::Ok().json(n.view()))
}

/// The charity's unallocated goods ranked against open needs (shared with the organisation
/// page, which reads them inside its own snapshot); `None` if the organisation is not
/// registered. `regions` are the priority regions.
pub fn matches(
    c: &mut AnyConnection,
    org: &str,
    regions: &[String],
) -> Result<Option<Vec<MatchView>>, StoreError> {
    if registry::organization(c, org)?.is_none() {
        return Ok(None);
    }
    let wanted = store::open_need_assets(c)?;
    let stock = store::unallocated_goods(c, org, &wanted)?;
    let mut keys: Vec<AssetKey> = stock.iter().map(|l| l.asset.clone()).collect();
    keys.sort();
    keys.dedup();
    let needs = store::open_needs_for(c, &keys)?;
    let ranked = rank_matches(&stock, &needs, regions, Utc::now());
    Ok(Some(
        ranked
            .iter()
            .enumerate()
            .map(|(i, m)| m.view(i + 1))
            .collect(),
    ))
}

/// The charity's unallocated goods against open needs, ranked by urgency, then recipients in a
/// priority region, then how long the need has waited. Each match says how much of the stock
/// could go to the need honouring donors' designations (`available`), what to allocate
/// (`suggested`), and which donations it would come from. Public: it shows only public
/// balances and public needs.
/// A charity's matches as JSON (the OpenAPI document's name for them).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MatchesPage {
    /// At most 200 matches, the most urgent first.
    matches: Vec<MatchView>,
    /// `{"next": null, "priority_regions"}`.
    #[schema(value_type = Object)]
    meta: (),
}

#[utoipa::path(tag = "needs", params(("org" = String, Path, description = "organisation slug")),
    responses((status = 200, description = "`{\"matches\": [MatchView], \"meta\": {\"next\": null, \"priority_regions\"}}` (at most 200)", body = MatchesPage), (status = 404, body = Problem)))]
#[get("/organizations/{org}/needs/matches")]
pub async fn need_matches(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let (o, regions) = (org.clone(), state.policy.priority_regions.clone());
    let m = read(&state, move |c| matches(c, &o, &regions))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("organisation {org} is not registered")))?;
    Ok(HttpResponse::Ok().json(json!({
        "matches": m,
        "meta": {"next": null, "priority_regions": state.policy.priority_regions},
    })))
}
