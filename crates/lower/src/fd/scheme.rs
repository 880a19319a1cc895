//! Which points each output row reads: findiff's conventions (0.16), as
//! integer layouts, before any weight is computed.
//!
//! With `m` the derivative order and `p` the accuracy (even):
//!
//! - the centered stencil of a uniform grid has `2*floor((m+1)/2) - 1 + p`
//!   points (`num_central`; symmetry buys one order for even `m`), and the
//!   one-sided stencils `num_coef` = `num_central`, plus one for even `m`;
//! - uniform, one-sided: the first `s = num_central / 2` rows read
//!   `f[i..i+num_coef]` (forward from the row itself), the last `s` rows
//!   `f[i-num_coef+1..=i]`, the others the centered stencil;
//! - coordinates (no symmetry bonus), one-sided: every stencil has
//!   `num_coef` points, the centered one `2*(num_coef/2) + 1`; the first
//!   and last `num_coef/2` rows read the `num_coef` points nearest the
//!   boundary (including it);
//! - periodic: the centered stencil on every row, wrapping around.

use std::ops::Range;

/// The boundary handling of an axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Closure {
    OneSided,
    Periodic,
}

/// The rows a group of output rows covers and the points they read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    /// Each row `i` of `rows` reads `i + o` for each `o` in `offsets`
    /// (taken modulo the axis length on periodic axes).
    Sliding {
        rows: Range<usize>,
        offsets: Vec<isize>,
    },
    /// Each row of `rows` reads the same points `points`.
    Fixed {
        rows: Range<usize>,
        points: Range<usize>,
    },
}

/// A stencil layout: the order, accuracy, closure and whether the axis has
/// coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scheme {
    pub order: usize,
    pub accuracy: usize,
    pub closure: Closure,
    pub coords: bool,
}

impl Scheme {
    fn num_central(&self) -> usize {
        2 * self.order.div_ceil(2) - 1 + self.accuracy
    }

    /// Points of a one-sided stencil.
    fn num_coef(&self) -> usize {
        self.num_central() + usize::from(self.order.is_multiple_of(2))
    }

    /// How far the centered stencil reaches on each side.
    pub(crate) fn half_width(&self) -> usize {
        if self.coords {
            self.num_coef() / 2
        } else {
            self.num_central() / 2
        }
    }

    /// The shortest axis every stencil of the layout fits in.
    pub(crate) fn min_len(&self) -> usize {
        let s = self.half_width();
        match (self.closure, self.coords) {
            (Closure::Periodic, _) => 2 * s + 1,
            // the forward stencil of row s-1 reaches row s-1 + num_coef-1
            (Closure::OneSided, false) => self.num_coef() + s - 1,
            (Closure::OneSided, true) => self.num_coef(),
        }
    }

    /// The blocks of an axis of `n >= min_len()` points, in row order.
    pub(crate) fn blocks(&self, n: usize) -> Vec<Block> {
        let s = self.half_width();
        let centered: Vec<isize> = (-(s as isize)..=s as isize).collect();
        let sliding = |rows: Range<usize>, offsets: &[isize]| Block::Sliding {
            rows,
            offsets: offsets.to_vec(),
        };
        let mut blocks = Vec::new();
        match (self.closure, self.coords) {
            (Closure::Periodic, _) => {
                // the wrapping rows apart, so the interior reads `f` directly
                blocks.push(sliding(0..s, &centered));
                blocks.push(sliding(s..n - s, &centered));
                blocks.push(sliding(n - s..n, &centered));
            }
            (Closure::OneSided, false) => {
                let k = self.num_coef() as isize;
                let forward: Vec<isize> = (0..k).collect();
                let backward: Vec<isize> = (1 - k..=0).collect();
                blocks.push(sliding(0..s, &forward));
                blocks.push(sliding(s..n - s, &centered));
                blocks.push(sliding(n - s..n, &backward));
            }
            (Closure::OneSided, true) => {
                let k = self.num_coef();
                let last = s.max(n - s);
                blocks.push(Block::Fixed {
                    rows: 0..s,
                    points: 0..k,
                });
                blocks.push(sliding(s..last, &centered));
                blocks.push(Block::Fixed {
                    rows: last..n,
                    points: n - k..n,
                });
            }
        }
        blocks.retain(|b| !b.rows().is_empty());
        blocks
    }
}

impl Block {
    /// The output rows of the block.
    pub(crate) fn rows(&self) -> Range<usize> {
        match self {
            Block::Sliding { rows, .. } | Block::Fixed { rows, .. } => rows.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(order: usize, accuracy: usize, closure: Closure, coords: bool) -> Scheme {
        Scheme {
            order,
            accuracy,
            closure,
            coords,
        }
    }

    #[test]
    fn findiff_sizes() {
        // findiff.coefficients(2, 4): 5 centered points, 6 forward points
        let s = scheme(2, 4, Closure::OneSided, false);
        assert_eq!((s.num_central(), s.num_coef(), s.half_width()), (5, 6, 2));
        assert_eq!(s.min_len(), 7);
        let s = scheme(1, 2, Closure::OneSided, false);
        assert_eq!((s.num_central(), s.num_coef(), s.min_len()), (3, 3, 3));
        // non-uniform second derivative, accuracy 2: 4 points, 5 centered
        let s = scheme(2, 2, Closure::OneSided, true);
        assert_eq!((s.num_coef(), s.half_width(), s.min_len()), (4, 2, 4));
        assert_eq!(scheme(2, 2, Closure::Periodic, true).min_len(), 5);
    }

    #[test]
    fn every_row_is_covered_once_and_reads_inside_the_axis() {
        for order in 1..=6 {
            for accuracy in (2..=12).step_by(2) {
                for closure in [Closure::OneSided, Closure::Periodic] {
                    for coords in [false, true] {
                        let s = scheme(order, accuracy, closure, coords);
                        for n in s.min_len()..s.min_len() + 6 {
                            let blocks = s.blocks(n);
                            let mut next = 0;
                            for b in &blocks {
                                assert_eq!(b.rows().start, next, "{s:?} n {n}");
                                next = b.rows().end;
                                if let (Block::Sliding { rows, offsets }, Closure::OneSided) =
                                    (b, closure)
                                {
                                    let lo = rows.start as isize + offsets[0];
                                    let hi = rows.end as isize - 1 + offsets[offsets.len() - 1];
                                    assert!(lo >= 0 && hi < n as isize, "{s:?} n {n} {b:?}");
                                }
                                if let Block::Fixed { points, .. } = b {
                                    assert!(points.end <= n && points.len() > order);
                                }
                            }
                            assert_eq!(next, n, "{s:?} n {n}");
                        }
                    }
                }
            }
        }
    }
}
