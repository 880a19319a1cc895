//! `oxla bench`: named cases timed in-process against a memory-copy floor.
//!
//! A case name reads `OP-DTYPE-SHAPE`, for example `gradient-all-f64-4096x4096`:
//!
//! | op | what one iteration does | bytes of the floor |
//! | --- | --- | --- |
//! | `gradient-all` | `gradient` over every axis | read `f`, write one output per axis |
//! | `gradient-axis0` | `gradient` along axis 0 | read `f`, write one output |
//! | `vjp-gradient-all` | the VJP of `gradient` over every axis | read one cotangent per axis, write one |
//! | `value-and-grad` | `value_and_grad` of `sum(|grad f|^2)` | read `f`, write the gradient |
//! | `tv-loss-value-and-grad` | `value_and_grad` of the total variation `sum(sqrt(gx^2 + gy^2 + eps))` (2-d, `crate::tv`) | read `f`, write the gradient |
//! | `compile-gradient-all` | trace, lower and plan `gradient` (no run) | none |
//! | `first-call-gradient-all` | the process's first `gradient` call (compile, fresh output pages, threads started); the table's floor column shows the warm calls that follow (`warm_s`) and the ratio is first over warm | as `gradient-all` |
//!
//! Every op except `compile-*` runs as a cached [`oxla::jit`] call, as
//! `jax.jit` would. The floor is honest: the median time of moving the same
//! traffic (the bytes the op must read once plus those it must write once)
//! through memory with a copy on as many threads as the op runs on, each
//! thread copying one contiguous part of `traffic / 2` bytes between
//! buffers touched beforehand, measured in the same run. The copy is timed
//! two ways, `memcpy` and non-temporal stores ([`oxla::copy_streaming`]),
//! and the floor is the faster: `memcpy` alone is not a floor where glibc
//! misjudges the L3 and reads every line it writes (`Copier::Memcpy`).
//! `ratio_to_floor` compares the op with that; the one-thread copy of the
//! same traffic is reported beside it, and both as GB/s; `--json` also
//! gives each copy's time (`floor_memcpy_s`, `floor_streaming_s`).

use std::io::Write;
use std::time::{Duration, Instant};

use oxla::{Axes, DType, Error, Jit, Tensor, numpy};

use crate::error::CliError;

/// The cases run when none is named (the figures of the performance issue).
pub const DEFAULT_CASES: &[&str] = &[
    "gradient-all-f64-4096x4096",
    "gradient-all-f32-4096x4096",
    "gradient-all-f64-256x256x256",
    "gradient-all-f32-256x256x256",
    "gradient-all-f64-16777216",
    "gradient-all-f32-16777216",
    "gradient-axis0-f64-4096x4096",
    "gradient-axis0-f32-4096x4096",
    "gradient-axis0-f64-256x256x256",
    "gradient-axis0-f32-256x256x256",
    "gradient-axis0-f64-16777216",
    "gradient-axis0-f32-16777216",
    "vjp-gradient-all-f64-4096x4096",
    "vjp-gradient-all-f32-4096x4096",
    "vjp-gradient-all-f64-256x256x256",
    "vjp-gradient-all-f32-256x256x256",
    "value-and-grad-f64-4096x4096",
    "value-and-grad-f32-4096x4096",
    "value-and-grad-f64-256x256x256",
    "value-and-grad-f32-256x256x256",
    "tv-loss-value-and-grad-f32-4096x4096",
    "gradient-all-f64-6",
    "compile-gradient-all-f64-256x256x256",
];

/// What a case computes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    GradientAll,
    GradientAxis0,
    VjpGradientAll,
    ValueAndGrad,
    TvValueAndGrad,
    CompileGradientAll,
    FirstCallGradientAll,
}

const OPS: [(&str, Op); 7] = [
    ("tv-loss-value-and-grad", Op::TvValueAndGrad),
    ("first-call-gradient-all", Op::FirstCallGradientAll),
    ("compile-gradient-all", Op::CompileGradientAll),
    ("vjp-gradient-all", Op::VjpGradientAll),
    ("gradient-all", Op::GradientAll),
    ("gradient-axis0", Op::GradientAxis0),
    ("value-and-grad", Op::ValueAndGrad),
];

/// A parsed case name.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub name: String,
    pub op: Op,
    pub dtype: DType,
    pub shape: Vec<usize>,
}

