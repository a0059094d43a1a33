//! The public web pages in a real browser: the demo server, Debian's chromedriver and headless
//! Chromium (`.ci/run` installs them), driven over WebDriver with fantoccini. Every page visited
//! must leave no error in the browser's console, and a screenshot of it is written to
//! `target/screenshots/` for a person to look at.

use crate::common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use common::{repo_file, Server};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const UNION_HOSPITAL: &str = "华中科技大学同济医学院附属协和医院";
/// How long to wait for chromedriver and for a page to change.
const WAIT: Duration = Duration::from_secs(30);

/// A chromedriver process on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Driver {
    fn start() -> Driver {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "the browser tests need Debian's chromium and chromium-driver: \
             apt-get install -y chromium chromium-driver (as .ci/run does)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!(
            "givetrail-chromium-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < WAIT, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver {
            child,
            url,
            profile,
        }
    }

    fn capabilities(&self) -> serde_json::Map<String, Value> {
        let mut options = json!({"args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--window-size=1280,1000", "--lang=en-US",
            format!("--user-data-dir={}", self.profile.display()),
        ]});
        if std::path::Path::new(CHROMIUM).exists() {
            options["binary"] = json!(CHROMIUM);
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        caps.as_object().cloned().unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// chromedriver's browser log (`POST /session/{id}/se/log`), which fantoccini does not wrap.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// A browser session on the demo server.
struct Browser {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn open(driver: &Driver, base: &str) -> Browser {
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(driver.capabilities());
        let client = builder
            .connect(&driver.url)
            .await
            .expect("a WebDriver session");
        let shots = repo_file("target/screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Browser {
            client,
            base: base.to_owned(),
            shots,
        }
    }

    async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("navigate");
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("text")
    }

    async fn wait_for_path(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.expect("url");
            if url.path().starts_with(prefix) {
                return url.to_string();
            }
            assert!(
                started.elapsed() < WAIT,
                "still at {url}, expected {prefix}…"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Wait until the current URL (path and query) contains `part`: a form submitted to the page
    /// already shown is only loaded once its query appears.
    async fn wait_for_url_containing(&self, part: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.expect("url");
            if url.as_str().contains(part) && self.ready().await {
                return url.to_string();
            }
            assert!(
                started.elapsed() < WAIT,
                "still at {url}, expected …{part}…"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn ready(&self) -> bool {
        self.script::<String>("return document.readyState").await == "complete"
    }

    async fn script<T: serde::de::DeserializeOwned>(&self, js: &str) -> T {
        let v = self.client.execute(js, vec![]).await.expect("script");
        serde_json::from_value(v).expect("script result")
    }

    /// Save a screenshot of the whole page (the window is stretched to the page's height).
    async fn screenshot(&self, name: &str) {
        let (w, h): (u32, u32) = self
            .script(
                "return [window.innerWidth, Math.min(document.documentElement.scrollHeight, 6000)]",
            )
            .await;
        let (ow, oh) = self.client.get_window_size().await.expect("size");
        self.client
            .set_window_size(u32::try_from(ow).unwrap_or(w), h + 140)
            .await
            .expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
        self.client
            .set_window_size(
                u32::try_from(ow).unwrap_or(w),
                u32::try_from(oh).unwrap_or(h),
            )
            .await
            .expect("resize back");
    }

    /// Fail on any error in the browser's console since the last call.
    async fn assert_console_clean(&self, page: &str) {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log");
        let errors: Vec<&Value> = log
            .as_array()
            .map(|a| a.iter().filter(|e| e["level"] == "SEVERE").collect())
            .unwrap_or_default();
        assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn a_receipt_number_leads_from_the_home_page_to_the_receiving_hospital_in_both_languages() {
    let s = Server::demo();
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        for (lang, sent_to, arrived) in [
            ("zh", format!("拨付给 {UNION_HOSPITAL}"), "确认收到"),
            (
                "en",
                format!("Sent to {UNION_HOSPITAL}"),
                "confirmed it arrived",
            ),
        ] {
            b.goto(&format!("/?lang={lang}")).await;
            b.assert_console_clean("home").await;
            if lang == "en" {
                b.screenshot("home-en").await;
            }
            // Keyboard first: the first Tab lands on the skip link.
            b.find("body")
                .await
                .send_keys(&fantoccini::key::Key::Tab.to_string())
                .await
                .expect("tab");
            let focused: String = b
                .script("return document.activeElement.getAttribute('href')")
                .await;
            assert_eq!(focused, "#main", "the skip link comes first");
            b.find("#search-org")
                .await
                .select_by_value("hubei-red-cross")
                .await
                .expect("choose the organisation");
            b.find("#search-receipt")
                .await
                .send_keys("HBRC-2020-00017")
                .await
                .expect("type the receipt number");
            b.find("form[role=search] button[type=submit]")
                .await
                .click()
                .await
                .expect("search");
            let url = b
                .wait_for_path("/trail/hubei-red-cross/HBRC-2020-00017")
                .await;
            assert!(url.contains(&format!("lang={lang}")), "{url}");
            let lang_attr: String = b.script("return document.documentElement.lang").await;
            assert!(lang_attr.starts_with(lang), "{lang_attr}");
            let steps = b.text("ol.steps").await;
            assert!(steps.contains(&sent_to), "{lang}: {steps}");
            assert!(steps.contains(arrived), "{lang}: {steps}");
            assert!(
                b.text("ul.unaccounted").await.contains("1,000"),
                "the missing carton is highlighted"
            );
            b.assert_console_clean("trail").await;
            b.screenshot(&format!("trail-{lang}")).await;
        }
        // A receipt nobody issued: a 404 page that offers the search again.
        b.goto("/trail/hubei-red-cross/NO-SUCH-RECEIPT?lang=en")
            .await;
        assert!(b.text("main").await.contains("NO-SUCH-RECEIPT"));
        assert_eq!(b.count("#search-receipt").await, 1);
        b.close().await;
    });
}

#[test]
fn a_trail_shows_its_correction_notice_and_follows_money_into_the_goods_it_bought() {
    let s = Server::demo();
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        for (lang, notice, was, now) in [
            ("zh", "更正公告 #34", "36,000", "35,000"),
            ("en", "Correction notice #34", "36,000", "35,000"),
        ] {
            b.goto(&format!(
                "/trail/hubei-red-cross/HBRC-2020-00017?lang={lang}"
            ))
            .await;
            let notices = b.text("section.corrections").await;
            assert!(notices.contains(notice), "{lang}: {notices}");
            assert!(
                notices.contains(was) && notices.contains(now),
                "before and after are shown: {notices}"
            );
            let steps = b.text("ol.steps").await;
            assert!(
                steps.contains("#34"),
                "the replacement is the step shown: {steps}"
            );
            b.assert_console_clean("trail with a correction").await;
            b.screenshot(&format!("trail-correction-{lang}")).await;
        }
        for (lang, bought, price) in [
            ("zh", "向 仙桃市安康防护用品有限公司 采购", "单价"),
            ("en", "from 仙桃市安康防护用品有限公司", "Unit price"),
        ] {
            b.goto(&format!(
                "/trail/hubei-red-cross/HBRC-2020-00090?lang={lang}"
            ))
            .await;
            assert_eq!(b.count("li.step.bought").await, 1, "{lang}");
            let purchase = b.text("li.step.bought").await;
            assert!(purchase.contains(bought), "{lang}: {purchase}");
            assert!(
                purchase.contains(price) && purchase.contains("50.00"),
                "{purchase}"
            );
            let goods_steps = b.count("li.step.depth-1").await;
            assert!(
                goods_steps >= 3,
                "the suits' allocation, dispatch and arrival: {goods_steps}"
            );
            let steps = b.text("ol.steps").await;
            assert!(
                steps.contains("WCF-2020-01512"),
                "the transfer is followed: {steps}"
            );
            b.assert_console_clean("trail through a purchase").await;
            b.screenshot(&format!("trail-purchase-{lang}")).await;
        }
        b.close().await;
    });
}

#[test]
fn an_organisation_page_draws_its_flow_chart_and_the_site_fits_a_phone() {
    let s = Server::demo();
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        b.goto("/organizations/hubei-red-cross?lang=en").await;
        b.find("svg.flow-chart").await;
        assert!(b.count("svg.flow-chart").await >= 3, "one chart per asset");
        assert!(b.count("svg.flow-chart g.links path").await >= 5);
        let drawn: f64 = b
            .script("return document.querySelector('svg.flow-chart path').getBBox().width")
            .await;
        assert!(drawn > 100.0, "the bands are laid out: {drawn}");
        let chart = b.text("#flow-heading + p + figure").await;
        assert!(chart.contains("CN¥"), "{chart}");
        let verified = b.text("#verify-heading + p").await;
        assert!(verified.starts_with('✔'), "{verified}");
        b.assert_console_clean("organisation").await;
        b.screenshot("organization-en").await;

        b.goto("/organizations/wuhan-charity-federation?lang=zh")
            .await;
        b.find("svg.flow-chart").await;
        b.assert_console_clean("organisation zh").await;
        b.screenshot("organization-zh").await;

        b.goto("/recipients/wuhan-union-hospital?lang=zh").await;
        assert!(b.text("h1").await.contains(UNION_HOSPITAL));
        b.assert_console_clean("recipient").await;
        b.screenshot("recipient-zh").await;

        // A phone (390 px): nothing wider than the screen.
        b.client
            .set_window_size(390, 844)
            .await
            .expect("phone size");
        let width: i64 = b.script("return window.innerWidth").await;
        assert!(width <= 390, "the window is a phone's: {width}");
        for page in [
            "/?lang=zh",
            "/trail/hubei-red-cross/HBRC-2020-00017?lang=zh",
            "/trail/hubei-red-cross/HBRC-2020-00017?lang=en",
            "/organizations/hubei-red-cross?lang=zh",
            "/organizations/hubei-red-cross?lang=en",
            "/recipients/wuhan-union-hospital?lang=zh",
            "/regions/42?lang=zh",
            "/needs?lang=zh",
        ] {
            b.goto(page).await;
            let (scroll, inner): (i64, i64) = b
                .script("return [document.documentElement.scrollWidth, window.innerWidth]")
                .await;
            assert!(scroll <= inner, "{page} scrolls sideways on a phone: {scroll} > {inner}");
            b.assert_console_clean(page).await;
        }
        b.goto("/?lang=zh").await;
        assert!(
            b.text("ul.cards").await.contains("湖北省 (420000)"),
            "organisations' regions are named"
        );
        b.screenshot("home-phone-zh").await;

        // The trail names the designation's region and hospital, not their codes.
        b.goto("/trail/hubei-red-cross/HBRC-2020-00017?lang=zh")
            .await;
        let gift = b.text("#gift-heading + dl").await;
        assert!(gift.contains("仅限地区 武汉市 (420100)"), "{gift}");
        assert!(gift.contains(&format!("仅限 {UNION_HOSPITAL}")), "{gift}");
        assert!(!gift.contains("wuhan-union-hospital"), "{gift}");
        assert!(
            gift.contains("抗击新型冠状病毒感染的肺炎疫情募捐") && !gift.contains("hubei-covid-2020"),
            "the campaign by its title: {gift}"
        );
        b.screenshot("trail-phone-zh").await;
        b.goto("/trail/hubei-red-cross/HBRC-2020-00017?lang=en")
            .await;
        let gift = b.text("#gift-heading + dl").await;
        assert!(
            gift.contains("Only within 武汉市, Hubei Province (420100)"),
            "{gift}"
        );
        b.screenshot("trail-phone-en").await;

        // The organisation: every asset's totals fit on screen, stacked one card per asset,
        // and the flow diagram gives way to its table, in type as large as the page's.
        b.goto("/organizations/hubei-red-cross?lang=zh").await;
        assert!(b.text("main dl.facts").await.contains("湖北省 (420000)"));
        let cards: Vec<(f64, f64, String)> = b
            .script(
                "return [...document.querySelectorAll('ul.asset-totals table')].map(t => \
                 { const r = t.getBoundingClientRect(); return [r.left, r.right, t.caption.textContent]; })",
            )
            .await;
        assert!(cards.len() >= 3, "one card per asset: {cards:?}");
        assert!(
            cards.iter().all(|(l, r, _)| *l >= 0.0 && *r <= width as f64),
            "every asset's totals are on screen: {cards:?}"
        );
        assert!(
            cards.iter().any(|c| c.2.contains("N95医用防护口罩 (GB 19083-2010)")),
            "goods are named as the charity wrote them: {cards:?}"
        );
        let flow: (String, usize, f64) = b
            .script(
                "const svg = document.querySelector('svg.flow-chart'); \
                 const cells = [...document.querySelectorAll('.flow-narrow td')].filter(c => c.offsetParent !== null); \
                 return [getComputedStyle(svg).display, cells.length, \
                         Math.min(...cells.map(c => parseFloat(getComputedStyle(c).fontSize)))]",
            )
            .await;
        assert_eq!(flow.0, "none", "the diagram is not shrunk onto a phone");
        assert!(flow.1 >= 6, "its table is shown instead: {flow:?}");
        assert!(flow.2 >= 14.0, "in legible type: {flow:?}");
        b.screenshot("organization-phone-zh").await;
        b.goto("/organizations/hubei-red-cross?lang=en").await;
        b.screenshot("organization-phone-en").await;

        // On a wide screen the diagram is back and the stand-in table hidden.
        b.client
            .set_window_size(1280, 1000)
            .await
            .expect("desktop size");
        b.goto("/organizations/hubei-red-cross?lang=zh").await;
        let shown: (String, String) = b
            .script(
                "return [getComputedStyle(document.querySelector('svg.flow-chart')).display, \
                 getComputedStyle(document.querySelector('.flow-narrow')).display]",
            )
            .await;
        assert_eq!((shown.0.as_str(), shown.1.as_str()), ("block", "none"));
        b.close().await;
    });
}

