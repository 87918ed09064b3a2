//! Register tiles: a sampling prior that knows the machine's vector registers.
//!
//! The SSRSRS tiling holds fast kernels of a reduction stage (a tile of the output kept in
//! vector registers across the reduction loop: S2 = 1, the S3 factors as large as the
//! register file allows, the write cache at the S1 loop), but a uniform draw of prime factors
//! over four levels finds one rarely: for a 1024-wide loop, S2 = 1 alone has probability
//! (3/4)^10. With a [`VectorTarget`], the sampler draws half of the tilings of reduction
//! stages whose innermost spatial loop reads contiguously (or does once one input is packed,
//! which phase B then packs) as register tiles: the innermost spatial loop's S3 factor one to
//! four registers wide (half registers where no multiple of the full width divides the loop);
//! the rows the S3 factor of a loop that the reads across the lanes do not mention (so every
//! loaded vector serves each row), sized so that the accumulators fit in the registers the ISA
//! has (two rows suffice: a decode-sized product loads each weight vector once for both);
//! every S2 factor 1. The rest of each loop's extent goes to S0/S1 at random, the reduction
//! loops are drawn as usual. Half of these tiles are *blocked*: the innermost loop's S2 puts
//! several register tiles side by side in a write cache of at most 4096 floats (half a 32 KiB
//! L1d) and each reduction loop steps in short blocks (8 to 64), so a block streams whole rows
//! of the inputs while codegen keeps one register tile's accumulators in registers across it.
//! Rows need not divide the loop: where the most rows a divisor allows leave fewer accumulators
//! than hide the FMA latency ([`LATENCY_ACCUMULATORS`]: 4 rows of 2 AVX2 vectors on a 1024-row
//! loop, 8 accumulators), half of the draws take more rows than any divisor (5 or 6 there: the
//! accumulators, one row of loaded vectors and the broadcast within AVX2's 16 registers, see
//! [`VectorTarget::fits`]), the stage is *partitioned* at the largest multiple of them,
//! and the few rows left form a tail stage tiled alike (see [`crate::partition`]). Lanes need
//! not divide their loop either: where no register width divides the innermost loop (a
//! ResNet row of 14 or 7, 197 tokens), the tiles cover the largest multiple of a width below
//! its extent and the stage is partitioned on that loop, its tail whole vectors wide that
//! start early and recompute a few lanes of the stage (`[0, 8)` and `[6, 14)`: 16 lanes of
//! work for 14, where a 6-lane remainder ran at a fraction of the vector rate). Where only
//! half registers divide it (a 56-wide row on AVX-512), half of the draws take them and half
//! take full registers over 48 and a tail `[40, 56)` alike. Nothing here
//! names a workload: the widths come from the target, the rows from the register count, the
//! blocked cache from the L1 size.

use crate::mutate::pick;
use crate::sketch::{
    Partition, SPATIAL_LEVELS, Tile, contiguous_inner, divisors, draw_factors, primes,
    transposing_pack,
};
use colt_ir::{IterKind, Program};
use rand::RngExt;
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

/// Fewest iterations of a loop that rows of a register tile are drawn from. Two rows already
/// pay: a decode-sized product (two tokens) streams its weights either way, but a tile of
/// both rows by a few vectors loads each weight vector once for both tokens and keeps the
/// partial sums in registers across the reduction.
const MIN_ROWS: i64 = 2;

/// Floats a blocked register tile's write cache holds at most: half of a 32 KiB L1 data cache
/// (the L1d size of x86-64 cores of the last decade), so the inputs' rows stream beside it.
const L1_TILE_FLOATS: i64 = 4096;
/// Shortest and longest reduction block of a blocked register tile: long enough that the
/// accumulators' copy in and out of registers is small beside it, short enough that the rows
/// of the block stay in the L1 cache between register tiles.
const REDUCTION_BLOCK: (i64, i64) = (8, 64);

/// Independent accumulators a register tile needs for its FMAs not to wait on each other: two
/// FMA pipes times a latency of 4 to 5 cycles on the x86-64 cores of the last decade (Haswell
/// to Zen 5). A tile with fewer leaves FMA slots idle; with AVX-512's 28 accumulators the
/// divisors of a power-of-two loop reach 16, with AVX2's 14 only 8.
pub const LATENCY_ACCUMULATORS: i64 = 10;

