//! QR codes on receipts: the server's `qr.svg` and the codes on the sheet `givetrail receipts`
//! prints are rasterised with `rsvg-convert` (Debian's librsvg2-bin) and decoded with `zbarimg`
//! (zbar-tools), two programs that share nothing with the code that drew them; the address
//! decoded is then opened over HTTP and must be the donation's trail page. Both tools are
//! required (`.ci/run` and `scripts/test` install them); without them these tests fail.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::json;

/// Rasterise an SVG file and decode the QR code in it.
fn decode(svg: &Path) -> String {
    let png = svg.with_extension("png");
    let out = Command::new("rsvg-convert")
        .args(["-w", "480", "-b", "white", "-o"])
        .arg(&png)
        .arg(svg)
        .output()
        .expect("rsvg-convert (Debian's librsvg2-bin) must be installed");
    assert!(
        out.status.success(),
        "rsvg-convert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&png)
        .output()
        .expect("zbarimg (Debian's zbar-tools) must be installed");
    assert!(
        out.status.success(),
        "zbarimg found no code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn get_text(url: &str) -> (u16, String) {
    let r = reqwest::blocking::get(url).expect("GET");
    let status = r.status().as_u16();
    (status, r.text().unwrap_or_default())
}

#[test]
fn the_code_opens_the_donations_trail_page() {
    let w = world();
    w.donate(
        "QR-2020-0001",
        "2020-02-01T10:00:00Z",
        money("500.00"),
        undesignated(),
    );
    let r = reqwest::blocking::get(w.s.url(&format!(
        "/organizations/{ORG}/donations/QR-2020-0001/qr.svg"
    )))
    .expect("GET qr.svg");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    // Without --public-url the address follows the request's Host.
    assert_eq!(r.headers()["vary"], "Host");
    let svg = w.s.db.dir.join("code.svg");
    std::fs::write(&svg, r.bytes().expect("svg")).expect("save");
    let url = decode(&svg);
    assert_eq!(url, format!("{}/trail/{ORG}/QR-2020-0001", w.s.base));

    // The address is the trail page, and the page shows the same code (same origin).
    let (status, html) = get_text(&url);
    assert_eq!(status, 200);
    assert!(html.contains("QR-2020-0001"), "{html}");
    assert!(
        html.contains(&format!(
            "<img src=\"/api/v1/organizations/{ORG}/donations/QR-2020-0001/qr.svg\""
        )),
        "the trail page shows its code"
    );

    // A Host that is not a plain host name is not believed.
    let r = reqwest::blocking::Client::new()
        .get(w.s.url(&format!(
            "/organizations/{ORG}/donations/QR-2020-0001/qr.svg"
        )))
        .header("Host", "evil.example/x?")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    std::fs::write(&svg, r.bytes().expect("svg")).expect("save");
    assert_eq!(decode(&svg), url, "the connection's own address is used");

    // No such receipt: 404.
    let r =
        w.s.get(&format!("/organizations/{ORG}/donations/NO-SUCH/qr.svg"));
    assert_eq!(r.status, 404, "{:?}", r.body);
}

#[test]
fn a_configured_public_url_is_what_codes_and_the_receipts_sheet_hold() {
    let db = TestDb::new();
    let s = Server::start_with(
        db,
        &["serve", "--public-url", "https://givetrail.example.org/"],
    );
    let r = s.post(
        "/organizations",
        Some(&s.regulator),
        &json!({"id": ORG, "name": "湖北省红十字会", "credit_code": credit_code(1), "kind": "red_cross", "region_code": "420000", "public_fundraising_qualified": true}),
    );
    assert_eq!(r.status, 201, "{:?}", r.body);
    let key = key_for(&s, ORG);
    for (receipt, at) in [
        ("RS-1", "2020-01-30T08:00:00Z"),
        ("RS-2", "2020-02-05T08:00:00Z"),
        ("RS-3", "2020-02-20T08:00:00Z"),
    ] {
        let r = s.post(
            &format!("/organizations/{ORG}/donations"),
            Some(&key),
            &donation(receipt, at, masks("100"), undesignated()),
        );
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    let r = reqwest::blocking::get(s.url(&format!("/organizations/{ORG}/donations/RS-2/qr.svg")))
        .expect("GET");
    assert!(r.headers().get("vary").is_none());
    let svg = s.db.dir.join("configured.svg");
    std::fs::write(&svg, r.bytes().expect("svg")).expect("save");
    assert_eq!(
        decode(&svg),
        format!("https://givetrail.example.org/trail/{ORG}/RS-2")
    );

    // The printable sheet of February's receipts: RS-2 and RS-3, each code decoding to its page.
    let sheet = s.db.dir.join("receipts.html");
    let (ok, out, err) = s.db.cli(&[
        "receipts",
        "--org",
        ORG,
        "--from",
        "2020-02-01T00:00:00Z",
        "--to",
        "2020-03-01T00:00:00Z",
        "--public-url",
        "https://givetrail.example.org",
        "--output",
        &sheet.to_string_lossy(),
    ]);
    assert!(ok, "{out}{err}");
    let html = std::fs::read_to_string(&sheet).expect("sheet");
    assert!(!html.contains("RS-1"), "outside the period");
    let mut decoded = Vec::new();
    for (i, part) in html.split("<svg").skip(1).enumerate() {
        let end = part.find("</svg>").expect("closed svg") + "</svg>".len();
        let file = s.db.dir.join(format!("sheet-{i}.svg"));
        std::fs::write(&file, format!("<svg{}", &part[..end])).expect("svg");
        decoded.push(decode(&file));
    }
    assert_eq!(
        decoded,
        [
            format!("https://givetrail.example.org/trail/{ORG}/RS-2"),
            format!("https://givetrail.example.org/trail/{ORG}/RS-3"),
        ]
    );
    // The page each code names is served (here at the test server's address).
    let (status, page) = get_text(&format!("{}/trail/{ORG}/RS-3", s.base));
    assert_eq!(status, 200);
    assert!(page.contains("RS-3"));

    // Without a public URL the sheet is refused: a printed code cannot follow a Host header.
    let (ok, _, err) = s.db.cli(&["receipts", "--org", ORG]);
    assert!(!ok);
    assert!(err.contains("--public-url"), "{err}");
}
