//! ONNX → [`Graph`]: decoding (prost, from the vendored `onnx.proto`), the opset check,
//! static shapes (graph inputs fixed by [`ImportOptions::shapes`]), one importer per
//! operator family, and constant folding.

mod attrs;
mod bn_fold;
mod consts;
mod conv;
mod elementwise;
mod linalg;
mod ln_fold;
mod norm;
mod read;
#[cfg(test)]
mod tests;
mod views;

pub(crate) use attrs::Attrs;
pub use read::{decode, tensor_data};

use crate::error::{OnnxError, Result};
use crate::graph::{Data, Graph, Node, Tensor, TensorId};
use crate::ops::Op;
use crate::proto::{ModelProto, NodeProto};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The lowest ai.onnx opset read (numpy-style Softmax, axes of ReduceSum as an input).
pub const MIN_OPSET: i64 = 13;
/// The highest ai.onnx opset read (later versions may change operator semantics).
pub const MAX_OPSET: i64 = 25;

/// The operators colt-onnx imports, in alphabetical order.
pub const SUPPORTED: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Dropout",
    "Erf",
    "Exp",
    "Expand",
    "Flatten",
    "Gather",
    "Gelu",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "Log",
    "LogSoftmax",
    "MatMul",
    "Max",
    "MaxPool",
    "Min",
    "Mul",
    "Neg",
    "Pow",
    "Reciprocal",
    "ReduceMax",
    "ReduceMean",
    "ReduceMin",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Unsqueeze",
];

/// How to import a model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Shapes of graph inputs by name, fixing their dynamic (or overriding their static)
    /// dimensions: `--shape x=1,3,224,224`.
    pub shapes: BTreeMap<String, Vec<i64>>,
}

/// Import the ONNX model at `path`.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Graph> {
    let bytes = std::fs::read(path).map_err(crate::error::io(path))?;
    import_bytes(&bytes, &path.display().to_string(), opts)
}

/// Import an ONNX model from its bytes; `source_name` names it in errors.
pub fn import_bytes(bytes: &[u8], source_name: &str, opts: &ImportOptions) -> Result<Graph> {
    let model = decode(bytes, source_name)?;
    let opset = read::check_opsets(&model, source_name)?;
    let mut im = Importer::new(&model, source_name, opset)?;
    im.inputs(&model, opts)?;
    let graph = model.graph.as_ref().expect("checked by decode");
    for node in &graph.node {
        im.node(node)?;
    }
    im.finish(&model)
}

/// The graph under construction and the ONNX names bound so far.
pub(crate) struct Importer {
    pub(crate) g: Graph,
    names: HashMap<String, TensorId>,
    pub(crate) opset: i64,
}

/// The ONNX node being imported.
pub(crate) struct Cx<'a> {
    pub(crate) node: &'a NodeProto,
    /// Its name, or its first output's.
    pub(crate) name: String,
    pub(crate) attrs: Attrs<'a>,
}

impl Cx<'_> {
    /// An error about this node.
    pub(crate) fn err(&self, msg: impl Into<String>) -> OnnxError {
        OnnxError::Node {
            node: self.name.clone(),
            op_type: self.node.op_type().to_string(),
            msg: msg.into(),
        }
    }
}

/// The numpy broadcast of two shapes.
pub(crate) fn broadcast(a: &[i64], b: &[i64]) -> Result<Vec<i64>, String> {
    let r = a.len().max(b.len());
    let at = |s: &[i64], d: usize| {
        if d + s.len() >= r {
            s[d + s.len() - r]
        } else {
            1
        }
    };
    (0..r)
        .map(|d| match (at(a, d), at(b, d)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(format!("shapes {a:?} and {b:?} do not broadcast")),
        })
        .collect()
}

