//! Generated operations, resolved against the books of the moment into commands, and the
//! runner that executes a whole history.

use super::*;

// Generated operations, resolved against the books of the moment

/// An amount, fixed or relative to what is available to the command.
#[derive(Debug, Clone)]
pub(crate) enum Amt {
    Fixed(i64),
    Rest,
    RestMinus(i64),
    RestPlus(i64),
    /// A percentage of what is available (rounded down).
    Part(u8),
}

impl Amt {
    pub(crate) fn of(&self, available: i64) -> i64 {
        match *self {
            Amt::Fixed(n) => n,
            Amt::Rest => available,
            Amt::RestMinus(k) => available - k,
            Amt::RestPlus(k) => available + k,
            Amt::Part(p) => (available * i64::from(p) / 100).max(available.min(1)),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Src {
    /// One of the lots (live or voided), by index.
    Lot(Pick),
    /// Any seq at all (often not a donation).
    Seq(i64),
    Pool,
    Both,
    Neither,
}

#[derive(Debug, Clone)]
pub(crate) enum Desig {
    None,
    Region(u8),
    Recipient(u8),
    Both(u8, u8),
    Empty,
}

#[derive(Debug, Clone)]
pub(crate) enum To {
    Index(u8),
    /// A recipient honouring the lot's designation, when there is one.
    Honour,
}

#[derive(Debug, Clone)]
pub(crate) enum Who {
    Right,
    Other(u8),
    Charity,
}

#[derive(Debug, Clone)]
pub(crate) enum Target {
    Pick(Pick),
    Raw(i64),
    /// A fact of one kind (0 donation, 1 allocation, 2 disbursement, 3 acknowledgement,
    /// 4 usage report, 5 expense, 6 campaign, 7 procurement), mostly one with live dependants.
    Kind(u8, Pick),
}

#[derive(Debug, Clone)]
pub(crate) enum Repl {
    None,
    Same,
    Units(Amt),
    /// Exactly what the live dependants need (allocated and spent of a donation, disbursed of an
    /// allocation, acknowledged of a disbursement, used of an acknowledgement), minus this.
    Need(i64),
    Recipient(To),
    /// A donation's designation, and whether it allows costs; for a procurement, pay from the
    /// pool instead of the donation (or from a designated money lot instead of the pool).
    Restriction(Desig, bool),
    /// Refer to another entry: a lot for an allocation or expense, an allocation for a
    /// disbursement, a disbursement for a recipient's statement.
    Refer(Pick),
    /// A donation's receipt number: another lot's (live or voided), or a fresh one.
    Receipt(Option<Pick>),
    /// A campaign's id changed.
    Rename,
    /// The replacement gives its own date.
    Redate(When),
    /// The same goods spelt another way.
    Respell(u8),
    Garbage,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct When {
    pub(crate) day: u8,
    pub(crate) half: bool,
    pub(crate) future: bool,
    /// Hours after what the step refers to (negative: before it), when it refers to something.
    pub(crate) after: Option<i8>,
}

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Campaign {
        id: u8,
        public: bool,
        record: bool,
        when: When,
    },
    Donation {
        receipt: u8,
        /// The receipt number of an existing lot (mostly a voided one) instead.
        reuse: Option<Pick>,
        asset: u8,
        units: i64,
        desig: Desig,
        costs: bool,
        related: u8,
        campaign: Option<u8>,
        when: When,
    },
    Allocation {
        src: Src,
        asset: u8,
        mismatch: bool,
        to: To,
        amt: Amt,
        consent: bool,
        when: When,
    },
    Disbursement {
        pick: Pick,
        asset: u8,
        mismatch: bool,
        amt: Amt,
        when: When,
    },
    Acknowledgement {
        pick: Pick,
        who: Who,
        asset: u8,
        mismatch: bool,
        foreign: bool,
        amt: Amt,
        when: When,
    },
    Usage {
        pick: Pick,
        who: Who,
        amt: Amt,
        evidence: u8,
        when: When,
    },
    Expense {
        src: Src,
        asset: u8,
        mismatch: bool,
        amt: Amt,
        consent: bool,
        when: When,
    },
    /// Money (from a lot or the pool) buys goods.
    Procurement {
        src: Src,
        /// Which currency (or, with `mismatch`, any asset) is paid.
        currency: u8,
        mismatch: bool,
        /// How much of what is available is paid.
        amt: Amt,
        /// Which goods are bought, and how many.
        goods: u8,
        quantity: i64,
        /// 0: as generated; 1: `paid` in goods; 2: `goods` in money.
        bad: u8,
        when: When,
    },
    Correction {
        target: Target,
        who: Who,
        repl: Repl,
        when: When,
    },
    /// The step of `op` with its goods spelt another way (see [`respell`]).
    Respelled(u8, Box<Op>),
}

/// Where an allocation or expense would draw from: the donation's seq or the pool, the lot (if
/// one), its key, what is available to draw, and the latest date among what it would draw on.
pub(crate) struct Source {
    pub(crate) donation: Option<Seq>,
    pub(crate) pool: bool,
    pub(crate) lot: Option<Lot>,
    pub(crate) key: AssetKey,
    pub(crate) available: i64,
    pub(crate) reference: Option<DateTime<Utc>>,
}

/// A resolved command, with the typed form of a correction's replacement.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) author: Author,
    pub(crate) cmd: Command,
    pub(crate) replacement: Option<Command>,
}

/// Which existing item a step refers to: mostly one where the step can succeed, sometimes any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pick {
    pub(crate) index: usize,
    pub(crate) any: bool,
}

pub(crate) fn choose<'a, T>(
    items: impl Iterator<Item = &'a T>,
    p: Pick,
    useful: impl Fn(&T) -> bool,
) -> Option<&'a T> {
    let all: Vec<&T> = items.collect();
    let good: Vec<&T> = all.iter().copied().filter(|t| useful(t)).collect();
    let from = if p.any || good.is_empty() {
        &all
    } else {
        &good
    };
    (!from.is_empty()).then(|| from[p.index % from.len()])
}

