//! Public verification: signed checkpoints, RFC 9162 proofs and the server's public key.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use givetrail_domain::checkpoint::Checkpoint;
use givetrail_domain::signing::{KeyRecord, Rotation, SignedRange};
use givetrail_store::verify::proofs::{self, ProofRequestError};
use givetrail_store::verify::{checkpoints, keys, merkle};
use givetrail_store::{AnyConnection, StoreError};

use crate::caching;
use crate::db::read;
use crate::paging::{page_limit, PageParams};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The latest checkpoint of a log and whether it verifies (both `null` while the log has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckpointStatus {
    /// The latest signed checkpoint.
    pub checkpoint: Option<Checkpoint>,
    /// Whether its signature verifies with the server's key and its root matches the Merkle
    /// tree the server holds now.
    pub verified: Option<bool>,
}

/// The latest checkpoint and whether it verifies: its signature with the server's key, and its
/// root against the Merkle tree the server holds now.
pub fn checkpoint_status(
    conn: &mut AnyConnection,
    org: &str,
    key_hex: &str,
) -> Result<CheckpointStatus, StoreError> {
    let Some(c) = checkpoints::latest_checkpoint(conn, org)? else {
        return Ok(CheckpointStatus {
            checkpoint: None,
            verified: None,
        });
    };
    // Checked with the key that was current when it was signed, per the key history (the
    // server's own key while the history is empty).
    let history = keys::history(conn)?;
    let signature_ok = if history.keys.is_empty() {
        c.verify(key_hex).is_ok()
    } else {
        history.verify_checkpoint(&c).is_ok()
    };
    let root_ok = u64::try_from(c.tree_size)
        .ok()
        .map(|n| merkle::root(conn, org, n).map(|r| hex::encode(r) == c.root_hash))
        .transpose()?
        .unwrap_or(false);
    Ok(CheckpointStatus {
        checkpoint: Some(c),
        verified: Some(signature_ok && root_ok),
    })
}

/// The latest signed checkpoint of a log.
#[utoipa::path(tag = "verification", params(("org" = String, Path, description = "organisation slug")),
    responses((status = 200, body = Checkpoint), (status = 404, body = Problem)))]
#[get("/organizations/{org}/checkpoints/latest")]
pub async fn latest_checkpoint(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let o = org.clone();
    let c = read(&state, move |c| checkpoints::latest_checkpoint(c, &o))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "{org} has no checkpoint (no such organisation, or an empty log)"
            ))
        })?;
    Ok(HttpResponse::Ok().json(c))
}

/// Every signed checkpoint of a log, oldest first (kept forever).
#[utoipa::path(tag = "verification", params(("org" = String, Path, description = "organisation slug"), PageParams),
    responses((status = 200, description = "`{\"checkpoints\": [...], \"meta\": {\"next\"}}`", body = Object), (status = 400, body = Problem)))]
#[get("/organizations/{org}/checkpoints")]
pub async fn list_checkpoints(
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_limit(p.limit)?;
    let after = match p.after.as_deref() {
        None => 0,
        Some(a) => a.parse::<i64>().map_err(|_| {
            ApiError::field("after", "must be a cursor from meta.next (a tree size)")
        })?,
    };
    let org = org.into_inner();
    let items = read(&state, move |c| {
        checkpoints::checkpoints(c, &org, after, limit)
    })
    .await?;
    // A full page never changes: checkpoints are kept forever and only added after it.
    let full = items.len() as i64 == limit;
    let next = full
        .then(|| items.last().map(|c| c.tree_size.to_string()))
        .flatten();
    let res = HttpResponse::Ok().json(json!({"checkpoints": items, "meta": {"next": next}}));
    Ok(if full { caching::immutable(res) } else { res })
}

/// Query of an inclusion proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InclusionParams {
    /// Seq of the entry (leaf index + 1).
    pub seq: u64,
    /// Size of the tree to prove against (default: the whole log now).
    pub tree_size: Option<u64>,
}

fn proof_error(e: ProofRequestError) -> ApiError {
    match e {
        ProofRequestError::OutOfRange(m) => ApiError::field("tree_size", m),
        ProofRequestError::Store(s) => ApiError::from(s),
    }
}

/// RFC 9162 §2.1.3 inclusion proof of an entry.
#[utoipa::path(tag = "verification", params(("org" = String, Path, description = "organisation slug"), InclusionParams),
    responses((status = 200, description = "`{\"leaf_index\", \"tree_size\", \"audit_path\": [hex…]}`", body = Object), (status = 400, body = Problem)))]
