//! Capability links in the database (migration 2). (Being built.)
