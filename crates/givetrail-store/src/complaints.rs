//! Complaints and their histories (append-only tables). The rules (what may be filed, which
//! event may follow which) are `givetrail_domain::reconciliation::complaint`.

use diesel::prelude::*;
use serde_json::Value;

use givetrail_domain::error::RuleError;
use givetrail_domain::reconciliation::complaint::{
    check_transition, status_of, tracking_code, Complaint, ComplaintCategory, ComplaintEvent,
    ComplaintStatus, NewComplaint, NewComplaintEvent, RegulatorComplaint,
};

use crate::db::AnyConnection;
use crate::models::{ComplaintEventRow, ComplaintRow};
use crate::read::Page;
use crate::schema::*;
use crate::{from_micros, StoreError, WriteError};

/// A fresh, unguessable tracking code.
pub fn new_code() -> String {
    tracking_code(rand::random())
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, WriteError> {
    serde_json::to_value(v).map_err(|e| StoreError::Corrupt(e.to_string()).into())
}

/// File a complaint, inside the writer's transaction; the response body (the public view).
pub(crate) fn insert(
    conn: &mut AnyConnection,
    c: &NewComplaint,
    now_us: i64,
) -> Result<Value, WriteError> {
    if crate::registry::organization(conn, &c.organization)?.is_none() {
        return Err(WriteError::rule(RuleError::not_found(
            "organization",
            format!("organisation {}", c.organization),
        )));
    }
    if let Some(seq) = c.entry {
        let exists: i64 = entries::table
            .filter(entries::organization.eq(&c.organization))
            .filter(entries::seq.eq(seq))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(WriteError::rule(RuleError::not_found(
                "entry",
                format!("entry {seq} of {}", c.organization),
            )));
        }
    }
    diesel::insert_into(complaints::table)
        .values((
            complaints::organization.eq(&c.organization),
            complaints::code.eq(&c.code),
            complaints::entry_seq.eq(c.entry),
            complaints::category.eq(c.category.as_str()),
            complaints::description.eq(&c.description),
            complaints::contact.eq(c.contact.as_deref()),
            complaints::filed_at.eq(now_us),
        ))
        .execute(conn)?;
    to_json(&Complaint {
        code: c.code.clone(),
        organization: c.organization.clone(),
        entry: c.entry,
        category: c.category,
        description: c.description.clone(),
        status: ComplaintStatus::Received,
        filed_at: from_micros(now_us),
        history: Vec::new(),
    })
}

/// Add a regulator's event, inside the writer's transaction; the response body (the complaint).
pub(crate) fn add_event(
    conn: &mut AnyConnection,
    e: &NewComplaintEvent,
    now_us: i64,
) -> Result<Value, WriteError> {
    let Some(mut c) = get(conn, &e.code)?.filter(|c| c.complaint.organization == e.organization)
    else {
        return Err(WriteError::rule(RuleError::not_found(
            "code",
            format!("complaint {}", e.code),
        )));
    };
    check_transition(c.complaint.status, e.action).map_err(WriteError::rule)?;
    let seq = c.complaint.history.len() as i64 + 1;
    diesel::insert_into(complaint_events::table)
        .values((
            complaint_events::organization.eq(&e.organization),
            complaint_events::code.eq(&e.code),
            complaint_events::seq.eq(seq),
            complaint_events::status.eq(e.action.status().as_str()),
            complaint_events::note.eq(&e.note),
            complaint_events::author.eq(&e.author),
            complaint_events::recorded_at.eq(now_us),
        ))
        .execute(conn)
        .map_err(|e| WriteError::concurrent(e.into()))?;
    c.complaint.history.push(ComplaintEvent {
        seq,
        status: e.action.status(),
        note: e.note.clone(),
        author: e.author.clone(),
        recorded_at: from_micros(now_us),
    });
    c.complaint.status = e.action.status();
    to_json(&c.complaint)
}

fn corrupt(code: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("complaint {code}: {what}"))
}

