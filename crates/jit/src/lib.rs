//! `oxla-jit`: compile lazy graphs into fused, tiled kernels.
//!
//! [`eval`] (for a lazy graph) and [`jit`] (for a closure, traced once per
//! argument signature) lower composites to primitives, plan, and run an
//! [`Executable`]:
//!
//! - **planning** (`plan`): producers fuse into consumers. Elementwise and
//!   movement ops never materialize: a movement op becomes a *view* on the
//!   loads below it (an offset and one stride per iteration axis, as
//!   tinygrad's views) and a pad becomes a select on an interval mask.
//!   Buffers are made only where the fusion table (`fusion`) says so
//!   (outputs, reductions, non-view reshapes, small broadcast operands,
//!   interpreted pads) or a kernel reaches a node through too many views.
//!   Roots of the same level and shape share a kernel, so all axes of
//!   `gradient`, or a loss and its gradient, come out of one pass.
//! - **building** (`build`): the iteration space is cut at every mask
//!   boundary; in each box every pad is fully valid or fully padding, so its
//!   program has no bounds checks or branches, and the `-0.0` padding of
//!   `gradient`'s assembly folds away exactly. Each box's expression is
//!   specialized, fused (the fusion table's patterns) and emitted as
//!   instructions of the instruction set (`isa`), validated once.
//! - **execution** (`exec`): each box runs along the innermost axis in tiles
//!   of [`TILE_BYTES`] per register, one instruction at a time over slices
//!   (boxes at most `NARROW` wide, the edges of a stencil, run their tiles
//!   down the rows instead); contiguous loads are read in place, values
//!   uniform along a row segment are scalars computed once for it. Rayon
//!   runs fixed work items (independent of the thread count), and
//!   reductions follow `oxla_ir::reduce`'s single order.
//!
//! Per element, a kernel performs the same [`oxla_ir::Element`] operations
//! in the same order as the reference interpreter: results are bit-identical.
//!
//! ```
//! use oxla_ir::{DType, Tensor};
//! // (x[1:] - x[:-1]) padded back to full length: one fused kernel
//! let x = Tensor::from_host(ndarray::arr1(&[1.0, 4.0, 9.0, 16.0]).into_dyn()).unwrap();
//! let d = x.slice_axis(0, 1, 4).unwrap().sub(&x.slice_axis(0, 0, 3).unwrap()).unwrap();
//! let padded = d.pad_axis(&Tensor::scalar(DType::F64, 0.0), 0, 0, 1).unwrap();
//! let (exe, args) = oxla_jit::compile(&[padded.clone()]).unwrap();
//! assert_eq!(exe.summary().kernels.len(), 1);
//! let fused = oxla_jit::eval(&[padded.clone()]).unwrap();
//! let reference = oxla_ir::evaluate(&[padded], &oxla_ir::Bindings::new()).unwrap();
//! assert!(fused[0].bit_eq(&reference[0]));
//! # let _ = args;
//! ```
//!
//! # Internal errors
//!
//! A bug in the jit found while compiling is a [`JitError::Internal`] (made
//! with the crate's `internal!` macro), never a panic. Compilation ends by
//! validating every kernel, so the executor runs without per-tile checks;
//! the few states validation rules out are unreachable, and panic if met.

mod api;
mod borrowed;
mod build;
mod error;
mod exec;
mod executable;
mod fusion;
mod isa;
mod kexpr;
mod key;
mod lowering;
mod plan;
mod summary;
mod view;

pub use api::{Jit, compile, eval, eval_with, jit, threads};
pub use borrowed::ArrayRef;
pub use error::JitError;
pub use exec::simd::{Simd, active_simd, detected_simd, force_simd};
pub use exec::stream::copy_streaming;
pub use executable::Executable;
pub use isa::{TILE, TILE_BYTES};
pub use summary::{KernelSummary, PlanSummary};
