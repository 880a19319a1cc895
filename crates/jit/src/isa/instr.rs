//! The instructions of a box program and their operands.

use oxla_ir::{BinaryFn, Compare, DType, Element, UnaryFn};
use smallvec::SmallVec;

use crate::fusion::FusedKind;

/// A binary elementwise op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    /// `x op y` with the interpreter's element arithmetic (tile loops
    /// hoist this match out of their inner loop instead).
    pub fn apply<T: Element>(self, x: T, y: T) -> T {
        match self {
            BinOp::Add => x.add(y),
            BinOp::Sub => x.sub(y),
            BinOp::Mul => x.mul(y),
            BinOp::Div => x.div(y),
        }
    }
}

/// The scaling step of a fused instruction: by a value uniform along the tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    Mul,
    Div,
}

/// A scaling step `±(t * s)` or `±(t / s)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Post {
    pub scale: Scale,
    pub negate: bool,
}

/// What a [`FusedOp::Scaled`] computes: `±post(op(a, b), s)`, or
/// `±post(a, s)` without `op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ScaledOp {
    pub op: Option<BinOp>,
    pub post: Post,
}

/// The sum or difference of a stencil's two taps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AddSub {
    Add,
    Sub,
}

/// A scaled stencil `post(a ± b, s)`, never negated: the
/// `(f[i+1] - f[i-1]) * (1/2h)` of every gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stencil {
    pub op: AddSub,
    pub scale: Scale,
}

impl Stencil {
    /// The stencil a scaled instruction computes, if it is one.
    pub fn of(f: ScaledOp) -> Option<Stencil> {
        let op = match f.op {
            Some(BinOp::Add) => AddSub::Add,
            Some(BinOp::Sub) => AddSub::Sub,
            _ => return None,
        };
        (!f.post.negate).then_some(Stencil {
            op,
            scale: f.post.scale,
        })
    }

    /// The same computation as a [`ScaledOp`] (tests compare the two).
    #[cfg(test)]
    pub fn scaled(self) -> ScaledOp {
        let op = match self.op {
            AddSub::Add => BinOp::Add,
            AddSub::Sub => BinOp::Sub,
        };
        ScaledOp {
            op: Some(op),
            post: Post {
                scale: self.scale,
                negate: false,
            },
        }
    }
}

/// Which operand of a binary operation a fused value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// A fused instruction: several primitives in one pass over a tile, each
/// still rounded on its own, in the interpreter's order. One variant per
/// row of the fusion table ([`crate::fusion`]). `V` is a vector operand
/// and `S` a scalar one: node ids while planning, registers once emitted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum FusedOp<V, S> {
    /// `±post(op(a, b), s)`; without `b`, `±post(a, s)`.
    Scaled {
        f: ScaledOp,
        a: V,
        b: Option<V>,
        s: S,
    },
    /// `t * t` with `t = stencil(a, b, s)`: the square of each derivative
    /// in a `sum(|grad f|^2)` loss.
    StencilSquare { stencil: Stencil, a: V, b: V, s: S },
    /// `±post(t + t, s2)` with `t = stencil(a, b, s)`, then `+ c` on the
    /// given side: the doubled, scaled cotangent of a square, plus the
    /// other neighbour's term.
    StencilDouble {
        stencil: Stencil,
        post: Post,
        a: V,
        b: V,
        s: S,
        s2: S,
        addend: Option<(Side, V)>,
    },
    /// `±post((t1 + t1) op (t2 + t2), s2)` with `t1 = stencil(a1, b1, s)`
    /// and `t2 = stencil(a2, b2, s)`, then `+ c` on the given side: the
    /// gathered adjoint of a stencil at the doubled cotangents of a square
    /// (`sum(|grad f|^2)`'s gradient), one derivative at each neighbour.
    StencilPair {
        stencil: Stencil,
        op: AddSub,
        post: Post,
        taps: [V; 4],
        s: S,
        s2: S,
        addend: Option<(Side, V)>,
    },
    /// `sqrt(((a1 - b1) * (a1 - b1) + (a2 - b2) * (a2 - b2)) + c)` with
    /// `c` uniform, or `s / sqrt(...)` of it when `recip` is `s`: the
    /// magnitude of two forward differences (an isotropic total
    /// variation's `|grad u|`, smoothed by `c`) and the `0.5 / |grad u|`
    /// of its derivative. The differences are recomputed from their taps,
    /// which are read in place.
    DiffNorm {
        taps: [V; 4],
        c: S,
        recip: Option<S>,
    },
    /// `±(w * (d + d))` (or `±((d + d) * w)`, `w` on the given side) with
    /// `d = a - b` and `w` a vector, then `+ c` on the given side: the
    /// cotangent of a squared difference scaled by a varying weight (total
    /// variation's gradient, `w = 0.5 / |grad u|`), summed with its
    /// neighbours' terms.
    WeightedDouble {
        a: V,
        b: V,
        w: (Side, V),
        negate: bool,
        addend: Option<(Side, V)>,
    },
    /// A weighted sum of tap pairs, summed left to right: `first`'s
    /// `c * w` (or the first pair) then `+ (a ± b) ∘ w` for each pair
    /// (`∘` its `Scale`), then `+ c` on the given side. The interior of a
    /// finite-difference stencil of any width (`fd`), and sums across axes
    /// of scaled stencils (a gradient's VJP).
    PairSum(PairSum<V, S>),
}

