//! Property tests of the ledger rules (writing entries and correcting them), driven through
//! `ledger::execute` on `MemoryBooks`.
//!
//! A random history of commands over a small world (two currencies, two kinds of goods spelt
//! several ways, four recipients in three regions and one unregistered slug) is run against the
//! rules. Many commands are refused on purpose. After every step the balances, designations and
//! acknowledgement rules are checked; every refusal must leave the books as they were; an
//! independent oracle (written from the contract, second edition, not from the code) says
//! whether each command should have been accepted and, for the refusals whose shape the contract
//! fixes (403/422 on another party's statement, 409 on a receipt number, `occurred_at`, the
//! dependants a correction would break), what the refusal must name; and at the end the accepted
//! facts are replayed into fresh books, which must equal the executed ones in full.
//!
//! The histories correct entries with and without replacements, including entries with live
//! dependants (a disbursement corrected down to exactly what was acknowledged, and below it), by
//! the charity and by recipients (their own acknowledgements and usage reports, and others');
//! acknowledge nothing ("0"); charge expenses to designated gifts with and without
//! `costs_allowed` or consent; date entries before what they draw on; reuse voided receipt
//! numbers; and spell goods with other spaces and unit case. They buy goods with money
//! (`procurement.made`) from a money donation, a designated one or the pool, sometimes more than
//! remains, before the money arrived, paid in goods or buying money; then allocate, charge and
//! correct the goods bought, and correct the purchase (and the money it paid with) while its
//! goods are allocated. Transfers between charities need a second organisation and are covered
//! by the worked examples at the end.
//!
//! Layout: `world` (the world, command builders and the `World` harness), `oracle` (what the
//! rules should decide), `invariants` (what must hold after every step), `history` (generated
//! operations and the runner), `strategies` (proptest strategies); this file holds the property
//! and the worked examples.

use std::collections::BTreeMap;
use std::convert::Infallible;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use givetrail_domain::asset::{parse_units, AssetKey, AssetWire, Currency, GoodsKind};
use givetrail_domain::entry::{
    AcknowledgementRequest, AllocationBody, AllocationRequest, Author, CampaignRequest, Command,
    CorrectionRequest, DesignationChange, DisbursementChannel, DisbursementRequest,
    DonationChannel, DonationRequest, DonorKind, DonorRequest, Draw, EntryKind, EntryRef,
    ExpenseRequest, Fact, ProcurementBody, ProcurementRequest, RestrictionWire, Role, Seq,
    SourceDisbursement, Supplier, UsageRequest,
};
use givetrail_domain::error::RuleError;
use givetrail_domain::ids::{RegionCode, Slug};
use givetrail_domain::ledger::{
    designation_breach, execute, replay, Books, Change, Context, Decision, Designation,
    ForeignDisbursement, Lot, MemoryBooks, OrgContext, RecipientInfo, Rejection,
};

mod history;
mod invariants;
mod oracle;
mod received;
mod strategies;
mod world;

use history::*;
use invariants::*;
use oracle::*;
use strategies::*;
use world::*;

proptest! {
    // 1024 cases by default (a few seconds in debug); PROPTEST_CASES=N runs a deeper search.
    // No regression file is written: a failure found here belongs in an example test below.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(1024),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random histories keep every balance, designation and acknowledgement rule, refuse exactly
    /// what the contract refuses without changing anything, and replay to the same books.
    #[test]
    fn ledger_rules_hold_over_random_histories(ops in history()) {
        run_history(&ops);
    }
}

// ---------------------------------------------------------------------------------------------
// Examples

fn refused_field(e: &Refusal) -> &str {
    match e {
        Rejection::Rule(r) => r.field(),
        other => panic!("expected a rule refusal, got {other:?}"),
    }
}

#[test]
fn over_allocation_is_refused_and_nothing_changes() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let first = allocation(Some(gift), "wuhan-union", &cny(), 6_000, at(2, 0));
    w.accept(&charity(), &Command::Allocation(first));
    let too_much = allocation(Some(gift), "wuhan-jinyintan", &cny(), 4_001, at(2, 0));
    let e = w.refuse(&charity(), &Command::Allocation(too_much));
    assert!(
        matches!(e, Rejection::Rule(RuleError::Refused { .. })),
        "{e:?}"
    );
    assert_eq!(refused_field(&e), "asset");
    assert_eq!(w.books.lots[&gift].remaining(), 4_000);
    let exact = allocation(Some(gift), "wuhan-jinyintan", &cny(), 4_000, at(2, 0));
    w.accept(&charity(), &Command::Allocation(exact));
    assert_eq!(w.books.lots[&gift].remaining(), 0);
    check_invariants_plain(&w);
}

#[test]
fn designated_gift_cannot_go_outside_its_region_without_consent() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation(
            "R-1",
            &masks(),
            36_000_000,
            designated(Some("420100"), None),
            at(1, 0),
        ),
    );
    let outside = allocation(Some(gift), "hangzhou-first", &masks(), 1_000_000, at(2, 0));
    let e = w.refuse(&charity(), &Command::Allocation(outside));
    assert_eq!(refused_field(&e), "recipient");
    let other_city = allocation(
        Some(gift),
        "huanggang-central",
        &masks(),
        1_000_000,
        at(2, 0),
    );
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(other_city))),
        "recipient"
    );
    let inside = allocation(Some(gift), "wuhan-union", &masks(), 1_000_000, at(2, 0));
    w.accept(&charity(), &Command::Allocation(inside));
    // Designated lots never reach the pool.
    let pool = allocation(None, "hangzhou-first", &masks(), 1, at(2, 0));
    w.refuse(&charity(), &Command::Allocation(pool));
    check_invariants_plain(&w);
}

#[test]
fn designation_change_with_consent_is_accepted_and_recorded() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation(
            "R-1",
            &cny(),
            5_000_000,
            designated(None, Some("wuhan-union")),
            at(1, 0),
        ),
    );
    let mut moved = allocation(Some(gift), "hangzhou-first", &cny(), 1_000_000, at(3, 0));
    moved.designation_change = Some(consent());
    let (seq, decision) = w.accept(&charity(), &Command::Allocation(moved));
    let Fact::Allocation(body) = &decision.fact else {
        panic!("{decision:?}")
    };
    assert_eq!(body.designation_change, Some(consent()));
    assert_eq!(
        w.allocation_bodies[&seq]
            .designation_change
            .as_ref()
            .unwrap()
            .donor_consent_reference,
        CONSENT
    );
    let json = serde_json::to_value(&decision.fact).unwrap();
    assert_eq!(
        json["designation_change"]["donor_consent_reference"],
        CONSENT
    );
    check_invariants_plain(&w);
}

#[test]
fn designation_change_is_refused_when_the_designation_is_honoured() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation(
            "R-1",
            &cny(),
            1_000,
            designated(Some("420000"), None),
            at(1, 0),
        ),
    );
    let mut honoured = allocation(Some(gift), "wuhan-union", &cny(), 100, at(3, 0));
    honoured.designation_change = Some(consent());
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(honoured))),
        "designation_change"
    );
    w.accept(
        &charity(),
        &donation("R-2", &cny(), 1_000, RestrictionWire::None, at(1, 0)),
    );
    let mut pool = allocation(None, "wuhan-union", &cny(), 100, at(3, 0));
    pool.designation_change = Some(consent());
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(pool))),
        "designation_change"
    );
}

