//! Needs: what a recipient asks for (goods, a quantity, how urgently), how much of it charities
//! have pledged (allocated against the need) and how much has arrived (acknowledged), and the
//! ranking of a charity's unallocated goods against open needs.
//!
//! A need is a registration of its recipient, not a log entry. Its progress is derived from the
//! logs: allocations that name the need pledge, acknowledgements of their disbursements deliver.
//! A need closes (`met`) as soon as what was delivered covers what was asked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

use crate::asset::{AssetKey, AssetWire, GoodsKind};
use crate::entry::{MAX_SHORT_TEXT, MAX_TEXT};
use crate::error::{RuleError, ValidationError};
use crate::ids::{region_has_prefix, Slug};
use crate::ledger::{designation_breach, Lot, NeedState, RecipientInfo};

/// Most matches `GET /organizations/{org}/needs/matches` returns.
pub const MAX_MATCHES: usize = 200;

/// How urgently a need must be met.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// Lives are at stake now (e.g. protective equipment for an ICU running out today).
    Critical,
    /// Needed within days.
    High,
    /// Needed, not pressing.
    Normal,
}

impl Urgency {
    /// Every urgency, most urgent first.
    pub const ALL: [Urgency; 3] = [Urgency::Critical, Urgency::High, Urgency::Normal];

    /// The wire name (`critical`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Urgency::Critical => "critical",
            Urgency::High => "high",
            Urgency::Normal => "normal",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// Whether a need is still waiting for goods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    /// Less has been delivered than was asked.
    Open,
    /// Delivered (acknowledged) quantity covers the quantity asked: closed.
    Met,
    /// The recipient withdrew it before it was met: closed.
    Withdrawn,
}

impl NeedStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            NeedStatus::Open => "open",
            NeedStatus::Met => "met",
            NeedStatus::Withdrawn => "withdrawn",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(NeedStatus::Open),
            "met" => Some(NeedStatus::Met),
            "withdrawn" => Some(NeedStatus::Withdrawn),
            _ => None,
        }
    }
}

/// `POST /recipients/{recipient}/needs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedRequest {
    /// What is needed, e.g. `N95 respirator` (the same words charities use for the goods).
    pub item: String,
    /// Standard or model, e.g. `GB 19083-2010`.
    #[serde(default)]
    pub spec: String,
    /// Counting unit, e.g. `piece`.
    pub unit: String,
    /// How many, a decimal string > 0 with at most 3 decimals.
    pub quantity: String,
    /// `critical`, `high` or `normal`.
    pub urgency: Urgency,
    /// When it is needed by.
    #[serde(default)]
    pub needed_by: Option<DateTime<Utc>>,
    /// Remarks for donors (ward, delivery address kept to the city).
    #[serde(default)]
    pub note: String,
}

/// A need request that passed validation: the goods as a balance key and exact units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNeed {
    /// The goods asked for.
    pub asset: AssetKey,
    /// Thousandths of the unit.
    pub units: i64,
    /// Urgency.
    pub urgency: Urgency,
    /// Needed by.
    pub needed_by: Option<DateTime<Utc>>,
    /// Remarks (trimmed).
    pub note: String,
}

impl NeedRequest {
    /// Check every field; all field errors at once.
    pub fn validate(&self) -> Result<ValidNeed, ValidationError> {
        let wire = AssetWire::Goods {
            item: self.item.clone(),
            spec: self.spec.clone(),
            unit: self.unit.clone(),
            quantity: self.quantity.clone(),
            declared_value: None,
        };
        let mut errors = Vec::new();
        let asset = match wire.parse_input() {
            Ok(a) => Some(a),
            Err(e) => {
                errors.extend(e.0);
                None
            }
        };
        let note = crate::text::clean("note", &self.note, MAX_TEXT, false)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        match asset {
            Some(a) if errors.is_empty() => Ok(ValidNeed {
                asset: a.key(),
                units: a.units(),
                urgency: self.urgency,
                needed_by: self.needed_by,
                note,
            }),
            _ => Err(ValidationError(errors)),
        }
    }
}

/// `POST /recipients/{recipient}/needs/{need}/withdrawals`: the recipient no longer needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedWithdrawalRequest {
    /// Why, for the public (e.g. `supplied by the health commission`); 1 to 200 characters.
    pub reason: String,
}

impl NeedWithdrawalRequest {
    /// The reason (NFC, trimmed, one line, nothing invisible), or a field error naming `reason`.
    pub fn validate(&self) -> Result<String, ValidationError> {
        crate::text::clean_line("reason", &self.reason, MAX_SHORT_TEXT, true)
            .map_err(|e| ValidationError(vec![e]))
    }
}

