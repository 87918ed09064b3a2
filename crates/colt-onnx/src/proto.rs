//! The ONNX protobuf messages, generated at build time from the vendored `proto/onnx.proto`
//! (ONNX 1.23.2) by `prost-build` (see `build.rs`).
#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
