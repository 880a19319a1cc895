//! All-or-nothing output that can lose nothing.
//!
//! [`OutputSet::create`] makes one temporary file per output in the target
//! directory: an unpredictable name, created exclusively (`O_EXCL`, so a
//! planted symlink or file is never followed or overwritten). The caller
//! writes them; [`OutputSet::commit`] then makes them appear together:
//!
//! 1. with `--fsync`, every temporary is flushed to disk (by default it is
//!    not, as `numpy.save` does not: the guarantees below are about runs
//!    that fail, not machines that crash);
//! 2. every target that already exists gets a backup: a hard link under
//!    another unpredictable name (a copy where the file system has no hard
//!    links), so the user's file stays untouched until step 3;
//! 3. the temporaries are renamed over the targets, in order. If a rename
//!    fails, the targets already renamed are put back: their backup is
//!    renamed over them, or they are removed if there was none;
//! 4. on success the backups are removed.
//!
//! Dropping an uncommitted set removes its temporaries and the directories
//! it created (if still empty). So a failed run leaves the directory as it
//! was, and a file the user had is never lost: at worst (a failure while
//! putting things back) its previous content is left in a named backup,
//! which the error message gives.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use tempfile::TempPath;

use crate::error::CliError;

/// The output files of one command, staged under temporary names.
pub struct OutputSet {
    staged: Vec<Staged>,
    /// Flush the files (and the directory) to disk before the renames.
    sync: bool,
    /// Directories this set created, innermost first.
    created: Vec<PathBuf>,
}

struct Staged {
    file: File,
    temp: TempPath,
    target: PathBuf,
}

impl OutputSet {
    /// Create `dir` (and missing parents) if needed, and one exclusive
    /// temporary file there per name. Fails before creating anything if a
    /// target is a directory.
    pub fn create(dir: &Path, names: &[String]) -> Result<OutputSet, CliError> {
        let mut set = OutputSet {
            staged: Vec::with_capacity(names.len()),
            sync: false,
            created: create_dirs(dir)?,
        };
        for name in names {
            let target = dir.join(name);
            let output_error = |source| CliError::Output {
                path: target.clone(),
                source,
            };
            refuse_directory(&target).map_err(output_error)?;
            let temp = temp_builder(&format!(".{name}."), ".tmp")
                .tempfile_in(dir)
                .map_err(output_error)?;
            let (file, temp) = temp.into_parts();
            set.staged.push(Staged { file, temp, target });
        }
        Ok(set)
    }

    /// Flush every file to disk before renaming it into place (and the
    /// directory after), for durability across a machine crash.
    pub fn sync_to_disk(&mut self, sync: bool) {
        self.sync = sync;
    }

    /// The final path of the `i`-th output (for messages).
    pub fn path(&self, i: usize) -> &Path {
        &self.staged[i].target
    }

    /// The file the `i`-th output is written to.
    pub fn file(&mut self, i: usize) -> &mut File {
        &mut self.staged[i].file
    }

    /// The file the `i`-th output is written to, for positioned writes.
    pub fn file_ref(&self, i: usize) -> &File {
        &self.staged[i].file
    }

    /// Make every output appear under its name, all or nothing (see the
    /// module docs). Returns the paths, in the order given to `create`.
    pub fn commit(self) -> Result<Vec<PathBuf>, CliError> {
        self.commit_with(|from, to| fs::rename(from, to))
    }

