//! Properties checked after every step: lot, allocation and disbursement balances, designations,
//! the model of live facts, oldest-first pool draws, and replay of the log into fresh books.

use super::*;

// Properties checked after every step

/// Money paid by live procurements, per asset, from the log (the oracle's record of what lives
/// where, not the books).
pub(crate) fn procured(w: &World) -> BTreeMap<AssetKey, i64> {
    let mut out: BTreeMap<AssetKey, i64> = BTreeMap::new();
    for (seq, (_, fact)) in &w.living {
        if let (Fact::Procurement(p), true) = (fact, w.model[seq].1) {
            let (key, units) = parsed(&p.paid).unwrap();
            *out.entry(key).or_default() += units;
        }
    }
    out
}

/// 1. Per lot: 0 <= allocated + expensed <= received (`expensed` counts money spent on the
///    charity's costs and on goods bought); per asset over live lots (goods bought among them):
///    received = allocated + expensed + unallocated, and received = live allocations plus live
///    expenses plus money paid by live procurements (`procured`) plus unallocated; and what lots
///    record as taken equals the live draws on them.
pub(crate) fn check_lot_balances(b: &MemoryBooks, procured: &BTreeMap<AssetKey, i64>) {
    let mut per_asset: BTreeMap<AssetKey, (i64, i64, i64, i64)> = BTreeMap::new();
    for lot in b.lots.values() {
        assert!(
            lot.received > 0,
            "lot {} received {}",
            lot.seq,
            lot.received
        );
        assert!(
            lot.allocated >= 0 && lot.expensed >= 0,
            "lot {} negative: {lot:?}",
            lot.seq
        );
        assert!(
            lot.allocated + lot.expensed <= lot.received,
            "lot {} over-drawn: {lot:?}",
            lot.seq
        );
        let live_draws = |expense: bool| -> i64 {
            b.draws
                .iter()
                .filter(|d| d.donation == lot.seq && d.expense == expense)
                .filter(|d| {
                    if expense {
                        b.expenses.get(&d.by).is_some_and(|e| e.2)
                            || b.facts
                                .get(&d.by)
                                .is_some_and(|f| f.live && f.kind == EntryKind::ProcurementMade)
                    } else {
                        b.allocations.get(&d.by).is_some_and(|a| a.live)
                    }
                })
                .map(|d| d.units)
                .sum()
        };
        assert_eq!(
            lot.allocated,
            live_draws(false),
            "lot {} allocated vs live allocation draws",
            lot.seq
        );
        assert_eq!(
            lot.expensed,
            live_draws(true),
            "lot {} expensed vs live expense draws",
            lot.seq
        );
        if !lot.live {
            assert_eq!(
                (lot.allocated, lot.expensed),
                (0, 0),
                "voided lot {} still has units taken",
                lot.seq
            );
            continue;
        }
        let e = per_asset.entry(lot.asset.clone()).or_default();
        e.0 += lot.received;
        e.1 += lot.allocated;
        e.2 += lot.expensed;
        e.3 += lot.remaining();
    }
    for (key, (received, allocated, expensed, unallocated)) in &per_asset {
        assert_eq!(
            *received,
            allocated + expensed + unallocated,
            "{key}: received != allocated + expensed + unallocated"
        );
        let bought = procured.get(key).copied().unwrap_or(0);
        let allocations: i64 = b
            .allocations
            .values()
            .filter(|a| a.live && &a.asset == key)
            .map(|a| a.units)
            .sum();
        let expenses: i64 = b
            .expenses
            .values()
            .filter(|e| e.2 && &e.0 == key)
            .map(|e| e.1)
            .sum();
        assert_eq!(
            *received,
            allocations + expenses + bought + unallocated,
            "{key}: received = allocated + expenses + procured + unallocated"
        );
    }
    for (key, units) in procured {
        assert!(
            per_asset.contains_key(key) && key.is_money(),
            "{key}: {units} procured from no live lot of money"
        );
    }
}