#[test]
fn an_organisation_page_charts_its_stock_ageing_in_both_languages() {
    let s = Server::demo();
    // The page charts every asset the summary says is still held, unallocated or undisbursed.
    let summary = s.get("/organizations/hubei-red-cross/summary");
    assert_eq!(summary.status, 200, "{:?}", summary.body);
    let held: Vec<Value> = summary.body["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .filter(|a| {
            !a["ageing"]["unallocated"]["oldest_hours"].is_null()
                || !a["ageing"]["undisbursed"]["oldest_hours"].is_null()
        })
        .cloned()
        .collect();
    assert!(
        !held.is_empty(),
        "the demo's hubei-red-cross holds something"
    );
    // One coloured part per bucket holding anything, over both stages of every charted asset.
    let parts: usize = held
        .iter()
        .flat_map(|a| ["unallocated", "undisbursed"].map(|s| a["ageing"][s].clone()))
        .map(|stage| {
            ["under_24h", "1d_to_3d", "3d_to_7d", "7d_to_30d", "over_30d"]
                .iter()
                .filter(|b| {
                    stage[**b]
                        .as_str()
                        .is_some_and(|v| v.chars().any(|c| c.is_ascii_digit() && c != '0'))
                })
                .count()
        })
        .sum();
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        for (lang, heading, stages) in [
            ("en", "How long stock has waited", ["Not yet allocated", "Allocated, not yet sent"]),
            ("zh", "库存账龄", ["尚未分配", "已分配未拨付"]),
        ] {
            b.goto(&format!("/organizations/hubei-red-cross?lang={lang}"))
                .await;
            b.find("svg.ageing-chart").await;
            assert_eq!(b.text("#ageing-heading").await, heading);
            assert_eq!(
                b.count("svg.ageing-chart").await,
                held.len().min(6),
                "{lang}: one chart per asset held"
            );
            assert_eq!(b.count("svg.ageing-chart g.bar").await, 2 * held.len().min(6));
            assert_eq!(
                b.count("svg.ageing-chart g.bar rect").await,
                parts,
                "{lang}: a bar part per bucket holding anything"
            );
            let widths: Vec<f64> = b
                .script(
                    "return [...document.querySelectorAll('svg.ageing-chart g.bar rect')].map(r => r.getBBox().width)",
                )
                .await;
            assert!(
                widths.iter().all(|w| *w >= 2.0),
                "{lang}: every part is drawn: {widths:?}"
            );
            assert!(
                widths.iter().any(|w| *w > 50.0),
                "{lang}: the largest stock fills its bar: {widths:?}"
            );
            // The text fallback names both stages and the legend every bucket.
            let table: String = b
                .script("return document.querySelector('figure.ageing table').textContent")
                .await;
            for stage in stages {
                assert!(table.contains(stage), "{lang}: {stage} in {table}");
            }
            assert_eq!(b.count("svg.ageing-chart g.legend rect").await, 5 * held.len().min(6));
            b.assert_console_clean(&format!("organisation ageing {lang}"))
                .await;
            b.screenshot(&format!("organization-ageing-{lang}")).await;
        }
        b.close().await;
    });
}

