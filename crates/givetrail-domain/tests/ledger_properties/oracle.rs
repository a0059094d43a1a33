//! The oracle: whether the ledger rules allow a command, read from the books before it and from
//! the oracle's own record of the log (what lives at each seq, what it refers to, when it
//! happened, which replacement took over which fact), written independently of the rules' code.
//! Dependants, statements, dates, receipt numbers and goods keys are the oracle's own; only the
//! balances of lots and allocations are read from the books (the invariants check those against
//! the log).

use super::*;

/// Why the oracle refuses, and what the refusal must look like when it is the first reason.
#[derive(Debug, Clone)]
pub(crate) struct Why {
    pub(crate) text: String,
    pub(crate) class: Class,
}

/// What a refusal must look like (checked when the code refuses too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Class {
    /// Not checked beyond being refused.
    Any,
    /// 403, naming `corrects`: another party's statement.
    Forbidden,
    /// 422, naming `corrects`: the recipient's statement, which the charity may not correct.
    NotTheCharitys,
    /// 422, naming `corrects` and the live dependants (seq and kind), which a void must wait for.
    VoidWithDependants(Vec<(Seq, EntryKind)>),
    /// 422, naming `replacement.<field>` and at least one of these dependants.
    Breaks(Vec<(Seq, EntryKind)>),
    /// 409, naming the receipt number.
    ReceiptUsed,
    /// 422, naming `occurred_at`.
    Date,
}

fn no(text: &str) -> Why {
    Why {
        text: text.to_owned(),
        class: Class::Any,
    }
}

fn why(text: &str, class: Class) -> Why {
    Why {
        text: text.to_owned(),
        class,
    }
}

impl From<&str> for Why {
    fn from(text: &str) -> Self {
        no(text)
    }
}

/// Where a command is decided: the books, the fact a correction voids first (not live while its
/// replacement is decided), and the donation a replacement stands for (whose number it may keep).
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) b: &'a MemoryBooks,
    pub(crate) voided: Option<Seq>,
    pub(crate) replacing: Option<Seq>,
}

/// Units of a wire asset (zero allowed for an acknowledgement), if it is valid.
fn units_of(w: &AssetWire, zero: bool) -> Option<i64> {
    let parsed = if zero { w.parse_or_zero() } else { w.parse() };
    parsed.ok().map(|a| a.units())
}

/// Whether a designation (as sent) is honoured by allocating to `to` (oracle's own reading).
pub(crate) fn honours_restriction(r: &RestrictionWire, to: &RecipientInfo) -> bool {
    match r {
        RestrictionWire::None => true,
        RestrictionWire::Designated {
            region_code,
            recipient,
            ..
        } => {
            region_code
                .as_ref()
                .is_none_or(|rc| within(rc, &to.region_code))
                && recipient.as_ref().is_none_or(|r| r == &to.id)
        }
    }
}

/// Whether goods carrying `goods` keep the designation `money` of the money they were bought with
/// (oracle's own reading of §9.2): a region inside the money's, or the recipient the money names;
/// that recipient, where it names one; no costs where the money allows none.
pub(crate) fn keeps(goods: &RestrictionWire, money: &RestrictionWire) -> bool {
    let RestrictionWire::Designated {
        region_code: m_region,
        recipient: m_recipient,
        costs_allowed: m_costs,
        ..
    } = money
    else {
        return true;
    };
    let RestrictionWire::Designated {
        region_code: g_region,
        recipient: g_recipient,
        costs_allowed: g_costs,
        ..
    } = goods
    else {
        return false;
    };
    let region = match (m_region, g_region) {
        (None, _) => true,
        (Some(_), None) => g_recipient.is_some() && g_recipient == m_recipient,
        (Some(m), Some(g)) => within(m, g),
    };
    let recipient = m_recipient.is_none() || m_recipient == g_recipient;
    let costs = *m_costs || !*g_costs;
    region && recipient && costs
}

/// Designated, and its donor did not allow costs to be charged to it.
pub(crate) fn costs_barred(r: &RestrictionWire) -> bool {
    matches!(
        r,
        RestrictionWire::Designated {
            costs_allowed: false,
            ..
        }
    )
}

impl World {
    /// Whether the fact at `seq` is live in `scope`.
    pub(crate) fn live_in(&self, scope: Scope<'_>, seq: Seq) -> bool {
        scope.voided != Some(seq) && self.model.get(&seq).is_some_and(|f| f.1)
    }

    /// The seq a fact's dependants now point at: its replacement's, and so on.
    pub(crate) fn follow(&self, mut seq: Seq) -> Seq {
        while let Some(next) = self.successor.get(&seq) {
            seq = *next;
        }
        seq
    }

    /// When the fact living at `seq` happened (the oracle's record).
    pub(crate) fn date(&self, seq: Seq) -> DateTime<Utc> {
        self.living[&seq].0
    }

