//! The finite-difference stencil of one axis, built once from the spacing
//! and interpreted two ways: as `G` (gather, `numpy.gradient`) and as its
//! adjoint `G^T` (scatter). Sharing one description keeps the two exact
//! transposes of each other.
//!
//! A stencil computes a [`AxisWindow`] of the axis: its input holds a run of
//! the global rows and its output another. Every output row is computed
//! with the expression, coefficients and order of operations the whole
//! axis uses for that row, from the same input values, so a window of the
//! result is the same bits as the same rows of the whole result: this is
//! what makes block (chunked, out-of-core) evaluation exact.

use std::ops::Range;

use oxla_ir::{DType, IrError, Tensor};

use crate::EdgeOrder;
use crate::gradient_op::SpacingKind;
use crate::window::AxisWindow;

/// A coefficient: one value for every row of its group, or an interior
/// weight of coordinate spacing, which differs per row.
#[derive(Clone)]
enum Coef {
    /// A 0-d value, or a 1-element array (an edge row's weight).
    Same(Tensor),
    /// Weight `k` (0, 1, 2 for `a`, `b`, `c`) of NumPy's non-uniform
    /// interior formula, from the coordinates around each row.
    Interior(usize),
}

/// How one group of output rows is computed from `f`.
enum Form {
    /// `(f[i + plus] - f[i]) / divisor`
    Difference { plus: usize, divisor: Coef },
    /// `sum_k coef_k * f[i + offset_k]`, summed left to right
    Weighted { taps: Vec<(usize, Coef)> },
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

/// Global output rows `rows` read `f` at `i - shift + offset` (offsets are
/// non-negative; `shift` is how far left the stencil reaches).
struct RowGroup {
    rows: Range<usize>,
    shift: usize,
    form: Form,
}

/// The stencil of `gradient` along one axis of an `n`-point array, over a window.
///
/// Coefficients are built as graph nodes of the compute dtype `compute`
/// (the promotion of `f`'s dtype with the spacing's), with exactly NumPy's
/// expressions and order of operations. Every group's result is rounded
/// back to `f`'s dtype `out` before assembly.
pub(crate) struct Stencil {
    axis: usize,
    window: AxisWindow,
    /// 1 or 2: how far inwards the edge rows' stencils read.
    edge_order: usize,
    out: DType,
    compute: DType,
    groups: Vec<RowGroup>,
    /// The coordinates, for [`Coef::Interior`] weights.
    coords: Option<Tensor>,
}

impl Stencil {
    /// Build the stencil for `axis` of an array of `out` dtype, over
    /// `window` (`step` is the 0-d step or the whole axis' 1-d coordinates
    /// when the spacing has one).
    pub(crate) fn new(
        out: DType,
        axis: usize,
        window: AxisWindow,
        edge_order: EdgeOrder,
        spacing: &SpacingKind,
        step: Option<&Tensor>,
    ) -> Result<Stencil, IrError> {
        let n = window.len;
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
        let convert = |c: Coef| -> Result<Coef, IrError> {
            Ok(match c {
                Coef::Same(t) => Coef::Same(t.convert(compute)?),
                interior => interior,
            })
        };
        // the first row reads forward, the interior is centred, the last row reads backward
        let first = coefs.first.into_form(1, convert)?;
        let mut groups = vec![RowGroup {
            rows: 0..1,
            shift: 0,
            form: first,
        }];
        if let (Some(interior), true) = (coefs.interior, n >= 3) {
            groups.push(RowGroup {
                rows: 1..n - 1,
                shift: 1,
                form: interior.into_form(2, convert)?,
            });
        }
        let last = coefs.last.into_form(1, convert)?;
        groups.push(RowGroup {
            rows: n - 1..n,
            shift: last.reach(),
            form: last,
        });
        let coords = match spacing {
            SpacingKind::Coords => step.cloned(),
            _ => None,
        };
        Ok(Stencil {
            axis,
            window,
            edge_order: edge_order.get(),
            out,
            compute,
            groups,
            coords,
        })
    }

