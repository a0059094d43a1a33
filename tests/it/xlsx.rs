//! Excel in and out, checked with a real spreadsheet library rather than our own writer: workbooks
//! written by Python's openpyxl import through `POST …/donations/import` and `givetrail import`
//! (all rows or none, `--chunk`, errors naming the sheet's own `row N: column`), and the
//! workbooks the server writes for feeds, summaries and the reconciliation report are read back
//! with openpyxl and compared with the JSON the same server serves: numbers as numbers, times as
//! dates, a frozen header row. openpyxl is required (`.ci/run` and `scripts/test` install it);
//! without it these tests fail. SQLite, or PostgreSQL with `GIVETRAIL_TEST_POSTGRES`.

use crate::common;

use std::process::{Command, Stdio};

use common::*;
use serde_json::{json, Value};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Writes a workbook from a JSON description: `{"path", "rows": [[cell...]...], "first_row"}`;
/// a cell is a JSON string, number, boolean or null, or `{"date": "YYYY-MM-DDTHH:MM:SS"}` (a
/// date cell). Integers stay integers; numbers with a fraction are Python floats, as a person's
/// typed `100.50` is a double in Excel.
const WRITE: &str = r#"
import json, sys, datetime
import openpyxl
spec = json.load(sys.stdin)
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "捐赠"
for i, row in enumerate(spec["rows"]):
    for j, v in enumerate(row):
        if isinstance(v, dict):
            v = datetime.datetime.fromisoformat(v["date"])
        if v is not None:
            ws.cell(row=spec["first_row"] + i, column=j + 1, value=v)
wb.save(spec["path"])
"#;

/// Reads a workbook: every sheet's title, frozen panes and cells with their types.
const READ: &str = r#"
import json, sys, datetime
import openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = []
for ws in wb.worksheets:
    rows = []
    for row in ws.iter_rows():
        cells = []
        for c in row:
            v = c.value
            if isinstance(v, bool):
                cells.append({"t": "bool", "v": v})
            elif isinstance(v, (int, float)):
                cells.append({"t": "number", "v": v, "format": c.number_format})
            elif isinstance(v, datetime.datetime):
                cells.append({"t": "date", "v": v.isoformat()})
            elif v is None:
                cells.append({"t": "empty"})
            else:
                cells.append({"t": "text", "v": str(v)})
        rows.append(cells)
    out.append({"title": ws.title, "freeze_panes": ws.freeze_panes, "rows": rows})
print(json.dumps(out))
"#;

