//! Fusing a box's nodes into fused instructions: one pass per row of the
//! fusion table ([`crate::fusion::FUSED`]), in its order, then the fused
//! row sums. Exact: a fused instruction performs the same operations,
//! rounded one at a time, in the same order.

use smallvec::SmallVec;

use oxla_ir::UnaryFn;

use crate::build::spec::{BoxExpr, RootUse, SpecOp};
use crate::fusion::{FUSED, FusedKind};
use crate::isa::{
    AddSub, BinOp, FusedOp, MAX_PAIRS, PairSum, Post, Scale, ScaledOp, Side, Stencil, TileDirection,
};

/// A match of a pattern at a node: what the node becomes, and the nodes it
/// absorbs (read by it alone).
struct Match {
    op: FusedOp<usize, usize>,
    absorbed: SmallVec<[usize; 4]>,
}

/// Fuse every pattern of the table that the box's nodes form, in the
/// dtypes the table allows.
pub(crate) fn fuse(b: &mut BoxExpr, direction: TileDirection) {
    for rule in &FUSED {
        for i in 0..b.nodes.len() {
            if !b.needed[i] || !rule.kind.fuses(b.nodes[i].dtype) {
                continue;
            }
            let found = match rule.kind {
                FusedKind::Scaled => scaled(b, i),
                FusedKind::StencilDouble => stencil_double(b, i),
                FusedKind::StencilSquare => stencil_square(b, i),
                FusedKind::StencilPair => stencil_pair(b, i),
                FusedKind::DiffNorm => diff_norm(b, i),
                FusedKind::WeightedDouble => weighted_double(b, i),
                FusedKind::PairSum => pair_sum(b, i),
            };
            if let Some(m) = found {
                for x in m.absorbed {
                    b.needed[x] = false;
                }
                b.nodes[i].op = SpecOp::Fused(m.op);
            }
        }
        b.count_uses();
    }
    if direction == TileDirection::Row {
        fuse_row_sums(b);
    }
}

/// `(scale, x, c)` if node `i` is `x * c` or `x / c` with `x` a vector and
/// `c` uniform along the tile: the last step of a scaled instruction.
fn scaled_by_uniform(b: &BoxExpr, i: usize) -> Option<(Scale, usize, usize)> {
    let SpecOp::Binary(op @ (BinOp::Mul | BinOp::Div), x, c) = b.nodes[i].op else {
        return None;
    };
    let scale = if op == BinOp::Div {
        Scale::Div
    } else {
        Scale::Mul
    };
    (!b.is_vector(c) && b.is_vector(x)).then_some((scale, x, c))
}

/// [`FusedKind::Scaled`]: `post(op(a, b), s)` with the inner value read
/// only there, `s` uniform along the tile, `post` a multiplication or
/// division, and a negation after it carried along. The
/// `(f[i+1] - f[i-1]) * (1/2h)` of every gradient, and the scaled
/// cotangents of its transpose.
fn scaled(b: &BoxExpr, i: usize) -> Option<Match> {
    let absorbing = |x: usize, op| {
        Some(Match {
            op,
            absorbed: smallvec::smallvec![x],
        })
    };
    match b.nodes[i].op {
        // -(post(...)) carries the negation along
        SpecOp::Neg(y) if b.read_only_there(y, 1) => match b.nodes[y].op {
            SpecOp::Fused(FusedOp::Scaled { f, a, b: c, s }) => {
                let post = Post {
                    negate: !f.post.negate,
                    ..f.post
                };
                let f = ScaledOp { post, ..f };
                absorbing(y, FusedOp::Scaled { f, a, b: c, s })
            }
            _ => {
                let (scale, x, c) = scaled_by_uniform(b, y)?;
                let post = Post {
                    scale,
                    negate: true,
                };
                let f = ScaledOp { op: None, post };
                absorbing(
                    y,
                    FusedOp::Scaled {
                        f,
                        a: x,
                        b: None,
                        s: c,
                    },
                )
            }
        },
        _ => {
            let (scale, x, c) = scaled_by_uniform(b, i)?;
            let SpecOp::Binary(op, l, r) = b.nodes[x].op else {
                return None;
            };
            if !b.read_only_there(x, 1) {
                return None;
            }
            let post = Post {
                scale,
                negate: false,
            };
            let f = ScaledOp { op: Some(op), post };
            absorbing(
                x,
                FusedOp::Scaled {
                    f,
                    a: l,
                    b: Some(r),
                    s: c,
                },
            )
        }
    }
}

