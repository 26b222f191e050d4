//! Tells the end-to-end tests which store they run against, so that a test that applies to
//! one store only is skipped visibly (`#[ignore]` with its reason) on the other, instead of
//! returning early and reporting "ok". `scripts/with-postgres.sh` sets `TOKENLIFE_TEST_PG`;
//! only this crate is rebuilt when it changes.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tokenlife_test_pg)");
    println!("cargo::rerun-if-env-changed=TOKENLIFE_TEST_PG");
    if std::env::var_os("TOKENLIFE_TEST_PG").is_some_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=tokenlife_test_pg");
    }
}
