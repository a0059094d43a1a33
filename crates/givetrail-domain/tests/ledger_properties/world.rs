//! The world the histories run in: its organisation, recipients, regions and assets, builders
//! for each kind of command, and [`World`], the harness that executes commands and keeps a model.

use super::*;

// The world

pub(crate) const ORG: &str = "hubei-red-cross";
/// Registered recipients: slug and region.
pub(crate) const RECIPIENTS: [(&str, &str); 4] = [
    ("wuhan-union", "420103"),
    ("wuhan-jinyintan", "420106"),
    ("huanggang-central", "421100"),
    ("hangzhou-first", "330100"),
];
/// A well-formed slug that is not registered.
pub(crate) const GHOST: &str = "ghost-clinic";
/// Regions a donor may designate (the last has no registered recipient).
pub(crate) const REGIONS: [&str; 5] = ["420000", "420100", "420103", "330000", "110000"];
pub(crate) const CAMPAIGNS: [&str; 2] = ["wuhan-2020", "hubei-2020"];
pub(crate) const CONSENT: &str = "CONSENT-2020-017";

pub(crate) type Refusal = Rejection<Infallible>;

pub(crate) fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

pub(crate) fn region(s: &str) -> RegionCode {
    RegionCode::parse(s).unwrap()
}

/// Recipient 0–3 is registered; anything else is the unregistered [`GHOST`].
pub(crate) fn recipient_slug(i: u8) -> Slug {
    match RECIPIENTS.get(usize::from(i)) {
        Some((id, _)) => slug(id),
        None => slug(GHOST),
    }
}

pub(crate) fn cny() -> AssetKey {
    AssetKey::Money(Currency::parse("CNY").unwrap())
}

pub(crate) fn usd() -> AssetKey {
    AssetKey::Money(Currency::parse("USD").unwrap())
}

pub(crate) fn masks() -> AssetKey {
    AssetKey::Goods(Box::new(GoodsKind {
        item: "N95 respirator".into(),
        spec: "GB 19083-2010".into(),
        unit: "piece".into(),
    }))
}

pub(crate) fn suits() -> AssetKey {
    AssetKey::Goods(Box::new(GoodsKind {
        item: "Protective suit".into(),
        spec: "GB 19082-2009".into(),
        unit: "set".into(),
    }))
}

pub(crate) fn asset_key(i: u8) -> AssetKey {
    match i % 4 {
        0 => cny(),
        1 => usd(),
        2 => masks(),
        _ => suits(),
    }
}

/// The same goods spelt another way: `spell` 0 leaves it, 1–4 change only spaces and the case of
/// the unit (the same goods), 5 changes the case of the item (other goods). Money is left alone.
pub(crate) fn respell(w: &AssetWire, spell: u8) -> AssetWire {
    let mut w = w.clone();
    if let AssetWire::Goods {
        item, spec, unit, ..
    } = &mut w
    {
        match spell % 6 {
            0 => {}
            1 => *unit = unit.to_uppercase(),
            2 => *unit = format!("  {} ", capitalise(unit)),
            3 => *item = format!(" {}  ", item.replace(' ', "   ")),
            4 => {
                *spec = format!("{}  ", spec.replace(' ', "\t "));
                *unit = unit.to_uppercase();
            }
            _ => *item = item.to_lowercase(),
        }
    }
    w
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The oracle's balance key: money by currency, goods by item, spec and unit with whitespace
/// trimmed and collapsed and the unit in lower case (written from the contract, §9.4).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum OKey {
    Money(String),
    Goods(String, String, String),
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn goods_okey(item: &str, spec: &str, unit: &str) -> OKey {
    OKey::Goods(
        collapse(item),
        collapse(spec),
        collapse(unit).to_lowercase(),
    )
}

/// The oracle's key of a wire asset, from the fields as sent.
pub(crate) fn okey_wire(w: &AssetWire) -> OKey {
    match w {
        AssetWire::Money { currency, .. } => OKey::Money(currency.clone()),
        AssetWire::Goods {
            item, spec, unit, ..
        } => goods_okey(item, spec, unit),
    }
}

/// The oracle's key of a balance key the books hold.
pub(crate) fn okey(k: &AssetKey) -> OKey {
    match k {
        AssetKey::Money(c) => OKey::Money(c.code().to_owned()),
        AssetKey::Goods(g) => goods_okey(&g.item, &g.spec, &g.unit),
    }
}

/// The wire form of `units` of `key` (zero or negative units give an invalid amount on purpose).
pub(crate) fn wire(key: &AssetKey, units: i64) -> AssetWire {
    AssetWire::from(&key.asset(units))
}

/// Key and units of a wire asset that may state zero (an acknowledgement), if it is valid.
pub(crate) fn parsed_or_zero(w: &AssetWire) -> Option<(AssetKey, i64)> {
    w.parse_or_zero().ok().map(|a| (a.key(), a.units()))
}

/// Key and units of a wire asset, if it is valid.
pub(crate) fn parsed(w: &AssetWire) -> Option<(AssetKey, i64)> {
    w.parse().ok().map(|a| (a.key(), a.units()))
}

pub(crate) fn at(day: i64, hour: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap() + Duration::days(day) + Duration::hours(hour)
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 3, 1, 0, 0, 0).unwrap()
}

