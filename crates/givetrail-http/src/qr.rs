//! QR codes of a donation's trail page, for receipts: `GET /organizations/{org}/donations/
//! {receipt_number}/qr.svg` (shown on the trail page itself, and printed by `givetrail receipts`).
//! The code holds the page's absolute address ([`crate::link::PublicUrl`]); it is drawn as SVG
//! with the `qrcode` crate (error correction M, quiet zone kept).

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use crate::link;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The media type of the code.
pub const SVG: &str = "image/svg+xml";

/// The absolute address of a donation's trail page at `origin`.
pub fn trail_url(origin: &str, org: &str, receipt_number: &str) -> String {
    format!("{origin}{}", link::trail_page(org, receipt_number))
}

/// An SVG QR code holding `text` (black on white, at least 240 px across).
pub fn svg(text: &str) -> Result<String, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("no QR code holds {} bytes: {e}", text.len()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build())
}

/// A QR code of the donation's public trail page (`/trail/{org}/{receipt_number}`, the HTML
/// page), as SVG, for printing on its receipt. The address starts with the server's configured
/// `--public-url`; without one, with `http://` and the request's `Host` (then `Vary: Host`).
/// 404 for an unknown receipt number, 410 for a voided donation (as the trail).
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), ("receipt_number" = String, Path, description = "receipt number")),
    responses((status = 200, description = "SVG QR code holding the trail page's absolute URL", content_type = "image/svg+xml", body = String),
        (status = 404, body = Problem), (status = 410, description = "the donation was voided; `correction` is the correcting entry's seq", body = Problem)))]
#[get("/organizations/{org}/donations/{receipt_number}/qr.svg")]
pub async fn donation_qr(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, receipt) = path.into_inner();
    crate::disclosure::trail_of(&state, &org, &receipt).await?;
    let url = trail_url(&state.public_url.origin(&req), &org, &receipt);
    let body = svg(&url).map_err(|e| ApiError::internal(&e))?;
    let mut r = HttpResponse::Ok();
    r.content_type(SVG)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if !state.public_url.is_configured() {
        r.insert_header((header::VARY, "Host"));
    }
    Ok(r.body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_svg_of_the_trail_address() {
        let url = trail_url("https://givetrail.example.org", "hubei-red-cross", "HBRC 1");
        assert_eq!(
            url,
            "https://givetrail.example.org/trail/hubei-red-cross/HBRC%201"
        );
        let s = svg(&url).expect("svg");
        assert!(s.contains("<svg") && s.contains("</svg>"));
        assert!(svg(&"x".repeat(5000)).is_err());
    }
}
