use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = arkiv::cli::Cli::parse();
    match arkiv::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
