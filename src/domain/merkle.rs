//! A Merkle tree over the audit log, as Certificate Transparency keeps its logs
//! (RFC 9162 §2.1): each entry's chain hash is a leaf, checkpoints sign the tree's root
//! beside the chain's head, and a few hashes prove that an entry belongs to the log a
//! checkpoint signed (inclusion) or that a later log extends an earlier one
//! (consistency), without the entries between.
//!
//! Pure rules: which subtrees a proof is made of, how their hashes combine, how a
//! proof is verified. The store keeps the hashes of complete subtrees; reading them is
//! elsewhere.

use sha2::{Digest, Sha256};

use super::audit::Hash;

/// A leaf: the hash of an entry's chain hash, prefixed 0x00.
pub fn leaf(entry_hash: &Hash) -> Hash {
    Sha256::new().chain_update([0]).chain_update(entry_hash).finalize().into()
}

/// An inner node: the hash of its children's, prefixed 0x01.
pub fn node(left: &Hash, right: &Hash) -> Hash {
    Sha256::new().chain_update([1]).chain_update(left).chain_update(right).finalize().into()
}

/// A complete subtree: the `index`-th of `2^level` leaves (level 0: a leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subtree {
    pub level: u32,
    pub index: u64,
}

impl Subtree {
    pub fn size(self) -> u64 {
        1 << self.level
    }
}

/// A run of leaves, `[start, start + size)`, as a proof names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub start: u64,
    pub size: u64,
}

/// The largest power of two below `n` (n > 1).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

impl Range {
    /// The complete subtrees making up the range, left to right: their hashes folded
    /// from the right with [`combine`] give the range's (RFC 9162's MTH).
    pub fn subtrees(self) -> Vec<Subtree> {
        let mut out = Vec::new();
        let (mut start, mut size) = (self.start, self.size);
        while size > 0 {
            let part = if size.is_power_of_two() { size } else { split(size) };
            debug_assert_eq!(start % part, 0, "ranges of a proof are aligned");
            let level = part.trailing_zeros();
            out.push(Subtree { level, index: start >> level });
            start += part;
            size -= part;
        }
        out
    }
}

/// The hash of a range from its subtrees' hashes, left to right.
pub fn combine(parts: &[Hash]) -> Option<Hash> {
    let (last, rest) = parts.split_last()?;
    Some(rest.iter().rev().fold(*last, |right, left| node(left, &right)))
}

/// The ranges whose hashes prove leaf `index` is in the tree of `size` leaves, in the
/// order of RFC 9162's PATH (nearest the leaf first).
pub fn inclusion(index: u64, size: u64) -> Vec<Range> {
    let mut out = Vec::new();
    let (mut start, mut n, mut m) = (0, size, index);
    let mut stack = Vec::new();
    while n > 1 {
        let k = split(n);
        if m < k {
            stack.push(Range { start: start + k, size: n - k });
            n = k;
        } else {
            stack.push(Range { start, size: k });
            start += k;
            m -= k;
            n -= k;
        }
    }
    while let Some(range) = stack.pop() {
        out.push(range);
    }
    out
}

/// The ranges whose hashes prove the tree of `new` leaves extends the tree of `old`
/// (0 < old ≤ new), in the order of RFC 9162's PROOF.
pub fn consistency(old: u64, new: u64) -> Vec<Range> {
    let mut stack = Vec::new();
    let (mut start, mut n, mut m, mut whole) = (0, new, old, true);
    while m < n {
        let k = split(n);
        if m <= k {
            stack.push(Range { start: start + k, size: n - k });
            n = k;
        } else {
            stack.push(Range { start, size: k });
            start += k;
            m -= k;
            n -= k;
            whole = false;
        }
    }
    if !whole {
        stack.push(Range { start, size: m });
    }
    stack.reverse();
    stack
}

/// Whether `proof` shows leaf `leaf_hash` at `index` in the tree of `size` leaves whose
/// root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf_hash: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s, mut r) = (index, size - 1, *leaf_hash);
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Whether `proof` shows the tree of `new` leaves with root `new_root` extends the tree
/// of `old` leaves with root `old_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node(c, &fr);
            sr = node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// The right edge of a tree as it grows: the complete subtrees of its leaves so far,
/// largest first. Appending leaves completes subtrees, each reported once.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    size: u64,
    edge: Vec<(Subtree, Hash)>,
}

