//! One-time conversion of a GGUF file to Q4_0, whose matrix products llama.cpp repacks
//! for AVX2/AVX-512 at load time (interleaved 8x8 blocks). Q4_1 has no such repacked
//! kernel: SmolLM2-135M's Q4_1 file evaluated prompts at 120 tokens/s on a 2-core
//! AVX-512 Xeon, its Q4_0 conversion at 210 (1,900-token context).
//!
//! The converted file is written next to the source (`<stem>.q4_0.gguf`) through a
//! temporary name and a rename, so an interrupted conversion never leaves a half file
//! that a later run would load.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use crate::LocalError;

/// Where the Q4_0 conversion of `src` lives.
pub fn q4_0_path(src: &Path) -> PathBuf {
    let stem = src
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    src.with_file_name(format!("{stem}.q4_0.gguf"))
}

/// The Q4_0 conversion of `src`, made on first use (well under a second for a
/// 135M-parameter model). A source that is missing gives [`LocalError::ModelMissing`].
pub fn ensure_q4_0(src: &Path, threads: i32) -> Result<PathBuf, LocalError> {
    if !src.is_file() {
        return Err(LocalError::ModelMissing {
            path: src.to_path_buf(),
        });
    }
    let dst = q4_0_path(src);
    if dst.is_file() {
        return Ok(dst);
    }
    crate::model::backend()?;
    let tmp = dst.with_extension(format!("tmp{}", std::process::id()));
    let cstr = |p: &Path| {
        CString::new(p.as_os_str().as_encoded_bytes())
            .map_err(|_| LocalError::Load(format!("{}: path holds a NUL byte", p.display())))
    };
    let (csrc, ctmp) = (cstr(src)?, cstr(&tmp)?);
    // SAFETY: plain C call on two NUL-terminated paths and a parameter struct made by
    // llama.cpp itself; the pointers it holds are left null (no imatrix, no overrides).
    let rc = unsafe {
        let mut p = llama_cpp_sys_2::llama_model_quantize_default_params();
        p.ftype = llama_cpp_sys_2::LLAMA_FTYPE_MOSTLY_Q4_0;
        p.allow_requantize = true;
        p.nthread = threads.max(1);
        llama_cpp_sys_2::llama_model_quantize(csrc.as_ptr(), ctmp.as_ptr(), &p)
    };
    if rc != 0 {
        let _ = std::fs::remove_file(&tmp);
        return Err(LocalError::Load(format!(
            "cannot convert {} to Q4_0 (llama_model_quantize returned {rc})",
            src.display()
        )));
    }
    std::fs::rename(&tmp, &dst).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        LocalError::Load(format!("cannot write {}: {e}", dst.display()))
    })?;
    Ok(dst)
}
