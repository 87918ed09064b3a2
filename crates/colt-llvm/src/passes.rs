//! The pass vocabulary: real new-pass-manager passes, each tagged with the optimization
//! type it belongs to (the five of the paper plus cleanup, memory and control flow), and
//! how a sequence of them becomes an `opt -passes=` pipeline.
//!
//! A pass runs at one level: module, CGSCC, function or loop. A sequence is turned into a
//! pipeline by wrapping runs of consecutive passes of the same level in their adaptor:
//! function passes in `function(...)`, loop passes in `function(loop-mssa(...))` or
//! `function(loop(...))` (see [`MSSA_SAFE`]; the adaptor brings loops into simplified LCSSA
//! form itself), CGSCC passes in
//! `cgscc(...)`. The pipeline string is exactly what is run and what is exported.
//!
//! Not every LLVM release knows every pass (or at the same level): [`validate`] asks the
//! `opt` in use about each one and drops (and records) those it rejects.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::error::{LlvmError, first_line};

/// The optimization types of the paper plus the supporting families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptType {
    /// Loop unrolling and loop restructuring.
    LoopUnrolling,
    /// Removing dead code.
    DeadCodeElimination,
    /// Inlining calls.
    FunctionInlining,
    /// Loop and SLP vectorization.
    Vectorization,
    /// Constant folding and propagation.
    ConstantPropagation,
    /// Instruction combining, CSE and value numbering.
    Cleanup,
    /// Memory: allocas to registers, stores, copies, hoisting.
    Memory,
    /// CFG simplification and branch transformations.
    ControlFlow,
    /// A standard pipeline (`default<O3>`, `default<Oz>`, ...) as one step: every search
    /// starts from the objective's standard pipelines and may extend or replace them.
    Pipeline,
}

impl OptType {
    /// Every optimization type, in table order.
    pub const ALL: [OptType; 9] = [
        OptType::LoopUnrolling,
        OptType::DeadCodeElimination,
        OptType::FunctionInlining,
        OptType::Vectorization,
        OptType::ConstantPropagation,
        OptType::Cleanup,
        OptType::Memory,
        OptType::ControlFlow,
        OptType::Pipeline,
    ];

    /// Readable name (`loop unrolling`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            OptType::LoopUnrolling => "loop unrolling",
            OptType::DeadCodeElimination => "dead-code elimination",
            OptType::FunctionInlining => "function inlining",
            OptType::Vectorization => "vectorization",
            OptType::ConstantPropagation => "constant propagation",
            OptType::Cleanup => "cleanup",
            OptType::Memory => "memory",
            OptType::ControlFlow => "control flow",
            OptType::Pipeline => "standard pipeline",
        }
    }

    /// Position in [`OptType::ALL`].
    pub fn index(self) -> usize {
        OptType::ALL
            .iter()
            .position(|t| *t == self)
            .expect("listed")
    }
}

impl std::fmt::Display for OptType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a pass runs, i.e. which adaptor wraps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A module pass.
    Module,
    /// A call-graph SCC pass.
    Cgscc,
    /// A function pass.
    Function,
    /// A loop pass.
    Loop,
}

/// One pass of the vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassInfo {
    /// The name used in states and actions.
    pub name: String,
    /// The element written into the pipeline (usually the name; may carry parameters).
    pub element: String,
    /// Where the pass runs.
    pub level: Level,
    /// The optimization type it belongs to.
    pub opt_type: OptType,
    /// One line for prompts and `colt show`.
    pub doc: String,
}

use Level::*;
use OptType::*;

