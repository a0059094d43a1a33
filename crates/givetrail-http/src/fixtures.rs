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
        let req = test::TestRequest::post()
            .uri(&step.post)
            .insert_header(("Authorization", format!("Bearer {}", step.key)))
            .set_json(&step.body)
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