/// Most tap pairs one [`FusedOp::PairSum`] sums (a 12th-order accurate
/// centered stencil has 6).
pub(crate) const MAX_PAIRS: usize = 6;

/// The operands of a [`FusedOp::PairSum`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PairSum<V, S> {
    /// `a + b` or `a - b` in every pair.
    pub op: AddSub,
    /// The centre term `c * w`, first in the sum; without it the first
    /// pair starts the sum.
    pub center: Option<(V, S)>,
    /// `(a, b, w, scale)` of each pair, `pairs[..count]`; the unused
    /// slots hold copies of the first pair (so mapping operands maps them).
    pub pairs: [(V, V, S, Scale); MAX_PAIRS],
    pub count: u8,
    pub addend: Option<(Side, V)>,
}

impl<V: Copy, S: Copy> PairSum<V, S> {
    /// The pairs in use (at most all of them, even for a corrupt count,
    /// which validation refuses: `count_is_valid`).
    pub fn used(&self) -> &[(V, V, S, Scale)] {
        &self.pairs[..(self.count as usize).min(MAX_PAIRS)]
    }

    /// One to [`MAX_PAIRS`] pairs: what the executor's loops handle.
    pub fn count_is_valid(&self) -> bool {
        (1..=MAX_PAIRS).contains(&(self.count as usize))
    }
}

impl<V: Copy, S: Copy> FusedOp<V, S> {
    /// Its row of the fusion table.
    pub fn kind(&self) -> FusedKind {
        match self {
            FusedOp::Scaled { .. } => FusedKind::Scaled,
            FusedOp::StencilSquare { .. } => FusedKind::StencilSquare,
            FusedOp::StencilDouble { .. } => FusedKind::StencilDouble,
            FusedOp::StencilPair { .. } => FusedKind::StencilPair,
            FusedOp::DiffNorm { .. } => FusedKind::DiffNorm,
            FusedOp::WeightedDouble { .. } => FusedKind::WeightedDouble,
            FusedOp::PairSum(_) => FusedKind::PairSum,
        }
    }

    /// The vector operands.
    pub fn vectors(&self) -> SmallVec<[V; 16]> {
        match *self {
            FusedOp::Scaled { a, b, .. } => std::iter::once(a).chain(b).collect(),
            FusedOp::StencilSquare { a, b, .. } => smallvec::smallvec![a, b],
            FusedOp::StencilDouble { a, b, addend, .. } => {
                [a, b].into_iter().chain(addend.map(|(_, c)| c)).collect()
            }
            FusedOp::StencilPair { taps, addend, .. } => {
                taps.into_iter().chain(addend.map(|(_, c)| c)).collect()
            }
            FusedOp::DiffNorm { taps, .. } => taps.into_iter().collect(),
            FusedOp::WeightedDouble {
                a,
                b,
                w: (_, w),
                addend,
                ..
            } => [a, b, w]
                .into_iter()
                .chain(addend.map(|(_, c)| c))
                .collect(),
            FusedOp::PairSum(p) => p
                .center
                .map(|(c, _)| c)
                .into_iter()
                .chain(p.used().iter().flat_map(|&(a, b, _, _)| [a, b]))
                .chain(p.addend.map(|(_, c)| c))
                .collect(),
        }
    }

