//! Register allocation and emission: a planned box becomes a [`Program`].
//!
//! Kernels plan every box first and emit after ([`KernelRegisters`]), so
//! that all constants are known before any program numbers its row-uniform
//! temporaries: those start after the last constant in every program
//! (instead of after the previous program's temporaries, which made a
//! kernel with hundreds of boxes run out of `u16` registers).

use std::collections::HashMap;

use oxla_ir::num_complex::Complex64;
use oxla_ir::{DType, PerDType};

use crate::build::fuse::fuse;
use crate::build::spec::{BoxExpr, Class, RootUse, SpecOp};
use crate::error::{JitError, internal};
use crate::isa::{
    Constant, Elementwise, Program, RegisterFile, SInstr, TileDirection, VDst, VInstr, VSrc,
};
use crate::kexpr::{KExpr, KId};

/// How a program's tiles run through the iteration space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Mode {
    /// The iteration axis tiles run along (`None` for a 0-d kernel: one element).
    pub vector_axis: Option<usize>,
    /// Rows (contiguous outputs, which results may be written straight
    /// into) or columns (outputs stored through a stride).
    pub direction: TileDirection,
}

impl Mode {
    /// The stride of each view along the axis the tiles run on.
    fn inner_stride(self, expr: &KExpr) -> impl Fn(u32) -> i64 + '_ {
        move |view: u32| match self.vector_axis {
            Some(axis) => expr.views[view as usize].strides[axis],
            None => 0,
        }
    }
}

/// A kernel's registers while its boxes are planned and emitted: the
/// constants (shared by every program) and the most registers any program
/// needs.
#[derive(Debug, Default)]
pub(crate) struct KernelRegisters {
    file: RegisterFile,
    by_value: HashMap<(DType, u64, u64), u16>,
    /// How many of the first scalar registers of each dtype hold constants;
    /// every program's row-uniform temporaries start after them.
    constants: PerDType<u16>,
}

impl KernelRegisters {
    fn constant(&mut self, dtype: DType, value: Complex64) -> Result<u16, JitError> {
        let key = (dtype, value.re.to_bits(), value.im.to_bits());
        if let Some(&reg) = self.by_value.get(&key) {
            return Ok(reg);
        }
        let reg = bump(&mut self.constants[dtype])?;
        self.file.consts.push(Constant { dtype, value, reg });
        self.by_value.insert(key, reg);
        Ok(reg)
    }

    /// The finished register file.
    pub fn into_file(self) -> RegisterFile {
        self.file
    }

    /// Tile registers per dtype, so far.
    pub fn vectors(&self) -> &PerDType<u16> {
        &self.file.vectors
    }
}

/// The next free register after `next`, or an error once `u16` registers run out.
fn bump(next: &mut u16) -> Result<u16, JitError> {
    let r = *next;
    *next = r
        .checked_add(1)
        .ok_or_else(|| internal!("a kernel needs more than 65535 registers of one dtype"))?;
    Ok(r)
}

/// A box's program before register allocation: specialized to the box,
/// fused, and its constants registered kernel-wide.
pub(crate) struct BoxPlan {
    expr: BoxExpr,
    /// Store roots computed straight into their output (node -> output).
    direct_out: HashMap<usize, u16>,
    /// The kernel-wide register of each needed constant node.
    constants: Vec<(usize, u16)>,
    mode: Mode,
}

/// Plan the program of a box in which mask `m` holds iff `truth[m]`.
pub(crate) fn plan_box(
    expr: &KExpr,
    roots: &[(KId, RootUse)],
    truth: &[bool],
    regs: &mut KernelRegisters,
    mode: Mode,
) -> Result<BoxPlan, JitError> {
    let mut b = BoxExpr::new(expr, roots, truth, &mode.inner_stride(expr));
    fuse(&mut b, mode.direction);
    // A store root read nowhere else is written in place (row tiles only).
    let mut direct_out = HashMap::new();
    for root in &b.roots {
        if let RootUse::Store(k) = root.role
            && mode.direction == TileDirection::Row
            && b.uses[root.node] == 1
            && b.is_vector(root.node)
            && !matches!(b.nodes[root.node].op, SpecOp::Load(_))
        {
            direct_out.insert(root.node, k);
        }
    }
    let mut constants = Vec::new();
    for (i, node) in b.nodes.iter().enumerate() {
        if let (true, SpecOp::Const(c)) = (b.needed[i], &node.op) {
            constants.push((i, regs.constant(node.dtype, *c)?));
        }
    }
    Ok(BoxPlan {
        expr: b,
        direct_out,
        constants,
        mode,
    })
}

