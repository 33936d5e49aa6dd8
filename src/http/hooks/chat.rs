//! Slack and Mattermost slash commands. (Being built.)

use super::super::problem::ApiError;

/// `POST /hooks/slack`.
pub async fn slack() -> ApiError {
    ApiError::NotFound("the slack receiver is being built".into())
}

/// `POST /hooks/mattermost`.
pub async fn mattermost() -> ApiError {
    ApiError::NotFound("the mattermost receiver is being built".into())
}
