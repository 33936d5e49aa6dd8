//! Notifications: session events posted to chat and webhooks through the outbox. (Being
//! built.)