/// The stencil `post(a ± b, s)` that node `x` computes, when its only
/// readers are `slots` operand slots of one node and its taps are vectors:
/// `(stencil, a, b, s)`.
fn stencil_read_only_there(
    b: &BoxExpr,
    x: usize,
    slots: usize,
) -> Option<(Stencil, usize, usize, usize)> {
    let SpecOp::Fused(FusedOp::Scaled {
        f,
        a,
        b: Some(tap),
        s,
    }) = b.nodes[x].op
    else {
        return None;
    };
    let stencil = Stencil::of(f)?;
    (b.read_only_there(x, slots) && b.is_vector(a) && b.is_vector(tap))
        .then_some((stencil, a, tap, s))
}

/// [`FusedKind::StencilDouble`]: `±post(t + t, s2)` of a stencil `t` read
/// only there (the cotangent of its square), and then an addition of
/// another vector to such a value read only there.
fn stencil_double(b: &BoxExpr, i: usize) -> Option<Match> {
    match b.nodes[i].op {
        SpecOp::Fused(FusedOp::Scaled {
            f: ScaledOp {
                op: Some(BinOp::Add),
                post,
            },
            a: x,
            b: Some(y),
            s: s2,
        }) if x == y => {
            // both operand slots of node i, and nothing else, read x
            let (stencil, a, tap, s) = stencil_read_only_there(b, x, 2)?;
            Some(Match {
                op: FusedOp::StencilDouble {
                    stencil,
                    post,
                    a,
                    b: tap,
                    s,
                    s2,
                    addend: None,
                },
                absorbed: smallvec::smallvec![x],
            })
        }
        SpecOp::Binary(BinOp::Add, x, y) if x != y => [(Side::Left, x, y), (Side::Right, y, x)]
            .into_iter()
            .find_map(|(side, v, c)| {
                let SpecOp::Fused(op @ FusedOp::StencilDouble { addend: None, .. }) = b.nodes[v].op
                else {
                    return None;
                };
                let FusedOp::StencilDouble {
                    stencil,
                    post,
                    a,
                    b: tap,
                    s,
                    s2,
                    ..
                } = op
                else {
                    return None;
                };
                (b.read_only_there(v, 1) && b.is_vector(c)).then(|| Match {
                    op: FusedOp::StencilDouble {
                        stencil,
                        post,
                        a,
                        b: tap,
                        s,
                        s2,
                        addend: Some((side, c)),
                    },
                    absorbed: smallvec::smallvec![v],
                })
            }),
        _ => None,
    }
}

/// [`FusedKind::StencilSquare`]: `t * t` of a stencil `t` read only there
/// (the square of each derivative in a `sum(|grad f|^2)` loss).
fn stencil_square(b: &BoxExpr, i: usize) -> Option<Match> {
    let SpecOp::Binary(BinOp::Mul, x, y) = b.nodes[i].op else {
        return None;
    };
    if x != y {
        return None;
    }
    let (stencil, a, tap, s) = stencil_read_only_there(b, x, 2)?;
    Some(Match {
        op: FusedOp::StencilSquare {
            stencil,
            a,
            b: tap,
            s,
        },
        absorbed: smallvec::smallvec![x],
    })
}

/// The stencil `t` that node `x` doubles (`x = t + t`), when `x` is read
/// only by one slot and `t` only by `x`'s two: `(stencil, a, b, s)`.
fn doubled_stencil(b: &BoxExpr, x: usize) -> Option<(Stencil, usize, usize, usize)> {
    let SpecOp::Binary(BinOp::Add, t, u) = b.nodes[x].op else {
        return None;
    };
    (t == u && b.read_only_there(x, 1))
        .then(|| stencil_read_only_there(b, t, 2))
        .flatten()
}

/// True if scalar nodes `s` and `t` are one value: the same node, or
/// constants of the same dtype and bits (each stencil has its own node).
fn same_scalar(b: &BoxExpr, s: usize, t: usize) -> bool {
    let bits = |c: oxla_ir::num_complex::Complex64| (c.re.to_bits(), c.im.to_bits());
    s == t
        || match (&b.nodes[s].op, &b.nodes[t].op) {
            (&SpecOp::Const(x), &SpecOp::Const(y)) => {
                b.nodes[s].dtype == b.nodes[t].dtype && bits(x) == bits(y)
            }
            _ => false,
        }
}

