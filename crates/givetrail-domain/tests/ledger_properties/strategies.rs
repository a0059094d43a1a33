//! Proptest strategies for operations and histories.

use super::*;

pub(crate) fn pick_strategy() -> impl Strategy<Value = Pick> {
    (any::<usize>(), prop::bool::weighted(0.15)).prop_map(|(index, any)| Pick { index, any })
}

pub(crate) fn amt() -> impl Strategy<Value = Amt> {
    prop_oneof![
        2 => (1i64..=400).prop_map(Amt::Fixed),
        1 => Just(Amt::Fixed(0)),
        3 => Just(Amt::Rest),
        4 => (1u8..=99).prop_map(Amt::Part),
        1 => (1i64..=3).prop_map(Amt::RestMinus),
        1 => (1i64..=60).prop_map(Amt::RestPlus),
    ]
}

pub(crate) fn src() -> impl Strategy<Value = Src> {
    prop_oneof![
        5 => pick_strategy().prop_map(Src::Lot),
        4 => Just(Src::Pool),
        1 => (-1i64..70).prop_map(Src::Seq),
        1 => Just(Src::Both),
        1 => Just(Src::Neither),
    ]
}

pub(crate) fn desig() -> impl Strategy<Value = Desig> {
    prop_oneof![
        8 => Just(Desig::None),
        3 => any::<u8>().prop_map(Desig::Region),
        3 => recipient_index().prop_map(Desig::Recipient),
        3 => (any::<u8>(), recipient_index()).prop_map(|(r, i)| Desig::Both(r, i)),
        1 => Just(Desig::Empty),
    ]
}

/// Mostly a registered recipient, sometimes the unregistered one.
pub(crate) fn recipient_index() -> impl Strategy<Value = u8> {
    prop_oneof![8 => 0u8..4, 1 => Just(4u8)]
}

pub(crate) fn to() -> impl Strategy<Value = To> {
    prop_oneof![
        4 => (0u8..4).prop_map(To::Index),
        1 => Just(To::Index(4)),
        4 => Just(To::Honour),
    ]
}

pub(crate) fn who() -> impl Strategy<Value = Who> {
    prop_oneof![8 => Just(Who::Right), 1 => (0u8..5).prop_map(Who::Other), 1 => Just(Who::Charity)]
}

pub(crate) fn when() -> impl Strategy<Value = When> {
    (0u8..30, any::<bool>(), prop::bool::weighted(0.03)).prop_map(|(day, half, future)| When {
        day,
        half,
        future,
    })
}

pub(crate) fn repl() -> impl Strategy<Value = Repl> {
    prop_oneof![
        4 => Just(Repl::None),
        2 => Just(Repl::Same),
        3 => amt().prop_map(Repl::Units),
        2 => to().prop_map(Repl::Recipient),
        1 => Just(Repl::Garbage),
    ]
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let mismatch = || prop::bool::weighted(0.08);
    let units = prop_oneof![20 => 1i64..=1000, 1 => Just(0i64)];
    let related = prop_oneof![8 => Just(0u8), 2 => 1u8..16, 1 => 16u8..32];
    let target = prop_oneof![
        6 => pick_strategy().prop_map(Target::Pick),
        1 => (-1i64..80).prop_map(Target::Raw),
    ];
    prop_oneof![
        1 => (0u8..2, any::<bool>(), prop::bool::weighted(0.8), when())
            .prop_map(|(id, public, record, when)| Op::Campaign { id, public, record, when }),
        8 => (0u8..60, any::<u8>(), units, desig(), related, prop::option::weighted(0.15, 0u8..2), when())
            .prop_map(|(receipt, asset, units, desig, related, campaign, when)| {
                Op::Donation { receipt, asset, units, desig, related, campaign, when }
            }),
        8 => (src(), any::<u8>(), mismatch(), to(), amt(), prop::bool::weighted(0.25), when())
            .prop_map(|(src, asset, mismatch, to, amt, consent, when)| {
                Op::Allocation { src, asset, mismatch, to, amt, consent, when }
            }),
        6 => (pick_strategy(), any::<u8>(), mismatch(), amt(), when())
            .prop_map(|(pick, asset, mismatch, amt, when)| {
                Op::Disbursement { pick, asset, mismatch, amt, when }
            }),
        4 => (pick_strategy(), who(), any::<u8>(), mismatch(), prop::bool::weighted(0.05), amt(), when())
            .prop_map(|(pick, who, asset, mismatch, foreign, amt, when)| {
                Op::Acknowledgement { pick, who, asset, mismatch, foreign, amt, when }
            }),
        4 => (pick_strategy(), who(), amt(), 0u8..6, when())
            .prop_map(|(pick, who, amt, evidence, when)| Op::Usage { pick, who, amt, evidence, when }),
        2 => (src(), any::<u8>(), mismatch(), amt(), when())
            .prop_map(|(src, asset, mismatch, amt, when)| Op::Expense { src, asset, mismatch, amt, when }),
        3 => (target, repl(), when()).prop_map(|(target, repl, when)| Op::Correction { target, repl, when }),
    ]
}

/// How far down the chain donation → allocation → disbursement → acknowledgement → usage an
/// operation sits.
pub(crate) fn stage(op: &Op) -> u8 {
    match op {
        Op::Campaign { .. } | Op::Donation { .. } => 0,
        Op::Allocation { .. } | Op::Expense { .. } => 12,
        Op::Correction { .. } => 20,
        Op::Disbursement { .. } => 24,
        Op::Acknowledgement { .. } => 36,
        Op::Usage { .. } => 48,
    }
}

/// A history of up to 60 operations, loosely ordered down the chain (each is shifted by a random
/// amount, so every kind still interleaves with every other) so that deep states are reached.
pub(crate) fn history() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0u8..=50, op()), 1..60).prop_map(|mut ops| {
        ops.sort_by_key(|(shift, op)| stage(op) + shift);
        ops.into_iter().map(|(_, op)| op).collect()
    })
}
