//! The static memory plan: every intermediate tensor, task temporary and staging copy gets
//! an offset in one arena; two of them share bytes only when their lifetimes (in task
//! steps) do not overlap.

/// Offsets are multiples of this many floats (64 bytes, the alignment kernels assume).
pub const ALIGN_FLOATS: usize = 16;

/// A block to place: `len` floats, live from step `first` to step `last` (inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Number of floats.
    pub len: usize,
    /// First step it is live.
    pub first: usize,
    /// Last step it is live.
    pub last: usize,
}

/// Offsets (in floats) of `blocks` and the arena's length: largest blocks first, each at
/// the lowest aligned offset free during its lifetime.
pub fn place(blocks: &[Block]) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(blocks[i].len), blocks[i].first, i));
    let mut offsets = vec![0; blocks.len()];
    let mut placed: Vec<usize> = vec![];
    let mut total = 0;
    for i in order {
        let b = blocks[i];
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&j| blocks[j].first <= b.last && b.first <= blocks[j].last)
            .map(|&j| (offsets[j], offsets[j] + blocks[j].len))
            .collect();
        busy.sort_unstable();
        let mut at = 0;
        for (lo, hi) in busy {
            if at + b.len <= lo {
                break;
            }
            at = at.max(hi.next_multiple_of(ALIGN_FLOATS));
        }
        offsets[i] = at;
        total = total.max(at + b.len);
        placed.push(i);
    }
    (offsets, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_lifetimes_share_and_overlapping_ones_do_not() {
        let blocks = [
            Block {
                len: 100,
                first: 0,
                last: 1,
            },
            Block {
                len: 100,
                first: 2,
                last: 3,
            },
            Block {
                len: 10,
                first: 1,
                last: 2,
            },
        ];
        let (off, total) = place(&blocks);
        assert_eq!(off[0], off[1], "consecutive lifetimes reuse the bytes");
        assert!(off[2] >= 100 && off[2] % ALIGN_FLOATS == 0);
        assert_eq!(total, off[2] + 10);
        for (i, a) in blocks.iter().enumerate() {
            for (j, b) in blocks.iter().enumerate() {
                let live_together = a.first <= b.last && b.first <= a.last;
                let apart = off[i] + a.len <= off[j] || off[j] + b.len <= off[i];
                assert!(i == j || !live_together || apart, "{i} and {j} overlap");
            }
        }
    }
}
