//! The deployment the chaos suite runs and breaks: GoChat's services as separate `gochat
//! <service>` processes (two chat instances, the notifications store and two of its socket
//! gateways), each with its own
//! least-privilege broker account (`gochat rabbitmq-setup`) in a virtual host of its own on the
//! given RabbitMQ node, behind the repository's nginx configuration.

use anyhow::{Context, bail};
use reqwest::Url;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a process may take to answer /readyz 200 (debug builds on a busy machine).
const READY_WITHIN: Duration = Duration::from_secs(90);

/// The processes: (instance name, service, the nginx upstream it serves in). Instance names are
/// also their instance ids. Notifications run as one store (the single writer of its database)
/// and two socket gateways, as `config/nginx.conf` and the Nomad jobs lay them out.
pub const INSTANCES: &[(&str, &str, &str)] = &[
    ("auth", "auth", "gochat_auth"),
    ("users", "users", "gochat_users"),
    ("messages", "messages", "gochat_messages"),
    ("chat-a", "chat", "gochat_chat"),
    ("chat-b", "chat", "gochat_chat"),
    ("notifications", "notifications", "gochat_notifications"),
    ("gateway-a", "notifications", "gochat_notifications_gateway"),
    ("gateway-b", "notifications", "gochat_notifications_gateway"),
];

/// Where the pieces are.
pub struct Parts {
    pub gochat: PathBuf,
    pub nginx: PathBuf,
    pub nginx_conf: PathBuf,
    /// The broker node (the URL's host and port are what the services use).
    pub amqp_url: Url,
    pub rabbitmqctl: PathBuf,
    pub rabbitmq_node: String,
    /// Where data, logs and configuration go.
    pub dir: PathBuf,
}

