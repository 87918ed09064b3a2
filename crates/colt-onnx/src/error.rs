//! The one error type of the crate: every variant displays as one line naming the file,
//! node, input or task at fault.

use std::path::PathBuf;

/// Why a model could not be imported, split into tasks or built.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model.
    #[error("{source_name}: not an ONNX model ({reason})")]
    Decode {
        /// Where the bytes came from (a path or a label).
        source_name: String,
        /// What the protobuf decoder or the first check found.
        reason: String,
    },
    /// The model imports an operator set version colt-onnx does not read.
    #[error(
        "{source_name}: opset {version} of domain `{domain}` is not supported (colt-onnx reads \
         ai.onnx opsets {min} to {max})",
        min = crate::import::MIN_OPSET,
        max = crate::import::MAX_OPSET
    )]
    Opset {
        /// Where the model came from.
        source_name: String,
        /// The operator set domain (`ai.onnx` for the default one).
        domain: String,
        /// Its version.
        version: i64,
    },
    /// A node's operator has no importer.
    #[error(
        "node `{node}`: operator {op_type} is not supported (supported: {})",
        crate::import::SUPPORTED.join(", ")
    )]
    Unsupported {
        /// The node's name (or its first output's when it has none).
        node: String,
        /// The operator, with its domain when not the default one.
        op_type: String,
    },
    /// A node the importer understands but cannot take as it is.
    #[error("node `{node}` ({op_type}): {msg}")]
    Node {
        /// The node's name.
        node: String,
        /// Its operator.
        op_type: String,
        /// What is wrong.
        msg: String,
    },
    /// A graph input, output or initializer cannot be taken as it is.
    #[error("tensor `{name}`: {msg}")]
    Tensor {
        /// The tensor's name.
        name: String,
        /// What is wrong.
        msg: String,
    },
    /// An option given to the import or the build is wrong.
    #[error("{0}")]
    Option(String),
    /// A task's kernel could not be emitted or compiled, or the library could not be built.
    #[error("{what}: {msg}")]
    Build {
        /// What was being built (`task 3 (MatMul+Add)`, `libmodel.a`).
        what: String,
        /// Why it failed, on one line.
        msg: String,
    },
}

/// `Result` with [`OnnxError`].
pub type Result<T, E = OnnxError> = std::result::Result<T, E>;

/// A text on one line: line breaks become `; ` (compiler output, nested errors).
pub(crate) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// An [`OnnxError::Io`] for `path`.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> OnnxError + '_ {
    move |source| OnnxError::Io {
        path: path.to_path_buf(),
        source,
    }
}
