//! [`CliError`]: everything the command can fail with, each shown as one line.

use std::io;
use std::path::{Path, PathBuf};

use oxla_npy::NpyError;

use crate::memory::human;

/// Exit status of every failure: bad arguments, bad files, failed writes.
/// (Clap uses the same status for its own usage errors.)
pub const EXIT_FAILURE: u8 = 2;

/// Why a command failed. [`CliError::one_line`] is what the user sees on stderr.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line itself could not be parsed (clap's message, condensed).
    #[error("{0}")]
    Usage(String),
    /// An input `.npy` file (the array or a coordinate file) could not be read.
    #[error("{}: {source}", path.display())]
    Input {
        /// The file, as the user typed it.
        path: PathBuf,
        /// What is wrong with it.
        source: NpyError,
    },
    /// An array was read but the library refused it on entry (booleans).
    #[error("{}: {source}", path.display())]
    Rejected {
        /// The file, as the user typed it.
        path: PathBuf,
        /// The library's reason.
        source: Box<oxla::IrError>,
    },
    /// `gradient` rejected its arguments (an error row of docs/gradient-spec.md), or
    /// evaluation failed.
    #[error("gradient of {} (shape {shape}): {source}{context}", input.display())]
    Gradient {
        /// The input array's file.
        input: PathBuf,
        /// Its shape, as NumPy prints it.
        shape: String,
        /// The library's error.
        source: Box<oxla::Error>,
        /// Extra context (which `--spacing` file an error is about), or empty.
        context: String,
    },
    /// `derivative` rejected its arguments, or evaluation failed.
    #[error("derivative of {} (shape {shape}): {source}{context}", input.display())]
    Derivative {
        /// The input array's file.
        input: PathBuf,
        /// Its shape, as NumPy prints it.
        shape: String,
        /// The library's error.
        source: Box<oxla::Error>,
        /// Extra context (the `--spacing` file an error is about), or empty.
        context: String,
    },
    /// The output directory could not be created.
    #[error("cannot create output directory {}: {source}", path.display())]
    OutDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// An output file could not be written or moved into place.
    #[error("cannot write {}: {source}", path.display())]
    Output {
        /// The file being written.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Even one slab of the input (one row and its halo) would not fit in
    /// the memory limit: the one given, or half of the memory available.
    #[error(
        "{}: one slab of the input (one row and its halo, and its outputs) needs at least {} ({minimum} bytes)",
        if *given { format!("--memory-limit {} is too small", human(*limit)) } else { format!("only {} of memory can be used (half of what is available)", human(*limit)) },
        human(*minimum)
    )]
    MemoryLimit {
        /// The limit.
        limit: u64,
        /// The smallest limit that works.
        minimum: u64,
        /// True if the user gave the limit (`--memory-limit`).
        given: bool,
    },
    /// The library failed while running the demo.
    #[error("demo: {0}")]
    Demo(Box<oxla::Error>),
    /// The library failed while running a benchmark.
    #[error("bench: {0}")]
    Bench(Box<oxla::Error>),
    /// A library result did not have the form the demo expects: a bug in
    /// oxla or in the demo, never in the user's input.
    #[error("demo: unexpected result: {0}")]
    Unexpected(String),
    /// Writing the report to standard output failed.
    #[error("cannot write to standard output: {0}")]
    Stdout(#[from] io::Error),
}

impl From<oxla::Error> for CliError {
    /// Only the demo turns library errors into `CliError` with `?`.
    fn from(e: oxla::Error) -> Self {
        CliError::Demo(Box::new(e))
    }
}

impl From<oxla::IrError> for CliError {
    /// Only the demo turns library errors into `CliError` with `?`.
    fn from(e: oxla::IrError) -> Self {
        CliError::Demo(Box::new(e.into()))
    }
}

impl CliError {
    /// Wrap a `.npy` reading error with the file it concerns.
    pub fn input(path: &Path, source: NpyError) -> CliError {
        CliError::Input {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        EXIT_FAILURE
    }

    /// The message as exactly one printable line: every control character
    /// (line breaks, ESC, BEL...) and every Unicode character that reorders
    /// text is escaped, whether it came from a file's header or a path.
    pub fn one_line(&self) -> String {
        oxla_npy::escape(&self.to_string()).into_owned()
    }

    /// True for a write to a closed pipe (`oxla demo | head`): not worth reporting.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Stdout(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_printable_line() {
        let e = CliError::Usage("first\n\x1b[31msecond\x07".into());
        assert_eq!(e.one_line(), "first\\n\\x1b[31msecond\\x07");
        assert_eq!(e.exit_code(), 2);
    }
}
