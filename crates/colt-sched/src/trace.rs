//! Traces: a schedule as data. An ordered list of primitive instructions whose numeric fields
//! are the decisions (tile factors, unroll step, parallel depth, compute location). Replaying a
//! trace on the workload's program is deterministic. Serialised as versioned JSON.

use crate::error::{ErrorKind, Result, ScheduleError};
use serde::{Deserialize, Serialize};

/// The trace format version written and accepted.
pub const TRACE_VERSION: u32 = 1;

/// One schedule primitive with its decisions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "inst", rename_all = "snake_case")]
pub enum Inst {
    /// Split `loop` into `factors.len()` nested loops, outermost first (a perfect tiling).
    Split(LoopFactors),
    /// Put the named loops in this order, in the positions they occupy.
    Reorder {
        /// The stage scheduled.
        stage: String,
        /// The loops, in their new order.
        order: Vec<String>,
    },
    /// Fuse adjacent loops (outermost first) into one.
    Fuse {
        /// The stage scheduled.
        stage: String,
        /// The loops fused, outermost first.
        loops: Vec<String>,
    },
    /// Fuse the outermost `n` loops and run the result in parallel (OpenMP).
    ParallelOuter {
        /// The stage scheduled.
        stage: String,
        /// How many outermost loops are fused.
        n: usize,
    },
    /// Run one loop in parallel (OpenMP).
    Parallel(StageLoop),
    /// Map one loop to SIMD lanes.
    Vectorize(StageLoop),
    /// Fully unroll one loop.
    Unroll(StageLoop),
    /// Unroll the innermost loops whose extents multiply to at most `max_step` (0, 16, 64, 512).
    AutoUnroll {
        /// The stage scheduled.
        stage: String,
        /// The largest product of unrolled extents.
        max_step: i64,
    },
    /// Compute `stage` inside loop `loop` of its only consumer, over the region it needs.
    ComputeAt {
        /// The producer stage moved.
        stage: String,
        /// Its consumer.
        consumer: String,
        /// The consumer's loop it goes inside.
        #[serde(rename = "loop")]
        loop_: String,
    },
    /// Run `stage` inside the outermost loop of stage `with` (Halide's `compute_with`): the two
    /// outermost loops, of equal extent, become one, and in each of its iterations `with` and
    /// the stages already computed with it run first, then `stage`. Legal when every read of
    /// an output of the group inside the group stays within what the same iteration wrote
    /// (checked when lowering); temporaries read only inside the group then shrink to one
    /// iteration's slice, local to it (e.g. the scores of one attention head).
    ComputeWith {
        /// The stage moved into the shared loop.
        stage: String,
        /// The first stage of the group (the owner of the shared loop).
        with: String,
    },
    /// Substitute an elementwise stage into its consumers.
    ComputeInline {
        /// The stage inlined.
        stage: String,
    },
    /// Accumulate the tile covered by the loops inside `loop` in a local buffer, then write back.
    CacheWrite(StageLoop),
    /// Copy input `buffer` into a packed layout for `stage`: dimension `dim` split by `factor`,
    /// outer part first, inner part last (e.g. B[K, N] -> B_p[N/f, K, f]).
    Pack {
        /// The stage that reads the packed copy.
        stage: String,
        /// The input buffer packed.
        buffer: String,
        /// The dimension split.
        dim: usize,
        /// The inner extent of the split.
        factor: i64,
        /// Where the copy starts along `dim` when not at 0: it then holds `[from, extent)`
        /// only, for a stage that reads nothing before (a partition's tail that starts early,
        /// whose whole vectors would otherwise straddle two blocks of the stage's copy).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<i64>,
    },
    /// Split the iteration domain of a reduction stage at `at` along spatial loop `loop`:
    /// the stage keeps `[0, at)` and a new stage (the tail, named `{stage}_t`) computes
    /// `[at, extent)` into the same output, each then scheduled on its own. A register tile of
    /// 6 rows on a 1024-row loop: partition at 1020, tile the 4-row tail alike. With `from`
    /// (at most `at`) the tail starts there instead and computes `[from, at)` again, to the
    /// same values: a 14-wide row as two whole 8-lane vectors, `[0, 8)` and `[6, 14)`.
    Partition {
        /// The stage partitioned.
        stage: String,
        /// The spatial loop split.
        #[serde(rename = "loop")]
        loop_: String,
        /// Iterations the stage keeps; the tail takes the rest.
        at: i64,
        /// Where the tail starts, when before `at` (it then overlaps the stage).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<i64>,
    },
}

