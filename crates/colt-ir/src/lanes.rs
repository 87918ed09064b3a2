//! Wide lanes for narrow rows: a layout rewrite of the output of a reduction whose innermost
//! loop is narrower than a vector register of the compile target.
//!
//! A ResNet 3×3 conv at 7×7 keeps `x` (7 wide) as its innermost loop, so its vector lanes
//! run along a row: half an AVX2 register, no AVX-512 one at all (0.07 of peak). Its output
//! channels (`f`, 512) would fill any register, and the weights, the one
//! read that mentions `f`, can be packed to read contiguously along it, while the input is the
//! same for every channel (a broadcast). [`wide_lanes_for_narrow_rows`] makes that loop the
//! innermost one: the reduction writes a copy of its output with the chosen loop last
//! (`Y_t[n, y, x, f]`) and a stage `{name}_out` writes the original layout back
//! (`Y[n, f, y, x] = Y_t[n, y, x, f]`, a transpose of the output only, which the scheduler may
//! inline into the stages that read it). The register width is the target's: a 14-wide row
//! fills AVX2 registers as two overlapping 8-lane vectors (measured faster so than along the
//! channels, 1.39x) but is less than one AVX-512 register (0.47x along the channels), so a
//! program's layout depends on the lanes it is built for ([`DEFAULT_LANES`] where no target is
//! named). Nothing here names an operator or a workload.

use crate::{Access, BufId, BufKind, Buffer, Idx, IterKind, IterVar, Program, Stage, Value, VarId};

/// f32 lanes of an AVX2 register, the narrowest colt compiles for: the layout of a program
/// built for no particular target (an innermost loop narrower than this leaves lanes idle on
/// every target).
pub const DEFAULT_LANES: i64 = 8;

/// The program with every reduction whose innermost spatial loop is narrower than `lanes`
/// computing along a spatial loop that is a multiple of `lanes` instead (see the module
/// docs), where one qualifies; a clone otherwise. Applying it twice changes nothing more.
pub fn wide_lanes_for_narrow_rows(p: &Program, lanes: i64) -> Program {
    let mut out = p.clone();
    let mut c = 0;
    while c < out.stages.len() {
        if let Some(k) = wide_loop(&out, &out.stages[c], lanes) {
            transpose_output(&mut out, c, k);
            out.compact_vars();
            c += 1; // the copy back sits at `c + 1`
        }
        c += 1;
    }
    out
}

/// The position (among the spatial loops of `st`) of the loop to take the lanes from: the
/// last one whose extent is a multiple of `lanes` and that one input alone reads, indexed by it
/// alone in one dimension (which a pack then makes contiguous; every other read is then the
/// same for all lanes).
fn wide_loop(p: &Program, st: &Stage, lanes: i64) -> Option<usize> {
    st.reduce?;
    let spatial: Vec<&IterVar> = st.spatial().collect();
    let inner = spatial.last()?;
    if lanes < 2 || inner.extent >= lanes {
        return None;
    }
    let mut loads = vec![];
    st.value.loads(&mut loads);
    (0..spatial.len() - 1).rev().find(|&k| {
        let v = spatial[k].var;
        let reads: Vec<&&Access> = loads
            .iter()
            .filter(|a| a.idx.iter().any(|e| e.mentions(v)))
            .collect();
        spatial[k].extent % lanes == 0
            && reads
                .iter()
                .all(|a| packable(p, a, v) && ***a == **reads[0])
    })
}

/// Whether read `a` is of an input indexed by exactly `v` in one dimension that no other
/// dimension's index mentions: one pack then makes lanes along `v` read it contiguously.
/// (Only one input may be read along `v`: a stage packs one.)
fn packable(p: &Program, a: &Access, v: VarId) -> bool {
    let dims: Vec<&Idx> = a.idx.iter().filter(|e| e.mentions(v)).collect();
    p.buffer(a.buf).kind == BufKind::Input && dims[..] == [&Idx::Var(v)]
}

/// Make stage `c` write a copy of its output with spatial loop `k` last, and insert the stage
/// that writes the original buffer from it.
fn transpose_output(p: &mut Program, c: usize, k: usize) {
    let st = p.stages[c].clone();
    let spatial: Vec<IterVar> = st.spatial().cloned().collect();
    let mut order: Vec<usize> = (0..spatial.len()).filter(|&d| d != k).collect();
    order.push(k);
    let y = st.store.buf;
    let out = p.buffer(y).clone();
    let mut name = format!("{}_t", out.name);
    while p.buffer_by_name(&name).is_some() {
        name.push('t');
    }
    // The copy goes where a spec orders it: just before the buffer it stands in for.
    p.insert_buffer(
        y,
        Buffer {
            name,
            shape: order.iter().map(|&d| out.shape[d]).collect(),
            kind: BufKind::Temp,
        },
    );
    let (yt, y) = (y, BufId(y.0 + 1));
    let red = &mut p.stages[c];
    let mut iters: Vec<IterVar> = order.iter().map(|&d| spatial[d].clone()).collect();
    iters.extend(red.reduction().cloned());
    red.iters = iters;
    red.store = Access {
        buf: yt,
        idx: order.iter().map(|&d| Idx::Var(spatial[d].var)).collect(),
    };
    let names: Vec<String> = spatial
        .iter()
        .map(|iv| p.var_name(iv.var).to_string())
        .collect();
    let dims: Vec<(&str, i64, IterKind)> = names
        .iter()
        .zip(&spatial)
        .map(|(n, iv)| (n.as_str(), iv.extent, IterKind::Spatial))
        .collect();
    let mut stage_name = format!("{}_out", st.name);
    while p.stage_index(&stage_name).is_some() {
        stage_name.push('t');
    }
    p.add_stage_at(c + 1, stage_name, &dims, |v| {
        let idx: Vec<Idx> = order.iter().map(|&d| v[d].clone()).collect();
        (y, None, Value::load(yt, idx))
    });
}
