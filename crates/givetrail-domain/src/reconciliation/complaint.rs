//! Complaints from the public: what may be filed, the tracking code, and the append-only
//! history a regulator adds to (`investigating`, then `resolved` or `dismissed`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entry::{Seq, MAX_SHORT_TEXT, MAX_TEXT};
use crate::error::{FieldError, RuleError, ValidationError};
use crate::ids::Slug;
use crate::ledger::text;

/// Characters of a tracking code: Crockford base32 (no I, L, O, U), easy to read aloud.
pub const TRACKING_CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Groups of four characters in a tracking code (`7KQ2-M9XD-4HPT-V1CN-B8RW`): 20 characters,
/// 100 random bits, so a code cannot be guessed.
pub const TRACKING_CODE_GROUPS: usize = 5;

/// What a complaint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    /// Money or goods went somewhere they should not have.
    Misallocation,
    /// Raising money under false pretences or without the right to.
    FraudulentFundraising,
    /// What was published is wrong or missing.
    DisclosureError,
    /// Anything else.
    Other,
}

impl ComplaintCategory {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Misallocation => "misallocation",
            Self::FraudulentFundraising => "fraudulent_fundraising",
            Self::DisclosureError => "disclosure_error",
            Self::Other => "other",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Misallocation,
            Self::FraudulentFundraising,
            Self::DisclosureError,
            Self::Other,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// Where a complaint stands: `received` until a regulator posts its first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStatus {
    /// Filed, not yet taken up.
    Received,
    /// A regulator is looking into it.
    Investigating,
    /// Closed: the matter was dealt with.
    Resolved,
    /// Closed: no case to answer.
    Dismissed,
}

impl ComplaintStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Investigating => "investigating",
            Self::Resolved => "resolved",
            Self::Dismissed => "dismissed",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Received,
            Self::Investigating,
            Self::Resolved,
            Self::Dismissed,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// Whether the complaint is closed (no further events).
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::Resolved | Self::Dismissed)
    }
}

/// What a regulator may record about a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintAction {
    /// Taken up (may be posted again to add a progress note).
    Investigating,
    /// Closed, dealt with.
    Resolved,
    /// Closed, no case to answer.
    Dismissed,
}

impl ComplaintAction {
    /// The status the complaint has after this action.
    pub fn status(&self) -> ComplaintStatus {
        match self {
            Self::Investigating => ComplaintStatus::Investigating,
            Self::Resolved => ComplaintStatus::Resolved,
            Self::Dismissed => ComplaintStatus::Dismissed,
        }
    }
}

/// `POST /complaints`: anyone may file, without a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// The organisation complained about.
    #[schema(value_type = String)]
    pub organization: Slug,
    /// Seq of the entry of its log the complaint is about, if any.
    #[serde(default)]
    pub entry: Option<Seq>,
    /// What it is about.
    pub category: ComplaintCategory,
    /// What happened, in the complainant's words (public to whoever holds the tracking code,
    /// to the organisation and to regulators).
    pub description: String,
    /// How a regulator may reach the complainant: private, never shown publicly or to the
    /// organisation.
    #[serde(default)]
    pub contact: Option<String>,
}

/// `POST /complaints/{code}/events`: a regulator's step in the complaint's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintEventRequest {
    /// `investigating`, `resolved` or `dismissed`.
    pub status: ComplaintAction,
    /// What was done or decided (public).
    pub note: String,
}

/// A complaint that passed validation, ready to be stored under a fresh tracking code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    /// Tracking code.
    pub code: String,
    /// Organisation slug.
    pub organization: String,
    /// Entry seq, if any.
    pub entry: Option<Seq>,
    /// Category.
    pub category: ComplaintCategory,
    /// Description, trimmed.
    pub description: String,
    /// Private contact, trimmed; `None` when empty.
    pub contact: Option<String>,
}

/// A regulator's event, validated, for one complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaintEvent {
    /// Organisation the complaint is about (the write is routed by it).
    pub organization: String,
    /// Tracking code.
    pub code: String,
    /// The action.
    pub action: ComplaintAction,
    /// Note, trimmed.
    pub note: String,
    /// Who posted it: the regulator's jurisdiction (`national` when empty).
    pub author: String,
}

/// One step of a complaint's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ComplaintEvent {
    /// 1, 2, 3… within the complaint.
    pub seq: i64,
    /// The status it set.
    pub status: ComplaintStatus,
    /// The regulator's note.
    pub note: String,
    /// Which regulator: its jurisdiction prefix, or `national`.
    pub author: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// A complaint as its tracking-code holder, the organisation and the reconciliation report see
/// it: never with the complainant's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Complaint {
    /// Tracking code.
    pub code: String,
    /// The organisation complained about.
    pub organization: String,
    /// Seq of the entry concerned, if any.
    pub entry: Option<Seq>,
    /// Category.
    pub category: ComplaintCategory,
    /// What happened.
    pub description: String,
    /// Current status (from the last event; `received` before any).
    pub status: ComplaintStatus,
    /// When it was filed.
    pub filed_at: DateTime<Utc>,
    /// Every event, oldest first.
    pub history: Vec<ComplaintEvent>,
}

/// A complaint as a regulator sees it: with the private contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RegulatorComplaint {
    /// The complaint.
    #[serde(flatten)]
    pub complaint: Complaint,
    /// The complainant's contact, if given.
    pub contact: Option<String>,
}

/// The status a history leaves a complaint in.
pub fn status_of(history: &[ComplaintEvent]) -> ComplaintStatus {
    history
        .last()
        .map_or(ComplaintStatus::Received, |e| e.status)
}