/// Where a node's value lives while the program runs.
#[derive(Clone, Copy)]
enum Slot {
    Scalar(u16),
    Input(u32),
    Reg(u16),
    /// Written straight to an output or a reduction; never read back.
    Out,
}

/// Allocate registers and emit the instructions of a planned box; call
/// after every box of the kernel is planned.
pub(crate) fn emit_box(
    expr: &KExpr,
    plan: BoxPlan,
    regs: &mut KernelRegisters,
) -> Result<Program, JitError> {
    let BoxPlan {
        expr: b,
        direct_out,
        constants,
        mode,
    } = plan;
    let inner = mode.inner_stride(expr);
    let mut e = Emitter {
        slots: vec![None; b.nodes.len()],
        program: Program {
            direction: mode.direction,
            ..Program::default()
        },
        scalar_next: regs.constants,
        vector_next: PerDType::default(),
        free: PerDType::default(),
    };
    // Constants live in kernel-wide registers below every temporary.
    for (i, r) in constants {
        e.slots[i] = Some(Slot::Scalar(r));
    }
    let mut remaining = b.uses.clone();
    for i in 0..b.nodes.len() {
        if !b.needed[i] {
            continue;
        }
        let node = &b.nodes[i];
        let dtype = node.dtype;
        match (node.class, &node.op) {
            (Class::Const, _) => {} // registered when planned
            (Class::Scalar, _) => e.scalar(&b, i)?,
            // contiguous loads are read in place
            (Class::Vector, SpecOp::Load(v)) if inner(*v) == 1 => {
                e.slots[i] = Some(Slot::Input(*v));
            }
            (Class::Vector, SpecOp::FusedSum { op, red }) => {
                let op = op.try_map(|v| e.vsrc(v), |s| e.sreg(s))?;
                e.push(VInstr::FusedSum {
                    dtype,
                    red: *red,
                    op,
                });
                e.slots[i] = Some(Slot::Out);
            }
            (Class::Vector, op) => {
                // the destination is chosen before this node's operands are
                // released, so it is never one of them
                let (dst, slot) = match direct_out.get(&i) {
                    Some(&k) => (VDst::Out(k), Slot::Out),
                    None => {
                        let r = match e.free[dtype].pop() {
                            Some(r) => r,
                            None => bump(&mut e.vector_next[dtype])?,
                        };
                        (VDst::Reg(r), Slot::Reg(r))
                    }
                };
                let instr = match *op {
                    SpecOp::Load(view) => {
                        let VDst::Reg(dst) = dst else {
                            return Err(internal!("a load is a direct output"));
                        };
                        VInstr::Gather {
                            dtype,
                            view,
                            stride: inner(view),
                            dst,
                        }
                    }
                    SpecOp::Fused(op) => VInstr::Fused {
                        dtype,
                        dst,
                        op: op.try_map(|v| e.vsrc(v), |s| e.sreg(s))?,
                    },
                    _ => VInstr::Elementwise {
                        dtype,
                        dst,
                        op: elementwise(&b, i)?.try_map(|a| e.vsrc(a))?,
                    },
                };
                e.push(instr);
                e.slots[i] = Some(slot);
            }
        }
        // Reduce a value as soon as it exists: the reduction's chain of
        // dependent additions then overlaps the next instructions' loops
        // (out of order), and its register is free again for them.
        let mut released = node.op.operands();
        if !matches!(node.op, SpecOp::FusedSum { .. }) {
            for root in b.roots.iter().filter(|r| r.node == i) {
                if let RootUse::Reduce { red, .. } = root.role {
                    let a = e.vsrc(i)?;
                    e.push(VInstr::Reduce { dtype, red, a });
                    released.push(i);
                }
            }
        }
        for a in released {
            remaining[a] -= 1;
            if remaining[a] == 0
                && let Some(Slot::Reg(r)) = e.slots[a]
            {
                e.free[b.nodes[a].dtype].push(r);
            }
        }
    }
    for root in &b.roots {
        if let RootUse::Store(out) = root.role
            && !matches!(e.slots[root.node], Some(Slot::Out))
        {
            let dtype = b.nodes[root.node].dtype;
            let a = e.vsrc(root.node)?;
            e.push(VInstr::Store { dtype, out, a });
        }
    }
    for (d, n) in e.scalar_next.iter() {
        regs.file.scalars[d] = regs.file.scalars[d].max(*n);
    }
    for (d, n) in e.vector_next.iter() {
        regs.file.vectors[d] = regs.file.vectors[d].max(*n);
    }
    Ok(e.program)
}

