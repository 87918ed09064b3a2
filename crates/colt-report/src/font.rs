//! The font plot text is laid out with.
//!
//! plotters measures every label (axis areas, legends, SVG text anchors) and rasterises
//! PNG text through ab_glyph, which needs TrueType bytes registered under the family
//! names the charts use. The report finds one system font once per process instead of
//! embedding ~700 KB in the binary: `$COLT_FONT`, then the usual DejaVu/Liberation paths
//! of Debian, Fedora, Arch and macOS. In the HTML the SVG text is drawn by the browser's
//! own sans-serif font; the file only has to exist for layout and PNGs.

use crate::ReportError;
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Family name every chart uses.
pub const FAMILY: &str = "sans-serif";

const REGULAR: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
    "/Library/Fonts/Arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Candidate font files in the order they are tried.
fn candidates() -> Vec<PathBuf> {
    let mut v = vec![];
    if let Some(p) = std::env::var_os("COLT_FONT").filter(|p| !p.is_empty()) {
        v.push(PathBuf::from(p));
    }
    v.extend(REGULAR.iter().map(PathBuf::from));
    v
}

/// The bold face next to a regular one (`DejaVuSans.ttf` → `DejaVuSans-Bold.ttf`).
fn bold_sibling(regular: &Path) -> Option<PathBuf> {
    let stem = regular.file_stem()?.to_str()?;
    let base = stem.strip_suffix("-Regular").unwrap_or(stem);
    let p = regular.with_file_name(format!("{base}-Bold.ttf"));
    p.is_file().then_some(p)
}

fn leak(path: &Path) -> Result<&'static [u8], ReportError> {
    let bytes = std::fs::read(path).map_err(|e| ReportError::BadFont {
        path: path.into(),
        problem: e.to_string(),
    })?;
    Ok(Box::leak(bytes.into_boxed_slice()))
}

fn register(path: &Path, style: FontStyle) -> Result<(), ReportError> {
    plotters::style::register_font(FAMILY, style, leak(path)?).map_err(|_| ReportError::BadFont {
        path: path.into(),
        problem: "not a TrueType/OpenType font".into(),
    })
}

fn load() -> Result<PathBuf, ReportError> {
    let tried = candidates();
    let Some(regular) = tried.iter().find(|p| p.is_file()) else {
        let list: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
        return Err(ReportError::NoFont {
            tried: list.join(", "),
        });
    };
    register(regular, FontStyle::Normal)?;
    if let Some(bold) = bold_sibling(regular) {
        register(&bold, FontStyle::Bold)?;
    }
    Ok(regular.clone())
}

/// Register the plot font (once per process); the path of the regular face.
pub fn ensure() -> Result<&'static Path, ReportError> {
    static LOADED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match LOADED.get_or_init(|| load().map_err(|e| e.to_string())) {
        Ok(p) => Ok(p.as_path()),
        Err(e) => Err(ReportError::Font(e.clone())),
    }
}
