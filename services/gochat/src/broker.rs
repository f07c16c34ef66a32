//! The operator's commands for the event bus: `gochat dead-letters` lists and requeues dead
//! letters (over RabbitMQ or in the databases of a data directory), and `gochat rabbitmq-setup`
//! writes the broker's accounts and topology (one least-privilege account per service).

use anyhow::{Context, bail};
use gochat_kit::bus::accounts::{ACCOUNTS, OPERATOR, all_permissions, definitions, password_hash};
use gochat_kit::bus::dead_letters;
use gochat_kit::bus::{Tls, list_dead_letters, requeue_dead_letters};
use gochat_kit::config::Secret;
use gochat_proto::topology::SHARED_QUEUES;
use rand::Rng;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct DeadLettersArgs {
    #[command(subcommand)]
    action: DeadLettersAction,
}

#[derive(clap::Subcommand)]
enum DeadLettersAction {
    /// Show the dead letters (they stay where they are).
    List(DeadLetterTarget),
    /// Publish the dead letters again, each to its event's exchange with its routing key, so
    /// that every consumer gets it again (those that applied it already skip it by its id).
    Requeue(DeadLetterTarget),
}

#[derive(clap::Args)]
struct DeadLetterTarget {
    /// Only the dead letters of this queue: users.events, messages.events or notifications.events.
    #[arg(long)]
    queue: Option<String>,
    /// RabbitMQ URL of an account that may read the dead-letter queues (gochat-operator, see
    /// `gochat rabbitmq-setup`). Unset: the dead letters of `gochat serve`, in the data directory.
    #[arg(long, env = "GOCHAT_AMQP_URL", hide_env_values = true)]
    amqp_url: Option<Secret>,
    /// PEM file of the certificate authority of an amqps:// broker.
    #[arg(long, env = "GOCHAT_AMQP_CA_FILE")]
    amqp_ca_file: Option<PathBuf>,
    /// Directory of the SQLite files, without --amqp-url. [default: ./data]
    #[arg(long, env = "GOCHAT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Most dead letters shown per queue (RabbitMQ).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    /// One JSON object per dead letter instead of text.
    #[arg(long)]
    json: bool,
}

impl DeadLetterTarget {
    fn queues(&self) -> anyhow::Result<Vec<&'static str>> {
        let all: Vec<&'static str> = SHARED_QUEUES.iter().map(|q| q.name).collect();
        match &self.queue {
            None => Ok(all),
            Some(q) => match all.iter().find(|name| *name == q) {
                Some(name) => Ok(vec![*name]),
                None => bail!("no queue {q}: dead letters are kept for {}", all.join(", ")),
            },
        }
    }

    fn tls(&self) -> anyhow::Result<Tls> {
        let ca_pem = match &self.amqp_ca_file {
            Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
            None => None,
        };
        Ok(Tls { ca_pem })
    }
}

pub async fn dead_letters(args: DeadLettersArgs) -> anyhow::Result<()> {
    match args.action {
        DeadLettersAction::List(target) => list(&target).await,
        DeadLettersAction::Requeue(target) => requeue(&target).await,
    }
}

async fn list(target: &DeadLetterTarget) -> anyhow::Result<()> {
    let queues = target.queues()?;
    let mut out = std::io::stdout().lock();
    if let Some(url) = &target.amqp_url {
        for (queue, total, letters) in list_dead_letters(url.expose(), &target.tls()?, &queues, target.limit).await? {
            if target.json {
                for letter in &letters {
                    writeln!(out, "{}", serde_json::to_string(letter)?)?;
                }
                continue;
            }
            writeln!(out, "{queue}: {total} dead letters{}", shown(letters.len(), total))?;
            for l in letters {
                let at = l.dead_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "?".into());
                let (kind, id) = (
                    l.kind.unwrap_or_else(|| "?".into()),
                    l.event_id.unwrap_or_else(|| "?".into()),
                );
                let reason = l.reason.unwrap_or_default();
                writeln!(out, "  {at}  {kind}  {id}  {reason}")?;
            }
        }
        return Ok(());
    }
    for (database, conn) in databases(target)? {
        for queue in &queues {
            let letters = dead_letters::list(&conn, Some(queue))?;
            if letters.is_empty() {
                continue;
            }
            if target.json {
                for letter in &letters {
                    writeln!(out, "{}", serde_json::to_string(letter)?)?;
                }
                continue;
            }
            writeln!(out, "{queue} (in {database}): {} dead letters", letters.len())?;
            for l in letters {
                let pending = if l.requeue_pending { "  [requeue pending]" } else { "" };
                writeln!(
                    out,
                    "  #{}  {}  {}  {}  {}{pending}",
                    l.id,
                    l.dead_at.to_rfc3339(),
                    l.kind,
                    l.event_id,
                    l.reason
                )?;
            }
        }
    }
    Ok(())
}

fn shown(listed: usize, total: u32) -> String {
    if (listed as u64) < u64::from(total) {
        format!(" (the first {listed} shown)")
    } else {
        String::new()
    }
}

async fn requeue(target: &DeadLetterTarget) -> anyhow::Result<()> {
    let queues = target.queues()?;
    if let Some(url) = &target.amqp_url {
        for (queue, requeued, kept) in requeue_dead_letters(url.expose(), &target.tls()?, &queues).await? {
            let kept = if kept > 0 {
                format!("; {kept} kept (not events this version can route)")
            } else {
                String::new()
            };
            println!("{queue}: {requeued} requeued{kept}");
        }
        return Ok(());
    }
    let mut marked = 0;
    for (database, conn) in databases(target)? {
        let mut here = 0;
        for queue in &queues {
            let n = dead_letters::mark_for_requeue(&conn, Some(queue))?;
            if n > 0 {
                println!("{queue} (in {database}): {n} marked for requeue");
                here += n;
            }
        }
        if here > 0 {
            let flag = dead_letters::requeue_flag(&data_dir(target).join(&database));
            std::fs::write(&flag, b"").with_context(|| format!("writing {}", flag.display()))?;
            marked += here;
        }
    }
    if marked > 0 {
        println!("the running server publishes them again within seconds (or when it next starts)");
    } else {
        println!("no dead letters");
    }
    Ok(())
}