#[test]
fn a_need_posted_by_a_hospital_appears_on_the_board() {
    let s = Server::demo();
    let posted = s.post(
        "/recipients/wuhan-union-hospital/needs",
        Some("demo-recipient-wuhan-union-hospital"),
        &json!({"item": "KN95口罩", "spec": "GB 2626-2006 KN95", "unit": "piece",
                "quantity": "12000", "urgency": "critical", "needed_by": "2020-03-01T00:00:00Z",
                "note": "Fever clinic"}),
    );
    assert_eq!(posted.status, 201, "{:?}", posted.body);
    let id = posted.body["id"].as_str().expect("id").to_owned();
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        b.goto("/?lang=en").await;
        b.find("a.button[href^='/needs']")
            .await
            .click()
            .await
            .expect("open the board");
        b.wait_for_path("/needs").await;
        let row = b.text(&format!("tr#{id}")).await;
        assert!(row.contains(UNION_HOSPITAL), "{row}");
        assert!(row.contains("KN95口罩"), "{row}");
        assert!(row.contains("12,000 pieces"), "{row}");
        assert!(row.contains("Critical"), "{row}");
        // The filters are a plain form.
        b.find("#f-region")
            .await
            .send_keys("33")
            .await
            .expect("type");
        b.find("form.filters button")
            .await
            .click()
            .await
            .expect("filter");
        b.wait_for_url_containing("region=33").await;
        assert_eq!(b.count(&format!("tr#{id}")).await, 0, "filtered out");
        b.goto("/needs?status=open&lang=zh").await;
        b.find(&format!("tr#{id}")).await;
        b.assert_console_clean("needs").await;
        b.screenshot("needs-zh").await;
        // The Red Cross's unallocated KN95 masks are matched to it.
        b.goto("/organizations/hubei-red-cross?lang=en").await;
        let matches = b.text("#matches-heading ~ div table").await;
        assert!(matches.contains(UNION_HOSPITAL), "{matches}");
        b.close().await;
    });
}