impl Case {
    /// Parse `OP-DTYPE-SHAPE` (shape as `4096x4096`).
    pub fn parse(name: &str) -> Result<Case, CliError> {
        let bad = |why: &str| {
            CliError::Usage(format!(
                "bench case `{name}`: {why} (expected OP-DTYPE-SHAPE, e.g. gradient-all-f64-4096x4096)"
            ))
        };
        let (op_name, op) = OPS
            .iter()
            .find(|(p, _)| name.starts_with(&format!("{p}-")))
            .ok_or_else(|| bad("unknown op; one of gradient-all, gradient-axis0, vjp-gradient-all, value-and-grad, tv-loss-value-and-grad, compile-gradient-all"))?;
        let rest = &name[op_name.len() + 1..];
        let (dtype, shape) = rest
            .split_once('-')
            .ok_or_else(|| bad("missing dtype or shape"))?;
        let dtype = match dtype {
            "f16" => DType::F16,
            "f32" => DType::F32,
            "f64" => DType::F64,
            "c64" => DType::C64,
            "c128" => DType::C128,
            _ => return Err(bad("dtype must be f16, f32, f64, c64 or c128")),
        };
        let shape: Vec<usize> = shape
            .split('x')
            .map(|d| {
                d.parse::<usize>()
                    .map_err(|_| bad("shape must be sizes joined by x"))
            })
            .collect::<Result<_, _>>()?;
        if shape.iter().any(|&d| d < 3) {
            return Err(bad("every axis needs at least 3 points"));
        }
        if *op == Op::TvValueAndGrad && shape.len() != 2 {
            return Err(bad("the total variation is of 2-d arrays"));
        }
        let elements = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if elements.is_none_or(|n| n > 1 << 30) {
            return Err(bad("at most 2^30 elements"));
        }
        Ok(Case {
            name: name.to_string(),
            op: *op,
            dtype,
            shape,
        })
    }

    fn elements(&self) -> usize {
        self.shape.iter().product()
    }

    /// Bytes the op must read once plus bytes it must write once.
    pub fn floor_bytes(&self) -> usize {
        let array = self.elements() * self.dtype.size_bytes();
        let axes = self.shape.len();
        match self.op {
            Op::GradientAll => array * (1 + axes),
            Op::GradientAxis0 => array * 2,
            Op::VjpGradientAll => array * (axes + 1),
            Op::ValueAndGrad | Op::TvValueAndGrad => array * 2 + self.dtype.size_bytes(),
            Op::CompileGradientAll => 0,
            Op::FirstCallGradientAll => array * (1 + axes),
        }
    }

    fn op_name(&self) -> &'static str {
        match self.op {
            Op::GradientAll => "gradient over all axes",
            Op::GradientAxis0 => "gradient along axis 0",
            Op::VjpGradientAll => "vjp of gradient over all axes",
            Op::ValueAndGrad => "value_and_grad of sum(|grad f|^2)",
            Op::TvValueAndGrad => {
                "value_and_grad of the total variation sum(sqrt(gx^2 + gy^2 + eps))"
            }
            Op::CompileGradientAll => "trace, lower and plan gradient over all axes",
            Op::FirstCallGradientAll => {
                "the first call of gradient over all axes in this process (compile and run)"
            }
        }
    }
}

/// One measured case.
#[derive(Clone, Debug)]
pub struct Measurement {
    pub case: Case,
    pub threads: usize,
    pub median_s: f64,
    /// The floor's two copies of the case's traffic on `threads` threads,
    /// `memcpy` then non-temporal (the floor is the faster, [`Measurement::floor_s`]).
    pub floor_copies_s: Option<[f64; 2]>,
    /// The same traffic moved by a copy on one thread (the faster of the two).
    pub floor_1thread_s: Option<f64>,
    /// For a first-call case: the median of the warm calls that followed.
    pub warm_s: Option<f64>,
    pub runs: usize,
}

impl Measurement {
    /// The honest floor: the case's traffic moved by the faster copy on
    /// `threads` threads.
    pub fn floor_s(&self) -> Option<f64> {
        self.floor_copies_s
            .map(|[memcpy, streaming]| memcpy.min(streaming))
    }

    /// Time over the floor (for a first-call case: over a warm call).
    fn ratio(&self) -> Option<f64> {
        self.floor_s()
            .or(self.warm_s)
            .filter(|&f| f > 0.0)
            .map(|f| self.median_s / f)
    }

