//! The HTTP shell: the accept loop, the endpoints, the static files and the one mapping of
//! every error to a JSON answer. Requests come in through [`listener`], are routed by
//! [`crate::routes`] to [`handlers`], which judge credentials with [`crate::auth`] and act
//! on [`crate::app::App`]; nothing here holds a rule of its own.

pub mod api_error;
pub mod handlers;
pub mod listener;
pub mod metrics;
pub mod static_files;
pub mod tls;
