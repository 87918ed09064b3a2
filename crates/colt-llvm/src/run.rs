//! How a program is built and run, and which part of its output is checked: extra compiler
//! and linker flags, command-line arguments, standard input, and an output check that
//! either takes the whole output (`exact`), only the lines matching a regex
//! (`lines-matching`), or every line but those matching a regex (`ignore-lines`: for
//! programs that print their own timings).
//!
//! Output is checked as it streams: the kept bytes go through SHA-256 and only the first
//! [`HEAD_BYTES`] are held (for messages), so a program that prints 50 MB costs the tuner
//! no memory. A line is matched against the regex on its first [`LINE_CAP`] bytes.

use std::path::PathBuf;
use std::str::FromStr;

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::LlvmError;

/// Raw output bytes kept for messages.
pub const HEAD_BYTES: usize = 1024;

/// Bytes of one line held to decide whether it is checked.
pub const LINE_CAP: usize = 64 * 1024;

/// Which part of the output must equal the `-O0` build's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "regex")]
pub enum OutputCheck {
    /// Every byte.
    #[default]
    Exact,
    /// Only the lines matching the regex.
    LinesMatching(String),
    /// Every line except those matching the regex.
    IgnoreLines(String),
}

impl FromStr for OutputCheck {
    type Err = LlvmError;

    /// `exact`, `lines-matching REGEX` or `ignore-lines REGEX` (the regex after the first
    /// space, `=` or `:`).
    fn from_str(s: &str) -> Result<OutputCheck, LlvmError> {
        let s = s.trim();
        let (kind, re) = match s.find([' ', '=', ':']) {
            Some(i) => (&s[..i], s[i + 1..].trim()),
            None => (s, ""),
        };
        let bad = |m: &str| LlvmError::BadOption {
            option: "--check".into(),
            message: m.to_string(),
        };
        let check = match kind {
            "exact" if re.is_empty() => OutputCheck::Exact,
            "exact" => return Err(bad("`exact` takes no regex")),
            "lines-matching" => OutputCheck::LinesMatching(re.to_string()),
            "ignore-lines" => OutputCheck::IgnoreLines(re.to_string()),
            other => {
                return Err(bad(&format!(
                    "unknown check \"{other}\" (expected exact, lines-matching REGEX or ignore-lines REGEX)"
                )));
            }
        };
        check.compile()?;
        Ok(check)
    }
}

impl OutputCheck {
    /// The check ready to filter lines; a bad or empty regex is an error naming it.
    pub fn compile(&self) -> Result<LineFilter, LlvmError> {
        let (re, keep_matching) = match self {
            OutputCheck::Exact => return Ok(LineFilter { re: None }),
            OutputCheck::LinesMatching(r) => (r, true),
            OutputCheck::IgnoreLines(r) => (r, false),
        };
        if re.is_empty() {
            return Err(LlvmError::BadOption {
                option: "--check".into(),
                message: "the check needs a regex (e.g. `ignore-lines ^time`)".into(),
            });
        }
        let re = Regex::new(re).map_err(|e| LlvmError::BadOption {
            option: "--check".into(),
            message: format!(
                "bad regex \"{re}\": {}",
                e.to_string().lines().last().unwrap_or("")
            ),
        })?;
        Ok(LineFilter {
            re: Some((re, keep_matching)),
        })
    }
}

/// Everything about building and running a program beyond its source files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunOptions {
    /// Compiler flags of every build (start IR, baselines, reference), e.g. `-DN=100`.
    pub cflags: Vec<String>,
    /// Linker flags of every build, e.g. `-lpthread`.
    pub ldflags: Vec<String>,
    /// Command-line arguments of every run.
    pub args: Vec<String>,
    /// File given as standard input to every run (`None`: `/dev/null`).
    pub stdin: Option<PathBuf>,
    /// Which part of the output is checked.
    pub check: OutputCheck,
}

impl RunOptions {
    /// Whether every option has its default (plain programs).
    pub fn is_default(&self) -> bool {
        *self == RunOptions::default()
    }

    /// Whitespace-separated words of a flag string, as a shell would split a simple one
    /// (no quoting).
    pub fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }
}

/// An output check ready to use (see [`OutputCheck::compile`]).
#[derive(Clone, Debug)]
pub struct LineFilter {
    /// The regex and whether matching lines are the kept ones.
    re: Option<(Regex, bool)>,
}

impl LineFilter {
    fn keeps(&self, line: &[u8]) -> bool {
        match &self.re {
            None => true,
            Some((re, keep_matching)) => {
                let line = line.strip_suffix(b"\n").unwrap_or(line);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                re.is_match(line) == *keep_matching
            }
        }
    }
}

/// What a run printed, as far as the check is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// SHA-256 of the checked bytes.
    pub digest: [u8; 32],
    /// Bytes printed in all (checked or not).
    pub bytes: u64,
    /// The first [`HEAD_BYTES`] bytes printed.
    pub head: Vec<u8>,
    /// Lines that were checked.
    pub checked_lines: u64,
}

impl Output {
    /// The first line printed, for messages.
    pub fn first_line(&self) -> String {
        String::from_utf8_lossy(&self.head)
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    }

    /// Whether the two outputs agree for the check.
    pub fn same(&self, other: &Output) -> bool {
        self.digest == other.digest
    }
}

/// Streams output through the check (see the module doc).
pub struct Digester<'f> {
    filter: &'f LineFilter,
    hasher: Sha256,
    /// The current line, while it is not yet known whether it is checked.
    line: Vec<u8>,
    /// For a line longer than [`LINE_CAP`]: whether its rest is checked.
    decided: Option<bool>,
    head: Vec<u8>,
    bytes: u64,
    checked_lines: u64,
}