    /// The case's traffic over `seconds`, in GB/s (10^9 bytes).
    fn gbps(&self, seconds: Option<f64>) -> Option<f64> {
        let traffic = self.case.floor_bytes() as f64;
        seconds
            .filter(|&s| s > 0.0 && traffic > 0.0)
            .map(|s| traffic / s / 1e9)
    }

    /// One JSON object on one line.
    pub fn json(&self) -> String {
        let num = |v: Option<f64>| v.map_or("null".to_string(), |x| format!("{x:.9e}"));
        format!(
            "{{\"case\":\"{}\",\"op\":\"{}\",\"dtype\":\"{}\",\"shape\":[{}],\"threads\":{},\"median_s\":{:.9e},\"floor_s\":{},\"ratio_to_floor\":{},\"floor_1thread_s\":{},\"floor_memcpy_s\":{},\"floor_streaming_s\":{},\"warm_s\":{},\"traffic_bytes\":{},\"gbps\":{},\"floor_gbps\":{},\"runs\":{}}}",
            self.case.name,
            self.case.op_name(),
            self.case.dtype.numpy_name(),
            self.case
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(","),
            self.threads,
            self.median_s,
            num(self.floor_s()),
            num(self.ratio()),
            num(self.floor_1thread_s),
            num(self.floor_copies_s.map(|c| c[0])),
            num(self.floor_copies_s.map(|c| c[1])),
            num(self.warm_s),
            self.case.floor_bytes(),
            num(self.gbps(Some(self.median_s))),
            num(self.gbps(self.floor_s())),
            self.runs
        )
    }
}

/// Run the named cases (or the defaults) and print one line per case.
pub fn run(
    cases: &[String],
    json: bool,
    min_time: Duration,
    floor: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let names: Vec<String> = if cases.is_empty() {
        DEFAULT_CASES.iter().map(|s| s.to_string()).collect()
    } else {
        cases.to_vec()
    };
    let parsed: Vec<Case> = names
        .iter()
        .map(|n| Case::parse(n))
        .collect::<Result<_, _>>()?;
    if !json {
        writeln!(
            out,
            "{:<40} {:>11} {:>11} {:>6} {:>8} {:>8} {:>13}  threads",
            "case", "median", "floor", "ratio", "GB/s", "floor", "1-thread copy"
        )?;
    }
    for case in parsed {
        let m = measure(&case, min_time, floor)?;
        if json {
            writeln!(out, "{}", m.json())?;
        } else {
            let ms = |s: f64| {
                if s < 1e-3 {
                    format!("{:.2} us", s * 1e6)
                } else {
                    format!("{:.2} ms", s * 1e3)
                }
            };
            let gb = |v: Option<f64>| v.map_or("-".into(), |g| format!("{g:.1}"));
            writeln!(
                out,
                "{:<40} {:>11} {:>11} {:>6} {:>8} {:>8} {:>13}  {}",
                case.name,
                ms(m.median_s),
                m.floor_s().or(m.warm_s).map_or("-".into(), ms),
                m.ratio().map_or("-".into(), |r| format!("{r:.2}")),
                gb(m.gbps(Some(m.median_s))),
                gb(m.gbps(m.floor_s())),
                m.floor_1thread_s.map_or("-".into(), ms),
                m.threads
            )?;
        }
        out.flush()?;
        oxla::release_cached_memory();
    }
    Ok(())
}

