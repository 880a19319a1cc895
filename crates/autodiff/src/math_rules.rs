//! Rules of the elementwise math primitives (`Op::Unary`, `Op::Binary`,
//! `Op::Select`): one JVP per function, JAX's formulas (`jax/_src/lax/lax.py`)
//! term for term, so values agree with JAX to rounding; the transpose of
//! `select` (the only one linear in some operand).
//!
//! Every JVP multiplies the tangent by primal values only, so the VJP of
//! each is a transposition of `mul`, `div`, `neg` and `select`.

use oxla_ir::{BinaryFn, Compare, Tensor, UnaryFn};

use crate::AutodiffError;
use crate::jvp_rules::JvpRule;
use crate::tangent::{self, Tangent, neg_zero};

/// `v` broadcast like `like` (in its dtype).
fn konst(like: &Tensor, v: f64) -> Result<Tensor, oxla_ir::IrError> {
    Tensor::scalar(like.dtype(), v).broadcast_in_dim(like.shape(), &[])
}

/// The JVP rule of a unary function.
pub(crate) fn jvp_unary(f: UnaryFn) -> JvpRule {
    match f {
        UnaryFn::Sqrt => jvp_sqrt,
        UnaryFn::Exp => jvp_exp,
        UnaryFn::Log => jvp_log,
        UnaryFn::Log1p => jvp_log1p,
        UnaryFn::Expm1 => jvp_expm1,
        UnaryFn::Sin => jvp_sin,
        UnaryFn::Cos => jvp_cos,
        UnaryFn::Tanh => jvp_tanh,
        UnaryFn::Abs => jvp_abs,
        UnaryFn::Sign => jvp_sign,
    }
}

/// The JVP rule of a binary function.
pub(crate) fn jvp_binary(f: BinaryFn) -> JvpRule {
    match f {
        BinaryFn::Max | BinaryFn::Min => jvp_extremum,
        BinaryFn::Pow => jvp_pow,
    }
}

/// The operand and the tangent of a unary node.
fn operand(node: &Tensor, t: &[Tangent]) -> (Tensor, Option<Tensor>) {
    (node.inputs()[0].clone(), t[0].clone())
}

/// `g * s`, with `s` built only if `g` is not zero.
fn scaled(
    g: Option<Tensor>,
    s: impl FnOnce() -> Result<Tensor, oxla_ir::IrError>,
) -> Result<Tangent, AutodiffError> {
    Ok(match g {
        Some(g) => Some(g.mul(&s()?)?),
        None => None,
    })
}

/// `d sqrt(x) = g * (0.5 / sqrt(x))`
fn jvp_sqrt(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    scaled(g, || konst(&x, 0.5)?.div(node))
}

/// `d exp(x) = g * exp(x)`
fn jvp_exp(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    scaled(t[0].clone(), || Ok(node.clone()))
}

/// `d log(x) = g / x`
fn jvp_log(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    Ok(g.map(|g| g.div(&x)).transpose()?)
}

/// `d log1p(x) = g / (x + 1)`
fn jvp_log1p(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    Ok(g.map(|g| g.div(&x.add(&konst(&x, 1.0)?)?)).transpose()?)
}

/// `d expm1(x) = g * (expm1(x) + 1)`
fn jvp_expm1(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    scaled(t[0].clone(), || node.add(&konst(node, 1.0)?))
}

/// `d sin(x) = g * cos(x)`
fn jvp_sin(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    scaled(g, || x.cos())
}

/// `d cos(x) = -(g * sin(x))`
fn jvp_cos(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    Ok(scaled(g, || x.sin())?.map(|d| d.neg()).transpose()?)
}

/// `d tanh(x) = (g + g * tanh(x)) * (1 - tanh(x))`
fn jvp_tanh(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let Some(g) = t[0].clone() else {
        return Ok(None);
    };
    let one_minus = konst(node, 1.0)?.sub(node)?;
    Ok(Some(g.add(&g.mul(node)?)?.mul(&one_minus)?))
}

/// `d |x| = x >= 0 ? g : -g` (so `+g` at 0, as JAX).
fn jvp_abs(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, g) = operand(node, t);
    let Some(g) = g else { return Ok(None) };
    let zero = konst(&x, 0.0)?;
    Ok(Some(Tensor::select(Compare::Ge, &x, &zero, &g, &g.neg()?)?))
}