impl World {
    pub(crate) fn when(&self, w: When) -> DateTime<Utc> {
        self.when_after(w, None)
    }

    /// The date of a step: mostly a few hours after what it refers to (sometimes just before
    /// it), else a day of the appeal, rarely in the future.
    pub(crate) fn when_after(&self, w: When, reference: Option<DateTime<Utc>>) -> DateTime<Utc> {
        if w.future {
            return self.now + Duration::hours(2);
        }
        match (w.after, reference) {
            (Some(h), Some(r)) => (r + Duration::hours(i64::from(h))).min(self.now),
            _ => at(i64::from(w.day), if w.half { 12 } else { 0 }),
        }
    }

    /// When the fact at `seq` happened, as the books record it.
    fn fact_date(&self, seq: Seq) -> Option<DateTime<Utc>> {
        self.books.facts.get(&seq).map(|f| f.occurred_at)
    }

    pub(crate) fn recipient_for(&self, to: &To, lot: Option<&Lot>) -> Slug {
        match to {
            To::Index(i) => recipient_slug(*i),
            To::Honour => {
                let d = lot.and_then(|l| l.designation.as_ref());
                match d {
                    Some(d) => match (&d.recipient, &d.region_code) {
                        (Some(r), _) => r.clone(),
                        (None, Some(rc)) => self
                            .books
                            .recipients
                            .values()
                            .find(|info| within(rc, &info.region_code))
                            .map_or_else(|| recipient_slug(0), |info| info.id.clone()),
                        (None, None) => recipient_slug(0),
                    },
                    None => recipient_slug(0),
                }
            }
        }
    }

    /// Where an allocation or expense would draw from.
    pub(crate) fn source(&self, src: &Src, asset: u8, mismatch: bool) -> Source {
        self.source_of(src, asset, mismatch, false)
    }

