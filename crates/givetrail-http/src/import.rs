//! `POST /organizations/{org}/donations/import`: a donations CSV or Excel workbook, all rows or
//! none. The handler authorises and reads the body; the rows are parsed
//! (`givetrail_domain::import`) and appended (`givetrail_store::write::import`) by the writer
//! inside one transaction.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};

use givetrail_domain::disclosure::xlsx::MEDIA_TYPE as XLSX;
use givetrail_domain::import::FileFormat;
use givetrail_store::write::import::ImportBody;
use givetrail_store::write::Write;

use crate::auth::{author, charity_of, required};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::writes::submit;

use crate::body::MAX_IMPORT_BYTES;

/// Import a donations CSV or Excel workbook (the columns listed under the request body, header
/// row first, in any order; rows numbered as a spreadsheet numbers them: in a CSV the header is
/// row 1, in a workbook (its first worksheet) every row keeps the sheet's number). Every row is
/// appended under the ledger's rules in one transaction, or none is: a bad row is answered with
/// 400/404/409/422 naming `row N: column` in `errors[].field` (`file` when the body is no
/// workbook). In a workbook, a number cell is read as the shortest decimal naming the same double
/// (what was typed, up to 15 significant digits; more is refused) and a date cell is refused
/// (no time zone: type `occurred_at` as RFC 3339 text). At most 64 MiB.
#[utoipa::path(tag = "charity writes", params(("org" = String, Path, description = "organisation slug"), ("Idempotency-Key" = Option<String>, Header, description = "retry key")),
    request_body(content((String = "text/csv"), (crate::disclosure::Workbook = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")), description = "receipt_number,occurred_at,donor_name,donor_kind,anonymous,donor_public_name,donor_contact,channel,campaign,restriction,designated_region_code,designated_recipient,purpose,asset_kind,currency,amount,item,spec,unit,quantity (at most 64 MiB)"),
    responses((status = 201, description = "`{\"organization\", \"imported\", \"first_seq\", \"last_seq\"}`", body = Object),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
#[post("/organizations/{org}/donations/import")]
pub async fn post_donation_import(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let p = required(&req, &state).await?;
    charity_of(&p, &org)?;
    let media = crate::body::require_media(&req, &["text/csv", XLSX], "a donations import")?;
    let format = if media == XLSX {
        FileFormat::Xlsx
    } else {
        FileFormat::Csv
    };
    let body = payload
        .to_bytes_limited(MAX_IMPORT_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                format!("a donations import takes at most {MAX_IMPORT_BYTES} bytes; use `givetrail import` or split the file"),
            )
        })?
        .map_err(|e| ApiError::field("", format!("the body could not be read: {e}")))?;
    let write = Write::Import {
        org,
        author: author(&p),
        file: ImportBody {
            format,
            bytes: body.to_vec().into(),
        },
    };
    submit(&req, &state, &p, &body, write).await
}
