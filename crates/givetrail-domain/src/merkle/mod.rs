//! RFC 9162 (Certificate Transparency v2) Merkle trees, without any I/O.
//!
//! Givetrail's ledger is append-only and publicly verifiable: every entry becomes a leaf of
//! a Merkle tree, the log publishes the Merkle Tree Hash (MTH) of each tree size, and anyone can
//! check with short proofs that
//!
//! * an entry is included in a published tree (inclusion proof, RFC 9162 §2.1.3), and
//! * a later tree extends an earlier one without rewriting history (consistency proof,
//!   RFC 9162 §2.1.4).
//!
//! We follow RFC 9162 §2.1.1 exactly so that generic Certificate Transparency tooling can verify
//! our proofs:
//!
//! * hashes are SHA-256;
//! * leaf hash = `SHA-256(0x00 || leaf)`, interior node hash = `SHA-256(0x01 || left || right)`.
//!   The different prefixes (domain separation) stop an attacker from presenting an interior
//!   node as a leaf (second-preimage attack);
//! * the MTH of the empty list is `SHA-256("")`; the MTH of `n > 1` leaves splits at `k`, the
//!   largest power of two strictly smaller than `n`.
//!
//! # Storage model
//!
//! Proof generation reads hashes through [`SubtreeHashes`], which exposes only *perfect,
//! aligned* subtrees: node `(level, index)` covers leaves `[index * 2^level, (index + 1) * 2^level)`.
//! Those nodes never change once complete (the log is append-only), so a database can store each
//! one exactly once, when it completes ([`completed_nodes`]).
//!
//! The key fact that makes this sufficient: in the RFC's recursion over `D[a:b]` the left part
//! `D[a:a+k]` is always perfect and aligned (`k` is a power of two and `a` is a multiple of `k`),
//! and the right part is again a range of the same kind. So every MTH the RFC asks for is the
//! right-fold of at most 64 stored nodes, and root/proof computations need `O(log n)` reads; no
//! leaf is ever scanned.
//!
//! # Auditing
//!
//! [`CompactTree`] recomputes roots from a stream of leaf hashes in `O(1)` amortised time per leaf
//! and `O(log n)` memory, for auditors that replay the whole log.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, an interior node hash, or a tree root.
pub type Hash = [u8; 32];

/// Domain-separation prefix for leaf hashes (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix for interior node hashes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// Hash of one leaf: `SHA-256(0x00 || leaf)`.
#[must_use]
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// Hash of an interior node from its two children: `SHA-256(0x01 || left || right)`.
#[must_use]
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_children(left, right)
}

/// The node hash over arbitrary byte strings. Only [`node_hash`] uses it in production; it exists
/// separately so the published RFC 6962 node vector (whose "children" are not 32 bytes) can be
/// checked against exactly the code path `node_hash` runs.
fn hash_children(left: &[u8], right: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// Merkle Tree Hash of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
#[must_use]
pub fn empty_root() -> Hash {
    Sha256::new().finalize().into()
}

/// Read access to stored hashes of *perfect, aligned* subtrees.
///
/// Node `(level, index)` is the MTH of leaves `[index * 2^level, (index + 1) * 2^level)`;
/// level 0 holds the leaf hashes. A store (e.g. a database table keyed by `(level, index)`)
/// implements this; every function in this module needs only `O(log n)` calls to [`node`].
///
/// Only nodes whose whole leaf range exists are ever requested, as long as callers pass tree sizes
/// that do not exceed the number of stored leaves. A request for a node that does not exist should
/// be reported as an error, never answered with a made-up hash.
///
/// [`node`]: SubtreeHashes::node
pub trait SubtreeHashes {
    /// Why a stored hash could not be read (missing row, I/O failure, ...).
    type Error;

    /// The hash of the perfect subtree at `(level, index)`.
    ///
    /// # Errors
    ///
    /// Returns the store's error if the node is missing or cannot be read.
    fn node(&self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// Which recomputed hash did not match during proof verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The root recomputed from an inclusion proof differs from the expected root.
    Root,
    /// The old (`from`) root recomputed from a consistency proof differs from the expected one.
    FromRoot,
    /// The new (`to`) root recomputed from a consistency proof differs from the expected one.
    ToRoot,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Root => "recomputed root does not match the expected root",
            Self::FromRoot => "recomputed old root does not match the expected old root",
            Self::ToRoot => "recomputed new root does not match the expected new root",
        })
    }
}

