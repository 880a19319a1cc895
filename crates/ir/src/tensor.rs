//! [`Tensor`]: a lazy, immutable handle to a node of the graph.

use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::infer::infer;
use crate::math::{BinaryFn, Compare, UnaryFn};
use crate::{ArrayValue, Composite, DType, Dims, HostArray, IrError, Op, ParamId, Shape, Widths};

/// A node: an op, its operands, and the inferred output type.
pub struct Node {
    op: Op,
    inputs: SmallVec<[Tensor; 4]>,
    shape: Shape,
    dtype: DType,
}

/// A lazy array: a shared handle to a node whose operands are other tensors.
///
/// Tensors form a DAG; building one never computes anything. Every builder
/// checks shapes and dtypes and returns an [`IrError`] instead of building a
/// bad node. Tensors from different computations combine freely; a
/// [`crate::Graph`] is whatever DAG is reachable from the outputs you hand it.
///
/// ```
/// use oxla_ir::{DType, Tensor};
/// let x = Tensor::parameter(&[3], DType::F64);
/// let y = x.mul(&x).unwrap().add(&x).unwrap(); // x*x + x, not computed yet
/// assert_eq!(y.shape(), &[3]);
/// assert!(x.add(&Tensor::parameter(&[4], DType::F64)).is_err()); // shapes differ
/// ```
#[derive(Clone)]
pub struct Tensor(Arc<Node>);

/// Identity of a node while some handle keeps it alive (its address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeKey(usize);

impl Tensor {
    /// Build a node, checking `op` against `inputs` first. All builders end here.
    pub fn from_op(op: Op, inputs: &[Tensor]) -> Result<Tensor, IrError> {
        let (shape, dtype) = infer(&op, inputs)?;
        Ok(Tensor(Arc::new(Node {
            op,
            inputs: inputs.iter().cloned().collect(),
            shape,
            dtype,
        })))
    }

    /// A fresh placeholder of the given type.
    pub fn parameter(shape: &[usize], dtype: DType) -> Tensor {
        let op = Op::Parameter {
            id: ParamId::fresh(),
            shape: shape.into(),
            dtype,
        };
        Tensor::leaf(op, shape.into(), dtype)
    }

    /// A concrete array.
    pub fn literal(value: impl Into<Arc<ArrayValue>>) -> Tensor {
        let value = value.into();
        let (shape, dtype) = (Shape::from_slice(value.shape()), value.dtype());
        Tensor::leaf(Op::Literal(value), shape, dtype)
    }

    /// A 0-d literal of `dtype`, rounded from `v`.
    pub fn scalar(dtype: DType, v: f64) -> Tensor {
        Tensor::literal(ArrayValue::scalar(dtype, v))
    }