#[test]
fn related_party_designation_is_refused() {
    let mut w = World::new();
    let mut cmd = donation(
        "R-1",
        &cny(),
        1_000,
        designated(None, Some("wuhan-union")),
        at(1, 0),
    );
    if let Command::Donation(r) = &mut cmd {
        r.donor.related_recipients = vec![slug("wuhan-union")];
    }
    assert_eq!(
        refused_field(&w.refuse(&charity(), &cmd)),
        "restriction.recipient"
    );
    // The same donor may designate a recipient it is not related to.
    if let Command::Donation(r) = &mut cmd {
        r.restriction = designated(None, Some("wuhan-jinyintan"));
    }
    let (seq, decision) = w.accept(&charity(), &cmd);
    let Fact::Donation(body) = &decision.fact else {
        panic!()
    };
    assert!(
        body.donor.related_recipients_commitment.is_some(),
        "related parties are committed to, not shown"
    );
    assert!(w.books.lots[&seq].live);
}

#[test]
fn designated_recipient_outside_designated_region_is_refused() {
    let mut w = World::new();
    let cmd = donation(
        "R-1",
        &cny(),
        1_000,
        designated(Some("420100"), Some("hangzhou-first")),
        at(1, 0),
    );
    assert_eq!(
        refused_field(&w.refuse(&charity(), &cmd)),
        "restriction.region_code"
    );
}

#[test]
fn pool_allocation_is_attributed_oldest_first() {
    let mut w = World::new();
    let (newest, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(10, 0)),
    );
    let (oldest, _) = w.accept(
        &charity(),
        &donation("R-2", &cny(), 5_000, RestrictionWire::None, at(5, 0)),
    );
    // Older still, but designated or another currency: not in the CNY pool.
    w.accept(
        &charity(),
        &donation(
            "R-3",
            &cny(),
            7_000,
            designated(Some("420000"), None),
            at(1, 0),
        ),
    );
    w.accept(
        &charity(),
        &donation("R-4", &usd(), 7_000, RestrictionWire::None, at(1, 0)),
    );
    // Same day as R-2: the seq breaks the tie.
    let (tied, _) = w.accept(
        &charity(),
        &donation("R-5", &cny(), 3_000, RestrictionWire::None, at(5, 0)),
    );
    let before = w.books.clone();
    let (_, decision) = w.accept(
        &charity(),
        &Command::Allocation(allocation(None, "wuhan-union", &cny(), 12_000, at(11, 0))),
    );
    let Fact::Allocation(body) = &decision.fact else {
        panic!()
    };
    let expected = vec![
        Draw {
            donation: oldest,
            amount: "50.00".into(),
        },
        Draw {
            donation: tied,
            amount: "30.00".into(),
        },
        Draw {
            donation: newest,
            amount: "40.00".into(),
        },
    ];
    assert_eq!(body.drawn_from, expected);
    check_pool_oldest_first(&before, &cny(), 12_000, &body.drawn_from);
    assert_eq!(w.books.lots[&newest].remaining(), 6_000);
    // The pool now holds 60.00 CNY: 60.01 is refused.
    w.refuse(
        &charity(),
        &Command::Allocation(allocation(None, "wuhan-union", &cny(), 6_001, at(11, 0))),
    );
    check_invariants_plain(&w);
}

#[test]
fn pool_expense_is_charged_oldest_first() {
    let mut w = World::new();
    let (newer, _) = w.accept(
        &charity(),
        &donation("R-1", &masks(), 5_000, RestrictionWire::None, at(3, 0)),
    );
    let (older, _) = w.accept(
        &charity(),
        &donation("R-2", &masks(), 2_000, RestrictionWire::None, at(2, 0)),
    );
    let (_, decision) = w.accept(&charity(), &expense(None, &masks(), 3_000, at(4, 0)));
    let Fact::Expense(body) = &decision.fact else {
        panic!()
    };
    assert_eq!(
        body.drawn_from,
        vec![
            Draw {
                donation: older,
                amount: "2.000".into()
            },
            Draw {
                donation: newer,
                amount: "1.000".into()
            }
        ]
    );
    assert_eq!(w.books.lots[&newer].expensed, 1_000);
    check_invariants_plain(&w);
}

/// A chain donation → allocation → disbursement of `units` masks to wuhan-union; returns the
/// disbursement's seq.
fn disbursed_masks(w: &mut World, units: i64) -> Seq {
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &masks(), units, RestrictionWire::None, at(1, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &masks(),
            units,
            at(2, 0),
        )),
    );
    let (disb, _) = w.accept(&charity(), &disbursement(alloc, &masks(), units, at(3, 0)));
    disb
}

#[test]
fn shortfall_on_acknowledgement_is_recorded_not_refused() {
    let mut w = World::new();
    let disb = disbursed_masks(&mut w, 1_000_000);
    let (_, decision) = w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &masks(), 980_000, at(4, 0)),
    );
    let Fact::Acknowledgement(body) = &decision.fact else {
        panic!()
    };
    assert_eq!(body.shortfall, "20.000");
    assert_eq!(body.disbursed, wire(&masks(), 1_000_000));
    assert_eq!(w.books.disbursements[&disb].acknowledged, Some(980_000));
    // A disbursement is acknowledged once.
    let e = w.refuse(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &masks(), 20_000, at(5, 0)),
    );
    assert!(
        matches!(e, Rejection::Rule(RuleError::Conflict { .. })),
        "{e:?}"
    );
    check_invariants_plain(&w);
}

#[test]
fn surplus_on_acknowledgement_is_a_negative_shortfall() {
    let mut w = World::new();
    let disb = disbursed_masks(&mut w, 1_000_000);
    let (_, decision) = w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &masks(), 1_000_500, at(4, 0)),
    );
    let Fact::Acknowledgement(body) = &decision.fact else {
        panic!()
    };
    assert_eq!(body.shortfall, "-0.500");
}

#[test]
fn only_the_named_recipient_can_acknowledge() {
    let mut w = World::new();
    let disb = disbursed_masks(&mut w, 1_000);
    for author in [charity(), recipient("wuhan-jinyintan")] {
        assert_eq!(
            refused_field(&w.refuse(&author, &acknowledgement(disb, &masks(), 1_000, at(4, 0)))),
            "disbursement"
        );
    }
    w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &masks(), 1_000, at(4, 0)),
    );
}

