//! `tokenlife health`: one plain-HTTP `GET` of a health URL, for a container's
//! `HEALTHCHECK` (the image has no curl). Healthy is a `200`; anything else, a refused
//! connection or the timeout is a one-line error and exit code 1.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `tokenlife health` options.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The URL to ask (plain http://); by default the liveness endpoint of the address
    /// `serve` would listen on (TOKENLIFE_LISTEN, else 127.0.0.1:25441), on loopback when
    /// that is every address (0.0.0.0 or [::]).
    #[arg(long, env = "TOKENLIFE_HEALTH_URL")]
    pub url: Option<String>,
    /// How long the whole check may take.
    #[arg(long, env = "TOKENLIFE_HEALTH_TIMEOUT", default_value = "5s", value_parser = super::parse_duration)]
    pub timeout: Duration,
}

/// Asks `args.url` once; `Ok` on a `200`.
///
/// # Errors
///
/// The URL is not plain HTTP, the server cannot be reached in time, or it answered
/// something other than `200`: one line naming the URL.
pub async fn check(args: &HealthArgs) -> Result<(), String> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => default_url(std::env::var("TOKENLIFE_LISTEN").ok().as_deref())?,
    };
    let url = &url;
    let (authority, path) = split_url(url)?;
    let status = tokio::time::timeout(args.timeout, get(authority, path))
        .await
        .map_err(|_| format!("{url}: no answer within {:?}", args.timeout))?
        .map_err(|err| format!("{url}: {err}"))?;
    if status.starts_with("200") {
        println!("{url}: {status}");
        Ok(())
    } else {
        Err(format!("{url}: {status}"))
    }
}

/// The liveness URL of a server listening on `listen` (`serve`'s default when `None` or
/// empty).
fn default_url(listen: Option<&str>) -> Result<String, String> {
    let listen = listen
        .filter(|text| !text.is_empty())
        .unwrap_or("127.0.0.1:25441");
    let mut addr: SocketAddr = listen
        .parse()
        .map_err(|_| format!("TOKENLIFE_LISTEN={listen}: not an address (IP:PORT)"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            IpAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    Ok(format!("http://{addr}/api/healthz/liveness"))
}

/// `http://HOST[:PORT][/PATH]` as `(HOST:PORT, /PATH)`.
fn split_url(url: &str) -> Result<(String, &str), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only plain http:// URLs can be checked"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let bad = authority.is_empty()
        || authority.contains('@')
        || path.chars().any(|c| c.is_ascii_control() || c == ' ');
    if bad {
        return Err(format!("{url}: not a URL this check can ask"));
    }
    // A port is needed to connect; a bracketed IPv6 address ends with `]`.
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(host, port)| !port.is_empty() && !port.contains(']') && !host.is_empty());
    let authority = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    Ok((authority, path))
}

/// One `GET` with `Connection: close`; the status line's code and reason.
async fn get(authority: String, path: &str) -> Result<String, String> {
    let mut stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|err| err.to_string())?;
    let host = authority.strip_suffix(":80").unwrap_or(&authority);
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: tokenlife-health\r\n\
         Connection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| err.to_string())?;
    // The status line is all that is read, and it is short.
    let mut head = Vec::new();
    let mut buf = [0u8; 512];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await.map_err(|err| err.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end().splitn(2, ' ');
    match (parts.next(), parts.next()) {
        (Some(version), Some(status)) if version.starts_with("HTTP/") => Ok(status.to_owned()),
        _ => Err("no HTTP answer".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{default_url, split_url};

    #[test]
    fn default_urls() {
        let liveness = |addr: &str| format!("http://{addr}/api/healthz/liveness");
        assert_eq!(default_url(None), Ok(liveness("127.0.0.1:25441")));
        assert_eq!(default_url(Some("")), Ok(liveness("127.0.0.1:25441")));
        assert_eq!(
            default_url(Some("0.0.0.0:8080")),
            Ok(liveness("127.0.0.1:8080"))
        );
        assert_eq!(default_url(Some("[::]:8080")), Ok(liveness("[::1]:8080")));
        assert_eq!(
            default_url(Some("10.1.2.3:80")),
            Ok(liveness("10.1.2.3:80"))
        );
        assert!(default_url(Some("localhost")).is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            split_url("http://127.0.0.1:25441/api/healthz/liveness"),
            Ok(("127.0.0.1:25441".into(), "/api/healthz/liveness"))
        );
        assert_eq!(
            split_url("http://localhost"),
            Ok(("localhost:80".into(), "/"))
        );
        assert_eq!(split_url("http://[::1]:8/x"), Ok(("[::1]:8".into(), "/x")));
        assert_eq!(split_url("http://[::1]/x"), Ok(("[::1]:80".into(), "/x")));
        for bad in [
            "https://a/",
            "ftp://a",
            "http:///x",
            "http://u@a/",
            "http://a/b c",
        ] {
            assert!(split_url(bad).is_err(), "{bad}");
        }
    }
}
