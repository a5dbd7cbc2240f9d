//! The `techmarket` binary: see `techmarket --help`.

fn main() -> std::process::ExitCode {
    techmarket::cli::main()
}
