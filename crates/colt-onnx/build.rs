//! Compiles the vendored `proto/onnx.proto` (ONNX 1.23.2) into Rust types with `protox`
//! (a protobuf compiler in Rust, so no `protoc` is needed) and `prost-build`.

fn main() {
    println!("cargo:rerun-if-changed=proto/onnx.proto");
    let fds = match protox::compile(["onnx.proto"], ["proto"]) {
        Ok(fds) => fds,
        Err(e) => panic!("proto/onnx.proto does not compile: {e}"),
    };
    if let Err(e) = prost_build::Config::new()
        .disable_comments(["."])
        .compile_fds(fds)
    {
        panic!("prost-build failed on proto/onnx.proto: {e}");
    }
}