    /// The global input rows that output rows `rows` read.
    pub(crate) fn reach_of(n: usize, edge_order: EdgeOrder, rows: Range<usize>) -> Range<usize> {
        if rows.is_empty() {
            return rows;
        }
        let eo = edge_order.get();
        let lo = if rows.start == 0 { 0 } else { rows.start - 1 };
        let hi = if rows.end == n { n } else { rows.end + 1 };
        // an edge row reads `edge_order` rows inwards
        let lo = if rows.end == n {
            lo.min(n - 1 - eo)
        } else {
            lo
        };
        let hi = if rows.start == 0 { hi.max(eo + 1) } else { hi };
        lo..hi.min(n)
    }

    /// `G f` over the window: `f` holds the input rows; each group gathers
    /// from it, is rounded to `out`, and is padded into place with `-0.0`
    /// (the exact additive identity, so the sum of the padded groups equals
    /// each group bit for bit, signed zeros included).
    pub(crate) fn apply(&self, f: &Tensor) -> Result<Tensor, IrError> {
        let (input, output) = (self.window.input(), self.window.output());
        let mut total: Option<Tensor> = None;
        for g in &self.groups {
            let rows = intersect(&g.rows, &output);
            if rows.is_empty() {
                continue;
            }
            let len = rows.len();
            let start = rows.start - g.shift - input.start;
            let tap = |offset: usize| f.slice_axis(self.axis, start + offset, start + offset + len);
            let value = match &g.form {
                Form::Difference { plus, divisor } => {
                    let diff = tap(*plus)?.sub(&tap(0)?)?.convert(self.compute)?;
                    diff.div(&self.coefficient(divisor, &rows, diff.shape())?)?
                }
                Form::Weighted { taps } => {
                    let mut acc: Option<Tensor> = None;
                    for (offset, coef) in taps {
                        let x = tap(*offset)?.convert(self.compute)?;
                        accumulate(&mut acc, self.coefficient(coef, &rows, x.shape())?.mul(&x)?)?;
                    }
                    acc.expect("weighted groups have three taps")
                }
            };
            let value = value.convert(self.out)?;
            accumulate(
                &mut total,
                self.place(&value, rows.start - output.start, output.len())?,
            )?;
        }
        match total {
            Some(t) => Ok(t),
            None => self.nothing(f.shape()),
        }
    }

    /// `G^T ct` over the window: `ct` holds cotangent rows (the input
    /// rows), and the output rows of `f` get what the stencil rows read
    /// from them. Rows of `ct` outside the input contribute nothing.
    ///
    /// Most output rows are read only by interior rows `j - 1` and `j + 1`
    /// (and `j`, with coordinates): those are *gathered*, one expression
    /// per row like the forward stencil's (`(ct[j-1] - ct[j+1]) / d`
    /// uniform; `c[j-1]*ct[j-1] + b[j]*ct[j] + a[j+1]*ct[j+1]` with
    /// coordinates), which a jit runs as one instruction instead of
    /// scaling each neighbour and adding. The rows near an edge, which edge
    /// stencils also read, and rows whose neighbours the window lacks, get
    /// the contributions *scattered*: each group's rows, scaled, added in
    /// the order of the groups and their taps.
    pub(crate) fn apply_adjoint(&self, ct: &Tensor) -> Result<Tensor, IrError> {
        let output = self.window.output();
        let gathered = self.gather_rows();
        let mut total: Option<Tensor> = None;
        if gathered.is_empty() {
            self.scatter(&mut total, ct, &output)?;
        } else {
            self.scatter(&mut total, ct, &(output.start..gathered.start))?;
            self.scatter(&mut total, ct, &(gathered.end..output.end))?;
            let value = self.gather(ct, &gathered)?;
            accumulate(
                &mut total,
                self.place(&value, gathered.start - output.start, output.len())?,
            )?;
        }
        match total {
            Some(t) => Ok(t),
            None => self.nothing(ct.shape()),
        }
    }