pub(crate) fn fresh_books() -> MemoryBooks {
    let mut books = MemoryBooks::default();
    for (id, code) in RECIPIENTS {
        books.recipients.insert(
            slug(id),
            RecipientInfo {
                id: slug(id),
                region_code: region(code),
                organization: None,
            },
        );
    }
    books
}

pub(crate) fn charity() -> Author {
    Author {
        role: Role::Charity,
        subject: ORG.into(),
    }
}

pub(crate) fn recipient(id: &str) -> Author {
    Author {
        role: Role::Recipient,
        subject: id.into(),
    }
}

/// Whether `region` lies inside the designated division (`420000` covers every `42xxxx`).
/// Written from the contract, independently of `RegionCode::contains`.
pub(crate) fn within(designated: &RegionCode, region: &RegionCode) -> bool {
    let mut prefix = designated.as_str();
    while prefix.len() > 2 && prefix.ends_with("00") {
        prefix = &prefix[..prefix.len() - 2];
    }
    region.as_str().starts_with(prefix)
}

/// Live undesignated lots of `key` with something left, oldest first.
pub(crate) fn pool_queue<'a>(books: &'a MemoryBooks, key: &AssetKey) -> Vec<&'a Lot> {
    let mut lots: Vec<&Lot> = books
        .lots
        .values()
        .map(AsRef::as_ref)
        .filter(|l| l.live && l.designation.is_none() && &l.asset == key && l.remaining() > 0)
        .collect();
    lots.sort_by_key(|l| (l.occurred_at, l.seq));
    lots
}

pub(crate) fn pool_total(books: &MemoryBooks, key: &AssetKey) -> i64 {
    pool_queue(books, key).iter().map(|l| l.remaining()).sum()
}

/// The fact that lives at an entry's seq: the replacement of a correction, or the fact itself.
pub(crate) fn living(fact: &Fact) -> Option<&Fact> {
    match fact {
        Fact::Correction(c) => c.replacement.as_deref(),
        other => Some(other),
    }
}

// ---------------------------------------------------------------------------------------------
// Command builders

pub(crate) fn donation(
    receipt: &str,
    key: &AssetKey,
    units: i64,
    restriction: RestrictionWire,
    when: DateTime<Utc>,
) -> Command {
    Command::Donation(DonationRequest {
        receipt_number: receipt.into(),
        occurred_at: when,
        donor: DonorRequest {
            name: "Wang Fang".into(),
            kind: DonorKind::Individual,
            anonymous: false,
            public_name: None,
            contact: Some("138-0000-0000".into()),
            related_recipients: vec![],
        },
        campaign: None,
        channel: if key.is_money() {
            DonationChannel::BankTransfer
        } else {
            DonationChannel::InKind
        },
        restriction,
        asset: wire(key, units),
        source_disbursement: None,
        designation_change: None,
    })
}

pub(crate) fn designated(region_code: Option<&str>, to: Option<&str>) -> RestrictionWire {
    RestrictionWire::Designated {
        region_code: region_code.map(region),
        recipient: to.map(slug),
        purpose: Some("front-line protection".into()),
        costs_allowed: false,
    }
}