    /// The restriction of the lot living at `seq`: the donor's, or the one goods bought carry.
    pub(crate) fn restriction_at(&self, seq: Seq) -> RestrictionWire {
        match self.commands.get(&seq) {
            Some(Command::Donation(r)) => r.restriction.clone(),
            Some(Command::Procurement(_)) => self.goods_restriction[&seq].clone(),
            other => panic!("no lot at {seq}: {other:?}"),
        }
    }

    /// What goods bought by `r` carry: the designation of the money lot paid from (without its
    /// purpose), none from the pool.
    pub(crate) fn bought_restriction(&self, r: &ProcurementRequest) -> RestrictionWire {
        match (r.donation, r.pool) {
            (Some(s), false)
                if matches!(
                    self.commands.get(&s),
                    Some(Command::Donation(_) | Command::Procurement(_))
                ) =>
            {
                match self.restriction_at(s) {
                    RestrictionWire::Designated {
                        region_code,
                        recipient,
                        costs_allowed,
                        ..
                    } => RestrictionWire::Designated {
                        region_code,
                        recipient,
                        purpose: None,
                        costs_allowed,
                    },
                    RestrictionWire::None => RestrictionWire::None,
                }
            }
            _ => RestrictionWire::None,
        }
    }

    /// The campaign goods bought by `r` serve: the money donation's, none from the pool.
    pub(crate) fn bought_campaign(&self, r: &ProcurementRequest) -> Option<Slug> {
        match (r.donation, r.pool) {
            (Some(s), false) => match self.commands.get(&s) {
                Some(Command::Donation(d)) => d.campaign.clone(),
                _ => None,
            },
            _ => None,
        }
    }

    fn donation_at(&self, seq: Seq) -> &DonationRequest {
        match self.commands.get(&seq) {
            Some(Command::Donation(r)) => r,
            other => panic!("no donation at {seq}: {other:?}"),
        }
    }

    /// The live facts in `scope` that depend on the fact at `target` (of `kind`), in seq order.
    pub(crate) fn dependants_in(
        &self,
        scope: Scope<'_>,
        target: Seq,
        kind: EntryKind,
    ) -> Vec<(Seq, EntryKind)> {
        let about_target = |d: Seq| self.follow(d) == target;
        let ack_about = match (kind, self.living.get(&target)) {
            (EntryKind::AcknowledgementRecorded, Some((_, Fact::Acknowledgement(a)))) => {
                Some(self.follow(a.disbursement))
            }
            _ => None,
        };
        let campaign_id = match (kind, self.commands.get(&target)) {
            (EntryKind::CampaignOpened, Some(Command::Campaign(c))) => Some(c.id.clone()),
            _ => None,
        };
        let mut out = Vec::new();
        for (seq, (_, fact)) in &self.living {
            if !self.live_in(scope, *seq) || *seq == target {
                continue;
            }
            let depends = match (kind, fact) {
                (EntryKind::DonationReceived | EntryKind::ProcurementMade, Fact::Allocation(a)) => {
                    a.drawn_from.iter().any(|d| about_target(d.donation))
                }
                (EntryKind::DonationReceived | EntryKind::ProcurementMade, Fact::Expense(e)) => {
                    e.drawn_from.iter().any(|d| about_target(d.donation))
                }
                (
                    EntryKind::DonationReceived | EntryKind::ProcurementMade,
                    Fact::Procurement(p),
                ) => p.drawn_from.iter().any(|d| about_target(d.donation)),
                (EntryKind::AllocationMade, Fact::Disbursement(d)) => about_target(d.allocation),
                (EntryKind::DisbursementMade, Fact::Acknowledgement(a)) => {
                    about_target(a.disbursement)
                }
                (EntryKind::DisbursementMade, Fact::Usage(u)) => about_target(u.disbursement),
                (EntryKind::AcknowledgementRecorded, Fact::Usage(u)) => {
                    ack_about == Some(self.follow(u.disbursement))
                }
                (EntryKind::CampaignOpened, Fact::Donation(d)) => {
                    campaign_id.is_some() && d.campaign == campaign_id
                }
                // Goods bought serve the campaign of the money that paid for them.
                (EntryKind::CampaignOpened, Fact::Procurement(p)) => {
                    campaign_id.is_some() && p.campaign == campaign_id
                }
                _ => false,
            };
            if depends {
                out.push((*seq, fact.kind()));
            }
        }
        out
    }

    /// The live acknowledgement of a disbursement in `scope`: its seq, units and date.
    fn live_ack(&self, scope: Scope<'_>, disbursement: Seq) -> Option<(Seq, i64)> {
        self.living.iter().find_map(|(seq, (_, f))| match f {
            Fact::Acknowledgement(a)
                if self.live_in(scope, *seq) && self.follow(a.disbursement) == disbursement =>
            {
                Some((*seq, units_of(&a.asset, true).unwrap()))
            }
            _ => None,
        })
    }

    /// Units reported used of a disbursement by live reports in `scope`.
    fn live_used(&self, scope: Scope<'_>, disbursement: Seq) -> i64 {
        self.living
            .iter()
            .filter_map(|(seq, (_, f))| match f {
                Fact::Usage(u)
                    if self.live_in(scope, *seq) && self.follow(u.disbursement) == disbursement =>
                {
                    Some(units_of(&u.asset, false).unwrap())
                }
                _ => None,
            })
            .sum()
    }

