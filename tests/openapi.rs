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

/// The document `givetrail openapi` prints.
fn generated() -> serde_json::Value {
    let out = std::process::Command::new(common::BIN)
        .arg("openapi")
        .output()
        .expect("run givetrail openapi");
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn every_write_endpoint_is_documented_with_problem_responses() {
    let spec = generated();
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

#[test]
fn every_operation_documents_503_and_every_write_507() {
    let spec = generated();
    let mut writes = 0;
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "delete", "patch", "head"] {
            let Some(responses) = item[method]["responses"].as_object() else {
                continue;
            };
            assert!(
                responses.contains_key("503"),
                "{method} {path} documents 503"
            );
            let write = !matches!(method, "get" | "head");
            writes += usize::from(write);
            assert_eq!(
                responses.contains_key("507"),
                write,
                "{method} {path}: 507 (disk full) is documented on writes only"
            );
        }
    }
    assert!(writes > 20, "the writes were found");
}
