//! Atom 1.0 feeds (RFC 4287) people subscribe to: an organisation's newest entries (corrections
//! marked) and every step of one gift. Written with `quick-xml`; entry ids are tag URIs
//! (RFC 4151) naming the log entry, `tag:givetrail.org,2020:<org>:<seq>`, so the same entry has
//! the same id in every feed.

use actix_web::{get, web, HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use serde::Deserialize;

use givetrail_domain::disclosure::trail::{Trail, TrailAllocation};
use givetrail_domain::disclosure::Directory;
use givetrail_domain::entry::{EntryKind, Fact, Seq};

use crate::disclosure::ledger;
use crate::link;
use crate::problem::{ApiError, Problem};
use crate::site::format;
use crate::site::i18n::Lang;
use crate::site::pages::organization::describe;
use crate::state::AppState;

/// Entries in an organisation's feed.
pub const FEED_ENTRIES: usize = 50;
/// The content type of both feeds.
pub const ATOM: &str = "application/atom+xml; charset=utf-8";

/// One `<entry>`.
struct AtomEntry {
    id: String,
    title: String,
    updated: DateTime<Utc>,
    link: String,
    summary: String,
    categories: Vec<&'static str>,
}

/// The `<feed>` around the entries.
struct AtomFeed {
    id: String,
    title: String,
    updated: DateTime<Utc>,
    self_link: String,
    alternate: String,
    author: String,
    entries: Vec<AtomEntry>,
}

fn stamp(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The tag URI of a log entry.
pub fn entry_id(org: &str, seq: Seq) -> String {
    format!("tag:givetrail.org,2020:{org}:{seq}")
}

fn text_element(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> std::io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn link_element(w: &mut Writer<Vec<u8>>, rel: &str, kind: &str, href: &str) -> std::io::Result<()> {
    let mut l = BytesStart::new("link");
    l.push_attribute(("rel", rel));
    l.push_attribute(("type", kind));
    l.push_attribute(("href", href));
    w.write_event(Event::Empty(l))
}

fn write(feed: &AtomFeed) -> std::io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 1);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    let mut root = BytesStart::new("feed");
    root.push_attribute(("xmlns", "http://www.w3.org/2005/Atom"));
    w.write_event(Event::Start(root))?;
    text_element(&mut w, "id", &feed.id)?;
    text_element(&mut w, "title", &feed.title)?;
    text_element(&mut w, "updated", &stamp(&feed.updated))?;
    link_element(&mut w, "self", "application/atom+xml", &feed.self_link)?;
    link_element(&mut w, "alternate", "text/html", &feed.alternate)?;
    w.write_event(Event::Start(BytesStart::new("author")))?;
    text_element(&mut w, "name", &feed.author)?;
    w.write_event(Event::End(BytesEnd::new("author")))?;
    text_element(&mut w, "generator", "Givetrail")?;
    for e in &feed.entries {
        w.write_event(Event::Start(BytesStart::new("entry")))?;
        text_element(&mut w, "id", &e.id)?;
        text_element(&mut w, "title", &e.title)?;
        text_element(&mut w, "updated", &stamp(&e.updated))?;
        link_element(&mut w, "alternate", "text/html", &e.link)?;
        for c in &e.categories {
            let mut cat = BytesStart::new("category");
            cat.push_attribute(("term", *c));
            w.write_event(Event::Empty(cat))?;
        }
        text_element(&mut w, "summary", &e.summary)?;
        w.write_event(Event::End(BytesEnd::new("entry")))?;
    }
    w.write_event(Event::End(BytesEnd::new("feed")))?;
    Ok(w.into_inner())
}

fn respond(feed: &AtomFeed) -> Result<HttpResponse, ApiError> {
    let body = write(feed).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().content_type(ATOM).body(body))
}

/// The language of a feed: `?lang=zh` or `en` (the default).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FeedLang {
    /// `en` (default) or `zh`.
    pub lang: Option<String>,
}

fn lang_of(p: &FeedLang) -> Result<Lang, ApiError> {
    match p.lang.as_deref() {
        None | Some("en") => Ok(Lang::En),
        Some("zh") => Ok(Lang::Zh),
        Some(_) => Err(ApiError::field("lang", "must be en or zh")),
    }
}

