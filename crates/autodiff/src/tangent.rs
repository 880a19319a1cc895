//! Symbolic zeros: a tangent or cotangent is `Option<Tensor>`, `None` meaning
//! zero. Zeros are never computed; they are materialized only when a public
//! API must return a tensor.

use std::collections::HashMap;

use oxla_ir::{DType, IrError, NodeKey, ParamId, Tensor, substitute};

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

/// A fresh parameter shaped like each of `values`, to trace a function on.
pub(crate) fn params_like(values: &[Tensor]) -> Vec<Tensor> {
    values
        .iter()
        .map(|v| Tensor::parameter(v.shape(), v.dtype()))
        .collect()
}

/// Each parameter bound to its value, to substitute the values back after tracing.
pub(crate) fn binding(params: &[Tensor], values: &[Tensor]) -> HashMap<ParamId, Tensor> {
    params
        .iter()
        .zip(values)
        .filter_map(|(p, v)| p.parameter_id().map(|id| (id, v.clone())))
        .collect()
}

/// Nodes keyed by identity, each mapped to its partner: the seeds of a
/// JVP (node -> tangent) or the nodes to cut out of a graph.
pub(crate) fn keyed<'a>(
    pairs: impl IntoIterator<Item = (&'a Tensor, Tensor)>,
) -> HashMap<NodeKey, Tensor> {
    pairs.into_iter().map(|(n, p)| (n.key(), p)).collect()
}

/// `substitute` over `first` and `second` together (sharing every node they
/// have in common), split back into the two lists.
pub(crate) fn substitute_split(
    first: Vec<Tensor>,
    second: Vec<Tensor>,
    bind: &HashMap<ParamId, Tensor>,
) -> Result<(Vec<Tensor>, Vec<Tensor>), IrError> {
    let n = first.len();
    let all: Vec<Tensor> = first.into_iter().chain(second).collect();
    let mut all = substitute(&all, bind)?;
    let second = all.split_off(n);
    Ok((all, second))
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
    Tensor::neg_zero(dtype)
}
