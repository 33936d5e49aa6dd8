//! gongan's integration tests, as one binary.
mod pack;