#[test]
fn usage_beyond_acknowledged_is_refused() {
    let mut w = World::new();
    let disb = disbursed_masks(&mut w, 1_000_000);
    let author = recipient("wuhan-union");
    // Nothing acknowledged yet: nothing can be reported used.
    w.refuse(&author, &usage(disb, &masks(), 1, None, at(4, 0)));
    w.accept(&author, &acknowledgement(disb, &masks(), 980_000, at(4, 0)));
    assert_eq!(
        refused_field(&w.refuse(&author, &usage(disb, &masks(), 980_001, None, at(5, 0)))),
        "asset"
    );
    w.accept(
        &author,
        &usage(disb, &masks(), 500_000, Some("0f".repeat(32)), at(5, 0)),
    );
    w.refuse(&author, &usage(disb, &masks(), 480_001, None, at(6, 0)));
    w.accept(&author, &usage(disb, &masks(), 480_000, None, at(6, 0)));
    assert_eq!(w.books.disbursements[&disb].used, 980_000);
    check_invariants_plain(&w);
}

#[test]
fn disbursement_beyond_the_allocation_is_refused() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &cny(),
            6_000,
            at(2, 0),
        )),
    );
    w.accept(&charity(), &disbursement(alloc, &cny(), 5_000, at(3, 0)));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &disbursement(alloc, &cny(), 1_001, at(3, 0)))),
        "asset"
    );
    w.refuse(&charity(), &disbursement(alloc, &usd(), 1_000, at(3, 0)));
    w.accept(&charity(), &disbursement(alloc, &cny(), 1_000, at(3, 0)));
    assert_eq!(w.books.allocations[&alloc].disbursed, 6_000);
    check_invariants_plain(&w);
}

#[test]
fn donation_with_live_allocations_cannot_be_corrected() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &cny(),
            6_000,
            at(2, 0),
        )),
    );
    let e = w.refuse(&charity(), &correction(gift, None, at(3, 0)));
    assert_eq!(refused_field(&e), "corrects");
    // Correct the allocation first: its units go back to the donation.
    w.accept(&charity(), &correction(alloc, None, at(3, 0)));
    assert_eq!(w.books.lots[&gift].remaining(), 10_000);
    assert!(!w.books.allocations[&alloc].live);
    // Now the donation itself can be corrected, and its receipt number used again.
    let fixed = donation("R-1", &cny(), 12_000, RestrictionWire::None, at(1, 0));
    let (seq, _) = w.accept(&charity(), &correction(gift, Some(&fixed), at(4, 0)));
    assert!(!w.books.lots[&gift].live);
    assert_eq!(w.books.lots[&seq].received, 12_000);
    // An entry is corrected once.
    w.refuse(&charity(), &correction(gift, None, at(5, 0)));
    check_invariants_plain(&w);
}

#[test]
fn acknowledged_disbursement_cannot_be_corrected_and_acknowledgements_are_not_the_charitys() {
    let mut w = World::new();
    let disb = disbursed_masks(&mut w, 1_000);
    let (ack, _) = w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &masks(), 900, at(4, 0)),
    );
    w.refuse(&charity(), &correction(disb, None, at(5, 0)));
    w.refuse(&charity(), &correction(ack, None, at(5, 0)));
}

#[test]
fn replacement_allocation_can_reuse_the_units_it_replaces() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation(
            "R-1",
            &cny(),
            10_000,
            designated(Some("420100"), None),
            at(1, 0),
        ),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &cny(),
            10_000,
            at(2, 0),
        )),
    );
    let replacement = Command::Allocation(allocation(
        Some(gift),
        "wuhan-jinyintan",
        &cny(),
        10_000,
        at(3, 0),
    ));
    let (seq, decision) = w.accept(&charity(), &correction(alloc, Some(&replacement), at(3, 0)));
    let Fact::Correction(body) = &decision.fact else {
        panic!()
    };
    assert_eq!(body.corrected_kind, EntryKind::AllocationMade);
    assert!(matches!(
        body.replacement.as_deref(),
        Some(Fact::Allocation(_))
    ));
    assert_eq!(w.books.allocations[&seq].recipient, slug("wuhan-jinyintan"));
    assert_eq!(w.books.lots[&gift].remaining(), 0);
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn malformed_replacement_changes_nothing() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let mut cmd = correction(gift, None, at(2, 0));
    if let Command::Correction(c) = &mut cmd {
        c.replacement = Some(serde_json::json!({"receipt_number": "R-1"}));
    }
    let e = w.refuse(&charity(), &cmd);
    assert!(matches!(e, Rejection::Invalid(_)), "{e:?}");
}

#[test]
fn refused_replacement_leaves_only_the_void_for_the_caller_to_roll_back() {
    // Documented: `execute` applies a correction's void before deciding its replacement, so the
    // caller must roll back on error. Nothing beyond the void may have been applied.
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &cny(),
            6_000,
            at(2, 0),
        )),
    );
    let too_much = Command::Allocation(allocation(
        Some(gift),
        "wuhan-union",
        &cny(),
        10_001,
        at(3, 0),
    ));
    let cmd = correction(alloc, Some(&too_much), at(3, 0));
    let before = w.books.clone();
    let mut raw = w.books.clone();
    let counter = &mut 0u64;
    let mut salt = || {
        *counter += 1;
        counter.to_string()
    };
    let author = charity();
    let e = execute(
        &mut raw,
        &mut Context {
            org: &w.org,
            author: &author,
            now: now(),
            salt: &mut salt,
            replacing: None,
        },
        3,
        &cmd,
    )
    .unwrap_err();
    assert_eq!(refused_field(&e), "replacement.asset");
    assert_eq!(Some(raw), after_void(&before, alloc, 3));
    // Through the harness (which rolls back) the books are as they were.
    w.refuse(&charity(), &cmd);
    assert_eq!(w.books, before);
}

#[test]
fn future_entries_are_refused() {
    let mut w = World::new();
    let e = w.refuse(
        &charity(),
        &donation(
            "R-1",
            &cny(),
            100,
            RestrictionWire::None,
            now() + Duration::seconds(301),
        ),
    );
    assert!(matches!(e, Rejection::Invalid(_)), "{e:?}");
    w.accept(
        &charity(),
        &donation(
            "R-1",
            &cny(),
            100,
            RestrictionWire::None,
            now() + Duration::seconds(300),
        ),
    );
}

#[test]
fn receipt_numbers_are_unique_among_live_donations() {
    let mut w = World::new();
    w.accept(
        &charity(),
        &donation("R-1", &cny(), 100, RestrictionWire::None, at(1, 0)),
    );
    let e = w.refuse(
        &charity(),
        &donation("R-1", &usd(), 100, RestrictionWire::None, at(1, 0)),
    );
    assert!(
        matches!(e, Rejection::Rule(RuleError::Conflict { .. })),
        "{e:?}"
    );
}

#[test]
fn correction_notices_cannot_be_corrected() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 100, RestrictionWire::None, at(1, 0)),
    );
    let (notice, _) = w.accept(&charity(), &correction(gift, None, at(2, 0)));
    // A void-only correction leaves nothing living at its seq: correcting it is refused.
    w.refuse(&charity(), &correction(notice, None, at(3, 0)));
    let again = donation("R-1", &cny(), 100, RestrictionWire::None, at(1, 0));
    w.refuse(&charity(), &correction(notice, Some(&again), at(3, 0)));
    check_replay(&w);
}

