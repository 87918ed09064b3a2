//! C identifiers for buffers and variables: sanitised, unique, clear of keywords and of the
//! names the generated code itself uses.

use colt_ir::{BufId, Func, VarId};
use std::collections::BTreeSet;

/// Names the emitted code uses itself (C keywords, the kernel argument, libm and helper names).
const RESERVED: &[&str] = &[
    // C11 keywords
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "_Alignas",
    "_Alignof",
    "_Atomic",
    "_Bool",
    "_Complex",
    "_Generic",
    "_Imaginary",
    "_Noreturn",
    "_Static_assert",
    "_Thread_local",
    // common macros and types that could appear in names
    "bool",
    "true",
    "false",
    "NULL",
    "int64_t",
    "size_t",
    "main",
    // what the generated code references
    "bufs",
    "expf",
    "sqrtf",
    "tanhf",
    "logf",
    "fabsf",
    "erff",
    "powf",
    "fmaxf",
    "fminf",
    "INFINITY",
    "NAN",
    "aligned_alloc",
    "free",
];

/// Helper functions the prelude may define.
pub(crate) const HELPERS: &[&str] = &[
    "colt_floordiv",
    "colt_floormod",
    "colt_sigmoid",
    "colt_silu",
    "colt_max",
    "colt_min",
];

/// True for C keywords, library names the generated code calls and its helper names: none
/// of these can be the exported kernel symbol.
pub fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name) || HELPERS.contains(&name) || name.starts_with("COLT_")
}

/// C names for every buffer and variable of a [`Func`].
#[derive(Clone, Debug)]
pub struct Names {
    bufs: Vec<String>,
    vars: Vec<String>,
}

impl Names {
    /// Buffers first (in table order, so parameters keep their own names), then variables.
    pub fn new(f: &Func) -> Names {
        let mut used: BTreeSet<String> = BTreeSet::new();
        let bufs = f
            .buffers
            .iter()
            .map(|b| unique(&b.name, "buf", &mut used))
            .collect();
        let vars = f.vars.iter().map(|v| unique(v, "v", &mut used)).collect();
        Names { bufs, vars }
    }
    /// The C name of buffer `b`.
    pub fn buf(&self, b: BufId) -> &str {
        &self.bufs[b.0 as usize]
    }
    /// The C name of variable `v`.
    pub fn var(&self, v: VarId) -> &str {
        &self.vars[v.0 as usize]
    }
}

/// Replace anything but `[A-Za-z0-9_]`, and avoid a leading digit or underscore (reserved
/// spellings such as `__x` and `_X`) and names in the `colt_` helper namespace.
pub fn sanitize(name: &str, fallback: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '_') {
        s = fallback.to_string();
    }
    let lower = s.to_ascii_lowercase();
    if s.starts_with(|c: char| c.is_ascii_digit() || c == '_') || lower.starts_with("colt_") {
        s = format!("{fallback}_{s}");
    }
    s
}

fn unique(name: &str, fallback: &str, used: &mut BTreeSet<String>) -> String {
    let base = sanitize(name, fallback);
    let mut s = base.clone();
    let mut n = 2;
    while used.contains(&s) || RESERVED.contains(&s.as_str()) {
        s = format!("{base}_{n}");
        n += 1;
    }
    used.insert(s.clone());
    s
}

/// Text safe inside a `/* */` or `//` comment.
pub fn comment_safe(s: &str) -> String {
    s.replace("*/", "* /").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_cases() {
        assert_eq!(sanitize("A.T", "buf"), "A_T");
        assert_eq!(sanitize("0x", "v"), "v_0x");
        assert_eq!(sanitize("__x", "v"), "v___x");
        assert_eq!(sanitize("", "v"), "v");
        assert_eq!(sanitize("colt_tmp", "buf"), "buf_colt_tmp");
    }

    #[test]
    fn unique_avoids_clashes_and_keywords() {
        let mut used = BTreeSet::new();
        assert_eq!(unique("i", "v", &mut used), "i");
        assert_eq!(unique("i", "v", &mut used), "i_2");
        assert_eq!(unique("i", "v", &mut used), "i_3");
        assert_eq!(unique("for", "v", &mut used), "for_2");
        assert_eq!(unique("bufs", "v", &mut used), "bufs_2");
    }
}