/// The vector registers kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VectorTarget {
    /// f32 lanes per vector register (16 for AVX-512, 8 for AVX2).
    pub lanes: i64,
    /// Architectural vector registers (32 for AVX-512, 16 for AVX2 and SSE).
    pub registers: i64,
}

impl VectorTarget {
    /// From the ISA name and f32 lanes `colt machine` reports for the compile target
    /// (`avx512`, `avx2`, `avx`, `sse`); `None` for a scalar target or an unknown name.
    pub fn from_isa(isa: &str, lanes: i64) -> Option<VectorTarget> {
        let registers = match isa {
            "avx512" => 32,
            "avx2" | "avx" | "sse" => 16,
            "neon" | "sve" => 32,
            _ => return None,
        };
        (lanes >= 2).then_some(VectorTarget { lanes, registers })
    }

    /// Accumulator registers a register tile may take: the rest hold the broadcast input
    /// and the loaded vectors of the other operand.
    pub fn accumulators(&self) -> i64 {
        self.registers - (self.registers / 8).max(2)
    }

    /// Whether `rows` rows of `vectors` registers each fit the register file with their
    /// operands: the accumulators within [`Self::accumulators`], and beside them one row of
    /// the other operand's vectors and the broadcast (`rows · vectors + vectors + 1` at most
    /// the registers, the micro-kernel rule of BLIS). On AVX2 that allows 6 rows of 2 vectors
    /// but not 7: 14 accumulators leave no room for the two loaded vectors, and such a tile
    /// measured twice as slow as 6 rows (spills) on a Zen 4 with AVX2 code.
    pub fn fits(&self, rows: i64, vectors: i64) -> bool {
        rows * vectors <= self.accumulators() && rows * vectors + vectors < self.registers
    }
}

/// A register tiling drawn for one stage: the tiles and, where the lanes or the rows divide
/// no extent of their loop, the partitions whose `[0, at)` the tiles cover (the lanes' first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterTile {
    /// One tile per loop of the stage.
    pub tiles: Vec<Tile>,
    /// Where the lanes' loop and the rows' loop are partitioned, where they are.
    pub partitions: Vec<Partition>,
}

