// mimalloc: parsing and serving allocate many small strings across threads, where glibc's
// allocator spent a quarter of a 100,000-article load in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    deflect::cli::main()
}