/// A stage and one of its loops: the operands of [`Inst::Parallel`], [`Inst::Vectorize`],
/// [`Inst::Unroll`] and [`Inst::CacheWrite`], and of the actions
/// [`Action::ComputeLocation`](crate::Action::ComputeLocation) and
/// [`Action::CacheWrite`](crate::Action::CacheWrite) (where `loop` may also be a keyword such
/// as `root` or `none`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StageLoop {
    /// The stage.
    pub stage: String,
    /// The loop.
    #[serde(rename = "loop")]
    pub loop_: String,
}

/// A loop of a stage and its factors, outermost first: the operands of [`Inst::Split`] (the
/// extents of the new loops, whose product is the loop's extent) and of the action
/// [`Action::Tile`](crate::Action::Tile) (tile factors, possibly fewer than the levels).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LoopFactors {
    /// The stage.
    pub stage: String,
    /// The loop.
    #[serde(rename = "loop")]
    pub loop_: String,
    /// The factors, outermost first.
    pub factors: Vec<i64>,
}

impl Inst {
    /// The stage the instruction applies to.
    pub fn stage(&self) -> &str {
        match self {
            Inst::Split(LoopFactors { stage, .. })
            | Inst::Reorder { stage, .. }
            | Inst::Fuse { stage, .. }
            | Inst::ParallelOuter { stage, .. }
            | Inst::Parallel(StageLoop { stage, .. })
            | Inst::Vectorize(StageLoop { stage, .. })
            | Inst::Unroll(StageLoop { stage, .. })
            | Inst::AutoUnroll { stage, .. }
            | Inst::ComputeAt { stage, .. }
            | Inst::ComputeInline { stage }
            | Inst::ComputeWith { stage, .. }
            | Inst::CacheWrite(StageLoop { stage, .. })
            | Inst::Pack { stage, .. }
            | Inst::Partition { stage, .. } => stage,
        }
    }

    /// Short text form, used in errors and prompts: `split(C, i, [4, 16])`.
    pub fn text(&self) -> String {
        let list = |v: &[String]| v.join(", ");
        match self {
            Inst::Split(LoopFactors {
                stage,
                loop_,
                factors,
            }) => format!("split({stage}, {loop_}, {factors:?})"),
            Inst::Reorder { stage, order } => format!("reorder({stage}, [{}])", list(order)),
            Inst::Fuse { stage, loops } => format!("fuse({stage}, [{}])", list(loops)),
            Inst::ParallelOuter { stage, n } => format!("parallel_outer({stage}, {n})"),
            Inst::Parallel(StageLoop { stage, loop_ }) => format!("parallel({stage}, {loop_})"),
            Inst::Vectorize(StageLoop { stage, loop_ }) => format!("vectorize({stage}, {loop_})"),
            Inst::Unroll(StageLoop { stage, loop_ }) => format!("unroll({stage}, {loop_})"),
            Inst::AutoUnroll { stage, max_step } => format!("auto_unroll({stage}, {max_step})"),
            Inst::ComputeAt {
                stage,
                consumer,
                loop_,
            } => format!("compute_at({stage}, {consumer}, {loop_})"),
            Inst::ComputeInline { stage } => format!("compute_inline({stage})"),
            Inst::ComputeWith { stage, with } => format!("compute_with({stage}, {with})"),
            Inst::CacheWrite(StageLoop { stage, loop_ }) => {
                format!("cache_write({stage}, {loop_})")
            }
            Inst::Pack {
                stage,
                buffer,
                dim,
                factor,
                from,
            } => {
                let from = from_text("from", *from);
                format!("pack({stage}, {buffer}, {dim}, {factor}{from})")
            }
            Inst::Partition {
                stage,
                loop_,
                at,
                from,
            } => {
                let from = from_text("tail from", *from);
                format!("partition({stage}, {loop_}, {at}{from})")
            }
        }
    }
}

