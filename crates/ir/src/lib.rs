//! `oxla-ir`: the lazy tensor IR of oxla.
//!
//! A [`Tensor`] is an immutable handle to a node: an [`Op`] applied to other
//! tensors, with a shape and a [`DType`] inferred (and checked) when the node
//! is built. The ops are a small subset of LAX (elementwise arithmetic,
//! slice/pad/reshape/broadcast/transpose, `reduce_sum`), leaves
//! ([`Op::Parameter`], [`Op::Literal`]) and [`Composite`]s: named ops that
//! lower to primitives (`gradient` is one, defined in `oxla-lower`).
//!
//! A [`Graph`] is the DAG behind some output tensors, flattened into
//! topological order. The reference interpreter [`evaluate`] walks it one
//! primitive at a time on `ndarray` arrays ([`ArrayValue`]); it is the oracle
//! every faster path is tested against. Arithmetic goes through [`Element`],
//! which reproduces NumPy's rounding exactly, and sums follow the single
//! order defined in [`reduce`].
//!
//! This crate knows nothing of derivatives or fusion.
//!
//! ```
//! use oxla_ir::{evaluate, Bindings, DType, Tensor};
//! use ndarray::arr1;
//!
//! // f[1:] - f[:-1], built lazily from LAX primitives, then interpreted.
//! let f = Tensor::from_host(arr1(&[1.0, 4.0, 9.0, 16.0]).into_dyn())?;
//! let diff = f.slice_axis(0, 1, 4)?.sub(&f.slice_axis(0, 0, 3)?)?;
//! let out = evaluate(&[diff], &Bindings::new())?;
//! assert_eq!(out[0].as_array::<f64>()?.as_slice().unwrap(), &[3.0, 5.0, 7.0]);
//! # Ok::<(), oxla_ir::IrError>(())
//! ```

pub mod broadcast;
mod composite;
mod dtype;
pub mod element;
mod error;
mod graph;
mod infer;
mod interpret;
pub mod math;
mod op;
mod operators;
mod ops;
mod per_dtype;
pub mod pool;
pub mod reduce;
mod rng;
mod tensor;
mod value;

pub use composite::Composite;
pub use dtype::DType;
pub use element::Element;
pub use error::IrError;
pub use graph::{Graph, replace_nodes, substitute};
pub use interpret::{Bindings, evaluate};
pub use math::{BinaryFn, Compare, Math, UnaryFn};
pub use op::{Op, OpKind, ParamId, Widths};
pub use ops::Mask;
pub use per_dtype::{ElementFamily, PerDType, PerElement};
pub use pool::{cached_memory_bytes, release_cached_memory};
pub use rng::SplitMix64;
pub use tensor::{NodeKey, Tensor};
pub use value::{ArrayElement, ArrayValue, HostArray};

// Re-exported for the `with_array!`/`with_dtype!` macros and for users.
pub use half;
pub use ndarray;
pub use num_complex;

/// A shape: one length per axis.
pub type Shape = smallvec::SmallVec<[usize; 4]>;
/// Axis numbers or per-axis sizes.
pub type Dims = smallvec::SmallVec<[usize; 4]>;
