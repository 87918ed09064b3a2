//! Features of a lowered, scheduled program: a fixed-length `Vec<f32>` per `Func`.
//!
//! Layout: program-level features (`g.*`), then the per-store features of the dominant
//! block (the one with the most flops × executions, `dom.*`), then the per-store features
//! averaged over all blocks weighted by how often each executes (`mean.*`). [`names`] names
//! every entry. Counts stay raw; extents, bytes, flops and ratios are `log2(1 + x)`.
//!
//! Extraction never panics: indices are evaluated in `f64`, unknown buffers and variables
//! count as size 1 / value 0, and every value is finite.

mod block;
mod idx;

use block::{BlockInfo, LEVELS, LoopCtx, StrideClass, TILES, analyse};
pub use block::{CORES, ELEM_BYTES, L1_BYTES, L2_BYTES};
use colt_ir::{BufId, BufKind, Func, LoopKind, Stmt};
use std::sync::OnceLock;

/// Collects `(name, value)` pairs so names and values cannot drift apart.
struct Sink {
    names: Vec<&'static str>,
    vals: Vec<f32>,
}

impl Sink {
    fn new() -> Sink {
        Sink {
            names: vec![],
            vals: vec![],
        }
    }
    fn put(&mut self, name: &'static str, x: f64) {
        self.names.push(name);
        let x = if x.is_nan() {
            0.0
        } else {
            x.clamp(-1e30, 1e30)
        };
        self.vals.push(x as f32);
    }
    fn flag(&mut self, name: &'static str, b: bool) {
        self.put(name, if b { 1.0 } else { 0.0 });
    }
    fn log(&mut self, name: &'static str, x: f64) {
        self.put(name, lg(x));
    }
}

fn lg(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        (1.0 + x.max(0.0)).log2()
    }
}

const BYTES_NAMES: [&str; LEVELS] = [
    "mem.log_bytes_lv1",
    "mem.log_bytes_lv2",
    "mem.log_bytes_lv3",
    "mem.log_bytes_lv4",
    "mem.log_bytes_lv5",
    "mem.log_bytes_lv6",
];
const STORE_BYTES_NAMES: [&str; 3] = [
    "mem.log_store_bytes_lv1",
    "mem.log_store_bytes_lv2",
    "mem.log_store_bytes_lv3",
];
const TILE_NAMES: [&str; TILES] = [
    "tile.log_extent1",
    "tile.log_extent2",
    "tile.log_extent3",
    "tile.log_extent4",
];

