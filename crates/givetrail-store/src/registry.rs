//! Registrations (organisations, recipients) and API keys. These are not log entries.

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use givetrail_domain::disclosure::Registrar;
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

/// A recipient as registered. Its JSON is the public form ([`RecipientJson`]): who registered
/// it and who confirmed it as [`Registrar`]s, the confirmation time in RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, Selectable)]
#[diesel(table_name = recipients)]
#[serde(into = "RecipientJson")]
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
    #[serde(default)]
    pub created_at: i64,
    /// Ownership (`public`, `private`, `nonprofit`), if known.
    pub ownership: Option<String>,
    /// Named by the health authority to treat the emergency's patients.
    pub designated_hospital: bool,
    /// `charity` or `regulator`; `None` for recipients registered before this was recorded.
    #[serde(default)]
    pub registered_by_role: Option<String>,
    /// The registering charity's organisation, or the registering regulator's jurisdiction.
    #[serde(default)]
    pub registered_by: Option<String>,
    /// The jurisdiction of the regulator that confirmed it (`""`: national).
    #[serde(default)]
    pub confirmed_by: Option<String>,
    /// When it was confirmed (µs); a regulator's registration confirms at once.
    #[serde(default)]
    pub confirmed_at: Option<i64>,
}

impl Recipient {
    /// Who registered it, if recorded.
    pub fn registrar(&self) -> Option<Registrar> {
        Registrar::from_columns(
            self.registered_by_role.as_deref(),
            self.registered_by.as_deref(),
        )
    }

    /// The regulator that confirmed it, if any.
    pub fn confirmer(&self) -> Option<Registrar> {
        self.confirmed_by.as_ref().map(|j| Registrar::Regulator {
            jurisdiction: j.clone(),
        })
    }

    /// When it was confirmed.
    pub fn confirmed_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.confirmed_at
            .and_then(chrono::DateTime::from_timestamp_micros)
    }
}

/// The public JSON of a recipient.
#[derive(Serialize)]
pub struct RecipientJson {
    id: String,
    name: String,
    credit_code: Option<String>,
    kind: String,
    region_code: String,
    organization: Option<String>,
    ownership: Option<String>,
    designated_hospital: bool,
    registered_by: Option<Registrar>,
    confirmed_by: Option<Registrar>,
    confirmed_at: Option<String>,
}

impl From<Recipient> for RecipientJson {
    fn from(r: Recipient) -> Self {
        RecipientJson {
            registered_by: r.registrar(),
            confirmed_by: r.confirmer(),
            confirmed_at: r
                .confirmed_time()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            id: r.id,
            name: r.name,
            credit_code: r.credit_code,
            kind: r.kind,
            region_code: r.region_code,
            organization: r.organization,
            ownership: r.ownership,
            designated_hospital: r.designated_hospital,
        }
    }
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
            recipients::registered_by_role.eq(r.registered_by_role.as_deref()),
            recipients::registered_by.eq(r.registered_by.as_deref()),
            recipients::confirmed_by.eq(r.confirmed_by.as_deref()),
            recipients::confirmed_at.eq(r.confirmed_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Record a regulator's confirmation of a recipient a charity registered: `false` when there is
/// nothing to confirm (already confirmed, or no such recipient).
pub fn confirm_recipient(
    conn: &mut AnyConnection,
    id: &str,
    jurisdiction: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        recipients::table
            .filter(recipients::id.eq(id))
            .filter(recipients::confirmed_at.is_null()),
    )
    .set((
        recipients::confirmed_by.eq(jurisdiction),
        recipients::confirmed_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Registered recipients whose name is one of `names`, exactly as stored (names are stored NFC
/// and trimmed), oldest registration first.
pub fn recipients_named(
    conn: &mut AnyConnection,
    names: &[String],
) -> Result<Vec<Recipient>, StoreError> {
    let mut out = Vec::new();
    for chunk in names.chunks(500) {
        let rows: Vec<Recipient> = recipients::table
            .filter(recipients::name.eq_any(chunk))
            .select(Recipient::as_select())
            .load(conn)?;
        out.extend(rows);
    }
    out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(out)
}

/// Ids of the recipients a charity registered.
pub fn recipients_registered_by(
    conn: &mut AnyConnection,
    org: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(recipients::table
        .filter(recipients::registered_by_role.eq("charity"))
        .filter(recipients::registered_by.eq(org))
        .select(recipients::id)
        .order(recipients::id.asc())
        .load(conn)?)
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

/// Which of these keys (public ids) exist and are not revoked.
pub fn live_keys(
    conn: &mut AnyConnection,
    key_ids: &[&str],
) -> Result<std::collections::HashSet<String>, StoreError> {
    if key_ids.is_empty() {
        return Ok(std::collections::HashSet::new());
    }
    Ok(api_keys::table
        .filter(api_keys::key_id.eq_any(key_ids))
        .filter(api_keys::revoked_at.is_null())
        .select(api_keys::key_id)
        .load::<String>(conn)?
        .into_iter()
        .collect())
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
