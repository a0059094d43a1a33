//! The committed OpenAPI document is the one the code generates.

mod common;

#[test]
fn committed_openapi_document_is_current() {
    let out = std::process::Command::new(common::BIN)
        .arg("openapi")
        .output()
        .expect("run givetrail openapi");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).expect("utf-8");
    let committed =
        std::fs::read_to_string(common::repo_file("api-spec/openapi.json")).unwrap_or_default();
    assert!(
        generated.trim() == committed.trim(),
        "api-spec/openapi.json is stale: run scripts/update-openapi and commit the result"
    );
}

#[test]
fn every_write_endpoint_is_documented_with_problem_responses() {
    let out = std::process::Command::new(common::BIN)
        .arg("openapi")
        .output()
        .expect("run givetrail openapi");
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let paths = spec["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/organizations",
        "/api/v1/recipients",
        "/api/v1/organizations/{org}/keys",
        "/api/v1/recipients/{recipient}/keys",
        "/api/v1/organizations/{org}/campaigns",
        "/api/v1/organizations/{org}/donations",
        "/api/v1/organizations/{org}/donations/batch",
        "/api/v1/organizations/{org}/allocations",
        "/api/v1/organizations/{org}/disbursements",
        "/api/v1/organizations/{org}/expenses",
        "/api/v1/organizations/{org}/corrections",
        "/api/v1/recipients/{recipient}/acknowledgements",
        "/api/v1/recipients/{recipient}/usage_reports",
    ] {
        let post = &paths.get(p).unwrap_or_else(|| panic!("{p} is documented"))["post"];
        assert!(post["responses"]["401"].is_object(), "{p} documents 401");
        assert!(post["responses"]["403"].is_object(), "{p} documents 403");
    }
}