    /// Where an allocation, expense or (`money`) procurement would draw from.
    pub(crate) fn source_of(&self, src: &Src, asset: u8, mismatch: bool, money: bool) -> Source {
        let (donation, pool, lot) = match src {
            Src::Lot(p) => match choose(self.books.lots.values(), *p, |l| {
                l.live && l.remaining() > 0 && (!money || l.asset.is_money())
            }) {
                Some(l) => (Some(l.seq), false, Some(Lot::clone(l))),
                None => (Some(1000), false, None),
            },
            Src::Seq(s) => (
                Some(*s),
                false,
                self.books.lots.get(s).map(|l| Lot::clone(l)),
            ),
            Src::Pool => (None, true, None),
            Src::Both => (Some(1), true, None),
            Src::Neither => (None, false, None),
        };
        let key = match (&lot, mismatch) {
            (Some(l), false) => l.asset.clone(),
            // From the pool: mostly an asset the pool holds.
            (None, false) if pool => {
                let held: Vec<AssetKey> = (0..4)
                    .map(asset_key)
                    .filter(|k| pool_total(&self.books, k) > 0 && (!money || k.is_money()))
                    .collect();
                choose(
                    held.iter(),
                    Pick {
                        index: usize::from(asset),
                        any: false,
                    },
                    |_| true,
                )
                .cloned()
                .unwrap_or_else(|| asset_key(if money { asset % 2 } else { asset }))
            }
            _ if money && !mismatch => asset_key(asset % 2),
            _ => asset_key(asset),
        };
        let available = match (&lot, pool) {
            (Some(l), _) => l.remaining(),
            (None, true) => pool_total(&self.books, &key),
            _ => 100,
        };
        let reference = match (&lot, pool) {
            (Some(l), _) => Some(l.occurred_at),
            (None, true) => pool_queue(&self.books, &key)
                .iter()
                .map(|l| l.occurred_at)
                .max(),
            _ => None,
        };
        Source {
            donation,
            pool,
            lot,
            key,
            available,
            reference,
        }
    }