#[test]
fn campaign_with_live_donations_cannot_be_corrected() {
    let mut w = World::new();
    let (appeal, _) = w.accept(&charity(), &campaign("wuhan-2020", true, true, at(0, 0)));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &campaign("wuhan-2020", false, false, at(0, 0)))),
        "id"
    );
    let mut gift = donation("R-1", &cny(), 100, RestrictionWire::None, at(1, 0));
    if let Command::Donation(r) = &mut gift {
        r.campaign = Some(slug("wuhan-2020"));
    }
    let (gift_seq, _) = w.accept(&charity(), &gift);
    w.refuse(&charity(), &correction(appeal, None, at(2, 0)));
    w.accept(&charity(), &correction(gift_seq, None, at(2, 0)));
    w.accept(&charity(), &correction(appeal, None, at(2, 0)));
    // The voided campaign takes no more donations, and its slug may be opened again.
    let mut late = donation("R-2", &cny(), 100, RestrictionWire::None, at(3, 0));
    if let Command::Donation(r) = &mut late {
        r.campaign = Some(slug("wuhan-2020"));
    }
    w.refuse(&charity(), &late);
    w.accept(&charity(), &campaign("wuhan-2020", false, false, at(3, 0)));
    w.accept(&charity(), &late);
    check_replay(&w);
}

#[test]
fn public_fundraising_campaign_needs_a_record_number() {
    let mut w = World::new();
    assert_eq!(
        refused_field(&w.refuse(&charity(), &campaign("wuhan-2020", true, false, at(0, 0)))),
        "record_number"
    );
    w.accept(&charity(), &campaign("wuhan-2020", false, false, at(0, 0)));
}

/// Run one generated history, checking every property; returns the world for inspection.
fn run_history(ops: &[Op]) -> World {
    let mut w = World::new();
    for op in ops {
        let step = w.resolve(op);
        w.step(&step);
        check_invariants(&w);
    }
    check_replay(&w);
    w
}

#[test]
fn random_histories_exercise_every_rule() {
    // Guards against a vacuous generator: over a fixed sample of histories every kind of step is
    // both accepted and refused, and the main refusal reasons all occur.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let strategy = history();
    let mut tally: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..256 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let w = run_history(&ops);
        for (k, (a, r)) in w.tally {
            let t = tally.entry(k).or_default();
            t.0 += a;
            t.1 += r;
        }
        for (k, n) in w.reasons {
            *reasons.entry(k).or_default() += n;
        }
    }
    if std::env::var_os("LEDGER_PROPERTIES_STATS").is_some() {
        eprintln!("{tally:#?}\n{reasons:#?}");
    }
    for (label, (accepted, refused)) in &tally {
        assert!(
            *accepted > 0 && *refused > 0,
            "{label}: {accepted} accepted, {refused} refused"
        );
    }
    let labels: Vec<&str> = tally.keys().copied().collect();
    assert_eq!(
        labels,
        [
            "acknowledgement of nothing",
            "acknowledgement.recorded",
            "allocation from a donation",
            "allocation from the pool",
            "allocation of goods bought",
            "allocation with designation change",
            "campaign.opened",
            "correction with replacement",
            "correction with replacement, with live dependants",
            "correction without replacement",
            "designated donation",
            "disbursement.made",
            "donation.received",
            "expense on a designated donation",
            "expense on a donation",
            "expense on goods bought",
            "expense on the pool",
            "procurement corrected with replacement",
            "procurement corrected with replacement, with live dependants",
            "procurement corrected without replacement",
            "procurement from a designated donation",
            "procurement from a donation",
            "procurement from the pool",
            "recipient's correction with replacement",
            "recipient's correction without replacement",
            "usage.reported",
        ],
        "{tally:#?}"
    );
    // The second edition's refusals all occur.
    for reason in [
        "receipt number used before",
        "drawn before the donation arrived",
        "disbursed before it was allocated",
        "acknowledged before it was sent",
        "used before it was acknowledged",
        "costs charged to a designated donation without consent",
        "designation change on funds that allow costs",
        "another recipient's statement",
        "the recipient's statement, not the charity's",
        "a void with live dependants",
        "replacement breaks dependants: less than was acknowledged",
        "replacement breaks dependants: less than was disbursed",
        "replacement breaks dependants: less than is drawn",
        "replacement breaks dependants: less than was reported used",
        "replacement breaks dependants: another recipient",
        "replacement breaks dependants: another asset",
        "replacement breaks dependants: an expense would be charged without consent",
        "replacement breaks dependants: a dependant happened before the replacement",
        "replacement: receipt number used before",
        "asset mismatch",
        "paid is not money",
        "goods are not goods",
        "more than remains",
        "more than the pool holds",
        "replacement breaks dependants: goods bought would not keep the designation",
        "replacement breaks dependants: an allocation leaves the designation",
    ] {
        assert!(
            reasons.contains_key(reason),
            "never refused for {reason:?}: {reasons:#?}"
        );
    }
}

fn check_invariants_plain(w: &World) {
    check_lot_balances(&w.books, &procured(w));
    check_allocation_balances(&w.books);
    check_disbursements(&w.books);
    check_designations(&w.books, &w.allocation_bodies);
}

#[test]
fn corrected_donation_keeps_its_receipt_date_and_its_place_in_the_pool() {
    let mut w = World::new();
    let (a, _) = w.accept(
        &charity(),
        &donation("R-A", &cny(), 10_000, RestrictionWire::None, at(0, 0)),
    );
    w.accept(
        &charity(),
        &donation("R-B", &cny(), 10_000, RestrictionWire::None, at(9, 0)),
    );
    let fixed = donation("R-A", &cny(), 10_000, RestrictionWire::None, at(0, 0));
    let (a2, d) = w.accept(&charity(), &correction(a, Some(&fixed), at(31, 0)));
    let Fact::Correction(c) = &d.fact else {
        panic!("a correction")
    };
    assert_eq!(
        c.replacement_occurred_at,
        Some(at(0, 0)),
        "the date is public"
    );
    assert_eq!(w.books.lots[&a2].occurred_at, at(0, 0));
    let (_, d) = w.accept(
        &charity(),
        &Command::Allocation(allocation(None, "wuhan-union", &cny(), 5_000, at(40, 0))),
    );
    let Fact::Allocation(body) = &d.fact else {
        panic!("an allocation")
    };
    assert_eq!(
        body.drawn_from[0].donation, a2,
        "the corrected gift is still the oldest"
    );
}

// ---------------------------------------------------------------------------------------------
// Second edition: corrections that keep their dependants valid, recipients' corrections, zero
// acknowledgements, receipt numbers, dates in order, costs on designated gifts, goods keys

fn rule_message(e: &Refusal) -> String {
    match e {
        Rejection::Rule(r) => r.to_string(),
        other => panic!("expected a rule refusal, got {other:?}"),
    }
}

