//! `gochat probe`: asks a running GoChat process on this machine whether it is ready, for
//! health checks where there is no curl (the container image is `FROM scratch`). Exit status 0
//! when the answer is 200, 1 otherwise.

use anyhow::{Context, ensure};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest the whole probe may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The address to probe for a process that listens on `listen`: a wildcard address is reached
/// through loopback.
pub fn target(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), listen.port()),
        IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), listen.port()),
        _ => listen,
    }
}

/// `GET path` on `address`; Ok when the status is 200.
pub async fn probe(address: SocketAddr, path: &str) -> anyhow::Result<()> {
    tokio::time::timeout(TIMEOUT, get(address, path))
        .await
        .with_context(|| format!("{address} did not answer within {TIMEOUT:?}"))?
}

async fn get(address: SocketAddr, path: &str) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(address)
        .await
        .with_context(|| format!("connecting to {address}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    // The status line is all we need; responses of the health routes are small.
    stream.take(4096).read_to_end(&mut head).await?;
    let head = String::from_utf8_lossy(&head);
    let status_line = head.lines().next().unwrap_or_default();
    let status = status_line.split_whitespace().nth(1).unwrap_or_default();
    ensure!(status == "200", "{address}{path} answered {status_line:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_listen_address_is_probed_on_loopback() {
        assert_eq!(
            target("0.0.0.0:8080".parse().unwrap()),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(target("[::]:8080".parse().unwrap()), "[::1]:8080".parse().unwrap());
        assert_eq!(
            target("10.0.0.5:8081".parse().unwrap()),
            "10.0.0.5:8081".parse().unwrap()
        );
    }

    #[tokio::test]
    async fn probe_passes_on_200_and_fails_otherwise() {
        async fn server(status: &'static str) -> SocketAddr {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await;
                let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            });
            address
        }
        probe(server("200 OK").await, "/readyz").await.unwrap();
        let error = probe(server("503 Service Unavailable").await, "/readyz")
            .await
            .unwrap_err();
        assert!(error.to_string().contains("503"), "{error}");
    }
}
