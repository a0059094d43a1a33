//! `GET /organizations/{org}`: an organisation's totals, flows, stock ageing, matches against open needs,
//! timeliness, designation changes and corrections, latest entries, latest checkpoint and the
//! count of complaints about it.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use givetrail_store::read::model::ReadModel;
use std::sync::Arc;

use givetrail_domain::disclosure::summary::{self, Summary, TotalsWire};
use givetrail_domain::disclosure::{AssetLabel, Directory, Ledger, Policy, Record};
use givetrail_domain::entry::Fact;
use givetrail_domain::needs::MatchView;
use givetrail_store::read::disclosure as disclosure_store;
use givetrail_store::registry::{self, Organization};
use givetrail_store::{AnyConnection, StoreError};

use super::party_name;
use crate::db::read_snapshot;
use crate::problem::ApiError;
use crate::site::i18n::{Lang, Text};
use crate::site::{ageing, complaints, flow, format, html, lang_of, page, positive, Layout};
use crate::state::AppState;
use crate::verification::{checkpoint_status, CheckpointStatus};

/// Most latest entries shown on an organisation page.
pub const LATEST_ENTRIES: i64 = 10;
/// Most matches shown on an organisation page.
pub const MATCHES_SHOWN: usize = 8;

struct OrgFacts {
    id: String,
    name: String,
    kind: String,
    /// Its region, named (`湖北省 (420000)`).
    region: String,
    /// Its region's page and the link's words.
    region_link: (String, String),
    credit_code: String,
    qualified: String,
}

struct EntryRow {
    seq: i64,
    what: String,
    occurred: String,
    recorded: String,
}

