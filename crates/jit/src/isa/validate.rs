//! [`FusedKernel::validate`]: everything the executor relies on, checked
//! once per kernel after emission. The executor then runs without checks of
//! its own: registers, views, outputs and reductions are in range, fused
//! instructions exist for their dtype, and every load of every box stays
//! inside its buffer. What is left to Rust's bounds checks cannot fail
//! unless this module is wrong.

use oxla_ir::DType;

use crate::error::{JitError, internal};
use crate::fusion::FusedKind;
use crate::isa::{FusedKernel, FusedOp, Program, SInstr, TileDirection, VDst, VInstr, VSrc};

/// The shape and dtype of each buffer of an executable.
pub(crate) type BufferTypes = [(Vec<usize>, DType)];

impl FusedKernel {
    /// Check the kernel against the buffers it reads and writes.
    pub fn validate(&self, buffers: &BufferTypes) -> Result<(), JitError> {
        self.check_layout(buffers)?;
        for (i, program) in self.programs.iter().enumerate() {
            Check {
                kernel: self,
                buffers,
                program,
            }
            .program()
            .map_err(|e| internal!("program {i} of a kernel over {:?}: {e}", self.it_shape))?;
        }
        self.check_loads_in_bounds(buffers)
    }

    fn check_layout(&self, buffers: &BufferTypes) -> Result<(), JitError> {
        let ndim = self.it_shape.len();
        let boxes: usize = self.segments.iter().product();
        let well_cut = self.cuts.len() == ndim
            && self.segments.len() == ndim
            && self
                .cuts
                .iter()
                .zip(&self.segments)
                .zip(&self.it_shape)
                .all(|((cuts, &segments), &n)| {
                    cuts.len() == segments + 1
                        && cuts.first() == Some(&0)
                        && cuts.last() == Some(&n)
                        && cuts.windows(2).all(|w| w[0] < w[1])
                });
        if !well_cut || self.box_program.len() != boxes || self.box_column_program.len() != boxes {
            return Err(internal!("regions do not tile {:?}", self.it_shape));
        }
        let program = |p: u32, direction| {
            self.programs
                .get(p as usize)
                .is_some_and(|p| p.direction == direction)
        };
        let columns_possible = ndim >= 2;
        for (&row, &column) in self.box_program.iter().zip(&self.box_column_program) {
            let column_ok =
                column.is_none_or(|c| columns_possible && program(c, TileDirection::Column));
            if !program(row, TileDirection::Row) || !column_ok {
                return Err(internal!("a box has no program of its direction"));
            }
        }
        let strides_ok = self.views.iter().all(|v| {
            v.strides.len() == ndim
                && buffers.get(v.buffer).is_some()
                && self.reads.binary_search(&v.buffer).is_ok()
        });
        if !strides_ok
            || self.col_stride.len() != self.views.len()
            || self.line_stride.len() != self.views.len()
        {
            return Err(internal!("a view does not fit its kernel"));
        }
        let widest = DType::ALL
            .into_iter()
            .filter(|&d| self.regs.vectors[d] > 0)
            .map(DType::size_bytes)
            .max()
            .unwrap_or(1);
        if self.tile_len == 0 || self.tile_len * widest > crate::isa::TILE_BYTES {
            return Err(internal!("tiles of {} elements", self.tile_len));
        }
        for c in &self.regs.consts {
            if c.reg >= self.regs.scalars[c.dtype] {
                return Err(internal!("constant register {} of {}", c.reg, c.dtype));
            }
        }
        let numel: usize = self.it_shape.iter().product();
        if self.shape.iter().product::<usize>() != numel {
            return Err(internal!(
                "iteration space {:?} of roots {:?}",
                self.it_shape,
                self.shape
            ));
        }
        for s in &self.stores {
            if buffers.get(s.buffer) != Some(&(self.shape.clone(), s.dtype)) {
                return Err(internal!("store buffer {} differs from its root", s.buffer));
            }
        }
        for r in &self.reductions {
            let kept = r.axes.iter().all(|&a| a < ndim) && r.axes.windows(2).all(|w| w[0] < w[1]);
            let len: usize = r.shape.iter().product();
            let reduced: usize = r.axes.iter().map(|&a| self.it_shape[a]).product();
            if !kept
                || buffers.get(r.buffer) != Some(&(r.shape.clone(), r.dtype))
                || (numel > 0 && len * reduced != numel)
            {
                return Err(internal!(
                    "reduction buffer {} differs from its root",
                    r.buffer
                ));
            }
        }
        Ok(())
    }

