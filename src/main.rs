use clap::Parser;

fn main() -> std::process::ExitCode {
    arkiv::cli::main(arkiv::cli::Cli::parse())
}
