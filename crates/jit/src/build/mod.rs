//! The build passes: a kernel's expression becomes a [`FusedKernel`]
//! (see [`crate::isa`]), which the executor runs.
//!
//! - [`merge`]: merge adjacent iteration axes every view walks as one
//!   (longer rows);
//! - [`regions`]: cut the iteration space into boxes at every mask boundary
//!   and get one program per distinct box;
//! - [`spec`]: specialize the expression to a box (resolve selects, fold
//!   exact identities and constants, classify values);
//! - [`fuse`]: the fusion table's patterns;
//! - [`emit`]: register allocation and instructions;
//! - [`reuse`]: a fused value an earlier register holds one element back
//!   is shifted in from it.
//!
//! [`FusedKernel`]: crate::isa::FusedKernel

pub(crate) mod emit;
pub(crate) mod fuse;
pub(crate) mod merge;
pub(crate) mod regions;
pub(crate) mod reuse;
pub(crate) mod spec;

pub(crate) use regions::{KernelRoot, compile_kernel};
