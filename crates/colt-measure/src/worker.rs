//! The worker side: runs inside the `colt-worker` process, never in the tuner.
//!
//! It loads kernels with libloading (libraries stay loaded for the life of the process:
//! unloading objects linked against an OpenMP runtime whose threads are alive is unsafe; the
//! parent recycles the worker instead), keeps one set of 64-byte-aligned buffers for the last
//! `(seed, buffer specs)` with a pristine copy of the inputs, and caches reference outputs per
//! `(reference, seed, buffer specs)`.
//!
//! Before every checked run inputs are restored and outputs and temporaries are poisoned with
//! NaN. Timed runs reuse the buffers as the checked run left them.

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Instant;

use crate::inputs::{BufRole, BufSpec, fill_input, poison};
use crate::protocol::{
    BadElement, KernelRef, Op, Reply, Request, Response, RunSpec, Status, Timing, Tolerance,
};

/// `void kernel(float* const* bufs)`.
pub type KernelFn = unsafe extern "C" fn(*const *mut f32);

const ALIGN: usize = 64;
/// Buffers are placed at their own offset within a 4 KiB page (see [`AlignedBuf::staggered`]).
const PAGE: usize = 4096;
const REFERENCE_CACHE_ENTRIES: usize = 8;

/// A 64-byte-aligned float buffer.
pub struct AlignedBuf {
    ptr: *mut f32,
    len: usize,
    /// The allocation (`ptr` may start `offset` bytes into it).
    base: *mut u8,
    layout: Layout,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` floats (at least 64 bytes allocated).
    pub fn new(len: usize) -> Result<Self, String> {
        Self::at_offset(len, 0, ALIGN)
    }

    /// A zeroed buffer of `len` floats that starts at the `index`-th staggered offset of a
    /// 4 KiB page: 17 cache lines further per index, modulo the page. Large allocations come
    /// from `mmap` and so all start at the same page offset in a fresh process, while in a
    /// long-lived one they come from the heap at offsets that depend on its history; buffers at
    /// the same page offset share L1 sets (4K aliasing), which slowed one matmul kernel by 20%
    /// in a fresh process. A fixed stagger gives every process the same placement.
    pub fn staggered(len: usize, index: usize) -> Result<Self, String> {
        Self::at_offset(len, (index * 17 * ALIGN) % PAGE, PAGE)
    }

    fn at_offset(len: usize, offset: usize, align: usize) -> Result<Self, String> {
        let bytes = len
            .checked_mul(4)
            .and_then(|b| b.checked_add(offset))
            .ok_or_else(|| format!("buffer of {len} floats overflows"))?
            .max(ALIGN)
            .next_multiple_of(ALIGN);
        let layout = Layout::from_size_align(bytes, align).map_err(|e| e.to_string())?;
        // SAFETY: layout has non-zero size.
        let base = unsafe { std::alloc::alloc_zeroed(layout) };
        if base.is_null() {
            return Err(format!("cannot allocate {bytes} bytes"));
        }
        // SAFETY: offset + 4 * len <= bytes, inside the allocation.
        let ptr = unsafe { base.add(offset) } as *mut f32;
        Ok(AlignedBuf {
            ptr,
            len,
            base,
            layout,
        })
    }
    /// The floats.
    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: ptr is valid for len floats, owned by self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
    /// The floats, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        // SAFETY: as above, and &mut self guarantees exclusivity.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
    /// Pointer to the first float, as the kernel takes it.
    pub fn as_ptr(&self) -> *mut f32 {
        self.ptr
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: allocated with this layout in `new`.
        unsafe { std::alloc::dealloc(self.base, self.layout) }
    }
}

struct BufferSet {
    seed: u64,
    specs: Vec<BufSpec>,
    bufs: Vec<AlignedBuf>,
    pristine: Vec<Option<Vec<f32>>>,
    ptrs: Vec<*mut f32>,
}

impl BufferSet {
    fn new(seed: u64, specs: &[BufSpec]) -> Result<Self, String> {
        let mut bufs = Vec::with_capacity(specs.len());
        let mut pristine = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            bufs.push(AlignedBuf::staggered(spec.len, i)?);
            pristine.push(match spec.role {
                BufRole::Input => {
                    let mut v = vec![0.0f32; spec.len];
                    fill_input(seed, i, &mut v);
                    Some(v)
                }
                _ => None,
            });
        }
        let ptrs = bufs.iter().map(|b| b.as_ptr()).collect();
        Ok(BufferSet {
            seed,
            specs: specs.to_vec(),
            bufs,
            pristine,
            ptrs,
        })
    }

    /// Restore inputs, poison outputs and temporaries.
    fn prepare(&mut self) {
        for (buf, pristine) in self.bufs.iter_mut().zip(&self.pristine) {
            match pristine {
                Some(p) => buf.as_mut_slice().copy_from_slice(p),
                None => poison(buf.as_mut_slice()),
            }
        }
    }

    fn outputs(&self) -> Vec<Option<Vec<f32>>> {
        self.specs
            .iter()
            .zip(&self.bufs)
            .map(|(s, b)| (s.role == BufRole::Output).then(|| b.as_slice().to_vec()))
            .collect()
    }

    /// # Safety
    /// `f` must honour the kernel contract for these buffers.
    unsafe fn run(&self, f: KernelFn) {
        unsafe { f(self.ptrs.as_ptr()) }
    }
}

type RefKey = (KernelRef, u64, Vec<BufSpec>);

/// Worker state: loaded libraries, buffers, cached reference outputs.
#[derive(Default)]
pub struct Worker {
    libs: BTreeMap<PathBuf, libloading::Library>,
    buffers: Option<BufferSet>,
    references: BTreeMap<RefKey, Vec<Option<Vec<f32>>>>,
}

/// Outcome of comparing one run's outputs with the reference.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Largest absolute error over finite pairs.
    pub max_abs_err: f64,
    /// Largest relative error over finite pairs with a nonzero reference.
    pub max_rel_err: f64,
    /// Elements outside the tolerance, non-finite mismatches included.
    pub bad_count: u64,
    /// Elements where a non-finite value does not match in kind.
    pub nonfinite_mismatches: u64,
    /// The first element outside the tolerance.
    pub first_bad: Option<BadElement>,
}

/// Compare `got` with `expected` element-wise: `|a-b| <= atol + rtol*|b|` with
/// `atol = atol_scale * mean|expected|` (finite elements). Non-finite values must match in
/// kind. `max_rel_err` is over elements with `expected != 0`.
pub fn compare(name: &str, got: &[f32], expected: &[f32], tol: Tolerance, into: &mut Comparison) {
    let (sum, count) = expected
        .iter()
        .filter(|x| x.is_finite())
        .fold((0.0f64, 0usize), |(s, n), x| (s + x.abs() as f64, n + 1));
    let atol = if count > 0 {
        tol.atol_scale * sum / count as f64
    } else {
        0.0
    };
    for (j, (&a, &b)) in got.iter().zip(expected).enumerate() {
        let bad = if a.is_finite() && b.is_finite() {
            let d = (a as f64 - b as f64).abs();
            into.max_abs_err = into.max_abs_err.max(d);
            if b != 0.0 {
                into.max_rel_err = into.max_rel_err.max(d / (b as f64).abs());
            }
            d > atol + tol.rtol * (b as f64).abs() // both finite: d is not NaN
        } else {
            let same = (a.is_nan() && b.is_nan()) || a == b;
            if !same {
                into.nonfinite_mismatches += 1;
            }
            !same
        };
        if bad {
            into.bad_count += 1;
            if into.first_bad.is_none() {
                into.first_bad = Some(BadElement {
                    buffer: name.to_string(),
                    index: j as u64,
                    got: format!("{a:?}"),
                    expected: format!("{b:?}"),
                });
            }
        }
    }
}

impl Worker {
    /// A worker with no kernels loaded and no references cached.
    pub fn new() -> Self {
        Self::default()
    }

    fn load(&mut self, k: &KernelRef) -> Result<KernelFn, String> {
        if !self.libs.contains_key(&k.lib) {
            // SAFETY: loading a kernel runs its initialisers; this process exists to absorb
            // whatever they do.
            let lib = unsafe { libloading::Library::new(&k.lib) }
                .map_err(|e| format!("cannot load {}: {e}", k.lib.display()))?;
            self.libs.insert(k.lib.clone(), lib);
        }
        let lib = &self.libs[&k.lib];
        // SAFETY: the symbol is declared `void f(float* const*)` by contract; the library
        // stays loaded for the life of the worker, so the copied pointer stays valid.
        let sym = unsafe { lib.get::<KernelFn>(k.symbol.as_bytes()) }.map_err(|e| {
            format!(
                "symbol `{}` not found in {}: {e}",
                k.symbol,
                k.lib.display()
            )
        })?;
        Ok(*sym)
    }

    fn buffers(&mut self, seed: u64, specs: &[BufSpec]) -> Result<&mut BufferSet, String> {
        let reuse = matches!(&self.buffers, Some(b) if b.seed == seed && b.specs == specs);
        if !reuse {
            self.buffers = None; // free before allocating the next set
            self.buffers = Some(BufferSet::new(seed, specs)?);
        }
        Ok(self.buffers.as_mut().expect("just set"))
    }

    fn reference_outputs(
        &mut self,
        reference: &KernelRef,
        seed: u64,
        specs: &[BufSpec],
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<Option<Vec<f32>>>, String> {
        let key = (reference.clone(), seed, specs.to_vec());
        if let Some(out) = self.references.get(&key) {
            return Ok(out.clone());
        }
        let f = self
            .load(reference)
            .map_err(|e| format!("reference: {e}"))?;
        let bufs = self.buffers(seed, specs)?;
        bufs.prepare();
        progress("reference loaded");
        // SAFETY: contract of the reference kernel.
        unsafe { bufs.run(f) };
        let out = bufs.outputs();
        progress("reference");
        if self.references.len() >= REFERENCE_CACHE_ENTRIES {
            self.references.clear();
        }
        self.references.insert(key, out.clone());
        Ok(out)
    }

    fn run(&mut self, spec: &RunSpec, progress: &mut dyn FnMut(&str)) -> Result<Response, String> {
        let f = self.load(&spec.kernel)?;
        progress("loaded");
        let expected = match &spec.reference {
            Some(r) => Some(self.reference_outputs(r, spec.seed, &spec.buffers, progress)?),
            None => None,
        };
        let bufs = self.buffers(spec.seed, &spec.buffers)?;
        bufs.prepare();
        let t0 = Instant::now();
        // SAFETY: kernel contract; crashes are the parent's business.
        unsafe { bufs.run(f) };
        let first_s = t0.elapsed().as_secs_f64();
        progress("check");

        let mut cmp = Comparison::default();
        let mut resp = Response::ok();
        if let Some(expected) = &expected {
            for ((spec_i, buf), exp) in bufs.specs.iter().zip(&bufs.bufs).zip(expected) {
                if let Some(exp) = exp {
                    compare(&spec_i.name, buf.as_slice(), exp, spec.tolerance, &mut cmp);
                }
            }
            resp.max_abs_err = Some(cmp.max_abs_err);
            resp.max_rel_err = Some(cmp.max_rel_err);
            if cmp.bad_count > 0 {
                let first = cmp.first_bad.clone().expect("bad element recorded");
                resp.status = Status::Wrong;
                resp.message = format!(
                    "{} element(s) outside tolerance ({} non-finite mismatches); first: {}[{}] = {} \
                     expected {}; max abs err {:.3e}, max rel err {:.3e}",
                    cmp.bad_count,
                    cmp.nonfinite_mismatches,
                    first.buffer,
                    first.index,
                    first.got,
                    first.expected,
                    cmp.max_abs_err,
                    cmp.max_rel_err
                );
                resp.first_bad = Some(first);
                return Ok(resp);
            }
        }
        let (number, repeats_us) = time_kernel(bufs, f, first_s, spec.timing, progress);
        resp.number = number;
        resp.repeats_us = repeats_us;
        Ok(resp)
    }

    /// Handle one request; `progress` is called after each phase.
    pub fn handle(&mut self, op: &Op, progress: &mut dyn FnMut(&str)) -> Response {
        let result = match op {
            Op::Ping | Op::Shutdown => Ok(Response::ok()),
            Op::Reference(r) => self
                .reference_outputs(&r.reference, r.seed, &r.buffers, progress)
                .map(|_| Response::ok()),
            Op::Run(spec) => self.run(spec, progress),
        };
        result.unwrap_or_else(Response::error)
    }
}

fn time_kernel(
    bufs: &BufferSet,
    f: KernelFn,
    first_s: f64,
    timing: Timing,
    progress: &mut dyn FnMut(&str),
) -> (u64, Vec<f64>) {
    let min_s = timing.min_repeat_ms.max(0.0) / 1e3;
    let max_number = timing.max_number.max(1);
    let time = |number: u64| {
        let t = Instant::now();
        for _ in 0..number {
            // SAFETY: kernel contract.
            unsafe { bufs.run(f) };
        }
        t.elapsed().as_secs_f64()
    };
    // Calibrate: start from the (cold) first run's estimate; while a repeat is too short,
    // grow `number` by the measured shortfall (x1.2 margin, between x2 and x100).
    let mut number = if first_s > 0.0 {
        ((min_s / first_s) as u64).clamp(1, max_number)
    } else {
        1
    };
    loop {
        let t = time(number);
        progress("calibrate");
        if t >= min_s || number >= max_number {
            break;
        }
        let factor = if t > 0.0 {
            (1.2 * min_s / t).clamp(2.0, 100.0)
        } else {
            100.0
        };
        number = ((number as f64 * factor).ceil() as u64).min(max_number);
    }
    for _ in 0..timing.warmup {
        time(number);
        progress("warmup");
    }
    let mut repeats = Vec::with_capacity(timing.repeats as usize);
    for _ in 0..timing.repeats {
        repeats.push(time(number) * 1e6 / number as f64);
        progress("repeat");
    }
    (number, repeats)
}

fn write_reply(out: &mut dyn Write, reply: &Reply) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(reply).expect("replies serialise");
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

/// Serve requests from `input` until EOF or `shutdown`.
pub fn serve(input: &mut dyn BufRead, output: &mut dyn Write) -> std::io::Result<()> {
    let mut worker = Worker::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line.trim().is_empty() {
            continue;
        }
        let request: Request = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                let done = Response::error(format!("malformed request: {e}"));
                write_reply(
                    output,
                    &Reply {
                        id: 0,
                        progress: None,
                        done: Some(done),
                    },
                )?;
                continue;
            }
        };
        let id = request.id;
        let mut io_err = None;
        let response = {
            let mut progress = |phase: &str| {
                let reply = Reply {
                    id,
                    progress: Some(phase.to_string()),
                    done: None,
                };
                if let Err(e) = write_reply(output, &reply) {
                    io_err.get_or_insert(e);
                }
            };
            // The parent's clock for a fresh worker includes its start-up; from here on only
            // this request's phases count.
            progress("received");
            let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                worker.handle(&request.op, &mut progress)
            }));
            handled.unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Response::error(format!("worker panicked: {msg}"))
            })
        };
        if let Some(e) = io_err {
            return Err(e);
        }
        write_reply(
            output,
            &Reply {
                id,
                progress: None,
                done: Some(response),
            },
        )?;
        if matches!(request.op, Op::Shutdown) {
            return Ok(());
        }
    }
}

/// Entry point of the worker process: keeps the protocol on a private duplicate of stdout and
/// points fd 1 at stderr (so a kernel's `printf` cannot corrupt it), disables core dumps, then
/// serves stdin.
pub fn worker_main() -> std::io::Result<()> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain fd and rlimit syscalls at startup, before any other thread exists.
    let proto_fd = unsafe {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        fd
    };
    // SAFETY: proto_fd is a fresh descriptor owned by nobody else.
    let file = unsafe { std::fs::File::from_raw_fd(proto_fd) };
    let mut output = std::io::BufWriter::new(file);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    serve(&mut input, &mut output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(got: &[f32], exp: &[f32]) -> Comparison {
        let mut c = Comparison::default();
        compare("x", got, exp, Tolerance::default(), &mut c);
        c
    }

    #[test]
    fn tolerance() {
        // mean |ref| = 1 => atol = 1e-3; rtol = 1e-3
        let exp = [1.0, -1.0, 1.0, -1.0];
        assert_eq!(cmp(&exp, &exp).bad_count, 0);
        assert_eq!(cmp(&[1.0019, -1.0, 1.0, -1.0], &exp).bad_count, 0);
        let c = cmp(&[1.0, -1.0, 1.0021, -1.0], &exp);
        assert_eq!(c.bad_count, 1);
        assert_eq!(c.first_bad.unwrap().index, 2);
        assert!((c.max_abs_err - 0.0021).abs() < 1e-6);
        // non-finite values must match in kind
        assert_eq!(cmp(&[f32::NAN, 0.0], &[f32::NAN, 0.0]).bad_count, 0);
        assert_eq!(cmp(&[f32::INFINITY], &[f32::INFINITY]).bad_count, 0);
        assert_eq!(
            cmp(&[f32::NEG_INFINITY], &[f32::INFINITY]).nonfinite_mismatches,
            1
        );
        assert_eq!(cmp(&[f32::NAN], &[1.0]).bad_count, 1);
        assert_eq!(cmp(&[1.0], &[f32::NAN]).bad_count, 1);
    }

    #[test]
    fn serve_answers_and_survives_garbage() {
        let input = b"{\"id\":4,\"op\":\"ping\"}\nnot json\n{\"id\":5,\"op\":\"shutdown\"}\n{\"id\":6,\"op\":\"ping\"}\n";
        let mut out = Vec::new();
        serve(&mut &input[..], &mut out).unwrap();
        let replies: Vec<Reply> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        // Each parsed request is acknowledged before it runs.
        let received: Vec<u64> = replies
            .iter()
            .filter(|r| r.progress.as_deref() == Some("received"))
            .map(|r| r.id)
            .collect();
        assert_eq!(received, [4, 5]);
        let replies: Vec<Reply> = replies.into_iter().filter(|r| r.done.is_some()).collect();
        assert_eq!(replies.len(), 3); // nothing after shutdown
        assert_eq!(replies[0].id, 4);
        assert_eq!(replies[0].done.as_ref().unwrap().status, Status::Ok);
        assert_eq!(replies[1].id, 0);
        assert!(
            replies[1]
                .done
                .as_ref()
                .unwrap()
                .message
                .contains("malformed")
        );
        assert_eq!(replies[2].id, 5);
    }

    #[test]
    fn buffers_are_aligned() {
        for len in [0, 1, 3, 17, 1000] {
            let b = AlignedBuf::new(len).unwrap();
            assert_eq!(b.as_ptr() as usize % 64, 0);
            let offsets: Vec<usize> = (0..4)
                .map(|i| AlignedBuf::staggered(len.max(1) * 1000, i).unwrap())
                .map(|b| b.as_ptr() as usize % PAGE)
                .collect();
            assert_eq!(offsets, [0, 1088, 2176, 3264], "one page offset per buffer");
            assert_eq!(b.as_slice().len(), len);
        }
    }
}