/// Invalid proof arguments, or a proof that does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree (`index >= size`; in particular every index of the
    /// empty tree).
    #[error("leaf index {index} is out of range for a tree of {size} leaves")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A consistency proof was asked for from a larger tree to a smaller one (`from > to`).
    #[error("cannot prove consistency from tree size {from} to the smaller tree size {to}")]
    BadSizes {
        /// The older (supposedly smaller) tree size.
        from: u64,
        /// The newer (supposedly larger) tree size.
        to: u64,
    },
    /// The proof does not have the number of hashes the tree sizes/index require. RFC 9162 fixes
    /// the proof length for given sizes, so any other length is rejected before hashing.
    #[error("proof has {actual} hashes but {expected} are required")]
    WrongProofLength {
        /// The length RFC 9162 prescribes for these arguments.
        expected: usize,
        /// The length of the proof that was supplied.
        actual: usize,
    },
    /// The proof has the right shape but the recomputed hash does not match.
    #[error("proof verification failed: {0}")]
    VerificationFailed(Mismatch),
}

/// Failure of a proof or root computation over a [`SubtreeHashes`] store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError<E> {
    /// The store could not provide a node hash.
    #[error(transparent)]
    Store(E),
    /// The arguments do not describe a valid proof request.
    #[error(transparent)]
    Proof(#[from] ProofError),
}

/// Largest power of two strictly less than `n`, for `n >= 2`: the RFC's split point `k`.
///
/// Returns 0 for `n < 2`, which callers never pass (the recursion stops at one leaf); using
/// `checked_ilog2` instead of a shift avoids any overflow path.
fn split_point(n: u64) -> u64 {
    n.saturating_sub(1)
        .checked_ilog2()
        .map_or(0, |bit| 1 << bit)
}