/// 2. Per live allocation: 0 <= disbursed <= units, disbursed = its live disbursements, its draws
///    add up to its units from lots of its asset; per asset, live allocation units = allocated on
///    live lots.
pub(crate) fn check_allocation_balances(b: &MemoryBooks) {
    let mut per_asset: BTreeMap<AssetKey, i64> = BTreeMap::new();
    for a in b.allocations.values() {
        let disbursed: i64 = b
            .disbursements
            .values()
            .filter(|d| d.live && d.allocation == a.seq)
            .map(|d| d.units)
            .sum();
        if !a.live {
            assert_eq!(
                disbursed, 0,
                "voided allocation {} has live disbursements",
                a.seq
            );
            continue;
        }
        assert!(a.units > 0, "allocation {} of {} units", a.seq, a.units);
        assert!(
            0 <= a.disbursed && a.disbursed <= a.units,
            "allocation {} disbursed {} of {}",
            a.seq,
            a.disbursed,
            a.units
        );
        assert_eq!(
            a.disbursed, disbursed,
            "allocation {} disbursed vs its live disbursements",
            a.seq
        );
        let draws: Vec<_> = b.draws.iter().filter(|d| d.by == a.seq).collect();
        assert!(!draws.is_empty(), "allocation {} draws on nothing", a.seq);
        for d in &draws {
            assert!(!d.expense && d.units > 0);
            let lot = &b.lots[&d.donation];
            assert!(
                lot.live,
                "live allocation {} draws on voided lot {}",
                a.seq, lot.seq
            );
            assert_eq!(
                lot.asset, a.asset,
                "allocation {} draws another asset from lot {}",
                a.seq, lot.seq
            );
        }
        assert_eq!(
            draws.iter().map(|d| d.units).sum::<i64>(),
            a.units,
            "allocation {} draws vs units",
            a.seq
        );
        *per_asset.entry(a.asset.clone()).or_default() += a.units;
    }
    for (key, units) in &per_asset {
        let allocated: i64 = b
            .lots
            .values()
            .filter(|l| l.live && &l.asset == key)
            .map(|l| l.allocated)
            .sum();
        assert_eq!(
            *units, allocated,
            "{key}: live allocations vs allocated on live lots"
        );
    }
    for (seq, (key, units, live)) in &b.expenses {
        if *live {
            let drawn: i64 = b
                .draws
                .iter()
                .filter(|d| d.by == *seq)
                .map(|d| d.units)
                .sum();
            assert_eq!(drawn, *units, "expense {seq} draws vs units");
            assert!(b
                .draws
                .iter()
                .filter(|d| d.by == *seq)
                .all(|d| d.expense && &b.lots[&d.donation].asset == key));
        }
    }
}

/// 3. Per live disbursement: used <= acknowledged (0 if none); it belongs to a live allocation of
///    the same recipient and asset.
pub(crate) fn check_disbursements(b: &MemoryBooks) {
    for d in b.disbursements.values().filter(|d| d.live) {
        assert!(d.units > 0);
        assert!(
            0 <= d.used && d.used <= d.acknowledged.unwrap_or(0),
            "disbursement {} used {} of {:?}",
            d.seq,
            d.used,
            d.acknowledged
        );
        let a = &b.allocations[&d.allocation];
        assert!(
            a.live,
            "live disbursement {} of voided allocation {}",
            d.seq, a.seq
        );
        assert_eq!((&a.recipient, &a.asset), (&d.recipient, &d.asset));
    }
}

/// 4. Every live allocation that departs from a designation carries a designation change (one
///    that carries it departed when it was decided: checked by the oracle; a corrected donation
///    may since have made the departure moot). Pool allocations draw only on undesignated lots,
///    or on lots whose designation (given later, by a correction) they honour.
pub(crate) fn check_designations(b: &MemoryBooks, bodies: &BTreeMap<Seq, AllocationBody>) {
    for a in b.allocations.values().filter(|a| a.live) {
        let body = &bodies[&a.seq];
        let to = &b.recipients[&a.recipient];
        let mut departs = false;
        for d in b.draws.iter().filter(|d| d.by == a.seq) {
            let lot = &b.lots[&d.donation];
            let breach = designation_breach(lot, to);
            if body.pool {
                assert!(
                    lot.designation.is_none() || breach.is_none(),
                    "pool allocation {} drew on designated lot {} and departs from it",
                    a.seq,
                    lot.seq
                );
            }
            departs |= breach.is_some();
        }
        assert!(
            !departs || body.designation_change.is_some(),
            "allocation {} departs from a designation without designation_change",
            a.seq,
        );
    }
}