/// When and why a recipient withdrew a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// When the withdrawal was recorded.
    pub at: DateTime<Utc>,
    /// The recipient's reason.
    pub reason: String,
}

fn status(units: i64, delivered: i64, withdrawn: bool) -> NeedStatus {
    if withdrawn {
        NeedStatus::Withdrawn
    } else if delivered >= units {
        NeedStatus::Met
    } else {
        NeedStatus::Open
    }
}

/// A stored need with its progress, as the public sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Slug (`need-17`).
    pub id: Slug,
    /// Serial number (the order needs were posted in).
    pub number: i64,
    /// The recipient that posted it.
    pub recipient: Slug,
    /// The recipient's region code.
    pub region_code: String,
    /// The goods asked for.
    pub goods: GoodsKind,
    /// Units asked for.
    pub units: i64,
    /// Urgency.
    pub urgency: Urgency,
    /// Needed by.
    pub needed_by: Option<DateTime<Utc>>,
    /// Remarks.
    pub note: String,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Units allocated against it by live allocations (every charity).
    pub pledged: i64,
    /// Units acknowledged on disbursements of those allocations.
    pub delivered: i64,
    /// Set once its recipient withdrew it.
    pub withdrawn: Option<Withdrawal>,
}

impl Need {
    /// The balance key of the goods.
    pub fn asset(&self) -> AssetKey {
        AssetKey::Goods(Box::new(self.goods.clone()))
    }

    /// Open, met or withdrawn (withdrawn wins: what arrives afterwards was pledged before).
    pub fn status(&self) -> NeedStatus {
        status(self.units, self.delivered, self.withdrawn.is_some())
    }

    /// Whether `recipient` may withdraw this need now: its own, and neither met nor withdrawn.
    pub fn check_withdrawal(&self, recipient: &str) -> Result<(), RuleError> {
        if self.recipient.as_str() != recipient {
            return Err(RuleError::Forbidden {
                field: "need".into(),
                message: format!(
                    "need {} was posted by {}; only its recipient may withdraw it",
                    self.id, self.recipient
                ),
            });
        }
        match self.status() {
            NeedStatus::Open => Ok(()),
            NeedStatus::Met => Err(RuleError::Conflict {
                field: "need".into(),
                message: format!(
                    "need {} is already met; a met need stays on record",
                    self.id
                ),
            }),
            NeedStatus::Withdrawn => Err(RuleError::Conflict {
                field: "need".into(),
                message: format!("need {} was already withdrawn", self.id),
            }),
        }
    }

    /// Units still to arrive (never negative: more may arrive than was asked).
    pub fn outstanding(&self) -> i64 {
        (self.units - self.delivered).max(0)
    }

    /// Units no charity has pledged yet.
    pub fn unpledged(&self) -> i64 {
        (self.units - self.pledged).max(0)
    }

    /// The rules' view of it.
    pub fn state(&self) -> NeedState {
        NeedState {
            id: self.id.clone(),
            recipient: self.recipient.clone(),
            asset: self.asset(),
            units: self.units,
            delivered: self.delivered,
            withdrawn: self.withdrawn.is_some(),
        }
    }

    /// The wire form.
    pub fn view(&self) -> NeedView {
        let key = self.asset();
        NeedView {
            id: self.id.to_string(),
            recipient: self.recipient.to_string(),
            region_code: self.region_code.clone(),
            item: self.goods.item.clone(),
            spec: self.goods.spec.clone(),
            unit: self.goods.unit.clone(),
            quantity: key.format(self.units),
            urgency: self.urgency,
            needed_by: self.needed_by,
            note: self.note.clone(),
            posted_at: self.posted_at,
            pledged: key.format(self.pledged),
            delivered: key.format(self.delivered),
            outstanding: key.format(self.outstanding()),
            unpledged: key.format(self.unpledged()),
            status: self.status(),
            withdrawn_at: self.withdrawn.as_ref().map(|w| w.at),
            withdrawal_reason: self.withdrawn.as_ref().map(|w| w.reason.clone()),
        }
    }
}

