//! The deployment under load: which base URL serves which service, the `Origin` a browser on
//! that site would send, and the server processes whose CPU time and memory are measured.

use crate::procfs::{self, Probe};
use anyhow::{Context, bail};
use clap::Args;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// A GoChat service, by the paths it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    /// `/api/auth/*`
    Auth,
    /// `/api/users`
    Users,
    /// `/api/conversations*`, `/api/search`
    Messages,
    /// `/ws/chat`
    Chat,
    /// `/api/notifications*`, `/ws/notifications`
    Notifications,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::Auth,
        Service::Users,
        Service::Messages,
        Service::Chat,
        Service::Notifications,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Service::Auth => "auth",
            Service::Users => "users",
            Service::Messages => "messages",
            Service::Chat => "chat",
            Service::Notifications => "notifications",
        }
    }
}

/// Where the deployment is. Every URL defaults to `--url`: one `gochat serve`, or a reverse
/// proxy in front of the services. Cookies are sent by hand, so services on several ports of
/// one host share a session as a browser's cookie jar would.
#[derive(Args, Clone, Debug)]
pub struct TargetArgs {
    /// Base URL of the deployment (`gochat serve`, or the reverse proxy in front of it).
    #[arg(
        long,
        global = true,
        env = "GOCHAT_LOAD_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: Url,
    /// Base URL of the auth service, when it has its own. [default: --url]
    #[arg(long, global = true)]
    pub auth_url: Option<Url>,
    /// Base URL of the users service. [default: --url]
    #[arg(long, global = true)]
    pub users_url: Option<Url>,
    /// Base URL of the messages service. [default: --url]
    #[arg(long, global = true)]
    pub messages_url: Option<Url>,
    /// Base URL of the chat service. [default: --url]
    #[arg(long, global = true)]
    pub chat_url: Option<Url>,
    /// Base URL of the notifications service. [default: --url]
    #[arg(long, global = true)]
    pub notifications_url: Option<Url>,
    /// `Origin` of sockets and state-changing requests. [default: the origin of the URL addressed]
    #[arg(long, global = true)]
    pub origin: Option<String>,
    /// Server process ids whose CPU time and memory are measured, comma separated.
    /// [default: the processes listening on the URLs' ports, when they run on this machine]
    #[arg(long, global = true, value_delimiter = ',')]
    pub server_pid: Vec<u32>,
    /// The broker's AMQP URL: its process's CPU time is reported apart from the servers'.
    #[arg(long, global = true, env = "GOCHAT_LOAD_BROKER_URL")]
    pub broker_url: Option<Url>,
    /// Seconds to wait for every service's /readyz before starting (0: do not wait).
    #[arg(long, global = true, default_value_t = 0)]
    pub wait_ready: u64,
}

/// The resolved deployment.
#[derive(Clone, Debug)]
pub struct Target {
    urls: [Url; 5],
    origin: Option<String>,
    /// The broker's URL, when it runs on this machine.
    broker: Option<Url>,
    pub probe: Probe,
}

/// The deployment as written into a run's JSON document.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetInfo {
    pub urls: Vec<String>,
    pub server_pids: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker_pid: Option<u32>,
}

impl Target {
    /// Resolves the URLs. The server processes are the ones given; [`Target::find_servers`]
    /// looks for them by port once they listen.
    pub fn new(args: &TargetArgs) -> anyhow::Result<Self> {
        let pick = |u: &Option<Url>| u.clone().unwrap_or_else(|| args.url.clone());
        let urls = [
            pick(&args.auth_url),
            pick(&args.users_url),
            pick(&args.messages_url),
            pick(&args.chat_url),
            pick(&args.notifications_url),
        ];
        for url in &urls {
            // TLS is the proxy's cost, not GoChat's: point the load generator behind it.
            if url.scheme() != "http" {
                bail!("{url}: a base URL is http:// (measure the servers behind the TLS proxy)");
            }
        }
        let probe = Probe {
            servers: args.server_pid.clone(),
            broker: None,
        };
        let broker = args.broker_url.clone().filter(is_local);
        Ok(Self {
            broker,
            ..Self::with_probe(urls, args.origin.clone(), probe)
        })
    }

    /// Finds the processes listening on the local URLs' ports (servers not given by pid) and
    /// on the broker's.
    pub fn find_servers(&mut self) {
        if self.probe.servers.is_empty() {
            self.probe.servers = local_pids(&self.urls);
        }
        if let Some(broker) = &self.broker {
            self.probe.broker = procfs::listener_pid(broker.port().unwrap_or(5672));
        }
    }

    /// One base URL for every service, measuring `probe`.
    pub fn single(url: Url, probe: Probe) -> Self {
        Self::with_probe(std::array::from_fn(|_| url.clone()), None, probe)
    }