fn data_dir(target: &DeadLetterTarget) -> PathBuf {
    target.data_dir.clone().unwrap_or_else(|| PathBuf::from("data"))
}

/// Every service database of the data directory, opened for reading and marking.
fn databases(target: &DeadLetterTarget) -> anyhow::Result<Vec<(String, rusqlite::Connection)>> {
    let dir = data_dir(target);
    let mut found = Vec::new();
    let entries = std::fs::read_dir(&dir).with_context(|| format!("reading the data directory {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "db") {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)
                .with_context(|| format!("opening {}", path.display()))?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            found.push((name, conn));
        }
    }
    if found.is_empty() {
        bail!(
            "no databases in {} (give --data-dir, or --amqp-url for RabbitMQ)",
            dir.display()
        );
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

#[derive(clap::Args)]
pub struct RabbitmqSetupArgs {
    /// Directory to write into (created, owner-only): definitions.json for the broker, and
    /// <service>.env with each service's GOCHAT_AMQP_URL (operator.env for `gochat
    /// dead-letters`). Passwords already in it are kept.
    out: PathBuf,
    /// Address the services reach the broker at (host:port).
    #[arg(long, default_value = "127.0.0.1:5672")]
    broker: String,
    /// The broker's virtual host.
    #[arg(long, default_value = "/")]
    vhost: String,
    /// The services connect with TLS (amqps://).
    #[arg(long)]
    tls: bool,
    /// Then import the definitions into the broker: `rabbitmqctl import_definitions`.
    #[arg(long)]
    apply: bool,
    /// The rabbitmqctl --apply runs (as a user that may administer the broker).
    #[arg(long, default_value = "rabbitmqctl")]
    rabbitmqctl: PathBuf,
}

pub fn rabbitmq_setup(args: RabbitmqSetupArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::set_permissions(&args.out, std::fs::Permissions::from_mode(0o700))?;
    let scheme = if args.tls { "amqps" } else { "amqp" };
    let vhost = args.vhost.replace('%', "%25").replace('/', "%2f");
    let mut passwords = std::collections::BTreeMap::new();
    for p in all_permissions() {
        let file = args.out.join(env_file(&p.user));
        let password = match existing_password(&file)? {
            Some(password) => password,
            None => new_password(),
        };
        let url = format!("{scheme}://{}:{password}@{}/{vhost}", p.user, args.broker);
        write_private(&file, &format!("GOCHAT_AMQP_URL={url}\n"))?;
        passwords.insert(p.user.clone(), password);
    }
    let defs = definitions(&args.vhost, |user| {
        password_hash(&passwords[user], rand::rng().random())
    });
    let defs_file = args.out.join("definitions.json");
    write_private(&defs_file, &(serde_json::to_string_pretty(&defs)? + "\n"))?;
    println!("wrote {} and an environment file per account:", defs_file.display());
    for account in ACCOUNTS {
        println!(
            "  {}  GOCHAT_AMQP_URL of the {} service",
            env_file(&account.user()),
            account.service
        );
    }
    println!("  {}  for `gochat dead-letters`", env_file(OPERATOR));
    if args.apply {
        let status = std::process::Command::new(&args.rabbitmqctl)
            .arg("import_definitions")
            .arg(&defs_file)
            .status()
            .with_context(|| format!("running {}", args.rabbitmqctl.display()))?;
        anyhow::ensure!(status.success(), "rabbitmqctl import_definitions failed ({status})");
        println!("imported into the broker");
    } else {
        println!("import them: rabbitmqctl import_definitions {}", defs_file.display());
    }
    Ok(())
}

/// `gochat-chat` → `chat.env`, the operator → `operator.env`.
fn env_file(user: &str) -> String {
    format!("{}.env", user.trim_start_matches("gochat-"))
}

/// The password of an environment file written before, so a second run keeps it.
fn existing_password(file: &Path) -> anyhow::Result<Option<String>> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let password = text
        .lines()
        .find_map(|l| l.strip_prefix("GOCHAT_AMQP_URL="))
        .and_then(|url| url.split_once("://"))
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password.to_owned());
    Ok(password.filter(|p| !p.is_empty()))
}

/// 32 random letters and digits: about 190 bits, nothing to escape in a URL.
fn new_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_keeps_the_passwords_of_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chat.env");
        write_private(&file, "GOCHAT_AMQP_URL=amqp://gochat-chat:s3cret@broker:5672/%2f\n").unwrap();
        assert_eq!(existing_password(&file).unwrap().as_deref(), Some("s3cret"));
        assert_eq!(existing_password(&dir.path().join("none.env")).unwrap(), None);
        let fresh = new_password();
        assert_eq!(fresh.len(), 32);
        assert!(fresh.chars().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn an_unknown_queue_is_refused_with_the_names_there_are() {
        let target = DeadLetterTarget {
            queue: Some("nope".into()),
            amqp_url: None,
            amqp_ca_file: None,
            data_dir: None,
            limit: 10,
            json: false,
        };
        let error = target.queues().unwrap_err().to_string();
        assert!(
            error.contains("users.events, messages.events, notifications.events"),
            "{error}"
        );
    }
}
