//! The words of the web pages: one catalogue per language ([`en`], [`zh`]), both of the type
//! [`Text`], so a string missing in one language is a compile error. Placeholders are `{n}`,
//! `{org}`… and are filled with [`fill`].

pub mod en;
pub mod zh;

use givetrail_domain::entry::EntryKind;

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// 简体中文.
    Zh,
    /// English.
    En,
}

impl Lang {
    /// The `lang` attribute and `?lang=` value.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `<html lang>` value.
    pub fn html(self) -> &'static str {
        match self {
            Lang::Zh => "zh-Hans",
            Lang::En => "en",
        }
    }

    /// The other language (for the switcher).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The catalogue.
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Zh => &zh::TEXT,
            Lang::En => &en::TEXT,
        }
    }

    /// `?lang=` wins; then the first language of `Accept-Language` (by q) we speak; else Chinese.
    pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        match query {
            Some("zh") => return Lang::Zh,
            Some("en") => return Lang::En,
            _ => {}
        }
        let Some(header) = accept_language else {
            return Lang::Zh;
        };
        let mut best: Option<(u16, Lang)> = None;
        for part in header.split(',').take(MAX_ACCEPT_LANGUAGES) {
            let mut bits = part.split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0) as u16);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::Zh, |(_, l)| l)
    }
}

/// Most `Accept-Language` entries looked at.
const MAX_ACCEPT_LANGUAGES: usize = 16;

