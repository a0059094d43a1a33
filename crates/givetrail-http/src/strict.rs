//! A strict OpenAPI document: the constraints the server enforces, written into the document
//! utoipa builds from the handlers, so a generated client and a fuzzer (schemathesis's
//! `positive_data_acceptance`) send only what the server accepts.
//!
//! Every pattern and bound is built here from the server's own rules: slugs, region codes and
//! credit codes from `givetrail_domain::ids`, amounts from the `parse_units` grammar of
//! `givetrail_domain::asset` (scale per currency), text from `givetrail_domain::text::refused`
//! (the characters no text field may hold), page sizes from `givetrail_store::read::MAX_PAGE`.
//! Schemas shared by requests and responses (an asset, a restriction, a supplier) get a stricter
//! copy named `…Input` for the request side: a response may show what a request may not send
//! (a zero acknowledged, text stored before today's rules).
//!
//! The document is edited as JSON ([`tighten`]): utoipa's types do not read every schema back.

use serde_json::{json, Map, Value};

use givetrail_domain::asset::{currencies, GOODS_SCALE, MAX_GOODS_TEXT, MAX_UNITS};
use givetrail_domain::entry::{MAX_AGEING_HOURS, MAX_SHORT_TEXT, MAX_TEXT};
use givetrail_domain::ids::MAX_SLUG_LEN;
use givetrail_domain::reconciliation::complaint::{TRACKING_CODE_ALPHABET, TRACKING_CODE_GROUPS};
use givetrail_store::read::MAX_PAGE;
use givetrail_store::write::MAX_BATCH_ITEMS;

use crate::body::MAX_IDEMPOTENCY_KEY;

/// A slug ([`givetrail_domain::ids::Slug::parse`]): lowercase letters and digits, single inner
/// hyphens, 1 to 64 characters.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// A 6-digit administrative-division code, not starting with 0
/// ([`givetrail_domain::ids::RegionCode::parse`]).
pub const REGION_CODE_PATTERN: &str = "^[1-9][0-9]{5}$";

/// A region-code prefix of 1 to 6 digits ([`givetrail_domain::ids::parse_region_prefix`]).
pub const REGION_PREFIX_PATTERN: &str = "^[0-9]{1,6}$";

/// The shape of an 18-character unified social credit code (GB 32100-2015): its alphabet, and
/// the administrative-division code in characters 3 to 8. The check character is verified by the
/// server and cannot be written as a pattern.
pub const CREDIT_CODE_PATTERN: &str = "^[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}$";

/// Text without NUL, which no string of a body may hold (`crate::body::parse`).
pub const NUL_FREE_PATTERN: &str = "^[^\\u0000]*$";

/// Any JSON value whose strings (and keys) hold no NUL, nested at most `depth` arrays or objects
/// deep: a correction's `replacement` (an entry body, checked against the corrected entry's kind by
/// the rules). Written out level by level, not as a recursive schema, which client generators
/// (openapi-python-client) cannot read.
fn json_value_input(depth: usize) -> Value {
    let mut any = vec![
        json!({"type": "null"}),
        json!({"type": "boolean"}),
        json!({"type": "number"}),
        json!({"type": "string", "pattern": NUL_FREE_PATTERN}),
    ];
    if let Some(inner) = depth.checked_sub(1) {
        any.push(json!({"type": "array", "items": json_value_input(inner)}));
        any.push(
            json!({"type": "object", "propertyNames": {"pattern": NUL_FREE_PATTERN},
            "additionalProperties": json_value_input(inner)}),
        );
    }
    json!({"anyOf": any})
}

/// How deep an entry body nests (a campaign's `targets[].declared_value.amount`).
const REPLACEMENT_DEPTH: usize = 3;

/// A seq cursor (`meta.next` of a log page): a non-negative integer.
pub const SEQ_CURSOR_PATTERN: &str = "^[0-9]{1,18}$";

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters (`crate::body::idempotency`).
fn idempotency_key() -> Value {
    json!({"type": "string", "pattern": format!("^[!-~]{{1,{MAX_IDEMPOTENCY_KEY}}}$"),
        "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY})
}

fn slug() -> Value {
    json!({"type": "string", "pattern": SLUG_PATTERN, "minLength": 1, "maxLength": MAX_SLUG_LEN})
}

fn seq() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 1})
}

