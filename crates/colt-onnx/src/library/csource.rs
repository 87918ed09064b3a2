//! The text of `model.c` and `model.h`: where every tensor lives (caller's array, weight
//! array or arena offset) and the calls of the kernels in task order.

use super::plan::{Block, place};
use super::{KernelSource, kernel_symbol, temp_lens};
use crate::graph::{Data, TensorId};
use crate::tasks::{Kernel, Model, Task};
use colt_codegen::expr::float_lit;
use colt_ir::BufKind;
use std::fmt::Write;

/// Where a tensor's values are while `model_run` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Home {
    /// Not used by any task.
    Unused,
    /// The caller's input `j` (or its aligned copy at the arena offset).
    Input(usize, usize),
    /// The caller's output `j` (or, when it is unaligned, the arena offset).
    Output(usize, usize),
    /// A weight array.
    Weight,
    /// The arena at this offset.
    Arena(usize),
}

/// The planned model, ready to print.
pub(crate) struct Sources<'a> {
    model: &'a Model,
    homes: Vec<Home>,
    /// Per task, the arena offsets of its temporaries.
    temps: Vec<Vec<usize>>,
    arena: usize,
}

impl<'a> Sources<'a> {
    /// Plan the memory of `model` run with `kernels`.
    pub(crate) fn new(model: &'a Model, kernels: &'a [KernelSource]) -> Sources<'a> {
        let g = &model.graph;
        let n = model.tasks.len();
        let (made_at, last_use) = lifetimes(model);
        let mut blocks = vec![];
        let mut homes = vec![Home::Unused; g.tensors.len()];
        let mut block = |len: usize, first: usize, last: usize| {
            blocks.push(Block { len, first, last });
            blocks.len() - 1
        };
        for (j, &t) in g.inputs.iter().enumerate() {
            homes[t.0] = Home::Input(j, block(g.tensor(t).len(), 0, last_use[t.0]));
        }
        for (j, &t) in g.outputs.iter().enumerate() {
            if homes[t.0] == Home::Unused && g.tensor(t).data.is_none() {
                homes[t.0] = Home::Output(j, block(g.tensor(t).len(), made_at[t.0], n));
            }
        }
        let mut temps = vec![];
        for (i, task) in model.tasks.iter().enumerate() {
            for &t in &task.inputs {
                if g.tensor(t).data.is_some() {
                    homes[t.0] = Home::Weight;
                }
            }
            if homes[task.output.0] == Home::Unused {
                homes[task.output.0] = Home::Arena(block(
                    g.tensor(task.output).len(),
                    i,
                    last_use[task.output.0].max(i),
                ));
            }
            let k = &model.kernels[task.kernel];
            temps.push(
                temp_lens(k, &kernels[task.kernel])
                    .into_iter()
                    .map(|len| block(len, i, i))
                    .collect::<Vec<_>>(),
            );
        }
        for &t in &g.outputs {
            if g.tensor(t).data.is_some() {
                homes[t.0] = Home::Weight;
            }
        }
        let (offsets, arena) = place(&blocks);
        let at = |b: usize| offsets[b];
        for h in &mut homes {
            *h = match *h {
                Home::Input(j, b) => Home::Input(j, at(b)),
                Home::Output(j, b) => Home::Output(j, at(b)),
                Home::Arena(b) => Home::Arena(at(b)),
                other => other,
            };
        }
        let temps = temps
            .into_iter()
            .map(|bs| bs.into_iter().map(at).collect())
            .collect();
        Sources {
            model,
            homes,
            temps,
            arena,
        }
    }

    /// Floats of the arena.
    pub(crate) fn arena_floats(&self) -> usize {
        self.arena
    }

    /// The C expression of tensor `t`'s pointer.
    fn ptr(&self, t: TensorId) -> String {
        match self.homes[t.0] {
            Home::Weight => format!("(float*)model_w{}", t.0),
            _ => format!("v{}", t.0),
        }
    }

    /// `model.h`.
    pub(crate) fn header(&self) -> String {
        let g = &self.model.graph;
        let mut s = format!(
            "// colt-onnx: model `{}`, {} tasks, {} kernels, arena {} floats.\n\
             // Link with -fopenmp -lm. Arrays are dense row-major float32; model_run uses a\n\
             // static arena, so call it from one thread at a time.\n",
            c_comment(&g.name),
            self.model.tasks.len(),
            self.model.kernels.len(),
            self.arena
        );
        s.push_str("#ifndef COLT_MODEL_H\n#define COLT_MODEL_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
        for (kind, ts) in [("INPUT", &g.inputs), ("OUTPUT", &g.outputs)] {
            let lower = kind.to_lowercase();
            writeln!(s, "#define MODEL_NUM_{kind}S {}", ts.len()).unwrap();
            for (j, &t) in ts.iter().enumerate() {
                let tensor = g.tensor(t);
                writeln!(
                    s,
                    "//   {lower} {j}: {} f32{:?}",
                    c_comment(&tensor.name),
                    tensor.shape
                )
                .unwrap();
            }
            let n = format!("MODEL_NUM_{kind}S + 1");
            s.push_str("// names and sizes (floats), then NULL and 0\n");
            writeln!(s, "extern const char* const model_{lower}_names[{n}];").unwrap();
            writeln!(s, "extern const long long model_{lower}_sizes[{n}];\n").unwrap();
        }
        s.push_str(
            "// Run the model: inputs[j] and outputs[j] point to the arrays above.\n\
             // Returns 0, or 1 when a pointer is null.\n\
             int model_run(const float* const* inputs, float* const* outputs);\n\n\
             #ifdef __cplusplus\n}\n#endif\n\n#endif  // COLT_MODEL_H\n",
        );
        s
    }

    /// `model.c`.
    pub(crate) fn model_c(&self) -> String {
        let g = &self.model.graph;
        let mut s = String::from(
            "// colt-onnx: weights, memory plan and task order.\n#include \"model.h\"\n#include <stdint.h>\n#include <string.h>\n\n",
        );
        for i in 0..self.model.kernels.len() {
            writeln!(s, "void {}(float* const* bufs);", kernel_symbol(i)).unwrap();
        }
        for (kind, ts) in [("input", &g.inputs), ("output", &g.outputs)] {
            let mut names: Vec<String> = ts.iter().map(|&t| c_string(&g.tensor(t).name)).collect();
            let mut sizes: Vec<String> =
                ts.iter().map(|&t| g.tensor(t).len().to_string()).collect();
            names.push("0".into());
            sizes.push("0".into());
            writeln!(
                s,
                "const char* const model_{kind}_names[] = {{{}}};",
                names.join(", ")
            )
            .unwrap();
            writeln!(
                s,
                "const long long model_{kind}_sizes[] = {{{}}};",
                sizes.join(", ")
            )
            .unwrap();
        }
        s.push('\n');
        self.weights(&mut s);
        writeln!(
            s,
            "static float model_arena[{}] __attribute__((aligned(64)));\n",
            self.arena.max(1)
        )
        .unwrap();
        s.push_str(
            "#define MODEL_ALIGNED(p) ((((uintptr_t)(p)) & 63) == 0)\n\n\
             static float* model_in(const float* p, float* copy, size_t n) {\n    \
             if (MODEL_ALIGNED(p)) return (float*)p;\n    \
             memcpy(copy, p, n * sizeof(float));\n    return copy;\n}\n\n",
        );
        s.push_str(&self.run_fn());
        s
    }

    /// The weight arrays of every constant a task reads or the graph outputs.
    fn weights(&self, s: &mut String) {
        for (t, h) in self.homes.iter().enumerate() {
            let tensor = &self.model.graph.tensors[t];
            let values: Vec<f32> = match (h, &tensor.data) {
                (Home::Weight, Some(Data::F32(v))) => v.clone(),
                (Home::Weight, Some(Data::I64(v))) => v.iter().map(|&x| x as f32).collect(),
                _ => continue,
            };
            writeln!(s, "// {} f32{:?}", c_comment(&tensor.name), tensor.shape).unwrap();
            write!(
                s,
                "static const float model_w{t}[{}] __attribute__((aligned(64))) = {{",
                values.len()
            )
            .unwrap();
            for (i, v) in values.iter().enumerate() {
                s.push_str(if i % 8 == 0 { "\n    " } else { " " });
                s.push_str(&float_lit(*v));
                s.push(',');
            }
            s.push_str("\n};\n\n");
        }
    }

    /// `model_run`: pointers, the kernel calls, the copies out.
    fn run_fn(&self) -> String {
        let g = &self.model.graph;
        let mut s = String::from(
            "int model_run(const float* const* inputs, float* const* outputs) {\n    if (!inputs || !outputs) return 1;\n",
        );
        for (kind, n) in [("inputs", g.inputs.len()), ("outputs", g.outputs.len())] {
            writeln!(
                s,
                "    for (int j = 0; j < {n}; j++) if (!{kind}[j]) return 1;"
            )
            .unwrap();
        }
        for (t, h) in self.homes.iter().enumerate() {
            let len = g.tensors[t].len();
            match *h {
                Home::Input(j, off) => writeln!(s, "    float* v{t} = model_in(inputs[{j}], model_arena + {off}, {len});"),
                Home::Output(j, off) => writeln!(s, "    float* v{t} = MODEL_ALIGNED(outputs[{j}]) ? outputs[{j}] : model_arena + {off};"),
                Home::Arena(off) => writeln!(s, "    float* v{t} = model_arena + {off};"),
                Home::Weight | Home::Unused => Ok(()),
            }
            .unwrap();
        }
        for (i, task) in self.model.tasks.iter().enumerate() {
            let k = &self.model.kernels[task.kernel];
            let args = self.args(i, task, k);
            writeln!(s, "    {{  // task {i}: {}", c_comment(&k.label)).unwrap();
            writeln!(s, "        float* const b[] = {{{}}};", args.join(", ")).unwrap();
            writeln!(s, "        {}(b);\n    }}", kernel_symbol(task.kernel)).unwrap();
        }
        for (j, &t) in g.outputs.iter().enumerate() {
            let bytes = g.tensor(t).len() * 4;
            writeln!(
                s,
                "    if ({} != outputs[{j}]) memcpy(outputs[{j}], {}, {bytes});",
                self.ptr(t),
                self.ptr(t)
            )
            .unwrap();
        }
        s.push_str("    return 0;\n}\n");
        s
    }
}