/// [`FusedKind::StencilPair`]: `±post((t1 + t1) op (t2 + t2), s2)` of two
/// doubled stencils of one kind and scale, each read only there (the
/// gathered adjoint of a stencil at the doubled cotangents of its square:
/// `sum(|grad f|^2)`'s gradient), then an addition of another vector to
/// such a value read only there.
fn stencil_pair(b: &BoxExpr, i: usize) -> Option<Match> {
    match b.nodes[i].op {
        SpecOp::Fused(FusedOp::Scaled {
            f:
                ScaledOp {
                    op: Some(op @ (BinOp::Add | BinOp::Sub)),
                    post,
                },
            a: x,
            b: Some(y),
            s: s2,
        }) if x != y => {
            let (st1, a1, b1, s) = doubled_stencil(b, x)?;
            let (st2, a2, b2, s_2) = doubled_stencil(b, y)?;
            if st1 != st2 || !same_scalar(b, s, s_2) {
                return None;
            }
            let t1 = match b.nodes[x].op {
                SpecOp::Binary(_, t, _) => t,
                _ => return None,
            };
            let t2 = match b.nodes[y].op {
                SpecOp::Binary(_, t, _) => t,
                _ => return None,
            };
            let op = if op == BinOp::Add {
                AddSub::Add
            } else {
                AddSub::Sub
            };
            Some(Match {
                op: FusedOp::StencilPair {
                    stencil: st1,
                    op,
                    post,
                    taps: [a1, b1, a2, b2],
                    s,
                    s2,
                    addend: None,
                },
                absorbed: smallvec::smallvec![x, y, t1, t2],
            })
        }
        SpecOp::Binary(BinOp::Add, x, y) if x != y => [(Side::Left, x, y), (Side::Right, y, x)]
            .into_iter()
            .find_map(|(side, v, c)| match b.nodes[v].op {
                SpecOp::Fused(FusedOp::StencilPair {
                    stencil,
                    op,
                    post,
                    taps,
                    s,
                    s2,
                    addend: None,
                }) if b.read_only_there(v, 1) && b.is_vector(c) => Some(Match {
                    op: FusedOp::StencilPair {
                        stencil,
                        op,
                        post,
                        taps,
                        s,
                        s2,
                        addend: Some((side, c)),
                    },
                    absorbed: smallvec::smallvec![v],
                }),
                _ => None,
            }),
        _ => None,
    }
}

/// The taps `(a, b)` of node `d = a - b` of two vectors.
fn difference(b: &BoxExpr, d: usize) -> Option<(usize, usize)> {
    match b.nodes[d].op {
        SpecOp::Binary(BinOp::Sub, x, y) if b.is_vector(x) && b.is_vector(y) => Some((x, y)),
        _ => None,
    }
}

/// `(a, b, d)` if node `x` is `d * d` with `d = a - b`, read by `slots`
/// slots of one node and nothing else.
fn squared_difference(b: &BoxExpr, x: usize, slots: usize) -> Option<(usize, usize, usize)> {
    let SpecOp::Binary(BinOp::Mul, d, e) = b.nodes[x].op else {
        return None;
    };
    let (ta, tb) = difference(b, d)?;
    (d == e && b.read_only_there(x, slots)).then_some((ta, tb, d))
}

