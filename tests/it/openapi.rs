//! The committed OpenAPI document is the one the code generates.

use crate::common;

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

/// Run a Python tool; a missing tool fails the test (`scripts/test` and `.ci/run` install it).
fn tool(program: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is required (scripts/test and .ci/run install it from PyPI): {e}")
        })
}

#[test]
fn committed_document_passes_openapi_spec_validator() {
    let path = common::repo_file("api-spec/openapi.json");
    let path = path.to_str().expect("utf-8 path");
    let out = tool("openapi-spec-validator", &[path]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi-spec-validator refused it:\n{said}"
    );
    assert!(said.trim_end().ends_with(": OK"), "{said}");
}

#[test]
fn operation_ids_are_unique_and_the_root_healthz_has_its_own() {
    let spec = generated();
    let mut seen = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let id = op["operationId"].as_str().expect("operationId");
            assert!(seen.insert(id.to_owned()), "{method} {path}: {id} twice");
        }
    }
    assert_eq!(
        spec["paths"]["/healthz"]["get"]["operationId"],
        "healthz_root"
    );
    assert_eq!(
        spec["paths"]["/api/v1/healthz"]["get"]["operationId"],
        "healthz"
    );
}

#[test]
fn request_schemas_carry_the_servers_rules() {
    let spec = generated();
    let schemas = &spec["components"]["schemas"];
    let org = &schemas["OrganizationRequest"];
    assert_eq!(org["additionalProperties"], false);
    assert_eq!(
        org["properties"]["id"]["pattern"],
        "^[a-z0-9]+(-[a-z0-9]+)*$"
    );
    assert_eq!(org["properties"]["id"]["maxLength"], 64);
    assert_eq!(
        org["properties"]["region_code"]["pattern"],
        "^[1-9][0-9]{5}$"
    );
    assert_eq!(org["properties"]["credit_code"]["maxLength"], 18);
    assert_eq!(org["properties"]["name"]["maxLength"], 200);
    let donation = &schemas["DonationRequest"];
    assert_eq!(
        donation["properties"]["asset"]["$ref"],
        "#/components/schemas/AssetWireInput"
    );
    // Money per currency scale: JPY has no decimals, CNY two.
    let money: Vec<&serde_json::Value> = schemas["AssetWireInput"]["oneOf"]
        .as_array()
        .expect("variants")
        .iter()
        .filter(|v| v["properties"]["kind"]["enum"][0] == "money")
        .collect();
    let scale_of = |code: &str| {
        money
            .iter()
            .find(|v| {
                v["properties"]["currency"]["enum"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|c| c == code))
            })
            .map(|v| v["properties"]["amount"]["pattern"].clone())
    };
    assert_eq!(
        scale_of("JPY"),
        Some(serde_json::json!("^([1-9][0-9]{0,14})$"))
    );
    assert_ne!(scale_of("CNY"), scale_of("JPY"));
    assert_eq!(
        schemas["DonationBatch"]["properties"]["donations"]["maxItems"],
        10_000
    );
    // The disclosure's period is the closed one with both ends, not the report's open period.
    assert_eq!(
        schemas["DisclosureRequest"]["properties"]["period"]["$ref"],
        "#/components/schemas/DisclosurePeriod"
    );
    assert_eq!(schemas["DisclosurePeriod"]["additionalProperties"], false);
    let list = &spec["paths"]["/api/v1/organizations/{org}/donations"]["get"]["parameters"];
    let limit = list
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit");
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["maximum"], 1000);
    // A body of no fields is a closed empty object.
    let keys = &spec["paths"]["/api/v1/organizations/{org}/keys"]["post"]["requestBody"];
    assert_eq!(
        keys["content"]["application/json"]["schema"]["additionalProperties"],
        false
    );
}

/// A Python client generated from the committed document records a donation and an allocation
/// and reads the trail on a live demo server; the server then shows the allocation over HTTP.
#[test]
fn a_generated_python_client_records_a_donation_and_its_allocation() {
    let work = std::env::temp_dir().join(format!(
        "givetrail-client-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&work).expect("scratch folder");
    let package = work.join("givetrail_client");
    let spec = common::repo_file("api-spec/openapi.json");
    let out = tool(
        "openapi-python-client",
        &[
            "generate",
            "--path",
            spec.to_str().expect("utf-8 path"),
            "--meta",
            "none",
            "--output-path",
            package.to_str().expect("utf-8 path"),
        ],
    );
    assert!(
        out.status.success(),
        "openapi-python-client failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let s = common::Server::demo();
    // The server serves the strict document the client was generated from.
    let served: serde_json::Value =
        reqwest::blocking::get(format!("{}/api-spec/openapi.json", s.base))
            .and_then(|r| r.json())
            .expect("the served document");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&spec).expect("api-spec/openapi.json"))
            .expect("json");
    assert_eq!(
        served, committed,
        "the server serves the committed document"
    );
    let receipt = "HBRC-CLIENT-0001";
    let script = common::repo_file("tests/openapi_client.py");
    let out = tool(
        "python3",
        &[
            script.to_str().expect("utf-8 path"),
            &s.base,
            work.to_str().expect("utf-8 path"),
            receipt,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the generated client failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(said["donation"]["status"], 201);
    assert_eq!(said["allocation"]["status"], 201);
    // What the client parsed from the trail…
    assert_eq!(said["trail"]["receipt_number"], receipt);
    assert_eq!(
        said["trail"]["allocations"][0]["recipient"],
        "wuhan-union-hospital"
    );
    // …is what the server shows anyone over HTTP.
    let trail = s.get(&format!(
        "/organizations/hubei-red-cross/donations/{receipt}/trail"
    ));
    assert_eq!(trail.status, 200, "{:?}", trail.body);
    let allocations = trail.body["allocations"].as_array().expect("allocations");
    assert_eq!(allocations.len(), 1, "{:?}", trail.body);
    assert_eq!(allocations[0]["seq"], said["allocation"]["seq"]);
    assert_eq!(allocations[0]["recipient"], "wuhan-union-hospital");
    assert_eq!(allocations[0]["from_this_donation"], "600.00");
    assert_eq!(trail.body["totals"]["received"], "1000.00");
    assert_eq!(trail.body["totals"]["unallocated"], "400.00");
    let entry = s.get(&format!(
        "/organizations/hubei-red-cross/entries?after={}&limit=1",
        said["donation"]["seq"].as_i64().expect("seq") - 1
    ));
    assert_eq!(entry.body["entries"][0]["body"]["receipt_number"], receipt);
    let _ = std::fs::remove_dir_all(&work);
}
