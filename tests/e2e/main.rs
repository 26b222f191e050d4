//! End-to-end tests: the real `tokenlife` binary, started on `127.0.0.1:0` with a
//! temporary data folder, driven over real HTTP. One integration test binary for the
//! server crate (`cargo test -p tokenlife-server`).

mod admin;
mod api;
mod audit;
mod caching;
mod commands;
mod deploy;
mod durability;
mod harness;
mod keys;
mod last_use;
mod metrics;
mod openapi;
mod replicas;
mod security_auth;
mod security_net;
mod security_scope;
mod security_store;
mod specter;
mod static_files;
mod tls;
mod upgrade;
mod vectors;