fn region_code() -> Value {
    json!({"type": "string", "pattern": REGION_CODE_PATTERN})
}

fn region_prefix() -> Value {
    json!({"type": "string", "pattern": REGION_PREFIX_PATTERN})
}

fn credit_code() -> Value {
    json!({"type": "string", "pattern": CREDIT_CODE_PATTERN, "minLength": 18, "maxLength": 18})
}

/// A complaint's tracking code as the server writes it: groups of four characters of
/// [`TRACKING_CODE_ALPHABET`] joined by hyphens (it also reads lowercase and look-alikes).
pub fn tracking_code_pattern() -> String {
    let class = char_class_of(TRACKING_CODE_ALPHABET.iter().map(|b| char::from(*b)));
    let rest = TRACKING_CODE_GROUPS.saturating_sub(1);
    format!("^{class}{{4}}(-{class}{{4}}){{{rest}}}$")
}

/// A decimal string of the `parse_units` grammar with at most `scale` decimals and at most
/// [`MAX_UNITS`] units: greater than zero, or (`zero`) also zero. Leading zeros, which the server
/// also reads, are left out.
pub fn decimal_pattern(scale: u32, zero: bool) -> String {
    // 10^15 units: an integer part of at most 15 − scale digits stays below the limit.
    let max_digits = MAX_UNITS.to_string().len() - 1;
    let int_digits = max_digits.saturating_sub(scale as usize).max(1);
    let more = int_digits - 1;
    let fraction = if scale == 0 {
        String::new()
    } else {
        format!("(\\.[0-9]{{1,{scale}}})?")
    };
    if zero {
        return format!("^(0|[1-9][0-9]{{0,{more}}}){fraction}$");
    }
    let mut alternatives = vec![format!("[1-9][0-9]{{0,{more}}}{fraction}")];
    if scale > 0 {
        // 0.x with at least one non-zero decimal: k zeros, a non-zero digit, then any digits.
        let small: Vec<String> = (0..scale)
            .map(|k| {
                let rest = scale - k - 1;
                format!("{}[1-9][0-9]{{0,{rest}}}", "0".repeat(k as usize))
            })
            .collect();
        alternatives.push(format!("0\\.({})", small.join("|")));
    }
    format!("^({})$", alternatives.join("|"))
}

/// For a text field (`multiline`: line feed and tab allowed), the character class of what
/// `givetrail_domain::text` accepts, and that of what it accepts besides white space, as
/// `(allowed, visible)`. Worked out once per kind of field: it asks about every code point, and
/// the document has a hundred text fields (asked per field, it was most of a server's start-up).
fn text_classes(multiline: bool) -> &'static (String, String) {
    static CLASSES: [std::sync::OnceLock<(String, String)>; 2] =
        [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
    CLASSES[usize::from(multiline)].get_or_init(|| {
        let mut refused = Vec::new();
        let mut space = Vec::new();
        for c in (0..=0x10FFFF_u32).filter_map(char::from_u32) {
            if givetrail_domain::text::refused(c, multiline).is_some() {
                refused.push(c);
            } else if c.is_whitespace() {
                space.push(c);
            }
        }
        let allowed = class(refused.iter().copied(), true);
        let visible = class(refused.iter().chain(space.iter()).copied(), true);
        (allowed, visible)
    })
}

/// `[…]` for these characters, as ranges; a character outside the Basic Multilingual Plane is
/// written as itself (ECMA-262 and Python read `\uXXXX` alike, not the longer escapes).
fn char_class_of(chars: impl IntoIterator<Item = char>) -> String {
    class(chars, false)
}

fn class(chars: impl IntoIterator<Item = char>, negated: bool) -> String {
    let mut chars: Vec<char> = chars.into_iter().collect();
    chars.sort_unstable();
    chars.dedup();
    let mut out = String::from(if negated { "[^" } else { "[" });
    let mut i = 0;
    while i < chars.len() {
        let start = chars[i];
        let mut end = start;
        while i + 1 < chars.len() && u32::from(chars[i + 1]) == u32::from(end) + 1 {
            i += 1;
            end = chars[i];
        }
        out.push_str(&escape(start));
        if end != start {
            out.push('-');
            out.push_str(&escape(end));
        }
        i += 1;
    }
    out.push(']');
    out
}

