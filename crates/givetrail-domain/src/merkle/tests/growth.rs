//! The stored tree as it grows: the nodes each append completes, the reads a proof costs, large
//! random trees against the compact tree, and a compact tree resumed from stored peaks.

use super::*;

// ---------------------------------------------------------------------------------------
// Store maintenance and cost.
// ---------------------------------------------------------------------------------------

/// Applying `completed_nodes` after each append rebuilds exactly the MemoryTree's nodes, and
/// it returns the leaf plus one node per level the leaf completes.
#[test]
fn completed_nodes_are_exactly_the_subtrees_each_append_completes() {
    let all = leaves(300);
    let mut tree = MemoryTree::new();
    let mut levels: Vec<Vec<Hash>> = Vec::new();
    for (index, leaf) in (0_u64..).zip(&all) {
        let nodes = completed_nodes(&tree, index, *leaf).expect("reads stay in range");
        assert_eq!(nodes.len() as u32, 1 + index.trailing_ones());
        for (expected_level, &(level, position, hash)) in (0_u32..).zip(&nodes) {
            assert_eq!(level, expected_level);
            assert_eq!(position, index >> level);
            let start = (position << level) as usize;
            assert_eq!(hash, ref_mth(&all[start..start + (1 << level)]));
            if levels.len() == level as usize {
                levels.push(Vec::new());
            }
            assert_eq!(levels[level as usize].len() as u64, position);
            levels[level as usize].push(hash);
        }
        tree.push(*leaf);
        for (level, nodes) in (0_u32..).zip(&levels) {
            for (position, hash) in (0_u64..).zip(nodes) {
                assert_eq!(tree.node(level, position), Ok(*hash));
            }
        }
    }
}

/// root, inclusion_proof, consistency_proof and completed_nodes read O(log n) nodes.
#[test]
fn proofs_and_roots_read_only_logarithmically_many_nodes() {
    let all = leaves(1 << 12);
    let tree = memory_tree(&all);
    let store = CountingStore {
        inner: &tree,
        reads: Cell::new(0),
    };
    let reads_of = |f: &dyn Fn()| {
        store.reads.set(0);
        f();
        store.reads.get()
    };
    let sizes = (1..=300).chain([1023, 1024, 1025, 2047, 3000, 4095, 4096]);
    for n in sizes {
        let bound = 2 * u64::from(bit_length(n)) + 1;
        let r = reads_of(&|| {
            root(&store, n).expect("root");
        });
        assert!(r <= u64::from(n.count_ones()), "root({n}) read {r}");
        for m in sample_points(n).into_iter().chain(0..n.min(40)) {
            let r = reads_of(&|| {
                inclusion_proof(&store, m, n).expect("proof");
            });
            assert!(r <= bound, "inclusion_proof({m}, {n}) read {r}");
            let r = reads_of(&|| {
                consistency_proof(&store, m, n).expect("proof");
            });
            assert!(r <= bound, "consistency_proof({m}, {n}) read {r}");
            let r = reads_of(&|| {
                completed_nodes(&store, m, all[m as usize]).expect("nodes");
            });
            assert_eq!(r, u64::from(m.trailing_ones()), "completed_nodes({m})");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Large random trees.
// ---------------------------------------------------------------------------------------

const LARGE: u64 = 100_000;

/// One 100 000-leaf tree shared by all property cases (built once), with every prefix root
/// from the streaming CompactTree.
struct Large {
    leaves: Vec<Hash>,
    tree: MemoryTree,
    compact_roots: Vec<Hash>,
}

fn large() -> &'static Large {
    static LARGE_TREE: OnceLock<Large> = OnceLock::new();
    LARGE_TREE.get_or_init(|| {
        let leaves = leaves(LARGE);
        let tree = memory_tree(&leaves);
        let mut compact = CompactTree::new();
        let mut compact_roots = vec![compact.root()];
        for leaf in &leaves {
            compact.push(*leaf);
            compact_roots.push(compact.root());
        }
        Large {
            leaves,
            tree,
            compact_roots,
        }
    })
}

#[test]
fn compact_tree_and_stored_roots_agree_for_every_size_up_to_100_000() {
    let large = large();
    for size in [0, 1, 2, 3, 1 << 16, (1 << 16) + 1, LARGE - 1, LARGE] {
        assert_eq!(
            large.compact_roots[size as usize],
            ref_mth(&large.leaves[..size as usize]),
            "size {size}"
        );
    }
    for (size, want) in (0_u64..).zip(&large.compact_roots) {
        assert_eq!(root(&large.tree, size).as_ref(), Ok(want), "size {size}");
    }
}

fn large_case() -> impl Strategy<Value = (u64, u64, u64)> {
    (1..=LARGE).prop_flat_map(|size| (Just(size), 0..size, 1..=size))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// In random trees of up to 100 000 leaves, inclusion and consistency proofs equal the
    /// reference and verify against the roots the auditor's CompactTree computed.
    #[test]
    fn random_large_trees_have_reference_proofs_that_verify((size, index, from) in large_case()) {
        let large = large();
        let d = &large.leaves[..size as usize];
        let to_root = large.compact_roots[size as usize];
        let from_root = large.compact_roots[from as usize];

        let path = inclusion_proof(&large.tree, index, size).expect("inclusion proof");
        let reference = Reference::new(d);
        prop_assert_eq!(&path, &reference.path(index as usize, d.len()));
        prop_assert_eq!(
            verify_inclusion(&d[index as usize], index, size, &path, &to_root),
            Ok(())
        );
        let mut bad = path.clone();
        if let Some(first) = bad.first_mut() {
            first[0] ^= 0x80;
            prop_assert!(verify_inclusion(&d[index as usize], index, size, &bad, &to_root).is_err());
        }

        let proof = consistency_proof(&large.tree, from, size).expect("consistency proof");
        prop_assert_eq!(&proof, &reference.proof(from as usize, d.len()));
        prop_assert_eq!(verify_consistency(from, size, &proof, &from_root, &to_root), Ok(()));
        let mut bad = proof.clone();
        if let Some(last) = bad.last_mut() {
            last[31] ^= 0x01;
            prop_assert!(verify_consistency(from, size, &bad, &from_root, &to_root).is_err());
        }
    }
}

#[test]
fn a_compact_tree_from_stored_peaks_completes_the_nodes_the_store_would() {
    let leaves: Vec<Hash> = (0..300u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let full = memory_tree(&leaves);
    for n in 0..leaves.len() {
        let stored = memory_tree(&leaves[..n]);
        let mut compact = CompactTree::from_store(&stored, n as u64).expect("peaks are stored");
        assert_eq!(
            compact.root(),
            root(&full, n as u64).expect("root"),
            "root, size {n}"
        );
        let want = completed_nodes(&stored, n as u64, leaves[n]).expect("siblings are stored");
        assert_eq!(
            compact.push_completed(leaves[n]),
            want,
            "nodes completed at size {n}"
        );
        assert_eq!(compact.size(), n as u64 + 1);
    }
    assert!(CompactTree::from_store(&memory_tree(&leaves[..4]), 5).is_err());
}