    pub(crate) fn resolve(&self, op: &Op) -> Step {
        let plain = |cmd: Command| Step {
            author: charity(),
            cmd,
            replacement: None,
        };
        match op {
            Op::Respelled(spell, inner) => {
                let mut step = self.resolve(inner);
                if let Some(w) = asset_of(&mut step.cmd) {
                    *w = respell(w, *spell);
                }
                step
            }
            Op::Campaign {
                id,
                public,
                record,
                when,
            } => plain(campaign(
                CAMPAIGNS[usize::from(*id) % CAMPAIGNS.len()],
                *public,
                *record,
                self.when(*when),
            )),
            Op::Donation {
                receipt,
                reuse,
                asset,
                units,
                desig,
                costs,
                related,
                campaign,
                when,
            } => {
                let key = asset_key(*asset);
                let mut restriction = self.restriction(desig);
                if *costs {
                    restriction = with_costs_allowed(restriction);
                }
                let receipt = reuse
                    .and_then(|p| {
                        choose(self.books.lots.values(), p, |l| {
                            !l.live && !l.receipt_number.is_empty()
                        })
                    })
                    .map_or_else(
                        || format!("HBRC-2020-{receipt:03}"),
                        |l| l.receipt_number.clone(),
                    );
                let mut cmd = donation(&receipt, &key, *units, restriction, self.when(*when));
                if let Command::Donation(r) = &mut cmd {
                    r.donor.related_recipients = (0..5u8)
                        .filter(|i| related & (1 << i) != 0)
                        .map(recipient_slug)
                        .collect();
                    r.campaign =
                        campaign.map(|c| slug(CAMPAIGNS[usize::from(c) % CAMPAIGNS.len()]));
                }
                plain(cmd)
            }
            Op::Allocation {
                src,
                asset,
                mismatch,
                to,
                amt,
                consent: with_consent,
                when,
            } => {
                let Source {
                    donation,
                    pool,
                    lot,
                    key,
                    available,
                    reference,
                } = self.source(src, *asset, *mismatch);
                let recipient = self.recipient_for(to, lot.as_ref());
                plain(Command::Allocation(AllocationRequest {
                    donation,
                    pool,
                    recipient,
                    purpose: "front-line protection".into(),
                    asset: wire(&key, amt.of(available)),
                    need: None,
                    designation_change: with_consent.then(consent),
                    occurred_at: self.when_after(*when, reference),
                }))
            }
            Op::Disbursement {
                pick: i,
                asset,
                mismatch,
                amt,
                when,
            } => {
                let (seq, key, available) = match choose(self.books.allocations.values(), *i, |a| {
                    a.live && a.units > a.disbursed
                }) {
                    Some(a) => (
                        a.seq,
                        if *mismatch {
                            asset_key(*asset)
                        } else {
                            a.asset.clone()
                        },
                        a.units - a.disbursed,
                    ),
                    None => (1000, asset_key(*asset), 100),
                };
                let when = self.when_after(*when, self.fact_date(seq));
                plain(disbursement(seq, &key, amt.of(available), when))
            }
            Op::Acknowledgement {
                pick: i,
                who,
                asset,
                mismatch,
                foreign,
                amt,
                when,
            } => {
                let (seq, key, sent, to) =
                    match choose(self.books.disbursements.values(), *i, |d| {
                        d.live && d.acknowledged.is_none()
                    }) {
                        Some(d) => (
                            d.seq,
                            if *mismatch {
                                asset_key(*asset)
                            } else {
                                d.asset.clone()
                            },
                            d.units,
                            d.recipient.clone(),
                        ),
                        None => (1000, asset_key(*asset), 100, recipient_slug(0)),
                    };
                let when = self.when_after(*when, self.fact_date(seq));
                let mut cmd = acknowledgement(seq, &key, amt.of(sent), when);
                if let (Command::Acknowledgement(r), true) = (&mut cmd, *foreign) {
                    r.disbursement.organization = slug("another-charity");
                }
                Step {
                    author: self.author(who, &to),
                    cmd,
                    replacement: None,
                }
            }
            Op::Usage {
                pick: i,
                who,
                amt,
                evidence,
                when,
            } => {
                let (seq, key, left, to) =
                    match choose(self.books.disbursements.values(), *i, |d| {
                        d.acknowledged.is_some_and(|a| a > d.used) && d.live
                    }) {
                        Some(d) => (
                            d.seq,
                            d.asset.clone(),
                            d.acknowledged.unwrap_or(0) - d.used,
                            d.recipient.clone(),
                        ),
                        None => (1000, cny(), 100, recipient_slug(0)),
                    };
                let evidence = match evidence {
                    0..=2 => None,
                    3 | 4 => Some("ab".repeat(32)),
                    _ => Some("AB".repeat(32)),
                };
                // After the disbursement and its acknowledgement (the latest statement about it).
                let reference = self
                    .books
                    .statements
                    .get(&seq)
                    .into_iter()
                    .flatten()
                    .filter_map(|s| self.fact_date(*s))
                    .chain(self.fact_date(seq))
                    .max();
                let cmd = usage(
                    seq,
                    &key,
                    amt.of(left),
                    evidence,
                    self.when_after(*when, reference),
                );
                Step {
                    author: self.author(who, &to),
                    cmd,
                    replacement: None,
                }
            }
            Op::Expense {
                src,
                asset,
                mismatch,
                amt,
                consent: with_consent,
                when,
            } => {
                let Source {
                    donation,
                    pool,
                    key,
                    available,
                    reference,
                    ..
                } = self.source(src, *asset, *mismatch);
                let mut cmd = expense(
                    donation,
                    &key,
                    amt.of(available),
                    self.when_after(*when, reference),
                );
                if let Command::Expense(r) = &mut cmd {
                    r.pool = pool;
                    r.designation_change = with_consent.then(consent);
                }
                plain(cmd)
            }
            Op::Procurement {
                src,
                currency,
                mismatch,
                amt,
                goods,
                quantity,
                bad,
                when,
            } => {
                let Source {
                    donation,
                    pool,
                    key,
                    available,
                    reference,
                    ..
                } = self.source_of(src, *currency, *mismatch, true);
                let goods_key = if goods % 2 == 0 { masks() } else { suits() };
                let mut paid = wire(&key, amt.of(available));
                let mut bought = wire(&goods_key, *quantity);
                match bad {
                    1 => paid = wire(&goods_key, amt.of(available).max(1)),
                    2 => bought = wire(&cny(), *quantity),
                    _ => {}
                }
                let mut cmd =
                    procurement(donation, paid, bought, self.when_after(*when, reference));
                if let Command::Procurement(r) = &mut cmd {
                    r.pool = pool;
                }
                plain(cmd)
            }
            Op::Correction {
                target,
                who,
                repl,
                when,
            } => self.resolve_correction(target, who, repl, *when),
        }
    }

