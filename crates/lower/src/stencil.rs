//! The finite-difference stencil of one axis, built once from the spacing
//! and interpreted two ways: as `G` (gather, `numpy.gradient`) and as its
//! adjoint `G^T` (scatter). Sharing one description keeps the two exact
//! transposes of each other.

use std::ops::Range;

use oxla_ir::{DType, IrError, Tensor};

use crate::EdgeOrder;
use crate::gradient_op::SpacingKind;

/// How one group of output rows is computed from `f`.
enum Form {
    /// `(f[i + plus] - f[i]) / divisor`
    Difference { plus: usize, divisor: Tensor },
    /// `sum_k coef_k * f[i + offset_k]`, summed left to right
    Weighted { taps: Vec<(usize, Tensor)> },
}

impl Form {
    /// The largest offset the form reads.
    fn reach(&self) -> usize {
        match self {
            Form::Difference { plus, .. } => *plus,
            Form::Weighted { taps } => taps.iter().map(|&(k, _)| k).max().unwrap_or(0),
        }
    }
}

/// Output rows `rows` read `f` at `rows.start - shift + offset` (offsets
/// are non-negative; `shift` is how far left the stencil reaches).
struct RowGroup {
    rows: Range<usize>,
    shift: usize,
    form: Form,
}

/// The stencil of `gradient` along one axis of an `n`-point array.
///
/// Coefficients are built as graph nodes of the compute dtype `compute`
/// (the promotion of `f`'s dtype with the spacing's), with exactly NumPy's
/// expressions and order of operations. Every group's result is rounded
/// back to `f`'s dtype `out` before assembly.
pub(crate) struct Stencil {
    axis: usize,
    n: usize,
    out: DType,
    compute: DType,
    groups: Vec<RowGroup>,
}

impl Stencil {
    /// Build the stencil for `f`'s `axis` with this spacing (`step` is the
    /// 0-d step or 1-d coordinates input when the spacing has one).
    pub(crate) fn new(
        f_shape: &[usize],
        out: DType,
        axis: usize,
        edge_order: EdgeOrder,
        spacing: &SpacingKind,
        step: Option<&Tensor>,
    ) -> Result<Stencil, IrError> {
        let n = f_shape[axis];
        let compute = step.map_or(out, |s| out.promote(s.dtype()));
        let coefs = match (spacing, step) {
            (SpacingKind::Weak(h), _) => Coefficients::weak(out, h.get(), edge_order),
            (SpacingKind::Step, Some(h)) => Coefficients::step(h, edge_order)?,
            (SpacingKind::Coords, Some(x)) => Coefficients::coords(x, n, edge_order)?,
            (kind, None) => {
                return Err(IrError::Composite {
                    name: "gradient",
                    reason: format!("{kind:?} spacing needs a step or coordinates input"),
                });
            }
        };
        let to_compute = |t: Tensor| t.convert(compute);
        // the first row reads forward, the interior is centred, the last row reads backward
        let first = coefs.first.into_form(1, to_compute)?;
        let mut groups = vec![RowGroup {
            rows: 0..1,
            shift: 0,
            form: first,
        }];
        if let (Some(interior), true) = (coefs.interior, n >= 3) {
            groups.push(RowGroup {
                rows: 1..n - 1,
                shift: 1,
                form: interior.into_form(2, to_compute)?,
            });
        }
        let last = coefs.last.into_form(1, to_compute)?;
        groups.push(RowGroup {
            rows: n - 1..n,
            shift: last.reach(),
            form: last,
        });
        Ok(Stencil {
            axis,
            n,
            out,
            compute,
            groups,
        })
    }

    /// `G f`: each group gathers from `f`, is rounded to `out`, and is padded
    /// into place with `-0.0` (the exact additive identity, so the sum of the
    /// padded groups equals each group bit for bit, signed zeros included).
    pub(crate) fn apply(&self, f: &Tensor) -> Result<Tensor, IrError> {
        let mut total: Option<Tensor> = None;
        for g in &self.groups {
            let len = g.rows.len();
            let start = g.rows.start - g.shift;
            let tap = |offset: usize| f.slice_axis(self.axis, start + offset, start + offset + len);
            let value = match &g.form {
                Form::Difference { plus, divisor } => {
                    let diff = tap(*plus)?.sub(&tap(0)?)?.convert(self.compute)?;
                    diff.div(&self.spread(divisor, diff.shape())?)?
                }
                Form::Weighted { taps } => {
                    let mut acc: Option<Tensor> = None;
                    for (offset, coef) in taps {
                        let x = tap(*offset)?.convert(self.compute)?;
                        accumulate(&mut acc, self.spread(coef, x.shape())?.mul(&x)?)?;
                    }
                    acc.expect("weighted groups have three taps")
                }
            };
            accumulate(
                &mut total,
                self.place(&value.convert(self.out)?, g.rows.start)?,
            )?;
        }
        Ok(total.expect("every stencil has its two edge groups"))
    }