/// (name, pipeline element, level, type, doc) of every pass offered.
const PASSES: &[(&str, &str, Level, OptType, &str)] = &[
    // the standard pipelines, as single steps
    (
        "default<O3>",
        "default<O3>",
        Module,
        Pipeline,
        "the whole standard -O3 pipeline (what clang -O3 runs)",
    ),
    (
        "default<O2>",
        "default<O2>",
        Module,
        Pipeline,
        "the whole standard -O2 pipeline",
    ),
    (
        "default<O1>",
        "default<O1>",
        Module,
        Pipeline,
        "the whole standard -O1 pipeline",
    ),
    (
        "default<Os>",
        "default<Os>",
        Module,
        Pipeline,
        "the whole standard -Os pipeline",
    ),
    (
        "default<Oz>",
        "default<Oz>",
        Module,
        Pipeline,
        "the whole standard -Oz pipeline (what clang -Oz runs)",
    ),
    // memory
    (
        "sroa",
        "sroa",
        Function,
        Memory,
        "scalar replacement of aggregates: split allocas and promote them to SSA values",
    ),
    (
        "mem2reg",
        "mem2reg",
        Function,
        Memory,
        "promote allocas with only loads and stores to SSA registers",
    ),
    (
        "memcpyopt",
        "memcpyopt",
        Function,
        Memory,
        "merge stores into memset/memcpy and forward or remove copies",
    ),
    (
        "dse",
        "dse",
        Function,
        Memory,
        "dead store elimination (stores overwritten or never read)",
    ),
    (
        "licm",
        "licm",
        Loop,
        Memory,
        "loop-invariant code motion: hoist invariant code, promote memory in loops to registers",
    ),
    (
        "loop-idiom",
        "loop-idiom",
        Loop,
        Memory,
        "recognise loops that are memset/memcpy idioms and replace them by the call",
    ),
    (
        "mldst-motion",
        "mldst-motion",
        Function,
        Memory,
        "merge and sink loads/stores of both arms of a diamond",
    ),
    (
        "argpromotion",
        "argpromotion",
        Cgscc,
        Memory,
        "pass pointer arguments that are only read by value",
    ),
    // cleanup
    (
        "instcombine",
        "instcombine",
        Function,
        Cleanup,
        "combine and simplify instructions (peephole algebra)",
    ),
    (
        "instsimplify",
        "instsimplify",
        Function,
        Cleanup,
        "fold instructions to simpler existing values, no new instructions",
    ),
    (
        "aggressive-instcombine",
        "aggressive-instcombine",
        Function,
        Cleanup,
        "expensive pattern combines (truncation narrowing, popcount idioms)",
    ),
    (
        "early-cse",
        "early-cse",
        Function,
        Cleanup,
        "fast dominator-tree common subexpression elimination",
    ),
    (
        "early-cse-memssa",
        "early-cse<memssa>",
        Function,
        Cleanup,
        "early CSE using MemorySSA (also removes redundant loads)",
    ),
    (
        "gvn",
        "gvn",
        Function,
        Cleanup,
        "global value numbering: remove redundant computations and loads (with PRE)",
    ),
    (
        "newgvn",
        "newgvn",
        Function,
        Cleanup,
        "the newer value numbering algorithm (complete for some cycles)",
    ),
    (
        "reassociate",
        "reassociate",
        Function,
        Cleanup,
        "reorder commutative expressions to expose constant folding and CSE",
    ),
    (
        "loop-instsimplify",
        "loop-instsimplify",
        Loop,
        Cleanup,
        "instruction simplification inside loops",
    ),
    (
        "div-rem-pairs",
        "div-rem-pairs",
        Function,
        Cleanup,
        "compute remainder from a division of the same operands",
    ),
    (
        "float2int",
        "float2int",
        Function,
        Cleanup,
        "demote floating-point arithmetic that fits to integers",
    ),
    // control flow
    (
        "simplifycfg",
        "simplifycfg",
        Function,
        ControlFlow,
        "merge and remove blocks, fold branches into selects",
    ),
    (
        "simplifycfg-lookup",
        "simplifycfg<switch-to-lookup;keep-loops;hoist-common-insts;sink-common-insts>",
        Function,
        ControlFlow,
        "late CFG simplification: switches to lookup tables, hoist/sink common instructions",
    ),
    (
        "jump-threading",
        "jump-threading",
        Function,
        ControlFlow,
        "thread branches whose outcome is known on some incoming edges",
    ),
    (
        "tailcallelim",
        "tailcallelim",
        Function,
        ControlFlow,
        "turn self tail calls into loops",
    ),
    (
        "simple-loop-unswitch",
        "simple-loop-unswitch",
        Loop,
        ControlFlow,
        "move loop-invariant conditions out of loops (trivial unswitching)",
    ),
    (
        "loop-simplifycfg",
        "loop-simplifycfg",
        Loop,
        ControlFlow,
        "simplify the control flow inside loops",
    ),
    (
        "speculative-execution",
        "speculative-execution",
        Function,
        ControlFlow,
        "hoist cheap instructions from conditional blocks",
    ),
    (
        "callsite-splitting",
        "callsite-splitting",
        Function,
        ControlFlow,
        "split call sites whose arguments are constant on some predecessors",
    ),
    (
        "sink",
        "sink",
        Function,
        ControlFlow,
        "sink instructions into the successor that uses them",
    ),
    // constant propagation
    (
        "sccp",
        "sccp",
        Function,
        ConstantPropagation,
        "sparse conditional constant propagation in a function",
    ),
    (
        "ipsccp",
        "ipsccp",
        Module,
        ConstantPropagation,
        "interprocedural sparse conditional constant propagation",
    ),
    (
        "correlated-propagation",
        "correlated-propagation",
        Function,
        ConstantPropagation,
        "propagate value ranges from conditions (fold compares, narrow ops)",
    ),
    (
        "globalopt",
        "globalopt",
        Module,
        ConstantPropagation,
        "optimise globals: constant-fold never-written globals, localise, shrink",
    ),
    (
        "called-value-propagation",
        "called-value-propagation",
        Module,
        ConstantPropagation,
        "attach possible callees to indirect calls",
    ),
    (
        "constmerge",
        "constmerge",
        Module,
        ConstantPropagation,
        "merge duplicate global constants",
    ),
    // dead-code elimination
    (
        "dce",
        "dce",
        Function,
        DeadCodeElimination,
        "remove trivially dead instructions (iteratively)",
    ),
    (
        "adce",
        "adce",
        Function,
        DeadCodeElimination,
        "aggressive DCE: assume dead until proven live (also dead control flow)",
    ),
    (
        "bdce",
        "bdce",
        Function,
        DeadCodeElimination,
        "bit-tracking DCE: remove computations of bits never used",
    ),
    (
        "loop-deletion",
        "loop-deletion",
        Loop,
        DeadCodeElimination,
        "delete loops without side effects whose results are unused",
    ),
    (
        "globaldce",
        "globaldce",
        Module,
        DeadCodeElimination,
        "delete unreachable internal functions and globals",
    ),
    (
        "deadargelim",
        "deadargelim",
        Module,
        DeadCodeElimination,
        "delete dead arguments and return values of internal functions",
    ),
    (
        "strip-dead-prototypes",
        "strip-dead-prototypes",
        Module,
        DeadCodeElimination,
        "delete unused function declarations",
    ),
    (
        "mergefunc",
        "mergefunc",
        Module,
        DeadCodeElimination,
        "merge identical functions",
    ),
    // function inlining
    (
        "inline",
        "inline",
        Cgscc,
        FunctionInlining,
        "inline calls by the cost model (bottom-up over the call graph)",
    ),
    (
        "always-inline",
        "always-inline",
        Module,
        FunctionInlining,
        "inline only always_inline functions",
    ),
    (
        "partial-inliner",
        "partial-inliner",
        Module,
        FunctionInlining,
        "inline the early-return part of functions",
    ),
    (
        "function-attrs",
        "function-attrs",
        Cgscc,
        FunctionInlining,
        "infer readnone/nounwind/... attributes (helps inlining and DCE)",
    ),
    // loop unrolling (and the canonical forms it needs)
    (
        "loop-rotate",
        "loop-rotate",
        Loop,
        LoopUnrolling,
        "rotate loops to do-while form (needed by most loop transforms)",
    ),
    (
        "indvars",
        "indvars",
        Loop,
        LoopUnrolling,
        "canonicalise induction variables and compute trip counts",
    ),
    (
        "loop-unroll",
        "loop-unroll",
        Function,
        LoopUnrolling,
        "unroll loops (full, partial and runtime, O2 thresholds)",
    ),
    (
        "loop-unroll-full",
        "loop-unroll-full",
        Loop,
        LoopUnrolling,
        "fully unroll loops with small constant trip counts",
    ),
    (
        "loop-unroll-and-jam",
        "loop-unroll-and-jam",
        Function,
        LoopUnrolling,
        "unroll an outer loop and fuse the inner copies",
    ),
    // vectorization
    (
        "loop-vectorize",
        "loop-vectorize",
        Function,
        Vectorization,
        "vectorise innermost loops (and interleave)",
    ),
    (
        "slp-vectorizer",
        "slp-vectorizer",
        Function,
        Vectorization,
        "combine isomorphic scalar operations into vector operations",
    ),
    (
        "vector-combine",
        "vector-combine",
        Function,
        Vectorization,
        "fold vector operations (extract/insert/shuffle)",
    ),
    (
        "loop-load-elim",
        "loop-load-elim",
        Function,
        Vectorization,
        "forward stored values across loop iterations (enables vectorisation)",
    ),
    (
        "loop-distribute",
        "loop-distribute",
        Function,
        Vectorization,
        "split loops so that parts become vectorisable",
    ),
];