/// `sign` is piecewise constant: its tangent is zero.
fn jvp_sign(_: &Tensor, _: &[Tangent]) -> Result<Tangent, AutodiffError> {
    Ok(None)
}

/// JAX's `_balanced_eq(x, z, y)`: `(x == z ? 1 : 0) / (y == z ? 2 : 1)`,
/// the share of `x` in an extremum `z` of `x` and `y` (half each at ties).
fn balanced_eq(x: &Tensor, z: &Tensor, y: &Tensor) -> Result<Tensor, oxla_ir::IrError> {
    let (zero, one, two) = (konst(z, 0.0)?, konst(z, 1.0)?, konst(z, 2.0)?);
    let num = Tensor::select(Compare::Eq, x, z, &one, &zero)?;
    let den = Tensor::select(Compare::Eq, y, z, &two, &one)?;
    num.div(&den)
}

/// `d max(x, y) = gx * balanced_eq(x, ans, y) + gy * balanced_eq(y, ans, x)`
/// (and the same for `min`).
fn jvp_extremum(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, y) = (&node.inputs()[0], &node.inputs()[1]);
    let dx = scaled(t[0].clone(), || balanced_eq(x, node, y))?;
    let dy = scaled(t[1].clone(), || balanced_eq(y, node, x))?;
    Ok(tangent::add(dx, dy)?)
}

/// `d x^y = gx * (y * x^(y - 1)) + gy * (log(x == 0 ? 1 : x) * x^y)`
fn jvp_pow(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    let (x, y) = (&node.inputs()[0], &node.inputs()[1]);
    let dx = scaled(t[0].clone(), || {
        let y_minus_one = y.sub(&konst(y, 1.0)?)?;
        y.mul(&x.binary_fn(BinaryFn::Pow, &y_minus_one)?)
    })?;
    let dy = scaled(t[1].clone(), || {
        let (zero, one) = (konst(x, 0.0)?, konst(x, 1.0)?);
        let safe = Tensor::select(Compare::Eq, x, &zero, &one, x)?;
        safe.log()?.mul(node)
    })?;
    Ok(tangent::add(dx, dy)?)
}

/// `d (a cmp b ? x : y) = a cmp b ? dx : dy`; the predicate has no tangent.
pub(crate) fn jvp_select(node: &Tensor, t: &[Tangent]) -> Result<Tangent, AutodiffError> {
    if t[2].is_none() && t[3].is_none() {
        return Ok(None);
    }
    let i = node.inputs();
    let dx = tangent::or_zeros(t[2].clone(), &i[2])?;
    let dy = tangent::or_zeros(t[3].clone(), &i[3])?;
    Ok(Some(node.with_inputs(&[
        i[0].clone(),
        i[1].clone(),
        dx,
        dy,
    ])?))
}

/// The transpose of `select` in its branches: `ct` goes to the branch each
/// element took, `-0.0` (the exact additive identity) to the other.
pub(crate) fn transpose_select(
    node: &Tensor,
    ct: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    if let Some(operand) = (0..2).find(|&k| linear[k]) {
        return Err(AutodiffError::NotLinear {
            op: node.op().name(),
            operand,
        });
    }
    let i = node.inputs();
    let zero = neg_zero(ct.dtype()).broadcast_in_dim(ct.shape(), &[])?;
    let branch = |on_true: &Tensor, on_false: &Tensor| {
        node.with_inputs(&[
            i[0].clone(),
            i[1].clone(),
            on_true.clone(),
            on_false.clone(),
        ])
    };
    Ok(vec![
        None,
        None,
        if linear[2] {
            Some(branch(ct, &zero)?)
        } else {
            None
        },
        if linear[3] {
            Some(branch(&zero, ct)?)
        } else {
            None
        },
    ])
}

/// Unary and binary functions are not linear in any operand.
pub(crate) fn transpose_nonlinear(
    node: &Tensor,
    _: &Tensor,
    linear: &[bool],
) -> Result<Vec<Option<Tensor>>, AutodiffError> {
    let operand = linear.iter().position(|&l| l).unwrap_or(0);
    Err(AutodiffError::NotLinear {
        op: node.op().name(),
        operand,
    })
}