/// Replace `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// Every string the pages show, in one language.
pub struct Text {
    // --- every page
    pub site_name: &'static str,
    pub tagline: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    pub nav_home: &'static str,
    pub nav_needs: &'static str,
    pub nav_complaint: &'static str,
    pub nav_api: &'static str,
    pub switch_language: &'static str,
    pub footer: &'static str,
    pub not_found_title: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
    pub busy_title: &'static str,
    pub busy_body: &'static str,
    pub back_home: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,
    pub next_page: &'static str,
    // --- home
    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub search_heading: &'static str,
    pub search_org_label: &'static str,
    pub search_receipt_label: &'static str,
    pub search_receipt_hint: &'static str,
    pub search_button: &'static str,
    pub orgs_heading: &'static str,
    pub needs_board_heading: &'static str,
    pub needs_board_intro: &'static str,
    pub needs_board_link: &'static str,
    pub receipt_not_found: &'static str,
    pub receipt_missing: &'static str,
    // --- registry words
    pub region: &'static str,
    pub credit_code: &'static str,
    pub kind: &'static str,
    pub public_fundraising: &'static str,
    pub kind_red_cross: &'static str,
    pub kind_charity_federation: &'static str,
    pub kind_foundation: &'static str,
    pub kind_social_organization: &'static str,
    pub kind_hospital: &'static str,
    pub kind_welfare_institution: &'static str,
    pub kind_community: &'static str,
    pub kind_government_agency: &'static str,
    pub kind_charity: &'static str,
    pub kind_individual_aid: &'static str,
    pub kind_other: &'static str,
    // --- the trail
    pub trail_title: &'static str,
    pub trail_intro: &'static str,
    /// Caption of the trail page's QR code.
    pub qr_caption: &'static str,
    /// Alternative text of the QR code image.
    pub qr_alt: &'static str,
    /// Title of the printable receipts sheet (`{org}`).
    pub receipts_title: &'static str,
    /// Under each receipt's code on the sheet.
    pub receipt_scan: &'static str,
    pub donor: &'static str,
    pub anonymous_donor: &'static str,
    pub received_on: &'static str,
    pub published_on: &'static str,
    pub campaign: &'static str,
    pub restriction: &'static str,
    pub undesignated: &'static str,
    pub designated_region: &'static str,
    pub designated_recipient: &'static str,
    pub gift: &'static str,
    pub came_from: &'static str,
    pub where_it_stands: &'static str,
    pub received: &'static str,
    pub allocated: &'static str,
    pub disbursed: &'static str,
    pub acknowledged: &'static str,
    pub used: &'static str,
    pub expenses: &'static str,
    pub unallocated: &'static str,
    pub undisbursed: &'static str,
    pub unacknowledged: &'static str,
    pub shortfall: &'static str,
    pub unaccounted_heading: &'static str,
    pub all_accounted: &'static str,
    pub steps_heading: &'static str,
    pub nothing_allocated: &'static str,
    pub step_allocated: &'static str,
    pub from_this_donation: &'static str,
    pub pool_note: &'static str,
    pub purpose: &'static str,
    pub designation_change: &'static str,
    pub consent_reference: &'static str,
    pub step_sent: &'static str,
    pub step_bought: &'static str,
    pub supplier: &'static str,
    pub invoice: &'static str,
    pub paid_from_this_donation: &'static str,
    pub goods_from_this_donation: &'static str,
    pub receipt_voided: &'static str,
    pub correction_notice: &'static str,
    pub correction_void: &'static str,
    pub corrected_by_recipient: &'static str,
    pub reference: &'static str,
    pub step_arrived: &'static str,
    pub not_yet_acknowledged: &'static str,
    pub short_by: &'static str,
    pub step_used: &'static str,
    pub evidence: &'static str,
    pub onward: &'static str,
    pub undisbursed_here: &'static str,
    pub expenses_heading: &'static str,
    pub channel_bank_transfer: &'static str,
    pub channel_logistics: &'static str,
    pub channel_hand_delivery: &'static str,
    pub channel_other: &'static str,
    pub entry_label: &'static str,
    pub entry_number: &'static str,
    // --- organisation
    pub totals_heading: &'static str,
    pub asset: &'static str,
    pub flow_heading: &'static str,
    pub flow_intro: &'static str,
    pub flow_not_disbursed: &'static str,
    pub flow_expenses: &'static str,
    /// The money chart's sink for money spent buying goods.
    pub flow_purchases: &'static str,
    /// The goods chart's source for goods bought with donated money.
    pub flow_purchased: &'static str,
    pub flow_other_donors: &'static str,
    pub flow_other_recipients: &'static str,
    pub flow_anonymous: &'static str,
    pub flow_table: &'static str,
    pub flow_from: &'static str,
    pub flow_to: &'static str,
    pub ageing_heading: &'static str,
    pub ageing_intro: &'static str,
    /// The five age buckets, youngest first: under 24 hours, 1–3, 3–7, 7–30, over 30 days.
    pub ageing_buckets: [&'static str; 5],
    /// After a bar: the age of its oldest unit (`{hours}`).
    pub ageing_oldest: &'static str,
    pub ageing_oldest_hours: &'static str,
    pub ageing_stage: &'static str,
    pub ageing_total: &'static str,
    pub ageing_table: &'static str,
    pub ageing_none: &'static str,
    pub amount: &'static str,
    pub no_flows: &'static str,
    pub priority_share: &'static str,
    pub timeliness_heading: &'static str,
    pub deadline_hours: &'static str,
    pub entries: &'static str,
    pub missed_deadline: &'static str,
    pub no_campaign: &'static str,
    pub median_hours: &'static str,
    pub p90_hours: &'static str,
    pub latest_heading: &'static str,
    pub occurred_at: &'static str,
    pub recorded_at: &'static str,
    pub what: &'static str,
    pub all_entries_json: &'static str,
    pub kind_campaign_opened: &'static str,
    pub kind_donation_received: &'static str,
    pub kind_allocation_made: &'static str,
    pub kind_disbursement_made: &'static str,
    pub kind_acknowledgement_recorded: &'static str,
    pub kind_usage_reported: &'static str,
    pub kind_expense_recorded: &'static str,
    pub kind_procurement_made: &'static str,
    pub unit_price: &'static str,
    pub kind_entry_corrected: &'static str,
    pub kind_disclosure_published: &'static str,
    pub verification_heading: &'static str,
    pub tree_size: &'static str,
    pub root_hash: &'static str,
    pub signed_at: &'static str,
    pub verified_ok: &'static str,
    pub verified_bad: &'static str,
    pub no_checkpoint: &'static str,
    pub verify_yourself: &'static str,
    pub complaints_heading: &'static str,
    pub complaints_count: &'static str,
    pub file_complaint: &'static str,
    pub matches_heading: &'static str,
    pub matches_intro: &'static str,
    pub available: &'static str,
    pub suggested: &'static str,
    pub no_matches: &'static str,
    pub designation_changes_heading: &'static str,
    pub corrections_heading: &'static str,
    pub reason: &'static str,
    // --- recipient
    pub received_from_heading: &'static str,
    pub organization: &'static str,
    pub disbursements_count: &'static str,
    pub disbursements_heading: &'static str,
    pub more_disbursements: &'static str,
    pub first_disbursements: &'static str,
    pub date: &'static str,
    pub from_donations: &'static str,
    /// A recipient a charity registered and no regulator confirmed (`{organization}`).
    pub registered_by_charity: &'static str,
    /// A recipient nobody recorded the registration of, not confirmed.
    pub not_confirmed: &'static str,
    pub nothing_received: &'static str,
    pub recipient_needs_heading: &'static str,
    // --- needs
    pub needs_title: &'static str,
    pub needs_intro: &'static str,
    pub filter_heading: &'static str,
    pub filter_region: &'static str,
    pub filter_region_hint: &'static str,
    pub filter_item: &'static str,
    pub filter_status: &'static str,
    pub status_any: &'static str,
    pub status_open: &'static str,
    pub status_met: &'static str,
    pub status_withdrawn: &'static str,
    /// `{date}`, `{reason}`.
    pub withdrawn_note: &'static str,
    pub filter_button: &'static str,
    pub recipient: &'static str,
    pub item: &'static str,
    pub quantity: &'static str,
    pub pledged: &'static str,
    pub delivered: &'static str,
    pub outstanding: &'static str,
    pub urgency: &'static str,
    pub needed_by: &'static str,
    pub posted_at: &'static str,
    pub status: &'static str,
    pub urgency_critical: &'static str,
    pub urgency_high: &'static str,
    pub urgency_normal: &'static str,
    pub no_needs: &'static str,
    pub post_need_hint: &'static str,
    pub progress_label: &'static str,
    // --- complaints
    pub complaint_new_title: &'static str,
    pub complaint_intro: &'static str,
    pub complaint_org: &'static str,
    pub complaint_entry: &'static str,
    pub complaint_entry_hint: &'static str,
    pub complaint_category: &'static str,
    pub category_misallocation: &'static str,
    pub category_fraudulent_fundraising: &'static str,
    pub category_disclosure_error: &'static str,
    pub category_other: &'static str,
    pub complaint_description: &'static str,
    pub complaint_description_hint: &'static str,
    pub complaint_contact: &'static str,
    pub complaint_contact_hint: &'static str,
    pub complaint_submit: &'static str,
    pub complaint_title: &'static str,
    pub tracking_code: &'static str,
    pub keep_code: &'static str,
    pub complaint_status_received: &'static str,
    pub complaint_status_investigating: &'static str,
    pub complaint_status_resolved: &'static str,
    pub complaint_status_dismissed: &'static str,
    pub filed_at: &'static str,
    pub history_heading: &'static str,
    pub note: &'static str,
    pub no_history: &'static str,
    pub form_errors: &'static str,
    pub complaints_unavailable: &'static str,
    /// Title of a region's page.
    pub region_title: &'static str,
    /// Introduction of a region's page.
    pub region_intro: &'static str,
    /// Heading of a region's inflows table.
    pub inflows_heading: &'static str,
    /// Heading of a region's totals.
    pub region_totals_heading: &'static str,
    /// A region with no inflows.
    pub no_inflows: &'static str,
    /// Heading of a region's open needs.
    pub region_needs_heading: &'static str,
    /// A region without open needs.
    pub no_open_needs: &'static str,
    /// Link to a region's page.
    pub region_link: &'static str,
    /// A region with more recipients than counted.
    pub region_truncated: &'static str,
    /// Column: number of allocations.
    pub allocations_count: &'static str,
}

impl Text {
    /// The name of an organisation or recipient kind.
    pub fn kind_name(&self, kind: &str) -> &'static str {
        match kind {
            "red_cross" => self.kind_red_cross,
            "charity_federation" => self.kind_charity_federation,
            "foundation" => self.kind_foundation,
            "social_organization" => self.kind_social_organization,
            "hospital" => self.kind_hospital,
            "welfare_institution" => self.kind_welfare_institution,
            "community" => self.kind_community,
            "government_agency" => self.kind_government_agency,
            "charity" => self.kind_charity,
            "individual_aid" => self.kind_individual_aid,
            _ => self.kind_other,
        }
    }