/// An organisation's newest entries as an Atom 1.0 feed (RFC 4287), newest first. A correction
/// notice carries the category `correction`; an entry corrected since, `corrected`. Each entry
/// links to its web page (the gift's trail for a donation, else the organisation's page).
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), FeedLang),
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml", body = String), (status = 404, body = Problem)))]
#[get("/organizations/{org}/feed.atom")]
pub async fn organization_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
    p: web::Query<FeedLang>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&p)?;
    let org = org.into_inner();
    let (l, directory): (_, Directory) = ledger(&state, &org).await?;
    let base = state.public_url.origin(&req);
    let lq = lang.code();
    let page = format!("{base}/organizations/{}?lang={lq}", link::encode(&org));
    let entries = l
        .records
        .iter()
        .rev()
        .take(FEED_ENTRIES)
        .map(|r| {
            let mut categories = vec![r.kind.as_str()];
            let mut title = describe(r, &directory, lang);
            if r.kind == EntryKind::EntryCorrected {
                categories.push("correction");
            }
            if let Some(c) = l.correction_of(r.seq) {
                categories.push("corrected");
                title = match lang {
                    Lang::En => format!("{title} (corrected by entry #{c})"),
                    Lang::Zh => format!("{title}（已由第 {c} 条更正）"),
                };
            }
            let link = match &r.fact {
                Fact::Donation(d) => format!(
                    "{base}/trail/{}/{}?lang={lq}",
                    link::encode(&org),
                    link::encode(&d.receipt_number)
                ),
                _ => page.clone(),
            };
            let summary = match lang {
                Lang::En => format!(
                    "Entry #{} of {}: happened {}, public {}.",
                    r.seq,
                    l.organization.name,
                    format::datetime(&r.occurred_at, lang),
                    format::datetime(&r.recorded_at, lang)
                ),
                Lang::Zh => format!(
                    "{}第 {} 条记录：发生于 {}，公开于 {}。",
                    l.organization.name,
                    r.seq,
                    format::datetime(&r.occurred_at, lang),
                    format::datetime(&r.recorded_at, lang)
                ),
            };
            AtomEntry {
                id: entry_id(&org, r.seq),
                title,
                updated: r.recorded_at,
                link,
                summary,
                categories,
            }
        })
        .collect::<Vec<_>>();
    let updated = l
        .records
        .last()
        .map_or(DateTime::<Utc>::UNIX_EPOCH, |r| r.recorded_at);
    respond(&AtomFeed {
        id: format!("tag:givetrail.org,2020:{org}"),
        title: match lang {
            Lang::En => format!("{}: entries on Givetrail", l.organization.name),
            Lang::Zh => format!("{}：公益追踪公开记录", l.organization.name),
        },
        updated,
        self_link: format!("{base}{}?lang={lq}", req.path()),
        alternate: page,
        author: l.organization.name.clone(),
        entries,
    })
}

/// Adds one step: organisation, seq, when, title, category.
type Push<'a> = dyn FnMut(&str, Seq, DateTime<Utc>, String, &'static str) + 'a;

