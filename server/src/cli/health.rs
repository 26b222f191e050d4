//! `tokenlife health`: one plain-HTTP `GET` of a health URL, for a container's
//! `HEALTHCHECK` (the image has no curl). Healthy is a `200`; anything else, a refused
//! connection or the timeout is a one-line error and exit code 1.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `tokenlife health` options.
#[derive(Debug, clap::Args)]
pub struct HealthArgs {
    /// The URL to ask (plain http://): by default the liveness endpoint on the default
    /// listen address.
    #[arg(
        long,
        env = "TOKENLIFE_HEALTH_URL",
        default_value = "http://127.0.0.1:25441/api/healthz/liveness"
    )]
    pub url: String,
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
    let url = &args.url;
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
    use super::split_url;

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