struct MatchRow {
    recipient: String,
    recipient_name: String,
    item: String,
    urgency: String,
    urgency_name: String,
    outstanding: String,
    available: String,
    suggested: String,
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrgPage {
    layout: Layout,
    org: OrgFacts,
    /// Per asset: its name, then each measure's name, value and whether it is flagged.
    asset_totals: Vec<AssetTotals>,
    charts: Vec<flow::Chart>,
    ageing: Vec<ageing::Chart>,
    matches: Vec<MatchRow>,
    deadlines: Vec<(String, String, String, String, bool)>,
    latency: Vec<(String, String, String)>,
    changes: Vec<String>,
    corrections: Vec<String>,
    latest: Vec<EntryRow>,
    checkpoint: Option<(String, String, String)>,
    verified: bool,
    complaints: String,
}

/// What the organisation page shows, read in one snapshot.
pub struct OrgData {
    /// The organisation.
    pub org: Organization,
    /// Its replayed log.
    pub ledger: Arc<Ledger>,
    /// The parties its log names.
    pub directory: Directory,
    /// Its latest entries, oldest first.
    pub latest: Vec<Record>,
    /// Its latest checkpoint and whether it verifies.
    pub status: CheckpointStatus,
    /// Its unallocated goods ranked against open needs.
    pub matches: Vec<MatchView>,
    /// The recipients the matches name.
    pub match_names: Directory,
    /// Complaints filed about it, `None` if they could not be read.
    pub complaints: Option<usize>,
}

/// Read everything the page of `org` shows inside one snapshot; `None` if it is not
/// registered. `public_key` (hex) checks the latest checkpoint; `priority_regions` rank the
/// matches.
pub fn load_organization(
    c: &mut AnyConnection,
    model: &ReadModel,
    org: &str,
    public_key: &str,
    priority_regions: &[String],
) -> Result<Option<OrgData>, StoreError> {
    let Some(o) = registry::organization(c, org)? else {
        return Ok(None);
    };
    let Some((ledger, directory)) = disclosure_store::ledger_with_directory(c, model, org)? else {
        return Ok(None);
    };
    let head = givetrail_store::read::log::head(c, org)?.seq;
    let latest = givetrail_store::read::log::entries(
        c,
        org,
        (head - LATEST_ENTRIES).max(0),
        LATEST_ENTRIES,
    )?
    .items
    .iter()
    .map(|e| Record::from_entry(e).map_err(StoreError::Corrupt))
    .collect::<Result<Vec<Record>, StoreError>>()?;
    let status = checkpoint_status(c, org, public_key)?;
    let matches = crate::needs::matches(c, org, priority_regions)?.unwrap_or_default();
    let match_ids: Vec<String> = matches.iter().map(|m| m.need.recipient.clone()).collect();
    let match_names = disclosure_store::directory(c, &match_ids)?;
    // Last: a failure here leaves the page up, saying the count is unavailable.
    let complaints = complaints::count(c, org);
    Ok(Some(OrgData {
        org: o,
        ledger,
        directory,
        latest,
        status,
        matches,
        match_names,
        complaints,
    }))
}

/// One line saying what an entry records.
pub(crate) fn describe(r: &Record, directory: &Directory, lang: Lang) -> String {
    let t = lang.text();
    let kind = t.entry_kind(r.kind);
    let detail = match &r.fact {
        Fact::Campaign(c) => c.title.clone(),
        Fact::Donation(d) => format!(
            "{} · {} · {}",
            d.receipt_number,
            d.donor
                .display_name
                .clone()
                .unwrap_or_else(|| t.anonymous_donor.to_owned()),
            format::asset(&d.asset, lang)
        ),
        Fact::Allocation(a) => format!(
            "→ {} · {}",
            party_name(directory, a.recipient.as_str()),
            format::asset(&a.asset, lang)
        ),
        Fact::Disbursement(d) => format!(
            "→ {} · {}",
            party_name(directory, d.recipient.as_str()),
            format::asset(&d.asset, lang)
        ),
        Fact::Acknowledgement(a) => format!(
            "{} · {}",
            party_name(directory, a.recipient.as_str()),
            format::asset(&a.asset, lang)
        ),
        Fact::Usage(u) => format!(
            "{} · {}",
            party_name(directory, u.recipient.as_str()),
            format::asset(&u.asset, lang)
        ),
        Fact::Expense(e) => format!("{} · {}", e.description, format::asset(&e.asset, lang)),
        Fact::Procurement(p) => format!(
            "{} · {} → {} · {} {}",
            p.supplier.name,
            format::asset(&p.paid, lang),
            format::asset(&p.goods, lang),
            t.unit_price,
            p.unit_price
        ),
        Fact::Correction(c) => format!("#{} · {}", c.corrects, c.reason),
        Fact::Disclosure(d) => format!(
            "{} – {} · SHA-256 {}…",
            format::date(&d.period.from, lang),
            format::date(&d.period.to, lang),
            d.summary_sha256.get(..12).unwrap_or(&d.summary_sha256)
        ),
    };
    format!("{kind}: {detail}")
}

fn label_amount(label: &AssetLabel, s: &str, lang: Lang) -> String {
    format::amount_of(label, s, lang)
}

type Measure = fn(&TotalsWire) -> &String;

/// One asset's totals: its name, then each measure's name, value and flag.
type AssetTotals = (String, Vec<(String, String, bool)>);

/// The totals stacked per asset (a card each, readable at a phone's width): the measures of
/// [`measures`] turned from rows across assets into one list per asset.
fn asset_totals(summary: &Summary, lang: Lang) -> Vec<AssetTotals> {
    let measures = measures(summary, lang);
    summary
        .assets
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let rows = measures
                .iter()
                .filter_map(|(name, cells)| {
                    cells
                        .get(i)
                        .map(|(v, flag)| (name.clone(), v.clone(), *flag))
                })
                .collect();
            (format::label(&a.asset), rows)
        })
        .collect()
}