/// Rows of the inflows table the page should have: one per organisation, recipient and asset
/// of the JSON document.
fn inflow_rows(doc: &Value) -> usize {
    doc["organizations"]
        .as_array()
        .expect("organizations")
        .iter()
        .flat_map(|o| o["recipients"].as_array().cloned().unwrap_or_default())
        .map(|r| r["assets"].as_array().map(Vec::len).unwrap_or(0))
        .sum()
}

#[test]
fn a_region_page_shows_where_it_went_and_what_its_needs_lack_in_both_languages() {
    let s = Server::demo();
    let posted = s.post(
        "/recipients/wuhan-union-hospital/needs",
        Some("demo-recipient-wuhan-union-hospital"),
        &json!({"item": "medical goggles", "spec": "GB 14866-2006", "unit": "piece",
                "quantity": "700", "urgency": "critical", "note": "ICU"}),
    );
    assert_eq!(posted.status, 201, "{:?}", posted.body);
    let need = posted.body["id"].as_str().expect("id").to_owned();
    let hubei = s.get("/regions/42/inflows");
    assert_eq!(hubei.status, 200);
    let district = s.get("/regions/420103/inflows");
    assert!(inflow_rows(&district.body) > 0, "{:#}", district.body);
    assert!(inflow_rows(&hubei.body) > inflow_rows(&district.body));
    // A malformed code is a 400 page; a region without recipients an empty one.
    let bad = reqwest::blocking::get(format!("{}/regions/4x", s.base)).expect("GET");
    assert_eq!(bad.status().as_u16(), 400);
    let driver = Driver::start();
    runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        // From the recipient's page to its district's.
        b.goto("/recipients/wuhan-union-hospital?lang=en").await;
        b.find("a.region-link[href^='/regions/420103']")
            .await
            .click()
            .await
            .expect("follow the region link");
        b.wait_for_path("/regions/420103").await;
        assert!(b.text("h1").await.contains("420103"));
        b.find("#inflows").await;
        assert_eq!(
            b.count("#inflows tbody tr").await,
            inflow_rows(&district.body)
        );
        let table = b.text("#inflows").await;
        assert!(table.contains(UNION_HOSPITAL), "{table}");
        assert!(table.contains("湖北省红十字会"), "{table}");
        let needs = b.text(&format!("tr#{need}")).await;
        assert!(needs.contains("700 pieces"), "{needs}");
        b.assert_console_clean("region en").await;
        b.screenshot("region-en").await;

        // The province in Chinese, from the organisation's page.
        b.goto("/organizations/hubei-red-cross?lang=zh").await;
        b.find("a.region-link[href^='/regions/42?']")
            .await
            .click()
            .await
            .expect("follow the region link");
        b.wait_for_path("/regions/42").await;
        assert!(b.text("h1").await.contains("去向"));
        b.find("#inflows").await;
        assert_eq!(b.count("#inflows tbody tr").await, inflow_rows(&hubei.body));
        assert_eq!(
            b.count("#region-totals tbody tr").await,
            hubei.body["totals"].as_array().map(Vec::len).unwrap_or(0)
        );
        assert!(b.text("#rneeds-heading").await.contains("需求"));
        b.find(&format!("tr#{need}")).await;
        b.assert_console_clean("region zh").await;
        b.screenshot("region-zh").await;

        // Nobody registered there: an empty state, not an error.
        b.goto("/regions/65?lang=en").await;
        b.find("#no-inflows").await;
        b.find("#no-open-needs").await;
        b.assert_console_clean("empty region").await;
        b.close().await;
    });
}