fn escape(c: char) -> String {
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else if u32::from(c) <= 0xFFFF {
        format!("\\u{:04X}", u32::from(c))
    } else {
        c.to_string()
    }
}

/// A text field as `givetrail_domain::text::clean` (`multiline`) or `clean_line` takes it: no
/// refused character, at most `max` characters, and (`required`) something besides white space.
/// Length is counted before NFC, which only ever keeps or shortens it.
fn text(max: usize, required: bool, multiline: bool) -> Value {
    let (allowed, visible) = text_classes(multiline);
    let pattern = if required {
        format!("^{allowed}*{visible}{allowed}*$")
    } else {
        format!("^{allowed}*$")
    };
    json!({"type": "string", "pattern": pattern, "minLength": usize::from(required), "maxLength": max})
}

fn line(max: usize, required: bool) -> Value {
    text(max, required, false)
}

fn multiline(max: usize, required: bool) -> Value {
    text(max, required, true)
}

/// `{"kind": "money", "amount", "currency"}` per currency scale: one variant for each exponent,
/// its currencies as an enum and its decimals as a pattern.
fn money_variants(kind: Option<&str>, zero: bool, closed: bool) -> Vec<Value> {
    let mut by_scale: std::collections::BTreeMap<u32, Vec<&str>> = Default::default();
    for (code, exponent) in currencies() {
        by_scale.entry(exponent).or_default().push(code);
    }
    by_scale
        .into_iter()
        .map(|(scale, codes)| {
            let mut v = json!({
                "type": "object",
                "description": format!("Money in a currency of {scale} decimals."),
                "required": ["amount", "currency"],
                "properties": {
                    "amount": {"type": "string", "pattern": decimal_pattern(scale, zero),
                        "description": "Decimal string with no more decimals than the currency has."},
                    "currency": {"type": "string", "enum": codes, "description": "ISO 4217 code."},
                    "kind": {"type": "string", "enum": ["money"]}
                }
            });
            if let Some(k) = kind {
                v["required"] = json!(["amount", "currency", k]);
            }
            if closed {
                v["additionalProperties"] = json!(false);
            }
            v
        })
        .collect()
}

/// Money as a request sends it (`{"kind": "money", …}`): one variant per currency scale.
fn money_asset(zero: bool) -> Value {
    json!({"oneOf": money_variants(Some("kind"), zero, true),
        "description": "Money: `{\"kind\": \"money\", \"amount\", \"currency\"}`."})
}

/// Goods as a request sends them: their texts and a quantity of at most 3 decimals.
fn goods(zero: bool) -> Value {
    json!({
        "type": "object",
        "description": "Goods: `{\"kind\": \"goods\", \"item\", \"spec\", \"unit\", \"quantity\"}`.",
        "required": ["item", "unit", "quantity", "kind"],
        "properties": {
            "kind": {"type": "string", "enum": ["goods"]},
            "item": multiline(MAX_GOODS_TEXT, true),
            "spec": multiline(MAX_GOODS_TEXT, false),
            "unit": multiline(MAX_GOODS_TEXT, true),
            "quantity": {"type": "string", "pattern": decimal_pattern(GOODS_SCALE, zero)},
            "declared_value": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/MoneyWireInput"}]}
        },
        "additionalProperties": false
    })
}

/// An asset as a request sends it (`AssetWire` with its rules): money or goods.
fn asset_input(zero: bool) -> Value {
    let mut variants = money_variants(Some("kind"), zero, true);
    variants.push(goods(zero));
    json!({"oneOf": variants, "description": "An asset as a request sends it: money or goods."})
}

/// Either `donation` (a seq) or `pool: true`, not both (`ledger::rules::draws::source`).
fn donation_or_pool() -> (Value, Value, Value) {
    (
        json!({"required": ["pool"], "properties": {"pool": {"const": true}}}),
        json!({"properties": {"donation": {"type": "null"}}}),
        json!({"required": ["donation"], "properties": {"donation": {"type": "integer"}}}),
    )
}

