//! `ECS_CONTAINER_METADATA_URI_V4`, checked once: what the client connects to and asks for.

/// Why a metadata URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlProblem {
    /// Not an `http://` URL with a host: ECS serves the endpoint over plain HTTP.
    NotHttp,
    /// `user:password@` in the URL.
    Credentials,
    /// A host that is neither loopback nor link-local (nor `localhost`), without
    /// `ECS_EMF_ALLOW_ANY_METADATA_HOST=true`.
    NotLocal,
}

/// A metadata endpoint URL the client may poll: plain HTTP, a host, no credentials, and
/// (unless allowed otherwise) a loopback or link-local host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointUrl {
    text: String,
    /// `host:port` to connect to (an IPv6 host bracketed).
    pub(crate) authority: String,
    /// The path the routes (`/task`, …) are appended to.
    pub(crate) prefix: String,
    /// `?query`, or empty.
    pub(crate) query: String,
    /// Loopback, link-local, `localhost`, or a private address (RFC 1918, IPv6 unique
    /// local): an address on the host or its own networks.
    pub(crate) private_host: bool,
}

impl EndpointUrl {
    /// The endpoint is plain HTTP on a link-local address (169.254.170.2), or loopback for
    /// the simulator. Anything else would send the poller's requests, and trust the answers,
    /// to a host the task does not control; that takes `allow_any_host`. Host names other
    /// than `localhost` are refused too: DNS could point them anywhere.
    pub(crate) fn parse(text: &str, allow_any_host: bool) -> Result<EndpointUrl, UrlProblem> {
        let text = text.trim().trim_end_matches('/');
        let url = url::Url::parse(text).map_err(|_| UrlProblem::NotHttp)?;
        let host = match url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) if !host.to_string().is_empty() => host.to_string(),
            _ => return Err(UrlProblem::NotHttp),
        };
        if url.scheme() != "http" {
            return Err(UrlProblem::NotHttp);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlProblem::Credentials);
        }
        let local = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_link_local(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback() || (ip.segments()[0] & 0xffc0) == 0xfe80,
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if !local && !allow_any_host {
            return Err(UrlProblem::NotLocal);
        }
        let private_host = local
            || match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_private(),
                Some(url::Host::Ipv6(ip)) => (ip.segments()[0] & 0xfe00) == 0xfc00,
                _ => false,
            };
        Ok(EndpointUrl {
            text: text.to_string(),
            authority: format!("{host}:{}", url.port_or_known_default().unwrap_or(80)),
            prefix: url.path().trim_end_matches('/').to_string(),
            query: url.query().map(|q| format!("?{q}")).unwrap_or_default(),
            private_host,
        })
    }
}

impl std::fmt::Display for EndpointUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_the_client_needs() {
        let url = EndpointUrl::parse("http://169.254.170.2/v4/abc-123/", false).expect("valid");
        assert_eq!(
            (
                url.authority.as_str(),
                url.prefix.as_str(),
                url.query.as_str()
            ),
            ("169.254.170.2:80", "/v4/abc-123", "")
        );
        let url = EndpointUrl::parse("http://[::1]:8080/v4/x?a=1", false).expect("valid");
        assert_eq!(
            (
                url.authority.as_str(),
                url.prefix.as_str(),
                url.query.as_str()
            ),
            ("[::1]:8080", "/v4/x", "?a=1")
        );
        assert_eq!(url.to_string(), "http://[::1]:8080/v4/x?a=1");
    }
}
