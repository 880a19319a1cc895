//! A readable account of a plan: its kernels and the passes over memory.

use std::fmt;

use crate::executable::{Executable, Step};
use crate::isa::{Program, VInstr};

/// One step of a plan, summarized.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelSummary {
    /// The iteration space (empty for a step run by the interpreter).
    pub iteration_shape: Vec<usize>,
    /// Elements per row the executor walks: the innermost extent once
    /// adjacent axes that every view walks as one are merged (all of an
    /// elementwise kernel's elements; 0 for an interpreted step).
    pub row_len: usize,
    /// Buffers written (stored outputs and intermediates).
    pub stores: usize,
    /// Reductions computed as epilogues.
    pub reductions: usize,
    /// Buffers read: arguments and constants (`true`) or intermediates (`false`).
    pub reads: Vec<(usize, bool)>,
    /// Regions the iteration space is cut into, and distinct programs among them.
    pub boxes: usize,
    /// Distinct box programs.
    pub programs: usize,
    /// Vector instructions of the largest program.
    pub instructions: usize,
    /// Vector instructions of the program of the middle element's box (for
    /// a stencil, the interior, where most elements are).
    pub middle_instructions: usize,
    /// Run by the reference interpreter instead of a fused kernel.
    pub interpreted: bool,
    /// Bytes of every buffer read once plus every buffer written once.
    pub bytes_moved: usize,
}

/// The steps of a compiled plan.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanSummary {
    /// One entry per step, in order.
    pub kernels: Vec<KernelSummary>,
    /// How many arguments the plan takes.
    pub args: usize,
}

impl PlanSummary {
    /// How many steps read argument `arg` (1 means a single pass over it).
    pub fn passes_over_arg(&self, arg: usize) -> usize {
        self.kernels
            .iter()
            .filter(|k| k.reads.contains(&(arg, true)))
            .count()
    }
}

impl Executable {
    /// What the plan does, for people and for tests.
    pub fn summary(&self) -> PlanSummary {
        // stores are copies, not computation
        let computing = |p: &Program| {
            p.vector
                .iter()
                .filter(|i| !matches!(i, VInstr::Store { .. }))
                .count()
        };
        let leaves = self.arg_count + self.constants.len();
        let bytes = |b: usize| {
            let (shape, dtype) = &self.buffer_types[b];
            shape.iter().product::<usize>() * dtype.size_bytes()
        };
        let kernels = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Fused(k) => KernelSummary {
                    iteration_shape: k.shape.clone(),
                    row_len: k.it_shape.last().copied().unwrap_or(1),
                    stores: k.stores.len(),
                    reductions: k.reductions.len(),
                    reads: k.reads.iter().map(|&b| (b, b < leaves)).collect(),
                    boxes: k.boxes(),
                    programs: k.programs.len(),
                    instructions: k.programs.iter().map(computing).max().unwrap_or(0),
                    middle_instructions: k.middle_program().map_or(0, computing),
                    interpreted: false,
                    bytes_moved: k
                        .reads
                        .iter()
                        .chain(k.stores.iter().map(|s| &s.buffer))
                        .chain(k.reductions.iter().map(|r| &r.buffer))
                        .map(|&b| bytes(b))
                        .sum(),
                },
                Step::Interpret { node, inputs, .. } => KernelSummary {
                    iteration_shape: node.shape().to_vec(),
                    row_len: 0,
                    stores: 1,
                    reductions: 0,
                    reads: inputs.iter().map(|&b| (b, b < leaves)).collect(),
                    boxes: 0,
                    programs: 0,
                    instructions: 0,
                    middle_instructions: 0,
                    interpreted: true,
                    bytes_moved: inputs.iter().map(|&b| bytes(b)).sum::<usize>()
                        + node.numel() * node.dtype().size_bytes(),
                },
            })
            .collect();
        PlanSummary {
            kernels,
            args: self.arg_count,
        }
    }

    /// The instructions of each fused kernel's middle program (see
    /// [`KernelSummary::middle_instructions`]), one per line: what a
    /// fused pattern is written against when a new one is added.
    ///
    /// ```
    /// use oxla_ir::{DType, Tensor};
    /// let x = Tensor::parameter(&[64], DType::F64);
    /// let y = x.mul(&x).unwrap();
    /// let (exe, _) = oxla_jit::compile(&[y]).unwrap();
    /// assert!(exe.listing().contains("Binary(Mul"));
    /// ```
    pub fn listing(&self) -> String {
        use fmt::Write as _;
        let mut text = String::new();
        for (i, step) in self.steps.iter().enumerate() {
            let Step::Fused(k) = step else { continue };
            let Some(p) = k.middle_program() else {
                continue;
            };
            // writing into a String cannot fail
            let _ = writeln!(text, "kernel {i}, middle program ({:?}):", p.direction);
            for instr in &p.scalar {
                let _ = writeln!(text, "  s {instr:?}");
            }
            for instr in &p.vector {
                let _ = writeln!(text, "  v {instr:?}");
            }
        }
        text
    }
}

impl fmt::Display for PlanSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} step(s):", self.kernels.len())?;
        for (i, k) in self.kernels.iter().enumerate() {
            let reads: Vec<String> = k
                .reads
                .iter()
                .map(|&(b, leaf)| {
                    if leaf {
                        format!("arg{b}")
                    } else {
                        format!("tmp{b}")
                    }
                })
                .collect();
            if k.interpreted {
                writeln!(
                    f,
                    "  {i}: interpreted node {:?} reading [{}]",
                    k.iteration_shape,
                    reads.join(", ")
                )?;
            } else {
                writeln!(
                    f,
                    "  {i}: fused kernel over {:?}: {} output(s), {} reduction(s), reads [{}], {} region(s), {} program(s), {} instruction(s) per interior tile (<= {} elsewhere), {:.1} MB moved",
                    k.iteration_shape,
                    k.stores,
                    k.reductions,
                    reads.join(", "),
                    k.boxes,
                    k.programs,
                    k.middle_instructions,
                    k.instructions,
                    k.bytes_moved as f64 / 1e6
                )?;
            }
        }
        for a in 0..self.args {
            writeln!(
                f,
                "  arg{a} is read in {} pass(es)",
                self.passes_over_arg(a)
            )?;
        }
        Ok(())
    }
}