/// Constraints on a property of a request schema, by schema and property name.
fn property_rule(schema: &str, property: &str) -> Option<Value> {
    let short_line = || line(MAX_SHORT_TEXT, true);
    Some(match (schema, property) {
        // Identifiers.
        ("OrganizationRequest" | "RecipientRequest" | "CampaignRequest", "id") => slug(),
        (
            "EntryRef" | "SourceDisbursementInput" | "RecipientRequest" | "ComplaintRequest",
            "organization",
        ) => slug(),
        ("AllocationRequest" | "RestrictionWireInput", "recipient") => slug(),
        ("AllocationRequest", "need") => slug(),
        ("DonationRequest", "campaign") => slug(),
        (_, "region_code") => region_code(),
        ("OrganizationRequest" | "RecipientRequest" | "SupplierInput", "credit_code") => {
            credit_code()
        }
        // Seqs of a log start at 1.
        ("AllocationRequest" | "ExpenseRequest" | "ProcurementRequest", "donation")
        | ("DisbursementRequest", "allocation")
        | ("CorrectionRequest", "corrects")
        | ("EntryRef", "seq")
        | ("SourceDisbursementInput", "disbursement")
        | ("ComplaintRequest", "entry") => seq(),
        ("DonorRequest", "related_recipients") => json!({"type": "array", "items": slug()}),
        // Text, as each rule cleans it.
        ("OrganizationRequest" | "RecipientRequest" | "DonorRequest" | "SupplierInput", "name") => {
            short_line()
        }
        ("DonationRequest", "receipt_number") => short_line(),
        ("DonorRequest", "public_name") => short_line(),
        ("DonorRequest", "contact") => multiline(MAX_SHORT_TEXT, false),
        ("CampaignRequest", "title") => multiline(MAX_SHORT_TEXT, true),
        ("CampaignRequest" | "AllocationRequest" | "RestrictionWireInput", "purpose") => {
            multiline(MAX_TEXT, false)
        }
        ("CampaignRequest", "record_number") => short_line(),
        ("CampaignRequest", "ageing_limit_hours") => {
            json!({"type": "integer", "minimum": 1, "maximum": MAX_AGEING_HOURS})
        }
        ("CampaignRequest", "cost_limit_percent") => {
            json!({"type": "integer", "minimum": 0, "maximum": 100})
        }
        ("DisbursementRequest", "reference") => short_line(),
        ("ProcurementRequest", "invoice_reference") => short_line(),
        ("AcknowledgementRequest", "note") => multiline(MAX_TEXT, false),
        ("UsageRequest" | "ExpenseRequest", "description") => multiline(MAX_TEXT, true),
        ("UsageRequest", "evidence_sha256") => {
            json!({"type": "string", "pattern": "^[0-9a-f]{64}$"})
        }
        ("CorrectionRequest" | "RecipientCorrectionRequest", "reason") => multiline(MAX_TEXT, true),
        ("DesignationChangeInput", "reason" | "donor_consent_reference") => short_line(),
        ("ComplaintRequest", "description") => multiline(MAX_TEXT, true),
        ("ComplaintRequest", "contact") => multiline(MAX_SHORT_TEXT, false),
        ("ComplaintEventRequest", "note") => multiline(MAX_TEXT, true),
        ("NeedRequest", "item" | "unit") => multiline(MAX_GOODS_TEXT, true),
        ("NeedRequest", "spec") => multiline(MAX_GOODS_TEXT, false),
        ("NeedRequest", "quantity") => {
            json!({"type": "string", "pattern": decimal_pattern(GOODS_SCALE, false)})
        }
        ("NeedRequest", "note") => multiline(MAX_TEXT, false),
        ("NeedWithdrawalRequest", "reason") => short_line(),
        ("CorrectionRequest" | "RecipientCorrectionRequest", "replacement") => {
            json!({"oneOf": [{"type": "null"}, {"type": "object",
                "propertyNames": {"pattern": NUL_FREE_PATTERN},
                "additionalProperties": json_value_input(REPLACEMENT_DEPTH)}]})
        }
        ("ProcurementRequest", "paid") => json!({"$ref": "#/components/schemas/MoneyAssetInput"}),
        ("ProcurementRequest", "goods") => json!({"$ref": "#/components/schemas/GoodsInput"}),
        ("DonationBatch", "donations") => {
            json!({"type": "array", "minItems": 1, "maxItems": MAX_BATCH_ITEMS,
            "items": {"$ref": "#/components/schemas/DonationRequest"}})
        }
        _ => return None,
    })
}