/// donation → allocation → disbursement of `units` of `key` to `to`, from `day`; returns the
/// (allocation, disbursement) seqs.
fn sent(
    w: &mut World,
    receipt: &str,
    key: &AssetKey,
    units: i64,
    to: &str,
    day: i64,
) -> (Seq, Seq) {
    let (gift, _) = w.accept(
        &charity(),
        &donation(receipt, key, units, RestrictionWire::None, at(day, 0)),
    );
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(Some(gift), to, key, units, at(day, 1))),
    );
    let (disb, _) = w.accept(&charity(), &disbursement(alloc, key, units, at(day, 2)));
    (alloc, disb)
}

#[test]
fn disbursement_corrected_down_to_what_was_acknowledged_keeps_the_acknowledgement() {
    // The 2020 case: 36,000 masks published, 35,000 confirmed by the hospital.
    let mut w = World::new();
    let (alloc, disb) = sent(&mut w, "R-1", &masks(), 36_000_000, "wuhan-union", 1);
    let hospital = recipient("wuhan-union");
    let (ack, _) = w.accept(
        &hospital,
        &acknowledgement(disb, &masks(), 35_000_000, at(3, 0)),
    );
    let (report, _) = w.accept(
        &hospital,
        &usage(disb, &masks(), 10_000_000, None, at(4, 0)),
    );
    // A void still needs its dependants voided first, and names them.
    let e = w.refuse(&charity(), &correction(disb, None, at(5, 0)));
    assert_eq!(refused_field(&e), "corrects");
    let message = rule_message(&e);
    assert!(
        message.contains(&format!("acknowledgement.recorded {ack}")),
        "{message}"
    );
    assert!(
        message.contains(&format!("usage.reported {report}")),
        "{message}"
    );
    // Below what was acknowledged: refused, naming the acknowledgement.
    let below = disbursement(alloc, &masks(), 30_000_000, at(2, 2));
    let e = w.refuse(&charity(), &correction(disb, Some(&below), at(5, 0)));
    assert_eq!(refused_field(&e), "replacement.asset");
    assert!(rule_message(&e).contains(&format!("acknowledgement.recorded {ack}")));
    let just_below = disbursement(alloc, &masks(), 34_999_999, at(2, 2));
    w.refuse(&charity(), &correction(disb, Some(&just_below), at(5, 0)));
    // Exactly what was acknowledged: accepted, and the statements now belong to the replacement.
    let exact = disbursement(alloc, &masks(), 35_000_000, at(2, 2));
    let (fixed, _) = w.accept(&charity(), &correction(disb, Some(&exact), at(5, 0)));
    let d = &w.books.disbursements[&fixed];
    assert_eq!(
        (d.units, d.acknowledged, d.used),
        (35_000_000, Some(35_000_000), 10_000_000)
    );
    assert_eq!(w.books.disbursements[&disb].acknowledged, None);
    assert_eq!(w.books.allocations[&alloc].disbursed, 35_000_000);
    // The hospital goes on reporting against the replacement; the old seq is gone.
    w.refuse(&hospital, &usage(disb, &masks(), 1, None, at(6, 0)));
    w.accept(
        &hospital,
        &usage(fixed, &masks(), 25_000_000, None, at(6, 0)),
    );
    w.refuse(&hospital, &usage(fixed, &masks(), 1, None, at(6, 0)));
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn disbursement_replacement_must_keep_the_recipient_and_asset_its_statements_speak_of() {
    let mut w = World::new();
    let (_, disb) = sent(&mut w, "R-1", &cny(), 10_000, "wuhan-union", 1);
    let (usd_alloc, _) = sent(&mut w, "R-2", &usd(), 10_000, "wuhan-union", 1);
    let (other_alloc, _) = sent(&mut w, "R-3", &cny(), 20_000, "wuhan-jinyintan", 1);
    let (spare, _) = w.accept(
        &charity(),
        &donation("R-4", &usd(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    let (usd_spare, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(spare),
            "wuhan-union",
            &usd(),
            10_000,
            at(1, 1),
        )),
    );
    let _ = usd_alloc;
    w.accept(
        &recipient("wuhan-union"),
        &acknowledgement(disb, &cny(), 9_000, at(3, 0)),
    );
    let other_recipient = disbursement(other_alloc, &cny(), 10_000, at(2, 2));
    let e = w.refuse(
        &charity(),
        &correction(disb, Some(&other_recipient), at(5, 0)),
    );
    assert!(refused_field(&e).starts_with("replacement."), "{e:?}");
    // The same recipient, but dollars where yuan were acknowledged.
    let other_asset = disbursement(usd_spare, &usd(), 10_000, at(2, 2));
    let e = w.refuse(&charity(), &correction(disb, Some(&other_asset), at(5, 0)));
    assert!(refused_field(&e).starts_with("replacement."), "{e:?}");
    check_invariants_plain(&w);
}

#[test]
fn recipients_correct_their_own_statements_and_nobody_else_does() {
    let mut w = World::new();
    let (_, disb) = sent(&mut w, "R-1", &masks(), 1_000_000, "wuhan-union", 1);
    let hospital = recipient("wuhan-union");
    let (ack, _) = w.accept(
        &hospital,
        &acknowledgement(disb, &masks(), 900_000, at(3, 0)),
    );
    let (report, _) = w.accept(&hospital, &usage(disb, &masks(), 400_000, None, at(4, 0)));
    // The charity may not (422); another recipient may not (403).
    let e = w.refuse(&charity(), &correction(report, None, at(5, 0)));
    assert!(
        matches!(e, Rejection::Rule(RuleError::Refused { .. })),
        "{e:?}"
    );
    assert_eq!(refused_field(&e), "corrects");
    let e = w.refuse(
        &recipient("wuhan-jinyintan"),
        &correction(ack, None, at(5, 0)),
    );
    assert!(
        matches!(e, Rejection::Rule(RuleError::Forbidden { .. })),
        "{e:?}"
    );
    assert_eq!(refused_field(&e), "corrects");
    // Nor may a recipient correct the charity's entries (403).
    let e = w.refuse(&hospital, &correction(disb, None, at(5, 0)));
    assert!(
        matches!(e, Rejection::Rule(RuleError::Forbidden { .. })),
        "{e:?}"
    );
    // The hospital corrects its acknowledgement down to what it reported used, not below.
    let below = acknowledgement(disb, &masks(), 399_999, at(3, 0));
    let e = w.refuse(&hospital, &correction(ack, Some(&below), at(5, 0)));
    assert!(
        rule_message(&e).contains(&format!("usage.reported {report}")),
        "{e:?}"
    );
    let exact = acknowledgement(disb, &masks(), 400_000, at(3, 0));
    let (ack2, _) = w.accept(&hospital, &correction(ack, Some(&exact), at(5, 0)));
    assert_eq!(w.books.disbursements[&disb].acknowledged, Some(400_000));
    assert_eq!(w.books.disbursements[&disb].used, 400_000);
    // It replaces its usage report, then voids it, then voids the acknowledgement.
    let less = usage(disb, &masks(), 100_000, None, at(4, 0));
    let (report2, _) = w.accept(&hospital, &correction(report, Some(&less), at(6, 0)));
    assert_eq!(w.books.disbursements[&disb].used, 100_000);
    w.refuse(&hospital, &correction(ack2, None, at(7, 0)));
    w.accept(&hospital, &correction(report2, None, at(7, 0)));
    w.accept(&hospital, &correction(ack2, None, at(7, 0)));
    let d = &w.books.disbursements[&disb];
    assert_eq!((d.acknowledged, d.used), (None, 0));
    // Acknowledged afresh.
    w.accept(
        &hospital,
        &acknowledgement(disb, &masks(), 1_000_000, at(8, 0)),
    );
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn acknowledgement_replacement_stays_with_the_disbursement_its_usage_reports_speak_of() {
    let mut w = World::new();
    let (_, first) = sent(&mut w, "R-1", &masks(), 1_000_000, "wuhan-union", 1);
    let (_, second) = sent(&mut w, "R-2", &masks(), 1_000_000, "wuhan-union", 1);
    let hospital = recipient("wuhan-union");
    let (ack, _) = w.accept(
        &hospital,
        &acknowledgement(first, &masks(), 900_000, at(3, 0)),
    );
    w.accept(&hospital, &usage(first, &masks(), 400_000, None, at(4, 0)));
    // Moving the acknowledgement to the other disbursement would leave the report on the first
    // about nothing acknowledged.
    let moved = acknowledgement(second, &masks(), 900_000, at(3, 0));
    let e = w.refuse(&hospital, &correction(ack, Some(&moved), at(5, 0)));
    assert!(refused_field(&e).starts_with("replacement."), "{e:?}");
    check_invariants_plain(&w);
}

#[test]
fn an_acknowledgement_of_nothing_makes_the_whole_disbursement_a_shortfall() {
    let mut w = World::new();
    let (_, disb) = sent(&mut w, "R-1", &masks(), 1_000_000, "wuhan-union", 1);
    let hospital = recipient("wuhan-union");
    let mut nothing = acknowledgement(disb, &masks(), 0, at(3, 0));
    if let Command::Acknowledgement(r) = &mut nothing {
        if let AssetWire::Goods { quantity, .. } = &mut r.asset {
            *quantity = "0".into();
        }
    }
    let (ack, d) = w.accept(&hospital, &nothing);
    let Fact::Acknowledgement(body) = &d.fact else {
        panic!("{d:?}")
    };
    assert_eq!(body.shortfall, "1000.000");
    assert_eq!(w.books.disbursements[&disb].acknowledged, Some(0));
    // Nothing can be reported used of it; a second acknowledgement is a conflict.
    w.refuse(&hospital, &usage(disb, &masks(), 1, None, at(4, 0)));
    w.refuse(
        &hospital,
        &acknowledgement(disb, &masks(), 1_000_000, at(4, 0)),
    );
    // A negative quantity stays invalid; usage of "0" too.
    let mut negative = nothing.clone();
    if let Command::Acknowledgement(r) = &mut negative {
        if let AssetWire::Goods { quantity, .. } = &mut r.asset {
            *quantity = "-1".into();
        }
    }
    assert!(matches!(
        w.refuse(&hospital, &negative),
        Rejection::Invalid(_)
    ));
    // The charity's disbursement can now be corrected to any amount (nothing is bound to it).
    let (alloc, _) = (w.books.disbursements[&disb].allocation, ());
    let smaller = disbursement(alloc, &masks(), 1, at(1, 2));
    w.accept(&charity(), &correction(disb, Some(&smaller), at(5, 0)));
    let _ = ack;
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn a_receipt_number_is_never_used_again_except_by_its_own_replacement() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 100, RestrictionWire::None, at(1, 0)),
    );
    // The replacement keeps its own number.
    let fixed = donation("R-1", &cny(), 200, RestrictionWire::None, at(1, 0));
    let (gift2, _) = w.accept(&charity(), &correction(gift, Some(&fixed), at(2, 0)));
    // Voided, the number stays used (409), for new donations and other replacements alike.
    w.accept(&charity(), &correction(gift2, None, at(3, 0)));
    let again = donation("R-1", &cny(), 100, RestrictionWire::None, at(4, 0));
    let e = w.refuse(&charity(), &again);
    assert!(
        matches!(e, Rejection::Rule(RuleError::Conflict { .. })),
        "{e:?}"
    );
    assert_eq!(refused_field(&e), "receipt_number");
    let (other, _) = w.accept(
        &charity(),
        &donation("R-2", &cny(), 100, RestrictionWire::None, at(4, 0)),
    );
    let e = w.refuse(&charity(), &correction(other, Some(&again), at(5, 0)));
    assert!(
        matches!(e, Rejection::Rule(RuleError::Conflict { .. })),
        "{e:?}"
    );
    assert_eq!(refused_field(&e), "replacement.receipt_number");
    check_replay(&w);
}

#[test]
fn nothing_may_occur_before_what_it_draws_on() {
    let mut w = World::new();
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, RestrictionWire::None, at(5, 0)),
    );
    let early = allocation(Some(gift), "wuhan-union", &cny(), 100, at(4, 23));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(early))),
        "occurred_at"
    );
    let early_pool = allocation(None, "wuhan-union", &cny(), 100, at(4, 23));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(early_pool))),
        "occurred_at"
    );
    assert_eq!(
        refused_field(&w.refuse(&charity(), &expense(Some(gift), &cny(), 100, at(4, 0)))),
        "occurred_at"
    );
    // The same instant is not before.
    let (alloc, _) = w.accept(
        &charity(),
        &Command::Allocation(allocation(
            Some(gift),
            "wuhan-union",
            &cny(),
            5_000,
            at(5, 0),
        )),
    );
    assert_eq!(
        refused_field(&w.refuse(&charity(), &disbursement(alloc, &cny(), 100, at(4, 0)))),
        "occurred_at"
    );
    let (disb, _) = w.accept(&charity(), &disbursement(alloc, &cny(), 5_000, at(6, 0)));
    let hospital = recipient("wuhan-union");
    assert_eq!(
        refused_field(&w.refuse(&hospital, &acknowledgement(disb, &cny(), 5_000, at(5, 23)))),
        "occurred_at"
    );
    assert_eq!(
        refused_field(&w.refuse(&hospital, &usage(disb, &cny(), 1, None, at(5, 23)))),
        "occurred_at"
    );
    let (ack, _) = w.accept(&hospital, &acknowledgement(disb, &cny(), 5_000, at(7, 0)));
    assert_eq!(
        refused_field(&w.refuse(&hospital, &usage(disb, &cny(), 1, None, at(6, 12)))),
        "occurred_at"
    );
    w.accept(&hospital, &usage(disb, &cny(), 1, None, at(7, 0)));
    // A replacement may not be dated after what depends on it.
    let late = acknowledgement(disb, &cny(), 5_000, at(7, 1));
    let e = w.refuse(&hospital, &dated_correction(ack, &late, at(8, 0)));
    assert_eq!(refused_field(&e), "replacement.occurred_at");
    let late_gift = donation("R-1", &cny(), 10_000, RestrictionWire::None, at(5, 1));
    let e = w.refuse(&charity(), &dated_correction(gift, &late_gift, at(8, 0)));
    assert_eq!(refused_field(&e), "replacement.occurred_at");
    assert!(
        rule_message(&e).contains(&format!("allocation.made {alloc}")),
        "{e:?}"
    );
    // Dated earlier: accepted.
    let earlier_gift = donation("R-1", &cny(), 10_000, RestrictionWire::None, at(4, 0));
    w.accept(&charity(), &dated_correction(gift, &earlier_gift, at(8, 0)));
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn costs_are_charged_to_a_designated_gift_only_when_its_donor_allows_or_consents() {
    let mut w = World::new();
    let barred = designated(Some("420000"), None);
    let (gift, _) = w.accept(
        &charity(),
        &donation("R-1", &cny(), 10_000, barred.clone(), at(1, 0)),
    );
    let (open, _) = w.accept(
        &charity(),
        &donation(
            "R-2",
            &cny(),
            10_000,
            with_costs_allowed(barred.clone()),
            at(1, 0),
        ),
    );
    let (plain, _) = w.accept(
        &charity(),
        &donation("R-3", &cny(), 10_000, RestrictionWire::None, at(1, 0)),
    );
    assert_eq!(
        refused_field(&w.refuse(&charity(), &expense(Some(gift), &cny(), 100, at(2, 0)))),
        "donation"
    );
    let mut consented = expense(Some(gift), &cny(), 100, at(2, 0));
    if let Command::Expense(r) = &mut consented {
        r.designation_change = Some(consent());
    }
    let (charged, _) = w.accept(&charity(), &consented);
    w.accept(&charity(), &expense(Some(open), &cny(), 100, at(2, 0)));
    // No consent applies where costs are allowed, nor to undesignated funds.
    for seq in [open, plain] {
        let mut needless = expense(Some(seq), &cny(), 100, at(2, 0));
        if let Command::Expense(r) = &mut needless {
            r.designation_change = Some(consent());
        }
        assert_eq!(
            refused_field(&w.refuse(&charity(), &needless)),
            "designation_change"
        );
    }
    // A donation corrected into a designation without costs_allowed is refused while an expense
    // without consent is charged to it.
    let (expensed, _) = w.accept(&charity(), &expense(Some(plain), &cny(), 100, at(2, 0)));
    let designating = donation("R-3", &cny(), 10_000, barred.clone(), at(1, 0));
    let e = w.refuse(&charity(), &correction(plain, Some(&designating), at(3, 0)));
    assert_eq!(refused_field(&e), "replacement.restriction");
    assert!(
        rule_message(&e).contains(&format!("expense.recorded {expensed}")),
        "{e:?}"
    );
    let allowing = donation("R-3", &cny(), 10_000, with_costs_allowed(barred), at(1, 0));
    w.accept(&charity(), &correction(plain, Some(&allowing), at(3, 0)));
    let _ = charged;
    check_invariants_plain(&w);
    check_replay(&w);
}

