//! NumPy's broadcasting and type promotion, as explicit graph nodes.
//!
//! Primitives stay same-shape and same-dtype (as in LAX); the NumPy-level
//! API (`ops.rs`, the operators of `operators.rs`) first brings its
//! operands to a common dtype with [`Op::Convert`](crate::Op::Convert)
//! and to a common shape with
//! [`Op::BroadcastInDim`](crate::Op::BroadcastInDim), whose transpose is
//! a `reduce_sum` over the broadcast axes, as JAX does.

use crate::{IrError, Shape, Tensor};

/// NumPy's broadcast of two shapes: aligned from the last axis, each pair
/// of lengths equal or one of them 1.
///
/// ```
/// use oxla_ir::broadcast::broadcast_shapes;
/// assert_eq!(broadcast_shapes("add", &[3, 1], &[4]).unwrap().as_slice(), &[3, 4]);
/// assert_eq!(broadcast_shapes("add", &[], &[2, 2]).unwrap().as_slice(), &[2, 2]);
/// assert!(broadcast_shapes("add", &[3], &[4]).is_err());
/// ```
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Shape, IrError> {
    let n = a.len().max(b.len());
    let at = |s: &[usize], i: usize| {
        let pad = n - s.len();
        if i < pad { 1 } else { s[i - pad] }
    };
    (0..n)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Ok(x),
            (1, y) => Ok(y),
            (x, 1) => Ok(x),
            _ => Err(IrError::BroadcastMismatch {
                op,
                lhs: a.into(),
                rhs: b.into(),
            }),
        })
        .collect()
}

impl Tensor {
    /// Broadcast to `shape` by NumPy's rule (a `broadcast_in_dim` onto the
    /// trailing axes); returns `self` if it already has that shape.
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor};
    /// let row = Tensor::parameter(&[4], DType::F32);
    /// assert_eq!(row.broadcast_to(&[3, 4]).unwrap().shape(), &[3, 4]);
    /// assert!(row.broadcast_to(&[4, 3]).is_err());
    /// ```
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor, IrError> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        let target = broadcast_shapes("broadcast_to", self.shape(), shape)?;
        if target.as_slice() != shape {
            return Err(IrError::BroadcastMismatch {
                op: "broadcast_to",
                lhs: self.shape().into(),
                rhs: shape.into(),
            });
        }
        let offset = shape.len() - self.ndim();
        let dims: Vec<usize> = (offset..shape.len()).collect();
        self.broadcast_in_dim(shape, &dims)
    }
}

/// Bring `xs` to NumPy's common dtype and broadcast shape.
pub(crate) fn align<const N: usize>(
    op: &'static str,
    xs: [&Tensor; N],
) -> Result<[Tensor; N], IrError> {
    let mut shape: Shape = Shape::new();
    let mut dtype = xs[0].dtype();
    for x in xs {
        shape = broadcast_shapes(op, &shape, x.shape())?;
        dtype = dtype.promote(x.dtype());
    }
    let mut out: [Tensor; N] = xs.map(Tensor::clone);
    for t in &mut out {
        *t = t.convert(dtype)?.broadcast_to(&shape)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    #[test]
    fn shapes_broadcast_as_numpy() {
        let b = |x: &[usize], y: &[usize]| broadcast_shapes("t", x, y).map(|s| s.to_vec());
        assert_eq!(b(&[], &[]), Ok(vec![]));
        assert_eq!(b(&[5, 1, 3], &[4, 1]), Ok(vec![5, 4, 3]));
        assert_eq!(b(&[0], &[1]), Ok(vec![0]));
        assert_eq!(b(&[1], &[0]), Ok(vec![0]));
        assert_eq!(
            b(&[2, 3], &[3, 2]),
            Err(IrError::BroadcastMismatch {
                op: "t",
                lhs: [2, 3].as_slice().into(),
                rhs: [3, 2].as_slice().into(),
            })
        );
    }

    #[test]
    fn align_promotes_and_broadcasts() {
        let col = Tensor::parameter(&[3, 1], DType::F32);
        let row = Tensor::parameter(&[4], DType::F64);
        let [a, b] = align("t", [&col, &row]).unwrap();
        assert_eq!((a.shape(), a.dtype()), (&[3usize, 4][..], DType::F64));
        assert_eq!((b.shape(), b.dtype()), (&[3usize, 4][..], DType::F64));
    }
}
