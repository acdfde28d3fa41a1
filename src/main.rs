//! `masklab`: reproducible experiments in multi-task learning with missing labels.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the linked BLAS and its thread setting.
    Info,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    masklab::blas::use_single_thread();
    match cli.command {
        Command::Info => {
            println!("masklab {}", env!("CARGO_PKG_VERSION"));
            println!("blas: {} ({} thread)", masklab::blas::config(), masklab::blas::threads());
        }
    }
    Ok(())
}
