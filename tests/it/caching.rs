//! Caching the web already understands: public reads carry `ETag` and `Cache-Control`, answer a
//! conditional request whose `If-None-Match` names the current tag with 304 and no body, and a
//! new entry changes the tag. Immutable things say so; private answers are never stored. Real
//! conditional requests over HTTP against the running server (both databases in CI).

use crate::common;

use common::*;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use serde_json::json;

fn get(url: &str, if_none_match: Option<&str>) -> Response {
    let mut req = Client::new().get(url);
    if let Some(tag) = if_none_match {
        req = req.header(IF_NONE_MATCH, tag);
    }
    req.send().expect("GET")
}

fn header(r: &Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// GET `url`, then GET it again with its tag: 304, the same tag, no body. Returns the tag.
fn revalidates(url: &str) -> String {
    let first = get(url, None);
    assert_eq!(first.status().as_u16(), 200, "{url}");
    let tag = header(&first, ETAG);
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && tag.len() > 10,
        "{url}: ETag {tag:?}"
    );
    assert!(!header(&first, CACHE_CONTROL).is_empty(), "{url}");
    let body = first.bytes().expect("body");
    assert!(!body.is_empty(), "{url}");
    let again = get(url, None);
    assert_eq!(
        header(&again, ETAG),
        tag,
        "{url}: the same answer, the same tag"
    );
    let not = get(url, Some(&tag));
    assert_eq!(not.status().as_u16(), 304, "{url}");
    assert_eq!(header(&not, ETAG), tag, "{url}");
    assert!(!header(&not, CACHE_CONTROL).is_empty(), "{url}");
    assert!(
        not.bytes().expect("body").is_empty(),
        "{url}: a 304 has no body"
    );
    // Weakly compared, in a list, as browsers and proxies send it.
    let listed = get(url, Some(&format!("\"other\", W/{tag}")));
    assert_eq!(listed.status().as_u16(), 304, "{url}");
    // Another tag: the whole answer.
    let other = get(url, Some("\"0123456789abcdef\""));
    assert_eq!(other.status().as_u16(), 200, "{url}");
    assert_eq!(other.bytes().expect("body"), body, "{url}");
    tag
}

#[test]
fn public_reads_revalidate_and_a_new_entry_changes_their_tag() {
    let w = world();
    w.donate(
        "ETAG-2020-0001",
        "2020-02-01T10:00:00Z",
        money("500.00"),
        undesignated(),
    );
    let base = w.s.base.clone();
    let reads = [
        w.s.url(&format!("/organizations/{ORG}/summary")),
        w.s.url(&format!("/organizations/{ORG}/summary?format=csv")),
        w.s.url(&format!("/organizations/{ORG}/donations")),
        w.s.url(&format!(
            "/organizations/{ORG}/donations/ETAG-2020-0001/trail"
        )),
        w.s.url(&format!("/organizations/{ORG}/checkpoints/latest")),
        w.s.url(&format!("/organizations/{ORG}/exports/iati.xml")),
        w.s.url(&format!("/organizations/{ORG}/exports/360giving.json")),
        w.s.url("/organizations"),
        format!("{base}/organizations/{ORG}"),
        format!("{base}/"),
    ];
    let before: Vec<String> = reads.iter().map(|u| revalidates(u)).collect();
    // JSON and CSV of one summary are two representations: two tags.
    assert_ne!(before[0], before[1]);
    for url in &reads {
        assert_eq!(
            header(&get(url, None), CACHE_CONTROL),
            "public, no-cache",
            "{url} grows with the log"
        );
    }

    // A new donation: what reflects the log's head answers anew, with a new tag.
    w.donate(
        "ETAG-2020-0002",
        "2020-02-02T10:00:00Z",
        money("70.00"),
        undesignated(),
    );
    for (url, tag) in reads.iter().zip(&before) {
        if url.ends_with("/trail") || url.ends_with("/organizations") || url.ends_with('/') {
            continue; // none shows the second donation
        }
        let r = get(url, Some(tag));
        assert_eq!(r.status().as_u16(), 200, "{url} after a new entry");
        assert_ne!(&header(&r, ETAG), tag, "{url}");
    }
    // The first donation's trail and the home page did not change: still 304.
    assert_eq!(get(&reads[3], Some(&before[3])).status().as_u16(), 304);
    assert_eq!(get(&reads[9], Some(&before[9])).status().as_u16(), 304);
}