#[test]
fn a_complaint_filed_with_the_form_has_a_status_page() {
    let s = Server::demo();
    let driver = Driver::start();
    let code = runtime().block_on(async {
        let b = Browser::open(&driver, &s.base).await;
        b.goto("/organizations/wuhan-charity-federation?lang=zh").await;
        b.find("a.button[href^='/complaints/new']")
            .await
            .click()
            .await
            .expect("open the form");
        b.wait_for_path("/complaints/new").await;
        let chosen: String = b.script("return document.getElementById('c-org').value").await;
        assert_eq!(chosen, "wuhan-charity-federation", "the organisation is preselected");
        // Every field has a label.
        let unlabelled: usize = b
            .script(
                "return [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea')]\
                 .filter(e => !document.querySelector(`label[for='${e.id}']`)).length",
            )
            .await;
        assert_eq!(unlabelled, 0);
        // Sending it empty is refused by the browser (required fields), so fill it in.
        b.find("#c-entry").await.send_keys("19").await.expect("entry");
        b.find("#c-cat-disclosure_error").await.click().await.expect("category");
        b.find("#c-description")
            .await
            .send_keys("第19条记录的拨付至今未见受赠方确认。")
            .await
            .expect("description");
        b.find("#c-contact")
            .await
            .send_keys("complainant-7781@example.cn")
            .await
            .expect("contact");
        b.screenshot("complaint-form-zh").await;
        b.find("main form button[type=submit]")
            .await
            .click()
            .await
            .expect("send");
        b.wait_for_path("/complaints/").await;
        let code = b.text("#tracking-code").await;
        assert_eq!(code.len(), 24, "{code}");
        let page = b.text("main").await;
        assert!(page.contains("已受理"), "{page}");
        assert!(page.contains("记录 #19"), "{page}");
        assert!(
            !page.contains("complainant-7781"),
            "the contact is never shown publicly"
        );
        b.assert_console_clean("complaint").await;
        b.screenshot("complaint-status-zh").await;
        // Its status page is a plain link anyone holding the code can open again.
        b.goto(&format!("/complaints/{code}?lang=en")).await;
        assert!(b.text("main").await.contains("Received"));
        b.screenshot("complaint-status-en").await;
        // The organisation page counts it.
        b.goto("/organizations/wuhan-charity-federation?lang=en").await;
        assert!(b.text("#complaints-heading + p").await.ends_with(": 1"));
        b.close().await;
        code
    });
    // The API serves the same complaint.
    let r = s.get(&format!("/complaints/{code}"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["organization"], "wuhan-charity-federation");
    assert_eq!(r.body["entry"], 19);
}
