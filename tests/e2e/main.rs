//! End-to-end tests: the real `tokenlife` binary over real HTTP.

fn main() {}
