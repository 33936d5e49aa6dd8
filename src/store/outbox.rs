//! The notification outbox in the database (migration 3). (Being built.)