/// A designation whose donor allows the charity's own costs to be charged to it.
pub(crate) fn with_costs_allowed(mut r: RestrictionWire) -> RestrictionWire {
    if let RestrictionWire::Designated { costs_allowed, .. } = &mut r {
        *costs_allowed = true;
    }
    r
}

pub(crate) fn allocation(
    donation: Option<Seq>,
    to: &str,
    key: &AssetKey,
    units: i64,
    when: DateTime<Utc>,
) -> AllocationRequest {
    AllocationRequest {
        donation,
        pool: donation.is_none(),
        recipient: slug(to),
        purpose: "front-line protection".into(),
        asset: wire(key, units),
        need: None,
        designation_change: None,
        occurred_at: when,
    }
}

pub(crate) fn consent() -> DesignationChange {
    DesignationChange {
        reason: "the designated hospital is fully supplied".into(),
        donor_consent_reference: CONSENT.into(),
    }
}

pub(crate) fn disbursement(
    allocation: Seq,
    key: &AssetKey,
    units: i64,
    when: DateTime<Utc>,
) -> Command {
    Command::Disbursement(DisbursementRequest {
        allocation,
        asset: wire(key, units),
        channel: DisbursementChannel::Logistics,
        reference: format!("SF{allocation:08}"),
        occurred_at: when,
    })
}

pub(crate) fn acknowledgement(
    disbursement: Seq,
    key: &AssetKey,
    units: i64,
    when: DateTime<Utc>,
) -> Command {
    Command::Acknowledgement(AcknowledgementRequest {
        disbursement: EntryRef {
            organization: slug(ORG),
            seq: disbursement,
        },
        asset: wire(key, units),
        received_at: when,
        note: "some boxes damaged in transit".into(),
        occurred_at: when,
    })
}

pub(crate) fn usage(
    disbursement: Seq,
    key: &AssetKey,
    units: i64,
    evidence: Option<String>,
    when: DateTime<Utc>,
) -> Command {
    Command::Usage(UsageRequest {
        disbursement: EntryRef {
            organization: slug(ORG),
            seq: disbursement,
        },
        asset: wire(key, units),
        description: "handed out to ward staff".into(),
        evidence_sha256: evidence,
        occurred_at: when,
    })
}

pub(crate) fn expense(
    donation: Option<Seq>,
    key: &AssetKey,
    units: i64,
    when: DateTime<Utc>,
) -> Command {
    Command::Expense(ExpenseRequest {
        donation,
        pool: donation.is_none(),
        asset: wire(key, units),
        description: "warehouse and trucking".into(),
        designation_change: None,
        occurred_at: when,
    })
}

/// Goods bought with money from a donation (or, with `donation` None, from the pool).
pub(crate) fn procurement(
    donation: Option<Seq>,
    paid: AssetWire,
    goods: AssetWire,
    when: DateTime<Utc>,
) -> Command {
    Command::Procurement(ProcurementRequest {
        donation,
        pool: donation.is_none(),
        paid,
        supplier: Supplier {
            name: "Wuhan Medical Supplies Co.".into(),
            credit_code: None,
        },
        invoice_reference: "FP-2020-0042".into(),
        goods,
        occurred_at: when,
    })
}

pub(crate) fn campaign(id: &str, public: bool, record: bool, when: DateTime<Utc>) -> Command {
    Command::Campaign(CampaignRequest {
        id: slug(id),
        title: "Novel coronavirus appeal".into(),
        purpose: "protective equipment".into(),
        region_code: region("420000"),
        public_fundraising: public,
        record_number: record.then(|| "53420000MJ0000001-2020-01".into()),
        emergency: true,
        starts_at: at(0, 0),
        ends_at: None,
        targets: vec![],
        ageing_limit_hours: None,
        cost_limit_percent: None,
        occurred_at: when,
    })
}

/// The JSON a client sends as a correction's replacement: the request body without `occurred_at`
/// (the replacement then keeps the date of the fact it replaces).
pub(crate) fn replacement_body(cmd: &Command) -> serde_json::Value {
    let mut v = dated_replacement_body(cmd);
    v.as_object_mut().unwrap().remove("occurred_at");
    v
}

