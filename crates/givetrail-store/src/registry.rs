//! Registrations (organisations, recipients) and API keys. These are not log entries.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use givetrail_domain::entry::Role;

use crate::db::AnyConnection;
use crate::models::{IdempotencyRow, KeyRow};
use crate::schema::*;
use crate::StoreError;

/// An organisation as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    /// Slug.
    pub id: String,
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub credit_code: String,
    /// Kind.
    pub kind: String,
    /// Region code.
    pub region_code: String,
    /// Qualified for public fundraising.
    pub public_fundraising_qualified: bool,
    /// Registration time (µs).
    #[serde(skip)]
    pub created_at: i64,
}

/// A recipient as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = recipients)]
pub struct Recipient {
    /// Slug.
    pub id: String,
    /// Name.
    pub name: String,
    /// Credit code.
    pub credit_code: Option<String>,
    /// Kind.
    pub kind: String,
    /// Region code.
    pub region_code: String,
    /// Linked organisation.
    pub organization: Option<String>,
    /// Registration time (µs).
    #[serde(skip)]
    pub created_at: i64,
    /// Ownership (`public`, `private`, `nonprofit`), if known.
    pub ownership: Option<String>,
    /// Named by the health authority to treat the emergency's patients.
    pub designated_hospital: bool,
}

/// Insert an organisation.
pub fn insert_organization(conn: &mut AnyConnection, o: &Organization) -> Result<(), StoreError> {
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(&o.id),
            organizations::name.eq(&o.name),
            organizations::credit_code.eq(&o.credit_code),
            organizations::kind.eq(&o.kind),
            organizations::region_code.eq(&o.region_code),
            organizations::public_fundraising_qualified.eq(o.public_fundraising_qualified),
            organizations::created_at.eq(o.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Insert a recipient.
pub fn insert_recipient(conn: &mut AnyConnection, r: &Recipient) -> Result<(), StoreError> {
    diesel::insert_into(recipients::table)
        .values((
            recipients::id.eq(&r.id),
            recipients::name.eq(&r.name),
            recipients::credit_code.eq(r.credit_code.as_deref()),
            recipients::kind.eq(&r.kind),
            recipients::region_code.eq(&r.region_code),
            recipients::organization.eq(r.organization.as_deref()),
            recipients::created_at.eq(r.created_at),
            recipients::ownership.eq(r.ownership.as_deref()),
            recipients::designated_hospital.eq(r.designated_hospital),
        ))
        .execute(conn)?;
    Ok(())
}

/// Find an organisation.
pub fn organization(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Option<Organization>, StoreError> {
    Ok(organizations::table
        .filter(organizations::id.eq(id))
        .select(Organization::as_select())
        .first(conn)
        .optional()?)
}

/// Every organisation id.
pub fn organization_ids(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    Ok(organizations::table
        .select(organizations::id)
        .order(organizations::id.asc())
        .load(conn)?)
}

/// Find a recipient.
pub fn recipient(conn: &mut AnyConnection, id: &str) -> Result<Option<Recipient>, StoreError> {
    Ok(recipients::table
        .filter(recipients::id.eq(id))
        .select(Recipient::as_select())
        .first(conn)
        .optional()?)
}

/// What a key is allowed to act as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// Public id of the key (safe to log).
    pub key_id: String,
    /// Role.
    pub role: Role,
    /// Organisation of a charity key.
    pub organization: Option<String>,
    /// Recipient of a recipient key.
    pub recipient: Option<String>,
    /// Jurisdiction prefix of a regulator key (`""` = national).
    pub jurisdiction: Option<String>,
}

/// SHA-256 of a key, as stored.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new random key: 32 random bytes, hex, with a readable prefix.
pub fn generate_key() -> String {
    format!("gt_{}", hex::encode(rand::random::<[u8; 32]>()))
}

/// A key to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// The key itself (shown once, stored hashed).
    pub key: String,
    /// Role.
    pub role: Role,
    /// Organisation (charity keys).
    pub organization: Option<String>,
    /// Recipient (recipient keys).
    pub recipient: Option<String>,
    /// Jurisdiction (regulator keys).
    pub jurisdiction: Option<String>,
}

/// Store a key's hash; returns its public id.
pub fn insert_key(conn: &mut AnyConnection, k: &NewKey, now_us: i64) -> Result<String, StoreError> {
    let hash = key_hash(&k.key);
    let key_id = format!("key_{}", &hash[..16]);
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::key_hash.eq(&hash),
            api_keys::key_id.eq(&key_id),
            api_keys::role.eq(k.role.as_str()),
            api_keys::organization.eq(k.organization.as_deref()),
            api_keys::recipient.eq(k.recipient.as_deref()),
            api_keys::jurisdiction.eq(k.jurisdiction.as_deref()),
            api_keys::created_at.eq(now_us),
            api_keys::revoked_at.eq(None::<i64>),
        ))
        .execute(conn)?;
    Ok(key_id)
}

