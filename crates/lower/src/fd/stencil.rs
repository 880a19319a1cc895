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

use oxla_ir::{DType, IrError, Tensor};

use super::groups::{Group, Term, coordinate_groups, uniform_groups};
use super::lowering_error;
use super::op::FdOp;
use super::rows::{join, pieces};
use crate::gradient_op::SpacingKind;
use crate::stencil::accumulate;

/// The stencil of one axis of an `n`-point array.
pub(crate) struct FdStencil {
    axis: usize,
    n: usize,
    out: DType,
    compute: DType,
    groups: Vec<Group>,
}

/// `x^m` by repeated multiplication, the same operations as the tensor path.
fn power(x: f64, m: usize) -> f64 {
    (1..m).fold(x, |p, _| p * x)
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
                coordinate_groups(s.n, compute, &blocks, m, &x.convert(DType::F64)?, period)?
            }
            (kind, None) => {
                return Err(lowering_error(format!(
                    "{kind:?} spacing needs a step or coordinates input"
                )));
            }
        };
        Ok(s)
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
                .ok_or_else(|| lowering_error("a group without terms".into()))?
                .convert(self.out)?;
            accumulate(&mut total, self.place(&value, g.rows.start)?)?;
        }
        total.ok_or_else(|| lowering_error("a stencil without groups".into()))
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
        total.ok_or_else(|| lowering_error("a stencil without groups".into()))
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