/// The JSON of a replacement that gives its own `occurred_at`.
pub(crate) fn dated_replacement_body(cmd: &Command) -> serde_json::Value {
    match cmd {
        Command::Campaign(r) => serde_json::to_value(r),
        Command::Donation(r) => serde_json::to_value(r),
        Command::Allocation(r) => serde_json::to_value(r),
        Command::Disbursement(r) => serde_json::to_value(r),
        Command::Acknowledgement(r) => serde_json::to_value(r),
        Command::Usage(r) => serde_json::to_value(r),
        Command::Expense(r) => serde_json::to_value(r),
        Command::Procurement(r) => serde_json::to_value(r),
        Command::Correction(r) => serde_json::to_value(r),
        Command::Disclosure(r) => serde_json::to_value(&r.request),
    }
    .unwrap()
}

pub(crate) fn correction(
    corrects: Seq,
    replacement: Option<&Command>,
    when: DateTime<Utc>,
) -> Command {
    Command::Correction(CorrectionRequest {
        corrects,
        reason: "wrong amount keyed in".into(),
        replacement: replacement.map(replacement_body),
        occurred_at: when,
    })
}

/// A correction whose replacement gives its own date (re-dating the fact it replaces).
pub(crate) fn dated_correction(
    corrects: Seq,
    replacement: &Command,
    when: DateTime<Utc>,
) -> Command {
    Command::Correction(CorrectionRequest {
        corrects,
        reason: "wrong date keyed in".into(),
        replacement: Some(dated_replacement_body(replacement)),
        occurred_at: when,
    })
}

pub(crate) fn set_occurred_at(cmd: &mut Command, when: DateTime<Utc>) {
    match cmd {
        Command::Campaign(r) => r.occurred_at = when,
        Command::Donation(r) => r.occurred_at = when,
        Command::Allocation(r) => r.occurred_at = when,
        Command::Disbursement(r) => r.occurred_at = when,
        Command::Acknowledgement(r) => r.occurred_at = when,
        Command::Usage(r) => r.occurred_at = when,
        Command::Expense(r) => r.occurred_at = when,
        Command::Procurement(r) => r.occurred_at = when,
        Command::Correction(r) => r.occurred_at = when,
        Command::Disclosure(r) => r.request.occurred_at = when,
    }
}

