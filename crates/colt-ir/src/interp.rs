//! Reference interpreter: executes a [`Func`] directly. Slow and obviously correct; the oracle
//! for every differential test.

use crate::expr::Value;
use crate::func::{Func, Stmt, StoreOp};
use crate::program::BufKind;

/// Execute `f` on `bufs`, one vector per buffer of `f.buffers` (locals may be empty: they are
/// allocated by their `Alloc`). Temps and outputs are used as given.
pub fn run(f: &Func, bufs: &mut [Vec<f32>]) {
    assert_eq!(bufs.len(), f.buffers.len(), "one vector per buffer");
    for (b, v) in f.buffers.iter().zip(bufs.iter_mut()) {
        if b.kind != BufKind::Local {
            assert_eq!(v.len(), b.len(), "buffer {} has the wrong length", b.name);
        }
    }
    let mut env = vec![0i64; f.vars.len()];
    exec(f, &f.body, &mut env, bufs);
}

fn offset(f: &Func, buf: usize, idx: &[i64]) -> usize {
    let shape = &f.buffers[buf].shape;
    let mut off = 0i64;
    for (d, (&i, &n)) in idx.iter().zip(shape).enumerate() {
        assert!(
            (0..n).contains(&i),
            "index {i} out of bounds 0..{n} in dimension {d} of buffer {}",
            f.buffers[buf].name
        );
        off = off * n + i;
    }
    off as usize
}

fn exec(f: &Func, body: &[Stmt], env: &mut Vec<i64>, bufs: &mut [Vec<f32>]) {
    for st in body {
        match st {
            Stmt::Loop(l) => {
                for i in 0..l.extent {
                    env[l.var.0 as usize] = i;
                    exec(f, &l.body, env, bufs);
                }
            }
            Stmt::Alloc { buf, body } => {
                let b = buf.0 as usize;
                let saved = std::mem::replace(&mut bufs[b], vec![f32::NAN; f.buffers[b].len()]);
                exec(f, body, env, bufs);
                bufs[b] = saved;
            }
            Stmt::Block(blk) => {
                for (v, e) in &blk.bind {
                    env[v.0 as usize] = e.eval(env);
                }
                let x = eval(f, &blk.value, env, bufs);
                let idx: Vec<i64> = blk.store.idx.iter().map(|e| e.eval(env)).collect();
                let b = blk.store.buf.0 as usize;
                let o = offset(f, b, &idx);
                let slot = &mut bufs[b][o];
                *slot = match blk.op {
                    StoreOp::Assign => x,
                    StoreOp::Reduce(r) => r.combine(*slot, x),
                };
            }
        }
    }
}

fn eval(f: &Func, v: &Value, env: &[i64], bufs: &[Vec<f32>]) -> f32 {
    match v {
        Value::Const(c) => *c,
        Value::Load(a) => {
            let idx: Vec<i64> = a.idx.iter().map(|e| e.eval(env)).collect();
            let b = a.buf.0 as usize;
            bufs[b][offset(f, b, &idx)]
        }
        Value::Unary(op, a) => op.apply(eval(f, a, env, bufs)),
        Value::Binary(op, a, b) => op.apply(eval(f, a, env, bufs), eval(f, b, env, bufs)),
        Value::Select(bs, a, b) => {
            if bs.iter().all(|c| (c.lo..c.hi).contains(&c.idx.eval(env))) {
                eval(f, a, env, bufs)
            } else {
                eval(f, b, env, bufs)
            }
        }
        Value::Compare(op, vs) => {
            let [l, r, a, b] = &**vs;
            let pick = if op.holds(eval(f, l, env, bufs), eval(f, r, env, bufs)) {
                a
            } else {
                b
            };
            eval(f, pick, env, bufs)
        }
    }
}
