//! Fusing a box's nodes into fused instructions: one pass per row of the
//! fusion table ([`crate::fusion::FUSED`]), in its order, then the fused
//! row sums. Exact: a fused instruction performs the same operations,
//! rounded one at a time, in the same order.

use smallvec::SmallVec;

use crate::build::spec::{BoxExpr, RootUse, SpecOp};
use crate::fusion::{FUSED, FusedKind};
use crate::isa::{AddSub, BinOp, FusedOp, Post, Scale, ScaledOp, Side, Stencil, TileDirection};

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
