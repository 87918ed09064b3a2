//! The imported graph: static-shape tensors (constants carry their data) and nodes whose
//! operators are colt-level [`Op`]s, in a topological order.

use crate::ops::Op;
use serde::Serialize;

/// A tensor of the graph; an index into [`Graph::tensors`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TensorId(pub usize);

/// The data of a constant tensor (initializer, `Constant` node or folded subgraph).
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// float32 values, row-major.
    F32(Vec<f32>),
    /// Integer values (int64 and int32 tensors), row-major: shapes, axes, indices.
    I64(Vec<i64>),
}

/// A tensor: its ONNX name, static shape and, for a constant, its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The ONNX name.
    pub name: String,
    /// The ONNX shape (`[]` for a scalar, which a task's program holds as `[1]`).
    pub shape: Vec<i64>,
    /// The values of a constant, `None` for an activation.
    pub data: Option<Data>,
}

impl Tensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product::<i64>() as usize
    }
    /// True when some dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The float32 data of a float constant.
    pub fn f32_data(&self) -> Option<&[f32]> {
        match &self.data {
            Some(Data::F32(v)) => Some(v),
            _ => None,
        }
    }
}

/// One operator application: `output = op(inputs)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The ONNX node's name (its first output's name when it has none). An ONNX node that
    /// imports as several nodes (Gemm: product, then bias) gives each the same name.
    pub name: String,
    /// The ONNX operator type (`Conv`, `MatMul`, ...).
    pub op_type: String,
    /// The operands, in the order the operator reads them (`BufId(i)` in an
    /// [`Op::Elementwise`] value is `inputs[i]`).
    pub inputs: Vec<TensorId>,
    /// The result.
    pub output: TensorId,
    /// What it computes.
    pub op: Op,
}

/// An imported float32 inference graph with static shapes.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// The graph's name.
    pub name: String,
    /// Every tensor: inputs, constants, intermediates, outputs.
    pub tensors: Vec<Tensor>,
    /// The graph inputs the caller provides (initializers excluded), in ONNX order.
    pub inputs: Vec<TensorId>,
    /// The graph outputs, in ONNX order.
    pub outputs: Vec<TensorId>,
    /// The nodes in execution order.
    pub nodes: Vec<Node>,
}

impl Graph {
    /// The tensor `t`.
    pub fn tensor(&self, t: TensorId) -> &Tensor {
        &self.tensors[t.0]
    }
    /// The node that computes `t`, if any.
    pub fn producer(&self, t: TensorId) -> Option<usize> {
        self.nodes.iter().position(|n| n.output == t)
    }
    /// The nodes that read `t` (one entry per node, however often it reads it).
    pub fn consumers(&self, t: TensorId) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| self.nodes[n].inputs.contains(&t))
            .collect()
    }
    /// For every tensor, the node computing it and the nodes reading it (each once): the
    /// adjacency of [`Graph::producer`] and [`Graph::consumers`] for all tensors at once.
    pub fn adjacency(&self) -> (Vec<Option<usize>>, Vec<Vec<usize>>) {
        let mut producer = vec![None; self.tensors.len()];
        let mut readers: Vec<Vec<usize>> = vec![vec![]; self.tensors.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            producer[n.output.0] = Some(i);
            for t in &n.inputs {
                if readers[t.0].last() != Some(&i) {
                    readers[t.0].push(i);
                }
            }
        }
        (producer, readers)
    }
    /// The tensor named `name`.
    pub fn find(&self, name: &str) -> Option<TensorId> {
        self.tensors
            .iter()
            .position(|t| t.name == name)
            .map(TensorId)
    }
}