    /// `G^T ct`: each group scatters its scaled cotangent rows back to the
    /// `f` positions it read, in the order of the groups and their taps.
    pub(crate) fn apply_adjoint(&self, ct: &Tensor) -> Result<Tensor, IrError> {
        let mut total: Option<Tensor> = None;
        let mut add = |t: Tensor| accumulate(&mut total, t);
        for g in &self.groups {
            let rows = ct
                .slice_axis(self.axis, g.rows.start, g.rows.end)?
                .convert(self.compute)?;
            let start = g.rows.start - g.shift;
            match &g.form {
                Form::Difference { plus, divisor } => {
                    let q = rows
                        .div(&self.spread(divisor, rows.shape())?)?
                        .convert(self.out)?;
                    add(self.place(&q, start + plus)?)?;
                    add(self.place(&q.neg()?, start)?)?;
                }
                Form::Weighted { taps } => {
                    for (offset, coef) in taps {
                        let term = self
                            .spread(coef, rows.shape())?
                            .mul(&rows)?
                            .convert(self.out)?;
                        add(self.place(&term, start + offset)?)?;
                    }
                }
            }
        }
        Ok(total.expect("every stencil has its two edge groups"))
    }

    /// Broadcast a 0-d or 1-d (along the axis) coefficient to `shape`.
    fn spread(&self, coef: &Tensor, shape: &[usize]) -> Result<Tensor, IrError> {
        let dims: &[usize] = if coef.ndim() == 0 { &[] } else { &[self.axis] };
        coef.broadcast_in_dim(shape, dims)
    }

    /// Pad `piece` (a run of rows) with `-0.0` so it starts at row `at` of `n`.
    fn place(&self, piece: &Tensor, at: usize) -> Result<Tensor, IrError> {
        let len = piece.shape()[self.axis];
        piece.pad_axis(
            &Tensor::neg_zero(self.out),
            self.axis,
            at as i64,
            (self.n - at - len) as i64,
        )
    }
}

/// `sum += t`, starting the sum at the first term.
fn accumulate(total: &mut Option<Tensor>, t: Tensor) -> Result<(), IrError> {
    *total = Some(match total.take() {
        Some(s) => s.add(&t)?,
        None => t,
    });
    Ok(())
}

/// The coefficients of one group of rows.
enum Coefs {
    /// A difference over `span` rows, divided: `(f[1] - f[0]) / d` at the
    /// edges, `(f[i+1] - f[i-1]) / d` inside.
    Divide(Tensor),
    /// Three weights on consecutive rows: `a*f[0] + b*f[1] + c*f[2]` at the
    /// edges, `a*f[i-1] + b*f[i] + c*f[i+1]` inside (1-d coefficient arrays).
    Weights([Tensor; 3]),
}

impl Coefs {
    /// The form of a group whose difference spans `span` rows, with its
    /// coefficients converted by `to_compute`.
    fn into_form(
        self,
        span: usize,
        to_compute: impl Fn(Tensor) -> Result<Tensor, IrError>,
    ) -> Result<Form, IrError> {
        Ok(match self {
            Coefs::Divide(d) => Form::Difference {
                plus: span,
                divisor: to_compute(d)?,
            },
            Coefs::Weights([a, b, c]) => Form::Weighted {
                taps: vec![
                    (0, to_compute(a)?),
                    (1, to_compute(b)?),
                    (2, to_compute(c)?),
                ],
            },
        })
    }
}

/// The coefficient nodes, each in the dtype NumPy computes it in.
struct Coefficients {
    first: Coefs,
    /// `None` when the coordinates have no interior rows (fewer than three points).
    interior: Option<Coefs>,
    last: Coefs,
}

