//! Runs of rows of an axis read modulo its length (the rows a periodic
//! stencil wraps around to), and runs joined along an axis with `pad` +
//! `add` (`-0.0` padding, exact).

use std::ops::Range;

use oxla_ir::{IrError, Tensor};

use super::lowering_error;
use crate::stencil::accumulate;

/// A contiguous run of an axis read modulo its length: source rows `src`,
/// landing at position `at` of the run, `wraps` periods away.
pub(crate) struct Piece {
    pub(crate) src: Range<usize>,
    pub(crate) at: usize,
    pub(crate) wraps: i64,
}

/// The pieces of rows `start..start+len` of an axis of `n` rows, read modulo `n`.
pub(crate) fn pieces(n: usize, start: isize, len: usize) -> Vec<Piece> {
    let (n, end) = (n as isize, start + len as isize);
    let mut out = Vec::new();
    let mut j = start;
    while j < end {
        let first = j.rem_euclid(n);
        let take = (end - j).min(n - first);
        out.push(Piece {
            src: first as usize..(first + take) as usize,
            at: (j - start) as usize,
            wraps: j.div_euclid(n) as i64,
        });
        j += take;
    }
    out
}

/// The run of rows along `axis` made of `pieces`, each read by `read`.
pub(crate) fn join(
    pieces: Vec<Piece>,
    axis: usize,
    read: impl Fn(&Piece) -> Result<Tensor, IrError>,
) -> Result<Tensor, IrError> {
    concat(pieces.iter().map(read).collect::<Result<_, _>>()?, axis)
}

/// `parts` one after the other along `axis`: the part itself when there
/// is one, else the parts padded with `-0.0` into place and added.
pub(crate) fn concat(parts: Vec<Tensor>, axis: usize) -> Result<Tensor, IrError> {
    if parts.len() == 1 {
        return Ok(parts.into_iter().next().expect("one part"));
    }
    let len: usize = parts.iter().map(|p| p.shape()[axis]).sum();
    let mut total: Option<Tensor> = None;
    let mut at = 0;
    for p in parts {
        let rows = p.shape()[axis];
        let padded = p.pad_axis(
            &Tensor::neg_zero(p.dtype()),
            axis,
            at as i64,
            (len - at - rows) as i64,
        )?;
        accumulate(&mut total, padded)?;
        at += rows;
    }
    total.ok_or_else(|| lowering_error("an empty run of rows".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_wrap_around() {
        let p = pieces(10, -2, 5);
        let spans: Vec<_> = p.iter().map(|p| (p.src.clone(), p.at, p.wraps)).collect();
        assert_eq!(spans, vec![(8..10, 0, -1), (0..3, 2, 0)]);
        let p = pieces(10, 8, 4);
        let spans: Vec<_> = p.iter().map(|p| (p.src.clone(), p.at, p.wraps)).collect();
        assert_eq!(spans, vec![(8..10, 0, 0), (0..2, 2, 1)]);
        assert_eq!(pieces(10, 3, 4).len(), 1);
    }
}
