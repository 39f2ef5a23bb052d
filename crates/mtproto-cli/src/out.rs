//! The one place where the CLI writes to stdout and stderr.
//!
//! `println!` panics when a write fails, and Rust ignores SIGPIPE, so
//! `mtproto demo --json | head -1` would end in "failed printing to stdout:
//! Broken pipe". Here a closed stdout (`BrokenPipe`) becomes
//! [`CliError::OutputClosed`]: the command stops and exits 0 without a word,
//! like `yes | head`. Any other stdout error (a full disk) is an ordinary
//! failure (exit 1). Writes to stderr never fail: if stderr is gone there is
//! nowhere left to report it.

use std::fmt;
use std::io::{self, Write};

use crate::{failed, CliError, CliResult};

/// Writes `args` to stdout and flushes, so that what was printed is out
/// before the command goes on (and a closed reader is noticed at once).
pub(crate) fn stdout(args: fmt::Arguments<'_>) -> CliResult {
    let mut out = io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(CliError::OutputClosed),
        Err(e) => Err(failed(format!("cannot write to stdout: {e}"))),
    }
}

/// Writes `args` to stderr; errors are ignored.
pub(crate) fn stderr(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    // Nowhere to report a failure to write the report: drop it.
    let _ = err.write_fmt(args).and_then(|()| err.flush());
}

/// `print!` that returns a [`CliResult`] instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!($($arg)*))
    };
}

/// `println!` that returns a [`CliResult`] instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, out, outln};
