//! The verifiable side of each log, and the checks that recompute what is stored from the log.
//!
//! - [`merkle`]: stored Merkle subtree hashes, grown as entries are appended.
//! - [`checkpoints`]: signed checkpoints of each log.
//! - [`keys`]: the history of the checkpoint signing key, and whether a key may sign.
//! - [`proofs`]: inclusion and consistency proofs.
//! - [`chain`]: recomputing a log's hash chain and checkpoint root from its canonical forms.
//! - [`commitments`]: private values against their published commitments.
//! - [`rebuild`]: derived tables against a replay of the log, and rebuilding them.

pub mod chain;
pub mod checkpoints;
pub mod commitments;
pub mod keys;
pub mod merkle;
pub mod proofs;
pub mod rebuild;
