//! Givetrail's functional core: the domain of an append-only donation ledger.
//!
//! Entries, assets, restrictions, lots and balances, the rules that decide whether a write is
//! accepted, the public (canonical) form of entries and their hashes, and RFC 9162 Merkle trees.
//! This crate does no I/O: storage reaches it through the [`ledger::Books`] trait.

pub mod asset;
pub mod canonical;
pub mod checkpoint;
pub mod disclosure;
pub mod divisions;
pub mod entry;
pub mod error;
pub mod ids;
pub mod import;
pub mod journal;
pub mod ledger;
pub mod merkle;
pub mod needs;
pub mod privacy;
pub mod reconciliation;
pub mod regions;
pub mod signing;
pub mod text;