    /// The output rows `G^T` gathers: read by interior rows only, with
    /// both neighbours in the input window.
    fn gather_rows(&self) -> Range<usize> {
        let (input, output, n) = (self.window.input(), self.window.output(), self.window.len);
        if self.interior().is_none() || n < 2 * self.edge_order + 3 {
            return 0..0;
        }
        let lo = (self.edge_order + 1).max(output.start).max(input.start + 1);
        let hi = (n - 1 - self.edge_order)
            .min(output.end)
            .min(input.end.saturating_sub(1));
        lo..hi.max(lo)
    }

    /// The interior rows' group (rows `1..n-1`), if the axis has one.
    fn interior(&self) -> Option<&RowGroup> {
        self.groups
            .iter()
            .find(|g| g.shift == 1 && g.rows.start == 1)
    }

    /// `G^T ct` at output rows `rows` (all in `gather_rows`), gathered.
    fn gather(&self, ct: &Tensor, rows: &Range<usize>) -> Result<Tensor, IrError> {
        let input = self.window.input();
        let g = self.interior().ok_or_else(|| IrError::Composite {
            name: "gradient",
            reason: "gathering needs interior rows".into(),
        })?;
        // cotangent rows `rows` moved by `d` (-1, 0 or 1)
        let moved = |d: isize| (rows.start as isize + d) as usize..(rows.end as isize + d) as usize;
        let tap = |d: isize| -> Result<Tensor, IrError> {
            let r = moved(d);
            ct.slice_axis(self.axis, r.start - input.start, r.end - input.start)?
                .convert(self.compute)
        };
        let value = match &g.form {
            Form::Difference { divisor, .. } => {
                let diff = tap(-1)?.sub(&tap(1)?)?;
                diff.div(&self.coefficient(divisor, rows, diff.shape())?)?
            }
            Form::Weighted { taps } => {
                // row i's tap `o` lands on row i - 1 + o: row j gets tap 2
                // of row j-1, tap 1 of row j, tap 0 of row j+1, in that order
                let mut acc: Option<Tensor> = None;
                for (offset, coef) in taps.iter().rev() {
                    let d = 1 - *offset as isize;
                    let x = tap(d)?;
                    accumulate(
                        &mut acc,
                        self.coefficient(coef, &moved(d), x.shape())?.mul(&x)?,
                    )?;
                }
                acc.expect("weighted groups have three taps")
            }
        };
        value.convert(self.out)
    }

