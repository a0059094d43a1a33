//! RFC 9162 inclusion and consistency proofs, from the stored subtree hashes.

use givetrail_domain::canonical::Hash;
use givetrail_domain::merkle;

use crate::db::AnyConnection;
use crate::read::log::head;
use crate::verify::merkle::{tree_err, SqlNodes};
use crate::StoreError;

/// Why a proof cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum ProofRequestError {
    /// Sizes or index outside the log.
    #[error("{0}")]
    OutOfRange(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn size_now(conn: &mut AnyConnection, org: &str) -> Result<u64, StoreError> {
    Ok(head(conn, org)?.seq as u64)
}

/// RFC 9162 inclusion proof of leaf `index` in the tree of `size` entries.
pub fn inclusion(
    conn: &mut AnyConnection,
    org: &str,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofRequestError> {
    let now = size_now(conn, org)?;
    if size > now || index >= size {
        return Err(ProofRequestError::OutOfRange(format!(
            "the log has {now} entries; seq must be in 1..=tree_size and tree_size at most {now}"
        )));
    }
    merkle::inclusion_proof(&SqlNodes::new(conn, org), index, size)
        .map_err(|e| ProofRequestError::Store(tree_err(e)))
}

/// RFC 9162 consistency proof between tree sizes `from` and `to`.
pub fn consistency(
    conn: &mut AnyConnection,
    org: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, ProofRequestError> {
    let now = size_now(conn, org)?;
    if to > now || from > to || from == 0 {
        return Err(ProofRequestError::OutOfRange(format!(
            "the log has {now} entries; need 1 <= from <= to <= {now}"
        )));
    }
    merkle::consistency_proof(&SqlNodes::new(conn, org), from, to)
        .map_err(|e| ProofRequestError::Store(tree_err(e)))
}
