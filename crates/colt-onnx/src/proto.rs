//! The ONNX protobuf messages, generated at build time from the vendored `onnx.proto`
//! (ONNX 1.23.2, `third_party/onnx/onnx.proto`) by `prost-build` (see `build.rs`).
#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
