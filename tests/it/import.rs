//! Bulk import of donations: `givetrail import` and `POST …/donations/import`, all rows or none
//! (or per `--chunk`), errors naming row and column, every row through the ledger's rules, and
//! the log still auditable afterwards. SQLite, or PostgreSQL with `GIVETRAIL_TEST_POSTGRES`.

use crate::common;

use common::*;
use serde_json::Value;

const HEADER: &str = "receipt_number,occurred_at,donor_name,donor_kind,anonymous,donor_public_name,donor_contact,channel,campaign,restriction,designated_region_code,designated_recipient,purpose,asset_kind,currency,amount,item,spec,unit,quantity";

/// A CSV of `n` donation rows (spreadsheet rows 2..=n+1), alternating money and goods, with
/// `bad` (row number, column, value) replacing one cell.
fn csv(prefix: &str, n: usize, bad: Option<(usize, &str, &str)>) -> String {
    let columns: Vec<&str> = HEADER.split(',').collect();
    let mut out = format!("{HEADER}\n");
    for i in 0..n {
        let row = i + 2;
        let receipt = format!("{prefix}-{row:05}");
        let mut cells: Vec<String> = if i % 2 == 0 {
            vec![
                &receipt,
                "2020-01-28T09:30:00+08:00",
                "张三",
                "individual",
                "false",
                "",
                "+86 139 0000 0000",
                "bank_transfer",
                "",
                "",
                "",
                "",
                "",
                "money",
                "CNY",
                "100.50",
                "",
                "",
                "",
                "",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect()
        } else {
            vec![
                &receipt,
                "2020-01-28T10:00:00Z",
                "Acme Medical, Ltd",
                "organization",
                "",
                "",
                "",
                "in_kind",
                "",
                "designated",
                "420100",
                "",
                "for Wuhan hospitals",
                "goods",
                "",
                "",
                "N95 respirator",
                "GB 19083-2010",
                "piece",
                "1200",
            ]
            .into_iter()
            .map(str::to_owned)
            .collect()
        };
        if let Some((bad_row, column, value)) = bad {
            if bad_row == row {
                let c = columns.iter().position(|c| *c == column).expect("column");
                cells[c] = value.to_owned();
            }
        }
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.contains(',') {
                    format!("\"{c}\"")
                } else {
                    c.clone()
                }
            })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

fn write_file(w: &World, name: &str, text: &str) -> String {
    let path = w.s.db.dir.join(name);
    std::fs::write(&path, text).expect("write csv");
    path.to_string_lossy().into_owned()
}

fn post_csv(w: &World, key: Option<&str>, content_type: &str, body: &str) -> (u16, Value) {
    let mut req = reqwest::blocking::Client::new()
        .post(w.s.url(&format!("/organizations/{ORG}/donations/import")))
        .header("Content-Type", content_type)
        .body(body.to_owned());
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().expect("POST import");
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn cli_import_is_all_or_nothing_and_names_row_and_column() {
    let w = world();
    let good = write_file(&w, "good.csv", &csv("CLI", 40, None));
    let (ok, out, err) = cli_import(&w, &good, &[]);
    assert!(ok, "import failed: {out}{err}");
    assert!(out.contains("imported 40 donation(s)"), "{out}");
    assert!(out.contains("1 commit(s)"), "{out}");
    let log = w.s.log(ORG);
    assert_eq!(log.len(), 40);
    assert_eq!(log[1]["body"]["asset"]["quantity"], "1200.000");
    assert!(
        !log[0].to_string().contains("+86 139"),
        "contact data stays private"
    );
    let (clean, report) = w.s.audit(&["--org", ORG]);
    assert!(clean, "audit after import: {report}");

    // A malformed cell in row 7: nothing written, row and column named.
    let bad = write_file(
        &w,
        "bad.csv",
        &csv("BAD", 20, Some((7, "quantity", "12.3456"))),
    );
    let (ok, out, err) = cli_import(&w, &bad, &[]);
    assert!(!ok, "a bad row must fail the import: {out}");
    assert!(err.contains("row 7: quantity"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(w.s.log(ORG).len(), 40);

    // A row the ledger refuses (a receipt number already used): named by row and column too.
    let dup = write_file(
        &w,
        "dup.csv",
        &csv("NEW", 20, Some((7, "receipt_number", "CLI-00002"))),
    );
    let (ok, _, err) = cli_import(&w, &dup, &[]);
    assert!(!ok);
    assert!(err.contains("row 7: receipt_number"), "{err}");
    assert_eq!(w.s.log(ORG).len(), 40);

    // A header with an unknown column.
    let header = write_file(&w, "header.csv", "receipt_number,donor\n");
    let (ok, _, err) = cli_import(&w, &header, &[]);
    assert!(!ok);
    assert!(err.contains("row 1: donor"), "{err}");

    // A header and no rows: refused, as over HTTP.
    let empty = write_file(&w, "empty.csv", &format!("{HEADER}\n"));
    let (ok, _, err) = cli_import(&w, &empty, &[]);
    assert!(!ok);
    assert!(
        err.contains("row 2: the file has a header but no donation rows"),
        "{err}"
    );
    assert_eq!(w.s.log(ORG).len(), 40);
}

#[test]
fn cli_import_with_chunks_keeps_the_chunks_before_a_bad_row() {
    let w = world();
    // Rows 2..=11; row 7 is bad. With --chunk 3, rows 2–4 commit, the chunk 5–7 fails.
    let bad = write_file(
        &w,
        "chunked.csv",
        &csv("CH", 10, Some((7, "donor_kind", "person"))),
    );
    let (ok, _, err) = cli_import(&w, &bad, &["--chunk", "3"]);
    assert!(!ok);
    assert!(err.contains("row 7: donor_kind"), "{err}");
    assert!(
        err.contains("3 row(s) of earlier chunks stay committed"),
        "{err}"
    );
    assert_eq!(w.s.log(ORG).len(), 3);

    // A good file in chunks of 4: 10 rows, 3 commits, each with its signed checkpoint.
    let good = write_file(&w, "good.csv", &csv("OK", 10, None));
    let (ok, out, err) = cli_import(&w, &good, &["--chunk", "4"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported 10 donation(s)"), "{out}");
    assert!(out.contains("3 commit(s)"), "{out}");
    assert_eq!(w.s.log(ORG).len(), 13);
    let latest = w.s.get(&format!("/organizations/{ORG}/checkpoints/latest"));
    assert_eq!(latest.body["tree_size"], 13, "{:?}", latest.body);
    let (clean, report) = w.s.audit(&["--org", ORG]);
    assert!(clean, "audit after chunked import: {report}");
}

#[test]
fn api_import_is_all_or_nothing_and_names_row_and_column() {
    let w = world();
    let (status, body) = post_csv(&w, Some(&w.charity), "text/csv", &csv("API", 50, None));
    assert_eq!(status, 201, "{body:?}");
    assert_eq!(body["imported"], 50);
    assert_eq!(body["first_seq"], 1);
    assert_eq!(body["last_seq"], 50);
    assert_eq!(w.s.log(ORG).len(), 50);
    let latest = w.s.get(&format!("/organizations/{ORG}/checkpoints/latest"));
    assert_eq!(latest.body["tree_size"], 50, "{:?}", latest.body);
    let (clean, report) = w.s.audit(&["--org", ORG]);
    assert!(clean, "audit after API import: {report}");

    // Malformed row 7: 400, nothing written, errors name row 7 and the column.
    let (status, body) = post_csv(
        &w,
        Some(&w.charity),
        "text/csv; charset=utf-8",
        &csv("APIBAD", 30, Some((7, "occurred_at", "yesterday"))),
    );
    assert_eq!(status, 400, "{body:?}");
    assert_eq!(problem_fields(&body), ["row 7: occurred_at"], "{body:?}");
    assert_eq!(w.s.log(ORG).len(), 50);

    // Refused by a rule in row 7 (unknown campaign): nothing written, named by row and column.
    let (status, body) = post_csv(
        &w,
        Some(&w.charity),
        "text/csv",
        &csv("APIRULE", 30, Some((7, "campaign", "no-such-campaign"))),
    );
    assert!(status == 404 || status == 422, "{status} {body:?}");
    assert_eq!(problem_fields(&body), ["row 7: campaign"], "{body:?}");
    assert!(
        body["detail"].as_str().unwrap_or("").contains("row 7"),
        "{body:?}"
    );
    assert_eq!(w.s.log(ORG).len(), 50);

    // Only the organisation's own charity key, only text/csv, and not an empty file.
    let (status, _) = post_csv(&w, Some(&w.other_charity), "text/csv", &csv("X", 2, None));
    assert_eq!(status, 403);
    let (status, _) = post_csv(&w, None, "text/csv", &csv("X", 2, None));
    assert_eq!(status, 401);
    let (status, _) = post_csv(&w, Some(&w.charity), "application/json", "{}");
    assert_eq!(status, 415);
    let (status, body) = post_csv(&w, Some(&w.charity), "text/csv", &format!("{HEADER}\n"));
    assert_eq!(status, 400, "{body:?}");
    assert_eq!(w.s.log(ORG).len(), 50);
}