/// A need on the wire (`GET /needs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NeedView {
    /// Slug; an allocation names it in `need`.
    pub id: String,
    /// The recipient that posted it.
    pub recipient: String,
    /// The recipient's region code.
    pub region_code: String,
    /// What is needed.
    pub item: String,
    /// Standard or model.
    pub spec: String,
    /// Counting unit.
    pub unit: String,
    /// Quantity asked for.
    pub quantity: String,
    /// Urgency.
    pub urgency: Urgency,
    /// Needed by.
    pub needed_by: Option<DateTime<Utc>>,
    /// Remarks.
    pub note: String,
    /// When it was posted.
    pub posted_at: DateTime<Utc>,
    /// Quantity allocated against it (every charity, live allocations).
    pub pledged: String,
    /// Quantity the recipient acknowledged receiving against it.
    pub delivered: String,
    /// Quantity still to arrive: asked − delivered, at least 0.
    pub outstanding: String,
    /// Quantity nobody has pledged yet: asked − pledged, at least 0.
    pub unpledged: String,
    /// `open` until delivered covers the quantity, then `met`; `withdrawn` once its recipient
    /// withdrew it.
    pub status: NeedStatus,
    /// When its recipient withdrew it (null while not withdrawn).
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// The recipient's reason for withdrawing it (null while not withdrawn).
    pub withdrawal_reason: Option<String>,
}

/// One of a charity's unallocated goods set against an open need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The need.
    pub need: Need,
    /// Units of the charity's stock it could allocate to this need (honouring designations).
    pub available: i64,
    /// `min(available, unpledged)`: what an allocation would most usefully give.
    pub suggested: i64,
    /// The recipient lies in a priority region.
    pub priority_region: bool,
    /// Seconds since the need was posted.
    pub waiting_seconds: i64,
    /// The donations the stock would come from (seqs, oldest first).
    pub donations: Vec<i64>,
}

/// A match on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MatchView {
    /// Position in the ranking, from 1.
    pub rank: usize,
    /// The need.
    pub need: NeedView,
    /// Quantity of the charity's unallocated stock usable for it (designations honoured).
    pub available: String,
    /// Quantity to allocate: the smaller of `available` and the need's `unpledged`.
    pub suggested: String,
    /// The recipient lies in a priority region.
    pub priority_region: bool,
    /// Hours the need has waited since it was posted (two decimals).
    pub waiting_hours: String,
    /// Seqs of the donations (in this charity's log) the stock would come from.
    pub donations: Vec<i64>,
}

impl Match {
    /// The wire form, at `rank`.
    pub fn view(&self, rank: usize) -> MatchView {
        let key = self.need.asset();
        MatchView {
            rank,
            need: self.need.view(),
            available: key.format(self.available),
            suggested: key.format(self.suggested),
            priority_region: self.priority_region,
            waiting_hours: crate::disclosure::hours(self.waiting_seconds),
            donations: self.donations.clone(),
        }
    }
}

/// Rank a charity's unallocated goods against open needs.
///
/// `stock` holds the charity's live lots (any asset; only goods with something remaining count);
/// `needs` the open needs, each with its recipient's registry entry (a need whose recipient is
/// missing is skipped). A lot is usable for a need only when it holds the same goods and
/// allocating it to the need's recipient honours the donor's designation. Needs nobody can serve
/// from this stock, and needs already fully pledged, are left out.
///
/// Order: urgency (critical first), then recipients in a priority region (`priority_prefixes`),
/// then the longest wait, then the earliest `needed_by`, then the serial number; at most
/// [`MAX_MATCHES`].
pub fn rank_matches(
    stock: &[Lot],
    needs: &[(Need, RecipientInfo)],
    priority_prefixes: &[String],
    now: DateTime<Utc>,
) -> Vec<Match> {
    let mut out: Vec<Match> = needs
        .iter()
        .filter(|(n, _)| n.status() == NeedStatus::Open && n.unpledged() > 0)
        .filter_map(|(n, recipient)| {
            let key = n.asset();
            let usable: Vec<&Lot> = stock
                .iter()
                .filter(|l| l.live && l.asset == key && l.remaining() > 0)
                .filter(|l| designation_breach(l, recipient).is_none())
                .collect();
            let available: i64 = usable.iter().map(|l| l.remaining()).sum();
            if available == 0 {
                return None;
            }
            let mut donations: Vec<(DateTime<Utc>, i64)> =
                usable.iter().map(|l| (l.occurred_at, l.seq)).collect();
            donations.sort();
            Some(Match {
                available,
                suggested: available.min(n.unpledged()),
                priority_region: priority_prefixes
                    .iter()
                    .any(|p| region_has_prefix(&n.region_code, p)),
                waiting_seconds: (now - n.posted_at).num_seconds().max(0),
                donations: donations.into_iter().map(|(_, s)| s).collect(),
                need: n.clone(),
            })
        })
        .collect();
    out.sort_by_key(|m| {
        (
            m.need.urgency,
            !m.priority_region,
            Reverse(m.waiting_seconds),
            m.need.needed_by.unwrap_or(DateTime::<Utc>::MAX_UTC),
            m.need.number,
        )
    });
    out.truncate(MAX_MATCHES);
    out
}

