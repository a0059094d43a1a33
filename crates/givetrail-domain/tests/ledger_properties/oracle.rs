//! The oracle: whether the ledger rules allow a command, read from the books before it and
//! written independently of the rules' code.

use super::*;

// The oracle: whether the contract allows a command, read from the books before it

impl World {
    pub(crate) fn expect(
        &self,
        b: &MemoryBooks,
        model: &BTreeMap<Seq, (EntryKind, bool)>,
        author: &Author,
        cmd: &Command,
        replacement: Option<&Command>,
    ) -> Result<(), String> {
        let refuse = |why: &str| Err(why.to_string());
        if cmd.occurred_at() > self.now + Duration::seconds(300) {
            return refuse("occurred_at in the future");
        }
        let live = |seq: Seq| model.get(&seq).is_some_and(|f| f.1);
        match cmd {
            Command::Campaign(r) => {
                if r.public_fundraising && r.record_number.is_none() {
                    return refuse("public fundraising without a record number");
                }
                if b.campaigns.get(&r.id).is_some_and(|c| c.live) {
                    return refuse("campaign exists");
                }
            }
            Command::Donation(r) => {
                parsed(&r.asset).ok_or("invalid asset")?;
                if b.lots
                    .values()
                    .any(|l| l.live && l.receipt_number == r.receipt_number)
                {
                    return refuse("receipt number in use");
                }
                if let Some(c) = &r.campaign {
                    if !b.campaigns.get(c).is_some_and(|c| c.live) {
                        return refuse("no such campaign");
                    }
                }
                if let RestrictionWire::Designated {
                    region_code,
                    recipient,
                    ..
                } = &r.restriction
                {
                    if region_code.is_none() && recipient.is_none() {
                        return refuse("empty designation");
                    }
                    if let Some(rid) = recipient {
                        let info = b
                            .recipients
                            .get(rid)
                            .ok_or("designated recipient unknown")?;
                        if r.donor.related_recipients.contains(rid) {
                            return refuse("related-party designation");
                        }
                        if region_code
                            .as_ref()
                            .is_some_and(|rc| !within(rc, &info.region_code))
                        {
                            return refuse("designated recipient outside designated region");
                        }
                    }
                }
                if r.donor
                    .related_recipients
                    .iter()
                    .any(|rid| !b.recipients.contains_key(rid))
                {
                    return refuse("related recipient unknown");
                }
            }
            Command::Allocation(r) => {
                let (key, units) = parsed(&r.asset).ok_or("invalid asset")?;
                let to = b.recipients.get(&r.recipient).ok_or("unknown recipient")?;
                match (r.donation, r.pool) {
                    (Some(s), false) => {
                        let lot = b
                            .lots
                            .get(&s)
                            .filter(|l| l.live)
                            .ok_or("no such donation")?;
                        if lot.asset != key {
                            return refuse("asset mismatch");
                        }
                        if units > lot.remaining() {
                            return refuse("more than remains");
                        }
                        if honours(lot, to) == r.designation_change.is_some() {
                            return refuse("designation change iff departure");
                        }
                    }
                    (None, true) => {
                        if units > pool_total(b, &key) {
                            return refuse("more than the pool holds");
                        }
                        if r.designation_change.is_some() {
                            return refuse("designation change on the pool");
                        }
                    }
                    _ => return refuse("donation xor pool"),
                }
            }
            Command::Disbursement(r) => {
                let (key, units) = parsed(&r.asset).ok_or("invalid asset")?;
                let a = b
                    .allocations
                    .get(&r.allocation)
                    .filter(|a| a.live && live(a.seq))
                    .ok_or("no such allocation")?;
                if a.asset != key {
                    return refuse("asset mismatch");
                }
                if units > a.units - a.disbursed {
                    return refuse("more than the allocation has left");
                }
            }
            Command::Acknowledgement(r) => {
                let (key, _) = parsed(&r.asset).ok_or("invalid asset")?;
                if r.received_at > self.now + Duration::seconds(300) {
                    return refuse("received_at in the future");
                }
                if r.disbursement.organization.as_str() != ORG {
                    return refuse("another organisation's disbursement");
                }
                let d = b
                    .disbursements
                    .get(&r.disbursement.seq)
                    .filter(|d| d.live)
                    .ok_or("no such disbursement")?;
                if author.role != Role::Recipient || author.subject != d.recipient.as_str() {
                    return refuse("not the named recipient");
                }
                if d.acknowledged.is_some() {
                    return refuse("already acknowledged");
                }
                if d.asset != key {
                    return refuse("asset mismatch");
                }
            }
            Command::Usage(r) => {
                let (key, units) = parsed(&r.asset).ok_or("invalid asset")?;
                if r.evidence_sha256.as_ref().is_some_and(|h| {
                    h.len() != 64 || !h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
                }) {
                    return refuse("bad evidence hash");
                }
                if r.disbursement.organization.as_str() != ORG {
                    return refuse("another organisation's disbursement");
                }
                let d = b
                    .disbursements
                    .get(&r.disbursement.seq)
                    .filter(|d| d.live)
                    .ok_or("no such disbursement")?;
                if author.role != Role::Recipient || author.subject != d.recipient.as_str() {
                    return refuse("not the named recipient");
                }
                if d.asset != key {
                    return refuse("asset mismatch");
                }
                if units > d.acknowledged.unwrap_or(0) - d.used {
                    return refuse("more than acknowledged");
                }
            }
            Command::Expense(r) => {
                let (key, units) = parsed(&r.asset).ok_or("invalid asset")?;
                match (r.donation, r.pool) {
                    (Some(s), false) => {
                        let lot = b
                            .lots
                            .get(&s)
                            .filter(|l| l.live)
                            .ok_or("no such donation")?;
                        if lot.asset != key {
                            return refuse("asset mismatch");
                        }
                        if units > lot.remaining() {
                            return refuse("more than remains");
                        }
                    }
                    (None, true) => {
                        if units > pool_total(b, &key) {
                            return refuse("more than the pool holds");
                        }
                    }
                    _ => return refuse("donation xor pool"),
                }
            }
            Command::Correction(c) => {
                let (kind, is_live) = *model.get(&c.corrects).ok_or("nothing at that seq")?;
                if !is_live {
                    return refuse("already corrected");
                }
                if matches!(
                    kind,
                    EntryKind::AcknowledgementRecorded
                        | EntryKind::UsageReported
                        | EntryKind::EntryCorrected
                ) {
                    return refuse("not correctable by the charity");
                }
                if self.has_live_dependants(b, model, c.corrects, kind) {
                    return refuse("live dependants");
                }
                if c.replacement.is_some() {
                    let replacement = replacement.ok_or("malformed replacement")?;
                    let after = after_void(b, c.corrects, self.next_seq).unwrap();
                    let mut model_after = model.clone();
                    model_after.get_mut(&c.corrects).unwrap().1 = false;
                    return self
                        .expect(&after, &model_after, author, replacement, None)
                        .map_err(|why| format!("replacement: {why}"));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn has_live_dependants(
        &self,
        b: &MemoryBooks,
        model: &BTreeMap<Seq, (EntryKind, bool)>,
        target: Seq,
        kind: EntryKind,
    ) -> bool {
        let live = |seq: Seq| model.get(&seq).is_some_and(|f| f.1);
        match kind {
            EntryKind::DonationReceived => {
                b.draws.iter().any(|d| d.donation == target && live(d.by))
            }
            EntryKind::AllocationMade => b
                .disbursements
                .values()
                .any(|d| d.allocation == target && live(d.seq)),
            EntryKind::DisbursementMade => b
                .disbursements
                .get(&target)
                .is_some_and(|d| d.acknowledged.is_some() || d.used > 0),
            EntryKind::CampaignOpened => {
                let Some(Command::Campaign(c)) = self.commands.get(&target) else {
                    return false;
                };
                b.lots
                    .values()
                    .any(|l| live(l.seq) && l.campaign.as_ref() == Some(&c.id))
            }
            _ => false,
        }
    }

    /// Run one generated step: predict, submit, compare, and check what was decided.
    pub(crate) fn step(&mut self, step: &Step) {
        let expected = self.expect(
            &self.books,
            &self.model,
            &step.author,
            &step.cmd,
            step.replacement.as_ref(),
        );
        let seq = self.next_seq;
        // The books the decision is taken on (for a correction, after its void).
        let pre = match &step.cmd {
            Command::Correction(c) => {
                after_void(&self.books, c.corrects, seq).unwrap_or_else(|| self.books.clone())
            }
            _ => self.books.clone(),
        };
        let result = self.submit(&step.author, &step.cmd);
        let tally = self.tally.entry(label(&step.cmd)).or_default();
        match &expected {
            Ok(()) => tally.0 += 1,
            Err(why) => {
                tally.1 += 1;
                *self.reasons.entry(why.clone()).or_default() += 1;
            }
        }
        let decision = match (result, expected) {
            (Ok(d), Ok(())) => d,
            (Err(_), Err(_)) => return,
            (Ok(d), Err(why)) => panic!(
                "accepted, but the contract refuses it ({why}):\n{:?}\ndecision {:?}",
                step.cmd, d.fact
            ),
            (Err(e), Ok(())) => panic!(
                "refused ({e:?}), but the contract allows it:\n{:?}",
                step.cmd
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
                    self.model.insert(seq, (r.kind(), true));
                    self.commands
                        .insert(seq, step.replacement.clone().expect("typed replacement"));
                } else {
                    // A correction notice without a replacement is itself a (non-correctable) fact.
                    self.model.insert(seq, (EntryKind::EntryCorrected, true));
                }
            }
            (cmd, fact) => {
                assert_eq!(cmd.kind(), fact.kind());
                self.model.insert(seq, (fact.kind(), true));
                self.commands.insert(seq, cmd.clone());
            }
        }
        // Check the decided body against the books it was decided on.
        match living(&decision.fact) {
            Some(Fact::Allocation(a)) => {
                check_draws(&pre, a.donation, a.pool, &a.asset, &a.drawn_from)
            }
            Some(Fact::Expense(e)) => {
                check_draws(&pre, e.donation, e.pool, &e.asset, &e.drawn_from)
            }
            Some(Fact::Acknowledgement(a)) => {
                let (key, received) = parsed(&a.asset).unwrap();
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
}