/// A deterministic smooth field with some roughness, in the case's dtype.
///
/// f64 and f32 fields are built directly in their dtype, so that setting a
/// case up leaves no array of another dtype behind (in the buffer pool) to
/// inflate the peak memory of a `--no-floor` run.
fn field(shape: &[usize], dtype: DType, seed: u64) -> Result<Tensor, Error> {
    let value = |i: usize| {
        let x = (i as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(seed);
        ((i as f64) * 1e-3).sin() + (x >> 40) as f64 * 1e-8
    };
    match dtype {
        DType::F32 => host_tensor(shape, |i| value(i) as f32),
        DType::F64 => host_tensor(shape, value),
        _ => {
            let converted = host_tensor(shape, value)?.convert(dtype)?;
            Ok(Tensor::literal(oxla::eval(&[converted])?.remove(0)))
        }
    }
}

/// A literal tensor of `shape` whose element `i`, in row-major order, is `value(i)`.
fn host_tensor<T: Clone + Default>(
    shape: &[usize],
    value: impl Fn(usize) -> T,
) -> Result<Tensor, Error>
where
    oxla::ndarray::ArrayD<T>: Into<oxla::HostArray>,
{
    let mut array = oxla::ndarray::ArrayD::from_elem(oxla::ndarray::IxDyn(shape), T::default());
    for (i, x) in array.iter_mut().enumerate() {
        *x = value(i);
    }
    Ok(Tensor::from_host(array)?)
}

type Traced = Box<dyn Fn(&[Tensor]) -> Result<Vec<Tensor>, Error>>;

/// The function a case times and its arguments.
fn workload(case: &Case) -> Result<(Traced, Vec<Tensor>), Error> {
    let f = field(&case.shape, case.dtype, 1)?;
    Ok(match case.op {
        Op::GradientAll | Op::CompileGradientAll | Op::FirstCallGradientAll => (
            Box::new(|xs| numpy::gradient(&xs[0], &[], Axes::All, 1)),
            vec![f],
        ),
        Op::GradientAxis0 => (
            Box::new(|xs| numpy::gradient(&xs[0], &[], Axes::from(0), 1)),
            vec![f],
        ),
        Op::VjpGradientAll => {
            let mut args = vec![f];
            for axis in 0..case.shape.len() {
                args.push(field(&case.shape, case.dtype, 2 + axis as u64)?);
            }
            let pullback = |xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
                let (_, pb) = oxla::vjp(
                    |ys: &[Tensor]| numpy::gradient(&ys[0], &[], Axes::All, 1),
                    &xs[..1],
                )?;
                Ok(pb.call(&xs[1..])?)
            };
            (Box::new(pullback), args)
        }
        Op::ValueAndGrad => {
            let vg = |xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
                let (v, g) = oxla::value_and_grad(
                    |ys: &[Tensor]| Ok::<_, Error>(vec![crate::demo::smoothness(&ys[0])?]),
                    xs,
                )?;
                Ok(std::iter::once(v).chain(g).collect())
            };
            (Box::new(vg), vec![f])
        }
        Op::TvValueAndGrad => {
            let vg = |xs: &[Tensor]| -> Result<Vec<Tensor>, Error> {
                let (v, g) = oxla::value_and_grad(
                    |ys: &[Tensor]| {
                        Ok::<_, Error>(vec![crate::tv::total_variation(&ys[0], crate::tv::EPS)?])
                    },
                    xs,
                )?;
                Ok(std::iter::once(v).chain(g).collect())
            };
            (Box::new(vg), vec![f])
        }
    })
}

/// Time the `jobs` in turn (one run of each per round) until `min_time`
/// has passed (at least 5 rounds, at most 200), after one warm-up round;
/// the median time of each, and the number of rounds. Interleaving keeps
/// an op and its floor under the same conditions on a noisy machine.
fn interleaved(
    min_time: Duration,
    jobs: &mut [&mut dyn FnMut() -> Result<(), Error>],
) -> Result<(Vec<f64>, usize), Error> {
    for job in jobs.iter_mut() {
        job()?;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); jobs.len()];
    let start = Instant::now();
    let mut rounds = 0;
    while rounds < 5 || (start.elapsed() < min_time && rounds < 200) {
        for (job, t) in jobs.iter_mut().zip(&mut times) {
            let at = Instant::now();
            job()?;
            t.push(at.elapsed().as_secs_f64());
        }
        rounds += 1;
    }
    let medians = times
        .into_iter()
        .map(|mut t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    Ok((medians, rounds))
}

/// The honest floor's copy: `traffic / 2` bytes from one buffer to another
/// (both allocated and touched beforehand), on `threads` threads, each
/// copying one contiguous part; with `threads == 1`, a one-thread copy.
/// The floor is the faster of two ways of copying ([`Copier`]).
struct Floor {
    src: Vec<u8>,
    dst: Vec<u8>,
}

/// How the floor's copy writes its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Copier {
    /// `copy_from_slice`, glibc's `memcpy`: the fastest copy while the
    /// buffers fit the caches. Above a threshold derived from the L3 size
    /// glibc detects it writes with non-temporal stores; below it, every
    /// line written is first read, so the destination's bytes cross the
    /// memory bus twice. A VM reporting an L3 ten times the real one (a
    /// 320 MiB L3 on an AMD host) keeps 100 MB copies below the
    /// threshold, and they run 1.3-1.9x slower than the bytes require.
    Memcpy,
    /// [`oxla::copy_streaming`]: non-temporal stores for every whole line,
    /// what the executor does for large outputs; the bytes cross once.
    Streaming,
}

