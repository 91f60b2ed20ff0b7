//! The AWS SDK configuration both AWS-facing parts share (the cloudwatch output and tags
//! through the ECS API): rustls on ring, explicit timeouts, and the region from the task
//! ARN when `AWS_REGION` is not set.

use std::time::Duration;

/// The SDK has no operation timeout by default: a hung request would stall its caller.
pub(crate) const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// `arn:aws:ecs:REGION:ACCOUNT:task/…` → `REGION`.
pub(crate) fn region_from_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    let region = parts.nth(2)?;
    (!region.is_empty()).then_some(region)
}

/// Loads the shared configuration (credentials from the standard chain: the task role on
/// ECS). `region_hint` is used only when the environment names no region.
pub(crate) async fn sdk_config(region_hint: Option<&str>) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build();
    // rustls on ring (see Cargo.toml); the CA roots are loaded from the system store.
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(timeouts);
    let region_set = std::env::var_os("AWS_REGION").is_some()
        || std::env::var_os("AWS_DEFAULT_REGION").is_some();
    if !region_set && let Some(region) = region_hint {
        tracing::info!("AWS_REGION not set; using {region} from the task ARN");
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    loader.load().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_task_arn() {
        assert_eq!(
            region_from_arn("arn:aws:ecs:eu-west-1:111222333444:task/c/abc"),
            Some("eu-west-1")
        );
        assert_eq!(region_from_arn("arn:aws:ecs::1:task/x"), None);
        assert_eq!(region_from_arn("not-an-arn"), None);
    }
}