/// MTH of leaves `[start, start + len)` for a range of the kind that occurs in the RFC recursion:
/// `start` is a multiple of the largest power of two `<= len`.
///
/// Such a range is covered by one perfect aligned subtree per set bit of `len`, biggest
/// (leftmost) first. The RFC splits off the biggest perfect part on the left and recurses on the
/// rest, so the MTH is the right-fold `node(p0, node(p1, ... node(p_{j-1}, p_j)))` of those
/// subtrees. We walk the bits from lowest (rightmost subtree) to highest so the fold needs no
/// buffer. At most 64 reads.
fn range_hash<S: SubtreeHashes>(store: &S, start: u64, len: u64) -> Result<Hash, S::Error> {
    let mut remaining = len;
    // End of the not-yet-folded part; start + len never overflows because it is at most a tree
    // size, which is a u64.
    let mut end = start.saturating_add(len);
    let mut acc: Option<Hash> = None;
    while remaining != 0 {
        let level = remaining.trailing_zeros();
        end -= 1 << level;
        let subtree = store.node(level, end >> level)?;
        acc = Some(match acc {
            None => subtree,
            Some(right) => node_hash(&subtree, &right),
        });
        remaining &= remaining - 1; // clear the bit just consumed
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// Nodes that become complete when the leaf at `index` (0-based) with hash `leaf` is appended to a
/// tree of `index` leaves.
///
/// Returns `[(0, index, leaf), (1, index / 2, h1), ...]`: the leaf itself and, for every level
/// whose perfect subtree it completes, that subtree's `(level, index, hash)`. Storing all of
/// them after each append keeps a [`SubtreeHashes`] store complete. Reads the left siblings
/// through `store` (one read per completed level, so `O(log n)`).
///
/// # Errors
///
/// Returns the store's error if a left sibling cannot be read.
pub fn completed_nodes<S: SubtreeHashes>(
    store: &S,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u32, u64, Hash)>, S::Error> {
    // One entry for the leaf plus one per trailing 1 bit of the index (each such bit is a level
    // where our node is a right child, so its parent completes).
    let mut nodes = Vec::with_capacity(1 + index.trailing_ones() as usize);
    let (mut level, mut position, mut hash) = (0_u32, index, leaf);
    nodes.push((level, position, hash));
    // An odd position is a right child: its left sibling (position - 1) completed earlier, so
    // now their parent is complete too.
    while position & 1 == 1 {
        let left = store.node(level, position - 1)?;
        hash = node_hash(&left, &hash);
        level += 1;
        position >>= 1;
        nodes.push((level, position, hash));
    }
    Ok(nodes)
}

/// Merkle Tree Hash of the first `size` leaves, computed from stored perfect subtrees
/// (at most one read per set bit of `size`). `size == 0` gives [`empty_root`] without reading.
///
/// # Errors
///
/// [`TreeError::Store`] if a stored node cannot be read (e.g. `size` exceeds the stored leaves).
pub fn root<S: SubtreeHashes>(store: &S, size: u64) -> Result<Hash, TreeError<S::Error>> {
    range_hash(store, 0, size).map_err(TreeError::Store)
}

/// RFC 9162 §2.1.3.1 inclusion proof (audit path) `PATH(index, D[size])` for the leaf at `index`
/// in the tree of the first `size` leaves, ordered from the leaf's sibling up to the root's child.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] if `index >= size`; [`TreeError::Store`] if a node cannot be read.
pub fn inclusion_proof<S: SubtreeHashes>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    // Unroll the RFC recursion top-down over the range D[lo : lo + n] with m relative to lo:
    //   PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])        if m < k
    //                 = PATH(m - k, D[k:n]) : MTH(D[0:k])    otherwise
    // The recursion appends the sibling *after* the deeper path, so we collect outermost first
    // and reverse at the end. Reads: each step reads one perfect node, except the first time we
    // descend left, where the right sibling D[k:n] may take popcount(n - k) reads; after that the
    // range is perfect. Total O(log n).
    let mut path = Vec::with_capacity(64);
    let (mut lo, mut n, mut m) = (0_u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            path.push(range_hash(store, lo + k, n - k).map_err(TreeError::Store)?);
            n = k;
        } else {
            path.push(range_hash(store, lo, k).map_err(TreeError::Store)?);
            lo += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// RFC 9162 §2.1.4.1 consistency proof `PROOF(from, D[to])` between the trees of the first `from`
/// and the first `to` leaves.
///
/// RFC 9162 defines a meaningful proof only for `0 < from < to`. For the degenerate cases we
/// return an empty proof, matching what [`verify_consistency`] accepts:
/// * `from == to`: `SUBPROOF(n, D[n], true)` is empty by the RFC's own definition (the verifier
///   then just compares the two roots);
/// * `from == 0`: the empty tree is a prefix of every tree, so there is nothing to prove.
///
/// # Errors
///
/// [`ProofError::BadSizes`] if `from > to`; [`TreeError::Store`] if a node cannot be read.
pub fn consistency_proof<S: SubtreeHashes>(
    store: &S,
    from: u64,
    to: u64,
) -> Result<Vec<Hash>, TreeError<S::Error>> {
    if from > to {
        return Err(ProofError::BadSizes { from, to }.into());
    }
    if from == 0 || from == to {
        return Ok(Vec::new());
    }
    // Unroll SUBPROOF(m, D[lo : lo + n], complete) top-down:
    //   m == n:  []                  if complete (m is the size the proof was requested for)
    //            [MTH(D[lo:lo+n])]   otherwise
    //   m <= k:  SUBPROOF(m, D[0:k], complete) : MTH(D[k:n])
    //   m > k:   SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
    // As for inclusion, appended hashes are collected outermost first and reversed; the final
    // head (if any) goes in front. Invariant: 1 <= m <= n, so n >= 2 while m < n.
    let mut appended = Vec::with_capacity(64);
    let (mut lo, mut n, mut m, mut complete) = (0_u64, to, from, true);
    while m < n {
        let k = split_point(n);
        if m <= k {
            appended.push(range_hash(store, lo + k, n - k).map_err(TreeError::Store)?);
            n = k;
        } else {
            appended.push(range_hash(store, lo, k).map_err(TreeError::Store)?);
            lo += k;
            m -= k;
            n -= k;
            complete = false;
        }
    }
    let mut proof = Vec::with_capacity(appended.len() + 1);
    if !complete {
        proof.push(range_hash(store, lo, n).map_err(TreeError::Store)?);
    }
    proof.extend(appended.into_iter().rev());
    Ok(proof)
}

/// Number of bits needed to represent `x` (0 for 0).
fn bit_length(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// Length of `PATH(index, D[size])` for `index < size`.
///
/// Below level `inner` (the highest level where the paths to `index` and to the last leaf
/// diverge) the leaf has a sibling at every level; above it the path follows the tree's right
/// border, which has a sibling only where `index` goes right (its set bits).
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = bit_length(index ^ (size - 1));
    // checked_shr: inner can be 64, and a 64-bit shift of a u64 would overflow.
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Length of `PROOF(from, D[to])` for `0 < from < to`.
///
/// It is the inclusion path of leaf `from - 1` in the tree of `to` leaves, minus the
/// `trailing_zeros(from)` lowest levels, which are covered by one perfect subtree. That subtree's
/// hash is sent as the first element, unless `from` is a power of two: then it is the old root,
/// which the verifier already has.
fn consistency_proof_len(from: u64, to: u64) -> usize {
    let inner = bit_length((from - 1) ^ (to - 1));
    let border = (from - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let inner = inner.saturating_sub(from.trailing_zeros());
    let head = u32::from(!from.is_power_of_two());
    (head + inner + border) as usize
}

/// Right-shift `first` and `second` together while `first` is even and non-zero (a step of the
/// RFC 9162 verification algorithms: it skips levels where the node on the tree's right border
/// has no right sibling).
fn shift_while_even(first: &mut u64, second: &mut u64) {
    while *first & 1 == 0 && *first != 0 {
        *first >>= 1;
        *second >>= 1;
    }
}

/// Verify an inclusion proof with the RFC 9162 §2.1.3.2 algorithm: `path` proves that `leaf`
/// (a leaf hash) is at `index` in the tree of `size` leaves whose root is `root`.
///
/// # Errors
///
/// [`ProofError::IndexOutOfRange`] if `index >= size`, [`ProofError::WrongProofLength`] if the
/// path length is not the one RFC 9162 prescribes, and
/// `ProofError::VerificationFailed(Mismatch::Root)` if the recomputed root differs.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    path: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // The RFC loop below also rejects wrong lengths (via `sn`), but checking up front gives a
    // precise error and stops us hashing attacker-sized inputs.
    let expected = inclusion_proof_len(index, size);
    let length_error = ProofError::WrongProofLength {
        expected,
        actual: path.len(),
    };
    if path.len() != expected {
        return Err(length_error);
    }
    // `fn` is the node's position on the current level and `sn` the last position on that
    // level; both move up one level per step.
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return Err(length_error);
        }
        if f_n & 1 == 1 || f_n == s_n {
            // We are a right child, or the last node of the level (whose parent then
            // combines it with the left sibling): the proof element is on the left.
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                shift_while_even(&mut f_n, &mut s_n);
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(length_error);
    }
    if r != *root {
        return Err(ProofError::VerificationFailed(Mismatch::Root));
    }
    Ok(())
}

/// Verify a consistency proof with the RFC 9162 §2.1.4.2 algorithm: `proof` shows that the tree
/// of `to` leaves with root `to_root` extends the tree of `from` leaves with root `from_root`.
///
/// Degenerate sizes (outside the RFC's `0 < from < to`) are handled as follows:
/// * `from == 0`: the proof must be empty and `from_root` must be [`empty_root`] (the only
///   possible root of the empty tree; being strict catches a caller mixing up roots). Any
///   `to_root` is accepted when `to > 0`, as every tree extends the empty tree.
/// * `from == to`: the proof must be empty and the two roots must be equal.
///
/// # Errors
///
/// [`ProofError::BadSizes`] if `from > to`, [`ProofError::WrongProofLength`] if the proof length
/// is not the one RFC 9162 prescribes, and [`ProofError::VerificationFailed`] naming the root
/// that did not match.
pub fn verify_consistency(
    from: u64,
    to: u64,
    proof: &[Hash],
    from_root: &Hash,
    to_root: &Hash,
) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::BadSizes { from, to });
    }
    if from == 0 || from == to {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if from == 0 && *from_root != empty_root() {
            return Err(ProofError::VerificationFailed(Mismatch::FromRoot));
        }
        if from == to && from_root != to_root {
            return Err(ProofError::VerificationFailed(Mismatch::ToRoot));
        }
        return Ok(());
    }

    let expected = consistency_proof_len(from, to);
    let length_error = ProofError::WrongProofLength {
        expected,
        actual: proof.len(),
    };
    // Also RFC step 1 ("if consistency_path is empty, fail"): expected >= 1 when from < to.
    if proof.len() != expected {
        return Err(length_error);
    }
    // Step 2: if `from` is a power of two, the old tree is a perfect subtree and its root is the
    // proof's implicit first element; otherwise the proof starts with it.
    let (seed, rest) = if from.is_power_of_two() {
        (from_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (first, rest),
            None => return Err(length_error),
        }
    };
    // Steps 3-4: start at the last leaf of the old tree and skip the levels covered by `seed`.
    let (mut f_n, mut s_n) = (from - 1, to - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5: `fr` rebuilds the old root, `sr` the new root, from the same starting subtree.
    let (mut fr, mut sr) = (*seed, *seed);
    // Step 6.
    for c in rest {
        if s_n == 0 {
            return Err(length_error);
        }
        if f_n & 1 == 1 || f_n == s_n {
            // Left sibling: part of both the old and the new tree.
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                shift_while_even(&mut f_n, &mut s_n);
            }
        } else {
            // Right sibling: only in the new tree.
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(length_error);
    }
    if fr != *from_root {
        return Err(ProofError::VerificationFailed(Mismatch::FromRoot));
    }
    if sr != *to_root {
        return Err(ProofError::VerificationFailed(Mismatch::ToRoot));
    }
    Ok(())
}

/// Streaming MTH computation for an auditor that sees every leaf hash in order.
///
/// Keeps a "compact range": the roots of the perfect subtrees covering `[0, size)`, one per set
/// bit of `size`, biggest first. Appending a leaf works like incrementing a binary counter: each
/// trailing 1 bit of the old size is a subtree of the same height as the running hash, so the two
/// merge. That is `O(1)` amortised hashing per leaf (one node hash on average) and `O(log n)`
/// memory, with no store reads at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactTree {
    /// Roots of the perfect subtrees covering `[0, size)`, leftmost (largest) first.
    peaks: Vec<Hash>,
    /// Number of leaves pushed so far.
    size: u64,
}