#[test]
fn what_never_changes_says_it_is_immutable() {
    let w = world();
    for i in 0..3 {
        w.donate(
            &format!("IMM-2020-{i:04}"),
            "2020-02-01T10:00:00Z",
            money("10.00"),
            undesignated(),
        );
    }
    let size = w.entry_count();
    assert!(size >= 3);
    let immutable = "public, max-age=31536000, immutable";
    let cache = |path: &str| header(&get(&w.s.url(path), None), CACHE_CONTROL);

    // A full page of entries never changes; the page that reaches the head does.
    assert_eq!(
        cache(&format!("/organizations/{ORG}/entries?after=0&limit=2")),
        immutable
    );
    assert_eq!(
        cache(&format!("/organizations/{ORG}/entries?after=0&limit=1000")),
        "public, no-cache"
    );
    // A proof against a stated size never changes; one against the log as it is now does.
    assert_eq!(
        cache(&format!(
            "/organizations/{ORG}/proofs/inclusion?seq=1&tree_size={size}"
        )),
        immutable
    );
    assert_eq!(
        cache(&format!("/organizations/{ORG}/proofs/inclusion?seq=1")),
        "public, no-cache"
    );
    assert_eq!(
        cache(&format!(
            "/organizations/{ORG}/proofs/consistency?from=1&to={size}"
        )),
        immutable
    );
    // A full page of checkpoints is kept forever; the latest checkpoint moves.
    assert_eq!(
        cache(&format!("/organizations/{ORG}/checkpoints?limit=1")),
        immutable
    );
    assert_eq!(
        cache(&format!("/organizations/{ORG}/checkpoints/latest")),
        "public, no-cache"
    );
    // An immutable answer still revalidates.
    revalidates(&w.s.url(&format!("/organizations/{ORG}/entries?after=0&limit=2")));

    // Refusals carry no tag.
    let refused = get(
        &w.s.url(&format!(
            "/organizations/{ORG}/proofs/inclusion?seq=1&tree_size=999999"
        )),
        None,
    );
    assert_eq!(refused.status().as_u16(), 400);
    assert!(header(&refused, ETAG).is_empty());
}

#[test]
fn private_answers_are_never_stored_or_tagged() {
    let w = world();
    w.donate(
        "PRIV-2020-0001",
        "2020-02-01T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let regulator = regulator_of(&w.s, "420000");
    let private = Client::new()
        .get(w.s.url(&format!("/organizations/{ORG}/entries/1/private")))
        .bearer_auth(&regulator)
        .send()
        .expect("GET");
    assert_eq!(private.status().as_u16(), 200);
    assert_eq!(header(&private, CACHE_CONTROL), "private, no-store");
    assert!(header(&private, ETAG).is_empty());

    // A complaint's status by its tracking code: the code is its key.
    let filed = w.s.post(
        "/complaints",
        None,
        &json!({"organization": ORG, "category": "misallocation", "description": "缓存测试：请核实"}),
    );
    assert_eq!(filed.status, 201, "{:?}", filed.body);
    let code = filed.body["code"].as_str().expect("code");
    record_secrets([code]);
    let status = get(&w.s.url(&format!("/complaints/{code}")), None);
    assert_eq!(status.status().as_u16(), 200);
    assert_eq!(header(&status, CACHE_CONTROL), "private, no-store");
    assert!(header(&status, ETAG).is_empty());
}

#[test]
fn the_iati_export_is_the_same_bytes_for_a_version_until_a_campaign_ends() {
    let w = world();
    let now = chrono::Utc::now();
    let ends = now + chrono::Duration::seconds(3);
    let r = w.s.post(
        &format!("/organizations/{ORG}/campaigns"),
        Some(&w.charity),
        &json!({"id": "brief", "title": "brief", "region_code": "420000", "emergency": true,
                "starts_at": (now - chrono::Duration::hours(1)).to_rfc3339(),
                "ends_at": ends.to_rfc3339(), "occurred_at": now.to_rfc3339()}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let url = w.s.url(&format!("/organizations/{ORG}/exports/iati.xml"));
    let first = get(&url, None);
    let tag = header(&first, ETAG);
    let body = first.text().expect("body");
    assert!(body.contains("<activity-status code=\"2\"/>"), "{body}");
    // Over more than a second of the clock, the same version gives the same bytes.
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    let again = get(&url, None);
    assert_eq!(header(&again, ETAG), tag);
    assert_eq!(again.text().expect("body"), body);
    // Once the campaign has ended, its activity is finished: a new tag and a new answer.
    let wait = (ends - chrono::Utc::now()).num_milliseconds().max(0) + 500;
    std::thread::sleep(std::time::Duration::from_millis(wait as u64));
    let after = get(&url, Some(&tag));
    assert_eq!(after.status().as_u16(), 200, "a campaign ended: not 304");
    assert_ne!(header(&after, ETAG), tag);
    assert!(after
        .text()
        .expect("body")
        .contains("<activity-status code=\"3\"/>"));
}
