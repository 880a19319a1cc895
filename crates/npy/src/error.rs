//! [`NpyError`]: every way a `.npy` file can be refused.

use std::io;

use crate::header::{MAX_DIMS, MAX_HEADER_LEN};

/// Why a `.npy` file could not be read. Messages quote the header only
/// through [`crate::escape`]d text, so they are one printable line.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    /// The file could not be opened (missing, no permission...).
    #[error("cannot open: {0}")]
    Open(io::Error),
    /// The path names a directory.
    #[error("is a directory, not a .npy file")]
    Directory,
    /// Reading failed part-way.
    #[error("cannot read: {0}")]
    Read(io::Error),
    /// The file does not start with the `.npy` magic string.
    #[error("not a .npy file (it does not start with the NumPy magic string \\x93NUMPY)")]
    NotNpy,
    /// A format version other than 1.0, 2.0, 3.0.
    #[error("unsupported .npy format version {0}.{1} (versions 1.0, 2.0 and 3.0 are supported)")]
    Version(u8, u8),
    /// The file ends inside its header.
    #[error(
        "truncated .npy file: its header needs {needed} bytes but the file has only {available}"
    )]
    TruncatedHeader {
        /// Bytes up to the end of the header.
        needed: u64,
        /// The file size.
        available: u64,
    },
    /// The header is longer than NumPy itself accepts.
    #[error(
        "the .npy header is {0} bytes long; more than {MAX_HEADER_LEN} is refused, as NumPy does"
    )]
    HeaderTooLarge(u64),
    /// The header is not a Python literal (NumPy: "Cannot parse header").
    #[error("Cannot parse header: {0}")]
    Syntax(String),
    /// The header is a literal, but not the dict NumPy writes.
    #[error("malformed .npy header: {0}")]
    Malformed(String),
    /// A dtype `gradient` cannot take (strings, dates, objects, records...).
    #[error(
        "unsupported dtype {descr} ({kind}): gradient needs integer, floating-point or complex numbers"
    )]
    UnsupportedDType {
        /// The dtype as written in the header (a Python repr, escaped).
        descr: String,
        /// What it is, in NumPy's words.
        kind: String,
    },
    /// More dimensions than NumPy supports.
    #[error("maximum supported dimension for an ndarray is currently {MAX_DIMS}, found {0}")]
    TooManyDimensions(usize),
    /// The shape's element or byte count does not fit in memory addresses.
    #[error("the header's shape {shape} describes more data than any array can hold")]
    Overflow {
        /// The shape as written.
        shape: String,
    },
    /// The file holds fewer data bytes than the header's shape needs.
    #[error(
        "truncated .npy file: the header describes shape {shape} of '{descr}' ({expected} bytes of data) but only {available} bytes follow the header"
    )]
    TruncatedData {
        /// The shape, as NumPy prints it.
        shape: String,
        /// The dtype.
        descr: String,
        /// Data bytes the shape needs.
        expected: u64,
        /// Data bytes present.
        available: u64,
    },
    /// The memory for the data could not be allocated.
    #[error("cannot allocate {bytes} bytes for the data: not enough memory")]
    OutOfMemory {
        /// The size of the allocation that failed.
        bytes: u64,
    },
}