impl CompactTree {
    /// An empty tree (size 0).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the leaf with hash `leaf` (as returned by [`leaf_hash`]).
    pub fn push(&mut self, leaf: Hash) {
        self.push_completed(leaf);
    }

    /// Append the leaf with hash `leaf` and return the nodes it completes, `(level, index, hash)`
    /// from the leaf up: what [`completed_nodes`] returns for it, without reading a store (the
    /// left siblings are the peaks).
    pub fn push_completed(&mut self, leaf: Hash) -> Vec<(u32, u64, Hash)> {
        let mut nodes = Vec::with_capacity(1 + self.size.trailing_ones() as usize);
        let (mut level, mut position, mut hash) = (0_u32, self.size, leaf);
        nodes.push((level, position, hash));
        while position & 1 == 1 {
            // Invariant: `peaks` has one entry per set bit of `size`, so a trailing 1 bit always
            // has a matching peak; the `else` arm is unreachable but keeps this panic-free.
            let Some(left) = self.peaks.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            position >>= 1;
            nodes.push((level, position, hash));
        }
        self.peaks.push(hash);
        self.size += 1;
        nodes
    }

    /// The peaks a tree of `size` leaves has: `(level, index)` of each perfect subtree covering
    /// `[0, size)`, leftmost (largest) first; one per set bit of `size`.
    #[must_use]
    pub fn peak_positions(size: u64) -> Vec<(u32, u64)> {
        (0..u64::BITS)
            .rev()
            .filter(|l| size >> l & 1 == 1)
            .map(|l| (l, (size >> l) - 1))
            .collect()
    }