    fn restriction(&self, desig: &Desig) -> RestrictionWire {
        match desig {
            Desig::None => RestrictionWire::None,
            Desig::Region(r) => designated(Some(REGIONS[usize::from(*r) % REGIONS.len()]), None),
            Desig::Recipient(i) => designated(None, Some(recipient_slug(*i).as_str())),
            Desig::Both(r, i) => designated(
                Some(REGIONS[usize::from(*r) % REGIONS.len()]),
                Some(recipient_slug(*i).as_str()),
            ),
            Desig::Empty => designated(None, None),
        }
    }

    fn live_dependants(&self, seq: Seq) -> bool {
        self.model.get(&seq).is_some_and(|(kind, live)| {
            *live
                && !self
                    .dependants_in(
                        Scope {
                            b: &self.books,
                            voided: None,
                            replacing: None,
                        },
                        seq,
                        *kind,
                    )
                    .is_empty()
        })
    }

    /// What the live dependants of the fact at `seq` need of a replacement (see [`Repl::Need`]).
    fn needed(&self, seq: Seq) -> i64 {
        let b = &self.books;
        if let Some(l) = b.lots.get(&seq) {
            return l.allocated + l.expensed;
        }
        if let Some(a) = b.allocations.get(&seq) {
            return a.disbursed;
        }
        if let Some(d) = b.disbursements.get(&seq) {
            return d.acknowledged.unwrap_or(d.used);
        }
        match b.facts.get(&seq) {
            Some(f) if f.kind == EntryKind::AcknowledgementRecorded => f
                .about
                .and_then(|d| b.disbursements.get(&d))
                .map_or(0, |d| d.used),
            _ => 0,
        }
    }