    /// The scalar operands.
    pub fn scalars(&self) -> SmallVec<[S; 8]> {
        match *self {
            FusedOp::Scaled { s, .. } | FusedOp::StencilSquare { s, .. } => {
                smallvec::smallvec![s]
            }
            FusedOp::StencilDouble { s, s2, .. } | FusedOp::StencilPair { s, s2, .. } => {
                smallvec::smallvec![s, s2]
            }
            FusedOp::DiffNorm { c, recip, .. } => std::iter::once(c).chain(recip).collect(),
            FusedOp::WeightedDouble { .. } => SmallVec::new(),
            FusedOp::PairSum(p) => p
                .center
                .map(|(_, w)| w)
                .into_iter()
                .chain(p.used().iter().map(|&(_, _, w, _)| w))
                .collect(),
        }
    }

    /// The same instruction with operands translated by `v` and `s`.
    pub fn try_map<V2: Copy, S2: Copy, E>(
        self,
        mut v: impl FnMut(V) -> Result<V2, E>,
        mut s: impl FnMut(S) -> Result<S2, E>,
    ) -> Result<FusedOp<V2, S2>, E> {
        Ok(match self {
            FusedOp::Scaled { f, a, b, s: s1 } => FusedOp::Scaled {
                f,
                a: v(a)?,
                b: b.map(&mut v).transpose()?,
                s: s(s1)?,
            },
            FusedOp::StencilSquare {
                stencil,
                a,
                b,
                s: s1,
            } => FusedOp::StencilSquare {
                stencil,
                a: v(a)?,
                b: v(b)?,
                s: s(s1)?,
            },
            FusedOp::StencilDouble {
                stencil,
                post,
                a,
                b,
                s: s1,
                s2,
                addend,
            } => FusedOp::StencilDouble {
                stencil,
                post,
                a: v(a)?,
                b: v(b)?,
                s: s(s1)?,
                s2: s(s2)?,
                addend: match addend {
                    Some((side, c)) => Some((side, v(c)?)),
                    None => None,
                },
            },
            FusedOp::DiffNorm { taps, c, recip } => FusedOp::DiffNorm {
                taps: [v(taps[0])?, v(taps[1])?, v(taps[2])?, v(taps[3])?],
                c: s(c)?,
                recip: recip.map(&mut s).transpose()?,
            },
            FusedOp::WeightedDouble {
                a,
                b,
                w: (side, w),
                negate,
                addend,
            } => FusedOp::WeightedDouble {
                a: v(a)?,
                b: v(b)?,
                w: (side, v(w)?),
                negate,
                addend: match addend {
                    Some((side, c)) => Some((side, v(c)?)),
                    None => None,
                },
            },
            FusedOp::PairSum(p) => {
                let (a, b, w, scale) = p.pairs[0];
                let mut pairs = [(v(a)?, v(b)?, s(w)?, scale); MAX_PAIRS];
                for (slot, &(a, b, w, scale)) in pairs.iter_mut().zip(&p.pairs).skip(1) {
                    *slot = (v(a)?, v(b)?, s(w)?, scale);
                }
                FusedOp::PairSum(PairSum {
                    op: p.op,
                    center: match p.center {
                        Some((c, w)) => Some((v(c)?, s(w)?)),
                        None => None,
                    },
                    pairs,
                    count: p.count,
                    addend: match p.addend {
                        Some((side, c)) => Some((side, v(c)?)),
                        None => None,
                    },
                })
            }
            FusedOp::StencilPair {
                stencil,
                op,
                post,
                taps,
                s: s1,
                s2,
                addend,
            } => FusedOp::StencilPair {
                stencil,
                op,
                post,
                taps: [v(taps[0])?, v(taps[1])?, v(taps[2])?, v(taps[3])?],
                s: s(s1)?,
                s2: s(s2)?,
                addend: match addend {
                    Some((side, c)) => Some((side, v(c)?)),
                    None => None,
                },
            },
        })
    }
}

/// A vector operand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum VSrc {
    /// A tile register.
    Reg(u16),
    /// A contiguous run of an input buffer (through view `v`), read in place.
    Input(u32),
    /// A scalar register, repeated along the tile.
    Scalar(u16),
}

