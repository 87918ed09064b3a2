//! Process hygiene for everything colt-measure starts (compilers, the worker).
//!
//! - A compiler starts in its own process group, so a timeout kills the whole group: `cc`
//!   is a driver whose `cc1` and `as` would otherwise outlive it and keep a core busy.
//!   Live groups and half-written `*.so.tmp.*` files are registered, so [`cleanup`] (called
//!   on SIGINT/SIGTERM) ends the one and removes the other; [`remove_stale_tmp`] removes
//!   those left by a process that was killed outright.
//! - Each child's environment lacks the variables named by [`hide_env`] (the model
//!   bucket's `api_key_env` variables): a compiler or a generated kernel never sees a key.
//! - [`check_memory`] refuses a workload whose buffers cannot fit in the memory available
//!   before the worker tries to allocate them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Mutex, PoisonError};

static HIDDEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static TMP_FILES: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Remove the variables `names` from the environment of every child started from now on
/// (the process's own environment is unchanged: an LLM client still reads its key there).
pub fn hide_env<I: IntoIterator<Item = S>, S: Into<String>>(names: I) {
    let mut hidden = lock(&HIDDEN);
    for n in names {
        let n = n.into();
        if !hidden.contains(&n) {
            hidden.push(n);
        }
    }
}

/// The variables [`hide_env`] was given.
pub fn hidden_env() -> Vec<String> {
    lock(&HIDDEN).clone()
}

/// `Command::new(program)` without the hidden variables.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    for n in hidden_env() {
        c.env_remove(n);
    }
    c
}

/// A process-group leader started from [`command`]: killed with its whole group on
/// timeout, and by [`cleanup`] while it runs.
pub struct GroupChild {
    /// The process.
    pub child: Child,
}

impl GroupChild {
    /// Start `cmd` in a new process group.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<GroupChild> {
        use std::os::unix::process::CommandExt;
        let child = cmd.process_group(0).spawn()?;
        lock(&GROUPS).insert(child.id());
        Ok(GroupChild { child })
    }

    /// Kill the whole group (the driver and everything it started), then reap the leader.
    pub fn kill_group(&mut self) {
        // SAFETY: plain syscall on the group this child leads (process_group(0)); the
        // leader is not reaped yet, so its id cannot have been reused.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for GroupChild {
    fn drop(&mut self) {
        lock(&GROUPS).remove(&self.child.id());
    }
}

/// Register a temporary file being written, so [`cleanup`] removes it.
pub fn track_tmp(path: &Path) {
    lock(&TMP_FILES).insert(path.to_path_buf());
}

/// The temporary file is renamed or removed.
pub fn untrack_tmp(path: &Path) {
    lock(&TMP_FILES).remove(path);
}

/// Remove a registered temporary file that will not be renamed.
pub fn discard_tmp(path: &Path) {
    let _ = std::fs::remove_file(path);
    untrack_tmp(path);
}

/// On SIGINT/SIGTERM, before exiting: kill every live compiler group and remove every
/// half-written temporary file.
pub fn cleanup() {
    for pid in std::mem::take(&mut *lock(&GROUPS)) {
        // SAFETY: plain syscall on a group this process started and has not reaped.
        unsafe { libc::kill(-(pid as libc::pid_t), libc::SIGKILL) };
    }
    for f in std::mem::take(&mut *lock(&TMP_FILES)) {
        let _ = std::fs::remove_file(f);
    }
}