    fn with_probe(urls: [Url; 5], origin: Option<String>, probe: Probe) -> Self {
        Self {
            urls,
            origin,
            broker: None,
            probe,
        }
    }

    fn base(&self, service: Service) -> &Url {
        &self.urls[service as usize]
    }

    /// `path` (with its query) on `service`.
    pub fn url(&self, service: Service, path: &str) -> anyhow::Result<Url> {
        self.base(service).join(path).with_context(|| format!("joining {path}"))
    }

    /// The ws:// URL of `path` on `service`.
    pub fn ws_url(&self, service: Service, path: &str) -> anyhow::Result<Url> {
        let mut url = self.url(service, path)?;
        url.set_scheme("ws")
            .map_err(|()| anyhow::anyhow!("cannot make a WebSocket URL of {url}"))?;
        Ok(url)
    }

    /// The `Origin` a page of this site sends to `service`.
    pub fn origin(&self, service: Service) -> String {
        self.origin
            .clone()
            .unwrap_or_else(|| self.base(service).origin().ascii_serialization())
    }

    pub fn info(&self) -> TargetInfo {
        let mut urls: Vec<String> = Vec::new();
        for (service, url) in Service::ALL.iter().zip(&self.urls) {
            let text = if self.urls.iter().all(|u| u == url) {
                url.to_string()
            } else {
                format!("{}={url}", service.name())
            };
            if !urls.contains(&text) {
                urls.push(text);
            }
        }
        TargetInfo {
            urls,
            server_pids: self.probe.servers.clone(),
            broker_pid: self.probe.broker,
        }
    }

    /// Waits until every service answers /readyz with 200, polling, for at most `timeout`.
    pub async fn wait_ready(&self, http: &reqwest::Client, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        for service in Service::ALL {
            let url = self.url(service, "/readyz")?;
            loop {
                let ok = http
                    .get(url.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    break;
                }
                if Instant::now() >= deadline {
                    bail!("{url} did not answer 200 within {timeout:?}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }
}

fn is_local(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"))
}

/// The processes listening on the local URLs' ports, each once.
fn local_pids(urls: &[Url]) -> Vec<u32> {
    let mut pids = Vec::new();
    for url in urls.iter().filter(|u| is_local(u)) {
        if let Some(pid) = url.port_or_known_default().and_then(procfs::listener_pid)
            && !pids.contains(&pid)
        {
            pids.push(pid);
        }
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        target: TargetArgs,
    }

    fn target(args: &[&str]) -> Target {
        let cli = Cli::try_parse_from(std::iter::once("t").chain(args.iter().copied())).expect("parses");
        Target::new(&cli.target).expect("resolves")
    }

    #[test]
    fn every_service_defaults_to_the_base_url() {
        let t = target(&["--url", "http://127.0.0.1:9000"]);
        assert_eq!(
            t.url(Service::Auth, "/api/auth/signin").unwrap().as_str(),
            "http://127.0.0.1:9000/api/auth/signin"
        );
        assert_eq!(
            t.ws_url(Service::Chat, "/ws/chat").unwrap().as_str(),
            "ws://127.0.0.1:9000/ws/chat"
        );
        assert_eq!(t.origin(Service::Chat), "http://127.0.0.1:9000");
        assert_eq!(t.info().urls, vec!["http://127.0.0.1:9000/"]);
    }

    #[test]
    fn a_service_url_overrides_the_base_and_sets_its_origin() {
        let t = target(&[
            "--chat-url",
            "http://chat.example:8084",
            "--messages-url",
            "http://h:8083",
        ]);
        assert_eq!(
            t.ws_url(Service::Chat, "/ws/chat").unwrap().as_str(),
            "ws://chat.example:8084/ws/chat"
        );
        assert_eq!(t.origin(Service::Chat), "http://chat.example:8084");
        assert_eq!(
            t.url(Service::Messages, "/api/search?q=caf%C3%A9").unwrap().as_str(),
            "http://h:8083/api/search?q=caf%C3%A9"
        );
        assert_eq!(t.origin(Service::Auth), "http://127.0.0.1:8080");
    }

    #[test]
    fn an_explicit_origin_wins() {
        let t = target(&["--origin", "https://chat.example"]);
        assert_eq!(t.origin(Service::Notifications), "https://chat.example");
    }

    #[test]
    fn a_base_url_must_be_plain_http() {
        for url in ["ftp://h/", "https://h/"] {
            let cli = Cli::try_parse_from(["t", "--url", url]).expect("parses");
            assert!(Target::new(&cli.target).is_err(), "{url}");
        }
    }
}
