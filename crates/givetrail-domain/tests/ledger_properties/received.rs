//! Worked example of what the read model keeps per recipient ([`Ledger::received`]): totals and
//! the ordered list follow disbursements, acknowledgements, usage reports and corrections, equal
//! a recount from the books, and equal what a ledger advanced one entry at a time keeps.

use givetrail_domain::disclosure::received::{GivenTotals, ReceivedIndex};
use givetrail_domain::disclosure::{Ledger, Party, Record};

use crate::*;

fn ledger_of(w: &World, upto: usize) -> Ledger {
    let party = Party {
        id: ORG.into(),
        name: "Org".into(),
        credit_code: None,
        kind: "charity".into(),
        region_code: "420000".into(),
        organization: None,
        ownership: None,
        designated_hospital: false,
        registered_by: None,
        confirmed_at: None,
    };
    let records = w
        .log
        .iter()
        .take(upto)
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
    Ledger::new(party, records).expect("the log replays")
}

#[test]
fn recipient_totals_follow_statements_and_corrections_as_a_recount_does() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &masks(), 1_000, RestrictionWire::None, at(1, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &masks(),
            1_000,
            at(2, 0),
        )),
    );
    let (first, _) = w.accept(&charity(), &disbursement(alloc, &masks(), 600, at(3, 0)));
    let (second, _) = w.accept(&charity(), &disbursement(alloc, &masks(), 400, at(4, 0)));
    w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(first, &masks(), 590, at(5, 0)),
    );
    w.accept(
        &recipient("wuhan-union"),
        &usage(first, &masks(), 100, None, at(6, 0)),
    );
    let before = ledger_of(&w, w.log.len());
    let totals = |l: &Ledger| -> GivenTotals {
        l.received("wuhan-union")
            .expect("received")
            .totals
            .get(&masks())
            .copied()
            .unwrap_or_default()
    };
    assert_eq!(
        totals(&before),
        GivenTotals {
            allocations: 1,
            allocated: 1_000,
            disbursements: 2,
            disbursed: 1_000,
            acknowledged: 590,
            used: 100,
            unacknowledged: 400,
        }
    );
    // The unacknowledged disbursement is replaced by one dated before the first: it moves to the
    // front of the list, under the correction's seq, and the totals change by its difference.
    let replacement = disbursement(alloc, &masks(), 300, at(2, 12));
    let mut fix = correction(second, Some(&replacement), at(7, 0));
    if let Command::Correction(c) = &mut fix {
        if let Some(body) = c.replacement.as_mut().and_then(|b| b.as_object_mut()) {
            body.insert("occurred_at".into(), serde_json::json!(at(2, 12)));
        }
    }
    let (moved, _) = w.accept(&charity(), &fix);
    let after = ledger_of(&w, w.log.len());
    assert_eq!(
        totals(&after),
        GivenTotals {
            allocations: 1,
            allocated: 1_000,
            disbursements: 2,
            disbursed: 900,
            acknowledged: 590,
            used: 100,
            unacknowledged: 300,
        }
    );
    let order: Vec<Seq> = after
        .received("wuhan-union")
        .expect("received")
        .disbursements
        .iter()
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(order, vec![moved, first]);
    assert!(after.received("wuhan-jinyintan").is_none());
    assert_eq!(after.received_index(), &ReceivedIndex::recount(&after));

    // One entry at a time keeps the same, and so does a ledger extended from the earlier one.
    let mut stepped = ledger_of(&w, 0);
    for n in 1..=w.log.len() {
        let one = ledger_of(&w, n);
        stepped
            .extend(one.records.iter().skip(n - 1).cloned().collect())
            .expect("the next entry replays");
        assert_eq!(stepped.received_index(), one.received_index(), "after {n}");
        assert_eq!(one.received_index(), &ReceivedIndex::recount(&one), "{n}");
    }
    let mut extended = before.clone();
    extended
        .extend(
            after
                .records
                .iter()
                .skip(before.records.len())
                .cloned()
                .collect(),
        )
        .expect("the correction replays");
    assert_eq!(extended.received_index(), after.received_index());

    // Voiding the allocation's only live draw is refused while it has live disbursements, so
    // nothing else can change what the recipient was allocated: check_replay agrees.
    check_replay(&w);
}
