//! Decoding the protobuf, the opset check, tensor data and graph-input shapes.

use crate::error::{OnnxError, Result};
use crate::graph::Data;
use crate::proto::{ModelProto, TensorProto, ValueInfoProto, tensor_proto::DataType};
use prost::Message;

/// Decode `bytes` as an ONNX `ModelProto` with a graph.
pub fn decode(bytes: &[u8], source_name: &str) -> Result<ModelProto> {
    let bad = |reason: String| OnnxError::Decode {
        source_name: source_name.to_string(),
        reason,
    };
    let model = ModelProto::decode(bytes).map_err(|e| bad(format!("protobuf: {e}")))?;
    if model.graph.is_none() {
        return Err(bad("it has no graph".into()));
    }
    if model.ir_version.unwrap_or(0) < 3 {
        return Err(bad(format!(
            "IR version {} (no model writer since ONNX 1.1 writes below 3)",
            model.ir_version.unwrap_or(0)
        )));
    }
    Ok(model)
}

/// The ai.onnx opset version the model imports, checked against the supported range.
pub(crate) fn check_opsets(model: &ModelProto, source_name: &str) -> Result<i64> {
    let default = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain(), "" | "ai.onnx"));
    let version = default.map(|o| o.version()).unwrap_or(0);
    if !(super::MIN_OPSET..=super::MAX_OPSET).contains(&version) {
        return Err(OnnxError::Opset {
            source_name: source_name.to_string(),
            domain: "ai.onnx".into(),
            version,
        });
    }
    Ok(version)
}

/// The values of a tensor: float32 as [`Data::F32`], int64/int32 as [`Data::I64`].
pub fn tensor_data(t: &TensorProto) -> Result<Data, String> {
    if t.data_location.unwrap_or(0) == 1 {
        return Err(
            "external data is not supported (save the model with its weights inside)".into(),
        );
    }
    let n = t.dims.iter().product::<i64>() as usize;
    let raw = t.raw_data.as_deref();
    let data = match DataType::try_from(t.data_type.unwrap_or(0)) {
        Ok(DataType::Float) => Data::F32(match raw {
            Some(r) => words::<4>(r).map(f32::from_le_bytes).collect(),
            None => t.float_data.clone(),
        }),
        Ok(DataType::Int64) => Data::I64(match raw {
            Some(r) => words::<8>(r).map(i64::from_le_bytes).collect(),
            None => t.int64_data.clone(),
        }),
        Ok(DataType::Int32) => Data::I64(match raw {
            Some(r) => words::<4>(r)
                .map(|b| i32::from_le_bytes(b) as i64)
                .collect(),
            None => t.int32_data.iter().map(|&x| x as i64).collect(),
        }),
        Ok(other) => {
            return Err(format!(
                "element type {} (colt-onnx imports float32 graphs)",
                other.as_str_name()
            ));
        }
        Err(_) => return Err(format!("unknown element type {}", t.data_type.unwrap_or(0))),
    };
    let len = match &data {
        Data::F32(v) => v.len(),
        Data::I64(v) => v.len(),
    };
    if len != n {
        return Err(format!("{len} values for dims {:?} ({n} elements)", t.dims));
    }
    Ok(data)
}

/// Little-endian words of `N` bytes.
fn words<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    raw.chunks_exact(N)
        .map(|c| c.try_into().expect("chunks_exact"))
}

/// The static shape of a graph input: `fixed` when given (checked against the static
/// dimensions), else its declared dimensions, all of which must then be known.
pub(crate) fn input_shape(vi: &ValueInfoProto, fixed: Option<&Vec<i64>>) -> Result<Vec<i64>> {
    let err = |msg: String| OnnxError::Tensor {
        name: vi.name().to_string(),
        msg,
    };
    let tensor = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(crate::proto::type_proto::Value::TensorType(t)) => t,
        _ => return Err(err("graph input is not a tensor".into())),
    };
    if tensor.elem_type() != DataType::Float as i32 {
        let ty = DataType::try_from(tensor.elem_type()).map_or("unknown", |d| d.as_str_name());
        return Err(err(format!(
            "graph input has element type {ty} (colt-onnx compiles float32 graphs)"
        )));
    }
    let dims: Vec<Option<i64>> = match &tensor.shape {
        Some(s) => s.dim.iter().map(dim_value).collect(),
        None => {
            return fixed
                .cloned()
                .ok_or_else(|| err("graph input has no shape; give it with --shape".into()));
        }
    };
    if let Some(f) = fixed {
        let fits = f.len() == dims.len()
            && f.iter()
                .zip(&dims)
                .all(|(&x, d)| d.is_none_or(|d| d == x) && x > 0);
        if !fits {
            return Err(err(format!(
                "--shape {f:?} does not fit the declared dimensions {}",
                show_dims(&dims)
            )));
        }
        return Ok(f.clone());
    }
    dims.iter()
        .map(|d| d.ok_or(()))
        .collect::<Result<Vec<i64>, ()>>()
        .map_err(|_| {
            err(format!(
                "dynamic dimensions {}: fix them with --shape {}=D0,D1,..",
                show_dims(&dims),
                vi.name()
            ))
        })
}

fn dim_value(d: &crate::proto::tensor_shape_proto::Dimension) -> Option<i64> {
    match d.value {
        Some(crate::proto::tensor_shape_proto::dimension::Value::DimValue(v)) if v > 0 => Some(v),
        _ => None,
    }
}

fn show_dims(dims: &[Option<i64>]) -> String {
    let s: Vec<String> = dims
        .iter()
        .map(|d| d.map_or("?".into(), |v| v.to_string()))
        .collect();
    format!("[{}]", s.join(", "))
}