/// Constraints on a parameter, by operation path and parameter name.
fn parameter_rule(path: &str, location: &str, name: &str) -> Option<Value> {
    Some(match (location, name) {
        ("header", "Idempotency-Key") => idempotency_key(),
        ("path", "org" | "recipient" | "campaign" | "need") => slug(),
        ("path", "code") if path.starts_with("/api/v1/complaints") => {
            json!({"type": "string", "pattern": tracking_code_pattern()})
        }
        ("path", "code") => region_prefix(),
        ("path", "receipt_number") => {
            let mut s = line(MAX_SHORT_TEXT, true);
            // A path segment: no `/`, and nothing a URL would have to keep apart.
            s["pattern"] = json!("^[A-Za-z0-9][A-Za-z0-9._~-]*$");
            s
        }
        ("path", "seq") => seq(),
        // Proofs are asked of entries and tree sizes from 1 (`crate::verification`).
        ("query", "seq" | "tree_size" | "from" | "to") if path.contains("/proofs/") => seq(),
        ("query", "limit") => {
            json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_PAGE})
        }
        ("query", "lang") => json!({"type": "string", "enum": ["en", "zh"]}),
        ("query", "format") => json!({"type": "string", "enum": ["json", "csv", "xlsx"]}),
        ("query", "region" | "destination") => region_prefix(),
        ("query", "campaign" | "recipient" | "organization") => slug(),
        ("query", "status") => json!({"type": "string", "enum": ["open", "met", "withdrawn"]}),
        ("query", "item") => line(givetrail_domain::needs::MAX_ITEM_FILTER, false),
        ("query", "asset") => {
            let codes: Vec<&str> = currencies().map(|(c, _)| c).collect();
            json!({"type": "string", "enum": codes})
        }
        ("query", "after") => json!({"type": "string", "pattern": cursor_pattern(path)}),
        // The inflows' moments are read as RFC 3339 text.
        ("query", "from" | "to") if path.starts_with("/api/v1/regions/") => {
            json!({"type": "string", "format": "date-time"})
        }
        _ => return None,
    })
}

/// The `?after=` cursor of each list, as `meta.next` writes it and the list reads it back.
fn cursor_pattern(path: &str) -> String {
    match path {
        // Filing time (µs) and tracking code (`givetrail_store::complaints::parse_cursor`).
        "/api/v1/complaints" => {
            let code = tracking_code_pattern();
            format!("^-?[0-9]{{1,16}}~{}", code.trim_start_matches('^'))
        }
        // The registries page by id.
        "/api/v1/organizations" | "/api/v1/recipients" => SLUG_PATTERN.to_owned(),
        // A recipient's disbursements: occurred_at (µs), organisation and seq (`ReceivedCursor`).
        // (A slug of at most 63 characters here, so the pattern bounds its length.)
        "/api/v1/recipients/{recipient}" => {
            let half = (MAX_SLUG_LEN - 1) / 2;
            format!("^[0-9]{{1,16}}\\.[a-z0-9](-?[a-z0-9]){{0,{half}}}\\.[0-9]{{1,18}}$")
        }
        // Logs, feeds, checkpoints and needs: a number.
        _ => SEQ_CURSOR_PATTERN.to_owned(),
    }
}

/// The object at `keys` inside `v`, if there is one (never inserting, as `v["key"]` would).
fn object_at<'a>(v: &'a mut Value, keys: &[&str]) -> Option<&'a mut Map<String, Value>> {
    keys.iter()
        .try_fold(v, |v, k| v.get_mut(*k))
        .and_then(Value::as_object_mut)
}

