//! Receivers (PRODUCT.md §7): other tools' own request formats — Slack and Mattermost
//! slash commands, Alertmanager, Grafana, PagerDuty and GitHub webhooks — read, checked
//! against each tool's own authentication, and mapped to [`Command`](crate::command::Command)s.
//!
//! Pure: bytes and headers in, a verdict and commands out. The routes that call them are
//! `http::hooks`.
//!
//! - [`verify`]: HMAC-SHA256 and constant-time comparison, shared by every signature check.
//! - [`slash`]: Slack and Mattermost slash commands.
//! - [`alertmanager`], [`grafana`], [`pagerduty`], [`github`]: each tool's payload and
//!   signature, to a normalised [`Delivery`](rules::Delivery).
//! - [`rules`]: the mapping rules of the config file, then the defaults.
//! - [`dedup`]: deliveries already seen, by their delivery ids.

pub mod alertmanager;
pub mod dedup;
pub mod github;
pub mod grafana;
pub mod pagerduty;
pub mod rules;
pub mod slash;
pub mod verify;