    /// Units a live allocation or expense draws on the lot at `lot` (by its logged draws).
    fn drawn_on(&self, by: Seq, lot: Seq) -> i64 {
        let draws = match &self.living[&by].1 {
            Fact::Allocation(a) => (&a.asset, &a.drawn_from),
            Fact::Expense(e) => (&e.asset, &e.drawn_from),
            Fact::Procurement(p) => (&p.paid, &p.drawn_from),
            other => panic!("{by} draws nothing: {other:?}"),
        };
        let scale = draws.0.parse().unwrap().key().scale();
        draws
            .1
            .iter()
            .filter(|d| self.follow(d.donation) == lot)
            .map(|d| parse_units(&d.amount, scale).unwrap())
            .sum()
    }

    /// Where an allocation or expense takes its units: the lots and units, oldest first from the
    /// pool. Refuses as the contract does (unknown lot, other goods, not enough left, drawn before
    /// the lots arrived).
    fn draws(
        &self,
        scope: Scope<'_>,
        donation: Option<Seq>,
        pool: bool,
        asset: &AssetWire,
        at: DateTime<Utc>,
    ) -> Result<Vec<(Seq, i64)>, Why> {
        let units = units_of(asset, false).ok_or("invalid asset")?;
        let key = okey_wire(asset);
        let taken = match (donation, pool) {
            (Some(s), false) => {
                let lot = scope
                    .b
                    .lots
                    .get(&s)
                    .filter(|l| l.live && self.live_in(scope, s))
                    .ok_or("no such donation")?;
                if okey(&lot.asset) != key {
                    return Err(no("asset mismatch"));
                }
                if units > lot.remaining() {
                    return Err(no("more than remains"));
                }
                vec![(s, units)]
            }
            (None, true) => {
                let mut queue: Vec<&Lot> = scope
                    .b
                    .lots
                    .values()
                    .map(AsRef::as_ref)
                    .filter(|l| {
                        l.live
                            && self.live_in(scope, l.seq)
                            && self.restriction_at(l.seq) == RestrictionWire::None
                            && okey(&l.asset) == key
                            && l.remaining() > 0
                    })
                    .collect();
                queue.sort_by_key(|l| (self.date(l.seq), l.seq));
                let mut left = units;
                let mut taken = Vec::new();
                for lot in queue {
                    if left == 0 {
                        break;
                    }
                    let take = lot.remaining().min(left);
                    taken.push((lot.seq, take));
                    left -= take;
                }
                if left > 0 {
                    return Err(no("more than the pool holds"));
                }
                taken
            }
            _ => return Err(no("donation xor pool")),
        };
        if taken.iter().any(|(s, _)| at < self.date(*s)) {
            return Err(why("drawn before the donation arrived", Class::Date));
        }
        Ok(taken)
    }

    /// Whether the contract allows `cmd` by `author` on the books as they are.
    pub(crate) fn expect(
        &self,
        author: &Author,
        cmd: &Command,
        replacement: Option<&Command>,
    ) -> Result<(), Why> {
        let scope = Scope {
            b: &self.books,
            voided: None,
            replacing: None,
        };
        self.expect_in(scope, author, cmd, replacement)
    }

