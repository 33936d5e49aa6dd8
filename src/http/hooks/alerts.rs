//! Alertmanager, Grafana, PagerDuty and GitHub webhooks. (Being built.)

use super::super::problem::ApiError;

/// `POST /hooks/alertmanager`.
pub async fn alertmanager() -> ApiError {
    ApiError::NotFound("being built".into())
}

/// `POST /hooks/grafana`.
pub async fn grafana() -> ApiError {
    ApiError::NotFound("being built".into())
}

/// `POST /hooks/pagerduty`.
pub async fn pagerduty() -> ApiError {
    ApiError::NotFound("being built".into())
}

/// `POST /hooks/github`.
pub async fn github() -> ApiError {
    ApiError::NotFound("being built".into())
}
