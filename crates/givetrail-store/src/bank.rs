//! Bank statements: kept exactly as uploaded (append-only tables), read back for reconciliation.

use chrono::NaiveDate;
use diesel::prelude::*;
use serde_json::{json, Value};

use givetrail_domain::asset::{Currency, Money};
use givetrail_domain::error::RuleError;
use givetrail_domain::ledger::Rejection;
use givetrail_domain::reconciliation::bank::{BankLine, Direction, StatementLine};

use crate::db::AnyConnection;
use crate::models::BankLineRow;
use crate::schema::*;
use crate::{StoreError, WriteError};

/// Lines inserted per statement (bounded by SQLite's and PostgreSQL's bind-parameter limits).
const INSERT_CHUNK: usize = 1_000;

/// A statement to keep: its lines, already parsed, and who uploaded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatement {
    /// Organisation whose account it is.
    pub organization: String,
    /// SHA-256 of the uploaded bytes (a second upload of the same file is refused).
    pub sha256: String,
    /// Who uploaded it: `role:subject`.
    pub uploaded_by: String,
    /// The lines.
    pub lines: Vec<StatementLine>,
}

fn refused(message: String) -> WriteError {
    WriteError::Rejected {
        index: None,
        rejection: Rejection::Rule(RuleError::Conflict {
            field: "body".into(),
            message,
        }),
    }
}

/// Keep a statement, inside the writer's transaction; the response body of the upload.
pub(crate) fn insert(
    conn: &mut AnyConnection,
    s: &NewStatement,
    now_us: i64,
) -> Result<Value, WriteError> {
    if crate::registry::organization(conn, &s.organization)?.is_none() {
        return Err(WriteError::UnknownOrganization(s.organization.clone()));
    }
    let earlier: Option<i64> = bank_statements::table
        .filter(bank_statements::organization.eq(&s.organization))
        .filter(bank_statements::sha256.eq(&s.sha256))
        .select(bank_statements::seq)
        .first(conn)
        .optional()?;
    if let Some(n) = earlier {
        return Err(refused(format!(
            "this file was already uploaded as statement {n}; its lines are kept once"
        )));
    }
    let last: Option<i64> = bank_statements::table
        .filter(bank_statements::organization.eq(&s.organization))
        .select(diesel::dsl::max(bank_statements::seq))
        .first(conn)?;
    let seq = last.unwrap_or(0) + 1;
    diesel::insert_into(bank_statements::table)
        .values((
            bank_statements::organization.eq(&s.organization),
            bank_statements::seq.eq(seq),
            bank_statements::sha256.eq(&s.sha256),
            bank_statements::line_count.eq(s.lines.len() as i64),
            bank_statements::uploaded_by.eq(&s.uploaded_by),
            bank_statements::uploaded_at.eq(now_us),
        ))
        .execute(conn)
        .map_err(|e| WriteError::concurrent(e.into()))?;
    for chunk in s.lines.chunks(INSERT_CHUNK) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|l| {
                (
                    bank_lines::organization.eq(&s.organization),
                    bank_lines::statement.eq(seq),
                    bank_lines::row_no.eq(l.row),
                    bank_lines::booked_on.eq(l.booked_on.format("%Y-%m-%d").to_string()),
                    bank_lines::direction.eq(l.direction.as_str()),
                    bank_lines::currency.eq(l.money.currency().code()),
                    bank_lines::units.eq(l.money.units()),
                    bank_lines::reference.eq(&l.reference),
                    bank_lines::counterparty.eq(&l.counterparty),
                )
            })
            .collect();
        // Multi-row INSERT is backend-specific in diesel: run it on the concrete connection.
        match conn {
            AnyConnection::Sqlite(c) => diesel::insert_into(bank_lines::table)
                .values(rows)
                .execute(c)?,
            AnyConnection::Postgresql(c) => diesel::insert_into(bank_lines::table)
                .values(rows)
                .execute(c)?,
        };
    }
    Ok(json!({
        "organization": s.organization,
        "statement": seq,
        "lines": s.lines.len(),
        "sha256": s.sha256,
        "uploaded_by": s.uploaded_by,
        "uploaded_at": crate::rfc3339(crate::from_micros(now_us)),
    }))
}

fn line_from(row: BankLineRow) -> Result<BankLine, StoreError> {
    let (statement, row_no) = (row.statement, row.row_no);
    let corrupt =
        |what: &str| StoreError::Corrupt(format!("bank line {statement}/{row_no}: {what}"));
    Ok(BankLine {
        statement,
        line: StatementLine {
            row: row_no,
            booked_on: NaiveDate::parse_from_str(&row.booked_on, "%Y-%m-%d")
                .map_err(|_| corrupt("date"))?,
            direction: Direction::parse(&row.direction).ok_or_else(|| corrupt("direction"))?,
            money: Money::from_units(
                Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?,
                row.units,
            ),
            reference: row.reference,
            counterparty: row.counterparty,
        },
    })
}

/// Number of statements and every line of an organisation's statements, in upload order.
pub fn lines(conn: &mut AnyConnection, org: &str) -> Result<(usize, Vec<BankLine>), StoreError> {
    let statements: i64 = bank_statements::table
        .filter(bank_statements::organization.eq(org))
        .count()
        .get_result(conn)?;
    let rows: Vec<BankLineRow> = bank_lines::table
        .filter(bank_lines::organization.eq(org))
        .order((bank_lines::statement.asc(), bank_lines::row_no.asc()))
        .select(BankLineRow::as_select())
        .load(conn)?;
    let lines = rows.into_iter().map(line_from).collect::<Result<_, _>>()?;
    Ok((statements as usize, lines))
}