    /// The name of an entry kind. Exhaustive: a new kind does not compile until it is named
    /// in every language.
    pub fn entry_kind(&self, kind: EntryKind) -> &'static str {
        match kind {
            EntryKind::CampaignOpened => self.kind_campaign_opened,
            EntryKind::DonationReceived => self.kind_donation_received,
            EntryKind::AllocationMade => self.kind_allocation_made,
            EntryKind::DisbursementMade => self.kind_disbursement_made,
            EntryKind::AcknowledgementRecorded => self.kind_acknowledgement_recorded,
            EntryKind::UsageReported => self.kind_usage_reported,
            EntryKind::ExpenseRecorded => self.kind_expense_recorded,
            EntryKind::ProcurementMade => self.kind_procurement_made,
            EntryKind::EntryCorrected => self.kind_entry_corrected,
            EntryKind::DisclosurePublished => self.kind_disclosure_published,
        }
    }

    /// The name of a disbursement channel (`bank_transfer`).
    pub fn channel(&self, channel: &str) -> &'static str {
        match channel {
            "bank_transfer" => self.channel_bank_transfer,
            "logistics" => self.channel_logistics,
            "hand_delivery" => self.channel_hand_delivery,
            _ => self.channel_other,
        }
    }

    /// The name of an urgency.
    pub fn urgency_name(&self, urgency: &str) -> &'static str {
        match urgency {
            "critical" => self.urgency_critical,
            "high" => self.urgency_high,
            _ => self.urgency_normal,
        }
    }

    /// The name of a complaint category.
    pub fn category(&self, category: &str) -> &'static str {
        match category {
            "misallocation" => self.category_misallocation,
            "fraudulent_fundraising" => self.category_fraudulent_fundraising,
            "disclosure_error" => self.category_disclosure_error,
            _ => self.category_other,
        }
    }

    /// The name of a complaint status.
    pub fn complaint_status(&self, status: &str) -> &'static str {
        match status {
            "investigating" => self.complaint_status_investigating,
            "resolved" => self.complaint_status_resolved,
            "dismissed" => self.complaint_status_dismissed,
            _ => self.complaint_status_received,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_wins_then_accept_language_by_quality_then_chinese() {
        assert_eq!(Lang::negotiate(Some("en"), Some("zh-CN")), Lang::En);
        assert_eq!(Lang::negotiate(Some("zh"), Some("en")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::negotiate(None, Some("fr, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::negotiate(Some("de"), Some("zh-Hans-CN")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, Some("fr")), Lang::Zh);
        assert_eq!(Lang::negotiate(None, None), Lang::Zh);
    }

    #[test]
    fn every_entry_kind_has_its_own_label_in_each_language() {
        for lang in [Lang::Zh, Lang::En] {
            let t = lang.text();
            let mut labels: Vec<&str> = EntryKind::ALL.iter().map(|k| t.entry_kind(*k)).collect();
            assert!(
                labels.iter().all(|l| !l.trim().is_empty()),
                "{lang:?}: an entry kind has no label"
            );
            labels.sort_unstable();
            labels.dedup();
            assert_eq!(
                labels.len(),
                EntryKind::ALL.len(),
                "{lang:?}: two entry kinds share a label"
            );
        }
        assert_ne!(
            Lang::Zh.text().entry_kind(EntryKind::DonationReceived),
            Lang::En.text().entry_kind(EntryKind::DonationReceived)
        );
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("{n} open needs", &[("n", "3")]), "3 open needs");
    }
}