/// A register tiling of stage `s` (reduction stage, root placement) for `target`, or `None`
/// when the stage has no reduction, its innermost spatial loop does not read contiguously or
/// no multiple of the vector width divides that loop's extent.
pub fn register_tiles(
    rng: &mut Pcg64,
    p: &Program,
    s: usize,
    target: VectorTarget,
) -> Option<RegisterTile> {
    let st = &p.stages[s];
    st.reduce.as_ref()?;
    let inner = st.spatial().last()?.var;
    // Lanes that read across rows of an input read a transposing pack of it.
    let transposed = !contiguous_inner(p, s);
    if transposed && transposing_pack(p, s).is_none() {
        return None;
    }
    let inner_extent = st.spatial().last()?.extent;
    let (lanes, widths) = vector_widths(inner_extent, target);
    // Only half registers divide the lane loop (a 56-wide conv row on AVX-512) but full ones
    // fit in it: half of the draws take full registers over the largest multiple of a width
    // (48 of 56) and leave the rest to a tail, as where no width divides: one 16-lane tail
    // vector that recomputes 8 lanes costs less than running every vector at half width.
    let full_instead = lanes < target.lanes && inner_extent > target.lanes && rng.random_bool(0.5);
    // No width divides the lane loop (a 14-wide conv row): the tiles cover the largest
    // multiple of a width below its extent and the lanes left form the partition's tail.
    let (lanes, w, lane_at) = match pick(rng, &widths).filter(|_| !full_instead) {
        Some(w) => (lanes, w, None),
        None => {
            let (lanes, widths) = partial_widths(inner_extent, target);
            let w = pick(rng, &widths)?;
            (lanes, w, Some(inner_extent / w * w))
        }
    };
    let lanes_extent = lane_at.unwrap_or(inner_extent);
    let vectors = w / lanes;
    // The rows: a spatial loop that no read across the lanes mentions, so each loaded
    // vector serves every row (matmul's `i`, a conv's output channels); the nearest such
    // loop mostly. None with at least `MIN_ROWS` iterations: no register tile (no reuse).
    let mut lane_reads = vec![];
    st.value.loads(&mut lane_reads);
    lane_reads.retain(|a| a.idx.iter().any(|e| e.mentions(inner)));
    let rows_loops: Vec<_> = st
        .spatial()
        .filter(|iv| iv.var != inner && iv.extent >= MIN_ROWS)
        .filter(|iv| {
            lane_reads
                .iter()
                .all(|a| a.idx.iter().all(|e| !e.mentions(iv.var)))
        })
        .collect();
    let row = if rng.random_bool(0.7) {
        *rows_loops.last()?
    } else {
        pick(rng, &rows_loops)?
    };
    let (rows, at) = draw_rows(rng, row.extent, vectors, target);
    // Half of the tiles are blocked: the write cache spans `chunk` register tiles side by
    // side and each reduction loop steps through short blocks, so every block streams whole
    // rows of the cache tile while the accumulators of one register tile stay in registers
    // across the block (codegen promotes them).
    let chunk = if rng.random_bool(0.5) {
        draw_chunk(rng, lanes_extent / w, rows * w)
    } else {
        1
    };
    let tiles = st
        .iters
        .iter()
        .map(|iv| {
            let loop_ = p.var_name(iv.var).to_string();
            let factors = match iv.kind {
                IterKind::Reduce if chunk > 1 => reduction_block(rng, iv.extent),
                IterKind::Reduce => draw_factors(rng, iv.extent, 2, false),
                IterKind::Spatial if iv.var == inner => outer_split(rng, lanes_extent, chunk, w),
                IterKind::Spatial if iv.var == row.var => {
                    outer_split(rng, at.unwrap_or(iv.extent), 1, rows)
                }
                IterKind::Spatial => outer_split(rng, iv.extent, 1, 1),
            };
            Tile { loop_, factors }
        })
        .collect();
    // The lanes' partition first: its tail (all rows) then leaves the rows' partition only
    // the stage's own lanes to split. The tail is whole vectors starting early; over a
    // transposing pack it then packs its own window (see `Sketch::emit_pack`), as its vectors
    // would read across two blocks of the stage's copy.
    let lane_part = lane_at.map(|at| (inner, at, whole_vector_tail(inner_extent, at, lanes)));
    let row_part = at.map(|at| (row.var, at, None));
    let partitions = lane_part
        .into_iter()
        .chain(row_part)
        .map(|(v, at, from)| Partition {
            loop_: p.var_name(v).to_string(),
            at,
            from,
        })
        .collect();
    Some(RegisterTile { tiles, partitions })
}

/// The register widths (one to four vectors) that divide a loop of `extent`, and the lanes of
/// the vectors they are made of: full registers where a multiple of the lanes divides the
/// extent, else half registers (a 56-wide loop on a 16-lane machine: 8).
fn vector_widths(extent: i64, target: VectorTarget) -> (i64, Vec<i64>) {
    widths_where(target, |w| extent % w == 0)
}

/// One to four vectors of full registers that `ok`, else (8 lanes or more) of half registers,
/// and their lanes.
fn widths_where(target: VectorTarget, ok: impl Fn(i64) -> bool) -> (i64, Vec<i64>) {
    let widths =
        |lanes: i64| -> Vec<i64> { (1..=4).map(|m| m * lanes).filter(|&w| ok(w)).collect() };
    let full = widths(target.lanes);
    if full.is_empty() && target.lanes >= 8 {
        (target.lanes / 2, widths(target.lanes / 2))
    } else {
        (target.lanes, full)
    }
}

/// For a lane loop of `extent` that no register width divides: the widths (one to four
/// vectors) no wider than it, of full registers where one fits, else of half registers, and
/// their lanes; none where not even a half register fits (a 7-wide loop on AVX-512).
fn partial_widths(extent: i64, target: VectorTarget) -> (i64, Vec<i64>) {
    widths_where(target, |w| w <= extent)
}