/// Every pass the environment knows, before validation.
pub fn all_passes() -> Vec<PassInfo> {
    PASSES
        .iter()
        .map(|(name, element, level, t, doc)| PassInfo {
            name: name.to_string(),
            element: element.to_string(),
            level: *level,
            opt_type: *t,
            doc: doc.to_string(),
        })
        .collect()
}

/// The passes usable with one `opt`, and those it rejected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassVocab {
    /// The usable passes.
    pub passes: Vec<PassInfo>,
    /// Rejected pass name -> opt's message.
    pub rejected: BTreeMap<String, String>,
}

impl PassVocab {
    /// The vocabulary without asking any `opt` (tests of pure logic).
    pub fn unvalidated() -> PassVocab {
        PassVocab {
            passes: all_passes(),
            rejected: BTreeMap::new(),
        }
    }

    /// The pass named `name`, if usable.
    pub fn get(&self, name: &str) -> Option<&PassInfo> {
        self.passes.iter().find(|p| p.name == name)
    }

    /// Names of the usable passes, in vocabulary order.
    pub fn names(&self) -> Vec<String> {
        self.passes.iter().map(|p| p.name.clone()).collect()
    }

    /// Names of the single passes (the standard pipelines left out), in vocabulary order:
    /// what random sequences and mutations draw from.
    pub fn single_passes(&self) -> Vec<String> {
        self.passes
            .iter()
            .filter(|p| p.opt_type != OptType::Pipeline)
            .map(|p| p.name.clone())
            .collect()
    }

