//! Loading demo data: replay a fixture file's steps through the real handlers, in process.

use actix_web::{test, web, App};
use serde::Deserialize;
use utoipa_actix_web::{scope, AppExt};

use givetrail_domain::entry::Role;
use givetrail_store::registry::{self, NewKey};

use crate::db::read;
use crate::state::AppState;

/// A fixture file (`fixtures/demo.json`).
#[derive(Debug, Deserialize)]
pub struct Fixture {
    /// What the data is.
    #[serde(default)]
    pub description: String,
    /// Demo keys (fixed strings; stored hashed like any key).
    pub keys: Vec<FixtureKey>,
    /// Requests to replay, in order.
    pub steps: Vec<Step>,
}

/// A demo key.
#[derive(Debug, Clone, Deserialize)]
pub struct FixtureKey {
    /// The key.
    pub key: String,
    /// Role.
    pub role: Role,
    /// Organisation of a charity key.
    #[serde(default)]
    pub organization: Option<String>,
    /// Recipient of a recipient key.
    #[serde(default)]
    pub recipient: Option<String>,
    /// Jurisdiction of a regulator key.
    #[serde(default)]
    pub jurisdiction: Option<String>,
}

/// One request.
#[derive(Debug, Deserialize)]
pub struct Step {
    /// The key it is made with.
    #[serde(rename = "as")]
    pub key: String,
    /// Path of the POST.
    pub post: String,
    /// JSON body.
    pub body: serde_json::Value,
}

/// A fixture step's body with every string of the form `now`, `now-90m`, `now-2h` or `now-3d`
/// replaced by that moment (RFC 3339) as the step is replayed: what must happen after something
/// the server timestamps itself (a need is posted at the server's clock) is dated relative to
/// the load. Other strings are left alone.
pub fn relative_times(
    body: &serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    use serde_json::Value;
    match body {
        Value::String(s) => match relative(s, now) {
            Some(t) => Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            None => body.clone(),
        },
        Value::Array(a) => Value::Array(a.iter().map(|v| relative_times(v, now)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), relative_times(v, now)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn relative(s: &str, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    let rest = s.strip_prefix("now")?;
    if rest.is_empty() {
        return Some(now);
    }
    let ago = rest.strip_prefix('-')?;
    let (n, unit) = ago.split_at(ago.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let d = match unit {
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return None,
    };
    Some(now - d)
}

/// Replay `fixture` into the store behind `state`. Fails on the first step the server refuses.
pub async fn load(state: &AppState, fixture: &Fixture) -> Result<usize, String> {
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(state.clone()))
            .into_utoipa_app()
            .service(scope("/api/v1").configure(crate::routes))
            .into_app(),
    )
    .await;
    let mut inserted = std::collections::HashSet::new();
    for (i, step) in fixture.steps.iter().enumerate() {
        if inserted.insert(step.key.clone()) {
            let k = fixture
                .keys
                .iter()
                .find(|k| k.key == step.key)
                .ok_or_else(|| format!("step {i}: unknown key"))?
                .clone();
            let new = NewKey {
                key: k.key,
                role: k.role,
                organization: k.organization,
                recipient: k.recipient,
                jurisdiction: k.jurisdiction,
            };
            read(state, move |c| registry::insert_key(c, &new, 0))
                .await
                .map_err(|e| format!("step {i}: key: {e}"))?;
        }
        let body = relative_times(&step.body, chrono::Utc::now());
        let req = test::TestRequest::post()
            .uri(&step.post)
            .insert_header(("Authorization", format!("Bearer {}", step.key)))
            .set_json(&body)
            .to_request();
        let resp = test::call_service(&app, req).await;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = test::read_body(resp).await;
            return Err(format!(
                "step {i} (POST {}): {status}: {}",
                step.post,
                String::from_utf8_lossy(&body)
            ));
        }
    }
    for k in &fixture.keys {
        if inserted.insert(k.key.clone()) {
            let new = NewKey {
                key: k.key.clone(),
                role: k.role,
                organization: k.organization.clone(),
                recipient: k.recipient.clone(),
                jurisdiction: k.jurisdiction.clone(),
            };
            read(state, move |c| registry::insert_key(c, &new, 0))
                .await
                .map_err(|e| format!("key: {e}"))?;
        }
    }
    Ok(fixture.steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[::core::prelude::v1::test]
    fn relative_times_are_filled_in_and_other_strings_kept() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let body = serde_json::json!({"occurred_at": "now-2h", "at": ["now", "now-3d", "now-90m"],
            "note": "nowhere", "bad": "now-2x", "n": 3});
        assert_eq!(
            relative_times(&body, now),
            serde_json::json!({"occurred_at": "2026-01-02T01:04:05Z",
                "at": ["2026-01-02T03:04:05Z", "2025-12-30T03:04:05Z", "2026-01-02T01:34:05Z"],
                "note": "nowhere", "bad": "now-2x", "n": 3})
        );
    }
}
