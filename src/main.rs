//! The `gatehouse` binary: everything is in the library; see `cli::run`.

fn main() -> std::process::ExitCode {
    gatehouse::cli::run()
}
