//! Shared by the model tests: the committed models and ONNX Runtime's results
//! (`tests/models/NAME.ref.{json,bin}`, written by `scripts/onnx-models.py`), the relative
//! error, and building + running a model's C library through a small C driver.

#![allow(dead_code)]

use colt_onnx::{ImportOptions, Model};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// colt-onnx's `tests/models` (from the manifest of colt-onnx or of a sibling crate whose
/// tests include this module, as colt's do).
pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../colt-onnx/tests/models")
}

/// One tensor of a reference file.
pub struct RefTensor {
    pub name: String,
    pub role: String,
    pub shape: Vec<i64>,
    pub data: Vec<f32>,
}

/// ONNX Runtime's inputs and results for model `name`.
pub struct Reference {
    pub shapes: BTreeMap<String, Vec<i64>>,
    pub tensors: Vec<RefTensor>,
}

impl Reference {
    pub fn load(name: &str) -> Reference {
        let dir = models_dir();
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.ref.json"))).unwrap(),
        )
        .unwrap();
        let raw = std::fs::read(dir.join(format!("{name}.ref.bin"))).unwrap();
        let floats: Vec<f32> = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let shapes = serde_json::from_value(json["shapes"].clone()).unwrap();
        let tensors = json["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let shape: Vec<i64> = serde_json::from_value(t["shape"].clone()).unwrap();
                let off = t["offset"].as_u64().unwrap() as usize;
                let n = shape.iter().product::<i64>() as usize;
                RefTensor {
                    name: t["name"].as_str().unwrap().to_string(),
                    role: t["role"].as_str().unwrap().to_string(),
                    shape,
                    data: floats[off..off + n].to_vec(),
                }
            })
            .collect();
        Reference { shapes, tensors }
    }

    pub fn role(&self, role: &str) -> Vec<&RefTensor> {
        self.tensors.iter().filter(|t| t.role == role).collect()
    }

    pub fn get(&self, name: &str) -> Option<&RefTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// The committed model `name` imported with its reference's shapes, split into tasks.
pub fn model(name: &str) -> (Model, Reference) {
    let reference = Reference::load(name);
    let opts = ImportOptions {
        shapes: reference.shapes.clone(),
    };
    let graph = colt_onnx::import_file(&models_dir().join(format!("{name}.onnx")), &opts).unwrap();
    (Model::new(graph), reference)
}

/// `max |got - want| / max |want|` (the infinity-norm relative error).
pub fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    colt_onnx::run::rel_err(got, want)
}

const DRIVER: &str = r#"
#include "model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
// run IN OUT [unaligned]: inputs from IN and outputs to OUT, raw f32 back to back; with
// "unaligned" every array sits 4 bytes past a 64-byte boundary.
int main(int argc, char** argv) {
    int shift = argc > 3 && strcmp(argv[3], "unaligned") == 0;
    FILE* in = fopen(argv[1], "rb");
    float* ins[MODEL_NUM_INPUTS];
    float* outs[MODEL_NUM_OUTPUTS];
    for (int j = 0; j < MODEL_NUM_INPUTS; j++) {
        ins[j] = (float*)aligned_alloc(64, (model_input_sizes[j] + 16) * 4) + shift;
        if (fread(ins[j], 4, model_input_sizes[j], in) != (size_t)model_input_sizes[j]) return 2;
    }
    fclose(in);
    for (int j = 0; j < MODEL_NUM_OUTPUTS; j++)
        outs[j] = (float*)aligned_alloc(64, (model_output_sizes[j] + 16) * 4) + shift;
    int rc = model_run((const float* const*)ins, outs);
    FILE* out = fopen(argv[2], "wb");
    for (int j = 0; j < MODEL_NUM_OUTPUTS; j++) fwrite(outs[j], 4, model_output_sizes[j], out);
    fclose(out);
    return rc;
}
"#;

/// Build `model`'s library in `dir` (naive kernels), link the driver and run it on
/// `inputs`; returns the outputs.
pub fn build_and_run(
    model: &Model,
    dir: &Path,
    inputs: &[Vec<f32>],
    unaligned: bool,
) -> Vec<Vec<f32>> {
    colt_onnx::build(model, dir, |_| None).unwrap();
    link_driver(dir);
    run_driver(model, dir, inputs, unaligned)
}

/// Link the C driver with the `libmodel.a` built in `dir`.
pub fn link_driver(dir: &Path) {
    colt_onnx::library::link_program(dir, "run", DRIVER).unwrap();
}

/// Run the linked driver on `inputs` (with every array unaligned when asked).
pub fn run_driver(
    model: &Model,
    dir: &Path,
    inputs: &[Vec<f32>],
    unaligned: bool,
) -> Vec<Vec<f32>> {
    let bytes: Vec<u8> = inputs
        .iter()
        .flatten()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    std::fs::write(dir.join("in.bin"), bytes).unwrap();
    let mut cmd = Command::new(dir.join("run"));
    cmd.current_dir(dir).args(["in.bin", "out.bin"]);
    if unaligned {
        cmd.arg("unaligned");
    }
    assert!(cmd.status().unwrap().success(), "the model's driver failed");
    let raw = std::fs::read(dir.join("out.bin")).unwrap();
    let mut floats = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()));
    model
        .graph
        .outputs
        .iter()
        .map(|&t| floats.by_ref().take(model.graph.tensor(t).len()).collect())
        .collect()
}