pub(crate) fn asset_of(cmd: &mut Command) -> Option<&mut AssetWire> {
    match cmd {
        Command::Donation(r) => Some(&mut r.asset),
        Command::Allocation(r) => Some(&mut r.asset),
        Command::Disbursement(r) => Some(&mut r.asset),
        Command::Acknowledgement(r) => Some(&mut r.asset),
        Command::Usage(r) => Some(&mut r.asset),
        Command::Expense(r) => Some(&mut r.asset),
        Command::Procurement(r) => Some(&mut r.goods),
        Command::Campaign(_) | Command::Correction(_) | Command::Disclosure(_) => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The harness

/// One organisation's books, driven through `execute` as a store would (roll back on error).
pub(crate) struct World {
    pub(crate) books: MemoryBooks,
    pub(crate) org: OrgContext,
    pub(crate) now: DateTime<Utc>,
    pub(crate) next_seq: Seq,
    pub(crate) salts: u64,
    /// Every accepted entry: seq, occurred_at, public fact.
    pub(crate) log: Vec<(Seq, DateTime<Utc>, Fact)>,
    /// Public bodies of the allocations living at each seq.
    pub(crate) allocation_bodies: BTreeMap<Seq, AllocationBody>,
    /// The oracle's own record of what lives at each seq: kind and liveness.
    pub(crate) model: BTreeMap<Seq, (EntryKind, bool)>,
    /// The command whose fact lives at each seq (for a correction, its typed replacement).
    pub(crate) commands: BTreeMap<Seq, Command>,
    /// The oracle's record of the fact living at each seq (for a correction, its replacement;
    /// for a void, the notice) and when it happened.
    pub(crate) living: BTreeMap<Seq, (DateTime<Utc>, Fact)>,
    /// Corrected seq → the seq of the replacement that took over its dependants.
    pub(crate) successor: BTreeMap<Seq, Seq>,
    /// The oracle's record of the restriction goods bought carry (by the seq the purchase
    /// lives at): the designation of the money lot paid from when it was bought, none from the
    /// pool.
    pub(crate) goods_restriction: BTreeMap<Seq, RestrictionWire>,
    /// Generated steps by label: (accepted, refused).
    pub(crate) tally: BTreeMap<&'static str, (usize, usize)>,
    /// Generated refusals by the oracle's reason.
    pub(crate) reasons: BTreeMap<String, usize>,
}

impl World {
    pub(crate) fn new() -> Self {
        World {
            books: fresh_books(),
            org: OrgContext {
                id: slug(ORG),
                region_code: region("420000"),
                public_fundraising_qualified: true,
            },
            now: now(),
            next_seq: 1,
            salts: 0,
            log: Vec::new(),
            allocation_bodies: BTreeMap::new(),
            model: BTreeMap::new(),
            commands: BTreeMap::new(),
            living: BTreeMap::new(),
            successor: BTreeMap::new(),
            goods_restriction: BTreeMap::new(),
            tally: BTreeMap::new(),
            reasons: BTreeMap::new(),
        }
    }

    /// Run a command as a store would: on error, roll back to the books as they were.
    ///
    /// Checks that a refusal does not advance seq and leaves the books unchanged — for a correction
    /// with a replacement, `execute` is documented to leave the void applied (and, when the
    /// replacement breaks what depended on the corrected fact, the replacement's own changes).
    pub(crate) fn submit(&mut self, author: &Author, cmd: &Command) -> Result<Decision, Refusal> {
        let before = self.books.clone();
        let seq = self.next_seq;
        let counter = &mut self.salts;
        let mut salt = || {
            *counter += 1;
            format!("{:032x}", *counter)
        };
        let mut ctx = Context {
            org: &self.org,
            author,
            now: self.now,
            salt: &mut salt,
            replacing: None,
        };
        let result = execute(&mut self.books, &mut ctx, seq, cmd);
        match &result {
            Ok(decision) => {
                self.next_seq += 1;
                self.log
                    .push((seq, cmd.occurred_at(), decision.fact.clone()));
                if let Some(Fact::Allocation(body)) = living(&decision.fact) {
                    self.allocation_bodies.insert(seq, body.clone());
                }
            }
            Err(e) => {
                match cmd {
                    // Refused for breaking the dependants, the replacement's own changes were
                    // applied too (checked against them): the caller rolls all of it back.
                    Command::Correction(c)
                        if c.replacement.is_some() && e.to_string().contains("would break") => {}
                    Command::Correction(c) if c.replacement.is_some() => {
                        let voided = after_void(&before, c.corrects, seq);
                        assert!(
                            self.books == before || Some(&self.books) == voided.as_ref(),
                            "a refused correction ({e:?}) changed more than the void of {}",
                            c.corrects
                        );
                    }
                    _ => assert!(
                        self.books == before,
                        "refused command ({e:?}) changed the books: {cmd:?}"
                    ),
                }
                self.books = before;
                assert_eq!(self.next_seq, seq);
            }
        }
        result
    }

    /// Submit and insist on acceptance; returns the seq of the new entry and its decision.
    pub(crate) fn accept(&mut self, author: &Author, cmd: &Command) -> (Seq, Decision) {
        let seq = self.next_seq;
        match self.submit(author, cmd) {
            Ok(d) => (seq, d),
            Err(e) => panic!("expected {cmd:?} to be accepted, got {e:?}"),
        }
    }

    /// Submit and insist on refusal; checks the books did not change at all.
    pub(crate) fn refuse(&mut self, author: &Author, cmd: &Command) -> Refusal {
        let before = self.books.clone();
        let seq = self.next_seq;
        match self.submit(author, cmd) {
            Ok(d) => panic!("expected {cmd:?} to be refused, got {d:?}"),
            Err(e) => {
                assert_eq!(self.books, before);
                assert_eq!(self.next_seq, seq);
                e
            }
        }
    }
}

/// `books` after voiding the fact at `target` by a correction at `by` (None if nothing is there).
pub(crate) fn after_void(books: &MemoryBooks, target: Seq, by: Seq) -> Option<MemoryBooks> {
    let info = books.facts.get(&target)?;
    let mut b = books.clone();
    b.apply(Change::Void {
        seq: target,
        kind: info.kind,
        by,
    })
    .unwrap();
    Some(b)
}