    /// Add to `total` the contributions of every group's cotangent rows
    /// that land in output rows `target`.
    fn scatter(
        &self,
        total: &mut Option<Tensor>,
        ct: &Tensor,
        target: &Range<usize>,
    ) -> Result<(), IrError> {
        if target.is_empty() {
            return Ok(());
        }
        let (input, output) = (self.window.input(), self.window.output());
        let mut add = |t: Tensor| accumulate(total, t);
        for g in &self.groups {
            let rows = intersect(&g.rows, &input);
            if rows.is_empty() {
                continue;
            }
            // the group's cotangent rows, once, and any run of them
            let all = ct
                .slice_axis(self.axis, rows.start - input.start, rows.end - input.start)?
                .convert(self.compute)?;
            let local = |r: &Range<usize>| -> Result<Tensor, IrError> {
                if *r == rows {
                    return Ok(all.clone());
                }
                all.slice_axis(self.axis, r.start - rows.start, r.end - rows.start)
            };
            // the rows of this group whose tap `offset` lands in the target
            let landing = |offset: usize| {
                let lo = (target.start + g.shift).saturating_sub(offset);
                let hi = (target.end + g.shift).saturating_sub(offset);
                intersect(&rows, &(lo..hi))
            };
            let place = |t: &Tensor, r: &Range<usize>, offset: usize| {
                self.place(t, r.start + offset - g.shift - output.start, output.len())
            };
            match &g.form {
                Form::Difference { plus, divisor } => {
                    // q once over every landing row, then each tap's part of it
                    let (r_plus, r_zero) = (landing(*plus), landing(0));
                    let span = hull(&r_plus, &r_zero);
                    if span.is_empty() {
                        continue;
                    }
                    let c = local(&span)?;
                    let q = c
                        .div(&self.coefficient(divisor, &span, c.shape())?)?
                        .convert(self.out)?;
                    let part = |r: &Range<usize>| -> Result<Tensor, IrError> {
                        if *r == span {
                            return Ok(q.clone());
                        }
                        q.slice_axis(self.axis, r.start - span.start, r.end - span.start)
                    };
                    if !r_plus.is_empty() {
                        add(place(&part(&r_plus)?, &r_plus, *plus)?)?;
                    }
                    if !r_zero.is_empty() {
                        add(place(&part(&r_zero)?.neg()?, &r_zero, 0)?)?;
                    }
                }
                Form::Weighted { taps } => {
                    for (offset, coef) in taps {
                        let r = landing(*offset);
                        if r.is_empty() {
                            continue;
                        }
                        let c = local(&r)?;
                        let term = self
                            .coefficient(coef, &r, c.shape())?
                            .mul(&c)?
                            .convert(self.out)?;
                        add(place(&term, &r, *offset)?)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The output when no row contributes to it (an empty output window,
    /// or no cotangent row reaching it): all `-0.0`, shaped for an input of `shape`.
    fn nothing(&self, shape: &[usize]) -> Result<Tensor, IrError> {
        let mut s = shape.to_vec();
        s[self.axis] = self.window.output().len();
        Tensor::neg_zero(self.out).broadcast_in_dim(&s, &[])
    }

    /// `coef` for global rows `rows`, broadcast to `shape`.
    fn coefficient(
        &self,
        coef: &Coef,
        rows: &Range<usize>,
        shape: &[usize],
    ) -> Result<Tensor, IrError> {
        let t = match coef {
            Coef::Same(t) => t.clone(),
            Coef::Interior(k) => {
                let x = self.coords.as_ref().ok_or_else(|| IrError::Composite {
                    name: "gradient",
                    reason: "interior weights need coordinates".into(),
                })?;
                interior_weight(x, rows, *k)?.convert(self.compute)?
            }
        };
        let dims: &[usize] = if t.ndim() == 0 { &[] } else { &[self.axis] };
        t.broadcast_in_dim(shape, dims)
    }

    /// Pad `piece` (a run of rows) with `-0.0` so it starts at row `at` of `len`.
    fn place(&self, piece: &Tensor, at: usize, len: usize) -> Result<Tensor, IrError> {
        let rows = piece.shape()[self.axis];
        piece.pad_axis(
            &Tensor::neg_zero(self.out),
            self.axis,
            at as i64,
            (len - at - rows) as i64,
        )
    }
}

fn intersect(a: &Range<usize>, b: &Range<usize>) -> Range<usize> {
    let (lo, hi) = (a.start.max(b.start), a.end.min(b.end));
    lo..hi.max(lo)
}

/// The smallest range holding both (either may be empty).
fn hull(a: &Range<usize>, b: &Range<usize>) -> Range<usize> {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.clone(),
        (_, true) => a.clone(),
        _ => a.start.min(b.start)..a.end.max(b.end),
    }
}

/// `sum += t`, starting the sum at the first term.
pub(crate) fn accumulate(total: &mut Option<Tensor>, t: Tensor) -> Result<(), IrError> {
    *total = Some(match total.take() {
        Some(s) => s.add(&t)?,
        None => t,
    });
    Ok(())
}

/// NumPy's interior weight `k` (`a`, `b`, `c`) of global rows `rows`, from
/// `d1 = dx[i-1] = x[i] - x[i-1]` and `d2 = dx[i] = x[i+1] - x[i]`:
/// `a = -(d2) / (d1 * (d1 + d2))`, `b = (d2 - d1) / (d1 * d2)`,
/// `c = d1 / (d2 * (d1 + d2))`. Each row's value depends only on its three
/// coordinates, so any run of rows gets the same bits as the whole axis.
fn interior_weight(x: &Tensor, rows: &Range<usize>, k: usize) -> Result<Tensor, IrError> {
    let xs = |a: usize, b: usize| x.slice_axis(0, a, b);
    let (lo, hi) = (rows.start, rows.end);
    let d1 = xs(lo, hi)?.sub(&xs(lo - 1, hi - 1)?)?;
    let d2 = xs(lo + 1, hi + 1)?.sub(&xs(lo, hi)?)?;
    match k {
        0 => d2.neg()?.div(&d1.mul(&d1.add(&d2)?)?),
        1 => d2.sub(&d1)?.div(&d1.mul(&d2)?),
        _ => d1.div(&d2.mul(&d1.add(&d2)?)?),
    }
}

/// The coefficients of one group of rows.
enum Coefs {
    /// A difference over `span` rows, divided: `(f[1] - f[0]) / d` at the
    /// edges, `(f[i+1] - f[i-1]) / d` inside.
    Divide(Coef),
    /// Three weights on consecutive rows: `a*f[0] + b*f[1] + c*f[2]` at the
    /// edges, `a*f[i-1] + b*f[i] + c*f[i+1]` inside.
    Weights([Coef; 3]),
}

impl Coefs {
    /// The form of a group whose difference spans `span` rows, with its
    /// coefficients converted by `convert`.
    fn into_form(
        self,
        span: usize,
        convert: impl Fn(Coef) -> Result<Coef, IrError>,
    ) -> Result<Form, IrError> {
        Ok(match self {
            Coefs::Divide(d) => Form::Difference {
                plus: span,
                divisor: convert(d)?,
            },
            Coefs::Weights([a, b, c]) => Form::Weighted {
                taps: vec![(0, convert(a)?), (1, convert(b)?), (2, convert(c)?)],
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
        let s = |v: f64| Coef::Same(Tensor::scalar(out, v));
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
        let over_h = |v: f64| c(v).div(h).map(Coef::Same);
        let (first, last) = match edge_order {
            EdgeOrder::One => (
                Coefs::Divide(Coef::Same(h.clone())),
                Coefs::Divide(Coef::Same(h.clone())),
            ),
            EdgeOrder::Two => (
                Coefs::Weights([over_h(-1.5)?, over_h(2.)?, over_h(-0.5)?]),
                Coefs::Weights([over_h(0.5)?, over_h(-2.)?, over_h(1.5)?]),
            ),
        };
        Ok(Coefficients {
            first,
            interior: Some(Coefs::Divide(Coef::Same(c(2.).mul(h)?))),
            last,
        })
    }

    /// Coordinates `x` (length `n`): `dx = diff(x)` and NumPy's
    /// non-uniform three-point formulas, term for term. The edges' weights
    /// are 1-element arrays; the interior's are computed per window.
    fn coords(x: &Tensor, n: usize, edge_order: EdgeOrder) -> Result<Coefficients, IrError> {
        let d = |a: usize| {
            x.slice_axis(0, a + 1, a + 2)?
                .sub(&x.slice_axis(0, a, a + 1)?)
        };
        let two = Tensor::scalar(x.dtype(), 2.0).broadcast_in_dim(&[1], &[])?;
        let same = Coef::Same;
        let interior = (n >= 3)
            .then(|| Coefs::Weights([Coef::Interior(0), Coef::Interior(1), Coef::Interior(2)]));
        let (first, last) = match edge_order {
            EdgeOrder::One => (Coefs::Divide(same(d(0)?)), Coefs::Divide(same(d(n - 2)?))),
            EdgeOrder::Two => {
                let (d1, d2) = (d(0)?, d(1)?);
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
                let (d1, d2) = (d(n - 3)?, d(n - 2)?);
                // a = (dx2) / (dx1 * (dx1 + dx2)); b = - (dx2 + dx1) / (dx1 * dx2);
                // c = (2. * dx2 + dx1) / (dx2 * (dx1 + dx2))
                let last = [
                    d2.div(&d1.mul(&d1.add(&d2)?)?)?,
                    d2.add(&d1)?.neg()?.div(&d1.mul(&d2)?)?,
                    two.mul(&d2)?.add(&d1)?.div(&d2.mul(&d1.add(&d2)?)?)?,
                ];
                (
                    Coefs::Weights(first.map(same)),
                    Coefs::Weights(last.map(same)),
                )
            }
        };
        Ok(Coefficients {
            first,
            interior,
            last,
        })
    }
}
