//! Large reads and writes at file positions, split over the thread pool.
//!
//! Copying between the page cache and memory is the kernel's work, done
//! on the calling thread: one 128 MiB `read` or `write` runs at a few
//! GB/s. Splitting a read into positioned parts (`pread`) on every thread
//! of the pool divides that time; writes to one file mostly wait for its
//! inode's lock in turn (so the slab loop writes different outputs at once).

use std::fs::File;
use std::io;

use rayon::prelude::*;

/// Parts are at least this large, so small transfers stay one call.
const PART_MIN: usize = 8 << 20;

fn part_len(len: usize) -> usize {
    len.div_ceil(rayon::current_num_threads().max(1))
        .max(PART_MIN)
}

/// Fill `buf` from `file` at `offset`, in parallel parts.
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    let part = part_len(buf.len());
    buf.par_chunks_mut(part)
        .enumerate()
        .try_for_each(|(i, chunk)| read_part(file, chunk, offset + (i * part) as u64))
}

/// Write all of `buf` to `file` at `offset`, in parallel parts.
pub fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    let part = part_len(buf.len());
    buf.par_chunks(part)
        .enumerate()
        .try_for_each(|(i, chunk)| write_part(file, chunk, offset + (i * part) as u64))
}

#[cfg(unix)]
fn read_part(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(unix)]
fn write_part(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_part(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.read_exact(buf)
}

#[cfg(not(unix))]
fn write_part(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = file.try_clone()?;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_land_where_they_belong() {
        let file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..(3 * PART_MIN + 12345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        write_all_at(&file, &data, 100).unwrap();
        let mut back = vec![0u8; data.len()];
        read_exact_at(&file, &mut back, 100).unwrap();
        assert!(back == data);
        let mut short = vec![0u8; 10];
        assert!(read_exact_at(&file, &mut short, data.len() as u64 + 95).is_err());
    }
}