impl ComplaintRequest {
    /// Check the fields and attach the tracking code the complaint will be stored under.
    pub fn validate(&self, code: String) -> Result<NewComplaint, ValidationError> {
        let mut errors = Vec::new();
        let description = text("description", &self.description, MAX_TEXT, true)
            .map_err(|e| errors.push(e))
            .ok();
        let contact = match &self.contact {
            Some(c) => text("contact", c, MAX_SHORT_TEXT, false)
                .map_err(|e| errors.push(e))
                .ok()
                .filter(|c| !c.is_empty()),
            None => None,
        };
        if self.entry.is_some_and(|s| s < 1) {
            errors.push(FieldError::new("entry", "must be a seq of 1 or more"));
        }
        match description {
            Some(description) if errors.is_empty() => Ok(NewComplaint {
                code,
                organization: self.organization.to_string(),
                entry: self.entry,
                category: self.category,
                description,
                contact,
            }),
            _ => Err(ValidationError(errors)),
        }
    }
}

impl ComplaintEventRequest {
    /// Check the note; the event is for `code` of `organization`, posted by `author`.
    pub fn validate(
        &self,
        organization: &str,
        code: &str,
        author: &str,
    ) -> Result<NewComplaintEvent, ValidationError> {
        let note = text("note", &self.note, MAX_TEXT, true)?;
        Ok(NewComplaintEvent {
            organization: organization.to_owned(),
            code: code.to_owned(),
            action: self.status,
            note,
            author: author.to_owned(),
        })
    }
}

/// Whether `action` may follow a history ending in `current`: a closed complaint takes no
/// further events (file a new complaint instead), so a closure is final and visible as such.
pub fn check_transition(
    current: ComplaintStatus,
    action: ComplaintAction,
) -> Result<(), RuleError> {
    if current.is_closed() {
        return Err(RuleError::Conflict {
            field: "status".into(),
            message: format!(
                "the complaint is already {}; a closed complaint takes no further events",
                current.as_str()
            ),
        });
    }
    let _ = action;
    Ok(())
}

/// A tracking code from 100 random bits (any source of randomness; the store passes `rand`).
pub fn tracking_code(random: [u8; 13]) -> String {
    // 13 bytes = 104 bits; the first 100 make 20 base32 characters.
    let mut bits: u128 = 0;
    for b in random {
        bits = (bits << 8) | u128::from(b);
    }
    bits >>= 4;
    let mut out = String::with_capacity(TRACKING_CODE_GROUPS * 5);
    for i in 0..TRACKING_CODE_GROUPS * 4 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let shift = 5 * (TRACKING_CODE_GROUPS * 4 - 1 - i);
        let idx = ((bits >> shift) & 31) as usize;
        out.push(char::from(TRACKING_CODE_ALPHABET[idx]));
    }
    out
}

/// Normalise a tracking code as typed (case, spaces, Crockford's look-alikes) or refuse it.
pub fn parse_tracking_code(text: &str) -> Result<String, String> {
    let mut chars = Vec::with_capacity(20);
    for c in text.trim().chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !TRACKING_CODE_ALPHABET.contains(&(c as u8)) {
            return Err(format!("'{text}' is not a tracking code"));
        }
        chars.push(c);
    }
    if chars.len() != TRACKING_CODE_GROUPS * 4 {
        return Err(format!(
            "a tracking code has {} characters, such as 7KQ2-M9XD-4HPT-V1CN-B8RW",
            TRACKING_CODE_GROUPS * 4
        ));
    }
    Ok(chars
        .chunks(4)
        .map(|g| g.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_codes_are_grouped_base32_and_parse_back() {
        let code = tracking_code([0xA5; 13]);
        assert_eq!(code.len(), 24);
        assert_eq!(code.matches('-').count(), 4);
        assert_eq!(parse_tracking_code(&code.to_lowercase()), Ok(code.clone()));
        assert_eq!(parse_tracking_code(&code.replace('-', " ")), Ok(code));
        assert_ne!(tracking_code([0; 13]), tracking_code([1; 13]));
        assert!(parse_tracking_code("ABC").is_err());
        assert!(parse_tracking_code("UUUU-UUUU-UUUU-UUUU-UUUU").is_err());
    }

    #[test]
    fn a_closed_complaint_takes_no_further_events() {
        assert!(
            check_transition(ComplaintStatus::Received, ComplaintAction::Investigating).is_ok()
        );
        assert!(check_transition(
            ComplaintStatus::Investigating,
            ComplaintAction::Investigating
        )
        .is_ok());
        assert!(
            check_transition(ComplaintStatus::Investigating, ComplaintAction::Resolved).is_ok()
        );
        assert!(
            check_transition(ComplaintStatus::Resolved, ComplaintAction::Investigating).is_err()
        );
        assert!(check_transition(ComplaintStatus::Dismissed, ComplaintAction::Resolved).is_err());
    }

    #[test]
    fn a_complaint_needs_a_description_and_keeps_contact_apart() {
        let r = ComplaintRequest {
            organization: Slug::parse("hubei-red-cross").unwrap(),
            entry: Some(3),
            category: ComplaintCategory::Misallocation,
            description: "  masks went to a private clinic ".into(),
            contact: Some(" ".into()),
        };
        let c = r.validate("X".into()).unwrap();
        assert_eq!(c.description, "masks went to a private clinic");
        assert_eq!(c.contact, None);
        let empty = ComplaintRequest {
            description: " ".into(),
            entry: Some(0),
            ..r
        };
        let e = empty.validate("X".into()).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["description", "entry"]);
    }
}