fn python(script: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed (with openpyxl: pip install openpyxl)");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "python3 with openpyxl failed (pip install openpyxl): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The donations file's columns, in their documented order.
const HEADER: [&str; 20] = givetrail_domain::import::COLUMNS;

/// A donation row as a spreadsheet holds it: numbers as number cells.
fn money_row(receipt: &str, amount: Value) -> Value {
    json!([
        receipt,
        "2020-01-28T09:30:00+08:00",
        "张三",
        "individual",
        true,
        null,
        "+86 139 0000 0000",
        "bank_transfer",
        null,
        null,
        420100,
        null,
        null,
        "money",
        "CNY",
        amount,
        null,
        null,
        null,
        null
    ])
}

fn goods_row(receipt: &str, quantity: Value) -> Value {
    json!([
        receipt,
        "2020-01-28T10:00:00Z",
        "Acme Medical, Ltd",
        "organization",
        false,
        null,
        null,
        "in_kind",
        null,
        "designated",
        "420100",
        null,
        "for Wuhan hospitals",
        "goods",
        null,
        null,
        "N95 respirator",
        "GB 19083-2010",
        "piece",
        quantity
    ])
}

/// Write a workbook with openpyxl; `rows` start at sheet row `first_row` (the header).
fn workbook(w: &World, name: &str, first_row: u32, rows: Vec<Value>) -> String {
    let path = w.s.db.dir.join(name).to_string_lossy().into_owned();
    let mut all = vec![json!(HEADER)];
    all.extend(rows);
    python(
        WRITE,
        &[],
        &json!({"path": path, "first_row": first_row, "rows": all}).to_string(),
    );
    path
}

fn post_workbook(w: &World, content_type: &str, path: &str) -> Reply {
    let r = reqwest::blocking::Client::new()
        .post(w.s.url(&format!("/organizations/{ORG}/donations/import")))
        .bearer_auth(&w.charity)
        .header("Content-Type", content_type)
        .body(std::fs::read(path).expect("workbook"))
        .send()
        .expect("POST import");
    Server::reply(r)
}

#[test]
fn openpyxl_workbooks_import_over_http_and_the_cli() {
    let w = world();
    // Rows 2..=6 of the sheet, a blank row 4 skipped; a typed 100.50 is the double 100.5.
    let path = workbook(
        &w,
        "donations.xlsx",
        1,
        vec![
            money_row("XL-1", json!(100.5)),
            goods_row("XL-2", json!(1200)),
            json!([]),
            money_row("XL-3", json!(12345.67)),
            money_row("XL-4", json!("8.00")),
        ],
    );
    let r = post_workbook(&w, XLSX, &path);
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["imported"], 4, "{:?}", r.body);
    let log = w.s.log(ORG);
    let amounts: Vec<&Value> = log.iter().map(|e| &e["body"]["asset"]).collect();
    assert_eq!(amounts[0]["amount"], "100.50");
    assert_eq!(amounts[1]["quantity"], "1200.000");
    assert_eq!(amounts[2]["amount"], "12345.67");
    assert_eq!(amounts[3]["amount"], "8.00");
    assert_eq!(log[0]["body"]["restriction"]["region_code"], "420100");
    assert_eq!(log[0]["body"]["donor"]["anonymous"], true);
    assert_eq!(log[1]["body"]["receipt_number"], "XL-2");

    // The CLI, in chunks of 2: 5 rows, 3 commits.
    let rows: Vec<Value> = (1..=5)
        .map(|i| money_row(&format!("CLI-{i}"), json!(i as f64 + 0.25)))
        .collect();
    let path = workbook(&w, "cli.xlsx", 1, rows);
    let (ok, out, err) = cli_import(&w, &path, &["--chunk", "2"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("imported 5 donation(s)"), "{out}");
    assert!(out.contains("3 commit(s)"), "{out}");
    let log = w.s.log(ORG);
    assert_eq!(log.len(), 9);
    assert_eq!(log[8]["body"]["asset"]["amount"], "5.25");
    let (clean, report) = w.s.audit(&["--org", ORG]);
    assert!(clean, "audit after the workbook imports: {report}");
}

#[test]
fn bad_workbooks_name_the_sheets_own_row_and_column() {
    let w = world();
    // The header on sheet row 3 (rows 1–2 empty): donations on rows 4.., the bad amount
    // (three decimals for CNY) on row 7.
    let mut rows: Vec<Value> = (0..6)
        .map(|i| money_row(&format!("BAD-{i}"), json!(10)))
        .collect();
    rows[3] = money_row("BAD-3", json!(1.001));
    let path = workbook(&w, "bad.xlsx", 3, rows.clone());
    let r = post_workbook(&w, XLSX, &path);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(problem_fields(&r.body), ["row 7: amount"], "{:?}", r.body);
    assert_eq!(w.entry_count(), 0, "nothing is written");
    let (ok, out, err) = cli_import(&w, &path, &[]);
    assert!(!ok, "{out}");
    assert!(err.contains("row 7: amount"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");

    // A date cell has no time zone: refused, naming its row and column (the first bad row stops
    // the import, as in a CSV).
    rows[3] = money_row("BAD-3", json!(10));
    rows[1][1] = json!({"date": "2020-01-28T09:30:00"});
    let path = workbook(&w, "dates.xlsx", 3, rows.clone());
    let r = post_workbook(&w, XLSX, &path);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(
        problem_fields(&r.body),
        ["row 5: occurred_at"],
        "{:?}",
        r.body
    );
    assert!(r.body.to_string().contains("time zone"), "{:?}", r.body);
    // A number of more than 15 significant digits may not be what was typed: refused.
    rows[1] = money_row("BAD-1", json!(10));
    rows[4][15] = json!(1234567890.123456);
    let path = workbook(&w, "digits.xlsx", 3, rows);
    let r = post_workbook(&w, XLSX, &path);
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(problem_fields(&r.body), ["row 8: amount"], "{:?}", r.body);
    assert!(
        r.body.to_string().contains("15 significant digits"),
        "{:?}",
        r.body
    );
    assert_eq!(w.entry_count(), 0);

    // A CSV sent as a workbook is no workbook; a workbook needs its media type (or text/csv).
    let csv = w.s.db.dir.join("x.csv");
    std::fs::write(&csv, HEADER.join(",")).expect("csv");
    let r = post_workbook(&w, XLSX, &csv.to_string_lossy());
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(problem_fields(&r.body), ["file"], "{:?}", r.body);
    let r = post_workbook(&w, "application/octet-stream", &path);
    assert_eq!(r.status, 415, "{:?}", r.body);
    assert!(r.body["detail"].as_str().unwrap_or("").contains(XLSX));
}

/// GET a workbook (by `?format=xlsx`, or by `Accept` when `accept`) and read it with openpyxl.
fn download(w: &World, path: &str, key: Option<&str>, accept: bool) -> Value {
    let url = if accept {
        w.s.url(path)
    } else {
        let sep = if path.contains('?') { '&' } else { '?' };
        w.s.url(&format!("{path}{sep}format=xlsx"))
    };
    let mut req = reqwest::blocking::Client::new().get(url);
    if accept {
        req = req.header("Accept", XLSX);
    }
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let r = req.send().expect("GET");
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(
        r.headers()["content-type"].to_str().expect("type"),
        XLSX,
        "{path}"
    );
    let bytes = r.bytes().expect("body");
    let file =
        w.s.db
            .dir
            .join(format!("download-{}.xlsx", rand::random::<u32>()));
    std::fs::write(&file, &bytes).expect("save");
    let out = python(READ, &[&file.to_string_lossy()], "");
    let sheets: Value = serde_json::from_str(&out).expect("openpyxl's JSON");
    let sheet = sheets[0].clone();
    assert_eq!(
        sheet["freeze_panes"], "A2",
        "{path}: the header row is frozen"
    );
    sheet
}

/// The header of a downloaded sheet, and its rows as column → cell maps.
fn rows_of(sheet: &Value) -> (Vec<String>, Vec<serde_json::Map<String, Value>>) {
    let rows = sheet["rows"].as_array().expect("rows");
    let header: Vec<String> = rows[0]
        .as_array()
        .expect("header")
        .iter()
        .map(|c| c["v"].as_str().expect("header text").to_owned())
        .collect();
    let body = rows[1..]
        .iter()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.as_array().expect("row").iter().cloned())
                .collect()
        })
        .collect();
    (header, body)
}