/// Where a vector result goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum VDst {
    Reg(u16),
    /// Straight into output `k` (a store root whose value has no other use;
    /// row programs only).
    Out(u16),
}

/// An elementwise operation on operands `A`: scalar registers in an
/// [`SInstr`], tile operands in a [`VInstr`]. Its result has the
/// instruction's dtype.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Elementwise<A> {
    Neg(A),
    /// Round the operand, of dtype `from`, to the instruction's dtype.
    Convert {
        from: DType,
        a: A,
    },
    Binary(BinOp, A, A),
    /// `f(a)` ([`oxla_ir::Math`]).
    Unary(UnaryFn, A),
    /// `f(a, b)` ([`oxla_ir::Math`]).
    BinaryFn(BinaryFn, A, A),
    /// `a cmp b ? x : y`.
    Select {
        cmp: Compare,
        a: A,
        b: A,
        x: A,
        y: A,
    },
}

impl<A: Copy> Elementwise<A> {
    /// The operands, in order.
    pub fn operands(&self) -> SmallVec<[A; 2]> {
        match *self {
            Elementwise::Neg(a) | Elementwise::Convert { a, .. } => smallvec::smallvec![a],
            Elementwise::Binary(_, a, b) => smallvec::smallvec![a, b],
            Elementwise::Unary(_, a) => smallvec::smallvec![a],
            Elementwise::BinaryFn(_, a, b) => smallvec::smallvec![a, b],
            Elementwise::Select { a, b, x, y, .. } => smallvec::smallvec![a, b, x, y],
        }
    }

    /// The dtype of the operands of an instruction of `dtype`.
    pub fn operand_dtype(&self, dtype: DType) -> DType {
        match *self {
            Elementwise::Convert { from, .. } => from,
            Elementwise::Neg(_)
            | Elementwise::Binary(..)
            | Elementwise::Unary(..)
            | Elementwise::BinaryFn(..)
            | Elementwise::Select { .. } => dtype,
        }
    }

    /// The same operation with operands translated by `f`.
    pub fn try_map<B, E>(self, mut f: impl FnMut(A) -> Result<B, E>) -> Result<Elementwise<B>, E> {
        Ok(match self {
            Elementwise::Neg(a) => Elementwise::Neg(f(a)?),
            Elementwise::Convert { from, a } => Elementwise::Convert { from, a: f(a)? },
            Elementwise::Binary(op, a, b) => Elementwise::Binary(op, f(a)?, f(b)?),
            Elementwise::Unary(u, a) => Elementwise::Unary(u, f(a)?),
            Elementwise::BinaryFn(g, a, b) => Elementwise::BinaryFn(g, f(a)?, f(b)?),
            Elementwise::Select { cmp, a, b, x, y } => Elementwise::Select {
                cmp,
                a: f(a)?,
                b: f(b)?,
                x: f(x)?,
                y: f(y)?,
            },
        })
    }
}

/// Computed once per line of tiles, on scalar registers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SInstr {
    Load {
        dtype: DType,
        view: u32,
        dst: u16,
    },
    Elementwise {
        dtype: DType,
        dst: u16,
        op: Elementwise<u16>,
    },
}

/// Computed per tile, on tile registers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum VInstr {
    /// A strided (not contiguous) load into a register.
    Gather {
        dtype: DType,
        view: u32,
        stride: i64,
        dst: u16,
    },
    Elementwise {
        dtype: DType,
        dst: VDst,
        op: Elementwise<VSrc>,
    },
    /// A fused instruction (see [`FusedOp`]).
    Fused {
        dtype: DType,
        dst: VDst,
        op: FusedOp<VSrc, u16>,
    },
    /// A fused value added into reduction `red`, which sums along row
    /// tiles, in the same loop: the reduction's chain of additions then
    /// overlaps the arithmetic instead of following it as its own pass.
    /// Only for the fusion table's rows marked `sums_into_rows`.
    FusedSum {
        dtype: DType,
        red: u16,
        op: FusedOp<VSrc, u16>,
    },
    /// Register `dst` holds `src` one element later along the tile, its
    /// first element computed by `head`: `dst[0] = head[0]`, `dst[k] =
    /// src[k - 1]`. Emitted (`build::reuse`) for a fused value that is an
    /// earlier register's value at the previous element along the tile
    /// (total variation's weight at the left neighbour), so that value is
    /// copied rather than computed again; `head` is that value's own
    /// instruction, run for the first element only.
    ShiftIn {
        dtype: DType,
        dst: u16,
        src: u16,
        head: FusedOp<VSrc, u16>,
    },
    Store {
        dtype: DType,
        out: u16,
        a: VSrc,
    },
    Reduce {
        dtype: DType,
        red: u16,
        a: VSrc,
    },
}

