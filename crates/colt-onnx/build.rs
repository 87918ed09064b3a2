//! Compiles the vendored ONNX 1.23.2 `onnx.proto` (`third_party/onnx/onnx.proto` at the
//! workspace root) into Rust types with `protox` (a protobuf compiler in Rust, so no `protoc`
//! is needed) and `prost-build`.

/// The folder of the vendored `onnx.proto`, relative to this crate.
const PROTO_DIR: &str = "../../third_party/onnx";

fn main() {
    println!("cargo:rerun-if-changed={PROTO_DIR}/onnx.proto");
    let fds = match protox::compile(["onnx.proto"], [PROTO_DIR]) {
        Ok(fds) => fds,
        Err(e) => panic!("{PROTO_DIR}/onnx.proto does not compile: {e}"),
    };
    if let Err(e) = prost_build::Config::new()
        .disable_comments(["."])
        .compile_fds(fds)
    {
        panic!("prost-build failed on {PROTO_DIR}/onnx.proto: {e}");
    }
}