fn stride_onehot(s: &mut Sink, names: [&'static str; 3], c: Option<StrideClass>) {
    s.flag(names[0], c == Some(StrideClass::Zero));
    s.flag(names[1], c == Some(StrideClass::Unit));
    s.flag(names[2], c == Some(StrideClass::Other));
}

fn stride_fractions(s: &mut Sink, names: [&'static str; 3], cs: &[StrideClass]) {
    let n = cs.len().max(1) as f64;
    for (name, c) in
        names
            .into_iter()
            .zip([StrideClass::Zero, StrideClass::Unit, StrideClass::Other])
    {
        s.put(name, cs.iter().filter(|&&x| x == c).count() as f64 / n);
    }
}

/// Deepest level (loops counted from the innermost) whose footprint fits in `cap` bytes,
/// with the traffic `footprint × executions of that level` and flops per byte there.
fn cache_level(b: &BlockInfo, cap: f64) -> (f64, f64, f64) {
    let depth = b.loops.len();
    let mut k = 0;
    for (i, &bytes) in b.bytes.iter().enumerate() {
        if bytes <= cap {
            k = i;
        }
    }
    let bytes = b.bytes.get(k).copied().unwrap_or(0.0);
    let outer: f64 = b.loops[..depth.saturating_sub(k)]
        .iter()
        .map(|l| l.extent)
        .product();
    let traffic = bytes * outer;
    let flops = b.flops_per_exec * b.executions;
    (
        k as f64,
        traffic,
        if traffic > 0.0 { flops / traffic } else { 0.0 },
    )
}

impl BlockInfo {
    fn row(&self, s: &mut Sink) {
        self.loop_row(s);
        self.vector_row(s);
        self.inner_row(s);

        s.log("flops.log_per_exec", self.flops_per_exec);
        s.log("flops.log_total", self.flops_per_exec * self.executions);
        s.flag("is_reduction", self.is_reduction);
        s.put("n_loads", self.n_loads);
        s.put("n_selects", self.n_selects);

        self.memory_row(s);
        self.reuse_row(s);

        s.flag("local.writes", self.writes_local);
        s.put("local.reads", self.reads_local);
        s.put("local.n_allocs", self.n_allocs);
        s.log("local.log_bytes", self.alloc_bytes);
    }

    /// Loop counts and extent products per kind, executions, parallelism (`loop.*`, `par.*`).
    fn loop_row(&self, s: &mut Sink) {
        let depth = self.loops.len();
        s.put("loop.n", depth as f64);
        s.put("loop.n_serial", self.kind_stats[0].0);
        s.put("loop.n_parallel", self.kind_stats[1].0);
        s.put("loop.n_vectorized", self.kind_stats[2].0);
        s.put("loop.n_unrolled", self.kind_stats[3].0);
        s.log("loop.log_serial_prod", self.kind_stats[0].1);
        s.log("loop.log_parallel_prod", self.kind_stats[1].1);
        s.log("loop.log_vectorized_prod", self.kind_stats[2].1);
        s.log("loop.log_unrolled_prod", self.kind_stats[3].1);
        s.log("log_executions", self.executions);
        let par = self.kind_stats[1].1.max(1.0);
        s.flag("par.ge_cores", par >= CORES);
        s.put("par.balance", par / (CORES * (par / CORES).ceil()));
        s.log("par.log_work_per_core", self.executions / par.min(CORES));
        s.flag("par.outermost", self.parallel_outermost);
    }

    /// Vector width and the strides of the vectorised loop (`vec.*`).
    fn vector_row(&self, s: &mut Sink) {
        s.log("vec.log_width", self.vec_width);
        s.flag("vec.innermost", self.vec_innermost);
        s.flag(
            "vec.width_mult8",
            self.vec_width > 0.0 && self.vec_width % 8.0 == 0.0,
        );
        stride_onehot(
            s,
            [
                "vec.store_stride0",
                "vec.store_stride1",
                "vec.store_stride_other",
            ],
            self.vec_store,
        );
        stride_fractions(
            s,
            [
                "vec.loads_stride0",
                "vec.loads_stride1",
                "vec.loads_stride_other",
            ],
            &self.vec_loads,
        );
    }

    /// Strides and kind of the innermost loop, the innermost tile extents and the unrolled
    /// iterations (`inner.*`, `tile.*`, `unroll.*`).
    fn inner_row(&self, s: &mut Sink) {
        let depth = self.loops.len();
        stride_onehot(
            s,
            [
                "inner.store_stride0",
                "inner.store_stride1",
                "inner.store_stride_other",
            ],
            self.inner_store,
        );
        stride_fractions(
            s,
            [
                "inner.loads_stride0",
                "inner.loads_stride1",
                "inner.loads_stride_other",
            ],
            &self.inner_loads,
        );
        let inner_kind = self.loops.last().map(|l| l.kind);
        s.flag("inner.kind_serial", inner_kind == Some(LoopKind::Serial));
        s.flag(
            "inner.kind_parallel",
            inner_kind == Some(LoopKind::Parallel),
        );
        s.flag(
            "inner.kind_vectorized",
            inner_kind == Some(LoopKind::Vectorized),
        );
        s.flag(
            "inner.kind_unrolled",
            inner_kind == Some(LoopKind::Unrolled),
        );
        for (t, name) in TILE_NAMES.into_iter().enumerate() {
            let e = if t < depth {
                self.loops[depth - 1 - t].extent
            } else {
                0.0
            };
            s.log(name, e);
        }
        s.log("unroll.log_inner", self.unroll_inner);
    }

    /// Bytes touched per loop level and the cache fit, traffic and intensity (`mem.*`).
    fn memory_row(&self, s: &mut Sink) {
        let depth = self.loops.len();
        let at = |v: &[f64], k: usize| {
            v.get(k.min(v.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0.0)
        };
        for (k, name) in BYTES_NAMES.into_iter().enumerate() {
            s.log(name, at(&self.bytes, k + 1));
        }
        for (k, name) in STORE_BYTES_NAMES.into_iter().enumerate() {
            s.log(name, at(&self.store_bytes, k + 1));
        }
        s.log("mem.log_bytes_all", at(&self.bytes, depth));
        let (k1, t1, i1) = cache_level(self, L1_BYTES);
        s.put("mem.l1_fit_levels", k1);
        s.log("mem.log_traffic_l1", t1);
        s.log("mem.log_intensity_l1", i1);
        let (k2, t2, i2) = cache_level(self, L2_BYTES);
        s.put("mem.l2_fit_levels", k2);
        s.log("mem.log_traffic_l2", t2);
        s.log("mem.log_intensity_l2", i2);
    }

    /// Reuse of the store and the loads, and the number of buffers (`reuse.*`).
    fn reuse_row(&self, s: &mut Sink) {
        s.put("reuse.store_loops", self.store_reuse.0);
        s.log("reuse.store_log_factor", self.store_reuse.1);
        s.flag("reuse.store_inner_invariant", self.store_inner_invariant);
        let nl = self.load_reuse.len().max(1) as f64;
        s.put(
            "reuse.loads_mean_loops",
            self.load_reuse.iter().map(|r| r.0).sum::<f64>() / nl,
        );
        s.log(
            "reuse.loads_max_log_factor",
            self.load_reuse.iter().map(|r| r.1).fold(0.0, f64::max),
        );
        s.log(
            "reuse.loads_min_log_factor",
            self.load_reuse
                .iter()
                .map(|r| r.1)
                .reduce(f64::min)
                .unwrap_or(0.0),
        );
        s.put("n_buffers", self.n_buffers);
    }
}

/// Whole-program facts gathered while walking the nest.
#[derive(Default)]
struct Walk {
    blocks: Vec<BlockInfo>,
    n_loops: usize,
    kinds: [usize; 4],
    max_depth: usize,
    n_allocs: usize,
    local_bytes: f64,
}

fn walk(f: &Func, body: &[Stmt], loops: &mut Vec<LoopCtx>, allocs: &mut Vec<BufId>, w: &mut Walk) {
    for st in body {
        match st {
            Stmt::Loop(l) => {
                w.n_loops += 1;
                w.kinds[match l.kind {
                    LoopKind::Serial => 0,
                    LoopKind::Parallel => 1,
                    LoopKind::Vectorized => 2,
                    LoopKind::Unrolled => 3,
                }] += 1;
                loops.push(LoopCtx {
                    var: l.var,
                    extent: (l.extent as f64).max(1.0),
                    kind: l.kind,
                });
                w.max_depth = w.max_depth.max(loops.len());
                walk(f, &l.body, loops, allocs, w);
                loops.pop();
            }
            Stmt::Alloc { buf, body } => {
                w.n_allocs += 1;
                w.local_bytes += f.buffers.get(buf.0 as usize).map_or(0.0, |b| {
                    b.shape
                        .iter()
                        .map(|&n| (n as f64).max(1.0))
                        .product::<f64>()
                        * ELEM_BYTES
                });
                allocs.push(*buf);
                walk(f, body, loops, allocs, w);
                allocs.pop();
            }
            Stmt::Block(b) => w.blocks.push(analyse(f, b, loops, allocs)),
        }
    }
}

fn global_row(f: &Func, w: &Walk, s: &mut Sink) {
    let params: Vec<_> = f
        .buffers
        .iter()
        .filter(|b| b.kind != BufKind::Local)
        .collect();
    let param_bytes: f64 = params
        .iter()
        .map(|b| {
            b.shape
                .iter()
                .map(|&n| (n as f64).max(1.0))
                .product::<f64>()
                * ELEM_BYTES
        })
        .sum();
    let flops: f64 = w
        .blocks
        .iter()
        .map(|b| b.flops_per_exec * b.executions)
        .sum();
    let execs: f64 = w.blocks.iter().map(|b| b.executions).sum();
    let vec_execs: f64 = w
        .blocks
        .iter()
        .filter(|b| b.vec_width > 0.0)
        .map(|b| b.executions)
        .sum();
    let par_flops: f64 = w
        .blocks
        .iter()
        .filter(|b| b.kind_stats[1].0 > 0.0)
        .map(|b| b.flops_per_exec * b.executions)
        .sum();
    let t1: f64 = w.blocks.iter().map(|b| cache_level(b, L1_BYTES).1).sum();
    let t2: f64 = w.blocks.iter().map(|b| cache_level(b, L2_BYTES).1).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    s.put("g.n_blocks", w.blocks.len() as f64);
    s.put("g.n_loops", w.n_loops as f64);
    s.put("g.max_depth", w.max_depth as f64);
    s.put("g.n_parallel_loops", w.kinds[1] as f64);
    s.put("g.n_vectorized_loops", w.kinds[2] as f64);
    s.put("g.n_unrolled_loops", w.kinds[3] as f64);
    s.put("g.n_allocs", w.n_allocs as f64);
    s.log("g.log_local_bytes", w.local_bytes);
    s.put("g.n_params", params.len() as f64);
    s.log("g.log_param_bytes", param_bytes);
    s.log("g.log_flops", flops);
    s.log("g.log_executions", execs);
    s.log("g.log_compulsory_intensity", ratio(flops, param_bytes));
    s.put("g.frac_exec_vectorized", ratio(vec_execs, execs));
    s.put("g.frac_flops_parallel", ratio(par_flops, flops));
    s.log("g.log_traffic_l1", t1);
    s.log("g.log_traffic_l2", t2);
    s.log("g.log_intensity_l1", ratio(flops, t1));
    s.log("g.log_intensity_l2", ratio(flops, t2));
}

/// The block with the most flops × executions (executions alone for flop-free blocks).
fn dominant(blocks: &[BlockInfo]) -> Option<&BlockInfo> {
    let mut best: Option<(&BlockInfo, f64)> = None;
    for b in blocks {
        let w = b.executions * b.flops_per_exec.max(1.0);
        if best.is_none_or(|(_, bw)| w > bw) {
            best = Some((b, w));
        }
    }
    best.map(|(b, _)| b)
}

fn extract_with_names(f: &Func) -> (Vec<f32>, Vec<&'static str>, usize) {
    let mut w = Walk::default();
    walk(f, &f.body, &mut vec![], &mut vec![], &mut w);
    let mut s = Sink::new();
    global_row(f, &w, &mut s);
    let n_global = s.vals.len();

    let row_of = |b: &BlockInfo| {
        let mut r = Sink::new();
        b.row(&mut r);
        r
    };
    let empty = row_of(&BlockInfo::default());
    let dom = dominant(&w.blocks).map_or_else(|| row_of(&BlockInfo::default()), row_of);
    s.names.extend(&dom.names);
    s.vals.extend(&dom.vals);

    let mut mean = vec![0.0f64; empty.vals.len()];
    let total: f64 = w.blocks.iter().map(|b| b.executions).sum();
    if total > 0.0 {
        for b in &w.blocks {
            let r = row_of(b);
            for (m, v) in mean.iter_mut().zip(&r.vals) {
                *m += b.executions / total * *v as f64;
            }
        }
    }
    for (name, m) in empty.names.iter().zip(mean) {
        s.put(name, m);
    }
    (s.vals, s.names, n_global)
}

/// The feature vector of `f`; always [`count`] entries, all finite.
pub fn extract(f: &Func) -> Vec<f32> {
    extract_with_names(f).0
}

/// The name of every entry of [`extract`]'s vector, in order (`g.*`, `dom.*`, `mean.*`).
pub fn names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let empty = Func {
            name: String::new(),
            vars: vec![],
            buffers: vec![],
            body: vec![],
        };
        let (vals, names, n_global) = extract_with_names(&empty);
        let per_block = (vals.len() - n_global) / 2;
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i < n_global {
                    n.to_string()
                } else if i < n_global + per_block {
                    format!("dom.{n}")
                } else {
                    format!("mean.{n}")
                }
            })
            .collect()
    })
}

/// Length of every feature vector.
pub fn count() -> usize {
    names().len()
}

/// Index of the feature called `name` (see [`names`]).
pub fn index_of(name: &str) -> Option<usize> {
    names().iter().position(|n| n == name)
}
