//! The HTTP API (PRODUCT.md §4) with the security of §5: axum routes in front of the
//! session actor.
//!
//! - [`startup`]: [`Application::build`] turns a [`Config`](crate::config::Config) into a
//!   listening server; tests start one on `127.0.0.1:0`.
//! - [`router`](mod@router): the routes, behind [`guard`] (Host allow-list, token,
//!   Origin, content type, body caps).
//! - [`routes`]: thin handlers, one file per resource; [`sse`]: the event stream.
//! - [`problem`]: the one error type, answered as `application/problem+json`; [`json`]:
//!   the JSON extractor whose failures are problems too.
//! - [`openapi`]: the generated document; [`page`]: the embedded web page.
//! - [`links`]: capability links' actions (`/l/*`); [`listen`]: the listener page and what
//!   it reads (`/listen/*`).

pub mod act;
pub mod guard;
pub mod hooks;
pub mod json;
pub mod links;
pub mod listen;
pub mod logins;
pub mod openapi;
pub mod page;
pub mod problem;
pub mod router;
pub mod routes;
pub mod sse;
pub mod startup;
pub mod state;

pub use problem::{ApiError, Problem, ProblemType};
pub use startup::{Application, ShutdownHandle, StartupError, shutdown_signal};
