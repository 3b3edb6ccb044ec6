//! `spoofify bench model`: the model engines side by side. (To be written.)

/// Options of `spoofify bench model`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the benchmark and prints its table (or JSON) to stdout.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let _ = args;
    anyhow::bail!("not implemented yet")
}
