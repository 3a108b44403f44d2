//! Files: writing outputs atomically. Every file goes to a temporary file in the
//! destination folder and is renamed into place once complete, and a run's files are
//! all rendered in memory before the first is written.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::table::{CsvStyle, Table};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place, so readers see either the old file or the whole new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    // tempfile creates 0600 files; outputs are ordinary files for the office to share.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// A set of files written together: everything is rendered in memory first, then each
/// file is renamed into place, so a failure while computing leaves no output at all.
#[derive(Default)]
pub(crate) struct Outputs {
    pub(crate) files: Vec<(PathBuf, Vec<u8>)>,
}

impl Outputs {
    pub(crate) fn add(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.files.push((path, bytes));
    }
    pub(crate) fn add_table(&mut self, dir: &Path, name: &str, table: &Table, style: CsvStyle) {
        self.add(dir.join(name), table.to_csv(style));
    }
    pub(crate) fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }
    pub(crate) fn write(&self) -> Result<(), WriteError> {
        for (p, b) in &self.files {
            write_atomic(p, b)?;
        }
        Ok(())
    }
}