impl Coefficients {
    /// A Python-float step: NumPy computes `2.*h`, `-1.5/h`, ... in f64 and
    /// the weak scalar is then rounded to `f`'s dtype.
    fn weak(out: DType, h: f64, edge_order: EdgeOrder) -> Coefficients {
        let s = |v: f64| Tensor::scalar(out, v);
        let (first, last) = match edge_order {
            EdgeOrder::One => (Coefs::Divide(s(h)), Coefs::Divide(s(h))),
            EdgeOrder::Two => (
                Coefs::Weights([s(-1.5 / h), s(2. / h), s(-0.5 / h)]),
                Coefs::Weights([s(0.5 / h), s(-2. / h), s(1.5 / h)]),
            ),
        };
        Coefficients {
            first,
            interior: Some(Coefs::Divide(s(2. * h))),
            last,
        }
    }

    /// A 0-d step tensor (a strong NumPy scalar): the same expressions,
    /// evaluated in the step's dtype as graph nodes.
    fn step(h: &Tensor, edge_order: EdgeOrder) -> Result<Coefficients, IrError> {
        let c = |v: f64| Tensor::scalar(h.dtype(), v);
        let over_h = |v: f64| c(v).div(h);
        let (first, last) = match edge_order {
            EdgeOrder::One => (Coefs::Divide(h.clone()), Coefs::Divide(h.clone())),
            EdgeOrder::Two => (
                Coefs::Weights([over_h(-1.5)?, over_h(2.)?, over_h(-0.5)?]),
                Coefs::Weights([over_h(0.5)?, over_h(-2.)?, over_h(1.5)?]),
            ),
        };
        Ok(Coefficients {
            first,
            interior: Some(Coefs::Divide(c(2.).mul(h)?)),
            last,
        })
    }

    /// Coordinates `x` (length `n`): `dx = diff(x)` and NumPy's
    /// non-uniform three-point formulas, term for term.
    fn coords(x: &Tensor, n: usize, edge_order: EdgeOrder) -> Result<Coefficients, IrError> {
        let dx = x.slice_axis(0, 1, n)?.sub(&x.slice_axis(0, 0, n - 1)?)?;
        let d = |a: usize, b: usize| dx.slice_axis(0, a, b);
        let two = Tensor::scalar(x.dtype(), 2.0).broadcast_in_dim(&[1], &[])?;
        let interior = if n >= 3 {
            let (d1, d2) = (d(0, n - 2)?, d(1, n - 1)?);
            // a = -(dx2) / (dx1 * (dx1 + dx2)); b = (dx2 - dx1) / (dx1 * dx2); c = dx1 / (dx2 * (dx1 + dx2))
            let a = d2.neg()?.div(&d1.mul(&d1.add(&d2)?)?)?;
            let b = d2.sub(&d1)?.div(&d1.mul(&d2)?)?;
            let c = d1.div(&d2.mul(&d1.add(&d2)?)?)?;
            Some(Coefs::Weights([a, b, c]))
        } else {
            None
        };
        let (first, last) = match edge_order {
            EdgeOrder::One => (Coefs::Divide(d(0, 1)?), Coefs::Divide(d(n - 2, n - 1)?)),
            EdgeOrder::Two => {
                let (d1, d2) = (d(0, 1)?, d(1, 2)?);
                // a = -(2. * dx1 + dx2) / (dx1 * (dx1 + dx2)); b = (dx1 + dx2) / (dx1 * dx2);
                // c = - dx1 / (dx2 * (dx1 + dx2))
                let first = [
                    two.mul(&d1)?
                        .add(&d2)?
                        .neg()?
                        .div(&d1.mul(&d1.add(&d2)?)?)?,
                    d1.add(&d2)?.div(&d1.mul(&d2)?)?,
                    d1.neg()?.div(&d2.mul(&d1.add(&d2)?)?)?,
                ];
                let (d1, d2) = (d(n - 3, n - 2)?, d(n - 2, n - 1)?);
                // a = (dx2) / (dx1 * (dx1 + dx2)); b = - (dx2 + dx1) / (dx1 * dx2);
                // c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
                let last = [
                    d2.div(&d1.mul(&d1.add(&d2)?)?)?,
                    d2.add(&d1)?.neg()?.div(&d1.mul(&d2)?)?,
                    two.mul(&d2)?.add(&d1)?.div(&d2.mul(&d1.add(&d2)?)?)?,
                ];
                (Coefs::Weights(first), Coefs::Weights(last))
            }
        };
        Ok(Coefficients {
            first,
            interior,
            last,
        })
    }
}
