//! Atomic file writes: a reader sees the old file or the whole new one, never a half-written
//! one, even after a crash or a full disk.
//!
//! The bytes go to a temporary file in the target's directory, created with the final mode
//! (so a key is never readable by others, not even for an instant), flushed to disk, then
//! renamed (or hard-linked, to refuse an existing target) into place, and the directory is
//! flushed so the new name survives a crash.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// What a file holds, which decides its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A private key or anything else only the owner may read: mode 0600.
    Secret,
    /// Certificates, chains, CRLs: mode 0644.
    Public,
}

impl FileKind {
    /// The file mode (permission bits) this kind is written with.
    pub fn mode(self) -> u32 {
        match self {
            Self::Secret => 0o600,
            Self::Public => 0o644,
        }
    }
}

/// Writes `bytes` to `path` atomically with `kind`'s mode, replacing any existing file.
///
/// # Errors
/// Any I/O error; the target is then untouched and no temporary file is left behind.
pub fn write_atomic(path: &Path, bytes: &[u8], kind: FileKind) -> io::Result<()> {
    let temp = TempFile::write(path, bytes, kind)?;
    fs::rename(&temp.path, path)?;
    temp.disarm();
    sync_parent(path)
}

/// Like [`write_atomic`], but refuses to replace an existing `path` (or a dangling symlink
/// there): the error then has kind [`io::ErrorKind::AlreadyExists`] and the existing file is
/// untouched. The check and the creation are one step (a hard link), so two writers racing
/// for the same name cannot both succeed.
///
/// # Errors
/// [`io::ErrorKind::AlreadyExists`] when `path` exists; any other I/O error. Either way no
/// temporary file is left behind.
pub fn create_new_atomic(path: &Path, bytes: &[u8], kind: FileKind) -> io::Result<()> {
    let temp = TempFile::write(path, bytes, kind)?;
    // link(2) fails with EEXIST instead of replacing; the temporary name is dropped below.
    fs::hard_link(&temp.path, path)?;
    drop(temp);
    sync_parent(path)
}

/// Files that only make sense together (a key, its certificate, its chain): each is created
/// with [`create_new_atomic`], and unless [`NewFileSet::keep`] is called — because one could
/// not be written, or the caller returned early — those already created are removed when the
/// set is dropped, so a reader finds the whole set or none of it.
#[derive(Debug, Default)]
pub struct NewFileSet {
    created: Vec<PathBuf>,
}

impl NewFileSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates `path` as [`create_new_atomic`] does and adds it to the set.
    ///
    /// # Errors
    /// As [`create_new_atomic`]; `path` is then not created, and the files created before
    /// it are removed when the set is dropped.
    pub fn create(&mut self, path: &Path, bytes: &[u8], kind: FileKind) -> io::Result<()> {
        create_new_atomic(path, bytes, kind)?;
        self.created.push(path.to_path_buf());
        Ok(())
    }

    /// Every file was written: keep them all.
    pub fn keep(mut self) {
        self.created.clear();
    }
}

impl Drop for NewFileSet {
    fn drop(&mut self) {
        // Best effort, newest first: the error that made the set incomplete is the one the
        // caller reports.
        for path in self.created.iter().rev() {
            let _ = fs::remove_file(path);
        }
    }
}

/// A fully written, synced temporary file next to the target; removed on drop unless
/// disarmed after a rename.
struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    fn write(target: &Path, bytes: &[u8], kind: FileKind) -> io::Result<Self> {
        let (mut file, temp) = Self::create(target, kind)?;
        // The mode given at creation is reduced by the umask; set it exactly. For a secret
        // this only ever narrows, so the file is never wider than 0600.
        file.set_permissions(Permissions::from_mode(kind.mode()))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        Ok(temp)
    }

    fn create(target: &Path, kind: FileKind) -> io::Result<(File, Self)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{}` does not name a file", target.display()),
            )
        })?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let mut attempt = 0;
        loop {
            let count = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut temp_name = std::ffi::OsString::from(".");
            temp_name.push(name);
            temp_name.push(format!(".tmp-{}-{count}-{nanos:08x}", std::process::id()));
            let path = target.with_file_name(temp_name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(kind.mode())
                .open(&path)
            {
                Ok(file) => return Ok((file, Self { path, armed: true })),
                // A stale temporary file from a crashed writer with the same pid and counter.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => {
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: the write already failed (or succeeded through a link), and the
            // caller hears about the error that matters.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Flushes the directory holding `path`, so the rename or link itself is durable.
fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn secret_is_0600_and_public_is_0644() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("ca.key.pem");
        let cert = dir.path().join("ca.pem");
        write_atomic(&key, b"secret", FileKind::Secret).unwrap();
        write_atomic(&cert, b"public", FileKind::Public).unwrap();
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&cert), 0o644);
        assert_eq!(fs::read(&key).unwrap(), b"secret");
        assert_eq!(fs::read(&cert).unwrap(), b"public");
        assert_eq!(names(dir.path()), ["ca.key.pem", "ca.pem"]);
    }

    #[test]
    fn replaces_an_existing_file_and_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        fs::write(&path, b"old contents, longer than the new").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o666)).unwrap();
        write_atomic(&path, b"new", FileKind::Secret).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(names(dir.path()), ["key.pem"]);
    }

    #[test]
    fn a_file_set_is_kept_whole_or_removed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut kept = NewFileSet::new();
        kept.create(&dir.path().join("a.key.pem"), b"k", FileKind::Secret)
            .unwrap();
        kept.create(&dir.path().join("a.pem"), b"c", FileKind::Public)
            .unwrap();
        kept.keep();
        assert_eq!(names(dir.path()), ["a.key.pem", "a.pem"]);

        // The second name is taken: the first file of the set must not stay behind.
        let mut broken = NewFileSet::new();
        broken
            .create(&dir.path().join("b.key.pem"), b"k", FileKind::Secret)
            .unwrap();
        let error = broken
            .create(&dir.path().join("a.pem"), b"c", FileKind::Public)
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        drop(broken);
        assert_eq!(names(dir.path()), ["a.key.pem", "a.pem"]);
        assert_eq!(fs::read(dir.path().join("a.pem")).unwrap(), b"c");
    }

    #[test]
    fn create_new_writes_when_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key.pem");
        create_new_atomic(&path, b"key", FileKind::Secret).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"key");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(names(dir.path()), ["root.key.pem"]);
    }

    #[test]
    fn create_new_refuses_an_existing_file_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("root.key.pem");
        fs::write(&path, b"the real root key").unwrap();
        fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        let error = create_new_atomic(&path, b"a new key", FileKind::Public).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"the real root key");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(names(dir.path()), ["root.key.pem"]);
    }

    #[test]
    fn create_new_refuses_a_dangling_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("link.pem");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &path).unwrap();
        let error = create_new_atomic(&path, b"x", FileKind::Secret).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert!(!dir.path().join("elsewhere").exists());
        assert_eq!(names(dir.path()), ["link.pem"]);
    }

    #[test]
    fn failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file: the rename fails.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), b"").unwrap();
        assert!(write_atomic(&target, b"x", FileKind::Public).is_err());
        assert_eq!(names(dir.path()), ["occupied"]);
        assert!(target.is_dir());
    }

    #[test]
    fn missing_directory_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("key.pem");
        let error = write_atomic(&path, b"x", FileKind::Secret).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn a_bare_file_name_syncs_the_current_directory() {
        // `Path::parent` of a bare name is "", which must mean ".".
        assert!(sync_parent(Path::new("bare-name")).is_ok());
    }
}