    /// The tree of `size` leaves whose peaks (at [`CompactTree::peak_positions`]) are read from
    /// `store`: `O(log n)` reads, so a writer can go on from a stored tree without its leaves.
    ///
    /// # Errors
    ///
    /// The store's error if a peak cannot be read.
    pub fn from_store<S: SubtreeHashes>(store: &S, size: u64) -> Result<Self, S::Error> {
        let peaks = Self::peak_positions(size)
            .into_iter()
            .map(|(level, index)| store.node(level, index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { peaks, size })
    }

    /// Number of leaves pushed so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// MTH of all leaves pushed so far: the right-fold of the peaks (see [`root`]), `O(log n)`.
    #[must_use]
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => empty_root(),
            Some(last) => peaks.fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}

/// The error of [`MemoryTree`]'s [`SubtreeHashes`] implementation: the requested node is not
/// complete in the tree (it covers leaves that have not been pushed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "no complete subtree at level {level}, index {index} in an in-memory tree of {size} leaves"
)]
pub struct MissingNode {
    /// The requested level.
    pub level: u32,
    /// The requested index within the level.
    pub index: u64,
    /// The number of leaves in the tree.
    pub size: u64,
}

/// In-memory [`SubtreeHashes`] store (one `Vec` per level) built by pushing leaf hashes; for tests
/// and tools.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`; level `l` holds `size >> l` complete nodes.
    levels: Vec<Vec<Hash>>,
    /// Number of leaves pushed so far.
    size: u64,
}

