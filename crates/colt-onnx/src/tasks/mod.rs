//! Tasks: the graph split into fused groups (module `fuse`), each a colt [`Program`]
//! (module `program`), identical programs deduplicated into one [`Kernel`].

mod fuse;
mod program;

pub(crate) use program::program_for;

use crate::graph::{Graph, TensorId};
use colt_ir::{BufKind, Program};
use serde::Serialize;
use std::collections::HashMap;

/// One step of the model: a kernel applied to graph tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// The graph nodes it computes, in execution order.
    pub nodes: Vec<usize>,
    /// The tensors bound to the kernel's input buffers, in order.
    pub inputs: Vec<TensorId>,
    /// The tensor bound to its output buffer.
    pub output: TensorId,
    /// Its kernel, an index into [`Model::kernels`].
    pub kernel: usize,
}

/// A distinct task program, shared by every task that computes the same thing on the same
/// shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    /// The operators it fuses, `+`-joined (`Conv+BatchNormalization+Relu`).
    pub label: String,
    /// The program: input buffers (`X*` activations, `W*` weights), the output `Y`, temps.
    pub program: Program,
    /// How many tasks of the model run it.
    pub count: usize,
}

/// What `colt model tasks` lists about a kernel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KernelSummary {
    /// The kernel's index.
    pub kernel: usize,
    /// The operators it fuses.
    pub op: String,
    /// The program's name.
    pub name: String,
    /// Shapes of its inputs, in buffer order.
    pub inputs: Vec<Vec<i64>>,
    /// Shape of its output.
    pub output: Vec<i64>,
    /// Floating-point operations of one run.
    pub flops: u64,
    /// How many tasks of the model run it.
    pub count: usize,
}

/// A model split into tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The imported graph.
    pub graph: Graph,
    /// The tasks in execution order.
    pub tasks: Vec<Task>,
    /// The distinct kernels, in order of first use.
    pub kernels: Vec<Kernel>,
}

impl Model {
    /// Split `graph` into fused tasks and deduplicate their programs, laid out for no target
    /// in particular ([`colt_ir::DEFAULT_LANES`]; see [`Model::for_lanes`]).
    pub fn new(graph: Graph) -> Model {
        Model::for_lanes(graph, colt_ir::DEFAULT_LANES)
    }

    /// [`Model::new`] with the kernels laid out for vector registers of `lanes` f32 values
    /// ([`colt_ir::layout_rewrites`]).
    pub fn for_lanes(graph: Graph, lanes: i64) -> Model {
        let mut tasks = vec![];
        let mut kernels: Vec<Kernel> = vec![];
        let mut index: HashMap<String, usize> = HashMap::new();
        for group in fuse::groups(&graph) {
            let label = label(&graph, &group);
            let nodes: Vec<&crate::graph::Node> = group.iter().map(|&n| &graph.nodes[n]).collect();
            let tp = program_for(&graph, &nodes, &program_name(&label), lanes);
            // the same computation under another name (label) is the same kernel
            let mut unnamed = tp.program.clone();
            unnamed.name.clear();
            let key = serde_json::to_string(&unnamed).expect("a program serialises");
            let kernel = *index.entry(key).or_insert_with(|| {
                kernels.push(Kernel {
                    label,
                    program: tp.program,
                    count: 0,
                });
                kernels.len() - 1
            });
            kernels[kernel].count += 1;
            tasks.push(Task {
                nodes: group,
                inputs: tp.inputs,
                output: tp.output,
                kernel,
            });
        }
        Model {
            graph,
            tasks,
            kernels,
        }
    }

    /// One summary per kernel.
    pub fn summaries(&self) -> Vec<KernelSummary> {
        self.kernels
            .iter()
            .enumerate()
            .map(|(i, k)| KernelSummary {
                kernel: i,
                op: k.label.clone(),
                name: k.program.name.clone(),
                inputs: buffers(&k.program, BufKind::Input),
                output: buffers(&k.program, BufKind::Output).concat(),
                flops: k.program.flops(),
                count: k.count,
            })
            .collect()
    }
}

fn buffers(p: &Program, kind: BufKind) -> Vec<Vec<i64>> {
    p.buffers
        .iter()
        .filter(|b| b.kind == kind)
        .map(|b| b.shape.clone())
        .collect()
}

/// The ONNX operators of a group, one per ONNX node, `+`-joined.
fn label(g: &Graph, group: &[usize]) -> String {
    let mut parts: Vec<(&str, &str)> = vec![];
    for &n in group {
        let node = &g.nodes[n];
        if parts.last() != Some(&(node.name.as_str(), node.op_type.as_str())) {
            parts.push((&node.name, &node.op_type));
        }
    }
    parts.iter().map(|p| p.1).collect::<Vec<_>>().join("+")
}

/// A C identifier from a label: `Conv+Relu` → `conv_relu`.
fn program_name(label: &str) -> String {
    let s: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("t_{s}")
}
