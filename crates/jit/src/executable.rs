//! [`Executable`]: a compiled computation, as the planner leaves it and the
//! executor runs it.

use std::sync::Arc;

use oxla_ir::{ArrayValue, DType, Tensor};

use crate::error::{JitError, internal};
use crate::isa::FusedKernel;

/// What a step of a plan does.
#[derive(Debug)]
pub(crate) enum Step {
    /// A fused kernel.
    Fused(Box<FusedKernel>),
    /// One node through the reference interpreter (ops the fused path does not cover).
    Interpret {
        node: Tensor,
        inputs: Vec<usize>,
        out: usize,
    },
}

impl Step {
    /// The buffers the step reads.
    pub fn reads(&self) -> &[usize] {
        match self {
            Step::Fused(k) => &k.reads,
            Step::Interpret { inputs, .. } => inputs,
        }
    }

    /// The buffers the step writes.
    pub fn writes(&self) -> Vec<usize> {
        match self {
            Step::Fused(k) => k
                .stores
                .iter()
                .map(|s| s.buffer)
                .chain(k.reductions.iter().map(|r| r.buffer))
                .collect(),
            Step::Interpret { out, .. } => vec![*out],
        }
    }
}

/// A compiled computation: run it with [`Executable::run`].
///
/// Buffers are numbered: arguments first, then constants (array literals
/// captured at compile time), then computed nodes.
#[derive(Debug)]
pub struct Executable {
    /// Arguments are the first buffers.
    pub(crate) arg_count: usize,
    pub(crate) constants: Vec<Arc<ArrayValue>>,
    pub(crate) steps: Vec<Step>,
    /// After step `i`, the buffers no later step or output needs.
    pub(crate) release: Vec<Vec<usize>>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) buffer_types: Vec<(Vec<usize>, DType)>,
}

impl Executable {
    /// The arguments' shapes and dtypes, in order.
    pub fn arg_types(&self) -> &[(Vec<usize>, DType)] {
        &self.buffer_types[..self.arg_count]
    }

    /// Check what the executor relies on: every step reads buffers that
    /// exist by then and are not yet released, every kernel is valid
    /// ([`FusedKernel::validate`]), and every output is computed. Run once,
    /// at the end of compilation.
    pub(crate) fn validate(&self) -> Result<(), JitError> {
        let leaves = self.arg_count + self.constants.len();
        let mut ready: Vec<bool> = (0..self.buffer_types.len()).map(|b| b < leaves).collect();
        if self.release.len() != self.steps.len() {
            return Err(internal!("release lists do not match the steps"));
        }
        for (step, release) in self.steps.iter().zip(&self.release) {
            if let Some(b) = step
                .reads()
                .iter()
                .find(|&&b| !ready.get(b).copied().unwrap_or(false))
            {
                return Err(internal!("a step reads buffer {b} before it is computed"));
            }
            if let Step::Fused(k) = step {
                k.validate(&self.buffer_types)?;
            }
            for b in step.writes() {
                *ready
                    .get_mut(b)
                    .ok_or_else(|| internal!("a step writes buffer {b}, which does not exist"))? =
                    true;
            }
            for &b in release {
                if let Some(r) = ready.get_mut(b) {
                    *r = false;
                }
            }
        }
        match self
            .outputs
            .iter()
            .find(|&&b| !ready.get(b).copied().unwrap_or(false))
        {
            Some(b) => Err(internal!("output buffer {b} is not computed")),
            None => Ok(()),
        }
    }
}
