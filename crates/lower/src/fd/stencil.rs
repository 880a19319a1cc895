//! [`FdStencil`]: the finite-difference stencil of one axis, as groups of
//! rows with their terms, interpreted two ways: `apply` (gather, `D f`)
//! and `apply_adjoint` (scatter, `D^T ct`). Sharing one description keeps
//! the two exact transposes of each other.
//!
//! Every group's value is computed in the compute dtype from slices of
//! `f`, rounded to `f`'s dtype, padded into place with `-0.0` (the exact
//! additive identity) and added: the assembly of `gradient`, so the jit
//! drops the padding of each region without changing a bit. Only the
//! rows of a periodic axis whose stencil wraps read pieces of `f` joined
//! the same way; the interior reads `f` directly.

use std::ops::Range;

use oxla_ir::{DType, IrError, Tensor};

use super::fornberg::{fornberg, tensor_weights};
use super::op::FdOp;
use super::ratio::Ratio;
use super::scheme::Block;
use crate::gradient_op::SpacingKind;
use crate::stencil::accumulate;

/// One term of a group's sum.
enum Term {
    /// `w * f[i + offset]`
    Tap { offset: isize, weight: Tensor },
    /// `w * (f[i + a] ± f[i + b])`: the two taps of a symmetric stencil
    /// that share a weight (up to sign), one multiplication for both.
    Pair {
        a: isize,
        b: isize,
        minus: bool,
        weight: Tensor,
    },
}

/// Output rows computed by one sum of terms. A weight is 0-d (the same
/// for every row) or 1-d with one value per row of the group.
struct Group {
    rows: Range<usize>,
    terms: Vec<Term>,
}

/// The stencil of one axis of an `n`-point array.
pub(crate) struct FdStencil {
    axis: usize,
    n: usize,
    out: DType,
    compute: DType,
    groups: Vec<Group>,
}

/// A contiguous run of an axis read modulo its length: source rows `src`,
/// landing at position `at` of the run, `wraps` periods away.
struct Piece {
    src: Range<usize>,
    at: usize,
    wraps: i64,
}

