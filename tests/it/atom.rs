//! Atom 1.0 feeds over HTTP, read with a real feed parser (`feed-rs`): an organisation's newest
//! entries with corrections marked, one gift's trail, and the pages that link to them.

use crate::common;

use common::*;
use feed_rs::model::{Feed, FeedType};
use serde_json::json;

fn fetch(s: &Server, path: &str) -> (String, Feed) {
    let r = reqwest::blocking::get(s.url(path)).expect("GET");
    assert_eq!(r.status().as_u16(), 200, "{path}");
    let kind = r.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_owned();
    assert!(kind.starts_with("application/atom+xml"), "{kind}");
    let body = r.bytes().expect("body");
    let feed = feed_rs::parser::parse(&body[..]).expect("a valid feed");
    assert_eq!(feed.feed_type, FeedType::Atom);
    (String::from_utf8_lossy(&body).into_owned(), feed)
}

fn title(e: &feed_rs::model::Entry) -> String {
    e.title
        .as_ref()
        .map(|t| t.content.clone())
        .unwrap_or_default()
}

fn page(s: &Server, path: &str) -> String {
    let r = reqwest::blocking::get(format!("{}{path}", s.base)).expect("GET");
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.text().expect("html")
}

#[test]
fn organisation_and_trail_feeds_parse_and_are_linked_from_the_pages() {
    let w = world();
    let gift = w.donate(
        "HBRC-A-1",
        "2020-01-30T10:00:00Z",
        masks("36000"),
        undesignated(),
    );
    let mistaken = w.donate(
        "HBRC-A-2",
        "2020-01-31T10:00:00Z",
        money("10.00"),
        undesignated(),
    );
    let a = w.allocate(json!({"donation": gift, "recipient": "wuhan-union-hospital",
        "purpose": "front-line protection", "asset": masks("36000"), "occurred_at": "2020-01-31T08:00:00Z"}));
    assert_eq!(a.status, 201, "{:?}", a.body);
    let d = w.s.post(
        &format!("/organizations/{ORG}/disbursements"),
        Some(&w.charity),
        &json!({"allocation": a.body["seq"], "asset": masks("36000"), "channel": "logistics",
                "reference": "SF-0001", "occurred_at": "2020-02-01T08:00:00Z"}),
    );
    assert_eq!(d.status, 201, "{:?}", d.body);
    let ack = w.s.post(
        "/recipients/wuhan-union-hospital/acknowledgements",
        Some(&w.union_hospital),
        &json!({"disbursement": {"organization": ORG, "seq": d.body["seq"]}, "asset": masks("3600"),
                "received_at": "2020-02-02T08:00:00Z", "note": "3,600 arrived", "occurred_at": "2020-02-02T09:00:00Z"}),
    );
    assert_eq!(ack.status, 201, "{:?}", ack.body);
    let void = w.s.post(
        &format!("/organizations/{ORG}/corrections"),
        Some(&w.charity),
        &json!({"corrects": mistaken, "reason": "keyed twice", "occurred_at": "2020-02-03T00:00:00Z"}),
    );
    assert_eq!(void.status, 201, "{:?}", void.body);
    let entries = w.entry_count();

    let (xml, feed) = fetch(&w.s, &format!("/organizations/{ORG}/feed.atom"));
    assert!(
        xml.contains("xmlns=\"http://www.w3.org/2005/Atom\""),
        "{xml}"
    );
    assert!(feed.id.starts_with("tag:"), "{}", feed.id);
    assert!(feed.updated.is_some());
    assert!(feed.title.as_ref().is_some_and(|t| t.content.contains(ORG)));
    assert!(feed
        .links
        .iter()
        .any(|l| l.rel.as_deref() == Some("self") && l.href.ends_with("feed.atom?lang=en")));
    assert_eq!(feed.entries.len(), entries);
    // Newest first; every entry with a tag id, a title in words, a time and a link to a page.
    assert_eq!(
        feed.entries[0].id,
        format!("tag:givetrail.org,2020:{ORG}:{entries}")
    );
    for e in &feed.entries {
        assert!(e.id.starts_with("tag:givetrail.org,2020:"), "{}", e.id);
        assert!(title(e).chars().any(char::is_alphabetic), "{e:?}");
        assert!(e.updated.is_some(), "{e:?}");
        assert!(e.links.iter().any(|l| l.href.starts_with("http")), "{e:?}");
    }
    let terms = |e: &feed_rs::model::Entry| {
        e.categories
            .iter()
            .map(|c| c.term.clone())
            .collect::<Vec<_>>()
    };
    let correction = &feed.entries[0];
    assert!(
        terms(correction).contains(&"correction".to_owned()),
        "{correction:?}"
    );
    assert!(
        title(correction).contains("keyed twice"),
        "{}",
        title(correction)
    );
    let corrected = feed
        .entries
        .iter()
        .find(|e| e.id.ends_with(&format!(":{mistaken}")))
        .expect("the voided donation");
    assert!(
        terms(corrected).contains(&"corrected".to_owned()),
        "{corrected:?}"
    );
    let donation = feed
        .entries
        .iter()
        .find(|e| e.id.ends_with(&format!(":{gift}")))
        .expect("the gift");
    assert!(donation.links[0]
        .href
        .contains(&format!("/trail/{ORG}/HBRC-A-1")));

    let (_, zh) = fetch(&w.s, &format!("/organizations/{ORG}/feed.atom?lang=zh"));
    assert!(
        title(&zh.entries[0]).contains("更正"),
        "{}",
        title(&zh.entries[0])
    );

    let (_, trail) = fetch(
        &w.s,
        &format!("/organizations/{ORG}/donations/HBRC-A-1/trail.atom"),
    );
    let titles: Vec<String> = trail.entries.iter().map(title).collect();
    assert_eq!(
        titles.len(),
        4,
        "received, allocated, sent, arrived: {titles:?}"
    );
    assert!(
        titles[0].contains("received") && titles[0].contains("HBRC-A-1"),
        "{titles:?}"
    );
    assert!(titles[1].contains("allocated"), "{titles:?}");
    assert!(
        titles[2].contains("sent") && titles[2].contains("SF-0001"),
        "{titles:?}"
    );
    assert!(
        titles[3].contains("arrived") && titles[3].contains("3,600"),
        "{titles:?}"
    );
    for e in &trail.entries {
        assert!(e.id.starts_with("tag:givetrail.org,2020:"), "{}", e.id);
        assert!(
            e.links[0].href.contains(&format!("/trail/{ORG}/HBRC-A-1")),
            "{e:?}"
        );
    }
    let missing =
        reqwest::blocking::get(w.s.url(&format!("/organizations/{ORG}/donations/NOPE/trail.atom")))
            .expect("GET");
    assert_eq!(missing.status().as_u16(), 404);

    let org_page = page(&w.s, &format!("/organizations/{ORG}?lang=en"));
    assert!(
        org_page.contains(&format!(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"{ORG} 慈善\" href=\"/api/v1/organizations/{ORG}/feed.atom?lang=en\">"
        )),
        "{org_page}"
    );
    let trail_page = page(&w.s, &format!("/trail/{ORG}/HBRC-A-1?lang=zh"));
    assert!(
        trail_page.contains(&format!(
            "href=\"/api/v1/organizations/{ORG}/donations/HBRC-A-1/trail.atom?lang=zh\""
        )),
        "{trail_page}"
    );
    assert!(trail_page.contains("<link rel=\"alternate\" type=\"application/atom+xml\""));
}