/// Node `i` as an elementwise operation on other nodes.
fn elementwise(b: &BoxExpr, i: usize) -> Result<Elementwise<usize>, JitError> {
    match b.nodes[i].op {
        SpecOp::Neg(a) => Ok(Elementwise::Neg(a)),
        SpecOp::Convert(a) => Ok(Elementwise::Convert {
            from: b.nodes[a].dtype,
            a,
        }),
        SpecOp::Binary(op, x, y) => Ok(Elementwise::Binary(op, x, y)),
        SpecOp::Unary(f, a) => Ok(Elementwise::Unary(f, a)),
        SpecOp::BinaryFn(f, x, y) => Ok(Elementwise::BinaryFn(f, x, y)),
        SpecOp::Where(cmp, [a, b, x, y]) => Ok(Elementwise::Select { cmp, a, b, x, y }),
        ref op => Err(internal!("node {i} ({op:?}) is emitted as elementwise")),
    }
}

/// The state of one program's emission.
struct Emitter {
    slots: Vec<Option<Slot>>,
    program: Program,
    scalar_next: PerDType<u16>,
    vector_next: PerDType<u16>,
    /// Tile registers free for reuse, per dtype.
    free: PerDType<Vec<u16>>,
}

impl Emitter {
    fn push(&mut self, instr: VInstr) {
        if instr.is_arithmetic() {
            self.program.arith_dtype.get_or_insert(instr.dtype());
        }
        self.program.vector.push(instr);
    }

    /// Node `i` as a vector operand.
    fn vsrc(&self, i: usize) -> Result<VSrc, JitError> {
        match self.slots[i] {
            Some(Slot::Scalar(s)) => Ok(VSrc::Scalar(s)),
            Some(Slot::Input(v)) => Ok(VSrc::Input(v)),
            Some(Slot::Reg(r)) => Ok(VSrc::Reg(r)),
            Some(Slot::Out) | None => Err(internal!("node {i} is read before it is emitted")),
        }
    }

    /// Node `i` as a scalar operand.
    fn sreg(&self, i: usize) -> Result<u16, JitError> {
        match self.slots[i] {
            Some(Slot::Scalar(s)) => Ok(s),
            _ => Err(internal!("node {i} is not a scalar")),
        }
    }

    /// Emit node `i`, uniform along the tile, as a scalar instruction.
    fn scalar(&mut self, b: &BoxExpr, i: usize) -> Result<(), JitError> {
        let dtype = b.nodes[i].dtype;
        let dst = bump(&mut self.scalar_next[dtype])?;
        let instr = match b.nodes[i].op {
            SpecOp::Load(view) => SInstr::Load { dtype, view, dst },
            _ => SInstr::Elementwise {
                dtype,
                dst,
                op: elementwise(b, i)?.try_map(|a| self.sreg(a))?,
            },
        };
        self.program.scalar.push(instr);
        self.slots[i] = Some(Slot::Scalar(dst));
        Ok(())
    }
}