    pub(crate) fn expect_in(
        &self,
        scope: Scope<'_>,
        author: &Author,
        cmd: &Command,
        replacement: Option<&Command>,
    ) -> Result<(), Why> {
        let b = scope.b;
        let live = |seq: Seq| self.live_in(scope, seq);
        if cmd.occurred_at() > self.now + Duration::seconds(300) {
            return Err(no("occurred_at in the future"));
        }
        let at = cmd.occurred_at();
        match cmd {
            Command::Procurement(r) => {
                let paid = parsed(&r.paid).ok_or("invalid asset")?;
                let goods = parsed(&r.goods).ok_or("invalid asset")?;
                if !matches!(okey(&paid.0), OKey::Money(_)) {
                    return Err(no("paid is not money"));
                }
                if !matches!(okey(&goods.0), OKey::Goods(..)) {
                    return Err(no("goods are not goods"));
                }
                if r.donation.is_some() == r.pool {
                    return Err(no("donation xor pool"));
                }
                // Money only: a goods lot cannot pay (its asset is not the money paid).
                self.draws(scope, r.donation, r.pool, &r.paid, at)?;
            }
            // Not generated yet (the writer computes the hash from the log, which a history does
            // not have); the rule, stated independently: a period that has ended, disclosed
            // after it ended, with the hash the writer computed. It changes no balance.
            Command::Disclosure(d) => {
                let p = d.request.period;
                if p.from >= p.to {
                    return Err(no("period.from not before period.to"));
                }
                if p.to > self.now {
                    return Err(no("period.to in the future"));
                }
                if at < p.to {
                    return Err(no("disclosed before the period ended"));
                }
                if d.summary_sha256.is_none() {
                    return Err(no("no summary hash"));
                }
            }
            Command::Campaign(r) => {
                if r.public_fundraising && r.record_number.is_none() {
                    return Err(no("public fundraising without a record number"));
                }
                if b.campaigns
                    .get(&r.id)
                    .is_some_and(|c| c.live && live(c.seq))
                {
                    return Err(no("campaign exists"));
                }
            }
            Command::Donation(r) => {
                units_of(&r.asset, false).ok_or("invalid asset")?;
                if let RestrictionWire::Designated {
                    region_code: None,
                    recipient: None,
                    ..
                } = &r.restriction
                {
                    return Err(no("empty designation"));
                }
                assert!(
                    r.source_disbursement.is_none() && r.designation_change.is_none(),
                    "transfers between charities are not generated (see the focused test)"
                );
                // A number once used is never used again; a replacement may keep its own.
                let receipt = r.receipt_number.trim();
                if receipt.is_empty() {
                    // (Goods bought have none: sometimes picked as a voided lot's number.)
                    return Err(no("no receipt number"));
                }
                let used = self.commands.values().any(
                    |c| matches!(c, Command::Donation(d) if d.receipt_number.trim() == receipt),
                );
                let kept = scope
                    .replacing
                    .is_some_and(|s| self.donation_at(s).receipt_number.trim() == receipt);
                if used && !kept {
                    return Err(why("receipt number used before", Class::ReceiptUsed));
                }
                if let Some(c) = &r.campaign {
                    if !b.campaigns.get(c).is_some_and(|c| c.live && live(c.seq)) {
                        return Err(no("no such campaign"));
                    }
                }
                if let RestrictionWire::Designated {
                    region_code,
                    recipient: Some(rid),
                    ..
                } = &r.restriction
                {
                    let info = b
                        .recipients
                        .get(rid)
                        .ok_or("designated recipient unknown")?;
                    if r.donor.related_recipients.contains(rid) {
                        return Err(no("related-party designation"));
                    }
                    if region_code
                        .as_ref()
                        .is_some_and(|rc| !within(rc, &info.region_code))
                    {
                        return Err(no("designated recipient outside designated region"));
                    }
                }
                if r.donor
                    .related_recipients
                    .iter()
                    .any(|rid| !b.recipients.contains_key(rid))
                {
                    return Err(no("related recipient unknown"));
                }
            }
            Command::Allocation(r) => {
                units_of(&r.asset, false).ok_or("invalid asset")?;
                if r.donation.is_some() == r.pool {
                    return Err(no("donation xor pool"));
                }
                let to = b.recipients.get(&r.recipient).ok_or("unknown recipient")?;
                let taken = self.draws(scope, r.donation, r.pool, &r.asset, at)?;
                let departs = taken
                    .iter()
                    .any(|(s, _)| !honours_restriction(&self.restriction_at(*s), to));
                if departs != r.designation_change.is_some() {
                    return Err(no("designation change iff departure"));
                }
            }
            Command::Disbursement(r) => {
                let units = units_of(&r.asset, false).ok_or("invalid asset")?;
                let a = b
                    .allocations
                    .get(&r.allocation)
                    .filter(|a| a.live && live(a.seq))
                    .ok_or("no such allocation")?;
                if okey(&a.asset) != okey_wire(&r.asset) {
                    return Err(no("asset mismatch"));
                }
                if at < self.date(a.seq) {
                    return Err(why("disbursed before it was allocated", Class::Date));
                }
                if units > a.units - a.disbursed {
                    return Err(no("more than the allocation has left"));
                }
            }
            Command::Acknowledgement(r) => {
                units_of(&r.asset, true).ok_or("invalid asset")?;
                if r.received_at > self.now + Duration::seconds(300) {
                    return Err(no("received_at in the future"));
                }
                if r.disbursement.organization.as_str() != ORG {
                    return Err(no("another organisation's disbursement"));
                }
                let d = b
                    .disbursements
                    .get(&r.disbursement.seq)
                    .filter(|d| d.live && live(d.seq))
                    .ok_or("no such disbursement")?;
                if author.role != Role::Recipient || author.subject != d.recipient.as_str() {
                    return Err(no("not the named recipient"));
                }
                if self.live_ack(scope, d.seq).is_some() {
                    return Err(no("already acknowledged"));
                }
                if okey(&d.asset) != okey_wire(&r.asset) {
                    return Err(no("asset mismatch"));
                }
                if at < self.date(d.seq) {
                    return Err(why("acknowledged before it was sent", Class::Date));
                }
            }
            Command::Usage(r) => {
                let units = units_of(&r.asset, false).ok_or("invalid asset")?;
                if r.evidence_sha256.as_ref().is_some_and(|h| {
                    h.len() != 64 || !h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
                }) {
                    return Err(no("bad evidence hash"));
                }
                if r.disbursement.organization.as_str() != ORG {
                    return Err(no("another organisation's disbursement"));
                }
                let d = b
                    .disbursements
                    .get(&r.disbursement.seq)
                    .filter(|d| d.live && live(d.seq))
                    .ok_or("no such disbursement")?;
                if author.role != Role::Recipient || author.subject != d.recipient.as_str() {
                    return Err(no("not the named recipient"));
                }
                if okey(&d.asset) != okey_wire(&r.asset) {
                    return Err(no("asset mismatch"));
                }
                if at < self.date(d.seq) {
                    return Err(why("used before it was sent", Class::Date));
                }
                let ack = self.live_ack(scope, d.seq);
                if let Some((k, _)) = ack {
                    if at < self.date(k) {
                        return Err(why("used before it was acknowledged", Class::Date));
                    }
                }
                let acknowledged = ack.map_or(0, |(_, u)| u);
                if units > acknowledged - self.live_used(scope, d.seq) {
                    return Err(no("more than acknowledged"));
                }
            }
            Command::Expense(r) => {
                units_of(&r.asset, false).ok_or("invalid asset")?;
                if r.donation.is_some() == r.pool {
                    return Err(no("donation xor pool"));
                }
                let taken = self.draws(scope, r.donation, r.pool, &r.asset, at)?;
                let barred = !r.pool
                    && taken
                        .iter()
                        .any(|(s, _)| costs_barred(&self.restriction_at(*s)));
                if barred && r.designation_change.is_none() {
                    return Err(no("costs charged to a designated donation without consent"));
                }
                if !barred && r.designation_change.is_some() {
                    return Err(no("designation change on funds that allow costs"));
                }
            }
            Command::Correction(c) => return self.expect_correction(scope, author, c, replacement),
        }
        Ok(())
    }

