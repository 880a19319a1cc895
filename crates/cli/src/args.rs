//! The command line, declared with clap's derive API.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The whole command line.
#[derive(Debug, Parser)]
#[command(
    name = "oxla",
    version,
    about = "numpy.gradient and finite differences of any order on .npy files, computed by the oxla array framework.\nWithout a command, runs the embedded demo."
)]
pub struct Cli {
    /// What to do (default: `demo`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Differentiate a .npy array like numpy.gradient; write one .npy per axis.
    Gradient(GradientArgs),
    /// One derivative of any order and accuracy (findiff's stencils, periodic axes); write one .npy.
    Derivative(crate::derivative_args::DerivativeArgs),
    /// Run the embedded demo: convergence orders, autodiff, finite differences, fusion.
    Demo,
    /// Time named cases in-process against a memory-copy floor.
    Bench(BenchArgs),
}

/// `oxla bench [--case NAME]... [--json] [--min-time SECONDS] [--list]`
#[derive(Debug, Args)]
#[command(
    after_help = "A case is OP-DTYPE-SHAPE, e.g. gradient-all-f64-4096x4096, with OP one of gradient-all,\n\
                  gradient-axis0, vjp-gradient-all, value-and-grad, tv-loss-value-and-grad (2-d),\n\
                  compile-gradient-all.\n\
                  Without --case, runs the default set (see --list)."
)]
pub struct BenchArgs {
    /// A case to run (repeatable). Default: the standard set.
    #[arg(long = "case", value_name = "NAME")]
    pub cases: Vec<String>,

    /// Print one JSON object per case (case, op, dtype, shape, threads,
    /// median_s, floor_s, ratio_to_floor) instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Time each case for at least this long (5 to 200 runs; the median is reported).
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub min_time: f64,

    /// List the default cases and exit.
    #[arg(long)]
    pub list: bool,

    /// Skip the copy floor (it allocates a source and a destination of the
    /// case's size): for measuring the op's own peak memory, e.g. with
    /// `/usr/bin/time -v`.
    #[arg(long)]
    pub no_floor: bool,
}

/// `oxla gradient INPUT.npy [--spacing V]... [--axis N]... [--edge-order 1|2] --out-dir DIR`
#[derive(Debug, Args)]
#[command(
    after_help = "Writes DIR/grad_axis<A>.npy for each requested axis A, in the dtype numpy.gradient returns.\n\
                  Example: oxla gradient f.npy --spacing 0.5 --spacing x.npy --edge-order 2 --out-dir out\n\
                  Out of core: oxla gradient big.npy --memory-limit 2GiB --out-dir out"
)]
pub struct GradientArgs {
    /// The array to differentiate (.npy: integer, float or complex; any byte order or layout).
    #[arg(value_name = "INPUT.npy")]
    pub input: PathBuf,

    /// Spacing: a number (uniform step) or a 1-d .npy of coordinates. Give none
    /// (unit steps), one number (for every axis), or one per selected axis.
    // Any word after `--spacing` is its value, so `-1e-3`, `-.5` and `-inf`
    // work as typed (clap's negative-number test knows only plain decimals).
    #[arg(long, value_name = "V", allow_hyphen_values = true)]
    pub spacing: Vec<OsString>,

    /// An axis to differentiate along (repeatable; negative counts from the
    /// end). Default: every axis.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub axis: Vec<i64>,

    /// Accuracy of the one-sided differences at the two ends of each axis: 1 or 2.
    #[arg(
        long,
        value_name = "1|2",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub edge_order: i64,

    /// Directory for the results (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,

    /// Keep the process's memory within SIZE (e.g. 512MiB, 4GiB) by reading
    /// the input in slabs and writing the outputs as they are computed.
    /// Without it, slabs are used only when the whole run would not fit in
    /// the memory available.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// Flush the outputs to disk before they are renamed into place, so
    /// they survive a machine crash (numpy.save does not; slower).
    #[arg(long)]
    pub fsync: bool,
}

/// One `--spacing` value, told apart as the user meant it.
#[derive(Clone, Debug, PartialEq)]
pub enum SpacingArg {
    /// A number: a uniform step.
    Step(f64),
    /// Anything else: the path of a coordinate (or 0-d step) `.npy` file.
    File(PathBuf),
}

impl SpacingArg {
    /// A value that parses as a number is a step; otherwise it is a path.
    pub fn parse(value: &OsString) -> SpacingArg {
        match value.to_str().map(|s| s.trim().parse::<f64>()) {
            Some(Ok(step)) => SpacingArg::Step(step),
            _ => SpacingArg::File(PathBuf::from(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn negative_numbers_are_values_not_flags() {
        let cli = Cli::try_parse_from([
            "oxla",
            "gradient",
            "f.npy",
            "--axis",
            "-1",
            "--spacing",
            "-0.5",
            "--edge-order",
            "2",
            "--out-dir",
            "out",
        ])
        .unwrap();
        let Some(Command::Gradient(args)) = cli.command else {
            panic!("not a gradient command")
        };
        assert_eq!(args.axis, vec![-1]);
        assert_eq!(SpacingArg::parse(&args.spacing[0]), SpacingArg::Step(-0.5));
        assert_eq!(args.edge_order, 2);
    }

    #[test]
    fn any_negative_step_is_a_value() {
        for word in ["-.5", "-1e-3", "-1E3", "-inf", "-0"] {
            let cli = Cli::try_parse_from([
                "oxla",
                "gradient",
                "f.npy",
                "--spacing",
                word,
                "--out-dir",
                "o",
            ])
            .unwrap();
            let Some(Command::Gradient(args)) = cli.command else {
                panic!("not a gradient command")
            };
            let step = word.parse::<f64>().unwrap();
            assert_eq!(
                SpacingArg::parse(&args.spacing[0]),
                SpacingArg::Step(step),
                "{word}"
            );
        }
    }

    #[test]
    fn spacing_is_a_number_or_a_path() {
        assert_eq!(SpacingArg::parse(&"1e-3".into()), SpacingArg::Step(1e-3));
        assert_eq!(
            SpacingArg::parse(&"x.npy".into()),
            SpacingArg::File(PathBuf::from("x.npy"))
        );
    }
}