impl Importer {
    fn new(model: &ModelProto, source_name: &str, opset: i64) -> Result<Importer> {
        let graph = model.graph.as_ref().expect("checked by decode");
        let mut im = Importer {
            g: Graph {
                name: graph.name().to_string(),
                tensors: vec![],
                inputs: vec![],
                outputs: vec![],
                nodes: vec![],
            },
            names: HashMap::new(),
            opset,
        };
        for t in &graph.initializer {
            let data = tensor_data(t).map_err(|msg| OnnxError::Tensor {
                name: t.name().to_string(),
                msg: format!("{msg} (in {source_name})"),
            })?;
            im.constant(t.name(), t.dims.clone(), data);
        }
        Ok(im)
    }

    /// Add a constant tensor named `name`.
    pub(crate) fn constant(&mut self, name: &str, shape: Vec<i64>, data: Data) -> TensorId {
        let id = self.tensor(name, shape, Some(data));
        self.names.insert(name.to_string(), id);
        id
    }

    fn tensor(&mut self, name: &str, shape: Vec<i64>, data: Option<Data>) -> TensorId {
        self.g.tensors.push(Tensor {
            name: name.to_string(),
            shape,
            data,
        });
        TensorId(self.g.tensors.len() - 1)
    }

    /// The graph inputs without an initializer, with their static shapes.
    fn inputs(&mut self, model: &ModelProto, opts: &ImportOptions) -> Result<()> {
        let graph = model.graph.as_ref().expect("checked by decode");
        let mut unused: Vec<&String> = opts.shapes.keys().collect();
        for vi in &graph.input {
            if self.names.contains_key(vi.name()) {
                continue;
            }
            unused.retain(|n| n.as_str() != vi.name());
            let shape = read::input_shape(vi, opts.shapes.get(vi.name()))?;
            let id = self.tensor(vi.name(), shape, None);
            self.names.insert(vi.name().to_string(), id);
            self.g.inputs.push(id);
        }
        if let Some(name) = unused.first() {
            let names: Vec<&str> = self
                .g
                .inputs
                .iter()
                .map(|&t| self.g.tensor(t).name.as_str())
                .collect();
            return Err(OnnxError::Option(format!(
                "--shape names `{name}`, which is not a graph input (inputs: {})",
                names.join(", ")
            )));
        }
        Ok(())
    }

    /// Import one ONNX node, binding its first output's name.
    fn node(&mut self, node: &NodeProto) -> Result<()> {
        let first = node.output.first().map(String::as_str).unwrap_or("");
        let name = match node.name() {
            "" => first.to_string(),
            n => n.to_string(),
        };
        if !matches!(node.domain(), "" | "ai.onnx") {
            return Err(OnnxError::Unsupported {
                node: name,
                op_type: format!("{}::{}", node.domain(), node.op_type()),
            });
        }
        let cx = Cx {
            node,
            name,
            attrs: Attrs::new(&node.attribute),
        };
        let out = dispatch(self, &cx)?;
        self.g.tensors[out.0].name = first.to_string();
        self.names.insert(first.to_string(), out);
        Ok(())
    }

    /// The tensor bound to input `i` of the node, or an error naming it.
    pub(crate) fn input(&self, cx: &Cx, i: usize) -> Result<TensorId> {
        self.opt_input(cx, i)?
            .ok_or_else(|| cx.err(format!("input {i} is missing")))
    }

    /// The tensor bound to input `i`, `None` when the node leaves it out.
    pub(crate) fn opt_input(&self, cx: &Cx, i: usize) -> Result<Option<TensorId>> {
        match cx.node.input.get(i).map(String::as_str) {
            None | Some("") => Ok(None),
            Some(n) => self.names.get(n).copied().map(Some).ok_or_else(|| {
                cx.err(format!(
                    "input `{n}` is not a graph input, an initializer or an earlier node's output"
                ))
            }),
        }
    }

    /// The shape of `t`.
    pub(crate) fn shape(&self, t: TensorId) -> Vec<i64> {
        self.g.tensor(t).shape.clone()
    }