/// The books agree with the oracle's record of what lives where, and every live lot is the
/// donation that was sent.
pub(crate) fn check_model(w: &World) {
    let facts: BTreeMap<Seq, (EntryKind, bool)> = w
        .books
        .facts
        .iter()
        .map(|(s, f)| (s, (f.kind, f.live)))
        .collect();
    assert_eq!(facts, w.model, "facts vs the oracle's record");
    // Each table's liveness agrees with what lives at each seq.
    let live_as = |seq: Seq, kind: EntryKind| w.model.get(&seq) == Some(&(kind, true));
    for lot in w.books.lots.values() {
        assert_eq!(
            lot.live,
            live_as(lot.seq, EntryKind::DonationReceived)
                || live_as(lot.seq, EntryKind::ProcurementMade),
            "lot {} liveness",
            lot.seq
        );
    }
    for a in w.books.allocations.values() {
        assert_eq!(
            a.live,
            live_as(a.seq, EntryKind::AllocationMade),
            "allocation {} liveness",
            a.seq
        );
    }
    for d in w.books.disbursements.values() {
        assert_eq!(
            d.live,
            live_as(d.seq, EntryKind::DisbursementMade),
            "disbursement {} liveness",
            d.seq
        );
    }
    for (seq, e) in &w.books.expenses {
        assert_eq!(
            e.2,
            live_as(*seq, EntryKind::ExpenseRecorded),
            "expense {seq} liveness"
        );
    }
    for c in w.books.campaigns.values() {
        assert_eq!(
            c.live,
            live_as(c.seq, EntryKind::CampaignOpened),
            "campaign {} liveness",
            c.id
        );
    }
    for (seq, (kind, live)) in &w.model {
        let present = match kind {
            EntryKind::DonationReceived | EntryKind::ProcurementMade => {
                w.books.lots.contains_key(seq)
            }
            EntryKind::AllocationMade => w.books.allocations.contains_key(seq),
            EntryKind::DisbursementMade => w.books.disbursements.contains_key(seq),
            EntryKind::ExpenseRecorded => w.books.expenses.contains_key(seq),
            EntryKind::CampaignOpened => !live || w.books.campaigns.values().any(|c| c.seq == *seq),
            _ => true,
        };
        assert!(present, "{} at {seq} missing from the books", kind.as_str());
    }
    // What recipients said, tallied from their live statements in the log (following each
    // corrected disbursement to the replacement that took them over), is what the disbursements
    // record; what allocations and expenses drew, likewise, is what the draws record.
    let mut acknowledged: BTreeMap<Seq, i64> = BTreeMap::new();
    let mut used: BTreeMap<Seq, i64> = BTreeMap::new();
    let mut occurred: BTreeMap<Seq, DateTime<Utc>> = BTreeMap::new();
    for (seq, when, fact) in &w.log {
        // A replacement lives at the correction's seq with its own date (by default the
        // corrected fact's), published as `replacement_occurred_at`.
        let when = match fact {
            Fact::Correction(c) => c.replacement_occurred_at.unwrap_or(*when),
            _ => *when,
        };
        occurred.insert(*seq, when);
        if !w.model.get(seq).is_some_and(|f| f.1) {
            continue;
        }
        match living(fact) {
            Some(Fact::Acknowledgement(a)) => {
                let d = w.follow(a.disbursement);
                let units = parsed_or_zero(&a.asset).unwrap().1;
                assert!(
                    acknowledged.insert(d, units).is_none(),
                    "disbursement {d} has two live acknowledgements"
                );
            }
            Some(Fact::Usage(u)) => {
                *used.entry(w.follow(u.disbursement)).or_default() += parsed(&u.asset).unwrap().1
            }
            _ => {}
        }
    }
    for (seq, (_, fact)) in &w.living {
        let (asset, drawn_from) = match fact {
            Fact::Allocation(a) => (&a.asset, &a.drawn_from),
            Fact::Expense(e) => (&e.asset, &e.drawn_from),
            Fact::Procurement(p) => (&p.paid, &p.drawn_from),
            _ => continue,
        };
        if !w.model[seq].1 {
            continue;
        }
        let key = parsed(asset).unwrap().0;
        let mut logged: Vec<(Seq, i64)> = drawn_from
            .iter()
            .map(|d| {
                (
                    w.follow(d.donation),
                    parse_units(&d.amount, key.scale()).unwrap(),
                )
            })
            .collect();
        let mut held: Vec<(Seq, i64)> = w
            .books
            .draws
            .iter()
            .filter(|d| d.by == *seq)
            .map(|d| (d.donation, d.units))
            .collect();
        logged.sort_unstable();
        held.sort_unstable();
        assert_eq!(held, logged, "draws of {seq} vs its logged drawn_from");
        // No live expense is charged to a designation that bars costs without consent.
        if let Fact::Expense(e) = fact {
            for (lot, _) in &logged {
                assert!(
                    !costs_barred(&w.restriction_at(*lot)) || e.designation_change.is_some(),
                    "expense {seq} charged to lot {lot}, whose designation bars costs"
                );
            }
        }
    }
    for d in w.books.disbursements.values() {
        let (ack, use_) = if d.live {
            (
                acknowledged.get(&d.seq).copied(),
                used.get(&d.seq).copied().unwrap_or(0),
            )
        } else {
            (None, 0)
        };
        assert_eq!(d.acknowledged, ack, "disbursement {} acknowledged", d.seq);
        assert_eq!(d.used, use_, "disbursement {} used", d.seq);
    }
    for lot in w.books.lots.values() {
        assert_eq!(
            lot.occurred_at, occurred[&lot.seq],
            "lot {} occurred_at is its entry's",
            lot.seq
        );
    }
    for lot in w.books.lots.values().filter(|l| l.live) {
        let (asset, receipt, campaign, restriction) = match w.commands.get(&lot.seq) {
            Some(Command::Donation(r)) => (
                &r.asset,
                r.receipt_number.trim(),
                r.campaign.clone(),
                r.restriction.clone(),
            ),
            // Goods bought: no receipt number; the campaign of the money paid (as decided, and
            // checked against the oracle's prediction when it was).
            Some(Command::Procurement(r)) => {
                let Some(Fact::Procurement(p)) = w.living.get(&lot.seq).map(|(_, f)| f) else {
                    panic!("lot {} without its purchase", lot.seq)
                };
                (
                    &r.goods,
                    "",
                    p.campaign.clone(),
                    w.goods_restriction[&lot.seq].clone(),
                )
            }
            other => panic!("lot {} without a donation or purchase: {other:?}", lot.seq),
        };
        assert_eq!(Some((lot.asset.clone(), lot.received)), parsed(asset));
        assert_eq!(lot.receipt_number, receipt);
        assert_eq!(lot.campaign, campaign);
        assert_eq!(
            lot.designation.as_ref().map(|d| d.costs_allowed),
            match &restriction {
                RestrictionWire::None => None,
                RestrictionWire::Designated { costs_allowed, .. } => Some(*costs_allowed),
            },
            "lot {} costs_allowed",
            lot.seq
        );
        let designation = match &restriction {
            RestrictionWire::None => None,
            RestrictionWire::Designated {
                region_code,
                recipient,
                ..
            } => Some((region_code.clone(), recipient.clone())),
        };
        assert_eq!(
            lot.designation
                .as_ref()
                .map(|d| (d.region_code.clone(), d.recipient.clone())),
            designation
        );
    }
}