    fn expect_correction(
        &self,
        scope: Scope<'_>,
        author: &Author,
        c: &CorrectionRequest,
        replacement: Option<&Command>,
    ) -> Result<(), Why> {
        let target = c.corrects;
        let (kind, is_live) = *self.model.get(&target).ok_or("nothing at that seq")?;
        if !is_live {
            return Err(no("already corrected"));
        }
        // The charity corrects its own statements, a recipient its own.
        match kind {
            EntryKind::EntryCorrected => return Err(no("a correction notice")),
            EntryKind::AcknowledgementRecorded | EntryKind::UsageReported => {
                let recipient = match &self.living[&target].1 {
                    Fact::Acknowledgement(a) => &a.recipient,
                    Fact::Usage(u) => &u.recipient,
                    other => panic!("{other:?}"),
                };
                match author.role {
                    Role::Recipient if author.subject == recipient.as_str() => {}
                    Role::Recipient => {
                        return Err(why("another recipient's statement", Class::Forbidden))
                    }
                    _ => {
                        return Err(why(
                            "the recipient's statement, not the charity's",
                            Class::NotTheCharitys,
                        ))
                    }
                }
            }
            _ => {
                if author.role != Role::Charity {
                    return Err(why("the charity's statement", Class::Forbidden));
                }
            }
        }
        let dependants = self.dependants_in(scope, target, kind);
        if c.replacement.is_none() {
            if !dependants.is_empty() {
                return Err(why(
                    "a void with live dependants",
                    Class::VoidWithDependants(dependants),
                ));
            }
            return Ok(());
        }
        let replacement = replacement.ok_or("malformed replacement")?;
        let after = after_void(scope.b, target, self.next_seq).unwrap();
        let inner = Scope {
            b: &after,
            voided: Some(target),
            replacing: Some(target),
        };
        self.expect_in(inner, author, replacement, None)
            .map_err(|w| Why {
                text: format!("replacement: {}", w.text),
                class: w.class,
            })?;
        if dependants.is_empty() {
            return Ok(());
        }
        self.still_valid(inner, target, replacement, &dependants)
            .map_err(|text| Why {
                text: format!("replacement breaks dependants: {text}"),
                class: Class::Breaks(dependants.clone()),
            })
    }