impl Floor {
    fn new(traffic: usize) -> Floor {
        let bytes = traffic / 2;
        let mut floor = Floor {
            src: vec![1u8; bytes],
            dst: vec![0u8; bytes],
        };
        floor.copy(1, Copier::Memcpy); // touch the destination's pages
        floor
    }

    fn copy(&mut self, threads: usize, how: Copier) {
        let part = self.src.len().div_ceil(threads.max(1)).max(1);
        let copy_part = move |d: &mut [u8], from: &[u8]| match how {
            Copier::Memcpy => d.copy_from_slice(std::hint::black_box(from)),
            Copier::Streaming => {
                oxla::copy_streaming(d, std::hint::black_box(from));
            }
        };
        if threads <= 1 {
            copy_part(&mut self.dst, &self.src);
        } else {
            rayon::scope(|s| {
                for (d, from) in self.dst.chunks_mut(part).zip(self.src.chunks(part)) {
                    s.spawn(move |_| copy_part(d, from));
                }
            });
        }
        std::hint::black_box(&mut self.dst);
    }
}

fn measure(case: &Case, min_time: Duration, floor: bool) -> Result<Measurement, CliError> {
    measure_case(case, min_time, floor).map_err(|e| CliError::Bench(Box::new(e)))
}

fn measure_case(case: &Case, min_time: Duration, floor: bool) -> Result<Measurement, Error> {
    let (function, args) = workload(case)?;
    let threads = oxla::threads();
    if case.op == Op::CompileGradientAll {
        let mut compile = || -> Result<(), Error> {
            let params: Vec<Tensor> = args
                .iter()
                .map(|a| Tensor::parameter(a.shape(), a.dtype()))
                .collect();
            let outputs = function(&params)?;
            std::hint::black_box(oxla::Executable::compile(&outputs, &params)?);
            Ok(())
        };
        let (medians, runs) = interleaved(min_time, &mut [&mut compile])?;
        return Ok(Measurement {
            case: case.clone(),
            threads,
            median_s: medians[0],
            floor_copies_s: None,
            floor_1thread_s: None,
            warm_s: None,
            runs,
        });
    }
    if case.op == Op::FirstCallGradientAll {
        // nothing of oxla has run in this process yet: the case is set up
        // without the jit (literal tensors only)
        let jitted: Jit<Traced> = oxla::jit(function);
        let start = Instant::now();
        std::hint::black_box(jitted.call(&args)?);
        let first = start.elapsed().as_secs_f64();
        let mut warm = || -> Result<(), Error> {
            std::hint::black_box(jitted.call(&args)?);
            Ok(())
        };
        let (medians, runs) = interleaved(min_time, &mut [&mut warm])?;
        return Ok(Measurement {
            case: case.clone(),
            threads,
            median_s: first,
            floor_copies_s: None,
            floor_1thread_s: None,
            warm_s: Some(medians[0]),
            runs: runs + 1,
        });
    }
    // Latency cases time batches of calls so the clock's own cost does not count.
    let batch = if case.elements() < 4096 { 1000 } else { 1 };
    let jitted: Jit<Traced> = oxla::jit(function);
    let mut op = || -> Result<(), Error> {
        for _ in 0..batch {
            std::hint::black_box(jitted.call(&args)?);
        }
        Ok(())
    };
    let traffic = case.floor_bytes();
    // a latency case's traffic is a few bytes: its "floor" would be the
    // cost of starting a parallel copy, not of moving memory
    if !floor || traffic == 0 || batch > 1 {
        let (medians, runs) = interleaved(min_time, &mut [&mut op])?;
        return Ok(Measurement {
            case: case.clone(),
            threads,
            median_s: medians[0] / batch as f64,
            floor_copies_s: None,
            floor_1thread_s: None,
            warm_s: None,
            runs: runs * batch,
        });
    }
    let floor = std::cell::RefCell::new(Floor::new(traffic));
    let copier = |threads: usize, how: Copier| {
        let floor = &floor;
        move || -> Result<(), Error> {
            floor.borrow_mut().copy(threads, how);
            Ok(())
        }
    };
    let (mut all_memcpy, mut all_streaming) = (
        copier(threads, Copier::Memcpy),
        copier(threads, Copier::Streaming),
    );
    let (mut one_memcpy, mut one_streaming) =
        (copier(1, Copier::Memcpy), copier(1, Copier::Streaming));
    let (medians, runs) = interleaved(
        min_time,
        &mut [
            &mut op,
            &mut all_memcpy,
            &mut all_streaming,
            &mut one_memcpy,
            &mut one_streaming,
        ],
    )?;
    Ok(Measurement {
        case: case.clone(),
        threads,
        median_s: medians[0] / batch as f64,
        floor_copies_s: Some([medians[1], medians[2]]),
        floor_1thread_s: Some(medians[3].min(medians[4])),
        warm_s: None,
        runs: runs * batch,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tv_cases_are_2d_and_move_the_image_twice() {
        let c = Case::parse("tv-loss-value-and-grad-f32-4096x4096").unwrap();
        assert_eq!((c.op, c.dtype), (Op::TvValueAndGrad, DType::F32));
        assert_eq!(c.floor_bytes(), 4096 * 4096 * 4 * 2 + 4);
        assert!(Case::parse("tv-loss-value-and-grad-f32-64x64x64").is_err());
        assert!(DEFAULT_CASES.contains(&"tv-loss-value-and-grad-f32-4096x4096"));
    }

    #[test]
    fn case_names_parse() {
        let c = Case::parse("gradient-all-f64-4096x4096").unwrap();
        assert_eq!(
            (c.op, c.dtype, c.shape.clone()),
            (Op::GradientAll, DType::F64, vec![4096, 4096])
        );
        assert_eq!(c.floor_bytes(), 4096 * 4096 * 8 * 3);
        let c = Case::parse("vjp-gradient-all-f32-256x256x256").unwrap();
        assert_eq!(c.op, Op::VjpGradientAll);
        assert_eq!(
            Case::parse("compile-gradient-all-f64-16x16x16")
                .unwrap()
                .floor_bytes(),
            0
        );
        for bad in [
            "gradient-f64-4",
            "gradient-all-i8-16",
            "gradient-all-f64-4xq",
            "gradient-all-f64-2",
            "nope",
        ] {
            assert!(Case::parse(bad).is_err(), "{bad}");
        }
        for name in DEFAULT_CASES {
            Case::parse(name).unwrap();
        }
    }

    #[test]
    fn a_small_case_runs_and_reports_json() {
        let text = run_json(&["gradient-all-f64-8x9", "value-and-grad-f32-5x6"], true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        for key in [
            "\"case\":",
            "\"op\":",
            "\"dtype\":",
            "\"shape\":",
            "\"threads\":",
            "\"median_s\":",
            "\"floor_s\":",
            "\"ratio_to_floor\":",
        ] {
            assert!(lines[0].contains(key), "{key} missing from {}", lines[0]);
        }
    }

    #[test]
    fn without_the_floor_a_case_reports_null_floor_and_ratio() {
        let line = run_json(&["gradient-all-f32-7x5"], false);
        assert!(line.contains("\"floor_s\":null"), "{line}");
        assert!(line.contains("\"ratio_to_floor\":null"), "{line}");
        assert!(!line.contains("\"median_s\":null"), "{line}");
    }

    /// Both copies are timed and reported; the floor is the faster.
    #[test]
    fn the_floor_is_the_faster_of_its_two_copies() {
        let line = run_json(&["gradient-all-f64-64x64"], true);
        let field = |key: &str| -> f64 {
            let tag = format!("\"{key}\":");
            let at = line.find(&tag).unwrap_or_else(|| panic!("{key} in {line}")) + tag.len();
            line[at..]
                .split([',', '}'])
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let (floor, memcpy, streaming) = (
            field("floor_s"),
            field("floor_memcpy_s"),
            field("floor_streaming_s"),
        );
        assert!(memcpy > 0.0 && streaming > 0.0, "{line}");
        assert_eq!(floor, memcpy.min(streaming), "{line}");
    }

    /// The JSON lines of a quick run of `cases`.
    fn run_json(cases: &[&str], floor: bool) -> String {
        let cases: Vec<String> = cases.iter().map(|c| c.to_string()).collect();
        let mut out = Vec::new();
        run(&cases, true, Duration::from_millis(1), floor, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }
}