/// Look a presented key up; `None` if unknown or revoked.
pub fn authenticate(conn: &mut AnyConnection, key: &str) -> Result<Option<Principal>, StoreError> {
    let row: Option<KeyRow> = api_keys::table
        .filter(api_keys::key_hash.eq(key_hash(key)))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) if r.revoked_at.is_none() => Ok(Some(principal(r)?.0)),
        _ => Ok(None),
    }
}

/// A key by its public id (never its secret): (principal, revoked).
pub fn key_by_id(
    conn: &mut AnyConnection,
    key_id: &str,
) -> Result<Option<(Principal, bool)>, StoreError> {
    let row: Option<KeyRow> = api_keys::table
        .filter(api_keys::key_id.eq(key_id))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?;
    row.map(principal).transpose()
}

/// What a stored key may act as, and whether it was revoked.
fn principal(r: KeyRow) -> Result<(Principal, bool), StoreError> {
    let role =
        Role::parse(&r.role).ok_or_else(|| StoreError::Corrupt(format!("key role {}", r.role)))?;
    Ok((
        Principal {
            key_id: r.key_id,
            role,
            organization: r.organization,
            recipient: r.recipient,
            jurisdiction: r.jurisdiction,
        },
        r.revoked_at.is_some(),
    ))
}

/// Revoke a key by its public id; returns whether it existed.
pub fn revoke_key(conn: &mut AnyConnection, key_id: &str, now_us: i64) -> Result<bool, StoreError> {
    let n = diesel::update(
        api_keys::table
            .filter(api_keys::key_id.eq(key_id))
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(Some(now_us)))
    .execute(conn)?;
    Ok(n > 0)
}

/// A stored first response to an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResponse {
    /// Hash of the request it answered.
    pub request_hash: String,
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub response: String,
}

/// Look up an idempotency record.
pub fn idempotent(
    conn: &mut AnyConnection,
    key_id: &str,
    idem: &str,
) -> Result<Option<IdempotentResponse>, StoreError> {
    let row: Option<IdempotencyRow> = idempotency::table
        .filter(idempotency::key_id.eq(key_id))
        .filter(idempotency::idempotency_key.eq(idem))
        .select(IdempotencyRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| IdempotentResponse {
        request_hash: r.request_hash,
        status: u16::try_from(r.status).unwrap_or(500),
        response: r.response,
    }))
}

/// Record the first response to an idempotent request.
pub fn remember(
    conn: &mut AnyConnection,
    key_id: &str,
    idem: &str,
    r: &IdempotentResponse,
    now_us: i64,
) -> Result<(), StoreError> {
    diesel::insert_into(idempotency::table)
        .values((
            idempotency::key_id.eq(key_id),
            idempotency::idempotency_key.eq(idem),
            idempotency::request_hash.eq(&r.request_hash),
            idempotency::status.eq(i32::from(r.status)),
            idempotency::response.eq(&r.response),
            idempotency::created_at.eq(now_us),
        ))
        .execute(conn)?;
    Ok(())
}