/// Where the tail of a lane loop of `extent` partitioned at `at` starts so that it is whole
/// vectors of `lanes` wide, overlapping the stage (see [`crate::partition`]); `None` when the
/// lanes left over already are.
fn whole_vector_tail(extent: i64, at: i64, lanes: i64) -> Option<i64> {
    let left = extent - at;
    let width = (left + lanes - 1) / lanes * lanes;
    (width != left).then_some(extent - width)
}

/// Rows of a register tile `vectors` registers wide whose accumulators fit the target: a
/// divisor of `extent` from the upper half of those that fit (more rows, more reuse of each
/// loaded vector), and no partition; or, where even the largest such divisor leaves fewer
/// than [`LATENCY_ACCUMULATORS`] and more rows would fit, half of the time a count between
/// the two with the largest multiple of it below `extent` as the partition point (a prime
/// extent such as 197 tokens divides into one row only: then always).
fn draw_rows(
    rng: &mut Pcg64,
    extent: i64,
    vectors: i64,
    target: VectorTarget,
) -> (i64, Option<i64>) {
    let fits = |r: i64| target.fits(r, vectors);
    let most = (1..=extent).take_while(|&r| fits(r)).last().unwrap_or(1);
    let divisor = divisors(extent)
        .into_iter()
        .filter(|&d| fits(d))
        .max()
        .unwrap_or(1);
    if divisor * vectors < LATENCY_ACCUMULATORS
        && most > divisor
        && (divisor == 1 || rng.random_bool(0.5))
    {
        let more: Vec<i64> = (divisor + 1..=most).collect();
        let rows = pick(rng, &more).unwrap_or(most);
        return (rows, Some(extent / rows * rows));
    }
    (upper_divisor(rng, extent, fits), None)
}

/// Register tiles side by side in a blocked tile's write cache: a divisor (at least 2) of the
/// `tiles` that fit so that the cache (`tile` floats each) stays within [`L1_TILE_FLOATS`],
/// from the upper half of those; 1 when none does.
fn draw_chunk(rng: &mut Pcg64, tiles: i64, tile: i64) -> i64 {
    upper_divisor(rng, tiles, |c| c >= 2 && c * tile <= L1_TILE_FLOATS)
}

/// A divisor of `n` that `fits`, drawn from the upper half of those that do (at least half the
/// largest); 1 when none does.
fn upper_divisor(rng: &mut Pcg64, n: i64, fits: impl Fn(i64) -> bool) -> i64 {
    let fitting: Vec<i64> = divisors(n).into_iter().filter(|&d| fits(d)).collect();
    let most = fitting.last().copied().unwrap_or(1);
    let upper: Vec<i64> = fitting.into_iter().filter(|d| 2 * d >= most).collect();
    pick(rng, &upper).unwrap_or(1)
}

/// Two factors of a reduction loop whose inner one is a short block (a divisor in
/// [`REDUCTION_BLOCK`]), or the usual draw when no divisor is that short.
fn reduction_block(rng: &mut Pcg64, extent: i64) -> Vec<i64> {
    let (lo, hi) = REDUCTION_BLOCK;
    let blocks: Vec<i64> = divisors(extent)
        .into_iter()
        .filter(|d| (lo..=hi).contains(d))
        .collect();
    match pick(rng, &blocks) {
        Some(b) => vec![extent / b, b],
        None => draw_factors(rng, extent, 2, false),
    }
}

/// Four SSRSRS factors of a spatial loop: `inner` at S3, `s2` at S2, the rest split between S0
/// and S1 prime by prime.
fn outer_split(rng: &mut Pcg64, extent: i64, s2: i64, inner: i64) -> Vec<i64> {
    let mut f = vec![1i64; SPATIAL_LEVELS];
    f[SPATIAL_LEVELS - 1] = inner;
    f[SPATIAL_LEVELS - 2] = s2;
    for q in primes(extent / (inner * s2)) {
        f[rng.random_range(0..2)] *= q;
    }
    f
}