    /// The 0-d `-0.0` of `dtype`, the exact additive identity (both parts
    /// `-0.0` for complex types; see [`ArrayValue::neg_zero`]). Padding
    /// with it keeps signed zeros through `pad + add` assembly.
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor};
    /// assert_eq!(Tensor::neg_zero(DType::C64).dtype(), DType::C64);
    /// ```
    pub fn neg_zero(dtype: DType) -> Tensor {
        Tensor::literal(ArrayValue::neg_zero(dtype))
    }

    /// A literal from any NumPy-style array: integers become `f64`, booleans are rejected.
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor};
    /// let t = Tensor::from_host(ndarray::arr1(&[1i32, 2]).into_dyn()).unwrap();
    /// assert_eq!(t.dtype(), DType::F64);
    /// ```
    pub fn from_host(array: impl Into<HostArray>) -> Result<Tensor, IrError> {
        Ok(Tensor::literal(array.into().into_value()?))
    }

    fn leaf(op: Op, shape: Shape, dtype: DType) -> Tensor {
        Tensor(Arc::new(Node {
            op,
            inputs: SmallVec::new(),
            shape,
            dtype,
        }))
    }

    /// The op of this node.
    pub fn op(&self) -> &Op {
        &self.0.op
    }
    /// The operands.
    pub fn inputs(&self) -> &[Tensor] {
        &self.0.inputs
    }
    /// The shape.
    pub fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }
    /// The rank.
    pub fn ndim(&self) -> usize {
        self.0.shape.len()
    }
    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.0.shape.iter().product()
    }
    /// The identity of the node (stable while any handle to it lives).
    pub fn key(&self) -> NodeKey {
        NodeKey(Arc::as_ptr(&self.0) as usize)
    }
    /// True if both handles name the same node.
    pub fn same_node(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    /// The value, if this node is a literal.
    pub fn literal_value(&self) -> Option<&Arc<ArrayValue>> {
        match &self.0.op {
            Op::Literal(v) => Some(v),
            _ => None,
        }
    }
    /// The parameter id, if this node is a parameter.
    pub fn parameter_id(&self) -> Option<ParamId> {
        match &self.0.op {
            Op::Parameter { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The same op applied to new operands (re-checked).
    pub fn with_inputs(&self, inputs: &[Tensor]) -> Result<Tensor, IrError> {
        Tensor::from_op(self.0.op.clone(), inputs)
    }

    // ---- elementwise -------------------------------------------------------

    /// `self + other` (same shape and dtype).
    pub fn add(&self, other: &Tensor) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Add, &[self.clone(), other.clone()])
    }
    /// `self - other` (same shape and dtype).
    pub fn sub(&self, other: &Tensor) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Sub, &[self.clone(), other.clone()])
    }
    /// `self * other` (same shape and dtype).
    pub fn mul(&self, other: &Tensor) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Mul, &[self.clone(), other.clone()])
    }
    /// `self / other` (same shape and dtype).
    pub fn div(&self, other: &Tensor) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Div, &[self.clone(), other.clone()])
    }
    /// `-self`.
    pub fn neg(&self) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Neg, std::slice::from_ref(self))
    }
    /// `f(self)` elementwise: the primitive (real dtypes; complex is an
    /// [`IrError::UnsupportedDType`]).
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor, UnaryFn};
    /// let x = Tensor::parameter(&[3], DType::F32);
    /// assert_eq!(x.unary(UnaryFn::Exp).unwrap().shape(), &[3]);
    /// assert!(Tensor::parameter(&[3], DType::C64).unary(UnaryFn::Exp).is_err());
    /// ```
    pub fn unary(&self, f: UnaryFn) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Unary(f), std::slice::from_ref(self))
    }
    /// `f(self, other)` elementwise: the primitive (same shape and real
    /// dtype; see `maximum`/`minimum`/`pow` for NumPy's broadcasting).
    ///
    /// ```
    /// use oxla_ir::{BinaryFn, DType, Tensor};
    /// let x = Tensor::parameter(&[3], DType::F64);
    /// assert_eq!(x.binary_fn(BinaryFn::Max, &x).unwrap().shape(), &[3]);
    /// ```
    pub fn binary_fn(&self, f: BinaryFn, other: &Tensor) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Binary(f), &[self.clone(), other.clone()])
    }
    /// `a cmp b ? on_true : on_false` elementwise: the primitive (all four
    /// of one shape and real dtype; see [`crate::Mask`] for NumPy's `where`).
    ///
    /// ```
    /// use oxla_ir::{Compare, DType, Tensor};
    /// let x = Tensor::parameter(&[3], DType::F64);
    /// let zero = Tensor::scalar(DType::F64, 0.0).broadcast_in_dim(&[3], &[]).unwrap();
    /// let relu = Tensor::select(Compare::Gt, &x, &zero, &x, &zero).unwrap();
    /// assert_eq!(relu.shape(), &[3]);
    /// ```
    pub fn select(
        cmp: Compare,
        a: &Tensor,
        b: &Tensor,
        on_true: &Tensor,
        on_false: &Tensor,
    ) -> Result<Tensor, IrError> {
        Tensor::from_op(
            Op::Select(cmp),
            &[a.clone(), b.clone(), on_true.clone(), on_false.clone()],
        )
    }
    /// Round to `dtype`; returns `self` unchanged if it already has that dtype.
    pub fn convert(&self, dtype: DType) -> Result<Tensor, IrError> {
        if dtype == self.dtype() {
            return Ok(self.clone());
        }
        Tensor::from_op(Op::Convert(dtype), std::slice::from_ref(self))
    }

    // ---- movement ----------------------------------------------------------

    /// LAX slice: `start..limit` with `stride` on every axis.
    pub fn slice(
        &self,
        start: &[usize],
        limit: &[usize],
        stride: &[usize],
    ) -> Result<Tensor, IrError> {
        Tensor::from_op(
            Op::Slice {
                start: start.into(),
                limit: limit.into(),
                stride: stride.into(),
            },
            std::slice::from_ref(self),
        )
    }

    /// The rank, if `axis` is one of this tensor's axes.
    fn check_axis(&self, op: &'static str, axis: usize) -> Result<usize, IrError> {
        let ndim = self.ndim();
        if axis >= ndim {
            return Err(IrError::params(
                op,
                format!("axis {axis} is out of range for rank {ndim}"),
            ));
        }
        Ok(ndim)
    }

    /// `start..limit` (stride 1) on `axis`, everything on the other axes.
    pub fn slice_axis(&self, axis: usize, start: usize, limit: usize) -> Result<Tensor, IrError> {
        let ndim = self.check_axis("slice", axis)?;
        let mut lo: Dims = smallvec::smallvec![0; ndim];
        let mut hi: Dims = self.shape().into();
        lo[axis] = start;
        hi[axis] = limit;
        self.slice(&lo, &hi, &vec![1usize; ndim])
    }

    /// LAX pad with a 0-d `value` of the same dtype.
    pub fn pad(
        &self,
        value: &Tensor,
        lo: &[i64],
        hi: &[i64],
        interior: &[usize],
    ) -> Result<Tensor, IrError> {
        Tensor::from_op(
            Op::Pad {
                lo: lo.into(),
                hi: hi.into(),
                interior: interior.into(),
            },
            &[self.clone(), value.clone()],
        )
    }

    /// Pad only `axis` by `lo` before and `hi` after (no interior padding).
    pub fn pad_axis(
        &self,
        value: &Tensor,
        axis: usize,
        lo: i64,
        hi: i64,
    ) -> Result<Tensor, IrError> {
        let ndim = self.check_axis("pad", axis)?;
        let mut l: Widths = smallvec::smallvec![0; ndim];
        let mut h: Widths = smallvec::smallvec![0; ndim];
        l[axis] = lo;
        h[axis] = hi;
        self.pad(value, &l, &h, &vec![0usize; ndim])
    }

    /// Row-major reshape.
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor, IrError> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        Tensor::from_op(
            Op::Reshape {
                shape: shape.into(),
            },
            std::slice::from_ref(self),
        )
    }

    /// Operand axis `i` becomes output axis `dims[i]`; other output axes repeat it.
    pub fn broadcast_in_dim(&self, shape: &[usize], dims: &[usize]) -> Result<Tensor, IrError> {
        if shape == self.shape() && dims.iter().copied().eq(0..self.ndim()) {
            return Ok(self.clone());
        }
        Tensor::from_op(
            Op::BroadcastInDim {
                shape: shape.into(),
                dims: dims.into(),
            },
            std::slice::from_ref(self),
        )
    }

    /// Output axis `i` is operand axis `perm[i]`.
    pub fn transpose(&self, perm: &[usize]) -> Result<Tensor, IrError> {
        Tensor::from_op(
            Op::Transpose { perm: perm.into() },
            std::slice::from_ref(self),
        )
    }

    /// Sum over `axes` (any order; duplicates are an error).
    pub fn reduce_sum(&self, axes: &[usize]) -> Result<Tensor, IrError> {
        let mut sorted: Dims = axes.into();
        sorted.sort_unstable();
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(IrError::params(
                "reduce_sum",
                format!("axes {axes:?} repeat an axis"),
            ));
        }
        Tensor::from_op(Op::ReduceSum { axes: sorted }, std::slice::from_ref(self))
    }

    /// Apply a composite op.
    pub fn composite(op: Arc<dyn Composite>, inputs: &[Tensor]) -> Result<Tensor, IrError> {
        Tensor::from_op(Op::Composite(op), inputs)
    }

    /// Replace a composite node by its lowering (one level); other nodes are returned as is.
    pub fn lower_composite(&self) -> Result<Tensor, IrError> {
        match self.op() {
            Op::Composite(c) => {
                let lowered = c.lower(self.inputs())?;
                if lowered.shape() != self.shape() || lowered.dtype() != self.dtype() {
                    return Err(IrError::Composite {
                        name: c.name(),
                        reason: format!(
                            "lowering produced {:?} {} but the op declares {:?} {}",
                            lowered.shape(),
                            lowered.dtype(),
                            self.shape(),
                            self.dtype()
                        ),
                    });
                }
                Ok(lowered)
            }
            _ => Ok(self.clone()),
        }
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Tensor({:?}: {}{:?})",
            self.op(),
            self.dtype(),
            self.shape()
        )
    }
}