/// Steps of one gift's trail, in order, as feed entries.
fn trail_entries(tr: &Trail, lang: Lang, link: &str, out: &mut Vec<AtomEntry>) {
    let en = lang == Lang::En;
    let amount = |wire: &givetrail_domain::asset::AssetWire, part: &str| {
        format::amount_of(&format::asset_label(wire), part, lang)
    };
    let mut push = |org: &str, seq: Seq, at: DateTime<Utc>, title: String, class: &'static str| {
        out.push(AtomEntry {
            id: entry_id(org, seq),
            summary: title.clone(),
            title,
            updated: at,
            link: link.to_owned(),
            categories: vec![class],
        })
    };
    let org = tr.organization.as_str();
    push(
        org,
        tr.donation,
        tr.recorded_at,
        if en {
            format!(
                "{} received {} (receipt {})",
                tr.organization_name,
                format::asset(&tr.asset, lang),
                tr.receipt_number
            )
        } else {
            format!(
                "{}收到{}（收据 {}）",
                tr.organization_name,
                format::asset(&tr.asset, lang),
                tr.receipt_number
            )
        },
        "received",
    );
    let allocations =
        |allocs: &[TrailAllocation], push: &mut Push<'_>, out_trails: &mut Vec<Trail>| {
            for a in allocs {
                let who = a
                    .recipient_name
                    .clone()
                    .unwrap_or_else(|| a.recipient.clone());
                push(
                    org,
                    a.seq,
                    a.occurred_at,
                    if en {
                        format!(
                            "{} allocated to {who}",
                            amount(&a.allocation_total, &a.from_this_donation)
                        )
                    } else {
                        format!(
                            "{}分配给{who}",
                            amount(&a.allocation_total, &a.from_this_donation)
                        )
                    },
                    "allocated",
                );
                for d in &a.disbursements {
                    let who = d
                        .recipient_name
                        .clone()
                        .unwrap_or_else(|| d.recipient.clone());
                    push(
                        org,
                        d.seq,
                        d.occurred_at,
                        if en {
                            format!(
                                "{} sent to {who} ({})",
                                amount(&d.disbursement_total, &d.from_this_donation),
                                d.reference
                            )
                        } else {
                            format!(
                                "{}已拨付给{who}（{}）",
                                amount(&d.disbursement_total, &d.from_this_donation),
                                d.reference
                            )
                        },
                        "sent",
                    );
                    if let Some(k) = &d.acknowledgement {
                        push(
                            org,
                            k.seq,
                            k.received_at,
                            if en {
                                format!(
                                    "{who} confirmed {} arrived",
                                    amount(&d.disbursement_total, &k.from_this_donation)
                                )
                            } else {
                                format!(
                                    "{who}确认收到{}",
                                    amount(&d.disbursement_total, &k.from_this_donation)
                                )
                            },
                            "arrived",
                        );
                    }
                    for u in &d.usage_reports {
                        push(
                            org,
                            u.seq,
                            u.occurred_at,
                            if en {
                                format!(
                                    "{who} used {}: {}",
                                    amount(&d.disbursement_total, &u.from_this_donation),
                                    u.description
                                )
                            } else {
                                format!(
                                    "{who}使用了{}：{}",
                                    amount(&d.disbursement_total, &u.from_this_donation),
                                    u.description
                                )
                            },
                            "used",
                        );
                    }
                    if let Some(onward) = &d.onward {
                        out_trails.push((**onward).clone());
                    }
                }
            }
        };
    let mut onward = Vec::new();
    allocations(&tr.allocations, &mut push, &mut onward);
    for e in &tr.expenses {
        push(
            org,
            e.seq,
            e.occurred_at,
            if en {
                format!(
                    "{} spent on the charity's costs: {}",
                    amount(&tr.asset, &e.from_this_donation),
                    e.description
                )
            } else {
                format!(
                    "{}用于机构费用：{}",
                    amount(&tr.asset, &e.from_this_donation),
                    e.description
                )
            },
            "expense",
        );
    }
    for p in &tr.purchases {
        push(
            org,
            p.seq,
            p.occurred_at,
            if en {
                format!(
                    "{} bought {} from {}",
                    amount(&tr.asset, &p.paid_from_this_donation),
                    amount(&p.goods_total, &p.goods_from_this_donation),
                    p.supplier.name
                )
            } else {
                format!(
                    "{}向{}采购了{}",
                    amount(&tr.asset, &p.paid_from_this_donation),
                    p.supplier.name,
                    amount(&p.goods_total, &p.goods_from_this_donation)
                )
            },
            "bought",
        );
        allocations(&p.allocations, &mut push, &mut onward);
    }
    for c in &tr.corrections {
        push(
            org,
            c.seq,
            c.recorded_at,
            if en {
                format!(
                    "Correction notice: entry #{} ({}) corrected: {}",
                    c.corrects,
                    c.corrected_kind.as_str(),
                    c.reason
                )
            } else {
                format!(
                    "更正公告：第 {} 条（{}）已更正：{}",
                    c.corrects,
                    c.corrected_kind.as_str(),
                    c.reason
                )
            },
            "correction",
        );
    }
    for o in &onward {
        trail_entries(o, lang, link, out);
    }
}

/// Every step of one gift (received, allocated, sent, arrived, used, bought, onward into other
/// charities' logs, corrections) as an Atom 1.0 feed (RFC 4287), in trail order.
#[utoipa::path(tag = "disclosure", params(("org" = String, Path, description = "organisation slug"), ("receipt_number" = String, Path, description = "receipt number"), FeedLang),
    responses((status = 200, description = "Atom 1.0 feed", content_type = "application/atom+xml", body = String), (status = 404, body = Problem), (status = 410, body = Problem)))]
#[get("/organizations/{org}/donations/{receipt_number}/trail.atom")]
pub async fn trail_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    p: web::Query<FeedLang>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&p)?;
    let (org, receipt) = path.into_inner();
    let tr = crate::disclosure::trail_of(&state, &org, &receipt).await?;
    let base = state.public_url.origin(&req);
    let page = format!(
        "{}?lang={}",
        crate::qr::trail_url(&base, &org, &receipt),
        lang.code()
    );
    let mut entries = Vec::new();
    trail_entries(&tr, lang, &page, &mut entries);
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(tr.recorded_at);
    respond(&AtomFeed {
        id: format!("tag:givetrail.org,2020:{org}:trail:{receipt}"),
        title: match lang {
            Lang::En => format!("Where gift {receipt} to {} went", tr.organization_name),
            Lang::Zh => format!("捐赠 {receipt}（{}）的去向", tr.organization_name),
        },
        updated,
        self_link: format!("{base}{}?lang={}", req.path(), lang.code()),
        alternate: page,
        author: tr.organization_name.clone(),
        entries,
    })
}