    /// The `opt -passes=` pipeline of a sequence (see the module doc); unknown names are an
    /// error.
    pub fn pipeline(&self, seq: &[String]) -> Result<String, LlvmError> {
        let infos: Vec<&PassInfo> = seq
            .iter()
            .map(|n| self.get(n).ok_or_else(|| LlvmError::UnknownPass(n.clone())))
            .collect::<Result<_, _>>()?;
        Ok(pipeline_of(&infos))
    }

    /// The table for `colt show --space llvm`: pass, type, level, doc (and the rejected).
    pub fn table(&self) -> String {
        let mut s = format!("{:<24} {:<22} {:<8} {}\n", "pass", "type", "level", "doc");
        for t in OptType::ALL {
            for p in self.passes.iter().filter(|p| p.opt_type == t) {
                let level = format!("{:?}", p.level).to_lowercase();
                s.push_str(&format!(
                    "{:<24} {:<22} {:<8} {}\n",
                    p.name,
                    t.as_str(),
                    level,
                    p.doc
                ));
            }
        }
        for (name, why) in &self.rejected {
            s.push_str(&format!("(rejected by this opt: {name}: {why})\n"));
        }
        s
    }
}

/// Loop passes that keep MemorySSA up to date: they share `loop-mssa(...)` (which LICM
/// needs). The others (indvars, loop-idiom, loop-deletion, loop-unroll-full) run in
/// `loop(...)`: LLVM aborts with "Loop pass manager using MemorySSA contains a pass that
/// does not preserve MemorySSA" otherwise (found on LLVM 14).
pub const MSSA_SAFE: &[&str] = &[
    "licm",
    "loop-rotate",
    "simple-loop-unswitch",
    "loop-instsimplify",
    "loop-simplifycfg",
];

/// Wrap runs of same-level passes in their adaptors.
fn pipeline_of(infos: &[&PassInfo]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < infos.len() {
        match infos[i].level {
            Module => {
                out.push(infos[i].element.clone());
                i += 1;
            }
            Cgscc => {
                let mut group = Vec::new();
                while i < infos.len() && infos[i].level == Cgscc {
                    group.push(infos[i].element.clone());
                    i += 1;
                }
                out.push(format!("cgscc({})", group.join(",")));
            }
            Function | Loop => {
                let mut group: Vec<String> = Vec::new();
                while i < infos.len() && matches!(infos[i].level, Function | Loop) {
                    if infos[i].level == Loop {
                        let safe = MSSA_SAFE.contains(&infos[i].name.as_str());
                        let mut lp = Vec::new();
                        while i < infos.len()
                            && infos[i].level == Loop
                            && MSSA_SAFE.contains(&infos[i].name.as_str()) == safe
                        {
                            lp.push(infos[i].element.clone());
                            i += 1;
                        }
                        let adaptor = if safe { "loop-mssa" } else { "loop" };
                        group.push(format!("{adaptor}({})", lp.join(",")));
                    } else {
                        group.push(infos[i].element.clone());
                        i += 1;
                    }
                }
                out.push(format!("function({})", group.join(",")));
            }
        }
    }
    out.join(",")
}