impl<'f> Digester<'f> {
    /// A digester applying `filter`.
    pub fn new(filter: &'f LineFilter) -> Digester<'f> {
        Digester {
            filter,
            hasher: Sha256::new(),
            line: Vec::new(),
            decided: None,
            head: Vec::new(),
            bytes: 0,
            checked_lines: 0,
        }
    }

    /// The next bytes of output.
    pub fn feed(&mut self, mut data: &[u8]) {
        self.bytes += data.len() as u64;
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&data[..room.min(data.len())]);
        if self.filter.re.is_none() {
            self.hasher.update(data);
            self.checked_lines += data.iter().filter(|&&b| b == b'\n').count() as u64;
            return;
        }
        while !data.is_empty() {
            let (piece, rest, ends) = match data.iter().position(|&b| b == b'\n') {
                Some(i) => (&data[..=i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            self.take(piece, ends);
            data = rest;
        }
    }

    fn take(&mut self, piece: &[u8], ends: bool) {
        match self.decided {
            Some(keep) => {
                if keep {
                    self.hasher.update(piece);
                }
            }
            None => {
                self.line.extend_from_slice(piece);
                if !ends && self.line.len() < LINE_CAP {
                    return;
                }
                let keep = self.filter.keeps(&self.line);
                if keep {
                    self.hasher.update(&self.line);
                    self.checked_lines += 1;
                }
                self.line.clear();
                if !ends {
                    self.decided = Some(keep);
                }
            }
        }
        if ends {
            self.decided = None;
        }
    }

    /// The output's digest and head.
    pub fn finish(mut self) -> Output {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if self.filter.keeps(&line) {
                self.hasher.update(&line);
                self.checked_lines += 1;
            }
        }
        Output {
            digest: self.hasher.finalize().into(),
            bytes: self.bytes,
            head: self.head,
            checked_lines: self.checked_lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(check: &OutputCheck, chunks: &[&[u8]]) -> Output {
        let f = check.compile().unwrap();
        let mut d = Digester::new(&f);
        for c in chunks {
            d.feed(c);
        }
        d.finish()
    }

    #[test]
    fn exact_sees_every_byte_however_it_is_chunked() {
        let a = digest(&OutputCheck::Exact, &[b"sum 1\n", b"time 3 ms\n"]);
        let b = digest(&OutputCheck::Exact, &[b"sum 1\nti", b"me 3 ms\n"]);
        let c = digest(&OutputCheck::Exact, &[b"sum 1\ntime 4 ms\n"]);
        assert!(a.same(&b));
        assert!(!a.same(&c));
        assert_eq!(a.bytes, 16);
        assert_eq!(a.first_line(), "sum 1");
    }

    #[test]
    fn ignore_lines_skips_timing_lines_and_still_checks_the_rest() {
        let check: OutputCheck = "ignore-lines ^time".parse().unwrap();
        let a = digest(&check, &[b"sum 1\ntime 3 ms\n"]);
        let b = digest(&check, &[b"sum 1\nti", b"me 4 ms\n"]);
        let c = digest(&check, &[b"sum 2\ntime 3 ms\n"]);
        assert!(a.same(&b));
        assert!(!a.same(&c));
        assert_eq!(a.checked_lines, 1);
    }

    #[test]
    fn lines_matching_checks_only_the_matching_lines() {
        let check: OutputCheck = "lines-matching=^checksum".parse().unwrap();
        let a = digest(&check, &[b"hello\nchecksum 42\n"]);
        let b = digest(&check, &[b"other banner\nchecksum 42"]);
        let c = digest(&check, &[b"hello\nchecksum 43\n"]);
        // The last line's missing newline counts: it is part of the checked bytes.
        assert!(!a.same(&b));
        assert!(!a.same(&c));
        let d = digest(&check, &[b"other banner\nchecksum 42\n"]);
        assert!(a.same(&d));
    }

    #[test]
    fn a_line_longer_than_the_cap_is_decided_once_and_checked_whole() {
        let check: OutputCheck = "ignore-lines ^skip".parse().unwrap();
        let long_kept: Vec<u8> = [b"keep".as_slice(), &vec![b'x'; LINE_CAP * 2], b"\n"].concat();
        let mut other = long_kept.clone();
        other[LINE_CAP + 10] = b'y';
        let a = digest(&check, &[&long_kept]);
        let b = digest(&check, &[&other]);
        assert!(!a.same(&b), "a difference past the cap is still seen");
        let long_skipped: Vec<u8> = [b"skip".as_slice(), &vec![b'x'; LINE_CAP * 2], b"\n"].concat();
        let mut other = long_skipped.clone();
        other[LINE_CAP + 10] = b'y';
        assert!(
            digest(&check, &[&long_skipped, b"end\n"]).same(&digest(&check, &[&other, b"end\n"]))
        );
        assert_eq!(a.head.len(), HEAD_BYTES);
    }

    #[test]
    fn bad_checks_are_one_clear_error() {
        for (s, want) in [
            ("lines-matching", "needs a regex"),
            ("ignore-lines ([", "bad regex"),
            ("fuzzy x", "unknown check \"fuzzy\""),
            ("exact x", "takes no regex"),
        ] {
            let e = s.parse::<OutputCheck>().unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
            assert!(e.contains("--check"), "{s}: {e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
        assert_eq!("exact".parse::<OutputCheck>().unwrap(), OutputCheck::Exact);
    }
}
