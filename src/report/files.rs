//! Files: writing outputs so that nothing is lost or mixed.
//!
//! A run's files are all rendered in memory, then all written to temporary files in the
//! destination folder, and only then renamed into place; a `manifest.json` written last
//! names the run and each file's size and SHA-256, so a folder holding files of two runs
//! (a run killed during its renames) is detectable by `bacpredict check`. Temporary
//! files are named after the process that wrote them, and those of a process that is
//! gone are removed by the next run.

use crate::planning::PlanSettings;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::table::{CsvStyle, Table};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: a folder of that name is in the way (nothing was replaced)")]
    FolderInTheWay { path: PathBuf },
    #[error("cannot build the workbook: {0}")]
    Workbook(String),
}

/// The name of the file that describes a run's set of files.
pub(crate) const MANIFEST: &str = "manifest.json";

/// Temporary files start with this, then the writing process's id.
const TEMP_PREFIX: &str = ".bacpredict-";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place, so readers see either the old file or the whole new one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = folder_of(path);
    create_folder(&dir)?;
    remove_stale_temporaries(&dir);
    refuse_folder_in_the_way(path)?;
    let tmp = write_temporary(&dir, path, bytes)?;
    persist(tmp, path)
}

/// Whether `a` and `b` are one existing file, whatever the links and `..` between them
/// (on Unix, the same device and inode, so a hard link counts too). A path that does not
/// exist is no file yet: writing it can replace nothing. `sub/../x`, where `sub` does
/// not exist yet, is `x` once the folders of the output are created, so each path is
/// also compared with its `..` resolved by name.
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    let (la, lb) = (lexical(a), lexical(b));
    let pairs = [(a, b), (&la, b), (a, &lb), (&la, &lb)];
    pairs.iter().any(|(x, y)| same_existing_file(x, y))
}

fn same_existing_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

/// `path` made absolute, with `.` and `name/..` removed by name.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::env::current_dir().unwrap_or_default().join(path);
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn create_folder(dir: &Path) -> Result<(), WriteError> {
    fs::create_dir_all(dir).map_err(io_error(dir))
}