impl Sources<'_> {
    /// The pointers task `i` passes its kernel `k`: one per program buffer in order (its
    /// input tensors, its output, its temporaries in the arena), then the extra temporaries.
    fn args(&self, i: usize, task: &Task, k: &Kernel) -> Vec<String> {
        let mut inputs = task.inputs.iter();
        let mut temps = self.temps[i]
            .iter()
            .map(|off| format!("model_arena + {off}"));
        let mut args: Vec<String> = vec![];
        for b in &k.program.buffers {
            args.push(match b.kind {
                BufKind::Input => self.ptr(*inputs.next().expect("a tensor per input")),
                BufKind::Output => self.ptr(task.output),
                BufKind::Temp | BufKind::Local => temps.next().expect("an arena block per temp"),
            });
        }
        args.extend(temps);
        args
    }
}

/// Per tensor, the step (task index) that computes it and the last step that reads it
/// (0 when none does).
fn lifetimes(model: &Model) -> (Vec<usize>, Vec<usize>) {
    let len = model.graph.tensors.len();
    let (mut made_at, mut last_use) = (vec![0; len], vec![0; len]);
    for (i, task) in model.tasks.iter().enumerate() {
        for t in &task.inputs {
            last_use[t.0] = i;
        }
        made_at[task.output.0] = i;
    }
    (made_at, last_use)
}

/// A name inside a `//` comment: printable ASCII only.
fn c_comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// A C string literal of `s` (printable ASCII kept, `"` and `\` escaped, the rest `?`).
fn c_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_graphic() || c == ' ' => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push('"');
    out
}