/// Copy a component schema under a new name.
fn copy_schema(schemas: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(s) = schemas.get(from).cloned() {
        schemas.insert(to.to_owned(), s);
    }
}

/// Point every `$ref` to `from` inside `v` at `to`.
fn retarget(v: &mut Value, from: &str, to: &str) {
    let old = format!("#/components/schemas/{from}");
    let new = format!("#/components/schemas/{to}");
    match v {
        Value::Object(o) => {
            if o.get("$ref").and_then(Value::as_str) == Some(old.as_str()) {
                o.insert("$ref".into(), Value::String(new));
            }
            for (_, x) in o.iter_mut() {
                retarget(x, from, to);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| retarget(x, from, to)),
        _ => {}
    }
}

/// Merge `rule` into a property's schema, keeping its description; a nullable property
/// (`["string", "null"]` or `oneOf` with null) stays nullable.
fn apply(prop: &mut Value, rule: Value) {
    let description = prop.get("description").cloned();
    let nullable = prop["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|x| x == "null"))
        || prop["oneOf"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["type"] == "null"));
    let mut new = rule;
    if nullable {
        new = json!({"oneOf": [{"type": "null"}, new]});
    }
    if let Some(d) = description {
        new["description"] = d;
    }
    *prop = new;
}

/// Schemas used by both requests and responses that get a stricter request copy.
const INPUT_COPIES: [&str; 5] = [
    "MoneyWire",
    "RestrictionWire",
    "Supplier",
    "DesignationChange",
    "SourceDisbursement",
];

/// Request schemas that name one of [`INPUT_COPIES`] or an asset.
fn is_request_schema(name: &str) -> bool {
    name.ends_with("Request")
        || name.ends_with("Input")
        || matches!(name, "DonationBatch" | "EntryRef" | "Period")
}

/// The strict document: unique operation ids, and the server's rules on parameters and request
/// bodies.
pub fn tighten(api: &utoipa::openapi::OpenApi) -> Value {
    let mut doc = serde_json::to_value(api).unwrap_or_else(|e| json!({"error": e.to_string()}));
    tighten_json(&mut doc);
    doc
}

fn tighten_json(doc: &mut Value) {
    unique_operation_ids(doc);
    let paths: Vec<String> = doc["paths"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for path in paths {
        let Some(item) = object_at(doc, &["paths", &path]) else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            parameters(&path, op);
            request_body(op);
            idempotency_conflict(op);
        }
    }
    let Some(schemas) = object_at(doc, &["components", "schemas"]) else {
        return;
    };
    for name in INPUT_COPIES {
        copy_schema(schemas, name, &format!("{name}Input"));
    }
    // A response flattens the designation change into a notice (`DesignationChangeNotice`), so
    // the response's copy may not be closed; the request's (`DesignationChangeInput`) is.
    if let Some(change) = schemas
        .get_mut("DesignationChange")
        .and_then(Value::as_object_mut)
    {
        change.remove("additionalProperties");
    }
    schemas.insert("AssetWireInput".into(), asset_input(false));
    schemas.insert("MoneyAssetInput".into(), money_asset(false));
    schemas.insert("GoodsInput".into(), goods(false));
    schemas.insert("AcknowledgedAssetInput".into(), asset_input(true));
    let money = money_variants(None, false, true);
    schemas.insert(
        "MoneyWireInput".into(),
        json!({"oneOf": money, "description": "A money amount as a request sends it."}),
    );
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names.iter().filter(|n| is_request_schema(n)) {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        for from in INPUT_COPIES {
            retarget(schema, from, &format!("{from}Input"));
        }
        let asset = if name == "AcknowledgementRequest" {
            "AcknowledgedAssetInput"
        } else {
            "AssetWireInput"
        };
        retarget(schema, "AssetWire", asset);
        properties(name, schema);
    }
    for name in ["AllocationRequest", "ExpenseRequest", "ProcurementRequest"] {
        if let Some(schema) = schemas.get_mut(name) {
            let (when, then, otherwise) = donation_or_pool();
            schema["if"] = when;
            schema["then"] = then;
            schema["else"] = otherwise;
        }
    }
    // Only a gift passed on by another charity departs from a designation
    // (`ledger::rules::donation`).
    if let Some(donation) = schemas.get_mut("DonationRequest") {
        donation["if"] = json!({"required": ["designation_change"],
            "properties": {"designation_change": {"type": "object"}}});
        donation["then"] = json!({"required": ["source_disbursement"],
            "properties": {"source_disbursement": {"type": "object"}}});
    }
    // A campaign raising from the public names its fundraising-plan record number
    // (`ledger::rules::campaign`).
    if let Some(campaign) = schemas.get_mut("CampaignRequest") {
        campaign["if"] = json!({"required": ["public_fundraising"],
            "properties": {"public_fundraising": {"const": true}}});
        campaign["then"] = json!({"required": ["record_number"],
            "properties": {"record_number": {"type": "string"}}});
    }
    // A designation names a region, a recipient or both (`ledger::rules::donation`); the input
    // variants are closed (the server ignores other fields, and a NUL in one is refused).
    if let Some(variants) = schemas
        .get_mut("RestrictionWireInput")
        .and_then(|r| r.get_mut("oneOf"))
        .and_then(Value::as_array_mut)
    {
        for v in variants.iter_mut() {
            v["additionalProperties"] = json!(false);
            if v["properties"]["kind"]["enum"] == json!(["designated"]) {
                v["anyOf"] = json!([
                    {"required": ["region_code"], "properties": {"region_code": {"type": "string"}}},
                    {"required": ["recipient"], "properties": {"recipient": {"type": "string"}}}
                ]);
            }
        }
    }
    // Only a recipient of kind `charity` is linked to an organisation (`writes::post_recipient`).
    if let Some(recipient) = schemas.get_mut("RecipientRequest") {
        recipient["if"] = json!({"required": ["kind"],
            "properties": {"kind": {"not": {"const": "charity"}}}});
        recipient["then"] = json!({"properties": {"organization": {"type": "null"}}});
    }
}

/// Apply [`property_rule`] to a schema's properties, and to those of each `oneOf` variant.
fn properties(name: &str, schema: &mut Value) {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (p, v) in props.iter_mut() {
            if let Some(rule) = property_rule(name, p) {
                apply(v, rule);
            }
        }
    }
    if let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) {
        for v in variants {
            properties(name, v);
        }
    }
}

