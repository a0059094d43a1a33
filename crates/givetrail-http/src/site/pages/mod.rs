//! The read-only pages: home and receipt search, trail, organisation, recipient, region (where
//! it went, by destination), needs board.
//!
//! Each page is two halves: a loader (`load_*`) that reads everything the page shows from the
//! store inside one read snapshot, so every figure on the page describes the same moment even
//! while the writer commits; and a view that renders the loaded struct without touching the
//! store. Handlers only run the loader (`crate::db::read_snapshot`) and then the view.

pub mod home;
pub mod needs;
pub mod organization;
pub mod recipient;
pub mod region;
pub mod trail;

use givetrail_domain::disclosure::Directory;

use super::format;
use super::i18n::{fill, Lang, Text};

/// One step of a trail or of a recipient's history.
pub struct Step {
    /// Nesting (onward trails into other charities' logs).
    pub depth: usize,
    /// CSS class: `allocated`, `sent`, `arrived`, `unacknowledged`, `used`, `onward`, `expense`.
    pub class: &'static str,
    /// What happened.
    pub heading: String,
    /// Where the heading links to.
    pub href: Option<String>,
    /// When, in words.
    pub when: String,
    /// When, machine-readable.
    pub when_iso: String,
    /// `Entry #7`.
    pub entry: String,
    /// Details.
    pub lines: Vec<(String, String)>,
    /// What is missing, highlighted.
    pub warn: Option<String>,
}

/// A moment in words and machine-readable.
fn at(t: &chrono::DateTime<chrono::Utc>, lang: Lang) -> (String, String) {
    (format::datetime(t, lang), format::iso(t))
}

/// `Entry #7`.
fn entry_no(t: &Text, seq: i64) -> String {
    fill(t.entry_number, &[("seq", &seq.to_string())])
}

/// The public name of a party, or its id when the directory does not know it.
fn party_name(directory: &Directory, id: &str) -> String {
    directory
        .get(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
}