    /// Every live dependant of the fact at `target` stays valid under `replacement`.
    fn still_valid(
        &self,
        scope: Scope<'_>,
        target: Seq,
        replacement: &Command,
        dependants: &[(Seq, EntryKind)],
    ) -> Result<(), String> {
        let at = replacement.occurred_at();
        // Nothing may have happened before what it draws on, is sent from, or states of (a
        // donation may name a campaign whatever their dates).
        let dated = !matches!(replacement, Command::Campaign(_));
        if dated && dependants.iter().any(|(s, _)| self.date(*s) < at) {
            return Err("a dependant happened before the replacement".into());
        }
        let old = &self.living[&target].1;
        match (old, replacement) {
            (Fact::Donation(old), Command::Donation(new)) => {
                let old_req = self.donation_at(target);
                if okey_wire(&new.asset) != okey_wire(&old.asset) {
                    return Err("another asset".into());
                }
                let drawn: i64 = dependants
                    .iter()
                    .map(|(s, _)| self.drawn_on(*s, target))
                    .sum();
                if units_of(&new.asset, false).unwrap() < drawn {
                    return Err("less than is drawn".into());
                }
                for (s, _) in dependants {
                    match &self.living[s].1 {
                        Fact::Allocation(a) => {
                            let to = &scope.b.recipients[&a.recipient];
                            if honours_restriction(&old_req.restriction, to)
                                && !honours_restriction(&new.restriction, to)
                            {
                                return Err("an allocation leaves the designation".into());
                            }
                        }
                        // The donor's consent an expense cites was given against the
                        // designation as it stood: a replacement that bars costs where they were
                        // not barred asks for it again (refused), consent or not.
                        Fact::Expense(e) => {
                            if costs_barred(&new.restriction)
                                && (e.designation_change.is_none()
                                    || !costs_barred(&old_req.restriction))
                            {
                                return Err("an expense would be charged without consent".into());
                            }
                        }
                        Fact::Procurement(_) => {
                            if !keeps(&self.goods_restriction[s], &new.restriction) {
                                return Err("goods bought would not keep the designation".into());
                            }
                        }
                        other => panic!("{other:?}"),
                    }
                }
            }
            (Fact::Procurement(old), Command::Procurement(new)) => {
                if okey_wire(&new.goods) != okey_wire(&old.goods) {
                    return Err("another asset".into());
                }
                let drawn: i64 = dependants
                    .iter()
                    .map(|(s, _)| self.drawn_on(*s, target))
                    .sum();
                if units_of(&new.goods, false).unwrap() < drawn {
                    return Err("less than is drawn".into());
                }
                let was = &self.goods_restriction[&target];
                let will = self.bought_restriction(new);
                for (s, _) in dependants {
                    match &self.living[s].1 {
                        Fact::Allocation(a) => {
                            let to = &scope.b.recipients[&a.recipient];
                            if honours_restriction(was, to) && !honours_restriction(&will, to) {
                                return Err("an allocation leaves the designation".into());
                            }
                        }
                        Fact::Expense(e) => {
                            if costs_barred(&will)
                                && (e.designation_change.is_none() || !costs_barred(was))
                            {
                                return Err("an expense would be charged without consent".into());
                            }
                        }
                        other => panic!("{other:?}"),
                    }
                }
            }
            (Fact::Allocation(old), Command::Allocation(new)) => {
                if new.recipient != old.recipient {
                    return Err("another recipient".into());
                }
                if okey_wire(&new.asset) != okey_wire(&old.asset) {
                    return Err("another asset".into());
                }
                let disbursed: i64 = dependants
                    .iter()
                    .map(|(s, _)| match &self.living[s].1 {
                        Fact::Disbursement(d) => units_of(&d.asset, false).unwrap(),
                        other => panic!("{other:?}"),
                    })
                    .sum();
                if units_of(&new.asset, false).unwrap() < disbursed {
                    return Err("less than was disbursed".into());
                }
            }
            (Fact::Disbursement(old), Command::Disbursement(new)) => {
                let sends_to = &scope.b.allocations[&new.allocation].recipient;
                if sends_to != &old.recipient {
                    return Err("another recipient".into());
                }
                if okey_wire(&new.asset) != okey_wire(&old.asset) {
                    return Err("another asset".into());
                }
                if let Some((_, acknowledged)) = self.live_ack(scope, target) {
                    if units_of(&new.asset, false).unwrap() < acknowledged {
                        return Err("less than was acknowledged".into());
                    }
                }
            }
            (Fact::Acknowledgement(old), Command::Acknowledgement(new)) => {
                if self.follow(new.disbursement.seq) != self.follow(old.disbursement) {
                    return Err("another disbursement".into());
                }
                let used = self.live_used(scope, self.follow(old.disbursement));
                if units_of(&new.asset, true).unwrap() < used {
                    return Err("less than was reported used".into());
                }
            }
            (Fact::Campaign(old), Command::Campaign(new)) => {
                if new.id != old.id {
                    return Err("another campaign id".into());
                }
            }
            (old, new) => panic!("{old:?} has no dependants to replace with {new:?}"),
        }
        Ok(())
    }