/// [`FusedKind::DiffNorm`]: `sqrt((d1 * d1 + d2 * d2) + c)` of two
/// differences of vectors, `c` uniform, every step read only by the next;
/// then `s / n` of such an `n` read only there, `s` uniform. A difference
/// read elsewhere too stays (the instruction recomputes it from its taps).
fn diff_norm(b: &BoxExpr, i: usize) -> Option<Match> {
    match b.nodes[i].op {
        SpecOp::Unary(UnaryFn::Sqrt, q) => {
            let SpecOp::Binary(BinOp::Add, p, c) = b.nodes[q].op else {
                return None;
            };
            let SpecOp::Binary(BinOp::Add, x, y) = b.nodes[p].op else {
                return None;
            };
            if b.is_vector(c) || !b.read_only_there(q, 1) || !b.read_only_there(p, 1) {
                return None;
            }
            let slots = if x == y { 2 } else { 1 };
            let (a1, b1, d1) = squared_difference(b, x, slots)?;
            let (a2, b2, d2) = squared_difference(b, y, slots)?;
            let mut absorbed: SmallVec<[usize; 4]> = smallvec::smallvec![q, p, x, y];
            // a difference squared here and nowhere else goes too (`d * d`
            // reads it in two slots, twice if both squares are of it)
            let reads = if d1 == d2 && x != y { 4 } else { 2 };
            for d in [d1, d2] {
                if b.read_only_there(d, reads) && !absorbed.contains(&d) {
                    absorbed.push(d);
                }
            }
            Some(Match {
                op: FusedOp::DiffNorm {
                    taps: [a1, b1, a2, b2],
                    c,
                    recip: None,
                },
                absorbed,
            })
        }
        SpecOp::Binary(BinOp::Div, s, n) if !b.is_vector(s) && b.read_only_there(n, 1) => {
            match b.nodes[n].op {
                SpecOp::Fused(FusedOp::DiffNorm {
                    taps,
                    c,
                    recip: None,
                }) => Some(Match {
                    op: FusedOp::DiffNorm {
                        taps,
                        c,
                        recip: Some(s),
                    },
                    absorbed: smallvec::smallvec![n],
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// [`FusedKind::WeightedDouble`]: `w * (d + d)` (either order) of a vector
/// `w` and a difference `d` of vectors, `d + d` read only there; its
/// negation; then an addition of another vector to such a value read only
/// there. `d` goes too when `d + d` is its only reader.
fn weighted_double(b: &BoxExpr, i: usize) -> Option<Match> {
    match b.nodes[i].op {
        SpecOp::Binary(BinOp::Mul, x, y) if x != y => [(Side::Left, x, y), (Side::Right, y, x)]
            .into_iter()
            .find_map(|(side, w, dd)| {
                let SpecOp::Binary(BinOp::Add, d, e) = b.nodes[dd].op else {
                    return None;
                };
                let (ta, tb) = difference(b, d)?;
                if d != e || !b.is_vector(w) || !b.read_only_there(dd, 1) {
                    return None;
                }
                let mut absorbed: SmallVec<[usize; 4]> = smallvec::smallvec![dd];
                if b.read_only_there(d, 2) {
                    absorbed.push(d);
                }
                Some(Match {
                    op: FusedOp::WeightedDouble {
                        a: ta,
                        b: tb,
                        w: (side, w),
                        negate: false,
                        addend: None,
                    },
                    absorbed,
                })
            }),
        SpecOp::Neg(v) if b.read_only_there(v, 1) => match b.nodes[v].op {
            SpecOp::Fused(FusedOp::WeightedDouble {
                a,
                b: tb,
                w,
                negate: false,
                addend: None,
            }) => Some(Match {
                op: FusedOp::WeightedDouble {
                    a,
                    b: tb,
                    w,
                    negate: true,
                    addend: None,
                },
                absorbed: smallvec::smallvec![v],
            }),
            _ => None,
        },
        SpecOp::Binary(BinOp::Add, x, y) if x != y => [(Side::Left, x, y), (Side::Right, y, x)]
            .into_iter()
            .find_map(|(side, v, c)| match b.nodes[v].op {
                SpecOp::Fused(FusedOp::WeightedDouble {
                    a,
                    b: tb,
                    w,
                    negate,
                    addend: None,
                }) if b.read_only_there(v, 1) && b.is_vector(c) => Some(Match {
                    op: FusedOp::WeightedDouble {
                        a,
                        b: tb,
                        w,
                        negate,
                        addend: Some((side, c)),
                    },
                    absorbed: smallvec::smallvec![v],
                }),
                _ => None,
            }),
        _ => None,
    }
}

/// A term of a pair sum.
enum Term {
    /// `c * w`, `w` uniform.
    Center(usize, usize),
    /// `(a ± b) ∘ w`: a `Scaled` instruction, not negated, `w` uniform.
    Pair(AddSub, (usize, usize, usize, Scale)),
}

/// The pair-sum term node `x` is, if it is one read only by one slot.
fn pair_sum_term(b: &BoxExpr, x: usize) -> Option<Term> {
    if !b.read_only_there(x, 1) {
        return None;
    }
    match b.nodes[x].op {
        SpecOp::Fused(FusedOp::Scaled {
            f:
                ScaledOp {
                    op: Some(op @ (BinOp::Add | BinOp::Sub)),
                    post:
                        Post {
                            scale,
                            negate: false,
                        },
                },
            a,
            b: Some(c),
            s,
        }) if b.is_vector(a) && b.is_vector(c) => {
            let op = if op == BinOp::Add {
                AddSub::Add
            } else {
                AddSub::Sub
            };
            Some(Term::Pair(op, (a, c, s, scale)))
        }
        SpecOp::Binary(BinOp::Mul, c, w) if b.is_vector(c) && !b.is_vector(w) => {
            Some(Term::Center(c, w))
        }
        _ => None,
    }
}

/// [`FusedKind::PairSum`]: `t0 + t1`, `sum + t` and `sum + c` chains of
/// pair terms (see [`pair_sum_term`]) read only by the next step: the
/// interior of any finite-difference stencil, and sums of scaled stencils
/// across axes. Built one addition at a time, each extending the sum its
/// left operand already is, up to [`MAX_PAIRS`] pairs; then, if another
/// vector is added to it, that as its addend.
fn pair_sum(b: &BoxExpr, i: usize) -> Option<Match> {
    let SpecOp::Binary(BinOp::Add, x, y) = b.nodes[i].op else {
        return None;
    };
    if x == y {
        return None;
    }
    let pair_of = |t: usize| match pair_sum_term(b, t)? {
        Term::Pair(op, pair) => Some((op, pair)),
        Term::Center(..) => None,
    };
    // an existing sum, extended by one more pair
    if let SpecOp::Fused(FusedOp::PairSum(mut sum)) = b.nodes[x].op
        && sum.addend.is_none()
        && (sum.count as usize) < MAX_PAIRS
        && b.read_only_there(x, 1)
        && let Some((op, pair)) = pair_of(y)
        && op == sum.op
    {
        sum.pairs[sum.count as usize] = pair;
        sum.count += 1;
        return Some(Match {
            op: FusedOp::PairSum(sum),
            absorbed: smallvec::smallvec![x, y],
        });
    }
    // a new sum of two terms: a centre or a pair, then a pair
    if let (Some(first), Some((op, pair))) = (pair_sum_term(b, x), pair_of(y)) {
        let (center, pairs, count) = match first {
            Term::Center(c, w) => (Some((c, w)), [pair; MAX_PAIRS], 1),
            Term::Pair(op0, p0) if op0 == op => {
                let mut pairs = [p0; MAX_PAIRS];
                pairs[1] = pair;
                (None, pairs, 2)
            }
            Term::Pair(..) => return None,
        };
        return Some(Match {
            op: FusedOp::PairSum(PairSum {
                op,
                center,
                pairs,
                count,
                addend: None,
            }),
            absorbed: smallvec::smallvec![x, y],
        });
    }
    // a finished sum plus another vector
    [(Side::Left, x, y), (Side::Right, y, x)]
        .into_iter()
        .find_map(|(side, v, c)| match b.nodes[v].op {
            SpecOp::Fused(FusedOp::PairSum(sum))
                if sum.addend.is_none() && b.read_only_there(v, 1) && b.is_vector(c) =>
            {
                Some(Match {
                    op: FusedOp::PairSum(PairSum {
                        addend: Some((side, c)),
                        ..sum
                    }),
                    absorbed: smallvec::smallvec![v],
                })
            }
            _ => None,
        })
}

/// A fused value whose only reader is a sum along row tiles, of a pattern
/// the table lets sum into rows, becomes a [`SpecOp::FusedSum`]: both in
/// one loop.
fn fuse_row_sums(b: &mut BoxExpr) {
    for r in 0..b.roots.len() {
        let root = b.roots[r];
        let RootUse::Reduce {
            red,
            innermost: true,
        } = root.role
        else {
            continue;
        };
        let i = root.node;
        if let SpecOp::Fused(op) = b.nodes[i].op
            && b.needed[i]
            && b.uses[i] == 1
            && op.kind().rule().sums_into_rows
        {
            b.nodes[i].op = SpecOp::FusedSum { op, red };
        }
    }
}
