//! Who is calling: bearer keys, looked up by their SHA-256, and what each role may write.

use actix_web::{HttpMessage, HttpRequest};

use givetrail_domain::entry::{Author, Role};
use givetrail_domain::ids::region_has_prefix;
use givetrail_store::registry::{self, Principal};

use crate::db::read_primary;
use crate::problem::ApiError;
use crate::state::AppState;

/// The caller `crate::gate` already authenticated from the headers, before the body was read.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub Option<Principal>);

/// The key presented in the Authorization header, if any; `Err(401)` if the header is malformed.
fn presented_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(header) = req.headers().get("Authorization") else {
        return Ok(None);
    };
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 512)
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| ApiError::unauthenticated("the Authorization header must be 'Bearer <key>'"))
}

/// The key presented, if any; `Err(401)` if one is presented but unknown or revoked.
pub async fn caller(req: &HttpRequest, state: &AppState) -> Result<Option<Principal>, ApiError> {
    if let Some(Authenticated(who)) = req.extensions().get::<Authenticated>() {
        return Ok(who.clone());
    }
    let Some(key) = presented_key(req)? else {
        return Ok(None);
    };
    look_up(state, key).await.map(Some)
}

/// Look a presented key up on the primary (a revoked key stops working at once, a new one works
/// at once); `Err(401)` if it is unknown or revoked.
async fn look_up(state: &AppState, key: String) -> Result<Principal, ApiError> {
    read_primary(state, move |c| registry::authenticate(c, &key))
        .await?
        .ok_or_else(|| ApiError::unauthenticated("the key is unknown or revoked"))
}

/// The caller of a write (`crate::gate`, for the routes that write through the writer), from
/// [`crate::key_cache::KeyCache`] when its key was found live lately, else as [`caller`]
/// does. The writer checks the key again when the write commits.
pub(crate) async fn caller_of_write(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Principal>, ApiError> {
    let Some(key) = presented_key(req)? else {
        return Ok(None);
    };
    let hash = registry::key_hash(&key);
    if let Some(p) = state.keys.get(&hash) {
        return Ok(Some(p));
    }
    let p = look_up(state, key).await?;
    state.keys.put(hash, p.clone());
    Ok(Some(p))
}

/// A caller that must be authenticated.
pub async fn required(req: &HttpRequest, state: &AppState) -> Result<Principal, ApiError> {
    caller(req, state).await?.ok_or_else(|| {
        ApiError::unauthenticated("this request needs 'Authorization: Bearer <key>'")
    })
}

/// The author recorded on entries written by this principal.
pub fn author(p: &Principal) -> Author {
    let subject = match p.role {
        Role::Charity => p.organization.clone(),
        Role::Recipient => p.recipient.clone(),
        Role::Regulator => Some(match p.jurisdiction.as_deref() {
            None | Some("") => "national".to_owned(),
            Some(j) => j.to_owned(),
        }),
    };
    Author {
        role: p.role,
        subject: subject.unwrap_or_default(),
    }
}

/// Whether a regulator's jurisdiction covers a region code.
pub fn regulator_covers(p: &Principal, region_code: &str) -> bool {
    p.role == Role::Regulator
        && region_has_prefix(region_code, p.jurisdiction.as_deref().unwrap_or(""))
}

/// The charity key of `org`, or 403.
pub fn charity_of(p: &Principal, org: &str) -> Result<(), ApiError> {
    if p.role == Role::Charity && p.organization.as_deref() == Some(org) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "only {org}'s own charity key may write to its log"
        )))
    }
}

/// The recipient key of `recipient`, or 403.
pub fn recipient_of(p: &Principal, recipient: &str) -> Result<(), ApiError> {
    if p.role == Role::Recipient && p.recipient.as_deref() == Some(recipient) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "only {recipient}'s own recipient key may write for it"
        )))
    }
}