/// Attach every row's history (one query for the page).
fn with_history(
    conn: &mut AnyConnection,
    rows: Vec<ComplaintRow>,
) -> Result<Vec<RegulatorComplaint>, StoreError> {
    let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    let events: Vec<ComplaintEventRow> = complaint_events::table
        .filter(complaint_events::code.eq_any(&codes))
        .order((complaint_events::code.asc(), complaint_events::seq.asc()))
        .select(ComplaintEventRow::as_select())
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for ComplaintRow {
        organization,
        code,
        entry_seq: entry,
        category,
        description,
        contact,
        filed_at,
    } in rows
    {
        let history = events
            .iter()
            .filter(|e| e.code == code)
            .map(|e| {
                Ok(ComplaintEvent {
                    seq: e.seq,
                    status: ComplaintStatus::parse(&e.status)
                        .ok_or_else(|| corrupt(&code, "status"))?,
                    note: e.note.clone(),
                    author: e.author.clone(),
                    recorded_at: from_micros(e.recorded_at),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        out.push(RegulatorComplaint {
            complaint: Complaint {
                category: ComplaintCategory::parse(&category)
                    .ok_or_else(|| corrupt(&code, "category"))?,
                status: status_of(&history),
                code,
                organization,
                entry,
                description,
                filed_at: from_micros(filed_at),
                history,
            },
            contact,
        });
    }
    Ok(out)
}

/// One complaint by tracking code, with its contact (callers decide who may see that).
pub fn get(conn: &mut AnyConnection, code: &str) -> Result<Option<RegulatorComplaint>, StoreError> {
    let rows: Vec<ComplaintRow> = complaints::table
        .filter(complaints::code.eq(code))
        .select(ComplaintRow::as_select())
        .load(conn)?;
    Ok(with_history(conn, rows)?.into_iter().next())
}

/// Complaints about one organisation, oldest first, without contacts.
pub fn about(conn: &mut AnyConnection, org: &str) -> Result<Vec<Complaint>, StoreError> {
    let rows: Vec<ComplaintRow> = complaints::table
        .filter(complaints::organization.eq(org))
        .order((complaints::filed_at.asc(), complaints::code.asc()))
        .select(ComplaintRow::as_select())
        .load(conn)?;
    Ok(with_history(conn, rows)?
        .into_iter()
        .map(|c| c.complaint)
        .collect())
}

/// The cursor of a complaint in the regulator's list: filing time and code.
fn cursor(c: &RegulatorComplaint) -> String {
    format!(
        "{}~{}",
        c.complaint.filed_at.timestamp_micros(),
        c.complaint.code
    )
}

/// Parse a cursor written by the list.
pub fn parse_cursor(s: &str) -> Option<(i64, String)> {
    let (t, code) = s.split_once('~')?;
    Some((t.parse().ok()?, code.to_owned()))
}

/// Complaints about organisations whose region starts with `jurisdiction` (`""` = all),
/// optionally about one organisation, oldest first, after `after`.
pub fn list(
    conn: &mut AnyConnection,
    jurisdiction: &str,
    organization: Option<&str>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Page<RegulatorComplaint>, StoreError> {
    let mut q = complaints::table
        .inner_join(organizations::table.on(organizations::id.eq(complaints::organization)))
        .filter(organizations::region_code.like(format!("{jurisdiction}%")))
        .order((complaints::filed_at.asc(), complaints::code.asc()))
        .limit(limit)
        .select(ComplaintRow::as_select())
        .into_boxed();
    if let Some(o) = organization {
        q = q.filter(complaints::organization.eq(o.to_owned()));
    }
    if let Some((t, code)) = after {
        q = q.filter(
            complaints::filed_at
                .gt(t)
                .or(complaints::filed_at.eq(t).and(complaints::code.gt(code))),
        );
    }
    let rows: Vec<ComplaintRow> = q.load(conn)?;
    let items = with_history(conn, rows)?;
    let next = (items.len() as i64 == limit)
        .then(|| items.last().map(cursor))
        .flatten();
    Ok(Page { items, next })
}
