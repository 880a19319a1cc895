//! All-or-nothing output: every file is written under a temporary name in
//! the target directory, and renamed into place only once all are complete.
//! On any failure the temporaries are removed, files already renamed are
//! removed again, and a directory this call created is removed if empty.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use oxla::ArrayValue;

use crate::error::CliError;
use crate::npy;

/// A temporary file that deletes itself unless committed.
struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    armed: bool,
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// Removes a directory we created (if still empty) unless disarmed.
struct CreatedDir {
    path: Option<PathBuf>,
}

impl Drop for CreatedDir {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            let _ = fs::remove_dir(path);
        }
    }
}

/// Write each `(file name, array)` into `dir` as `.npy`, all or nothing.
/// Returns the paths written, in the order given.
pub fn write_all(dir: &Path, files: &[(String, &ArrayValue)]) -> Result<Vec<PathBuf>, CliError> {
    let mut created = CreatedDir { path: None };
    if !dir.is_dir() {
        fs::create_dir_all(dir).map_err(|source| CliError::OutDir {
            path: dir.to_path_buf(),
            source,
        })?;
        created.path = Some(dir.to_path_buf());
    }

    let pid = std::process::id();
    let mut staged = Vec::with_capacity(files.len());
    for (name, value) in files {
        let target = dir.join(name);
        let tmp = dir.join(format!(".{name}.{pid}.tmp"));
        let output_error = |source| CliError::Output {
            path: target.clone(),
            source,
        };
        let file = File::create(&tmp).map_err(output_error)?;
        // Armed from here: the temporary goes away on any early return.
        staged.push(Staged {
            tmp,
            target: target.clone(),
            armed: true,
        });
        let mut w = BufWriter::new(file);
        npy::write(&mut w, value).map_err(output_error)?;
        let file = w.into_inner().map_err(|e| output_error(e.into_error()))?;
        file.sync_all().map_err(output_error)?;
    }

    let mut done: Vec<PathBuf> = Vec::with_capacity(staged.len());
    for s in &mut staged {
        if let Err(source) = fs::rename(&s.tmp, &s.target) {
            for path in &done {
                let _ = fs::remove_file(path);
            }
            return Err(CliError::Output {
                path: s.target.clone(),
                source,
            });
        }
        s.armed = false;
        done.push(s.target.clone());
    }
    created.path = None;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::ArrayD;

    fn value() -> ArrayValue {
        ArrayValue::from(ArrayD::from_elem(ndarray::IxDyn(&[2]), 1.0f64))
    }

    #[test]
    fn writes_every_file_and_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("new/sub");
        let v = value();
        let written = write_all(&out, &[("a.npy".into(), &v), ("b.npy".into(), &v)]).unwrap();
        assert_eq!(written, vec![out.join("a.npy"), out.join("b.npy")]);
        let mut names: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["a.npy", "b.npy"]);
    }

    #[test]
    fn a_failed_rename_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory where the second file should go: rename fails.
        fs::create_dir_all(dir.path().join("b.npy/keep")).unwrap();
        let v = value();
        let err = write_all(dir.path(), &[("a.npy".into(), &v), ("b.npy".into(), &v)]);
        assert!(matches!(err, Err(CliError::Output { .. })));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.npy"]);
    }
}
