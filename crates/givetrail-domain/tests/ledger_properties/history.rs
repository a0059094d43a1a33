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
}

#[derive(Debug, Clone)]
pub(crate) enum Repl {
    None,
    Same,
    Units(Amt),
    Recipient(To),
    Garbage,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct When {
    pub(crate) day: u8,
    pub(crate) half: bool,
    pub(crate) future: bool,
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
        asset: u8,
        units: i64,
        desig: Desig,
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
        when: When,
    },
    Correction {
        target: Target,
        repl: Repl,
        when: When,
    },
}

/// A resolved command, with the typed form of a correction's replacement.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) author: Author,
    pub(crate) cmd: Command,
    pub(crate) replacement: Option<Command>,
}

/// What a generated step exercises, for the coverage tally.
pub(crate) fn label(cmd: &Command) -> &'static str {
    match cmd {
        Command::Allocation(r) if r.pool => "allocation from the pool",
        Command::Allocation(r) if r.designation_change.is_some() => {
            "allocation with designation change"
        }
        Command::Allocation(_) => "allocation from a donation",
        Command::Expense(r) if r.pool => "expense on the pool",
        Command::Expense(_) => "expense on a donation",
        Command::Donation(r) if r.restriction != RestrictionWire::None => "designated donation",
        Command::Correction(c) if c.replacement.is_some() => "correction with replacement",
        Command::Correction(_) => "correction without replacement",
        other => other.kind().as_str(),
    }
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
        if w.future {
            self.now + Duration::hours(2)
        } else {
            at(i64::from(w.day), if w.half { 12 } else { 0 })
        }
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

    /// Source seq, pool flag, the lot (if any), its key and what is available to draw.
    pub(crate) fn source(
        &self,
        src: &Src,
        asset: u8,
        mismatch: bool,
    ) -> (Option<Seq>, bool, Option<Lot>, AssetKey, i64) {
        let (donation, pool, lot) = match src {
            Src::Lot(p) => match choose(self.books.lots.values(), *p, |l| {
                l.live && l.remaining() > 0
            }) {
                Some(l) => (Some(l.seq), false, Some(l.clone())),
                None => (Some(1000), false, None),
            },
            Src::Seq(s) => (Some(*s), false, self.books.lots.get(s).cloned()),
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
                    .filter(|k| pool_total(&self.books, k) > 0)
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
                .unwrap_or_else(|| asset_key(asset))
            }
            _ => asset_key(asset),
        };
        let available = match (&lot, pool) {
            (Some(l), _) => l.remaining(),
            (None, true) => pool_total(&self.books, &key),
            _ => 100,
        };
        (donation, pool, lot, key, available)
    }

    pub(crate) fn resolve(&self, op: &Op) -> Step {
        let plain = |cmd: Command| Step {
            author: charity(),
            cmd,
            replacement: None,
        };
        match op {
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
                asset,
                units,
                desig,
                related,
                campaign,
                when,
            } => {
                let key = asset_key(*asset);
                let restriction = match desig {
                    Desig::None => RestrictionWire::None,
                    Desig::Region(r) => {
                        designated(Some(REGIONS[usize::from(*r) % REGIONS.len()]), None)
                    }
                    Desig::Recipient(i) => designated(None, Some(recipient_slug(*i).as_str())),
                    Desig::Both(r, i) => designated(
                        Some(REGIONS[usize::from(*r) % REGIONS.len()]),
                        Some(recipient_slug(*i).as_str()),
                    ),
                    Desig::Empty => designated(None, None),
                };
                let mut cmd = donation(
                    &format!("HBRC-2020-{receipt:03}"),
                    &key,
                    *units,
                    restriction,
                    self.when(*when),
                );
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
                let (donation, pool, lot, key, available) = self.source(src, *asset, *mismatch);
                let recipient = self.recipient_for(to, lot.as_ref());
                plain(Command::Allocation(AllocationRequest {
                    donation,
                    pool,
                    recipient,
                    purpose: "front-line protection".into(),
                    asset: wire(&key, amt.of(available)),
                    need: None,
                    designation_change: with_consent.then(consent),
                    occurred_at: self.when(*when),
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
                plain(disbursement(seq, &key, amt.of(available), self.when(*when)))
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
                let mut cmd = acknowledgement(seq, &key, amt.of(sent), self.when(*when));
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
                let cmd = usage(seq, &key, amt.of(left), evidence, self.when(*when));
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
                when,
            } => {
                let (donation, pool, _, key, available) = self.source(src, *asset, *mismatch);
                let mut cmd = expense(donation, &key, amt.of(available), self.when(*when));
                if let Command::Expense(r) = &mut cmd {
                    r.pool = pool;
                }
                plain(cmd)
            }
            Op::Correction { target, repl, when } => {
                let seqs: Vec<Seq> = (1..self.next_seq).collect();
                let corrects = match target {
                    Target::Pick(p) => {
                        choose(seqs.iter(), *p, |s| self.model.get(s).is_some_and(|f| f.1))
                            .copied()
                            .unwrap_or(1)
                    }
                    Target::Raw(n) => *n,
                };
                let when = self.when(*when);
                let typed = match (repl, self.commands.get(&corrects)) {
                    (Repl::None | Repl::Garbage, _) | (_, None) => None,
                    (repl, Some(orig)) => {
                        let mut cmd = orig.clone();
                        set_occurred_at(&mut cmd, when);
                        match repl {
                            Repl::Units(amt) => {
                                if let Some(w) = asset_of(&mut cmd) {
                                    if let Some((key, units)) = parsed(w) {
                                        *w = wire(&key, amt.of(units));
                                    }
                                }
                            }
                            Repl::Recipient(to) => {
                                if let Command::Allocation(r) = &mut cmd {
                                    let lot = r.donation.and_then(|s| self.books.lots.get(&s));
                                    r.recipient = self.recipient_for(to, lot);
                                }
                            }
                            _ => {}
                        }
                        Some(cmd)
                    }
                };
                let mut cmd = correction(corrects, typed.as_ref(), when);
                if let (Command::Correction(c), Repl::Garbage) = (&mut cmd, repl) {
                    c.replacement = Some(serde_json::json!({"not": "a body of any kind"}));
                }
                Step {
                    author: charity(),
                    cmd,
                    replacement: typed,
                }
            }
        }
    }

    pub(crate) fn author(&self, who: &Who, right: &Slug) -> Author {
        match who {
            Who::Right => recipient(right.as_str()),
            Who::Other(i) => recipient(recipient_slug(*i).as_str()),
            Who::Charity => charity(),
        }
    }
}