    /// Run one generated step: predict, submit, compare, and check what was decided.
    pub(crate) fn step(&mut self, step: &Step) {
        let expected = self.expect(&step.author, &step.cmd, step.replacement.as_ref());
        let seq = self.next_seq;
        // The books the decision is taken on (for a correction, after its void).
        let pre = match &step.cmd {
            Command::Correction(c) => {
                after_void(&self.books, c.corrects, seq).unwrap_or_else(|| self.books.clone())
            }
            _ => self.books.clone(),
        };
        let label = self.label(step);
        // What goods bought would carry, predicted on the books before (a replacement's money
        // is never the purchase it replaces).
        let bought = match (&step.cmd, &step.replacement) {
            (Command::Procurement(r), _)
            | (Command::Correction(_), Some(Command::Procurement(r))) => {
                Some((self.bought_restriction(r), self.bought_campaign(r)))
            }
            _ => None,
        };
        let result = self.submit(&step.author, &step.cmd);
        let tally = self.tally.entry(label).or_default();
        match &expected {
            Ok(()) => tally.0 += 1,
            Err(why) => {
                tally.1 += 1;
                *self.reasons.entry(why.text.clone()).or_default() += 1;
            }
        }
        let decision = match (result, expected) {
            (Ok(d), Ok(())) => d,
            (Err(e), Err(why)) => {
                check_refusal(&e, &why, &step.cmd);
                return;
            }
            (Ok(d), Err(why)) => panic!(
                "accepted, but the contract refuses it ({}):\n{:?}\nby {:?}\nreplacement {:?}\ndecision {:?}",
                why.text, step.cmd, step.author, step.replacement, d.fact
            ),
            (Err(e), Ok(())) => panic!(
                "refused ({e:?}), but the contract allows it:\n{:?}\nby {:?}\nreplacement {:?}",
                step.cmd, step.author, step.replacement
            ),
        };
        // Record what lives where.
        match (&step.cmd, &decision.fact) {
            (Command::Correction(c), Fact::Correction(body)) => {
                assert_eq!(body.corrects, c.corrects);
                assert_eq!(body.corrected_kind, self.model[&c.corrects].0);
                self.model.get_mut(&c.corrects).unwrap().1 = false;
                if let Some(r) = &body.replacement {
                    assert_eq!(r.kind(), body.corrected_kind, "replacement of another kind");
                    let typed = step.replacement.clone().expect("typed replacement");
                    assert_eq!(
                        body.replacement_occurred_at,
                        Some(typed.occurred_at()),
                        "the replacement's date: its own, or the corrected fact's"
                    );
                    self.model.insert(seq, (r.kind(), true));
                    self.living
                        .insert(seq, (typed.occurred_at(), r.as_ref().clone()));
                    self.commands.insert(seq, typed);
                    self.successor.insert(c.corrects, seq);
                } else {
                    // A correction notice without a replacement is itself a (non-correctable) fact.
                    self.model.insert(seq, (EntryKind::EntryCorrected, true));
                    self.living
                        .insert(seq, (c.occurred_at, decision.fact.clone()));
                }
            }
            (cmd, fact) => {
                assert_eq!(cmd.kind(), fact.kind());
                self.model.insert(seq, (fact.kind(), true));
                self.commands.insert(seq, cmd.clone());
                self.living.insert(seq, (cmd.occurred_at(), fact.clone()));
            }
        }
        // Check the decided body against the books it was decided on.
        if let Some(Fact::Procurement(p)) = living(&decision.fact) {
            let (restriction, campaign) = bought.expect("a procurement was predicted");
            assert_eq!(
                p.restriction, restriction,
                "the restriction goods bought carry"
            );
            assert_eq!(p.campaign, campaign, "the campaign goods bought serve");
            self.goods_restriction.insert(seq, restriction);
            check_unit_price(p);
        }
        match living(&decision.fact) {
            Some(Fact::Procurement(p)) => {
                check_draws(&pre, p.donation, p.pool, &p.paid, &p.drawn_from)
            }
            Some(Fact::Allocation(a)) => {
                check_draws(&pre, a.donation, a.pool, &a.asset, &a.drawn_from)
            }
            Some(Fact::Expense(e)) => {
                check_draws(&pre, e.donation, e.pool, &e.asset, &e.drawn_from)
            }
            Some(Fact::Acknowledgement(a)) => {
                let (key, received) = parsed_or_zero(&a.asset).unwrap();
                let (_, sent) = parsed(&a.disbursed).unwrap();
                assert_eq!(sent, pre.disbursements[&a.disbursement].units);
                assert_eq!(
                    a.shortfall,
                    key.format(sent - received),
                    "shortfall is disbursed minus received"
                );
                assert_eq!(
                    self.books.disbursements[&a.disbursement].acknowledged,
                    Some(received)
                );
            }
            _ => {}
        }
    }