/// 6. Per live procurement: it pays, in money, from live lots of that money only, as much as it
///    paid; its goods are a live lot at its seq holding what it bought, received like a gift; and
///    they keep the designation of every lot of money paid for them (§9.2), as a replacement of
///    that money must leave them.
pub(crate) fn check_procurements(w: &World) {
    let b = &w.books;
    for (seq, (_, fact)) in &w.living {
        let Fact::Procurement(p) = fact else { continue };
        if !w.model[seq].1 {
            continue;
        }
        let (money, paid) = parsed(&p.paid).unwrap();
        assert!(money.is_money(), "procurement {seq} paid {money}");
        let draws: Vec<_> = b.draws.iter().filter(|d| d.by == *seq).collect();
        assert!(!draws.is_empty(), "procurement {seq} draws on nothing");
        for d in &draws {
            let lot = &b.lots[&d.donation];
            assert!(d.expense && d.units > 0, "procurement {seq}: {d:?}");
            assert!(
                lot.live,
                "procurement {seq} paid from voided lot {}",
                lot.seq
            );
            assert_eq!(
                lot.asset, money,
                "procurement {seq} paid from lot {}",
                lot.seq
            );
            assert!(
                keeps(&w.goods_restriction[seq], &w.restriction_at(lot.seq)),
                "goods bought by {seq} do not keep the designation of lot {}, which paid for them",
                lot.seq
            );
        }
        assert_eq!(
            draws.iter().map(|d| d.units).sum::<i64>(),
            paid,
            "procurement {seq} draws vs paid"
        );
        let goods = &b.lots[seq];
        assert!(
            goods.live,
            "goods bought by live procurement {seq} are voided"
        );
        assert_eq!(
            Some((goods.asset.clone(), goods.received)),
            parsed(&p.goods),
            "goods bought by {seq}"
        );
        assert!(!goods.asset.is_money(), "procurement {seq} bought money");
    }
}