#[test]
fn goods_keys_ignore_spacing_and_the_case_of_the_unit() {
    let mut w = World::new();
    let sent_as = |spell: u8| respell(&wire(&masks(), 1_000), spell);
    let mut gift = donation("R-1", &masks(), 1_000_000, RestrictionWire::None, at(1, 0));
    if let Command::Donation(r) = &mut gift {
        r.asset = respell(&r.asset, 2); // "  Piece "
    }
    let (seq, d) = w.accept(&charity(), &gift);
    let Fact::Donation(body) = &d.fact else {
        panic!("{d:?}")
    };
    let AssetWire::Goods { unit, .. } = &body.asset else {
        panic!("goods")
    };
    assert_eq!(unit, "Piece", "the body keeps what was sent (trimmed)");
    assert_eq!(w.books.lots[&seq].asset, masks());
    for spell in 0..5 {
        let mut a = allocation(Some(seq), "wuhan-union", &masks(), 1_000, at(2, 0));
        a.asset = sent_as(spell);
        w.accept(&charity(), &Command::Allocation(a));
    }
    // The item's case is not ignored: other goods.
    let mut other = allocation(Some(seq), "wuhan-union", &masks(), 1_000, at(2, 0));
    other.asset = sent_as(5);
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Allocation(other))),
        "asset"
    );
    let mut pool = allocation(None, "wuhan-union", &masks(), 1_000, at(2, 0));
    pool.asset = sent_as(4);
    w.accept(&charity(), &Command::Allocation(pool));
    check_invariants_plain(&w);
    check_replay(&w);
}

