//! The `techmarket` binary: see `techmarket --help`.

/// mimalloc rather than the system allocator: indexing allocates a string per token on several
/// threads, and glibc's malloc spent about 15% of the index build in its own bookkeeping.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    techmarket::cli::main()
}