/// The totals grid: one row per measure, one cell per asset (flagged when something is
/// unaccounted for), then the priority-region share.
fn measures(summary: &Summary, lang: Lang) -> Vec<(String, Vec<(String, bool)>)> {
    let t = lang.text();
    let rows: [(&str, Measure, bool); 10] = [
        (t.received, |w| &w.received, false),
        (t.allocated, |w| &w.allocated, false),
        (t.disbursed, |w| &w.disbursed, false),
        (t.acknowledged, |w| &w.acknowledged, false),
        (t.used, |w| &w.used, false),
        (t.expenses, |w| &w.expenses, false),
        (t.unallocated, |w| &w.unallocated, true),
        (t.undisbursed, |w| &w.undisbursed, true),
        (t.unacknowledged, |w| &w.unacknowledged, true),
        (t.shortfall, |w| &w.shortfall, true),
    ];
    let mut measures: Vec<(String, Vec<(String, bool)>)> = rows
        .iter()
        .map(|(name, get, flag)| {
            let cells = summary
                .assets
                .iter()
                .map(|a| {
                    let v = get(&a.totals);
                    (label_amount(&a.asset, v, lang), *flag && positive(v))
                })
                .collect();
            ((*name).to_owned(), cells)
        })
        .collect();
    measures.push((
        t.priority_share.to_owned(),
        summary
            .assets
            .iter()
            .map(|a| {
                let p = a.priority_regions.share_percent.as_ref();
                (
                    p.map(|p| format!("{p}%"))
                        .unwrap_or_else(|| t.none.to_owned()),
                    false,
                )
            })
            .collect(),
    ));
    measures
}

/// Per campaign deadline (the campaign by its title): hours allowed, entries, missed (flagged
/// when any).
fn deadlines(
    summary: &Summary,
    ledger: &Ledger,
    t: &Text,
) -> Vec<(String, String, String, String, bool)> {
    summary
        .timeliness
        .deadlines
        .iter()
        .map(|d| {
            (
                d.campaign
                    .as_deref()
                    .map(|c| {
                        ledger
                            .campaign_body(c)
                            .map_or_else(|| c.to_owned(), |b| b.title.clone())
                    })
                    .unwrap_or_else(|| t.no_campaign.to_owned()),
                format::number(&d.deadline_hours.to_string(), false),
                d.entries.to_string(),
                d.missed.to_string(),
                d.missed > 0,
            )
        })
        .collect()
}

/// Per asset: median and 90th-percentile hours from receipt to disbursement.
fn latency(summary: &Summary) -> Vec<(String, String, String)> {
    summary
        .timeliness
        .receipt_to_disbursement
        .iter()
        .map(|l| {
            (
                format::label(&l.asset),
                format::number(&l.median_hours, true),
                format::number(&l.p90_hours, true),
            )
        })
        .collect()
}

/// The latest checkpoint's size, root and signing time, in the page's language.
fn checkpoint(status: &CheckpointStatus, lang: Lang) -> Option<(String, String, String)> {
    status.checkpoint.as_ref().map(|c| {
        (
            c.tree_size.to_string(),
            c.root_hash.clone(),
            chrono::DateTime::parse_from_rfc3339(&c.timestamp)
                .map(|d| format::datetime(&d.with_timezone(&chrono::Utc), lang))
                .unwrap_or_default(),
        )
    })
}

fn match_rows(matches: &[MatchView], names: &Directory, lang: Lang) -> Vec<MatchRow> {
    let t = lang.text();
    matches
        .iter()
        .take(MATCHES_SHOWN)
        .map(|m| {
            let n = &m.need;
            MatchRow {
                recipient_name: party_name(names, &n.recipient),
                recipient: n.recipient.clone(),
                item: format!("{} ({})", n.item, n.spec),
                urgency: n.urgency.as_str().to_owned(),
                urgency_name: t.urgency_name(n.urgency.as_str()).to_owned(),
                outstanding: format::quantity(&n.outstanding, &n.unit, lang),
                available: format::quantity(&m.available, &n.unit, lang),
                suggested: format::quantity(&m.suggested, &n.unit, lang),
            }
        })
        .collect()
}