/// A module every pass can run on (one function with a loop).
const PROBE_IR: &str = "define i32 @f(i32 %n) {\nentry:\n  br label %loop\nloop:\n  %i = phi i32 [ 0, %entry ], [ %j, %loop ]\n  %j = add i32 %i, 1\n  %c = icmp slt i32 %j, %n\n  br i1 %c, label %loop, label %exit\nexit:\n  ret i32 %j\n}\n";

/// Whether `opt` accepts `pipeline` (running it on a tiny module); the error line if not.
pub fn opt_accepts(opt: &Path, pipeline: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("colt-llvm-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let input = dir.join("probe.ll");
    std::fs::write(&input, PROBE_IR).map_err(|e| e.to_string())?;
    let out = Command::new(opt)
        .arg(format!("-passes={pipeline}"))
        .arg("-disable-output")
        .arg(&input)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(first_line(&String::from_utf8_lossy(&out.stderr)))
    }
}

/// The vocabulary for `opt`: every pass is tried on a tiny module (all at once first; one by
/// one only when that fails). Results are memoised per `opt` path for the process.
pub fn validate(opt: &Path) -> PassVocab {
    static MEMO: OnceLock<Mutex<BTreeMap<std::path::PathBuf, PassVocab>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    if let Some(v) = memo.lock().expect("pass memo").get(opt) {
        return v.clone();
    }
    let all = all_passes();
    let refs: Vec<&PassInfo> = all.iter().collect();
    let vocab = if opt_accepts(opt, &pipeline_of(&refs)).is_ok() {
        PassVocab {
            passes: all,
            rejected: BTreeMap::new(),
        }
    } else {
        let mut passes = Vec::new();
        let mut rejected = BTreeMap::new();
        for p in all {
            match opt_accepts(opt, &pipeline_of(&[&p])) {
                Ok(()) => passes.push(p),
                Err(e) => {
                    rejected.insert(p.name.clone(), e);
                }
            }
        }
        PassVocab { passes, rejected }
    };
    memo.lock()
        .expect("pass memo")
        .insert(opt.to_path_buf(), vocab.clone());
    vocab
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pipeline_wraps_levels() {
        let v = PassVocab::unvalidated();
        let p = v
            .pipeline(&seq(&[
                "sroa",
                "licm",
                "loop-rotate",
                "indvars",
                "loop-unroll-full",
                "gvn",
                "inline",
                "function-attrs",
                "ipsccp",
                "simplifycfg",
            ]))
            .unwrap();
        assert_eq!(
            p,
            "function(sroa,loop-mssa(licm,loop-rotate),loop(indvars,loop-unroll-full),gvn),cgscc(inline,function-attrs),ipsccp,function(simplifycfg)"
        );
        assert_eq!(v.pipeline(&[]).unwrap(), "");
        assert!(matches!(
            v.pipeline(&seq(&["nonsense"])),
            Err(LlvmError::UnknownPass(_))
        ));
    }

    #[test]
    fn vocabulary_covers_the_required_passes_and_types() {
        let v = PassVocab::unvalidated();
        for p in [
            "sroa",
            "mem2reg",
            "instcombine",
            "simplifycfg",
            "early-cse",
            "gvn",
            "sccp",
            "ipsccp",
            "dce",
            "adce",
            "bdce",
            "licm",
            "loop-rotate",
            "indvars",
            "loop-unroll",
            "loop-vectorize",
            "slp-vectorizer",
            "inline",
            "always-inline",
            "jump-threading",
            "reassociate",
            "loop-idiom",
            "loop-deletion",
            "tailcallelim",
            "globalopt",
            "deadargelim",
            "mergefunc",
        ] {
            assert!(v.get(p).is_some(), "{p} missing");
        }
        for t in OptType::ALL {
            assert!(v.passes.iter().any(|p| p.opt_type == t), "{t} has no pass");
        }
        assert!(v.passes.len() >= 40);
    }
}