    fn resolve_correction(&self, target: &Target, who: &Who, repl: &Repl, when: When) -> Step {
        let seqs: Vec<Seq> = (1..self.next_seq).collect();
        let live = |s: &Seq| self.model.get(s).is_some_and(|f| f.1);
        let corrects = match target {
            Target::Pick(p) => choose(seqs.iter(), *p, live).copied().unwrap_or(1),
            Target::Raw(n) => *n,
            Target::Kind(k, p) => {
                let kind = match k % 8 {
                    0 => EntryKind::DonationReceived,
                    1 => EntryKind::AllocationMade,
                    2 => EntryKind::DisbursementMade,
                    3 => EntryKind::AcknowledgementRecorded,
                    4 => EntryKind::UsageReported,
                    5 => EntryKind::ExpenseRecorded,
                    6 => EntryKind::CampaignOpened,
                    _ => EntryKind::ProcurementMade,
                };
                let of_kind: Vec<Seq> = seqs
                    .iter()
                    .copied()
                    .filter(|s| self.model.get(s).is_some_and(|f| f.0 == kind))
                    .collect();
                choose(of_kind.iter(), *p, |s| live(s) && self.live_dependants(*s))
                    .or_else(|| choose(of_kind.iter(), *p, live))
                    .copied()
                    .unwrap_or(1)
            }
        };
        let statement_by = match self.living.get(&corrects).map(|(_, f)| f) {
            Some(Fact::Acknowledgement(a)) => Some(a.recipient.clone()),
            Some(Fact::Usage(u)) => Some(u.recipient.clone()),
            _ => None,
        };
        let author = match (who, &statement_by) {
            (Who::Right, Some(r)) => recipient(r.as_str()),
            (Who::Right | Who::Charity, _) => charity(),
            (Who::Other(i), _) => recipient(recipient_slug(*i).as_str()),
        };
        let original_date = self.living.get(&corrects).map(|(d, _)| *d);
        let correction_date = self.when_after(when, original_date);
        let typed = match (repl, self.commands.get(&corrects)) {
            (Repl::None | Repl::Garbage, _) | (_, None) => None,
            (repl, Some(orig)) => Some(self.replacement(corrects, orig, repl)),
        };
        let mut cmd = match (&typed, repl) {
            (Some(t), Repl::Redate(_)) => dated_correction(corrects, t, correction_date),
            (t, _) => correction(corrects, t.as_ref(), correction_date),
        };
        if let (Command::Correction(c), Repl::Garbage) = (&mut cmd, repl) {
            c.replacement = Some(serde_json::json!({"not": "a body of any kind"}));
        }
        Step {
            author,
            cmd,
            replacement: typed,
        }
    }