// ---------------------------------------------------------------------------------------------
// Level by level (§9.3): the world has one organisation, so the giving charity's disbursements
// are put into the books' `foreign` map as the store would read them from its log.

const GIVER: &str = "china-charity-federation";

/// A world where `hubei-red-cross` is also a recipient (linked to itself) of the federation's
/// disbursement 12 (1,000.00 CNY, sent on day 2, drawn on gifts designated `designations`) and
/// of disbursement 13 to an unlinked hospital.
fn transfer_world(designations: Vec<Designation>) -> World {
    let mut w = World::new();
    for (id, code, org) in [
        (ORG, "420000", Some(slug(ORG))),
        ("wuhan-union", "420103", None),
    ] {
        w.books.recipients.insert(
            slug(id),
            RecipientInfo {
                id: slug(id),
                region_code: region(code),
                organization: org,
            },
        );
    }
    for (seq, to) in [(12, ORG), (13, "wuhan-union")] {
        w.books.foreign.insert(
            (slug(GIVER), seq),
            ForeignDisbursement {
                recipient: slug(to),
                asset: cny(),
                units: 100_000,
                occurred_at: at(2, 0),
                designations: designations.clone(),
            },
        );
    }
    w
}

fn passed_on(
    receipt: &str,
    source: Seq,
    units: i64,
    restriction: RestrictionWire,
    when: DateTime<Utc>,
) -> DonationRequest {
    let Command::Donation(mut r) = donation(receipt, &cny(), units, restriction, when) else {
        unreachable!()
    };
    r.donor.kind = DonorKind::Organization;
    r.channel = DonationChannel::TransferFromCharity;
    r.source_disbursement = Some(SourceDisbursement {
        organization: slug(GIVER),
        disbursement: source,
    });
    r
}

fn region_designation(code: &str) -> Designation {
    Designation {
        region_code: Some(region(code)),
        recipient: None,
        costs_allowed: false,
    }
}

/// Replaying the log into books that know the same recipients and foreign disbursements gives
/// the executed books.
fn check_transfer_replay(w: &World, designations: Vec<Designation>) {
    let mut rebuilt = transfer_world(designations).books;
    for (seq, when, fact) in &w.log {
        replay(&mut rebuilt, *seq, *when, fact).unwrap();
    }
    assert_eq!(rebuilt, w.books);
}

