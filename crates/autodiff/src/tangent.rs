//! Symbolic zeros: a tangent or cotangent is `Option<Tensor>`, `None` meaning
//! zero. Zeros are never computed; they are materialized only when a public
//! API must return a tensor.

use oxla_ir::{DType, IrError, Tensor};

/// A tangent or cotangent; `None` is a symbolic zero.
pub(crate) type Tangent = Option<Tensor>;

/// `a + b` where either may be zero.
pub(crate) fn add(a: Tangent, b: Tangent) -> Result<Tangent, IrError> {
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(a.add(&b)?),
        (a, None) => a,
        (None, b) => b,
    })
}

/// A materialized zero of the given type (a broadcast scalar, never an allocation in a fused plan).
pub(crate) fn zeros(shape: &[usize], dtype: DType) -> Result<Tensor, IrError> {
    Tensor::scalar(dtype, 0.0).broadcast_in_dim(shape, &[])
}

/// The tangent if present, else a materialized zero like `like`.
pub(crate) fn or_zeros(t: Tangent, like: &Tensor) -> Result<Tensor, IrError> {
    match t {
        Some(t) => Ok(t),
        None => zeros(like.shape(), like.dtype()),
    }
}

/// `-0.0` of `dtype`: the padding value of transposes, the exact additive identity.
pub(crate) fn neg_zero(dtype: DType) -> Tensor {
    Tensor::scalar(dtype, -0.0)
}
