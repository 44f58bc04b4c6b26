//! The `xianjie` command: the hub, the member client, certificate tooling.

fn main() -> std::process::ExitCode {
    xianjie::cli::main()
}
