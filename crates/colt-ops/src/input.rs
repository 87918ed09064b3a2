//! Reading user input files with a size limit.
//!
//! Specs, traces and configs are small (a few KiB); a file past [`MAX_INPUT_BYTES`] is a
//! mistake (`--trace /dev/zero`, a log passed by accident) and is refused after reading at
//! most one byte more than the limit, so no input can exhaust memory.

use std::io::Read;
use std::path::Path;

/// The largest spec, trace or config file colt reads: 1 MiB.
pub const MAX_INPUT_BYTES: u64 = 1 << 20;

/// The text of `path`, refused when it is larger than [`MAX_INPUT_BYTES`] (checked while
/// reading, so endless files such as `/dev/zero` are refused too) or not UTF-8.
pub fn read_input(path: &Path) -> std::io::Result<String> {
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other("is a directory"));
    }
    let mut buf = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB, the limit for input files",
            MAX_INPUT_BYTES >> 20
        )));
    }
    String::from_utf8(buf).map_err(|_| std::io::Error::other("not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endless_and_large_files_are_refused() {
        let e = read_input(Path::new("/dev/zero")).unwrap_err();
        assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
        let dir = std::env::temp_dir().join(format!("colt-ops-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("big.toml");
        std::fs::write(&p, vec![b'#'; MAX_INPUT_BYTES as usize + 1]).unwrap();
        assert!(read_input(&p).is_err());
        std::fs::write(&p, vec![b'#'; MAX_INPUT_BYTES as usize]).unwrap();
        assert_eq!(read_input(&p).unwrap().len(), MAX_INPUT_BYTES as usize);
        assert!(
            read_input(&dir)
                .unwrap_err()
                .to_string()
                .contains("directory")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