/// One running (or killed) process of a service.
struct Instance {
    service: &'static str,
    upstream: &'static str,
    port: u16,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

pub struct Deployment {
    parts: Parts,
    vhost: String,
    instances: BTreeMap<&'static str, Instance>,
    nginx: Option<Child>,
    /// The site's base URL (nginx).
    pub base: Url,
    http: reqwest::Client,
}

impl Deployment {
    /// Creates the broker accounts, starts every service and nginx, and waits until all are ready.
    pub async fn start(parts: Parts) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&parts.dir)?;
        let vhost = format!("chaos-{}", uuid::Uuid::new_v4().simple());
        let broker = format!(
            "{}:{}",
            parts.amqp_url.host_str().context("the AMQP URL has a host")?,
            parts.amqp_url.port().unwrap_or(5672)
        );
        let accounts = parts.dir.join("broker");
        run(Command::new(&parts.gochat)
            .args(["rabbitmq-setup"])
            .arg(&accounts)
            .args(["--broker", &broker, "--vhost", &vhost, "--apply", "--rabbitmqctl"])
            .arg(&parts.rabbitmqctl)
            .env("RABBITMQ_NODENAME", &parts.rabbitmq_node))?;
        let jwt_key = uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
        let mut instances = BTreeMap::new();
        for (name, service, upstream) in INSTANCES {
            let amqp_url = std::fs::read_to_string(accounts.join(format!("{service}.env")))?
                .trim()
                .strip_prefix("GOCHAT_AMQP_URL=")
                .context("an environment file of rabbitmq-setup")?
                .to_owned();
            let port = free_port()?;
            let mut env = vec![
                ("GOCHAT_LISTEN".to_owned(), format!("127.0.0.1:{port}")),
                ("GOCHAT_DATA_DIR".to_owned(), path(&parts.dir.join(name))),
                ("GOCHAT_AMQP_URL".to_owned(), amqp_url),
                ("GOCHAT_JWT_KEY".to_owned(), jwt_key.clone()),
                ("GOCHAT_INSTANCE_ID".to_owned(), (*name).to_owned()),
                ("GOCHAT_TRUST_PROXY".to_owned(), "true".to_owned()),
                ("GOCHAT_LOG".to_owned(), "warn".to_owned()),
            ];
            if *service == "notifications" {
                let role = if *upstream == "gochat_notifications" {
                    "store"
                } else {
                    "gateway"
                };
                env.push(("GOCHAT_NOTIFICATIONS_ROLE".to_owned(), role.to_owned()));
            }
            if *service == "auth" {
                // The chaos is elsewhere: sign-ups of every run come from one address, and a
                // cheap hash keeps them quick.
                env.push(("GOCHAT_SIGNUP_PER_MINUTE".to_owned(), "100000".to_owned()));
                env.push(("GOCHAT_ARGON2_MEMORY_KIB".to_owned(), "1024".to_owned()));
                env.push(("GOCHAT_ARGON2_ITERATIONS".to_owned(), "1".to_owned()));
            }
            let log = parts.dir.join(format!("{name}.log"));
            instances.insert(
                *name,
                Instance {
                    service,
                    upstream,
                    port,
                    env,
                    log,
                    child: None,
                },
            );
        }
        let nginx_port = free_port()?;
        let base = Url::parse(&format!("http://127.0.0.1:{nginx_port}/"))?;
        let mut deployment = Self {
            parts,
            vhost,
            instances,
            nginx: None,
            base,
            http: reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?,
        };
        let names: Vec<&'static str> = deployment.instances.keys().copied().collect();
        for name in &names {
            deployment.spawn(name)?;
        }
        for name in &names {
            deployment.wait_ready(name).await?;
        }
        deployment.start_nginx(nginx_port).await?;
        Ok(deployment)
    }

    fn spawn(&mut self, name: &str) -> anyhow::Result<()> {
        let gochat = self.parts.gochat.clone();
        let instance = self.instances.get_mut(name).context("no such instance")?;
        let log = File::options().create(true).append(true).open(&instance.log)?;
        let child = Command::new(gochat)
            .arg(instance.service)
            .envs(instance.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        instance.child = Some(child);
        Ok(())
    }

    /// Waits until `name` answers /readyz with 200 (its database open, its bus connected).
    pub async fn wait_ready(&mut self, name: &str) -> anyhow::Result<()> {
        let instance = self.instances.get_mut(name).context("no such instance")?;
        let url = format!("http://127.0.0.1:{}/readyz", instance.port);
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(child) = &mut instance.child
                && let Some(status) = child.try_wait()?
            {
                bail!("{name} exited ({status}); its log:\n{}", tail(&instance.log));
            }
            let ready = self.http.get(&url).send().await.is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{name} not ready within {READY_WITHIN:?}; its log:\n{}",
                    tail(&instance.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until every instance is ready.
    pub async fn wait_all_ready(&mut self) -> anyhow::Result<()> {
        let names: Vec<&'static str> = self.instances.keys().copied().collect();
        for name in names {
            self.wait_ready(name).await?;
        }
        Ok(())
    }

    /// SIGKILL: no drain, no goodbye.
    pub fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let instance = self.instances.get_mut(name).context("no such instance")?;
        if let Some(mut child) = instance.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts a killed instance again on its port and data directory, and waits until it is ready.
    pub async fn restart(&mut self, name: &str) -> anyhow::Result<()> {
        self.spawn(name)?;
        self.wait_ready(name).await
    }

    /// Stops the broker's application (connections drop, the node stays).
    pub fn stop_broker(&self) -> anyhow::Result<()> {
        self.rabbitmqctl(&["stop_app"])
    }

    pub fn start_broker(&self) -> anyhow::Result<()> {
        self.rabbitmqctl(&["start_app"])
    }

    fn rabbitmqctl(&self, args: &[&str]) -> anyhow::Result<()> {
        run(Command::new(&self.parts.rabbitmqctl)
            .args(["-n", &self.parts.rabbitmq_node])
            .args(args))
    }

    /// nginx with the repository's configuration: only the addresses, the upstream servers and
    /// the TLS lines changed (the suite speaks plain HTTP to it).
    async fn start_nginx(&mut self, port: u16) -> anyhow::Result<()> {
        let template = std::fs::read_to_string(&self.parts.nginx_conf)
            .with_context(|| format!("reading {}", self.parts.nginx_conf.display()))?;
        let mut upstreams: BTreeMap<&str, Vec<u16>> = BTreeMap::new();
        for instance in self.instances.values() {
            upstreams.entry(instance.upstream).or_default().push(instance.port);
        }
        let site = self.parts.dir.join("site");
        std::fs::create_dir_all(&site)?;
        let conf = nginx_conf(&template, &upstreams, port, free_port()?, &site)?;
        let conf_file = self.parts.dir.join("nginx.conf");
        std::fs::write(&conf_file, conf)?;
        let log = File::create(self.parts.dir.join("nginx.log"))?;
        let pid = self.parts.dir.join("nginx.pid");
        let child = Command::new(&self.parts.nginx)
            .arg("-p")
            .arg(&self.parts.dir)
            .arg("-c")
            .arg(&conf_file)
            .arg("-e")
            .arg(self.parts.dir.join("nginx-error.log"))
            .arg("-g")
            // One process, no workers: a SIGKILL at the end (or of a run that was interrupted)
            // leaves nothing behind.
            .arg(format!("daemon off; master_process off; pid {};", path(&pid)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting nginx")?;
        self.nginx = Some(child);
        let url = self.base.join("/api/auth/currentuser")?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(child) = &mut self.nginx
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "nginx exited ({status}): {}",
                    tail(&self.parts.dir.join("nginx-error.log")) + &tail(&self.parts.dir.join("nginx.log"))
                );
            }
            if self
                .http
                .get(url.clone())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("nginx not answering on {url}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Where logs and data are.
    pub fn dir(&self) -> &Path {
        &self.parts.dir
    }

    /// The last lines of every instance's log (for a failed run).
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (name, instance) in &self.instances {
            out.push_str(&format!("--- {name} ---\n{}\n", tail(&instance.log)));
        }
        out
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            let _ = nginx.kill();
            let _ = nginx.wait();
        }
        for instance in self.instances.values_mut() {
            if let Some(mut child) = instance.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = Command::new(&self.parts.rabbitmqctl)
            .args(["-n", &self.parts.rabbitmq_node, "delete_vhost", &self.vhost])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// config/nginx.conf for this run: the servers of each `upstream NAME` block replaced by the
/// ports in `upstreams[NAME]`, the HTTPS server listening in plain HTTP on `port`, the HTTP one
/// on `spare`, no IPv6, no TLS lines. Fails when the file no longer has what is replaced (every
/// upstream of `upstreams` once, each with servers), so a change there is noticed.
pub fn nginx_conf(
    template: &str,
    upstreams: &BTreeMap<&str, Vec<u16>>,
    port: u16,
    spare: u16,
    site: &Path,
) -> anyhow::Result<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    // The upstream block the line is in, and whether its servers were written yet.
    let mut block: Option<(&str, bool)> = None;
    let mut out = String::new();
    for line in template.lines() {
        let trimmed = line.trim();
        let indent = &line[..line.len() - line.trim_start().len()];
        let replaced = if let Some(name) = trimmed.strip_prefix("upstream ").and_then(|r| r.strip_suffix(" {")) {
            let (name, _) = upstreams.get_key_value(name).context("an upstream without instances")?;
            *seen.entry(name).or_insert(0) += 1;
            block = Some((name, false));
            line.to_owned()
        } else if let Some((name, written)) = block.as_mut().filter(|_| trimmed.starts_with("server ")) {
            if *written {
                continue;
            }
            *written = true;
            upstreams[*name]
                .iter()
                .map(|p| format!("{indent}server 127.0.0.1:{p};"))
                .collect::<Vec<_>>()
                .join("\n")
        } else if trimmed == "}" && block.take().is_some_and(|(_, written)| !written) {
            bail!("config/nginx.conf changed: an upstream block without servers");
        } else if trimmed.starts_with("listen [::]") || trimmed.starts_with("ssl_") {
            continue;
        } else if trimmed.starts_with("listen 443") {
            *seen.entry("listen 443").or_insert(0) += 1;
            format!("{indent}listen 127.0.0.1:{port};")
        } else if trimmed.starts_with("listen 80") {
            *seen.entry("listen 80").or_insert(0) += 1;
            format!("{indent}listen 127.0.0.1:{spare};")
        } else if trimmed.starts_with("worker_processes") {
            format!("{indent}worker_processes 1;")
        } else if trimmed.starts_with("root /usr/share/gochat") {
            format!("{indent}root {};", path(site))
        } else {
            line.to_owned()
        };
        out.push_str(&replaced);
        out.push('\n');
    }
    for expected in upstreams.keys().copied().chain(["listen 443", "listen 80"]) {
        if seen.get(expected) != Some(&1) {
            bail!("config/nginx.conf changed: `{expected}` is not where the chaos suite expects it (once)");
        }
    }
    Ok(out)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let out = command.output().with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The last 150 lines of a log file: enough to reach back past the broker going away at the
/// end (every service then logs its reconnection attempts), to the phases that failed.
fn tail(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(150)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_nginx_conf_becomes_two_chat_instances_and_two_gateways_in_plain_http() {
        let template = include_str!("../../../../config/nginx.conf");
        let mut upstreams = BTreeMap::new();
        for (service, ports) in [
            ("gochat_auth", vec![1]),
            ("gochat_users", vec![2]),
            ("gochat_messages", vec![3]),
            ("gochat_chat", vec![4, 5]),
            ("gochat_notifications", vec![6]),
            ("gochat_notifications_gateway", vec![7, 8]),
        ] {
            upstreams.insert(service, ports);
        }
        let conf = nginx_conf(template, &upstreams, 9000, 9001, Path::new("/tmp/site")).unwrap();
        assert!(
            conf.contains("server 127.0.0.1:4;\n        server 127.0.0.1:5;"),
            "{conf}"
        );
        assert!(
            conf.contains("server 127.0.0.1:7;\n        server 127.0.0.1:8;"),
            "{conf}"
        );
        assert!(conf.contains("listen 127.0.0.1:9000;"));
        assert!(!conf.contains("ssl_certificate") && !conf.contains("[::]"));
        assert!(nginx_conf("events {}", &upstreams, 1, 2, Path::new("/")).is_err());
    }
}
