//! Constants: the Constant, Shape and Cast operators, evaluation of nodes whose inputs are
//! all constant (with colt's interpreter), and removal of nodes no output needs.

use super::{Cx, Importer, tensor_data};
use crate::error::Result;
use crate::graph::{Data, Graph, Node, TensorId};
use crate::proto::tensor_proto::DataType;

/// Import Constant, Shape or Cast.
pub(super) fn import(im: &mut Importer, cx: &Cx, op: &str) -> Result<TensorId> {
    match op {
        "Constant" => {
            let (shape, data) = constant_value(cx)?;
            Ok(im.constant(&cx.name, shape, data))
        }
        "Shape" => {
            let s = im.shape(im.input(cx, 0)?);
            let r = s.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (lo, hi) = (
                clamp(cx.attrs.int("start", 0)),
                clamp(cx.attrs.int("end", r)),
            );
            let dims = s[lo..hi.max(lo)].to_vec();
            Ok(im.constant(&cx.name, vec![dims.len() as i64], Data::I64(dims)))
        }
        _ => cast(im, cx),
    }
}

/// The value of a Constant node: `value` (a tensor) or one of the scalar and list forms.
fn constant_value(cx: &Cx) -> Result<(Vec<i64>, Data)> {
    if let Some(t) = cx.attrs.tensor("value") {
        return Ok((t.dims.clone(), tensor_data(t).map_err(|e| cx.err(e))?));
    }
    let a = &cx.attrs;
    if let Some(v) = a.floats("value_floats") {
        return Ok((vec![v.len() as i64], Data::F32(v)));
    }
    if let Some(v) = a.ints("value_ints") {
        return Ok((vec![v.len() as i64], Data::I64(v)));
    }
    let names: Vec<&str> = cx.node.attribute.iter().map(|x| x.name()).collect();
    match names.first().copied() {
        Some("value_float") => Ok((vec![], Data::F32(vec![a.float("value_float", 0.0)]))),
        Some("value_int") => Ok((vec![], Data::I64(vec![a.int("value_int", 0)]))),
        other => Err(cx.err(format!("constant attribute {other:?} is not supported"))),
    }
}

/// Cast of a constant to float or integer; of an activation, only float to float.
fn cast(im: &mut Importer, cx: &Cx) -> Result<TensorId> {
    let x = im.input(cx, 0)?;
    let to = cx.attrs.int("to", 0) as i32;
    let t = im.g.tensor(x).clone();
    let float = to == DataType::Float as i32;
    let int = to == DataType::Int64 as i32 || to == DataType::Int32 as i32;
    let data = match (&t.data, float, int) {
        (Some(Data::F32(v)), true, _) => Data::F32(v.clone()),
        (Some(Data::I64(v)), true, _) => Data::F32(v.iter().map(|&i| i as f32).collect()),
        (Some(Data::F32(v)), _, true) => Data::I64(v.iter().map(|&f| f as i64).collect()),
        (Some(Data::I64(v)), _, true) => Data::I64(v.clone()),
        (None, true, _) => return super::elementwise::map(im, cx, &[x], |v| v[0].clone()),
        _ => {
            return Err(cx.err(format!(
                "cast to element type {to} (colt-onnx computes in float32)"
            )));
        }
    };
    Ok(im.constant(&cx.name, t.shape, data))
}

/// Evaluate `node`, whose inputs are all constants, with colt's interpreter. A node whose
/// inputs are all integers (shape arithmetic) gives integers (Div truncates).
pub(super) fn fold(g: &Graph, node: &Node) -> Result<Data, String> {
    let all_int = !node.inputs.is_empty()
        && node
            .inputs
            .iter()
            .all(|&t| matches!(g.tensor(t).data, Some(Data::I64(_))));
    let mut bufs = vec![];
    for &t in &node.inputs {
        bufs.push(match &g.tensor(t).data {
            Some(Data::F32(v)) => v.clone(),
            Some(Data::I64(v)) if v.iter().all(|x| x.abs() < 1 << 24) => {
                v.iter().map(|&x| x as f32).collect()
            }
            _ => {
                return Err(format!(
                    "constant `{}` cannot be folded exactly",
                    g.tensor(t).name
                ));
            }
        });
    }
    let task = crate::tasks::program_for(g, &[node], "fold", colt_ir::DEFAULT_LANES);
    let out = crate::run::interpret_program(&task.program, bufs);
    Ok(match all_int {
        true if node.op_type == "Div" => Data::I64(out.iter().map(|&x| x.trunc() as i64).collect()),
        true => Data::I64(out.iter().map(|&x| x as i64).collect()),
        false => Data::F32(out),
    })
}

/// Remove the nodes whose results no graph output needs.
pub(super) fn drop_dead_nodes(g: &mut Graph) {
    let mut live: Vec<bool> = vec![false; g.tensors.len()];
    for &t in &g.outputs {
        live[t.0] = true;
    }
    let mut keep = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate().rev() {
        if live[n.output.0] {
            keep[i] = true;
            for &t in &n.inputs {
                live[t.0] = true;
            }
        }
    }
    let mut k = keep.into_iter();
    g.nodes.retain(|_| k.next().unwrap_or(false));
}