impl VInstr {
    /// The dtype the instruction writes (a conversion's target).
    pub fn dtype(&self) -> DType {
        match *self {
            VInstr::Gather { dtype, .. }
            | VInstr::Elementwise { dtype, .. }
            | VInstr::Fused { dtype, .. }
            | VInstr::FusedSum { dtype, .. }
            | VInstr::ShiftIn { dtype, .. }
            | VInstr::Store { dtype, .. }
            | VInstr::Reduce { dtype, .. } => dtype,
        }
    }

    /// The vector operands it reads, each with the dtype it is read in (a
    /// conversion reads its source's); a gather's view is not a [`VSrc`].
    pub fn sources(&self) -> SmallVec<[(DType, VSrc); 16]> {
        let of = |dtype: DType, srcs: &[VSrc]| srcs.iter().map(|&a| (dtype, a)).collect();
        match *self {
            VInstr::Gather { .. } => SmallVec::new(),
            VInstr::Elementwise { dtype, op, .. } => of(op.operand_dtype(dtype), &op.operands()),
            VInstr::Fused { dtype, op, .. } | VInstr::FusedSum { dtype, op, .. } => {
                of(dtype, &op.vectors())
            }
            VInstr::ShiftIn {
                dtype, src, head, ..
            } => {
                let mut srcs = head.vectors();
                srcs.push(VSrc::Reg(src));
                of(dtype, &srcs)
            }
            VInstr::Store { dtype, a, .. } | VInstr::Reduce { dtype, a, .. } => of(dtype, &[a]),
        }
    }

    /// True for arithmetic (what decides a program's [`Program::arith_dtype`]).
    pub fn is_arithmetic(&self) -> bool {
        matches!(
            self,
            VInstr::Elementwise {
                op: Elementwise::Binary(..)
                    | Elementwise::Unary(..)
                    | Elementwise::BinaryFn(..)
                    | Elementwise::Select { .. },
                ..
            } | VInstr::Fused { .. }
                | VInstr::FusedSum { .. }
                | VInstr::ShiftIn { .. }
        )
    }
}

/// Which way a program's tiles run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum TileDirection {
    /// Along a row (the innermost axis): outputs are contiguous.
    #[default]
    Row,
    /// Down a column of a run of rows, one element per row (the narrow
    /// edges of a stencil along the innermost axis).
    Column,
}

/// The program of one box.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Program {
    pub scalar: Vec<SInstr>,
    pub vector: Vec<VInstr>,
    /// The dtype of its first arithmetic instruction: the executor runs
    /// the program's instructions of that dtype inline (see `exec::vector`).
    pub arith_dtype: Option<DType>,
    pub direction: TileDirection,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stencil loops exist for unnegated sums and differences only;
    /// every other scaled instruction stays a `Scaled`.
    #[test]
    fn stencils_are_the_unnegated_scaled_sums_and_differences() {
        for op in [
            None,
            Some(BinOp::Add),
            Some(BinOp::Sub),
            Some(BinOp::Mul),
            Some(BinOp::Div),
        ] {
            for scale in [Scale::Mul, Scale::Div] {
                for negate in [false, true] {
                    let f = ScaledOp {
                        op,
                        post: Post { scale, negate },
                    };
                    let want = match (op, negate) {
                        (Some(BinOp::Add), false) => Some(AddSub::Add),
                        (Some(BinOp::Sub), false) => Some(AddSub::Sub),
                        _ => None,
                    };
                    let got = Stencil::of(f);
                    assert_eq!(got.map(|s| s.op), want, "{f:?}");
                    if let Some(s) = got {
                        assert_eq!(s.scale, scale);
                        assert_eq!(s.scaled(), f, "round trip");
                    }
                }
            }
        }
    }
}
