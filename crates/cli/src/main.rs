//! `oxla`, the command-line face of the oxla library.
//!
//! ```text
//! oxla gradient INPUT.npy [--spacing V]... [--axis N]... [--edge-order 1|2] --out-dir DIR
//! oxla derivative INPUT.npy --axis A --order N --accuracy P --spacing V [--periodic [--period L]] --out OUT.npy
//! oxla [demo]
//! oxla bench [--case NAME]... [--json]
//! ```
//!
//! `oxla gradient` reads a `.npy` array (any numeric dtype NumPy writes,
//! either byte order, C or Fortran order, format 1.0/2.0/3.0), computes
//! `numpy.gradient` with [`oxla::numpy::gradient`] and [`oxla::eval`], and
//! writes `DIR/grad_axis<A>.npy` for each axis, in the dtype NumPy returns.
//! Without a command (or with `demo`) it runs an embedded demo that shows
//! the convergence of both edge orders on a sample field.
//!
//! The crate is thin: it parses and does I/O, and leaves every numerical
//! and argument rule to the library. How the pieces meet:
//!
//! - [`args`]: the command line ([`args::Cli`], [`args::GradientArgs`], and
//!   [`args::SpacingArg`], which tells a number from a coordinate file).
//! - [`oxla_npy`] (its own crate) reads `.npy` files with NumPy's rules
//!   (a strict, linear-time header parser; the header checked against the
//!   file size before anything is allocated) and writes `numpy.save`'s bytes.
//! - [`commands::derivative`]: one finite-difference derivative of any
//!   order and accuracy ([`oxla::fd`]), in memory, written the same way.
//! - [`commands::gradient`]: checks the arguments on the input's header,
//!   checks the memory the run needs against [`memory::available`], reads
//!   the data, calls the library, and writes the results through
//!   [`output::OutputSet`]: exclusive temporaries, renamed together, with
//!   the user's earlier files backed up until all renames succeed.
//! - [`demo`]: the embedded report, built from sections.
//! - [`bench`]: named performance cases timed against a memory-copy floor.
//! - [`error`]: [`error::CliError`], every failure as one printable line on
//!   stderr (control characters escaped) and exit status 2 (clap's usage
//!   errors are condensed to one line too).

mod args;
mod bench;
mod commands;
mod demo;
mod demo_fd;
mod demo_tv;
mod derivative_args;
mod error;
mod input;
mod memory;
mod output;
mod parallel_io;
mod progress;
mod slabs;
mod tv;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::error::CliError;

fn main() -> ExitCode {
    let result = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) => return clap_exit(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

/// One line on stderr, and the error's exit status.
fn report(e: &CliError) -> ExitCode {
    let _ = writeln!(io::stderr(), "oxla: error: {}", e.one_line());
    ExitCode::from(e.exit_code())
}

fn run(cli: Cli) -> Result<(), CliError> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Some(Command::Gradient(args)) => commands::gradient::run(&args, &mut out)?,
        Some(Command::Derivative(args)) => commands::derivative::run(&args, &mut out)?,
        Some(Command::Demo) | None => demo::run(&mut out)?,
        Some(Command::Bench(args)) => {
            if args.list {
                for case in bench::DEFAULT_CASES {
                    writeln!(out, "{case}")?;
                }
            } else {
                let min_time =
                    std::time::Duration::try_from_secs_f64(args.min_time).map_err(|_| {
                        CliError::Usage(format!("--min-time {} is not a duration", args.min_time))
                    })?;
                bench::run(&args.cases, args.json, min_time, !args.no_floor, &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Help and version go to stdout as clap renders them; a usage error
/// becomes one line on stderr with exit status 2.
fn clap_exit(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(error::EXIT_FAILURE))
        }
        _ => {
            let rendered = e.render().to_string();
            // The first paragraph holds the message; the rest is usage and tips.
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let message = message.join(" ");
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            report(&CliError::Usage(format!("{message} (see 'oxla --help')")))
        }
    }
}
