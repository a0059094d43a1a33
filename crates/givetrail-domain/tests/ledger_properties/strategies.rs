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
    let after = prop_oneof![
        1 => Just(None),
        2 => (0i8..48).prop_map(Some),
        1 => (-2i8..=1).prop_map(Some),
    ];
    (0u8..30, any::<bool>(), prop::bool::weighted(0.03), after).prop_map(
        |(day, half, future, after)| When {
            day,
            half,
            future,
            after,
        },
    )
}

pub(crate) fn repl() -> impl Strategy<Value = Repl> {
    prop_oneof![
        4 => Just(Repl::None),
        2 => Just(Repl::Same),
        3 => amt().prop_map(Repl::Units),
        3 => (-1i64..=2).prop_map(Repl::Need),
        2 => to().prop_map(Repl::Recipient),
        2 => (desig(), any::<bool>()).prop_map(|(d, c)| Repl::Restriction(d, c)),
        2 => pick_strategy().prop_map(Repl::Refer),
        1 => prop::option::of(pick_strategy()).prop_map(Repl::Receipt),
        1 => Just(Repl::Rename),
        2 => when().prop_map(Repl::Redate),
        1 => (1u8..6).prop_map(Repl::Respell),
        1 => Just(Repl::Garbage),
    ]
}

pub(crate) fn op() -> impl Strategy<Value = Op> {
    let mismatch = || prop::bool::weighted(0.08);
    let units = prop_oneof![20 => 1i64..=1000, 1 => Just(0i64)];
    let related = prop_oneof![8 => Just(0u8), 2 => 1u8..16, 1 => 16u8..32];
    let target = prop_oneof![
        4 => pick_strategy().prop_map(Target::Pick),
        1 => (-1i64..80).prop_map(Target::Raw),
        6 => (0u8..8, pick_strategy()).prop_map(|(k, p)| Target::Kind(k, p)),
    ];
    let reuse = prop::option::weighted(0.08, pick_strategy());
    prop_oneof![
        1 => (0u8..2, any::<bool>(), prop::bool::weighted(0.8), when())
            .prop_map(|(id, public, record, when)| Op::Campaign { id, public, record, when }),
        8 => (
            (0u8..60, reuse, any::<u8>(), units),
            (desig(), prop::bool::weighted(0.3), related, prop::option::weighted(0.15, 0u8..2), when()),
        )
            .prop_map(|((receipt, reuse, asset, units), (desig, costs, related, campaign, when))| {
                Op::Donation { receipt, reuse, asset, units, desig, costs, related, campaign, when }
            }),
        8 => (src(), any::<u8>(), mismatch(), to(), amt(), prop::bool::weighted(0.25), when())
            .prop_map(|(src, asset, mismatch, to, amt, consent, when)| {
                Op::Allocation { src, asset, mismatch, to, amt, consent, when }
            }),
        6 => (pick_strategy(), any::<u8>(), mismatch(), amt(), when())
            .prop_map(|(pick, asset, mismatch, amt, when)| {
                Op::Disbursement { pick, asset, mismatch, amt, when }
            }),
        5 => (pick_strategy(), who(), any::<u8>(), mismatch(), prop::bool::weighted(0.05), amt(), when())
            .prop_map(|(pick, who, asset, mismatch, foreign, amt, when)| {
                Op::Acknowledgement { pick, who, asset, mismatch, foreign, amt, when }
            }),
        5 => (pick_strategy(), who(), amt(), 0u8..6, when())
            .prop_map(|(pick, who, amt, evidence, when)| Op::Usage { pick, who, amt, evidence, when }),
        3 => (src(), any::<u8>(), mismatch(), amt(), prop::bool::weighted(0.3), when())
            .prop_map(|(src, asset, mismatch, amt, consent, when)| {
                Op::Expense { src, asset, mismatch, amt, consent, when }
            }),
        5 => (
            (src(), any::<u8>(), mismatch(), amt()),
            (any::<u8>(), prop_oneof![20 => 1i64..=1000, 1 => Just(0i64)], prop_oneof![12 => Just(0u8), 1 => 1u8..3], when()),
        )
            .prop_map(|((src, currency, mismatch, amt), (goods, quantity, bad, when))| {
                Op::Procurement { src, currency, mismatch, amt, goods, quantity, bad, when }
            }),
        7 => (target, who(), repl(), when())
            .prop_map(|(target, who, repl, when)| Op::Correction { target, who, repl, when }),
    ]
}

/// Mostly the op as it is; sometimes its goods spelt another way.
pub(crate) fn spelled_op() -> impl Strategy<Value = Op> {
    (op(), prop_oneof![9 => Just(0u8), 1 => 1u8..6]).prop_map(|(op, spell)| {
        if spell == 0 {
            op
        } else {
            Op::Respelled(spell, Box::new(op))
        }
    })
}

/// How far down the chain donation → allocation → disbursement → acknowledgement → usage an
/// operation sits.
pub(crate) fn stage(op: &Op) -> u8 {
    match op {
        Op::Respelled(_, op) => stage(op),
        Op::Campaign { .. } | Op::Donation { .. } => 0,
        // After the money it pays with, before what draws on the goods.
        Op::Procurement { .. } => 6,
        Op::Allocation { .. } | Op::Expense { .. } => 12,
        // A correction comes after what it is likely to find depending on its target.
        Op::Correction {
            target: Target::Kind(k, _),
            ..
        } => [10, 22, 40, 48, 56, 22, 10, 20][usize::from(k % 8)],
        Op::Correction { .. } => 20,
        Op::Disbursement { .. } => 24,
        Op::Acknowledgement { .. } => 36,
        Op::Usage { .. } => 48,
    }
}

/// A history of up to 90 operations, loosely ordered down the chain (each is shifted by a random
/// amount, so every kind still interleaves with every other) so that deep states are reached.
pub(crate) fn history() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0u8..=50, spelled_op()), 1..90).prop_map(|mut ops| {
        ops.sort_by_key(|(shift, op)| stage(op) + shift);
        ops.into_iter().map(|(_, op)| op).collect()
    })
}
