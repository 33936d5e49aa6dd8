//! Keeping a manifest's file paths inside its pack folder.
//!
//! Packs are uploaded by users, so `pack.toml` is untrusted: a path must name a regular file
//! inside the pack, reached by plain relative components, and must still be inside once
//! symlinks are resolved. Otherwise a pack could make gongan read any file the server can.

use std::path::{Component, Path, PathBuf};

/// Why a manifest path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRefusal {
    /// The path is absolute (or has a drive prefix).
    Absolute,
    /// The path has a `..` component.
    ParentDir,
    /// The path is empty or names the pack folder itself.
    Empty,
    /// After following symlinks the file is outside the pack folder.
    EscapesPack,
    /// The path does not exist.
    Missing,
    /// The path exists but is not a regular file.
    NotAFile,
}

impl std::fmt::Display for PathRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathRefusal::Absolute => "is absolute; paths must be relative to the pack folder",
            PathRefusal::ParentDir => "uses \"..\"; paths must stay inside the pack folder",
            PathRefusal::Empty => "is empty",
            PathRefusal::EscapesPack => "leads outside the pack folder through a symlink",
            PathRefusal::Missing => "does not exist",
            PathRefusal::NotAFile => "is not a regular file",
        })
    }
}

/// The real path of `relative` inside `pack_dir`, which must already be canonical.
///
/// # Errors
/// A [`PathRefusal`] saying why the path is not a file inside the pack.
pub fn resolve_inside(pack_dir: &Path, relative: &Path) -> Result<PathBuf, PathRefusal> {
    let mut normal = 0;
    for component in relative.components() {
        match component {
            Component::Normal(_) => normal += 1,
            Component::CurDir => {}
            Component::ParentDir => return Err(PathRefusal::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(PathRefusal::Absolute),
        }
    }
    if normal == 0 {
        return Err(PathRefusal::Empty);
    }
    let real = pack_dir
        .join(relative)
        .canonicalize()
        .map_err(|_| PathRefusal::Missing)?;
    if !real.starts_with(pack_dir) {
        return Err(PathRefusal::EscapesPack);
    }
    if !real.is_file() {
        return Err(PathRefusal::NotAFile);
    }
    Ok(real)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn lexical_escapes_are_refused_before_touching_the_disk() {
        let dir = Path::new("/nonexistent-pack");
        assert_eq!(
            resolve_inside(dir, Path::new("../etc/passwd")),
            Err(PathRefusal::ParentDir)
        );
        assert_eq!(
            resolve_inside(dir, Path::new("a/../../b.wav")),
            Err(PathRefusal::ParentDir)
        );
        assert_eq!(
            resolve_inside(dir, Path::new("/etc/passwd")),
            Err(PathRefusal::Absolute)
        );
        assert_eq!(resolve_inside(dir, Path::new("")), Err(PathRefusal::Empty));
        assert_eq!(
            resolve_inside(dir, Path::new("./")),
            Err(PathRefusal::Empty)
        );
        assert_eq!(
            resolve_inside(dir, Path::new("gong.wav")),
            Err(PathRefusal::Missing)
        );
    }
}
