//! Reading LLVM IR text and objects: instruction counts, Autophase-style program features,
//! `.text` bytes of an ELF object, and a stable hash.
//!
//! A walk of the `.ll` text is enough here (and needs no extra `opt` run): inside a
//! `define ... { ... }` body every line that is not a label, a comment or the closing brace
//! is one instruction.

/// FNV-1a, 64 bit: stable across processes and Rust releases (keys go to the database).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The opcodes counted by [`features`], in feature order.
pub const OPCODES: &[&str] = &[
    "ret",
    "br",
    "switch",
    "indirectbr",
    "unreachable",
    "fneg",
    "add",
    "fadd",
    "sub",
    "fsub",
    "mul",
    "fmul",
    "udiv",
    "sdiv",
    "fdiv",
    "urem",
    "srem",
    "frem",
    "shl",
    "lshr",
    "ashr",
    "and",
    "or",
    "xor",
    "extractelement",
    "insertelement",
    "shufflevector",
    "extractvalue",
    "insertvalue",
    "alloca",
    "load",
    "store",
    "fence",
    "cmpxchg",
    "atomicrmw",
    "getelementptr",
    "trunc",
    "zext",
    "sext",
    "fptrunc",
    "fpext",
    "fptoui",
    "fptosi",
    "uitofp",
    "sitofp",
    "ptrtoint",
    "inttoptr",
    "bitcast",
    "addrspacecast",
    "icmp",
    "fcmp",
    "phi",
    "select",
    "call",
    "freeze",
    "invoke",
];

/// Names of the structural features that follow the opcode histogram.
pub const STRUCTURE: &[&str] = &[
    "instructions",
    "functions",
    "declarations",
    "basic_blocks",
    "back_edges",
    "calls_to_intrinsics",
    "calls_to_functions",
    "phi_incoming",
    "blocks_single_successor",
    "blocks_two_successors",
    "blocks_with_phi",
    "max_block_instructions",
    "vector_instructions",
    "constant_operands",
    "globals",
];

/// Number of values [`features`] returns.
pub fn feature_count() -> usize {
    OPCODES.len() + STRUCTURE.len()
}

/// The opcode of one instruction line (`%x = add i32 ...` -> `add`, `tail call ...` -> `call`).
pub fn opcode(line: &str) -> &str {
    let t = line.trim();
    let rhs = match t.find(" = ") {
        Some(i) if t.starts_with('%') => &t[i + 3..],
        _ => t,
    };
    let mut words = rhs.split_whitespace();
    let mut w = words.next().unwrap_or("");
    while matches!(w, "tail" | "musttail" | "notail") {
        w = words.next().unwrap_or("");
    }
    w
}

fn is_label(t: &str) -> bool {
    // `name:` or `123:`, maybe followed by `; preds = ...`.
    let head = t.split(';').next().unwrap_or("").trim_end();
    head.ends_with(':') && !head.contains(' ')
}

/// One function body: blocks of instruction lines.
struct Func<'a> {
    blocks: Vec<(String, Vec<&'a str>)>,
}

fn functions(ll: &str) -> Vec<Func<'_>> {
    let mut out = Vec::new();
    let mut cur: Option<Func> = None;
    // Bracket depth of a multi-line instruction (`switch ... [` up to `]`): its continuation
    // lines belong to it and are not instructions of their own.
    let mut depth: i64 = 0;
    for line in ll.lines() {
        if line.starts_with("define ") {
            cur = Some(Func {
                blocks: vec![(String::new(), Vec::new())],
            });
            continue;
        }
        let Some(f) = cur.as_mut() else { continue };
        if line.starts_with('}') {
            out.push(cur.take().expect("in a function"));
            continue;
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        let code = t.split(" ; ").next().unwrap_or(t);
        if depth > 0 {
            depth += code.matches('[').count() as i64 - code.matches(']').count() as i64;
            continue;
        }
        if is_label(t) {
            let name = t
                .split(':')
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_string();
            if f.blocks.len() == 1 && f.blocks[0].1.is_empty() {
                f.blocks[0].0 = name;
            } else {
                f.blocks.push((name, Vec::new()));
            }
            continue;
        }
        depth = (code.matches('[').count() as i64 - code.matches(']').count() as i64).max(0);
        f.blocks.last_mut().expect("a block").1.push(line);
    }
    out
}

/// IR instructions in every function body.
pub fn instruction_count(ll: &str) -> usize {
    functions(ll)
        .iter()
        .map(|f| f.blocks.iter().map(|b| b.1.len()).sum::<usize>())
        .sum()
}

/// `label %name` targets of a terminator line.
fn targets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("label %") {
        let after = &rest[i + 7..];
        let end = after.find([',', ' ', ']']).unwrap_or(after.len());
        out.push(after[..end].trim_matches('"').to_string());
        rest = &after[end..];
    }
    out
}

