//! The program's code as the LLM prompt shows it: without the licence or banner comment
//! that opens most real files, and, when the code is longer than the prompt's budget, the
//! parts most likely to be hot first.
//!
//! Without a profile, "likely hot" is read from the code: `main`, then the functions with
//! the most loops (and the deepest nesting of them), then short declarations (types,
//! globals) that the kept functions need to be read. The kept parts stay in file order,
//! and each gap says how many lines were left out.

/// The code of `src` for a prompt of at most about `budget` characters.
pub fn excerpt(src: &str, budget: usize) -> String {
    let body = strip_leading_comments(src);
    if body.len() <= budget {
        return body.to_string();
    }
    let items = top_level_items(body);
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        score(items[b])
            .cmp(&score(items[a]))
            .then(items[a].len().cmp(&items[b].len()))
            .then(a.cmp(&b))
    });
    let mut keep = vec![false; items.len()];
    let mut used = 0;
    for i in order {
        if used + items[i].len() <= budget {
            keep[i] = true;
            used += items[i].len();
        }
    }
    let mut out = String::new();
    let mut left_out = 0;
    for (item, k) in items.iter().zip(keep) {
        if k {
            if left_out > 0 {
                out.push_str(&format!("/* ... {left_out} lines left out ... */\n"));
                left_out = 0;
            }
            out.push_str(item);
        } else {
            left_out += item.lines().count().max(1);
        }
    }
    if left_out > 0 {
        out.push_str(&format!("/* ... {left_out} lines left out ... */\n"));
    }
    out
}

/// `src` after the comments and blank lines that open it.
fn strip_leading_comments(src: &str) -> &str {
    let mut s = src;
    loop {
        let t = s.trim_start();
        if let Some(rest) = t.strip_prefix("/*") {
            match rest.find("*/") {
                Some(i) => s = &rest[i + 2..],
                None => return t,
            }
        } else if t.starts_with("//") {
            s = t.find('\n').map_or("", |i| &t[i + 1..]);
        } else {
            return t;
        }
    }
}