fn number(cell: &Value) -> f64 {
    assert_eq!(cell["t"], "number", "a number cell: {cell}");
    cell["v"].as_f64().expect("number")
}

fn decimal(s: &Value) -> f64 {
    s.as_str()
        .expect("decimal string")
        .parse()
        .expect("decimal")
}

/// openpyxl's datetime (naive, UTC, to the millisecond Excel keeps) against an RFC 3339 UTC time
/// of the JSON.
fn same_time(cell: &Value, rfc3339: &Value) {
    assert_eq!(cell["t"], "date", "a date cell: {cell}");
    let sheet = chrono::NaiveDateTime::parse_from_str(
        cell["v"].as_str().expect("time"),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .or_else(|_| {
        chrono::NaiveDateTime::parse_from_str(
            cell["v"].as_str().expect("time"),
            "%Y-%m-%dT%H:%M:%S",
        )
    })
    .expect("openpyxl's time");
    let json = chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("time"))
        .expect("RFC 3339")
        .naive_utc();
    let off = (sheet - json).num_microseconds().expect("close").abs();
    assert!(off <= 500, "{cell} vs {rfc3339}");
}

#[test]
fn feeds_summaries_and_the_report_download_as_workbooks() {
    let w = world();
    let cash = w.donate(
        "WB-1",
        "2020-02-01T10:00:00Z",
        money("1234.56"),
        undesignated(),
    );
    w.donate(
        "WB-2",
        "2020-02-02T11:30:15Z",
        masks("3600"),
        json!({"kind": "designated", "region_code": "420100"}),
    );
    let a = w.allocate(json!({"donation": cash, "recipient": "wuhan-union-hospital",
        "asset": money("1000.00"), "occurred_at": "2020-02-03T09:00:00Z", "purpose": "=cmd|' /C calc'!A0"}));
    assert_eq!(a.status, 201, "{:?}", a.body);

    // The donations feed: same rows, numbers, dates and booleans as the JSON feed.
    let feed = w.s.get(&format!("/organizations/{ORG}/donations"));
    let json_rows = feed.body["donations"]
        .as_array()
        .expect("donations")
        .clone();
    for accept in [false, true] {
        let sheet = download(&w, &format!("/organizations/{ORG}/donations"), None, accept);
        assert_eq!(sheet["title"], "donations");
        let (header, rows) = rows_of(&sheet);
        let csv =
            w.s.get(&format!("/organizations/{ORG}/donations?format=csv"));
        let csv_header = csv
            .body
            .as_str()
            .expect("csv")
            .lines()
            .next()
            .expect("line");
        assert_eq!(header.join(","), csv_header.trim_start_matches('\u{feff}'));
        assert_eq!(rows.len(), json_rows.len());
        for (row, entry) in rows.iter().zip(&json_rows) {
            assert_eq!(number(&row["seq"]), entry["seq"].as_f64().expect("seq"));
            same_time(&row["occurred_at"], &entry["occurred_at"]);
            same_time(&row["recorded_at"], &entry["recorded_at"]);
            assert_eq!(row["anonymous"]["t"], "bool");
            assert_eq!(row["receipt_number"]["v"], entry["body"]["receipt_number"]);
            let asset = &entry["body"]["asset"];
            match asset["kind"].as_str() {
                Some("money") => {
                    assert_eq!(number(&row["amount"]), decimal(&asset["amount"]));
                    assert_eq!(row["amount"]["format"], "0.00");
                }
                _ => {
                    assert_eq!(number(&row["quantity"]), decimal(&asset["quantity"]));
                    assert_eq!(row["quantity"]["format"], "0.000");
                    assert_eq!(row["item"]["v"], "N95 respirator");
                }
            }
        }
    }

    // Allocations: typed text stays text (a formula is never a formula in a workbook).
    let sheet = download(
        &w,
        &format!("/organizations/{ORG}/allocations"),
        None,
        false,
    );
    let (_, rows) = rows_of(&sheet);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["purpose"]["t"], "text");
    assert_eq!(rows[0]["purpose"]["v"], "=cmd|' /C calc'!A0");
    assert_eq!(rows[0]["pool"]["v"], false);
    assert_eq!(number(&rows[0]["amount"]), 1000.0);
    assert_eq!(number(&rows[0]["donation"]), cash as f64);

    // The summary: one row per asset, matching the JSON summary.
    let summary = w.s.get(&format!("/organizations/{ORG}/summary"));
    let (_, rows) = rows_of(&download(
        &w,
        &format!("/organizations/{ORG}/summary"),
        None,
        false,
    ));
    let assets = summary.body["assets"].as_array().expect("assets");
    assert_eq!(rows.len(), assets.len());
    for (row, a) in rows.iter().zip(assets) {
        for column in ["received", "allocated", "unallocated", "disbursed"] {
            assert_eq!(number(&row[column]), decimal(&a[column]), "{column}");
        }
        assert_eq!(
            number(&row["undesignated_received"]),
            decimal(&a["undesignated"]["received"])
        );
    }

    // The reconciliation report (the charity's own): totals rows, then findings.
    let report =
        w.s.get_keyed(&format!("/organizations/{ORG}/reconciliation"), &w.charity);
    assert_eq!(report.status, 200, "{:?}", report.body);
    let sheet = download(
        &w,
        &format!("/organizations/{ORG}/reconciliation"),
        Some(&w.charity),
        true,
    );
    let (header, rows) = rows_of(&sheet);
    assert_eq!(header[0], "section");
    let totals: Vec<_> = rows
        .iter()
        .filter(|r| r["kind"]["v"] == "asset_totals")
        .collect();
    let json_totals = report.body["totals"].as_array().expect("totals");
    assert_eq!(totals.len(), json_totals.len());
    for (row, t) in totals.iter().zip(json_totals) {
        assert_eq!(number(&row["received"]), decimal(&t["received"]));
        assert_eq!(number(&row["allocated"]), decimal(&t["allocated"]));
    }
    let findings = report.body["findings"].as_array().expect("findings").len();
    assert_eq!(rows.len(), json_totals.len() + findings);

    // An unknown format is refused, naming the parameter.
    let r =
        w.s.get(&format!("/organizations/{ORG}/donations?format=xls"));
    assert_eq!(r.status, 400);
    assert_eq!(problem_fields(&r.body), ["format"]);
}