/// Whether tiles of a stage form a register tile for `target`: every spatial S2 factor 1
/// except the innermost loop's (a blocked tile: register tiles side by side) and the S3
/// factors' accumulators (rows times the vectors of the lane loop's S3 factor) within the
/// target's. Phase B then puts the write cache at the
/// S1 loop, so the cached tile is the register tile or a row of them.
pub fn is_register_tile(p: &Program, s: usize, tiles: &[Tile], target: VectorTarget) -> bool {
    let st = &p.stages[s];
    if st.reduce.is_none() || tiles.is_empty() {
        return false;
    }
    let spatial: Vec<&Tile> = tiles
        .iter()
        .filter(|t| {
            st.spatial()
                .any(|iv| p.var_name(iv.var) == t.loop_.as_str())
        })
        .collect();
    if spatial.iter().any(|t| t.factors.len() != SPATIAL_LEVELS) {
        return false;
    }
    // The accumulators: the rows times the registers of one row, whose width is the lane
    // loop's S3 factor in full registers where a multiple of the lanes, else in half ones
    // (16 rows of 16 floats take 16 AVX-512 registers, of 8 floats 16 too, not 8).
    let inner = st.spatial().last().map(|iv| p.var_name(iv.var));
    let s3 = |t: &&Tile| t.factors[SPATIAL_LEVELS - 1];
    let is_inner = |t: &&&Tile| Some(t.loop_.as_str()) == inner;
    let width = spatial.iter().find(is_inner).map_or(1, s3);
    let rows: i64 = spatial.iter().filter(|t| !is_inner(t)).map(s3).product();
    let (lanes, _) = vector_widths(width, target);
    if !target.fits(rows, (width + lanes - 1) / lanes) {
        return false;
    }
    // A blocked tile: the innermost loop's register tiles (whole vectors) side by side, the
    // cache of all of them within the L1 budget.
    let cached: i64 = spatial
        .iter()
        .map(|t| t.factors[SPATIAL_LEVELS - 2] * t.factors[SPATIAL_LEVELS - 1])
        .product();
    let half_vector = (target.lanes / 2).max(1);
    spatial.iter().all(|t| {
        let (s2, s3) = (t.factors[SPATIAL_LEVELS - 2], t.factors[SPATIAL_LEVELS - 1]);
        s2 == 1
            || (Some(t.loop_.as_str()) == inner
                && s3 % half_vector == 0
                && cached <= L1_TILE_FLOATS)
    })
}