fn refuse_folder_in_the_way(path: &Path) -> Result<(), WriteError> {
    if path.is_dir() {
        return Err(WriteError::FolderInTheWay {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// `bytes` in a new temporary file of `dir`, flushed to disk, readable by all (tempfile
/// creates 0600 files; outputs are ordinary files for the office to share).
fn write_temporary(
    dir: &Path,
    target: &Path,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile, WriteError> {
    let err = io_error(target);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(&err)?;
    tmp.write_all(bytes).map_err(&err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(0o644))
            .map_err(&err)?;
    }
    tmp.as_file().sync_all().map_err(&err)?;
    Ok(tmp)
}

fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<(), WriteError> {
    tmp.persist(path).map_err(|e| io_error(path)(e.error))?;
    Ok(())
}

/// Removes the temporary files of `dir` left by a process that is gone (killed during a
/// run). Best effort: a file that cannot be removed is left.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if name.ends_with(TEMP_SUFFIX) && pid.is_some_and(|p| !process_alive(p)) {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Whether process `pid` may still be running (where that cannot be told, it may).
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

/// What `manifest.json` holds.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Manifest {
    pub(crate) tool: String,
    pub(crate) command: String,
    /// Names the run: a digest of its files, so the same inputs give the same manifest.
    pub(crate) run: String,
    pub(crate) files: Vec<ManifestFile>,
    /// What a plan was made with (`forecast` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) settings: Option<PlanSettings>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct ManifestFile {
    pub(crate) name: String,
    pub(crate) bytes: u64,
    pub(crate) sha256: String,
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    fn of(command: &str, files: &[(String, Vec<u8>)], settings: Option<PlanSettings>) -> Manifest {
        let files: Vec<ManifestFile> = files
            .iter()
            .map(|(name, bytes)| ManifestFile {
                name: name.clone(),
                bytes: bytes.len() as u64,
                sha256: sha256_hex(bytes),
            })
            .collect();
        let listing: String = files
            .iter()
            .map(|f| format!("{} {}\n", f.sha256, f.name))
            .collect();
        Manifest {
            tool: format!("bacpredict {}", env!("CARGO_PKG_VERSION")),
            command: command.to_string(),
            run: sha256_hex(listing.as_bytes())[..16].to_string(),
            files,
            settings,
        }
    }

    /// The manifest of `dir`, if there is a readable one.
    pub(crate) fn read(dir: &Path) -> Option<Manifest> {
        let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// The files of one run, written together into one folder (see the module doc).
pub(crate) struct Outputs {
    dir: PathBuf,
    command: &'static str,
    files: Vec<(String, Vec<u8>)>,
    settings: Option<PlanSettings>,
}

impl Outputs {
    pub(crate) fn new(dir: &Path, command: &'static str) -> Outputs {
        Outputs {
            dir: dir.to_path_buf(),
            command,
            files: Vec::new(),
            settings: None,
        }
    }

    /// Records in the manifest what the plan was made with.
    pub(crate) fn set_settings(&mut self, settings: PlanSettings) {
        self.settings = Some(settings);
    }

    pub(crate) fn add(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.to_string(), bytes));
    }

    pub(crate) fn add_table(&mut self, name: &str, table: &Table, style: CsvStyle) {
        self.add(name, table.to_csv(style));
    }

    /// The data files' paths (the manifest aside).
    pub(crate) fn paths(&self) -> impl Iterator<Item = PathBuf> + '_ {
        self.files.iter().map(|(n, _)| self.dir.join(n))
    }

    /// Writes every file, then the manifest. Files an earlier run listed in its manifest
    /// and this run does not write (a `summons.csv` from a run with a roster) are removed,
    /// unless they are in `keep` (an input of this run).
    pub(crate) fn write(&self, keep: &[PathBuf]) -> Result<(), WriteError> {
        create_folder(&self.dir)?;
        remove_stale_temporaries(&self.dir);
        for name in self.names().chain([MANIFEST]) {
            refuse_folder_in_the_way(&self.dir.join(name))?;
        }
        let mut temporaries = Vec::with_capacity(self.files.len());
        for (name, bytes) in &self.files {
            let path = self.dir.join(name);
            temporaries.push((write_temporary(&self.dir, &path, bytes)?, path));
        }
        let manifest = Manifest::of(self.command, &self.files, self.settings.clone());
        let text = serde_json::to_string_pretty(&manifest).expect("manifest serialises") + "\n";
        let manifest_path = self.dir.join(MANIFEST);
        let manifest_tmp = write_temporary(&self.dir, &manifest_path, text.as_bytes())?;
        self.retire_previous_run(keep)?;
        for (tmp, path) in temporaries {
            persist(tmp, &path)?;
        }
        persist(manifest_tmp, &manifest_path)
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|(n, _)| n.as_str())
    }

    /// Removes the previous manifest (from here on the folder is a run in progress) and
    /// the files of the previous run that this one does not replace.
    fn retire_previous_run(&self, keep: &[PathBuf]) -> Result<(), WriteError> {
        let previous = Manifest::read(&self.dir);
        let manifest_path = self.dir.join(MANIFEST);
        if manifest_path.exists() {
            fs::remove_file(&manifest_path).map_err(io_error(&manifest_path))?;
        }
        let ours: BTreeSet<&str> = self.names().collect();
        for f in previous.map(|m| m.files).unwrap_or_default() {
            // Only a plain name of this folder: a manifest is never a way to delete
            // files elsewhere.
            let plain = Path::new(&f.name).file_name() == Some(f.name.as_ref());
            let path = self.dir.join(&f.name);
            if plain
                && !ours.contains(f.name.as_str())
                && !keep.iter().any(|k| same_file(k, &path))
                && path.is_file()
            {
                fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        Ok(())
    }
}