/// A schedule for one workload.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Trace {
    /// Format version ([`TRACE_VERSION`]).
    pub version: u32,
    /// The workload the trace schedules.
    pub workload: String,
    /// The instructions, in order of application.
    pub insts: Vec<Inst>,
}

impl Trace {
    /// An empty trace of the current version.
    pub fn new(workload: impl Into<String>) -> Trace {
        Trace {
            version: TRACE_VERSION,
            workload: workload.into(),
            insts: vec![],
        }
    }
    /// A hand-written register-tiled schedule of `colt_ops::matmul(n, n, n)` (stage `matmul`,
    /// loops `i`, `j`, `k`): `B` packed by `nr` columns, an `mr x nr` tile of `C` accumulated
    /// in a write cache over the whole `k` loop, tile rows unrolled, tile columns vectorised,
    /// column tiles in parallel, the packing loop parallel and vectorised. A known-good
    /// reference for tests, examples and performance work; `n` must be a multiple of both.
    pub fn tiled_matmul(n: i64, mr: i64, nr: i64) -> Trace {
        let s = |x: &str| x.to_string();
        let (st, i, j) = (s("matmul"), s("i"), s("j"));
        let order = ["j0", "i0", "k", "i1", "j1"].map(s).to_vec();
        let mut t = Trace::new("matmul");
        t.insts = vec![
            Inst::Pack {
                stage: st.clone(),
                buffer: s("B"),
                dim: 1,
                factor: nr,
                from: None,
            },
            Inst::Split(LoopFactors {
                stage: st.clone(),
                loop_: i,
                factors: vec![n / mr, mr],
            }),
            Inst::Split(LoopFactors {
                stage: st.clone(),
                loop_: j,
                factors: vec![n / nr, nr],
            }),
            Inst::Reorder {
                stage: st.clone(),
                order,
            },
            Inst::Parallel(StageLoop {
                stage: st.clone(),
                loop_: s("j0"),
            }),
            Inst::Vectorize(StageLoop {
                stage: st.clone(),
                loop_: s("j1"),
            }),
            Inst::Unroll(StageLoop {
                stage: st.clone(),
                loop_: s("i1"),
            }),
            Inst::CacheWrite(StageLoop {
                stage: st,
                loop_: s("i0"),
            }),
            Inst::Parallel(StageLoop {
                stage: s("pack_B"),
                loop_: s("o"),
            }),
            Inst::Vectorize(StageLoop {
                stage: s("pack_B"),
                loop_: s("v"),
            }),
        ];
        t
    }
    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("traces serialise")
    }
    /// Parse a trace; errors are one line.
    pub fn from_json(text: &str) -> Result<Trace> {
        let t: Trace = serde_json::from_str(text).map_err(|e| {
            ScheduleError::new(
                ErrorKind::WrongTrace,
                "trace",
                format!("not a valid trace: {e}"),
            )
        })?;
        if t.version != TRACE_VERSION {
            return Err(ScheduleError::new(
                ErrorKind::WrongTrace,
                "trace",
                format!(
                    "version {} is not supported (this colt reads version {TRACE_VERSION})",
                    t.version
                ),
            ));
        }
        Ok(t)
    }
    /// One instruction per line.
    pub fn text(&self) -> String {
        self.insts
            .iter()
            .map(|i| i.text())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `, {label} {from}` for an instruction's optional start, nothing without one.
fn from_text(label: &str, from: Option<i64>) -> String {
    from.map_or(String::new(), |f| format!(", {label} {f}"))
}