/// The rows of a register tile: the product of the S3 factors of stage `s`'s spatial loops
/// other than the innermost (the vectorised one), which auto-unroll must cover.
pub fn register_rows(p: &Program, s: usize, tiles: &[Tile]) -> i64 {
    let st = &p.stages[s];
    let inner = st.spatial().last().map(|iv| p.var_name(iv.var).to_string());
    st.spatial()
        .map(|iv| p.var_name(iv.var))
        .filter(|name| Some(name.to_string()) != inner)
        .filter_map(|name| tiles.iter().find(|t| t.loop_ == name))
        .map(|t| t.factors[SPATIAL_LEVELS - 1])
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const AVX512: VectorTarget = VectorTarget {
        lanes: 16,
        registers: 32,
    };
    const AVX2: VectorTarget = VectorTarget {
        lanes: 8,
        registers: 16,
    };

    fn matmul(n: i64) -> Program {
        colt_ops::matmul(n, n, n)
    }

    #[test]
    fn targets_come_from_the_isa() {
        assert_eq!(VectorTarget::from_isa("avx512", 16), Some(AVX512));
        assert_eq!(VectorTarget::from_isa("avx2", 8), Some(AVX2));
        assert_eq!(VectorTarget::from_isa("scalar", 1), None);
        assert_eq!(AVX2.accumulators(), 14);
        assert_eq!(AVX512.accumulators(), 28);
    }

    #[test]
    fn half_registers_where_no_full_one_divides() {
        assert_eq!(vector_widths(64, AVX512), (16, vec![16, 32, 64]));
        assert_eq!(vector_widths(96, AVX512), (16, vec![16, 32, 48]));
        assert_eq!(vector_widths(56, AVX512), (8, vec![8]));
        assert_eq!(vector_widths(56, AVX2), (8, vec![8]));
        assert_eq!(vector_widths(7, AVX2), (4, vec![]));
    }

    #[test]
    fn register_tiles_fit_the_register_file_of_each_target() {
        let p = matmul(96);
        for target in [AVX512, AVX2] {
            let mut rng = Pcg64::seed_from_u64(3);
            let mut blocked = 0;
            for _ in 0..200 {
                let rt = register_tiles(&mut rng, &p, 0, target).expect("matmul has one");
                let tiles = rt.tiles;
                assert!(is_register_tile(&p, 0, &tiles, target), "{tiles:?}");
                for t in &tiles {
                    let want = if t.loop_ == "k" { 2 } else { SPATIAL_LEVELS };
                    assert_eq!(t.factors.len(), want, "{tiles:?}");
                    let extent = rt
                        .partitions
                        .iter()
                        .find(|pt| pt.loop_ == t.loop_)
                        .map_or(96, |pt| pt.at);
                    assert_eq!(t.factors.iter().product::<i64>(), extent, "{tiles:?}");
                }
                let j = tiles.iter().find(|t| t.loop_ == "j").unwrap();
                let i = tiles.iter().find(|t| t.loop_ == "i").unwrap();
                let k = tiles.iter().find(|t| t.loop_ == "k").unwrap();
                if j.factors[2] > 1 {
                    // blocked: a row of register tiles within the L1 budget, short k blocks
                    assert!(j.factors[2] * j.factors[3] * i.factors[3] <= L1_TILE_FLOATS);
                    assert!((8..=64).contains(&k.factors[1]), "{tiles:?}");
                    blocked += 1;
                }
                assert_eq!(j.factors[3] % target.lanes, 0, "{tiles:?}");
                assert!(j.factors[3] / target.lanes * i.factors[3] <= target.accumulators());
            }
            assert!((60..=140).contains(&blocked), "{blocked} of 200 blocked");
        }
    }

    /// On a power-of-two loop, AVX2's registers hold 5 or 6 rows of 2 vectors only with a
    /// partition: among the draws are such tiles, partitioned at the largest multiple of the
    /// rows, and never one whose accumulators leave no room for a row of loaded vectors and
    /// the broadcast (7 rows of 2: 14 accumulators, 17 registers in all). AVX-512's divisors
    /// already reach 16 accumulators: no partition there.
    #[test]
    fn rows_that_divide_no_extent_partition_the_loop() {
        let p = matmul(1024);
        let mut rng = Pcg64::seed_from_u64(11);
        for _ in 0..200 {
            let rt = register_tiles(&mut rng, &p, 0, AVX512).expect("matmul has one");
            assert!(rt.partitions.is_empty(), "{rt:?}");
        }
        let mut rng = Pcg64::seed_from_u64(11);
        let mut six = 0;
        for _ in 0..400 {
            let rt = register_tiles(&mut rng, &p, 0, AVX2).expect("matmul has one");
            let tile = |l: &str| rt.tiles.iter().find(|t| t.loop_ == l).unwrap().factors[3];
            let (rows, vectors) = (tile("i"), tile("j") / AVX2.lanes);
            assert!(AVX2.fits(rows, vectors), "{rt:?}");
            assert!(rows * vectors + vectors < AVX2.registers, "{rt:?}");
            assert!(rt.partitions.len() <= 1, "{rt:?}");
            match rt.partitions.first() {
                Some(pt) => {
                    assert_eq!(pt.loop_, "i");
                    assert_eq!(pt.at, 1024 / rows * rows, "{rt:?}");
                    assert_ne!(1024 % rows, 0);
                    six += usize::from(rows == 6 && vectors == 2 && pt.at == 1020);
                }
                None => assert_eq!(1024 % rows, 0, "{rt:?}"),
            }
        }
        assert!(
            six >= 5,
            "{six} of 400 draws are 6x2 tiles partitioned at 1020"
        );
    }

    /// A lane loop that no register width divides (a 14-wide convolution row, a 197-wide
    /// product): the tiles cover the largest multiple of a width below the extent, the stage
    /// is partitioned there on the lane loop first; the rows divide their loop or partition it
    /// too (second).
    #[test]
    fn lanes_that_no_width_divides_partition_the_lane_loop() {
        let conv = colt_ops::conv2d(colt_ops::Conv2dShape {
            n: 1,
            c: 64,
            h: 14,
            w: 14,
            f: 64,
            kernel: 3,
            stride: 1,
            pad: 1,
        });
        let s = conv.stages.iter().position(|st| st.name == "conv").unwrap();
        let gemm = colt_ops::matmul(64, 197, 96);
        for (p, s, lane, extent) in [(&conv, s, "x", 14), (&gemm, 0, "j", 197)] {
            for target in [AVX512, AVX2] {
                let mut rng = Pcg64::seed_from_u64(7);
                for _ in 0..100 {
                    let rt = register_tiles(&mut rng, p, s, target).expect("a partitioned tile");
                    let pt = rt.partitions.first().cloned().expect("partitioned");
                    assert_eq!(pt.loop_, lane, "{rt:?}");
                    let x = rt.tiles.iter().find(|t| t.loop_ == lane).unwrap();
                    let w = x.factors[3];
                    let lanes = if extent >= target.lanes {
                        target.lanes
                    } else {
                        target.lanes / 2
                    };
                    assert_eq!(w % lanes, 0, "{rt:?}");
                    assert_eq!(pt.at, extent / w * w, "{rt:?}");
                    let from = pt.from.unwrap_or(pt.at);
                    assert!(from <= pt.at && (extent - from) % lanes == 0, "{rt:?}");
                    assert!(pt.at < extent && pt.at > 0, "{rt:?}");
                    assert_eq!(x.factors.iter().product::<i64>(), pt.at, "{rt:?}");
                    assert!(rt.partitions.len() <= 2, "{rt:?}");
                    for t in rt.tiles.iter().filter(|t| t.loop_ != lane) {
                        let full = p.stages[s]
                            .iters
                            .iter()
                            .find(|iv| p.var_name(iv.var) == t.loop_)
                            .unwrap()
                            .extent;
                        let covered = match rt.partitions.get(1) {
                            Some(rows) if rows.loop_ == t.loop_ => {
                                assert_eq!(rows.at % t.factors[3], 0, "{rt:?}");
                                assert_ne!(full % t.factors[3], 0, "{rt:?}");
                                rows.at
                            }
                            _ => full,
                        };
                        assert_eq!(t.factors.iter().product::<i64>(), covered, "{rt:?}");
                    }
                    assert!(is_register_tile(p, s, &rt.tiles, target), "{rt:?}");
                }
            }
        }
        // Nothing to partition on a loop narrower than half a register.
        let narrow = colt_ops::matmul(64, 7, 64);
        let mut rng = Pcg64::seed_from_u64(7);
        assert!(register_tiles(&mut rng, &narrow, 0, AVX512).is_none());
        assert_eq!(partial_widths(7, AVX512), (8, vec![]));
        assert_eq!(partial_widths(14, AVX512), (8, vec![8]));
        assert_eq!(partial_widths(197, AVX2), (8, vec![8, 16, 24, 32]));
        // The tail is whole vectors, overlapping the stage where the lanes left are fewer.
        assert_eq!(whole_vector_tail(14, 8, 8), Some(6));
        assert_eq!(whole_vector_tail(197, 192, 8), Some(189));
        assert_eq!(whole_vector_tail(28, 16, 16), Some(12));
        assert_eq!(whole_vector_tail(28, 24, 4), None);
    }

    /// A 56-wide conv row on AVX-512: only half registers divide it, so half of the draws
    /// take them (no partition on the row) and half take full registers over the largest
    /// multiple of their width, with a tail of whole 16-lane vectors; on AVX2 full registers
    /// divide it and nothing is partitioned on the row.
    #[test]
    fn half_or_full_registers_where_only_half_ones_divide() {
        let conv = colt_ops::conv2d(colt_ops::Conv2dShape {
            n: 1,
            c: 64,
            h: 56,
            w: 56,
            f: 64,
            kernel: 1,
            stride: 1,
            pad: 0,
        });
        let s = conv.stages.iter().position(|st| st.name == "conv").unwrap();
        let row_part = |rt: &RegisterTile| rt.partitions.iter().find(|pt| pt.loop_ == "x").cloned();
        let mut rng = Pcg64::seed_from_u64(9);
        let (mut half, mut full) = (0, 0);
        for _ in 0..200 {
            let rt = register_tiles(&mut rng, &conv, s, AVX512).expect("a register tile");
            assert!(is_register_tile(&conv, s, &rt.tiles, AVX512), "{rt:?}");
            let w = rt.tiles.iter().find(|t| t.loop_ == "x").unwrap().factors[3];
            match row_part(&rt) {
                None => {
                    assert_eq!((w, 56 % w), (8, 0), "{rt:?}");
                    half += 1;
                }
                Some(pt) => {
                    assert_eq!(w % 16, 0, "{rt:?}");
                    assert_eq!(pt.at, 56 / w * w, "{rt:?}");
                    assert_eq!(pt.from.map(|f| (56 - f) % 16), Some(0), "{rt:?}");
                    full += 1;
                }
            }
        }
        assert!(half >= 60 && full >= 60, "{half} half, {full} full of 200");
        let mut rng = Pcg64::seed_from_u64(9);
        for _ in 0..100 {
            let rt = register_tiles(&mut rng, &conv, s, AVX2).expect("a register tile");
            assert!(row_part(&rt).is_none(), "{rt:?}");
        }
    }

    /// Half-register rows take a register each: 32 rows of 8 floats overflow AVX-512's 28
    /// accumulators (as 256 floats they would fit 16-lane registers, but 8 floats take a
    /// whole 8-lane one), 16 rows fit; on AVX2, 16 rows of 4 floats overflow its 14.
    #[test]
    fn half_register_rows_count_a_register_each() {
        let p = matmul(64);
        let tiles = |rows: i64, width: i64| {
            let tile = |l: &str, f: i64| Tile {
                loop_: l.into(),
                factors: vec![64 / f, 1, 1, f],
            };
            vec![tile("i", rows), tile("j", width)]
        };
        assert!(!is_register_tile(&p, 0, &tiles(32, 8), AVX512));
        assert!(is_register_tile(&p, 0, &tiles(16, 8), AVX512));
        assert!(is_register_tile(&p, 0, &tiles(16, 16), AVX512));
        assert!(!is_register_tile(&p, 0, &tiles(16, 4), AVX2));
        assert!(is_register_tile(&p, 0, &tiles(8, 8), AVX2));
        assert!(is_register_tile(&p, 0, &tiles(4, 16), AVX2));
    }

    /// A two-token product (the decode-time MLP): rows from the 2-token loop, and blocked tiles
    /// among the draws.
    #[test]
    fn two_token_products_get_register_tiles() {
        let p = colt_ops::matmul(2, 2048, 512);
        let mut rng = Pcg64::seed_from_u64(5);
        let mut blocked = 0;
        for _ in 0..100 {
            let tiles = register_tiles(&mut rng, &p, 0, AVX512)
                .expect("two rows suffice")
                .tiles;
            assert!(is_register_tile(&p, 0, &tiles, AVX512), "{tiles:?}");
            blocked += usize::from(tiles.iter().any(|t| t.loop_ == "j" && t.factors[2] > 1));
        }
        assert!(blocked >= 30, "{blocked} of 100 blocked");
    }

    /// A stride-2 convolution reads its input two elements apart across the lanes: no
    /// register tile. Unfolded (as every workload is, `colt_ir::unfold_strided_windows`) its
    /// lanes read contiguously, and the tiles take output channels as rows.
    #[test]
    fn strided_windows_get_register_tiles_once_unfolded() {
        let strided = colt_ops::conv2d(colt_ops::Conv2dShape {
            n: 1,
            c: 16,
            h: 28,
            w: 28,
            f: 32,
            kernel: 3,
            stride: 2,
            pad: 1,
        });
        let unfolded = colt_ir::unfold_strided_windows(&strided);
        let conv = |p: &Program| p.stages.iter().position(|st| st.name == "conv").unwrap();
        for target in [AVX512, AVX2] {
            let mut rng = Pcg64::seed_from_u64(9);
            assert!(register_tiles(&mut rng, &strided, conv(&strided), target).is_none());
            for _ in 0..50 {
                let s = conv(&unfolded);
                let rt = register_tiles(&mut rng, &unfolded, s, target).expect("a register tile");
                assert!(is_register_tile(&unfolded, s, &rt.tiles, target), "{rt:?}");
                let rows = rt.tiles.iter().find(|t| t.loop_ == "f").unwrap();
                assert!(rows.factors[3] >= MIN_ROWS, "{rt:?}");
            }
        }
    }
}