    /// `commit`, renaming with `rename` (tests inject failures through it).
    fn commit_with(
        mut self,
        mut rename: impl FnMut(&Path, &Path) -> io::Result<()>,
    ) -> Result<Vec<PathBuf>, CliError> {
        for s in self.staged.iter().filter(|_| self.sync) {
            s.file.sync_all().map_err(|source| CliError::Output {
                path: s.target.clone(),
                source,
            })?;
        }
        let mut backups: Vec<Option<TempPath>> = Vec::with_capacity(self.staged.len());
        for s in &self.staged {
            let backup = back_up(&s.target).map_err(|source| CliError::Output {
                path: s.target.clone(),
                source,
            })?;
            backups.push(backup);
        }
        for i in 0..self.staged.len() {
            let (temp, target) = (&self.staged[i].temp, self.staged[i].target.clone());
            if let Err(source) = rename(temp, &target) {
                let unrestored = self.roll_back(i, &mut backups, &mut rename);
                return Err(CliError::Output {
                    path: target,
                    source: with_unrestored(source, &unrestored),
                });
            }
        }
        let targets: Vec<PathBuf> = self.staged.iter().map(|s| s.target.clone()).collect();
        for s in self.staged.drain(..) {
            // renamed: the temporary name no longer exists, nothing to delete
            let _ = s.temp.keep();
        }
        self.created.clear();
        // Dropping the backups deletes them: the old contents are replaced.
        drop(backups);
        if let Some(dir) = targets
            .first()
            .and_then(|t| t.parent())
            .filter(|_| self.sync)
        {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(targets)
    }

    /// Undo the first `done` renames. Returns the backups that could not be
    /// put back (kept on disk, so their contents are not lost).
    fn roll_back(
        &mut self,
        done: usize,
        backups: &mut [Option<TempPath>],
        rename: &mut impl FnMut(&Path, &Path) -> io::Result<()>,
    ) -> Vec<(PathBuf, PathBuf)> {
        let mut unrestored = Vec::new();
        for j in (0..done).rev() {
            let target = &self.staged[j].target;
            match backups[j].take() {
                Some(backup) => {
                    if rename(&backup, target).is_ok() {
                        let _ = backup.keep();
                    } else {
                        match backup.keep() {
                            Ok(path) => unrestored.push((target.clone(), path)),
                            Err(e) => unrestored.push((target.clone(), e.path.to_path_buf())),
                        }
                    }
                }
                None => {
                    let _ = fs::remove_file(target);
                }
            }
        }
        unrestored
    }
}

impl Drop for OutputSet {
    fn drop(&mut self) {
        // The staged temporaries delete themselves (TempPath); then the
        // directories we created, innermost first, if nothing else is in them.
        self.staged.clear();
        for dir in &self.created {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// A tempfile builder for names `prefix<random>suffix`, with the
/// permissions a plain `File::create` would give (0666 less the umask).
fn temp_builder<'a>(prefix: &'a str, suffix: &'a str) -> tempfile::Builder<'a, 'a> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix).suffix(suffix).rand_bytes(12);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(0o666));
    }
    b
}

fn refuse_directory(target: &Path) -> io::Result<()> {
    match fs::symlink_metadata(target) {
        Ok(m) if m.is_dir() => Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "a directory has this name",
        )),
        _ => Ok(()),
    }
}

/// A backup of `target` if it exists: a hard link (or a copy) under an
/// unpredictable name beside it, deleted when the returned path is dropped.
fn back_up(target: &Path) -> io::Result<Option<TempPath>> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "a directory has this name",
        ));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.");
    let linked = temp_builder(&prefix, ".bak").make_in(dir, |path| fs::hard_link(target, path));
    let backup = match linked {
        Ok(b) => b,
        // no hard links here (FAT, some network file systems): copy instead
        Err(_) => temp_builder(&prefix, ".bak").make_in(dir, |path| {
            let mut to = File::options().write(true).create_new(true).open(path)?;
            io::copy(&mut File::open(target)?, &mut to)?;
            to.sync_all()
        })?,
    };
    Ok(Some(backup.into_temp_path()))
}

/// Create `dir` and its missing parents; return those created, innermost first.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let mut missing = Vec::new();
    let mut cur = Some(dir);
    while let Some(d) =
        cur.filter(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
    {
        missing.push(d.to_path_buf());
        cur = d.parent();
    }
    let out_dir_error = |source| CliError::OutDir {
        path: dir.to_path_buf(),
        source,
    };
    if missing.is_empty() {
        if !fs::metadata(dir).map_err(out_dir_error)?.is_dir() {
            return Err(out_dir_error(io::Error::new(
                io::ErrorKind::NotADirectory,
                "it exists and is not a directory",
            )));
        }
    } else {
        fs::create_dir_all(dir).map_err(out_dir_error)?;
    }
    Ok(missing)
}

