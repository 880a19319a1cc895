//! Composite ops: named ops with a lowering to primitives.

use std::any::Any;
use std::fmt::Debug;
use std::hash::Hasher;

use crate::{DType, IrError, Shape, Tensor};

/// A named op with static parameters and a lowering to primitives.
///
/// `oxla-ir` only needs to know how to type-check a composite and how to
/// lower it; other crates attach rules of their own (derivatives, fusion
/// hints) by downcasting through [`Any`] to the concrete type.
///
/// ```
/// use oxla_ir::{Composite, DType, IrError, Shape, Tensor, Op};
/// use std::hash::Hasher;
///
/// /// `x + x`, as a composite.
/// #[derive(Debug, PartialEq, Hash)]
/// struct Double;
///
/// impl Composite for Double {
///     fn name(&self) -> &'static str { "double" }
///     fn output_type(&self, inputs: &[Tensor]) -> Result<(Shape, DType), IrError> {
///         Ok((inputs[0].shape().into(), inputs[0].dtype()))
///     }
///     fn lower(&self, inputs: &[Tensor]) -> Result<Tensor, IrError> {
///         inputs[0].add(&inputs[0])
///     }
///     fn dyn_eq(&self, other: &dyn Composite) -> bool {
///         (other as &dyn std::any::Any).downcast_ref::<Double>().is_some()
///     }
///     fn dyn_hash(&self, _state: &mut dyn Hasher) {}
/// }
///
/// let x = Tensor::scalar(DType::F64, 2.0);
/// let y = Tensor::composite(std::sync::Arc::new(Double), &[x]).unwrap();
/// assert_eq!(y.op().name(), "double");
/// let lowered = y.lower_composite().unwrap();
/// assert_eq!(lowered.op().name(), "add");
/// ```
pub trait Composite: Debug + Send + Sync + Any {
    /// A stable name, shown in plans and used as a rule-table key.
    fn name(&self) -> &'static str;
    /// Check the inputs and give the output's shape and dtype.
    fn output_type(&self, inputs: &[Tensor]) -> Result<(Shape, DType), IrError>;
    /// The same computation as a graph of primitives (and possibly other composites).
    fn lower(&self, inputs: &[Tensor]) -> Result<Tensor, IrError>;
    /// Structural equality with another composite (same type, same parameters).
    fn dyn_eq(&self, other: &dyn Composite) -> bool;
    /// Hash the parameters (consistent with `dyn_eq`).
    fn dyn_hash(&self, state: &mut dyn Hasher);
}
