//! Search benchmark driver (filled in by bench/search.sh's author).
fn main() {}