    /// What a generated step exercises, for the coverage tally.
    pub(crate) fn label(&self, step: &Step) -> &'static str {
        let statement = |seq: Seq| {
            matches!(
                self.model.get(&seq),
                Some((
                    EntryKind::AcknowledgementRecorded | EntryKind::UsageReported,
                    _
                ))
            )
        };
        let with_dependants = |seq: Seq| {
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
        };
        let bought = |s: &Option<Seq>| {
            s.is_some_and(|s| matches!(self.commands.get(&s), Some(Command::Procurement(_))))
        };
        let procurement =
            |seq: Seq| matches!(self.model.get(&seq), Some((EntryKind::ProcurementMade, _)));
        match &step.cmd {
            Command::Procurement(r) if r.pool => "procurement from the pool",
            Command::Procurement(r)
                if r.donation.is_some_and(|s| {
                    matches!(self.commands.get(&s), Some(Command::Donation(d)) if d.restriction != RestrictionWire::None)
                }) =>
            {
                "procurement from a designated donation"
            }
            Command::Procurement(_) => "procurement from a donation",
            Command::Allocation(r) if r.pool => "allocation from the pool",
            Command::Allocation(r) if bought(&r.donation) => "allocation of goods bought",
            Command::Expense(r) if r.pool => "expense on the pool",
            Command::Expense(r) if bought(&r.donation) => "expense on goods bought",
            Command::Allocation(r) if r.designation_change.is_some() => {
                "allocation with designation change"
            }
            Command::Allocation(_) => "allocation from a donation",
            Command::Expense(r)
                if r.donation.is_some_and(|s| {
                    matches!(self.commands.get(&s), Some(Command::Donation(d)) if d.restriction != RestrictionWire::None)
                }) =>
            {
                "expense on a designated donation"
            }
            Command::Expense(_) => "expense on a donation",
            Command::Donation(r) if r.restriction != RestrictionWire::None => {
                "designated donation"
            }
            Command::Acknowledgement(r) if units_of(&r.asset, true) == Some(0) => {
                "acknowledgement of nothing"
            }
            Command::Correction(c) if statement(c.corrects) => {
                if c.replacement.is_some() {
                    "recipient's correction with replacement"
                } else {
                    "recipient's correction without replacement"
                }
            }
            Command::Correction(c) if procurement(c.corrects) => {
                match (c.replacement.is_some(), with_dependants(c.corrects)) {
                    (true, true) => "procurement corrected with replacement, with live dependants",
                    (true, false) => "procurement corrected with replacement",
                    (false, _) => "procurement corrected without replacement",
                }
            }
            Command::Correction(c) if c.replacement.is_some() && with_dependants(c.corrects) => {
                "correction with replacement, with live dependants"
            }
            Command::Correction(c) if c.replacement.is_some() => "correction with replacement",
            Command::Correction(_) => "correction without replacement",
            other => other.kind().as_str(),
        }
    }
}

/// A refusal the oracle also refuses looks as the contract says, for the reasons whose shape it
/// fixes.
pub(crate) fn check_refusal(e: &Refusal, why: &Why, cmd: &Command) {
    let rule = match e {
        Rejection::Rule(r) => Some(r),
        _ => None,
    };
    let text = |r: &RuleError| r.to_string();
    let names = |r: &RuleError, deps: &[(Seq, EntryKind)]| {
        deps.iter()
            .any(|(s, k)| text(r).contains(&format!("{} {s}", k.as_str())))
    };
    let ok = match (&why.class, rule) {
        (Class::Any, _) => true,
        (Class::Forbidden, Some(r @ RuleError::Forbidden { .. })) => r.field() == "corrects",
        (Class::NotTheCharitys, Some(r @ RuleError::Refused { .. })) => r.field() == "corrects",
        (Class::VoidWithDependants(deps), Some(r @ RuleError::Refused { .. })) => {
            r.field() == "corrects"
                && deps
                    .iter()
                    .take(10)
                    .all(|(s, k)| text(r).contains(&format!("{} {s}", k.as_str())))
        }
        (Class::Breaks(deps), Some(r @ RuleError::Refused { .. })) => {
            r.field().starts_with("replacement.") && names(r, deps)
        }
        (Class::ReceiptUsed, Some(r @ RuleError::Conflict { .. })) => {
            r.field().ends_with("receipt_number")
        }
        (Class::Date, Some(r @ RuleError::Refused { .. })) => r.field().ends_with("occurred_at"),
        _ => false,
    };
    assert!(
        ok,
        "refused as {e:?}, but the contract refuses it as {:?} ({}):\n{cmd:?}",
        why.class, why.text
    );
}

/// An exact unit price times the quantity bought is what was paid; a rounded one is within half a
/// unit of its last place of it (checked in integers, written from §9.2).
pub(crate) fn check_unit_price(p: &ProcurementBody) {
    fn decimal(s: &str) -> (i128, u32) {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = format!("{int}{frac}");
        (digits.parse().unwrap(), frac.len() as u32)
    }
    let AssetWire::Money { amount, .. } = &p.paid else {
        panic!("paid in goods: {p:?}")
    };
    let AssetWire::Goods { quantity, .. } = &p.goods else {
        panic!("goods in money: {p:?}")
    };
    let (price, ps) = decimal(&p.unit_price);
    let (qty, qs) = decimal(quantity);
    let (paid, pas) = decimal(amount);
    // price × qty at scale ps + qs against paid at scale pas, both at scale ps + qs + pas.
    let lhs = price * qty * 10i128.pow(pas);
    let rhs = paid * 10i128.pow(ps + qs);
    if p.unit_price_rounded {
        // |price - paid/qty| <= 10^-ps / 2  ⇔  |lhs - rhs| * 2 <= qty * 10^(qs + pas)
        assert!(
            (lhs - rhs).abs() * 2 <= qty * 10i128.pow(pas),
            "rounded unit price {} of {amount} for {quantity}",
            p.unit_price
        );
    } else {
        assert_eq!(
            lhs, rhs,
            "unit price {} of {amount} for {quantity}",
            p.unit_price
        );
    }
}