    /// Every view a box's programs read stays inside its buffer over the
    /// whole box (views are affine, so the extremes are at its corners).
    fn check_loads_in_bounds(&self, buffers: &BufferTypes) -> Result<(), JitError> {
        let read_by: Vec<Vec<u32>> = self.programs.iter().map(views_read).collect();
        for b in 0..self.boxes() {
            let extent = self.box_extent(b);
            if extent.iter().any(|&(lo, hi)| lo >= hi) {
                continue;
            }
            let programs = std::iter::once(self.box_program[b]).chain(self.box_column_program[b]);
            for p in programs {
                for &v in &read_by[p as usize] {
                    let view = &self.views[v as usize];
                    let (mut first, mut last) = (view.offset, view.offset);
                    for (&stride, &(lo, hi)) in view.strides.iter().zip(&extent) {
                        let (a, b) = (stride * lo as i64, stride * (hi as i64 - 1));
                        first += a.min(b);
                        last += a.max(b);
                    }
                    let (shape, _) = &buffers[view.buffer];
                    let len = shape.iter().product::<usize>() as i64;
                    if first < 0 || last >= len {
                        return Err(internal!(
                            "view {v} reads {first}..={last} of a buffer of {len} in box {extent:?}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The views a program loads from.
fn views_read(p: &Program) -> Vec<u32> {
    let mut views: Vec<u32> = p
        .scalar
        .iter()
        .filter_map(|i| match i {
            SInstr::Load { view, .. } => Some(*view),
            _ => None,
        })
        .collect();
    for instr in &p.vector {
        if let VInstr::Gather { view, .. } = instr {
            views.push(*view);
        }
        views.extend(instr.sources().iter().filter_map(|&(_, s)| match s {
            VSrc::Input(v) => Some(v),
            _ => None,
        }));
    }
    views.sort_unstable();
    views.dedup();
    views
}

/// One program of a kernel, being checked.
struct Check<'a> {
    kernel: &'a FusedKernel,
    buffers: &'a BufferTypes,
    program: &'a Program,
}

impl Check<'_> {
    fn program(&self) -> Result<(), String> {
        for instr in &self.program.scalar {
            self.scalar_instr(instr)?;
        }
        for instr in &self.program.vector {
            self.vector_instr(instr)
                .map_err(|e| format!("{e} in {instr:?}"))?;
        }
        match self.program.arith_dtype {
            Some(d)
                if !self
                    .program
                    .vector
                    .iter()
                    .any(|i| i.is_arithmetic() && i.dtype() == d) =>
            {
                Err(format!("arithmetic dtype {d} has no instruction"))
            }
            _ => Ok(()),
        }
    }

    fn scalar_instr(&self, instr: &SInstr) -> Result<(), String> {
        match *instr {
            SInstr::Load { dtype, view, dst } => {
                self.view(view, dtype)?;
                self.scalar(dst, dtype)
            }
            SInstr::Elementwise { dtype, dst, op } => {
                let from = op.operand_dtype(dtype);
                op.operands()
                    .iter()
                    .try_for_each(|&a| self.scalar(a, from))?;
                self.scalar(dst, dtype)
            }
        }
    }

    fn vector_instr(&self, instr: &VInstr) -> Result<(), String> {
        match *instr {
            VInstr::Gather {
                dtype,
                view,
                stride,
                dst,
            } => {
                self.view(view, dtype)?;
                if stride <= 0 || stride != self.tile_stride(view) {
                    return Err(format!("gather stride {stride}"));
                }
                self.vector(dst, dtype)
            }
            VInstr::Elementwise { dtype, dst, op } => {
                let from = op.operand_dtype(dtype);
                let operands = op.operands();
                operands.iter().try_for_each(|&a| self.src(a, from))?;
                // an operand of another dtype lives in another bank
                let same_bank: &[VSrc] = if from == dtype { &operands } else { &[] };
                self.dst(dst, dtype, same_bank)
            }
            VInstr::Fused { dtype, dst, op } => {
                self.fused(dtype, &op)?;
                self.dst(dst, dtype, &op.vectors())
            }
            VInstr::ShiftIn {
                dtype,
                dst,
                src,
                head,
            } => {
                self.fused(dtype, &head)?;
                self.dst(VDst::Reg(dst), dtype, &head.vectors())?;
                if src == dst {
                    return Err(format!("register {src} shifted into itself"));
                }
                self.vector(src, dtype)
            }
            VInstr::FusedSum { dtype, red, op } => {
                self.fused(dtype, &op)?;
                if !op.kind().rule().sums_into_rows {
                    return Err("a fused sum of a pattern without one".into());
                }
                let ndim = self.kernel.it_shape.len();
                match self.kernel.reductions.get(red as usize) {
                    Some(r)
                        if r.dtype == dtype
                            && r.innermost_reduced(ndim)
                            && self.program.direction == TileDirection::Row =>
                    {
                        Ok(())
                    }
                    _ => Err(format!("reduction {red} is not a row sum of {dtype}")),
                }
            }
            VInstr::Store { dtype, out, a } => {
                self.src(a, dtype)?;
                match self.kernel.stores.get(out as usize) {
                    Some(s) if s.dtype == dtype => Ok(()),
                    _ => Err(format!("no output {out} of {dtype}")),
                }
            }
            VInstr::Reduce { dtype, red, a } => {
                self.src(a, dtype)?;
                match self.kernel.reductions.get(red as usize) {
                    Some(r) if r.dtype == dtype => Ok(()),
                    _ => Err(format!("no reduction {red} of {dtype}")),
                }
            }
        }
    }

    /// A fused instruction of `dtype`: its pattern fuses in that dtype, and
    /// the stencil loops read their vector operands as slices.
    fn fused(&self, dtype: DType, op: &FusedOp<VSrc, u16>) -> Result<(), String> {
        if !op.kind().fuses(dtype) {
            return Err(format!("{:?} does not fuse in {dtype}", op.kind()));
        }
        if let FusedOp::PairSum(p) = op
            && !p.count_is_valid()
        {
            return Err(format!("a pair sum of {} pairs", p.count));
        }
        let slices_only = op.kind() != FusedKind::Scaled;
        for s in op.vectors() {
            if slices_only && matches!(s, VSrc::Scalar(_)) {
                return Err("a scalar where the loop reads a slice".into());
            }
            self.src(s, dtype)?;
        }
        op.scalars().iter().try_for_each(|&s| self.scalar(s, dtype))
    }

    /// A destination of `dtype`, which none of `operands` may be: the
    /// executor takes the register out of its bank while it writes it.
    fn dst(&self, dst: VDst, dtype: DType, operands: &[VSrc]) -> Result<(), String> {
        for &a in operands {
            self.src(a, dtype)?;
        }
        match dst {
            VDst::Reg(r) if operands.contains(&VSrc::Reg(r)) => {
                Err(format!("register {r} is both operand and destination"))
            }
            VDst::Reg(r) => self.vector(r, dtype),
            VDst::Out(o) => match self.kernel.stores.get(o as usize) {
                Some(s) if s.dtype == dtype && self.program.direction == TileDirection::Row => {
                    Ok(())
                }
                _ => Err(format!("no contiguous output {o} of {dtype}")),
            },
        }
    }

    fn src(&self, s: VSrc, dtype: DType) -> Result<(), String> {
        match s {
            VSrc::Reg(r) => self.vector(r, dtype),
            VSrc::Scalar(r) => self.scalar(r, dtype),
            VSrc::Input(v) => {
                self.view(v, dtype)?;
                match self.tile_stride(v) {
                    1 => Ok(()),
                    s => Err(format!("view {v} read in place with stride {s}")),
                }
            }
        }
    }

    fn view(&self, v: u32, dtype: DType) -> Result<(), String> {
        match self.kernel.views.get(v as usize) {
            Some(view) if self.buffers[view.buffer].1 == dtype => Ok(()),
            _ => Err(format!("no view {v} of {dtype}")),
        }
    }

    /// The stride of view `v` along the program's tiles.
    fn tile_stride(&self, v: u32) -> i64 {
        match self.program.direction {
            TileDirection::Row => self.kernel.col_stride[v as usize],
            TileDirection::Column => self.kernel.line_stride[v as usize],
        }
    }

    fn vector(&self, r: u16, dtype: DType) -> Result<(), String> {
        if r < self.kernel.regs.vectors[dtype] {
            Ok(())
        } else {
            Err(format!("no tile register {r} of {dtype}"))
        }
    }

    fn scalar(&self, r: u16, dtype: DType) -> Result<(), String> {
        if r < self.kernel.regs.scalars[dtype] {
            Ok(())
        } else {
            Err(format!("no scalar register {r} of {dtype}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use oxla_ir::{DType, Tensor};

    use crate::error::JitError;
    use crate::executable::{Executable, Step};
    use crate::isa::{FusedKernel, FusedOp, VDst, VInstr, VSrc};

    /// `((f[2:] - f[:-2]) * 0.5)^2` over 62 elements: one kernel whose
    /// interior is a fused stencil square written straight to its output.
    fn squared_stencil() -> Executable {
        let f = Tensor::parameter(&[64], DType::F64);
        let t = f
            .slice_axis(0, 2, 64)
            .and_then(|a| a.sub(&f.slice_axis(0, 0, 62)?))
            .and_then(|d| d.mul(&Tensor::scalar(DType::F64, 0.5).broadcast_in_dim(&[62], &[])?))
            .unwrap();
        let square = t.mul(&t).unwrap();
        Executable::compile(&[square], &[f]).unwrap()
    }

    fn kernel(exe: &mut Executable) -> &mut FusedKernel {
        match &mut exe.steps[..] {
            [Step::Fused(k)] => k,
            steps => panic!("one kernel expected, got {steps:?}"),
        }
    }

    fn refusal(exe: &mut Executable) -> String {
        let types = exe.buffer_types.clone();
        match kernel(exe).validate(&types) {
            Err(JitError::Internal(why)) => why,
            other => panic!("expected an internal error, got {other:?}"),
        }
    }

    fn first_fused(k: &mut FusedKernel) -> &mut VInstr {
        k.programs[0]
            .vector
            .iter_mut()
            .find(|i| matches!(i, VInstr::Fused { .. }))
            .expect("a fused instruction")
    }

    #[test]
    fn a_compiled_kernel_is_valid_and_fuses_its_stencil_square() {
        let mut exe = squared_stencil();
        let types = exe.buffer_types.clone();
        let k = kernel(&mut exe);
        assert_eq!(k.validate(&types), Ok(()));
        assert!(matches!(
            first_fused(k),
            VInstr::Fused {
                op: FusedOp::StencilSquare { .. },
                dst: VDst::Out(0),
                ..
            }
        ));
    }

    #[test]
    fn a_view_reaching_outside_its_buffer_is_refused() {
        let mut exe = squared_stencil();
        kernel(&mut exe).views[0].offset += 3;
        assert!(refusal(&mut exe).contains("reads"));
    }

    #[test]
    fn a_register_shifted_into_itself_is_refused() {
        let mut exe = squared_stencil();
        let types = exe.buffer_types.clone();
        let k = kernel(&mut exe);
        k.regs.vectors[DType::F64] = 2;
        let VInstr::Fused { op: head, .. } = *first_fused(k) else {
            unreachable!("first_fused finds a fused instruction")
        };
        let shift = |src| VInstr::ShiftIn {
            dtype: DType::F64,
            dst: 0,
            src,
            head,
        };
        let at = k.programs[0]
            .vector
            .iter()
            .position(|i| matches!(i, VInstr::Fused { .. }))
            .unwrap();
        k.programs[0].vector.insert(at, shift(1));
        assert_eq!(k.validate(&types), Ok(()));
        k.programs[0].vector[at] = shift(0);
        assert!(refusal(&mut exe).contains("shifted into itself"));
    }

    #[test]
    fn roots_of_another_size_than_the_iteration_space_are_refused() {
        let mut exe = squared_stencil();
        kernel(&mut exe).shape = vec![63];
        assert!(refusal(&mut exe).contains("of roots"));
    }

    #[test]
    fn a_pattern_in_a_dtype_without_its_loop_is_refused() {
        let mut exe = squared_stencil();
        if let VInstr::Fused { dtype, .. } = first_fused(kernel(&mut exe)) {
            *dtype = DType::F16;
        }
        assert!(refusal(&mut exe).contains("StencilSquare does not fuse in float16"));
    }

    #[test]
    fn a_missing_register_is_refused() {
        let mut exe = squared_stencil();
        kernel(&mut exe).regs.scalars[DType::F64] = 0;
        assert!(refusal(&mut exe).contains("constant register 0 of float64"));
        // without its constant, the program's read of it is refused
        kernel(&mut exe).regs.consts.clear();
        assert!(refusal(&mut exe).contains("no scalar register 0 of float64"));
    }

    #[test]
    fn a_destination_that_is_also_an_operand_is_refused() {
        let mut exe = squared_stencil();
        let k = kernel(&mut exe);
        k.regs.vectors[DType::F64] = 1;
        if let VInstr::Fused {
            dst,
            op: FusedOp::StencilSquare { a, .. },
            ..
        } = first_fused(k)
        {
            *dst = VDst::Reg(0);
            *a = VSrc::Reg(0);
        }
        assert!(refusal(&mut exe).contains("both operand and destination"));
    }

    /// `f[2:-2] * -2.5 + (f[3:-1] + f[1:-3]) * 4/3 + (f[4:] + f[:-4]) * -1/12`:
    /// a fourth-order second difference, one fused pair sum.
    fn pair_sum_kernel() -> Executable {
        let f = Tensor::parameter(&[64], DType::F64);
        let w = |v: f64| Tensor::scalar(DType::F64, v).broadcast_in_dim(&[60], &[]);
        let s = |a: usize| f.slice_axis(0, a, a + 60);
        let pair = |k: usize, v: f64| s(2 + k)?.add(&s(2 - k)?)?.mul(&w(v)?);
        let sum = s(2)
            .and_then(|c| c.mul(&w(-2.5)?))
            .and_then(|c| c.add(&pair(1, 4.0 / 3.0)?))
            .and_then(|t| t.add(&pair(2, -1.0 / 12.0)?))
            .unwrap();
        Executable::compile(&[sum], &[f]).unwrap()
    }

    #[test]
    fn a_pair_sum_of_no_pairs_or_too_many_is_refused() {
        let mut exe = pair_sum_kernel();
        let types = exe.buffer_types.clone();
        assert_eq!(kernel(&mut exe).validate(&types), Ok(()));
        for count in [0, super::super::MAX_PAIRS as u8 + 1] {
            match first_fused(kernel(&mut exe)) {
                VInstr::Fused {
                    op: FusedOp::PairSum(p),
                    ..
                } => p.count = count,
                other => panic!("a pair sum expected, got {other:?}"),
            }
            assert!(refusal(&mut exe).contains(&format!("a pair sum of {count} pairs")));
        }
    }

    #[test]
    fn an_output_written_through_a_column_program_is_refused() {
        let mut exe = squared_stencil();
        let k = kernel(&mut exe);
        k.programs[0].direction = crate::isa::TileDirection::Column;
        assert!(refusal(&mut exe).contains("direction"));
    }
}