/// `source`, extended with where the contents that could not be put back are.
fn with_unrestored(source: io::Error, unrestored: &[(PathBuf, PathBuf)]) -> io::Error {
    if unrestored.is_empty() {
        return source;
    }
    let list: Vec<String> = unrestored
        .iter()
        .map(|(t, b)| format!("{} is in {}", t.display(), b.display()))
        .collect();
    io::Error::new(
        source.kind(),
        format!(
            "{source}; putting the previous files back failed, their contents are kept: {}",
            list.join("; ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn staged(dir: &Path, files: &[(&str, &str)]) -> OutputSet {
        let list: Vec<&str> = files.iter().map(|f| f.0).collect();
        let mut set = OutputSet::create(dir, &names(&list)).unwrap();
        for (i, (_, content)) in files.iter().enumerate() {
            set.file(i).write_all(content.as_bytes()).unwrap();
        }
        set
    }

    #[test]
    fn writes_every_file_and_no_temporaries() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("new/sub");
        let written = staged(&out, &[("a.npy", "A"), ("b.npy", "B")])
            .commit()
            .unwrap();
        assert_eq!(written, vec![out.join("a.npy"), out.join("b.npy")]);
        assert_eq!(listing(&out), ["a.npy", "b.npy"]);
        assert_eq!(fs::read_to_string(out.join("b.npy")).unwrap(), "B");
    }

    #[test]
    fn an_uncommitted_set_leaves_nothing_not_even_its_directories() {
        let tmp = tempfile::tempdir().unwrap();
        drop(staged(&tmp.path().join("new/sub"), &[("a.npy", "A")]));
        assert_eq!(listing(tmp.path()), Vec::<String>::new());
    }

    /// Issue 11, problem 2: a failure on a later file must not lose the
    /// user's earlier file. Before, its replacement was removed on rollback.
    #[test]
    fn a_failed_rename_restores_every_file_the_user_had() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("a.npy"), "OLD A").unwrap();
        fs::write(tmp.path().join("c.npy"), "OLD C").unwrap();
        let set = staged(
            tmp.path(),
            &[("a.npy", "A"), ("b.npy", "B"), ("c.npy", "C")],
        );
        let mut calls = 0;
        let err = set
            .commit_with(|from, to| {
                calls += 1;
                if calls == 3 {
                    return Err(io::Error::other("disk on fire"));
                }
                fs::rename(from, to)
            })
            .unwrap_err();
        assert!(err.to_string().contains("disk on fire"), "{err}");
        assert_eq!(listing(tmp.path()), ["a.npy", "c.npy"]);
        assert_eq!(
            fs::read_to_string(tmp.path().join("a.npy")).unwrap(),
            "OLD A"
        );
        assert_eq!(
            fs::read_to_string(tmp.path().join("c.npy")).unwrap(),
            "OLD C"
        );
    }

    #[test]
    fn a_failed_restore_keeps_the_old_contents_and_says_where() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("a.npy"), "OLD A").unwrap();
        let set = staged(tmp.path(), &[("a.npy", "A"), ("b.npy", "B")]);
        let mut calls = 0;
        let err = set
            .commit_with(|from, to| {
                calls += 1;
                match calls {
                    1 => fs::rename(from, to),
                    _ => Err(io::Error::other("no")),
                }
            })
            .unwrap_err()
            .to_string();
        let kept: Vec<String> = listing(tmp.path())
            .into_iter()
            .filter(|n| n.ends_with(".bak"))
            .collect();
        assert_eq!(kept.len(), 1, "{err}");
        assert!(err.contains(&kept[0]), "{err}");
        assert_eq!(
            fs::read_to_string(tmp.path().join(&kept[0])).unwrap(),
            "OLD A"
        );
    }

    #[test]
    fn success_replaces_old_files_and_removes_backups() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("a.npy"), "OLD").unwrap();
        staged(tmp.path(), &[("a.npy", "NEW")]).commit().unwrap();
        assert_eq!(listing(tmp.path()), ["a.npy"]);
        assert_eq!(fs::read_to_string(tmp.path().join("a.npy")).unwrap(), "NEW");
    }

    #[test]
    fn a_directory_in_the_way_fails_before_anything_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("b.npy/keep")).unwrap();
        let err = OutputSet::create(tmp.path(), &names(&["a.npy", "b.npy"]));
        assert!(matches!(err, Err(CliError::Output { .. })));
        assert_eq!(listing(tmp.path()), ["b.npy"]);
    }

    /// Issue 11, problem 3: the old temporary name `.<name>.<pid>.tmp` was
    /// predictable and opened with `File::create`, so a symlink planted
    /// there made the run overwrite the link's target.
    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_never_followed() {
        let tmp = tempfile::tempdir().unwrap();
        let victim = tmp.path().join("victim");
        fs::write(&victim, "PRECIOUS").unwrap();
        let out = tmp.path().join("out");
        fs::create_dir(&out).unwrap();
        let pid = std::process::id();
        std::os::unix::fs::symlink(&victim, out.join(format!(".a.npy.{pid}.tmp"))).unwrap();
        staged(&out, &[("a.npy", "NEW")]).commit().unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "PRECIOUS");
        assert_eq!(fs::read_to_string(out.join("a.npy")).unwrap(), "NEW");
        // a symlink at the target itself is replaced, not followed
        std::os::unix::fs::symlink(&victim, out.join("b.npy")).unwrap();
        staged(&out, &[("b.npy", "NEW B")]).commit().unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "PRECIOUS");
        assert!(
            !fs::symlink_metadata(out.join("b.npy"))
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn temporary_names_are_unpredictable() {
        let tmp = tempfile::tempdir().unwrap();
        let a = OutputSet::create(tmp.path(), &names(&["a.npy"])).unwrap();
        let b = OutputSet::create(tmp.path(), &names(&["a.npy"])).unwrap();
        assert_ne!(
            a.staged[0].temp.to_path_buf(),
            b.staged[0].temp.to_path_buf()
        );
        let name = a.staged[0]
            .temp
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(".a.npy.") && name.ends_with(".tmp") && name.len() >= 7 + 12 + 4,
            "{name}"
        );
    }
}