    /// The integer values of constant input `i` (shapes, axes, indices).
    pub(crate) fn const_i64(&self, cx: &Cx, i: usize) -> Result<Vec<i64>> {
        let t = self.input(cx, i)?;
        match &self.g.tensor(t).data {
            Some(Data::I64(v)) => Ok(v.clone()),
            Some(Data::F32(v)) => Ok(v.iter().map(|&x| x as i64).collect()),
            None => Err(cx.err(format!(
                "input {i} (`{}`) must be a constant",
                self.g.tensor(t).name
            ))),
        }
    }

    /// Add a node computing a new tensor of shape `shape`; a node whose inputs are all
    /// constants is evaluated now and its result becomes a constant.
    pub(crate) fn add(
        &mut self,
        cx: &Cx,
        op: Op,
        inputs: Vec<TensorId>,
        shape: Vec<i64>,
    ) -> Result<TensorId> {
        if shape.iter().any(|&d| d < 1) {
            return Err(cx.err(format!("result shape {shape:?} has a dimension below 1")));
        }
        let k = self.g.tensors.len();
        let out = self.tensor(&format!("{}/{k}", cx.name), shape, None);
        let node = Node {
            name: cx.name.clone(),
            op_type: cx.node.op_type().to_string(),
            inputs,
            output: out,
            op,
        };
        let all_const = node.inputs.iter().all(|&t| self.g.tensor(t).data.is_some());
        if all_const {
            let data = consts::fold(&self.g, &node).map_err(|e| cx.err(e))?;
            self.g.tensors[out.0].data = Some(data);
        } else {
            self.g.nodes.push(node);
        }
        Ok(out)
    }

    /// Bind the graph outputs and drop nodes that do not contribute to them.
    fn finish(mut self, model: &ModelProto) -> Result<Graph> {
        let graph = model.graph.as_ref().expect("checked by decode");
        for vi in &graph.output {
            let t = self
                .names
                .get(vi.name())
                .copied()
                .ok_or_else(|| OnnxError::Tensor {
                    name: vi.name().to_string(),
                    msg: "graph output is not computed by any node".into(),
                })?;
            self.g.outputs.push(t);
        }
        bn_fold::fold_batch_norms(&mut self.g);
        ln_fold::fold_layer_norms(&mut self.g);
        consts::drop_dead_nodes(&mut self.g);
        Ok(self.g)
    }
}

/// Import one node by its operator type.
fn dispatch(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let op = cx.node.op_type();
    if let Some(t) = elementwise::import(im, cx, op)? {
        return Ok(t);
    }
    match op {
        "MatMul" | "Gemm" => linalg::import(im, cx, op),
        "Conv" => conv::conv(im, cx),
        "MaxPool" | "AveragePool" => conv::pool(im, cx, op),
        "GlobalAveragePool" | "GlobalMaxPool" => conv::global_pool(im, cx, op),
        "Softmax" | "LogSoftmax" => norm::softmax(im, cx, op == "LogSoftmax"),
        "LayerNormalization" => norm::layer_norm(im, cx),
        "ReduceMean" | "ReduceSum" | "ReduceMax" | "ReduceMin" => norm::reduce(im, cx, op),
        "Transpose" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" | "Concat" | "Slice"
        | "Gather" | "Expand" => views::import(im, cx, op),
        "Constant" | "Shape" | "Cast" => consts::import(im, cx, op),
        _ => Err(OnnxError::Unsupported {
            node: cx.name.clone(),
            op_type: op.to_string(),
        }),
    }
}

/// Normalise an axis in `-rank..rank` to `0..rank`.
pub(crate) fn axis(cx: &Cx, a: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    if (-r..r).contains(&a) {
        Ok(if a < 0 { (a + r) as usize } else { a as usize })
    } else {
        Err(cx.err(format!("axis {a} is out of range for rank {rank}")))
    }
}