/// Dropping a long chain of nodes recursively could overflow the stack
/// (think of a loop that keeps extending one lazy value). Unlink operands
/// iteratively instead: only nodes whose last handle we hold are taken apart.
impl Drop for Node {
    fn drop(&mut self) {
        let mut stack: Vec<Tensor> = self.inputs.drain(..).collect();
        while let Some(t) = stack.pop() {
            if let Ok(mut node) = Arc::try_unwrap(t.0) {
                stack.extend(node.inputs.drain(..));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_chains_drop_without_overflowing_the_stack() {
        let mut x = Tensor::parameter(&[1], DType::F32);
        for _ in 0..200_000 {
            x = x.neg().unwrap();
        }
        drop(x);
    }

    #[test]
    fn bad_builds_are_errors_not_panics() {
        let x = Tensor::parameter(&[2, 3], DType::F64);
        let zero = Tensor::scalar(DType::F64, 0.0);
        assert!(x.slice(&[0, 0], &[3, 3], &[1, 1]).is_err());
        assert!(x.slice(&[0, 0], &[2, 3], &[0, 1]).is_err());
        assert!(x.slice_axis(2, 0, 1).is_err());
        assert!(x.pad(&zero, &[-3, 0], &[0, 0], &[0, 0]).is_err());
        assert!(
            x.pad(&Tensor::scalar(DType::F32, 0.0), &[0, 0], &[0, 0], &[0, 0])
                .is_err()
        );
        assert!(x.pad(&x, &[0, 0], &[0, 0], &[0, 0]).is_err());
        assert!(x.reshape(&[5]).is_err());
        assert!(x.broadcast_in_dim(&[2, 4], &[0, 1]).is_err());
        assert!(x.broadcast_in_dim(&[3, 2], &[1, 0]).is_err());
        assert!(x.transpose(&[0, 0]).is_err());
        assert!(x.reduce_sum(&[2]).is_err());
        assert!(x.reduce_sum(&[1, 1]).is_err());
        assert!(x.add(&x.convert(DType::F32).unwrap()).is_err());
    }

    #[test]
    fn shapes_are_inferred() {
        let x = Tensor::parameter(&[5, 4], DType::F32);
        let zero = Tensor::scalar(DType::F32, 0.0);
        assert_eq!(x.slice(&[1, 0], &[5, 4], &[2, 3]).unwrap().shape(), &[2, 2]);
        assert_eq!(
            x.pad(&zero, &[1, -1], &[-2, 0], &[0, 1]).unwrap().shape(),
            &[4, 6]
        );
        assert_eq!(x.transpose(&[1, 0]).unwrap().shape(), &[4, 5]);
        assert_eq!(x.reduce_sum(&[0]).unwrap().shape(), &[4]);
        let row = Tensor::parameter(&[4], DType::F32);
        assert_eq!(
            row.broadcast_in_dim(&[3, 4], &[1]).unwrap().shape(),
            &[3, 4]
        );
        assert_eq!(x.reshape(&[20]).unwrap().shape(), &[20]);
    }
}
