//! The groups of a stencil: which output rows one sum computes, and its
//! terms (taps and their weights), for a uniform axis (exact weights,
//! rounded once) and for a coordinate axis (weights as graph nodes from
//! the coordinates).

use std::ops::Range;

use oxla_ir::{DType, IrError, Tensor};

use super::fornberg::{fornberg, tensor_weights};
use super::lowering_error;
use super::ratio::Ratio;
use super::rows::{concat, join, pieces};
use super::scheme::Block;

/// One term of a group's sum.
pub(crate) enum Term {
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
pub(crate) struct Group {
    pub(crate) rows: Range<usize>,
    pub(crate) terms: Vec<Term>,
}

/// Groups with Fornberg's weights from the coordinates `x` (f64), as
/// graph nodes: per row of each block, from the coordinates of its
/// points (periodic: shifted by the period where the stencil wraps).
/// Blocks whose stencils have the same number of points share one run
/// of the recurrence over all their rows (its graph is the largest
/// part of the lowering).
pub(crate) fn coordinate_groups(
    n: usize,
    compute: DType,
    blocks: &[Block],
    order: usize,
    x: &Tensor,
    period: Option<f64>,
) -> Result<Vec<Group>, IrError> {
    // the coordinates of the points `rows + o`
    let coords = |rows: &Range<usize>, o: isize| -> Result<Tensor, IrError> {
        join(pieces(n, rows.start as isize + o, rows.len()), 0, |p| {
            let x = x.slice_axis(0, p.src.start, p.src.end)?;
            if p.wraps == 0 {
                return Ok(x);
            }
            let shift = p.wraps as f64 * period.unwrap_or(0.0);
            x.add(&Tensor::scalar(DType::F64, shift).broadcast_in_dim(x.shape(), &[])?)
        })
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
            .map(|w| w.convert(compute))
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
pub(crate) fn uniform_groups(
    blocks: &[Block],
    order: usize,
    weight: impl Fn(f64) -> Result<Tensor, IrError>,
) -> Result<Vec<Group>, IrError> {
    let mut groups = Vec::new();
    for block in blocks {
        let Block::Sliding { rows, offsets } = block else {
            return Err(lowering_error(
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
        .map_err(|_| lowering_error(format!("the weights of {offsets:?} overflow i128")))
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
}