fn parameters(path: &str, op: &mut Value) {
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let location = p["in"].as_str().unwrap_or_default().to_owned();
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        let Some(mut rule) = parameter_rule(path, &location, &name) else {
            continue;
        };
        // Keep an optional parameter's format (`int64`) where the rule gives none.
        if let Some(format) = p["schema"]["format"].as_str() {
            if rule.get("format").is_none() && rule["type"] == p["schema"]["type"] {
                rule["format"] = json!(format);
            }
        }
        p["schema"] = rule;
    }
}

/// An operation that takes an `Idempotency-Key` answers 409 when the key was used before with
/// another request (`crate::body::idempotency`): documented on each, in one place.
fn idempotency_conflict(op: &mut Value) {
    let keyed = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key"));
    let Some(responses) = object_at(op, &["responses"]).filter(|_| keyed) else {
        return;
    };
    responses.entry("409").or_insert_with(|| {
        json!({"description": "the Idempotency-Key was already used with a different request",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}})
    });
}

/// A body of "no fields" (`{}`) is a closed empty object.
fn request_body(op: &mut Value) {
    let Some(content) = object_at(op, &["requestBody", "content"]) else {
        return;
    };
    if let Some(json) = content.get_mut("application/json") {
        if json["schema"] == json!({"type": "object"}) {
            json["schema"] =
                json!({"type": "object", "properties": {}, "additionalProperties": false});
        }
    }
}