/// The pieces of rows `start..start+len` of an axis of `n` rows, read modulo `n`.
fn pieces(n: usize, start: isize, len: usize) -> Vec<Piece> {
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

/// `x^m` by repeated multiplication, the same operations as the tensor path.
fn power(x: f64, m: usize) -> f64 {
    (1..m).fold(x, |p, _| p * x)
}

fn composite_error(reason: String) -> IrError {
    IrError::Composite { name: "fd", reason }
}

impl FdStencil {
    /// The stencil of `op` for its inputs (`f`, then the step or coordinates).
    pub(crate) fn new(op: &FdOp, inputs: &[Tensor]) -> Result<FdStencil, IrError> {
        let f = &inputs[0];
        let out = f.dtype();
        // f16 data is computed in f32 and rounded once at the end
        let base = if out == DType::F16 { DType::F32 } else { out };
        let spacing = inputs.get(1);
        let compute = spacing.map_or(base, |s| base.promote(s.dtype()));
        let mut s = FdStencil {
            axis: op.axis,
            n: f.shape()[op.axis],
            out,
            compute,
            groups: Vec::new(),
        };
        let blocks = op.scheme().blocks(s.n);
        let m = op.order;
        s.groups = match (op.spacing, spacing) {
            (SpacingKind::Weak(h), _) => {
                let hm = power(h.get(), m);
                uniform_groups(&blocks, m, |c| Ok(Tensor::scalar(compute, c / hm)))?
            }
            (SpacingKind::Step, Some(h)) => {
                let h = h.convert(DType::F64)?;
                let hm = (1..m).try_fold(h.clone(), |p, _| p.mul(&h))?;
                uniform_groups(&blocks, m, |c| {
                    Tensor::scalar(DType::F64, c).div(&hm)?.convert(compute)
                })?
            }
            (SpacingKind::Coords, Some(x)) => {
                let period = op.period.map(|p| p.get());
                s.coordinate_groups(&blocks, m, &x.convert(DType::F64)?, period)?
            }
            (kind, None) => {
                return Err(composite_error(format!(
                    "{kind:?} spacing needs a step or coordinates input"
                )));
            }
        };
        Ok(s)
    }

    /// Groups with Fornberg's weights from the coordinates `x` (f64), as
    /// graph nodes: per row of each block, from the coordinates of its
    /// points (periodic: shifted by the period where the stencil wraps).
    /// Blocks whose stencils have the same number of points share one run
    /// of the recurrence over all their rows (its graph is the largest
    /// part of the lowering).
    fn coordinate_groups(
        &self,
        blocks: &[Block],
        order: usize,
        x: &Tensor,
        period: Option<f64>,
    ) -> Result<Vec<Group>, IrError> {
        // the coordinates of the points `rows + o`
        let coords = |rows: &Range<usize>, o: isize| -> Result<Tensor, IrError> {
            join(
                pieces(self.n, rows.start as isize + o, rows.len()),
                0,
                |p| {
                    let x = x.slice_axis(0, p.src.start, p.src.end)?;
                    if p.wraps == 0 {
                        return Ok(x);
                    }
                    let shift = p.wraps as f64 * period.unwrap_or(0.0);
                    x.add(&Tensor::scalar(DType::F64, shift).broadcast_in_dim(x.shape(), &[])?)
                },
            )
        };
        // per block: where the derivative is taken, and its points, one value per row
        let mut stencils: Vec<(Tensor, Vec<Tensor>)> = Vec::with_capacity(blocks.len());
        for block in blocks {
            stencils.push(match block {
                Block::Sliding { rows, offsets } => (
                    coords(rows, 0)?,
                    offsets
                        .iter()
                        .map(|&o| coords(rows, o))
                        .collect::<Result<_, _>>()?,
                ),
                Block::Fixed { rows, points } => (
                    x.slice_axis(0, rows.start, rows.end)?,
                    points
                        .clone()
                        .map(|p| {
                            x.slice_axis(0, p, p + 1)?
                                .broadcast_in_dim(&[rows.len()], &[0])
                        })
                        .collect::<Result<_, _>>()?,
                ),
            });
        }
        let mut weights: Vec<Option<Vec<Tensor>>> = vec![None; blocks.len()];
        for (b, (_, points)) in stencils.iter().enumerate() {
            if weights[b].is_some() {
                continue;
            }
            let batch: Vec<usize> = (b..blocks.len())
                .filter(|&c| stencils[c].1.len() == points.len())
                .collect();
            let z = concat(batch.iter().map(|&c| stencils[c].0.clone()).collect(), 0)?;
            let at = (0..points.len())
                .map(|k| concat(batch.iter().map(|&c| stencils[c].1[k].clone()).collect(), 0))
                .collect::<Result<Vec<_>, _>>()?;
            let w = tensor_weights(order, &z, &at, DType::F64)?
                .into_iter()
                .map(|w| w.convert(self.compute))
                .collect::<Result<Vec<_>, _>>()?;
            let mut start = 0;
            for &c in &batch {
                let len = blocks[c].rows().len();
                weights[c] = Some(
                    w.iter()
                        .map(|w| slice_rows(w, start, start + len))
                        .collect::<Result<_, _>>()?,
                );
                start += len;
            }
        }
        let mut groups = Vec::new();
        for (block, w) in blocks.iter().zip(weights.into_iter().flatten()) {
            match block {
                Block::Sliding { rows, offsets } => {
                    let terms = offsets
                        .iter()
                        .zip(w)
                        .map(|(&offset, weight)| Term::Tap { offset, weight })
                        .collect();
                    groups.push(Group {
                        rows: rows.clone(),
                        terms,
                    });
                }
                Block::Fixed { rows, points } => {
                    // every row reads the same points: a group per row, its own offsets
                    for (r, row) in rows.clone().enumerate() {
                        let terms = points
                            .clone()
                            .zip(&w)
                            .map(|(p, w)| {
                                Ok(Term::Tap {
                                    offset: p as isize - row as isize,
                                    weight: w.slice_axis(0, r, r + 1)?,
                                })
                            })
                            .collect::<Result<Vec<_>, IrError>>()?;
                        groups.push(Group {
                            rows: row..row + 1,
                            terms,
                        });
                    }
                }
            }
        }
        Ok(groups)
    }

    /// `D f`: each group gathers its taps, sums its terms left to right in
    /// the compute dtype, is rounded to `f`'s dtype and padded into place.
    pub(crate) fn apply(&self, f: &Tensor) -> Result<Tensor, IrError> {
        let mut total: Option<Tensor> = None;
        for g in &self.groups {
            let tap = |o: isize| -> Result<Tensor, IrError> {
                let len = g.rows.len();
                join(
                    pieces(self.n, g.rows.start as isize + o, len),
                    self.axis,
                    |p| f.slice_axis(self.axis, p.src.start, p.src.end),
                )?
                .convert(self.compute)
            };
            let mut sum: Option<Tensor> = None;
            for term in &g.terms {
                let value = match term {
                    Term::Tap { offset, weight } => {
                        let t = tap(*offset)?;
                        t.mul(&self.broadcast(weight, t.shape())?)?
                    }
                    Term::Pair {
                        a,
                        b,
                        minus,
                        weight,
                    } => {
                        let (x, y) = (tap(*a)?, tap(*b)?);
                        let both = if *minus { x.sub(&y)? } else { x.add(&y)? };
                        // `(x ± y) * w`, the jit's scaled stencil instruction
                        both.mul(&self.broadcast(weight, both.shape())?)?
                    }
                };
                accumulate(&mut sum, value)?;
            }
            let value = sum
                .ok_or_else(|| composite_error("a group without terms".into()))?
                .convert(self.out)?;
            accumulate(&mut total, self.place(&value, g.rows.start)?)?;
        }
        total.ok_or_else(|| composite_error("a stencil without groups".into()))
    }

    /// `D^T ct`: each group's cotangent rows, scaled by each term's weight,
    /// are added back to the rows its taps read, in the order of the
    /// groups, their terms and their taps.
    pub(crate) fn apply_adjoint(&self, ct: &Tensor) -> Result<Tensor, IrError> {
        let mut total: Option<Tensor> = None;
        for g in &self.groups {
            let c = ct
                .slice_axis(self.axis, g.rows.start, g.rows.end)?
                .convert(self.compute)?;
            let scaled = |weight: &Tensor| -> Result<Tensor, IrError> {
                c.mul(&self.broadcast(weight, c.shape())?)?
                    .convert(self.out)
            };
            let mut scatter = |t: &Tensor, o: isize| -> Result<(), IrError> {
                for p in pieces(self.n, g.rows.start as isize + o, g.rows.len()) {
                    let part = t.slice_axis(self.axis, p.at, p.at + p.src.len())?;
                    accumulate(&mut total, self.place(&part, p.src.start)?)?;
                }
                Ok(())
            };
            for term in &g.terms {
                match term {
                    Term::Tap { offset, weight } => scatter(&scaled(weight)?, *offset)?,
                    Term::Pair {
                        a,
                        b,
                        minus,
                        weight,
                    } => {
                        let q = scaled(weight)?;
                        scatter(&q, *a)?;
                        scatter(&if *minus { q.neg()? } else { q }, *b)?;
                    }
                }
            }
        }
        total.ok_or_else(|| composite_error("a stencil without groups".into()))
    }

    /// A weight, 0-d or one value per row, broadcast to a group's `shape`.
    fn broadcast(&self, w: &Tensor, shape: &[usize]) -> Result<Tensor, IrError> {
        let dims: &[usize] = if w.ndim() == 0 { &[] } else { &[self.axis] };
        w.broadcast_in_dim(shape, dims)
    }

    /// Pad `piece` (a run of rows) with `-0.0` so it starts at row `at` of the axis.
    fn place(&self, piece: &Tensor, at: usize) -> Result<Tensor, IrError> {
        let rows = piece.shape()[self.axis];
        piece.pad_axis(
            &Tensor::neg_zero(piece.dtype()),
            self.axis,
            at as i64,
            (self.n - at - rows) as i64,
        )
    }
}

/// The run of rows along `axis` made of `pieces`, each read by `read`.
fn join(
    pieces: Vec<Piece>,
    axis: usize,
    read: impl Fn(&Piece) -> Result<Tensor, IrError>,
) -> Result<Tensor, IrError> {
    concat(pieces.iter().map(read).collect::<Result<_, _>>()?, axis)
}

/// `parts` one after the other along `axis`: the part itself when there
/// is one, else the parts padded with `-0.0` into place and added.
fn concat(parts: Vec<Tensor>, axis: usize) -> Result<Tensor, IrError> {
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
    total.ok_or_else(|| composite_error("an empty run of rows".into()))
}

/// Rows `start..end` of a 1-d weight (itself when that is all of it).
fn slice_rows(w: &Tensor, start: usize, end: usize) -> Result<Tensor, IrError> {
    if start == 0 && end == w.shape()[0] {
        return Ok(w.clone());
    }
    w.slice_axis(0, start, end)
}

/// Groups of a uniform axis: Fornberg's weights for each block's integer
/// offsets, exact, rounded to `f64` once and made tensors by `weight`
/// (which scales them by the step). A centered stencil's taps at `±k`
/// share one weight up to sign and become one [`Term::Pair`]; zero
/// weights are dropped.
fn uniform_groups(
    blocks: &[Block],
    order: usize,
    weight: impl Fn(f64) -> Result<Tensor, IrError>,
) -> Result<Vec<Group>, IrError> {
    let mut groups = Vec::new();
    for block in blocks {
        let Block::Sliding { rows, offsets } = block else {
            return Err(composite_error(
                "a uniform axis has sliding stencils only".into(),
            ));
        };
        let w = exact_weights(order, offsets)?;
        let mut terms = Vec::new();
        let s = offsets.len() / 2;
        let centered = offsets
            .iter()
            .enumerate()
            .all(|(k, &o)| o == k as isize - s as isize);
        if centered {
            if !w[s].is_zero() {
                terms.push(Term::Tap {
                    offset: 0,
                    weight: weight(w[s].to_f64())?,
                });
            }
            for k in 1..=s {
                let (plus, minus) = (w[s + k], w[s - k]);
                let pair = |minus: bool| -> Result<Term, IrError> {
                    Ok(Term::Pair {
                        a: k as isize,
                        b: -(k as isize),
                        minus,
                        weight: weight(plus.to_f64())?,
                    })
                };
                if plus.is_zero() && minus.is_zero() {
                    continue;
                } else if plus == minus {
                    terms.push(pair(false)?);
                } else if Some(plus) == minus_of(minus) {
                    terms.push(pair(true)?);
                } else {
                    terms.push(Term::Tap {
                        offset: -(k as isize),
                        weight: weight(minus.to_f64())?,
                    });
                    terms.push(Term::Tap {
                        offset: k as isize,
                        weight: weight(plus.to_f64())?,
                    });
                }
            }
        } else {
            for (&offset, c) in offsets.iter().zip(&w) {
                if !c.is_zero() {
                    terms.push(Term::Tap {
                        offset,
                        weight: weight(c.to_f64())?,
                    });
                }
            }
        }
        groups.push(Group {
            rows: rows.clone(),
            terms,
        });
    }
    Ok(groups)
}

fn minus_of(r: Ratio) -> Option<Ratio> {
    use super::fornberg::Arith;
    r.neg().ok()
}

/// Fornberg's weights for integer `offsets` around 0, exactly.
pub(crate) fn exact_weights(order: usize, offsets: &[isize]) -> Result<Vec<Ratio>, IrError> {
    let points: Vec<Ratio> = offsets.iter().map(|&o| Ratio::int(o as i64)).collect();
    fornberg(order, &Ratio::int(0), &points)
        .map_err(|_| composite_error(format!("the weights of {offsets:?} overflow i128")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fd::scheme::{Closure, Scheme};

    /// Every uniform stencil oxla supports has exact weights that fit
    /// `i128` and round to `f64` correctly, and its centered stencils are
    /// symmetric or antisymmetric (so they become pairs).
    #[test]
    fn every_supported_uniform_stencil_is_exact() {
        for order in 1..=crate::fd::MAX_ORDER {
            for accuracy in (2..=crate::fd::MAX_ACCURACY).step_by(2) {
                for closure in [Closure::OneSided, Closure::Periodic] {
                    let s = Scheme {
                        order,
                        accuracy,
                        closure,
                        coords: false,
                    };
                    for block in s.blocks(s.min_len()) {
                        let Block::Sliding { offsets, .. } = block else {
                            panic!("uniform blocks slide")
                        };
                        let w = exact_weights(order, &offsets).unwrap();
                        assert!(w.iter().all(|r| r.rounds_exactly()), "{s:?} {offsets:?}");
                        if offsets[0] == -offsets[offsets.len() - 1] {
                            let n = w.len();
                            let sign = if order % 2 == 0 { 1.0 } else { -1.0 };
                            for k in 0..n {
                                assert_eq!(w[k].to_f64(), sign * w[n - 1 - k].to_f64());
                            }
                        }
                    }
                }
            }
        }
    }

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