/// The organisation page of loaded data; the summary is computed here, against `policy`.
fn view(req: &HttpRequest, lang: Lang, data: OrgData, policy: &Policy) -> OrgPage {
    let t = lang.text();
    let OrgData {
        org: o,
        ledger,
        directory,
        latest,
        status,
        matches,
        match_names,
        complaints,
    } = data;
    let summary = summary::organisation_summary(&ledger, &directory, policy, chrono::Utc::now());
    let changes = summary
        .designation_changes
        .iter()
        .map(|c| {
            format!(
                "#{} → {}: {} ({}: {})",
                c.allocation,
                party_name(&directory, &c.recipient),
                c.change.reason,
                t.consent_reference,
                c.change.donor_consent_reference
            )
        })
        .collect();
    let corrections = summary
        .corrections
        .iter()
        .map(|c| {
            let kind = givetrail_domain::entry::EntryKind::parse(&c.corrected_kind)
                .map(|k| t.entry_kind(k))
                .unwrap_or_default();
            let mut line = crate::site::i18n::fill(
                t.correction_notice,
                &[
                    ("seq", c.seq.to_string().as_str()),
                    ("corrects", c.corrects.to_string().as_str()),
                    ("kind", kind),
                    ("reason", c.reason.as_str()),
                ],
            );
            if !c.replaced {
                line.push_str(&format!(" ({})", t.correction_void));
            }
            line
        })
        .collect();
    let latest = latest
        .iter()
        .rev()
        .map(|r| EntryRow {
            seq: r.seq,
            what: describe(r, &directory, lang),
            occurred: format::datetime(&r.occurred_at, lang),
            recorded: format::datetime(&r.recorded_at, lang),
        })
        .collect();
    let mut layout = Layout::new(req, lang, o.name.clone());
    layout.feed = Some(format!(
        "/api/v1/organizations/{}/feed.atom?lang={}",
        crate::link::encode(&o.id),
        lang.code()
    ));
    OrgPage {
        layout,
        charts: Vec::clone(&ledger.derived(&format!("charts {lang:?}"), || {
            flow::charts(&ledger, &directory, lang)
        })),
        ageing: ageing::charts(&summary, lang),
        asset_totals: asset_totals(&summary, lang),
        matches: match_rows(&matches, &match_names, lang),
        deadlines: deadlines(&summary, &ledger, t),
        latency: latency(&summary),
        changes,
        corrections,
        latest,
        verified: status.verified.unwrap_or(false),
        checkpoint: checkpoint(&status, lang),
        complaints: complaints::count_text(complaints, t),
        org: OrgFacts {
            kind: t.kind_name(&o.kind).to_owned(),
            qualified: if o.public_fundraising_qualified {
                t.yes
            } else {
                t.no
            }
            .to_owned(),
            id: o.id,
            name: o.name,
            region_link: crate::site::region_link(&o.region_code, lang),
            region: format::region(&o.region_code, lang),
            credit_code: o.credit_code,
        },
    }
}

/// `GET /organizations/{org}`.
pub async fn organization(
    req: HttpRequest,
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> HttpResponse {
    let org = org.into_inner();
    let r = async {
        let lang = lang_of(&req);
        let (id, key) = (org.clone(), state.public_key.clone());
        let regions = state.policy.priority_regions.clone();
        let model = state.read_model.clone();
        let loaded = read_snapshot(&state, move |c| {
            load_organization(c, &model, &id, &key, &regions)
        })
        .await?;
        let Some(data) = loaded else {
            return Err(ApiError::not_found(format!(
                "organisation {org} is not registered"
            )));
        };
        html(StatusCode::OK, &view(&req, lang, data, &state.policy))
    }
    .await;
    page(&req, &state, r).await
}
