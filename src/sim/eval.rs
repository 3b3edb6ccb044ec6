//! `spoofify eval`: recommendation quality with simulated listeners. (To be written.)

/// Options of `spoofify eval`.
#[derive(Debug, Clone, clap::Args)]
pub struct EvalArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the evaluation and prints its table (or JSON) to stdout.
pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}