impl MemoryTree {
    /// An empty tree (size 0).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the leaf with hash `leaf` and every subtree node it completes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let Some(nodes) = self.levels.get_mut(level) else {
                break; // unreachable: the level was just ensured to exist
            };
            nodes.push(hash);
            // An odd count means the new node is a left child still waiting for its sibling.
            // An even count means it completed a pair, so their parent is complete as well.
            match nodes.as_slice() {
                [.., left, right] if nodes.len() % 2 == 0 => hash = node_hash(left, right),
                _ => break,
            }
            level += 1;
        }
        self.size += 1;
    }

    /// Number of leaves pushed so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl SubtreeHashes for MemoryTree {
    /// An in-memory tree cannot fail to read, but it can be asked for a node it does not have
    /// (a tree size larger than [`MemoryTree::size`]); that is reported rather than answered with
    /// a made-up hash or a panic.
    type Error = MissingNode;

    fn node(&self, level: u32, index: u64) -> Result<Hash, MissingNode> {
        let found = usize::try_from(level)
            .ok()
            .and_then(|level| self.levels.get(level))
            .zip(usize::try_from(index).ok())
            .and_then(|(nodes, index)| nodes.get(index).copied());
        found.ok_or(MissingNode {
            level,
            index,
            size: self.size,
        })
    }
}

#[cfg(test)]
mod tests;