/// The top-level items of C code: each ends with the `}` or `;` that brings the brace depth
/// back to zero (a function, a struct, a declaration), preprocessor lines on their own.
/// Braces inside strings, characters and comments are skipped.
fn top_level_items(src: &str) -> Vec<&str> {
    let b = src.as_bytes();
    let mut items = Vec::new();
    let (mut start, mut depth, mut i) = (0, 0usize, 0);
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if line_start && depth == 0 && c == b'#' {
            // A preprocessor line (with continuations) is an item of its own.
            let mut j = i;
            while j < b.len() && !(b[j] == b'\n' && (j == 0 || b[j - 1] != b'\\')) {
                j += 1;
            }
            push_item(&mut items, src, start, i);
            push_item(&mut items, src, i, (j + 1).min(b.len()));
            start = (j + 1).min(b.len());
            i = start;
            line_start = true;
            continue;
        }
        if !c.is_ascii_whitespace() {
            line_start = false;
        }
        match c {
            b'\n' => line_start = true,
            b'"' | b'\'' => i = skip_quoted(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'{' => depth += 1,
            b'}' | b';' => {
                if c == b'}' {
                    depth = depth.saturating_sub(1);
                }
                // A depth-0 `;` ends a declaration; a `}` back at depth 0 ends a function
                // or a type, unless a declarator follows it (`} name;`).
                if depth == 0 && (c == b';' || !next_is_declarator(b, i + 1)) {
                    let end = end_of_line(b, i + 1);
                    push_item(&mut items, src, start, end);
                    start = end;
                    i = end;
                    line_start = true;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    push_item(&mut items, src, start, b.len());
    items
}

fn push_item<'a>(items: &mut Vec<&'a str>, src: &'a str, from: usize, to: usize) {
    if to > from && !src[from..to].trim().is_empty() {
        items.push(&src[from..to]);
    }
}

/// Index just past the closing quote of the literal opening at `i`.
fn skip_quoted(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        if b[j] == b'\\' {
            j += 1;
        }
        j += 1;
    }
    j
}

/// Whether the rest of the line after a depth-0 `}` continues the declaration (`} name;`,
/// `} *p = ...;`).
fn next_is_declarator(b: &[u8], from: usize) -> bool {
    b[from..]
        .iter()
        .take_while(|&&c| c != b'\n')
        .find(|c| !c.is_ascii_whitespace())
        .is_some_and(|&c| matches!(c, b';' | b',' | b'*' | b'_') || c.is_ascii_alphabetic())
}

/// Index past the end of the line `from` is on (or `from` itself at a line start).
fn end_of_line(b: &[u8], from: usize) -> usize {
    let mut j = from;
    while j < b.len() && b[j] != b'\n' {
        if !b[j].is_ascii_whitespace() {
            return from;
        }
        j += 1;
    }
    (j + 1).min(b.len())
}

/// How much an item deserves a place: `main`, then loops (weighted by nesting), then short
/// declarations.
fn score(item: &str) -> usize {
    let is_function = item.contains('{') && item.contains(')');
    let is_main = is_function && item.split(['(', ' ', '\n', '\t', '*']).any(|w| w == "main");
    if is_main {
        return 1_000_000;
    }
    if !is_function
        || item.trim_start().starts_with("struct")
        || item.trim_start().starts_with("typedef")
    {
        return if item.len() <= 200 { 500_000 } else { 0 };
    }
    let words: Vec<&str> = item
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let loops = words
        .iter()
        .filter(|w| matches!(**w, "for" | "while" | "do"))
        .count();
    let mut depth: usize = 0;
    let mut deepest: usize = 0;
    for c in item.chars() {
        match c {
            '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    loops * 100 + deepest * 10
}

#[cfg(test)]
mod tests {
    use super::*;

    const LICENCE: &str = "/*\n * Copyright (c) 2001 Someone.\n * Permission is hereby granted, free of charge, to any person...\n */\n// SPDX-License-Identifier: MIT\n\n";

    #[test]
    fn the_opening_licence_comment_is_left_out() {
        let src =
            format!("{LICENCE}#include <stdio.h>\nint main(void) {{ puts(\"x\"); return 0; }}\n");
        let e = excerpt(&src, 6000);
        assert!(e.starts_with("#include <stdio.h>"), "{e}");
        assert!(!e.contains("Copyright"));
        assert!(!e.contains("SPDX"));
    }

    #[test]
    fn a_long_file_keeps_main_and_the_loop_heavy_functions_first() {
        let mut src = String::from(LICENCE);
        src.push_str("#include <stdio.h>\nstatic double grid[64][64];\n");
        for i in 0..40 {
            src.push_str(&format!(
                "static int helper{i}(int x) {{\n  /* {} */\n  return x + {i};\n}}\n",
                "padding ".repeat(20)
            ));
        }
        src.push_str(
            "static void stencil(int n) {\n  for (int i = 1; i < n; i++)\n    for (int j = 1; j < n; j++) {\n      grid[i][j] = 0.25 * (grid[i-1][j] + grid[i+1][j]);\n    }\n}\n",
        );
        src.push_str(
            "int main(void) {\n  stencil(63);\n  printf(\"%f\\n\", grid[3][3]);\n  return 0;\n}\n",
        );
        let e = excerpt(&src, 1200);
        assert!(e.len() <= 1200 + 200, "{} chars", e.len());
        assert!(e.contains("int main(void)"), "{e}");
        assert!(e.contains("static void stencil"), "{e}");
        assert!(e.contains("static double grid"), "{e}");
        assert!(e.contains("lines left out"), "{e}");
        assert!(!e.contains("Copyright"));
        // File order is kept.
        assert!(e.find("stencil(int n)").unwrap() < e.find("int main").unwrap());
    }

    #[test]
    fn braces_in_strings_and_comments_do_not_split_items() {
        let src = "int f(void) {\n  puts(\"}\"); /* } */ // }\n  return 1;\n}\nint main(void) { return f(); }\n";
        let items = top_level_items(src);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].contains("return 1;"));
    }

    #[test]
    fn a_struct_with_a_declarator_is_one_item() {
        let src = "struct p { int x; } origin;\nint main(void) { return origin.x; }\n";
        let items = top_level_items(src);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].contains("origin;"));
    }
}