#[get("/organizations/{org}/proofs/inclusion")]
pub async fn inclusion_proof(
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<InclusionParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    if p.seq == 0 {
        return Err(ApiError::field("seq", "must be at least 1"));
    }
    let (seq, size) = (p.seq, p.tree_size);
    // A proof against a stated size never changes; one against the log as it is now does.
    let fixed = size.is_some();
    let (path, size) = read(&state, move |c| {
        let size = match size {
            Some(s) => s,
            None => givetrail_store::read::log::head(c, &org)?.seq as u64,
        };
        Ok((proofs::inclusion(c, &org, seq - 1, size), size))
    })
    .await?;
    let path = path.map_err(proof_error)?;
    let res = HttpResponse::Ok().json(json!({
        "leaf_index": seq - 1,
        "tree_size": size,
        "audit_path": path.iter().map(hex::encode).collect::<Vec<_>>(),
    }));
    Ok(if fixed { caching::immutable(res) } else { res })
}

/// Query of a consistency proof.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConsistencyParams {
    /// Earlier tree size.
    pub from: u64,
    /// Later tree size.
    pub to: u64,
}

/// RFC 9162 §2.1.4 consistency proof between two sizes of a log.
#[utoipa::path(tag = "verification", params(("org" = String, Path, description = "organisation slug"), ConsistencyParams),
    responses((status = 200, description = "`{\"from\", \"to\", \"proof\": [hex…]}`", body = Object), (status = 400, body = Problem)))]
#[get("/organizations/{org}/proofs/consistency")]
pub async fn consistency_proof(
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<ConsistencyParams>,
) -> Result<HttpResponse, ApiError> {
    let org = org.into_inner();
    let (from, to) = (p.from, p.to);
    let proof = read(&state, move |c| Ok(proofs::consistency(c, &org, from, to)))
        .await?
        .map_err(proof_error)?;
    // Both sizes exist (else the proof is refused) and a log only grows: it never changes.
    Ok(caching::immutable(HttpResponse::Ok().json(json!({
        "from": from,
        "to": to,
        "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
    }))))
}

/// The key checkpoints are signed with.
#[utoipa::path(tag = "verification", responses((status = 200, description = "`{\"algorithm\": \"ed25519\", \"public_key\": \"<hex>\"}`", body = Object)))]
#[get("/public_key")]
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"algorithm": "ed25519", "public_key": state.public_key}))
}

/// One key of the history, with what it signed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicKeyView {
    /// Lowercase hex Ed25519 public key.
    pub public_key: String,
    /// When it became the signing key (RFC 3339 UTC).
    pub from: String,
    /// When the next key replaced it (`null` for the current key).
    pub until: Option<String>,
    /// Whether it signs checkpoints now.
    pub current: bool,
    /// The rotation record that introduced it, signed by the key before it and by itself
    /// (`null` for the first key).
    pub rotation: Option<Rotation>,
    /// Per organisation, the first and last checkpoint tree sizes it signed.
    pub signed: Vec<SignedRange>,
}

/// The key history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicKeys {
    /// Always `ed25519`.
    pub algorithm: String,
    /// Oldest first; the last is the key of `GET /public_key`.
    pub keys: Vec<PublicKeyView>,
}

/// Every key checkpoints have been signed with, oldest first: when each was current, the
/// rotation record that introduced it (signed by the key it retired, over its RFC 8785 form
/// without the signatures), and the tree sizes it signed per organisation. A checkpoint of
/// `org` at size `n` is signed by the first key whose successor's `rotation.signed_sizes[org]`
/// is at least `n`, else by the current key.
#[utoipa::path(tag = "verification", responses((status = 200, body = PublicKeys)))]
#[get("/public_keys")]
pub async fn public_keys(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (history, ranges) = read(&state, |c| {
        let h = keys::history(c)?;
        let r = keys::signed_ranges(c, &h)?;
        Ok((h, r))
    })
    .await?;
    let n = history.keys.len();
    let untils: Vec<Option<String>> = history
        .keys
        .iter()
        .skip(1)
        .map(|k| Some(k.from.clone()))
        .chain(std::iter::once(None))
        .collect();
    let keys = history
        .keys
        .into_iter()
        .zip(untils)
        .zip(ranges)
        .enumerate()
        .map(|(i, ((k, until), signed))| {
            let KeyRecord {
                public_key: key,
                from,
                rotation,
            } = k;
            PublicKeyView {
                public_key: key,
                from,
                until,
                current: i + 1 == n,
                rotation,
                signed,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(PublicKeys {
        algorithm: "ed25519".into(),
        keys,
    }))
}