pub(crate) fn check_invariants(w: &World) {
    check_lot_balances(&w.books, &procured(w));
    check_procurements(w);
    check_allocation_balances(&w.books);
    check_disbursements(&w.books);
    check_designations(&w.books, &w.allocation_bodies);
    check_model(w);
}

/// 5. A pool draw takes a prefix of the oldest undesignated lots with something left, using up all
///    but the last, and adds up to the units asked.
pub(crate) fn check_pool_oldest_first(
    pre: &MemoryBooks,
    key: &AssetKey,
    units: i64,
    drawn: &[Draw],
) {
    let queue = pool_queue(pre, key);
    assert!(
        drawn.len() <= queue.len(),
        "pool draw {drawn:?} longer than the queue"
    );
    let mut total = 0;
    for (i, (d, lot)) in drawn.iter().zip(&queue).enumerate() {
        assert_eq!(
            d.donation, lot.seq,
            "pool draw #{i} must come from the oldest lot left: {drawn:?}"
        );
        let u = parse_units(&d.amount, key.scale()).unwrap();
        assert!(
            0 < u && u <= lot.remaining(),
            "pool draw #{i} takes {u} of {}",
            lot.remaining()
        );
        if i + 1 < drawn.len() {
            assert_eq!(
                u,
                lot.remaining(),
                "pool draw #{i} must use up lot {} before the next",
                lot.seq
            );
        }
        total += u;
    }
    assert_eq!(total, units, "pool draws add up to the units allocated");
}

/// Check the drawn_from of an accepted allocation, expense or procurement against the books just
/// before.
pub(crate) fn check_draws(
    pre: &MemoryBooks,
    donation: Option<Seq>,
    pool: bool,
    asset: &AssetWire,
    drawn: &[Draw],
) {
    let (key, units) = parsed(asset).unwrap();
    if pool {
        check_pool_oldest_first(pre, &key, units, drawn);
    } else {
        assert_eq!(
            drawn,
            [Draw {
                donation: donation.unwrap(),
                amount: key.format(units)
            }]
        );
    }
}

/// 7. Replaying the accepted facts in order into fresh books rebuilds the same books, both from
///    the facts as decided and from their stored JSON bodies.
pub(crate) fn check_replay(w: &World) {
    let mut direct = fresh_books();
    let mut stored = fresh_books();
    for (seq, when, fact) in &w.log {
        replay(&mut direct, *seq, *when, fact).unwrap();
        let body = serde_json::to_value(fact).unwrap();
        let back = Fact::from_body(fact.kind(), body).unwrap();
        assert_eq!(&back, fact, "fact {seq} does not survive its stored form");
        replay(&mut stored, *seq, *when, &back).unwrap();
    }
    for rebuilt in [&direct, &stored] {
        assert_eq!(rebuilt.lots, w.books.lots, "replayed lots");
        assert_eq!(
            rebuilt.allocations, w.books.allocations,
            "replayed allocations"
        );
        assert_eq!(
            rebuilt.disbursements, w.books.disbursements,
            "replayed disbursements"
        );
        assert_eq!(rebuilt.expenses, w.books.expenses, "replayed expenses");
        assert_eq!(rebuilt.draws, w.books.draws, "replayed draws");
        assert_eq!(rebuilt.facts, w.books.facts, "replayed facts");
        assert_eq!(rebuilt.campaigns, w.books.campaigns, "replayed campaigns");
        assert_eq!(rebuilt.sources, w.books.sources, "replayed sources");
        assert_eq!(rebuilt, &w.books);
    }
    check_ledger_advances(w);
}

