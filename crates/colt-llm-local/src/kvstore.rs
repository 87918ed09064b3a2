//! Prompt KV states kept on disk between processes.
//!
//! Every run of a workload starts each model's prompt with the same prefix (instructions,
//! program, catalog: 2,000-3,000 tokens), and evaluating it cold costs 10-15 s per model on
//! 2 cores. The first call of a context that finds no state saves its KV state (with the
//! tokens it holds) under a key made from the model file, the context size and the
//! prefix's tokens; a later process with the same key loads it in well under a second.
//! The prompt's stem (the part every workload of a search space shares: instructions,
//! action catalog, models) gets a state of its own, stored when a call first evaluates
//! it, so the first run of a workload never seen evaluates only its workload part.
//!
//! The file is a cache and is never trusted: the tokens stored with the state must start
//! with the prompt's prefix, else the state is dropped and the prompt evaluated as usual.
//! Writes go through a temporary name and a rename; only the [`KEEP`] most recently used
//! states stay in the folder.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

/// States kept per folder (each 40-70 MB for a 3,000-token prompt of a 135M-270M model):
/// room for the stems of two spaces for two models beside eight prefixes.
pub const KEEP: usize = 12;

/// Extension of the state files.
const EXT: &str = "kvstate";

/// Where the state of `prefix` for this model file and context size lives in `dir`.
pub fn state_path(dir: &Path, model: &Path, n_ctx: u32, n_batch: u32, prefix: &[i32]) -> PathBuf {
    let mut h = Sha256::new();
    h.update(model.as_os_str().as_encoded_bytes());
    if let Ok(m) = std::fs::metadata(model) {
        h.update(m.len().to_le_bytes());
        if let Ok(t) = m.modified().and_then(|t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_err(std::io::Error::other)
        }) {
            h.update(t.as_nanos().to_le_bytes());
        }
    }
    h.update(n_ctx.to_le_bytes());
    h.update(n_batch.to_le_bytes());
    for t in prefix {
        h.update(t.to_le_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let stem = model
        .file_stem()
        .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
    dir.join(format!("{stem}-{hex}.{EXT}"))
}

/// A temporary name next to `path` for this process.
pub fn temp_path(path: &Path) -> PathBuf {
    path.with_extension(format!("{EXT}.tmp{}", std::process::id()))
}

/// Marks `path` as just used (eviction keeps the most recent).
pub fn touch(path: &Path) {
    if let Ok(f) = std::fs::File::options().append(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Removes all but the `keep` most recently used states of `dir`, and temporary files
/// older than an hour (left by killed processes).
pub fn evict(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut states: Vec<(SystemTime, PathBuf)> = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let modified = e
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH);
        if name.contains(&format!(".{EXT}.tmp")) {
            let old = now
                .duration_since(modified)
                .is_ok_and(|d| d.as_secs() > 3600);
            if old {
                let _ = std::fs::remove_file(&p);
            }
        } else if name.ends_with(&format!(".{EXT}")) {
            states.push((modified, p));
        }
    }
    states.sort_by_key(|s| std::cmp::Reverse(s.0));
    for (_, p) in states.into_iter().skip(keep) {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_follows_the_prefix_the_context_and_the_model_file() {
        let dir = std::env::temp_dir().join(format!("colt-kv-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = dir.join("m.gguf");
        std::fs::write(&model, b"weights").unwrap();
        let a = state_path(&dir, &model, 8192, 512, &[1, 2, 3]);
        assert_eq!(a, state_path(&dir, &model, 8192, 512, &[1, 2, 3]));
        assert_ne!(a, state_path(&dir, &model, 8192, 512, &[1, 2, 4]));
        assert_ne!(a, state_path(&dir, &model, 4096, 512, &[1, 2, 3]));
        assert_ne!(a, state_path(&dir, &model, 8192, 256, &[1, 2, 3]));
        std::fs::write(&model, b"other weights").unwrap();
        assert_ne!(a, state_path(&dir, &model, 8192, 512, &[1, 2, 3]));
        assert!(a.file_name().unwrap().to_str().unwrap().starts_with("m-"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn eviction_keeps_the_most_recently_used_states() {
        let dir = std::env::temp_dir().join(format!("colt-kv-evict-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let t0 = SystemTime::now() - std::time::Duration::from_secs(7200);
        let mut paths = Vec::new();
        for i in 0..5u64 {
            let p = dir.join(format!("m-{i}.{EXT}"));
            std::fs::write(&p, b"s").unwrap();
            let f = std::fs::File::options().append(true).open(&p).unwrap();
            f.set_modified(t0 + std::time::Duration::from_secs(i * 60))
                .unwrap();
            paths.push(p);
        }
        let stale_tmp = dir.join(format!("m-9.{EXT}.tmp1"));
        std::fs::write(&stale_tmp, b"s").unwrap();
        let f = std::fs::File::options()
            .append(true)
            .open(&stale_tmp)
            .unwrap();
        f.set_modified(t0).unwrap();
        let other = dir.join("notes.txt");
        std::fs::write(&other, b"keep me").unwrap();
        touch(&paths[0]); // the oldest becomes the most recent
        evict(&dir, 2);
        let left: Vec<bool> = paths.iter().map(|p| p.exists()).collect();
        assert_eq!(left, [true, false, false, false, true]);
        assert!(!stale_tmp.exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