    /// The typed replacement of `orig` (the command living at `corrects`), dated as the
    /// correction will date it, referring to the current successors of what it referred to.
    fn replacement(&self, corrects: Seq, orig: &Command, repl: &Repl) -> Command {
        let mut cmd = orig.clone();
        set_occurred_at(&mut cmd, self.living[&corrects].0);
        match &mut cmd {
            Command::Allocation(r) => r.donation = r.donation.map(|s| self.follow(s)),
            Command::Expense(r) => r.donation = r.donation.map(|s| self.follow(s)),
            Command::Procurement(r) => r.donation = r.donation.map(|s| self.follow(s)),
            Command::Disbursement(r) => r.allocation = self.follow(r.allocation),
            Command::Acknowledgement(r) => r.disbursement.seq = self.follow(r.disbursement.seq),
            Command::Usage(r) => r.disbursement.seq = self.follow(r.disbursement.seq),
            _ => {}
        }
        match repl {
            Repl::Units(amt) => {
                if let Some(w) = asset_of(&mut cmd) {
                    if let Some((key, units)) = parsed_or_zero(w) {
                        *w = wire(&key, amt.of(units));
                    }
                }
            }
            Repl::Need(k) => {
                let need = self.needed(corrects);
                if let Some(w) = asset_of(&mut cmd) {
                    if let Some((key, units)) = parsed_or_zero(w) {
                        let base = if need > 0 { need } else { units };
                        *w = wire(&key, base - k);
                    }
                }
            }
            Repl::Recipient(to) => {
                if let Command::Allocation(r) = &mut cmd {
                    let lot = r
                        .donation
                        .and_then(|s| self.books.lots.get(&s).map(AsRef::as_ref));
                    r.recipient = self.recipient_for(to, lot);
                }
            }
            Repl::Restriction(desig, costs) => match &mut cmd {
                Command::Donation(r) => {
                    r.restriction = self.restriction(desig);
                    if *costs {
                        r.restriction = with_costs_allowed(r.restriction.clone());
                    }
                }
                // Paid from the pool after all, or from a (mostly designated) lot of the currency.
                Command::Procurement(r) => {
                    let key = parsed(&r.paid).map(|(k, _)| k);
                    if r.pool {
                        let lot = choose(
                            self.books.lots.values(),
                            Pick {
                                index: usize::from(*costs),
                                any: false,
                            },
                            |l| {
                                l.live
                                    && Some(&l.asset) == key.as_ref()
                                    && l.designation.is_some()
                                    && l.remaining() > 0
                            },
                        );
                        r.donation = Some(lot.map_or(1000, |l| l.seq));
                        r.pool = false;
                    } else {
                        r.donation = None;
                        r.pool = true;
                    }
                }
                _ => {}
            },
            // Mostly another entry of the same recipient, where the replacement can be valid by
            // itself and only what depended on the corrected fact can tell.
            Repl::Refer(p) => match &mut cmd {
                Command::Allocation(AllocationRequest {
                    donation: donation @ Some(_),
                    ..
                })
                | Command::Expense(ExpenseRequest {
                    donation: donation @ Some(_),
                    ..
                })
                | Command::Procurement(ProcurementRequest {
                    donation: donation @ Some(_),
                    ..
                }) => {
                    let current = *donation;
                    *donation = choose(self.books.lots.values(), *p, |l| {
                        l.live && Some(l.seq) != current && l.remaining() > 0
                    })
                    .map(|l| l.seq);
                }
                Command::Disbursement(r) => {
                    let to = self
                        .books
                        .allocations
                        .get(&r.allocation)
                        .map(|a| a.recipient.clone());
                    let current = r.allocation;
                    r.allocation = choose(self.books.allocations.values(), *p, |a| {
                        a.live && a.seq != current && Some(&a.recipient) == to.as_ref()
                    })
                    .map_or(1000, |a| a.seq);
                    if let Some(a) = self.books.allocations.get(&r.allocation) {
                        if let Some((_, units)) = parsed(&r.asset) {
                            r.asset = wire(&a.asset, units.min(a.units - a.disbursed).max(1));
                        }
                    }
                }
                Command::Acknowledgement(AcknowledgementRequest {
                    disbursement,
                    asset,
                    ..
                })
                | Command::Usage(UsageRequest {
                    disbursement,
                    asset,
                    ..
                }) => {
                    let current = disbursement.seq;
                    let to = self
                        .books
                        .disbursements
                        .get(&current)
                        .map(|d| d.recipient.clone());
                    disbursement.seq = choose(self.books.disbursements.values(), *p, |d| {
                        d.live && d.seq != current && Some(&d.recipient) == to.as_ref()
                    })
                    .map_or(1000, |d| d.seq);
                    if let (Some(d), Some((_, units))) = (
                        self.books.disbursements.get(&disbursement.seq),
                        parsed_or_zero(asset),
                    ) {
                        *asset = wire(&d.asset, units);
                    }
                }
                _ => {}
            },
            Repl::Receipt(p) => {
                if let Command::Donation(r) = &mut cmd {
                    r.receipt_number = match p.and_then(|p| {
                        choose(self.books.lots.values(), p, |l| {
                            l.seq != corrects && !l.receipt_number.is_empty()
                        })
                    }) {
                        Some(l) => l.receipt_number.clone(),
                        None => format!("HBRC-R-{}", self.next_seq),
                    };
                }
            }
            Repl::Rename => {
                if let Command::Campaign(r) = &mut cmd {
                    let other = CAMPAIGNS.iter().find(|c| **c != r.id.as_str()).unwrap();
                    r.id = slug(other);
                }
            }
            Repl::Redate(w) => {
                let date = self.when_after(*w, self.living.get(&corrects).map(|(d, _)| *d));
                set_occurred_at(&mut cmd, date);
            }
            Repl::Respell(spell) => {
                if let Some(w) = asset_of(&mut cmd) {
                    *w = respell(w, *spell);
                }
            }
            Repl::None | Repl::Same | Repl::Garbage => {}
        }
        cmd
    }

    pub(crate) fn author(&self, who: &Who, right: &Slug) -> Author {
        match who {
            Who::Right => recipient(right.as_str()),
            Who::Other(i) => recipient(recipient_slug(*i).as_str()),
            Who::Charity => charity(),
        }
    }
}