/// Remove `*.tmp.<pid>.*` files in `dir` whose process is gone (a `kill -9` leaves them).
pub fn remove_stale_tmp(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((_, rest)) = name.split_once(".tmp.") else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Bytes of memory available now (`MemAvailable` of /proc/meminfo), if known.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Bytes the worker allocates for buffers of `element_counts` f32 elements: each buffer,
/// plus a reference copy of every one (outputs are checked against the naive nest's).
/// `None` when the sum overflows.
pub fn buffer_bytes(element_counts: impl IntoIterator<Item = u64>) -> Option<u64> {
    element_counts
        .into_iter()
        .try_fold(0u64, |acc, n| acc.checked_add(n.checked_mul(4)?))?
        .checked_mul(2)
}

/// Refuse `bytes` of buffers when they exceed the memory available now.
pub fn check_memory(bytes: Option<u64>) -> Result<(), crate::MeasureError> {
    let available = available_memory();
    match (bytes, available) {
        (None, _) => Err(crate::MeasureError::TooLarge {
            needed: "more than 16 EiB".into(),
            available: available.map_or("unknown".into(), human),
        }),
        (Some(b), Some(a)) if b > a => Err(crate::MeasureError::TooLarge {
            needed: human(b),
            available: human(a),
        }),
        _ => Ok(()),
    }
}

fn human(b: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_bytes_is_checked() {
        assert_eq!(buffer_bytes([1, 2]), Some(24));
        assert_eq!(buffer_bytes([u64::MAX / 4]), None);
        assert_eq!(buffer_bytes([u64::MAX / 8, u64::MAX / 8]), None);
    }

    #[test]
    fn a_4_tib_workload_is_refused_before_allocating() {
        // 2^40 f32 elements: the spec's element cap allows it; no test machine has 8 TiB.
        let e = check_memory(buffer_bytes([1 << 40]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("8.0 TiB"), "{e}");
        assert!(check_memory(buffer_bytes([1024])).is_ok());
        assert!(check_memory(None).is_err());
    }

    /// `cleanup` kills every registered group: the tests that spawn groups or call it
    /// run one at a time, or one would kill another's child.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn children_do_not_see_hidden_variables_and_lead_their_group() {
        let _serial = lock(&SERIAL);
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("COLT_TEST_SECRET_KEY", "sk-test") };
        hide_env(["COLT_TEST_SECRET_KEY"]);
        let mut cmd = command("sh");
        cmd.args([
            "-c",
            "echo \"[$COLT_TEST_SECRET_KEY] $$ $(ps -o pgid= -p $$)\"",
        ])
        .stdout(std::process::Stdio::piped());
        let mut g = GroupChild::spawn(&mut cmd).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(g.child.stdout.as_mut().unwrap(), &mut text).unwrap();
        g.child.wait().unwrap();
        assert!(text.starts_with("[] "), "{text}");
        let ids: Vec<&str> = text.split_whitespace().skip(1).collect();
        assert_eq!(ids.len(), 2, "{text}");
        assert_eq!(ids[0], ids[1], "the child leads its own group: {text}");
        assert_eq!(std::env::var("COLT_TEST_SECRET_KEY").unwrap(), "sk-test");
    }

    #[test]
    fn a_killed_group_leaves_no_grandchild() {
        let _serial = lock(&SERIAL);
        // The probe: a compile timeout killed the `cc` driver and orphaned `cc1`. Here the
        // leader starts a grandchild that would outlive a kill of the leader alone.
        let mut cmd = command("sh");
        cmd.args(["-c", "sleep 300 & echo $!; wait"])
            .stdout(std::process::Stdio::piped());
        let mut g = GroupChild::spawn(&mut cmd).unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(g.child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let grandchild: u32 = line.trim().parse().unwrap();
        assert!(Path::new(&format!("/proc/{grandchild}")).exists());
        g.kill_group();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        // Gone, or a zombie waiting for init to reap it (no longer running).
        let running = || {
            std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .is_ok_and(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        };
        while running() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(
            !running(),
            "grandchild {grandchild} survived the group kill"
        );
    }

    #[test]
    fn stale_temporary_files_of_dead_processes_are_removed() {
        let _serial = lock(&SERIAL);
        let dir = std::env::temp_dir().join(format!("colt-child-tmp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // A pid above the kernel's pid_max cannot be alive.
        let dead = dir.join("abc.so.tmp.4194399.0");
        let mine = dir.join(format!("abc.so.tmp.{}.0", std::process::id()));
        let kept = dir.join("abc.so");
        for f in [&dead, &mine, &kept] {
            std::fs::write(f, "x").unwrap();
        }
        remove_stale_tmp(&dir);
        assert!(!dead.exists());
        assert!(mine.exists() && kept.exists());
        track_tmp(&mine);
        cleanup();
        assert!(!mine.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
