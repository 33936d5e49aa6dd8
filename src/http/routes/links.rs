//! `GET/POST /v1/links`, `DELETE /v1/links/{name}`. (Being built.)