/// 8. The public ledger the reads use, advanced a few entries at a time as the log grows, equals
///    the one replayed from the whole log at once (and both hold the rules' books).
fn check_ledger_advances(w: &World) {
    use givetrail_domain::disclosure::received::ReceivedIndex;
    use givetrail_domain::disclosure::{Ledger, Party, Record};
    let party = || Party {
        id: "org".into(),
        name: "Org".into(),
        credit_code: None,
        kind: "charity".into(),
        region_code: "420100".into(),
        organization: None,
        ownership: None,
        designated_hospital: false,
        registered_by: None,
        confirmed_at: None,
    };
    let records: Vec<Record> = w
        .log
        .iter()
        .map(|(seq, when, fact)| Record {
            seq: *seq,
            kind: fact.kind(),
            occurred_at: *when,
            recorded_at: *when,
            fact: fact.clone(),
            entry_hash: Default::default(),
            author: None,
        })
        .collect();
    let whole = Ledger::new(party(), records.clone()).expect("the log replays");
    // What each recipient received, kept record by record, is what the books say when counted
    // from scratch.
    assert_eq!(
        whole.received_index(),
        &ReceivedIndex::recount(&whole),
        "recipients' totals kept by extend"
    );
    for step in [1, 3, 7] {
        let mut advanced = Ledger::new(party(), Vec::new()).expect("an empty log");
        for piece in records.chunks(step) {
            advanced
                .extend(piece.to_vec())
                .expect("the next entries replay");
        }
        assert_eq!(advanced.head(), whole.head(), "head after steps of {step}");
        assert_eq!(advanced.books, whole.books, "books after steps of {step}");
        assert_eq!(
            advanced.received_index(),
            whole.received_index(),
            "recipients' totals after steps of {step}"
        );
        for seq in 1..=whole.head() {
            assert_eq!(advanced.fact(seq), whole.fact(seq), "fact {seq}");
        }
        // Walking the records beside the books' facts finds the live ones a look-up finds.
        let looked_up: Vec<Seq> = whole
            .records
            .iter()
            .filter(|r| whole.is_live(r.seq))
            .map(|r| r.seq)
            .collect();
        let walked_live: Vec<Seq> = advanced.live_facts().map(|f| f.seq).collect();
        assert_eq!(walked_live, looked_up, "live facts after steps of {step}");
        let lots_searched: Vec<(Seq, bool)> = whole
            .books
            .lots
            .values()
            .filter(|l| l.live)
            .map(|l| (l.seq, whole.is_purchase(l.seq)))
            .collect();
        let lots_walked: Vec<(Seq, bool)> = advanced.live_lots().map(|(l, b)| (l.seq, b)).collect();
        assert_eq!(
            lots_walked, lots_searched,
            "live lots after steps of {step}"
        );
        // The index of facts by kind finds what a walk of the whole log finds.
        for kind in EntryKind::ALL {
            let walked: Vec<Seq> = whole
                .live_facts()
                .filter(|f| f.fact.kind() == kind)
                .map(|f| f.seq)
                .collect();
            let indexed = |l: &Ledger| l.live_facts_of(kind).map(|f| f.seq).collect::<Vec<_>>();
            assert_eq!(indexed(&whole), walked, "{kind:?}");
            assert_eq!(indexed(&advanced), walked, "{kind:?} after steps of {step}");
            let others: Vec<EntryKind> =
                EntryKind::ALL.into_iter().filter(|k| *k != kind).collect();
            let walked: Vec<Seq> = whole
                .live_facts()
                .filter(|f| f.fact.kind() != kind)
                .map(|f| f.seq)
                .collect();
            let indexed: Vec<Seq> = advanced
                .live_facts_of_any(&others)
                .iter()
                .map(|f| f.seq)
                .collect();
            assert_eq!(indexed, walked, "all but {kind:?} after steps of {step}");
        }
        let corrections: Vec<Seq> = whole
            .records
            .iter()
            .filter(|r| matches!(r.fact, Fact::Correction(_)))
            .map(|r| r.seq)
            .collect();
        let indexed: Vec<Seq> = advanced.correction_records().map(|r| r.seq).collect();
        assert_eq!(indexed, corrections, "corrections after steps of {step}");
        // Goods bought have no receipt number, and no gift is found by an empty one.
        assert_eq!(whole.donation_by_receipt(""), None, "receipt \"\"");
        assert_eq!(
            advanced.donation_by_receipt(""),
            None,
            "receipt \"\", advanced"
        );
        for lot in whole
            .books
            .lots
            .values()
            .filter(|l| !l.receipt_number.is_empty())
        {
            let scanned = whole
                .books
                .lots
                .values()
                .find(|l| l.live && l.receipt_number == lot.receipt_number)
                .map(|l| l.seq);
            let rn = &lot.receipt_number;
            assert_eq!(whole.donation_by_receipt(rn), scanned, "receipt {rn}");
            assert_eq!(
                advanced.donation_by_receipt(rn),
                scanned,
                "receipt {rn}, advanced"
            );
        }
    }
    assert_eq!(
        whole.books.lots, w.books.lots,
        "the ledger's lots are the rules' lots"
    );
    let mut gap = Ledger::new(party(), records.iter().take(1).cloned().collect()).expect("one");
    if let Some(third) = records.get(2) {
        assert!(gap.extend(vec![third.clone()]).is_err(), "a gap is refused");
    }
}