impl Frontier {
    /// The frontier of a tree of `size` leaves from the hashes of its complete
    /// subtrees (`Range { start: 0, size }.subtrees()`, in that order).
    pub fn of(size: u64, hashes: &[Hash]) -> Option<Self> {
        let subtrees = Range { start: 0, size }.subtrees();
        (subtrees.len() == hashes.len())
            .then(|| Self { size, edge: subtrees.into_iter().zip(hashes.iter().copied()).collect() })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends the leaf of an entry's chain hash; the subtrees it completes (above the
    /// leaf itself), lowest first.
    pub fn push(&mut self, entry_hash: &Hash) -> Vec<(Subtree, Hash)> {
        let mut completed = Vec::new();
        let mut current = (Subtree { level: 0, index: self.size }, leaf(entry_hash));
        while let Some(&(last, left)) = self.edge.last() {
            if last.level != current.0.level {
                break;
            }
            self.edge.pop();
            current = (Subtree { level: last.level + 1, index: last.index >> 1 }, node(&left, &current.1));
            completed.push(current);
        }
        self.edge.push(current);
        self.size += 1;
        completed
    }

    /// The root of the tree so far; none while it is empty.
    pub fn root(&self) -> Option<Hash> {
        combine(&self.edge.iter().map(|(_, h)| *h).collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: u64) -> Vec<Hash> {
        (0..n).map(|i| Sha256::digest(i.to_be_bytes()).into()).collect()
    }

    /// RFC 9162's MTH over leaves, by its definition.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn range_hash(leaves: &[Hash], r: Range) -> Hash {
        mth(&leaves[r.start as usize..(r.start + r.size) as usize])
    }

    #[test]
    fn every_inclusion_and_consistency_proof_verifies_and_a_wrong_one_does_not() {
        let hashes = entries(40);
        let leaves: Vec<Hash> = hashes.iter().map(leaf).collect();
        for n in 1..=40u64 {
            let root = mth(&leaves[..n as usize]);
            // The frontier grown leaf by leaf has the same root, and the subtrees it
            // completes are those the ranges name.
            let mut frontier = Frontier::default();
            for h in &hashes[..n as usize] {
                for (subtree, hash) in frontier.push(h) {
                    let start = subtree.index * subtree.size();
                    assert_eq!(hash, range_hash(&leaves, Range { start, size: subtree.size() }));
                }
            }
            assert_eq!(frontier.root(), Some(root));
            for m in 0..n {
                let proof: Vec<Hash> = inclusion(m, n).into_iter().map(|r| range_hash(&leaves, r)).collect();
                for r in inclusion(m, n) {
                    let parts: Vec<Hash> = r
                        .subtrees()
                        .iter()
                        .map(|s| range_hash(&leaves, Range { start: s.index * s.size(), size: s.size() }))
                        .collect();
                    assert_eq!(combine(&parts), Some(range_hash(&leaves, r)));
                }
                assert!(verify_inclusion(m, n, &leaves[m as usize], &proof, &root), "{m} in {n}");
                let other = (m + 1) % n;
                assert!(n == 1 || !verify_inclusion(other, n, &leaves[m as usize], &proof, &root));
                let mut bent = proof.clone();
                if let Some(first) = bent.first_mut() {
                    first[0] ^= 1;
                    assert!(!verify_inclusion(m, n, &leaves[m as usize], &bent, &root));
                }
            }
            for old in 1..=n {
                let old_root = mth(&leaves[..old as usize]);
                let proof: Vec<Hash> = consistency(old, n).into_iter().map(|r| range_hash(&leaves, r)).collect();
                assert!(verify_consistency(old, n, &old_root, &root, &proof), "{old} to {n}");
                if old < n {
                    let forked = mth(&[&leaves[..old as usize - 1], &[leaf(&[9; 32])][..]].concat());
                    assert!(!verify_consistency(old, n, &forked, &root, &proof), "a forked log");
                }
            }
        }
    }

    #[test]
    fn a_frontier_rebuilt_from_its_subtrees_grows_as_the_first() {
        let hashes = entries(13);
        let mut first = Frontier::default();
        for h in &hashes[..11] {
            first.push(h);
        }
        let edge: Vec<Hash> = first.edge.iter().map(|(_, h)| *h).collect();
        let mut again = Frontier::of(11, &edge).unwrap();
        for h in &hashes[11..] {
            assert_eq!(again.push(h), first.push(h));
        }
        assert_eq!(again.root(), first.root());
        assert!(Frontier::of(11, &edge[1..]).is_none());
    }
}