/// Autophase-style features: the opcode histogram ([`OPCODES`]) then [`STRUCTURE`].
pub fn features(ll: &str) -> Vec<f32> {
    let mut ops = vec![0f32; OPCODES.len()];
    let mut st = vec![0f32; STRUCTURE.len()];
    let funcs = functions(ll);
    st[1] = funcs.len() as f32;
    st[2] = ll.lines().filter(|l| l.starts_with("declare ")).count() as f32;
    st[14] = ll
        .lines()
        .filter(|l| l.starts_with('@') && l.contains(" = "))
        .count() as f32;
    for f in &funcs {
        let index: std::collections::BTreeMap<&str, usize> = f
            .blocks
            .iter()
            .enumerate()
            .map(|(i, (n, _))| (n.as_str(), i))
            .collect();
        st[3] += f.blocks.len() as f32;
        for (bi, (_, insts)) in f.blocks.iter().enumerate() {
            st[11] = st[11].max(insts.len() as f32);
            let mut has_phi = false;
            for line in insts {
                st[0] += 1.0;
                let op = opcode(line);
                if let Some(k) = OPCODES.iter().position(|o| *o == op) {
                    ops[k] += 1.0;
                }
                match op {
                    "phi" => {
                        has_phi = true;
                        st[7] += line.matches("[ ").count() as f32;
                    }
                    "call" | "invoke" => {
                        if line.contains("@llvm.") {
                            st[5] += 1.0;
                        } else {
                            st[6] += 1.0;
                        }
                    }
                    "br" | "switch" => {
                        let ts = targets(line);
                        match ts.len() {
                            1 => st[8] += 1.0,
                            2 => st[9] += 1.0,
                            _ => {}
                        }
                        st[4] += ts
                            .iter()
                            .filter(|t| index.get(t.as_str()).is_some_and(|&ti| ti <= bi))
                            .count() as f32;
                    }
                    _ => {}
                }
                if line.contains(" x ") && line.contains('<') {
                    st[12] += 1.0;
                }
                st[13] += line
                    .split([' ', ','])
                    .filter(|w| w.parse::<i64>().is_ok())
                    .count() as f32;
            }
            if has_phi {
                st[10] += 1.0;
            }
        }
    }
    ops.extend(st);
    ops
}

/// Bytes of the `.text` sections (`.text` and `.text.*`) of an ELF64 little-endian object.
pub fn elf_text_bytes(obj: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| {
        obj.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        obj.get(o..o + 4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    };
    let u64_at = |o: usize| {
        obj.get(o..o + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    };
    if obj.get(0..4)? != b"\x7fELF" || obj.get(4)? != &2 || obj.get(5)? != &1 {
        return None;
    }
    let shoff = u64_at(0x28)? as usize;
    let shentsize = u16_at(0x3A)?;
    let shnum = u16_at(0x3C)?;
    let shstrndx = u16_at(0x3E)?;
    let sh = |i: usize| shoff + i * shentsize;
    let strtab = u64_at(sh(shstrndx) + 24)? as usize;
    let mut total = 0;
    for i in 0..shnum {
        let name_off = strtab + u32_at(sh(i))? as usize;
        let name_end = name_off + obj.get(name_off..)?.iter().position(|&b| b == 0)?;
        let name = std::str::from_utf8(&obj[name_off..name_end]).ok()?;
        if name == ".text" || name.starts_with(".text.") {
            total += u64_at(sh(i) + 32)?;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LL: &str = "@g = global i32 0\ndefine i32 @f(i32 %n) {\nentry:\n  br label %loop\n\nloop:                                             ; preds = %loop, %entry\n  %i = phi i32 [ 0, %entry ], [ %j, %loop ]\n  %j = add nsw i32 %i, 1\n  %c = icmp slt i32 %j, %n\n  br i1 %c, label %loop, label %exit\n\nexit:\n  %r = tail call i32 @h(i32 %j)\n  ret i32 %r\n}\ndeclare i32 @h(i32)\n";

    #[test]
    fn counts_instructions_and_structure() {
        assert_eq!(instruction_count(LL), 7);
        let f = features(LL);
        let at = |name: &str| f[OPCODES.len() + STRUCTURE.iter().position(|s| *s == name).unwrap()];
        let op = |name: &str| f[OPCODES.iter().position(|s| *s == name).unwrap()];
        assert_eq!(f.len(), feature_count());
        assert_eq!(op("br"), 2.0);
        assert_eq!(op("call"), 1.0);
        assert_eq!(op("phi"), 1.0);
        assert_eq!(at("basic_blocks"), 3.0);
        assert_eq!(at("back_edges"), 1.0);
        assert_eq!(at("functions"), 1.0);
        assert_eq!(at("declarations"), 1.0);
        assert_eq!(at("phi_incoming"), 2.0);
        assert_eq!(at("calls_to_functions"), 1.0);
        assert_eq!(at("globals"), 1.0);
    }

    #[test]
    fn switch_cases_are_one_instruction() {
        let ll = "define i32 @s(i32 %x) {\nentry:\n  switch i32 %x, label %d [\n    i32 0, label %a\n    i32 1, label %d\n  ]\n\na:\n  ret i32 1\n\nd:\n  ret i32 0\n}\n";
        assert_eq!(instruction_count(ll), 3);
        let f = features(ll);
        assert_eq!(f[OPCODES.iter().position(|o| *o == "switch").unwrap()], 1.0);
    }

    #[test]
    fn opcode_skips_tail_markers() {
        assert_eq!(opcode("  %r = tail call i32 @h()"), "call");
        assert_eq!(opcode("  store i32 1, ptr %p"), "store");
        assert_eq!(
            opcode("  %x = getelementptr inbounds i32, ptr %p, i64 1"),
            "getelementptr"
        );
    }

    #[test]
    fn non_elf_has_no_text() {
        assert_eq!(elf_text_bytes(b"not an object"), None);
    }
}
