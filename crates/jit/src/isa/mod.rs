//! The instruction set: what the build passes produce and the executor
//! consumes, and nothing else (it imports neither side).
//!
//! - [`instr`]: scalar and vector instructions, their operands, [`Program`].
//! - [`fused_kernel`]: [`FusedKernel`], a kernel's boxes, programs, views
//!   and registers.
//! - [`validate`]: the checks run once on every kernel after emission, so
//!   that the executor runs without consistency checks of its own.
//!
//! What each dtype supports is the fusion table's business
//! ([`crate::fusion`]); the tile size is here.

pub(crate) mod fused_kernel;
pub(crate) mod instr;
pub(crate) mod validate;

pub(crate) use fused_kernel::{Constant, FusedKernel, ReduceSpec, RegisterFile, StoreSpec, View};
pub(crate) use instr::{
    AddSub, BinOp, Elementwise, FusedOp, MAX_PAIRS, PairSum, Post, Program, SInstr, Scale,
    ScaledOp, Side, Stencil, TileDirection, VDst, VInstr, VSrc,
};

/// Bytes per tile register: 4 KB, so that the handful of registers a
/// program keeps live stays in a 32 KB L1 cache, while each instruction's
/// dispatch is paid once per 512 (f64) to 2048 (f16) elements.
pub const TILE_BYTES: usize = 4096;
/// Elements per tile of an f64 kernel (kernels of narrower types take more).
pub const TILE: usize = TILE_BYTES / 8;
