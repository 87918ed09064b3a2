//! Compiling kernels: the object cache, parallel batches with a failing source, the
//! compiler presets and the content hash.

mod common;

use colt_measure::compile::{compile, content_hash};
use colt_measure::{CompileError, Compiler, compile_batch};
use common::*;

#[test]
fn cache_and_parallel_batch() {
    let dir = workdir("compile");
    let sources: Vec<_> = (0..4)
        .map(|i| vadd_src(&format!("/* {i} */"), "c[i] = a[i] + b[i];"))
        .collect();
    let mut with_error = sources.clone();
    with_error.push(vadd_src("", "not C"));
    let first = compile_batch(&with_error, &Compiler::tuned(), &dir);
    assert_eq!(first.len(), 5);
    for r in &first[..4] {
        let a = r.as_ref().unwrap();
        assert!(!a.cached && a.path.is_file() && a.symbol == "colt_kernel");
    }
    match &first[4] {
        Err(CompileError::Failed { stderr, .. }) => assert!(stderr.contains("error")),
        other => panic!("{other:?}"),
    }
    // distinct sources, distinct objects
    let mut paths: Vec<_> = first[..4]
        .iter()
        .map(|r| r.as_ref().unwrap().path.clone())
        .collect();
    paths.dedup();
    assert_eq!(paths.len(), 4);
    // second time: reused
    let again = compile(&sources[0], &Compiler::tuned(), &dir).unwrap();
    assert!(again.cached);
    assert_eq!(again.path, paths[0]);
    // other flags: other object
    let naive = compile(&sources[0], &Compiler::naive(), &dir).unwrap();
    assert_ne!(naive.path, paths[0]);
}

#[test]
fn presets() {
    let t = Compiler::tuned();
    assert!(t.flags.iter().any(|f| f == "-fopenmp"));
    assert!(!Compiler::naive().flags.iter().any(|f| f == "-fopenmp"));
    assert_eq!(Compiler::gcc_o3().cc, "gcc");
    assert_eq!(Compiler::naive().flags, Compiler::gcc_o3().flags);
    let err = Compiler::naive()
        .with_cc("no-such-cc-xyz")
        .probe()
        .unwrap_err();
    assert!(err.to_string().contains("no-such-cc-xyz"));
}

#[test]
fn hash_is_stable() {
    assert_eq!(content_hash(&[b"a", b"bc"]), content_hash(&[b"a", b"bc"]));
    assert_ne!(content_hash(&[b"a", b"bc"]), content_hash(&[b"ab", b"c"]));
    assert_eq!(content_hash(&[]).len(), 32);
}