/// Longest item name a `GET /needs?item=` filter takes.
pub const MAX_ITEM_FILTER: usize = MAX_SHORT_TEXT;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asset::Currency;
    use crate::ids::RegionCode;
    use chrono::TimeZone;

    fn slug(s: &str) -> Slug {
        Slug::parse(s).expect("slug")
    }

    fn masks() -> GoodsKind {
        GoodsKind {
            item: "N95 respirator".into(),
            spec: "GB 19083-2010".into(),
            unit: "piece".into(),
        }
    }

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 2, day, 0, 0, 0)
            .single()
            .expect("date")
    }

    fn need(n: i64, recipient: &str, region: &str, urgency: Urgency, posted: u32) -> Need {
        Need {
            id: slug(&format!("need-{n}")),
            number: n,
            recipient: slug(recipient),
            region_code: region.into(),
            goods: masks(),
            units: 1_000_000,
            urgency,
            needed_by: None,
            note: String::new(),
            posted_at: t(posted),
            pledged: 0,
            delivered: 0,
            withdrawn: None,
        }
    }

    fn info(id: &str, region: &str) -> RecipientInfo {
        RecipientInfo {
            id: slug(id),
            region_code: RegionCode::parse(region).expect("region"),
            organization: None,
        }
    }

    fn lot(seq: i64, units: i64, designation: Option<crate::ledger::Designation>) -> Lot {
        Lot {
            seq,
            receipt_number: format!("R-{seq}"),
            campaign: None,
            asset: AssetKey::Goods(Box::new(masks())),
            received: units,
            allocated: 0,
            expensed: 0,
            designation: designation.map(Box::new),
            occurred_at: t(1),
            live: true,
        }
    }

    fn ranked(stock: &[Lot], needs: &[(Need, RecipientInfo)]) -> Vec<String> {
        rank_matches(stock, needs, &["42".into()], t(20))
            .into_iter()
            .map(|m| m.need.id.to_string())
            .collect()
    }

    #[test]
    fn urgency_comes_first_then_priority_region_then_waiting_time() {
        let needs = vec![
            (
                need(1, "hangzhou", "330102", Urgency::High, 1),
                info("hangzhou", "330102"),
            ),
            (
                need(2, "union", "420103", Urgency::High, 10),
                info("union", "420103"),
            ),
            (
                need(3, "union", "420103", Urgency::Critical, 15),
                info("union", "420103"),
            ),
            (
                need(4, "jinyintan", "420112", Urgency::High, 5),
                info("jinyintan", "420112"),
            ),
            (
                need(5, "union", "420103", Urgency::Normal, 1),
                info("union", "420103"),
            ),
        ];
        assert_eq!(
            ranked(&[lot(1, 5_000_000, None)], &needs),
            ["need-3", "need-4", "need-2", "need-1", "need-5"]
        );
    }

    #[test]
    fn designated_stock_serves_only_needs_inside_its_designation() {
        let only_union = crate::ledger::Designation {
            region_code: None,
            recipient: Some(slug("union")),
            costs_allowed: false,
        };
        let needs = vec![
            (
                need(1, "union", "420103", Urgency::High, 1),
                info("union", "420103"),
            ),
            (
                need(2, "jinyintan", "420112", Urgency::Critical, 1),
                info("jinyintan", "420112"),
            ),
        ];
        let m = rank_matches(
            &[lot(7, 300_000, Some(only_union))],
            &needs,
            &["42".into()],
            t(2),
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].need.id.as_str(), "need-1");
        assert_eq!((m[0].available, m[0].suggested), (300_000, 300_000));
        assert_eq!(m[0].donations, vec![7]);
        assert_eq!(m[0].waiting_seconds, 86_400);
    }

    #[test]
    fn met_fully_pledged_and_unservable_needs_are_left_out() {
        let mut met = need(1, "union", "420103", Urgency::Critical, 1);
        met.delivered = met.units;
        let mut pledged = need(2, "union", "420103", Urgency::Critical, 1);
        pledged.pledged = pledged.units;
        let mut suits = need(3, "union", "420103", Urgency::Critical, 1);
        suits.goods.item = "medical protective suit".into();
        let mut partly = need(4, "union", "420103", Urgency::Normal, 1);
        partly.pledged = 400_000;
        let needs: Vec<_> = [met, pledged, suits, partly]
            .into_iter()
            .map(|n| (n, info("union", "420103")))
            .collect();
        let m = rank_matches(&[lot(1, 5_000_000, None)], &needs, &[], t(2));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].need.id.as_str(), "need-4");
        assert_eq!(
            m[0].suggested, 600_000,
            "only the unpledged part is suggested"
        );
        assert!(!m[0].priority_region);
    }

    #[test]
    fn a_need_closes_when_delivered_covers_it_and_outstanding_never_goes_negative() {
        let mut n = need(1, "union", "420103", Urgency::High, 1);
        n.pledged = 1_200_000;
        n.delivered = 999_000;
        assert_eq!(n.status(), NeedStatus::Open);
        assert_eq!(n.view().outstanding, "1.000");
        n.delivered = 1_100_000;
        assert_eq!(n.status(), NeedStatus::Met);
        assert_eq!(n.outstanding(), 0);
        assert_eq!(n.unpledged(), 0);
    }

    #[test]
    fn only_its_recipient_withdraws_an_open_need_and_a_withdrawn_need_takes_no_allocation() {
        let mut n = need(1, "union", "420103", Urgency::Critical, 1);
        assert!(matches!(
            n.check_withdrawal("jinyintan"),
            Err(RuleError::Forbidden { .. })
        ));
        assert_eq!(n.check_withdrawal("union"), Ok(()));
        n.withdrawn = Some(Withdrawal {
            at: t(2),
            reason: "supplied by the health commission".into(),
        });
        assert_eq!(n.status(), NeedStatus::Withdrawn);
        assert!(matches!(
            n.check_withdrawal("union"),
            Err(RuleError::Conflict { .. })
        ));
        let refused = n.state().check_allocation(&slug("union"), &n.asset());
        assert!(matches!(refused, Err(RuleError::Refused { field, .. }) if field == "need"));
        let view = n.view();
        assert_eq!(view.withdrawn_at, Some(t(2)));
        assert_eq!(
            view.withdrawal_reason.as_deref(),
            Some("supplied by the health commission")
        );
        let mut met = need(2, "union", "420103", Urgency::High, 1);
        met.delivered = met.units;
        assert!(matches!(
            met.check_withdrawal("union"),
            Err(RuleError::Conflict { .. })
        ));
    }

    #[test]
    fn a_withdrawal_needs_a_reason_of_at_most_200_characters() {
        let r = |s: &str| NeedWithdrawalRequest { reason: s.into() }.validate();
        assert_eq!(r("  no longer needed "), Ok("no longer needed".into()));
        for bad in ["", "   ", "a\u{7}b"] {
            let e = r(bad).expect_err(bad);
            assert_eq!(e.0[0].field, "reason");
        }
        assert!(r(&"x".repeat(MAX_SHORT_TEXT + 1)).is_err());
    }

    #[test]
    fn an_allocation_serves_only_its_recipients_open_need_of_the_same_goods() {
        let n = need(1, "union", "420103", Urgency::High, 1).state();
        let goods = AssetKey::Goods(Box::new(masks()));
        assert!(n.check_allocation(&slug("union"), &goods).is_ok());
        assert!(n.check_allocation(&slug("jinyintan"), &goods).is_err());
        let cny = AssetKey::Money(Currency::parse("CNY").expect("CNY"));
        assert!(n.check_allocation(&slug("union"), &cny).is_err());
        let mut met = n.clone();
        met.delivered = met.units;
        assert!(met.check_allocation(&slug("union"), &goods).is_err());
    }

    #[test]
    fn a_need_request_is_validated_field_by_field() {
        let ok = NeedRequest {
            item: "N95 respirator".into(),
            spec: "GB 19083-2010".into(),
            unit: "piece".into(),
            quantity: "2000".into(),
            urgency: Urgency::Critical,
            needed_by: None,
            note: " ICU ".into(),
        };
        let v = ok.validate().expect("valid");
        assert_eq!(v.units, 2_000_000);
        assert_eq!(v.note, "ICU");
        let bad = NeedRequest {
            quantity: "-1".into(),
            item: String::new(),
            ..ok
        };
        let e = bad.validate().expect_err("invalid");
        assert!(e.0.len() >= 2, "{e:?}");
    }
}