#[test]
fn a_gift_passed_on_is_recorded_level_by_level_up_to_what_was_sent() {
    let mut w = transfer_world(vec![]);
    let give = |r: DonationRequest| Command::Donation(r);
    let ok = passed_on("T-1", 12, 60_000, RestrictionWire::None, at(3, 0));
    // Channel, source, link, asset, quantity and date are each checked.
    let mut by_bank = ok.clone();
    by_bank.channel = DonationChannel::BankTransfer;
    assert_eq!(
        refused_field(&w.refuse(&charity(), &give(by_bank))),
        "channel"
    );
    let e = w.refuse(
        &charity(),
        &give(passed_on("T-1", 14, 100, RestrictionWire::None, at(3, 0))),
    );
    assert!(
        matches!(e, Rejection::Rule(RuleError::NotFound { .. })),
        "{e:?}"
    );
    let e = w.refuse(
        &charity(),
        &give(passed_on("T-1", 13, 100, RestrictionWire::None, at(3, 0))),
    );
    assert_eq!(refused_field(&e), "source_disbursement");
    let mut dollars = ok.clone();
    dollars.asset = wire(&usd(), 60_000);
    assert_eq!(
        refused_field(&w.refuse(&charity(), &give(dollars))),
        "asset"
    );
    let too_much = passed_on("T-1", 12, 100_001, RestrictionWire::None, at(3, 0));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &give(too_much))),
        "asset"
    );
    let early = passed_on("T-1", 12, 100, RestrictionWire::None, at(1, 23));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &give(early))),
        "occurred_at"
    );
    // Recorded in parts, never beyond what was sent.
    let (first, _) = w.accept(&charity(), &give(ok));
    let (second, _) = w.accept(
        &charity(),
        &give(passed_on(
            "T-2",
            12,
            40_000,
            RestrictionWire::None,
            at(2, 0),
        )),
    );
    let source = SourceDisbursement {
        organization: slug(GIVER),
        disbursement: 12,
    };
    assert_eq!(w.books.source_recorded_units(&source), Ok(100_000));
    w.refuse(
        &charity(),
        &give(passed_on("T-3", 12, 1, RestrictionWire::None, at(3, 0))),
    );
    // A voided record frees what it recorded; a replacement counts instead of what it replaces.
    w.accept(&charity(), &correction(second, None, at(4, 0)));
    assert_eq!(w.books.source_recorded_units(&source), Ok(60_000));
    let fixed = give(passed_on(
        "T-1",
        12,
        70_000,
        RestrictionWire::None,
        at(3, 0),
    ));
    w.accept(&charity(), &correction(first, Some(&fixed), at(4, 0)));
    assert_eq!(w.books.source_recorded_units(&source), Ok(70_000));
    let rest = give(passed_on(
        "T-3",
        12,
        30_001,
        RestrictionWire::None,
        at(5, 0),
    ));
    w.refuse(&charity(), &rest);
    w.accept(
        &charity(),
        &give(passed_on(
            "T-3",
            12,
            30_000,
            RestrictionWire::None,
            at(5, 0),
        )),
    );
    check_invariants_plain(&w);
    check_transfer_replay(&w, vec![]);
}

#[test]
fn a_gift_passed_on_keeps_the_designations_it_was_drawn_on_unless_the_donor_consents() {
    let designations = vec![region_designation("420100")];
    let mut w = transfer_world(designations.clone());
    let give = |restriction: RestrictionWire| passed_on("T-1", 12, 100, restriction, at(3, 0));
    // Looser than the source's designation: refused. Naming a recipient inside the region without
    // stating a region counts as looser too (the rule compares the regions stated).
    for looser in [
        RestrictionWire::None,
        designated(Some("420000"), None),
        designated(None, Some("wuhan-union")),
    ] {
        let e = w.refuse(&charity(), &Command::Donation(give(looser)));
        assert_eq!(refused_field(&e), "restriction");
    }
    // A consented change: accepted; a needless one: refused.
    let mut consented = give(RestrictionWire::None);
    consented.designation_change = Some(consent());
    w.accept(&charity(), &Command::Donation(consented));
    let mut needless = give(designated(Some("420100"), None));
    needless.receipt_number = "T-2".into();
    needless.designation_change = Some(consent());
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Donation(needless))),
        "designation_change"
    );
    // As strict or stricter: accepted.
    for (receipt, stricter) in [
        ("T-3", designated(Some("420100"), None)),
        ("T-4", designated(Some("420103"), None)),
        ("T-5", designated(Some("420100"), Some("wuhan-union"))),
    ] {
        let mut r = give(stricter);
        r.receipt_number = receipt.into();
        w.accept(&charity(), &Command::Donation(r));
    }
    // A designation change is only for gifts passed on.
    let mut plain = donation("T-9", &cny(), 100, RestrictionWire::None, at(3, 0));
    if let Command::Donation(r) = &mut plain {
        r.designation_change = Some(consent());
    }
    assert!(matches!(
        w.refuse(&charity(), &plain),
        Rejection::Invalid(_)
    ));
    check_transfer_replay(&w, designations);
}

#[test]
fn a_gift_passed_on_from_a_named_recipient_keeps_that_recipient() {
    let designations = vec![Designation {
        region_code: None,
        recipient: Some(slug("wuhan-union")),
        costs_allowed: false,
    }];
    let mut w = transfer_world(designations);
    let region_only = passed_on("T-1", 12, 100, designated(Some("420103"), None), at(3, 0));
    assert_eq!(
        refused_field(&w.refuse(&charity(), &Command::Donation(region_only))),
        "restriction"
    );
    let named = passed_on(
        "T-1",
        12,
        100,
        designated(None, Some("wuhan-union")),
        at(3, 0),
    );
    w.accept(&charity(), &Command::Donation(named));
}

/// Found by the random histories: an expense charged with the donor's consent to a donation that
/// was then replaced by an undesignated one; replacing that again with a designation barring
/// costs is refused, as the consent was given against a designation that did not bar them.
#[test]
fn a_consented_expense_does_not_let_a_correction_bar_costs_again() {
    let w0 = When {
        day: 0,
        half: false,
        future: false,
        after: None,
    };
    let ops = vec![
        Op::Donation {
            receipt: 1,
            reuse: None,
            asset: 0,
            units: 4,
            desig: Desig::Region(0),
            costs: false,
            related: 0,
            campaign: None,
            when: w0,
        },
        Op::Donation {
            receipt: 0,
            reuse: None,
            asset: 0,
            units: 1,
            desig: Desig::None,
            costs: false,
            related: 0,
            campaign: None,
            when: w0,
        },
        Op::Correction {
            target: Target::Pick(Pick {
                index: 4256427931449818359,
                any: false,
            }),
            who: Who::Right,
            repl: Repl::None,
            when: w0,
        },
        Op::Expense {
            src: Src::Lot(Pick {
                index: 0,
                any: false,
            }),
            asset: 0,
            mismatch: false,
            amt: Amt::Rest,
            consent: true,
            when: w0,
        },
        Op::Correction {
            target: Target::Kind(
                0,
                Pick {
                    index: 0,
                    any: false,
                },
            ),
            who: Who::Right,
            repl: Repl::Restriction(Desig::None, false),
            when: w0,
        },
        Op::Correction {
            target: Target::Pick(Pick {
                index: 5818213430373293879,
                any: false,
            }),
            who: Who::Right,
            repl: Repl::Restriction(Desig::Region(0), false),
            when: w0,
        },
    ];
    run_history(&ops);
}