/// The same handler served twice (`/healthz` at the root and under `/api/v1`) has one
/// `operationId` from utoipa; the root copy gets `_root` appended, so every id is unique.
fn unique_operation_ids(doc: &mut Value) {
    let mut seen = std::collections::BTreeSet::new();
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    // The `/api/v1` operations keep their ids; the others come second.
    let mut order: Vec<String> = paths.keys().cloned().collect();
    order.sort_by_key(|p| !p.starts_with("/api/"));
    for path in order {
        let Some(item) = paths.get_mut(&path).and_then(Value::as_object_mut) else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(id) = op["operationId"].as_str().map(str::to_owned) else {
                continue;
            };
            let mut unique = id.clone();
            if seen.contains(&unique) {
                unique = format!("{id}_root");
            }
            let mut n = 2;
            while seen.contains(&unique) {
                unique = format!("{id}_root{n}");
                n += 1;
            }
            op["operationId"] = json!(unique);
            seen.insert(unique);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use givetrail_domain::asset::parse_units;
    use givetrail_domain::ids::{RegionCode, Slug};

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern)
            .map(|r| r.is_match(s))
            .unwrap_or(false)
    }

    #[test]
    fn slug_and_region_patterns_agree_with_the_parsers() {
        for s in [
            "a",
            "a-b",
            "hubei-red-cross",
            "-a",
            "a-",
            "a--b",
            "A",
            "a b",
            "红",
            "0",
            "a_b",
        ] {
            assert_eq!(matches(SLUG_PATTERN, s), Slug::parse(s).is_ok(), "{s}");
        }
        for s in ["420100", "020100", "42010", "4201000", "42010a", "999999"] {
            assert_eq!(
                matches(REGION_CODE_PATTERN, s),
                RegionCode::parse(s).is_ok(),
                "{s}"
            );
        }
    }

    #[test]
    fn decimal_patterns_accept_only_what_parse_units_accepts() {
        for scale in [0, 2, 3] {
            let p = decimal_pattern(scale, false);
            for s in [
                "0",
                "0.0",
                "0.00",
                "1",
                "1.5",
                "0.01",
                "0.1",
                "0.10",
                "12.345",
                "0.001",
                "01",
                "1.",
                ".5",
                "-1",
                "1e3",
                "1 000",
                "9999999999999",
                "99999999999999",
                "999999999999999",
                "1000000000000000",
            ] {
                if matches(&p, s) {
                    assert!(parse_units(s, scale).is_ok(), "scale {scale}: {s}");
                }
            }
            assert!(matches(&p, "1"));
        }
        assert!(matches(&decimal_pattern(2, false), "1234.50"));
        assert!(matches(&decimal_pattern(2, false), "0.05"));
        assert!(!matches(&decimal_pattern(2, false), "0.00"));
        assert!(matches(&decimal_pattern(2, true), "0"));
        assert!(!matches(&decimal_pattern(0, false), "1.5"));
        assert!(matches(&decimal_pattern(3, false), "36000"));
    }

    #[test]
    fn text_patterns_refuse_what_clean_refuses() {
        let t = text(MAX_SHORT_TEXT, true, false);
        let p = t["pattern"].as_str().unwrap_or_default();
        for ok in ["湖北省红十字会", "HBRC-2020-00017", " a "] {
            assert!(matches(p, ok), "{ok}");
        }
        for bad in ["", "   ", "a\u{200b}b", "a\nb", "a\u{202e}", "\u{7}"] {
            assert!(!matches(p, bad), "{bad:?}");
        }
        let m = text(MAX_TEXT, false, true);
        assert!(matches(
            m["pattern"].as_str().unwrap_or_default(),
            "one\ntwo\tthree"
        ));
    }

    #[test]
    fn credit_code_pattern_takes_a_published_code_and_not_the_letters_gb_32100_leaves_out() {
        use givetrail_domain::ids::CreditCode;
        assert!(matches(CREDIT_CODE_PATTERN, "91350100M000100Y43"));
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
        for letter in ['I', 'O', 'S', 'V', 'Z'] {
            let code = format!("91350100M000100Y4{letter}");
            assert!(!matches(CREDIT_CODE_PATTERN, &code), "{code}");
            assert!(CreditCode::parse(&code).is_err(), "{code}");
        }
    }

    #[test]
    fn tracking_codes_match() {
        let p = tracking_code_pattern();
        assert!(matches(&p, "7KQ2-M9XD-4HPT-V1CN-B8RW"));
        assert!(!matches(&p, "7KQ2-M9XD-4HPT-V1CN"));
        assert!(!matches(&p, "7KQ2-M9XD-4HPT-V1CN-B8RU"));
    }
}
