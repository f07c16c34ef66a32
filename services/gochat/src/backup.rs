//! `gochat backup <dir>` and `gochat restore <dir>`: a consistent copy of every service database
//! in a data directory, taken while the services keep serving, and putting it back.
//!
//! Layout
//! - [`backup`]: copies each `<data dir>/<service>.db` (but the search index, which the messages
//!   service builds again from the messages) with SQLite's online backup API (one step,
//!   so one read transaction: in WAL mode writers are never blocked and the copy is the state of
//!   one instant per database), plus the keys that live there (the session key `jwt.key`,
//!   the Web Push key `vapid.key`: without it every browser would have to subscribe again) and
//!   the messages service's attachments (`attachments/ab/<sha256>`), then writes
//!   `manifest.json` last: a directory without a manifest is not a backup.
//! - [`restore`]: checks every file against the manifest before touching anything, then copies
//!   the files into a data directory that must be empty (it never merges into, or overwrites,
//!   live data).
//!
//! Each database is consistent on its own; databases are copied one after the other, so they are
//! not one snapshot together. That is the same guarantee the services themselves work with: they
//! share only events, and the outbox/inbox make every consumer catch up on what it missed.
//! Attachments are copied after the databases: a file never changes under its name, so a copy
//! is whole; one uploaded meanwhile is simply extra, and only a file whose message was deleted
//! meanwhile can be missing (its row then names a file that is gone: it answers 404).

use anyhow::{Context, bail, ensure};
use gochat_kit::private;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Name of the manifest in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The session key `gochat serve` keeps in its data directory.
const JWT_KEY: &str = "jwt.key";
/// The attachments directory: in the data directory by default, and always so in a backup.
pub const ATTACHMENTS: &str = "attachments";
/// Uploads in progress inside the attachments directory: never backed up.
const ATTACHMENTS_TMP: &str = "tmp";
/// Key files copied along with the databases when they are in the data directory.
const KEY_FILES: [&str; 2] = [JWT_KEY, gochat_notifications::VAPID_KEY_FILE];
/// Databases that are derived from another and built again from it when missing: not backed
/// up. A copy could not be consistent with its source anyway (each file is its own snapshot).
const DERIVED: [&str; 1] = [gochat_messages::SEARCH_DB];
/// Version of the manifest's shape.
const FORMAT: u32 = 1;
/// Longest a database may stay locked (another connection holding a write lock on a rollback
/// journal database, a checkpoint in progress) before the backup gives up.
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// What a backup directory holds.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Shape of this file, for restores by later versions.
    pub format: u32,
    /// Version of the `gochat` binary that took the backup.
    pub gochat_version: String,
    /// When the backup finished (RFC 3339 UTC).
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Where the data came from, for the operator's information.
    pub data_dir: PathBuf,
    /// One SQLite file per service.
    pub databases: Vec<Entry>,
    /// Other files of the data directory (the keys).
    pub files: Vec<Entry>,
    /// The attachments' files, as `attachments/ab/<sha256>` (and `….thumb`).
    #[serde(default)]
    pub attachments: Vec<Entry>,
}

/// One copied file.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// The service the database belongs to (the file's stem); the file name for other files.
    pub name: String,
    /// File name inside the backup (and the data directory).
    pub file: String,
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file: restore refuses a file that does not match.
    pub sha256: String,
}

/// Copies every database of `data_dir` and the attachments in `attachments_dir` (by default
/// `<data dir>/attachments`) into `out`, which must not exist yet or be empty.
pub fn backup(data_dir: &Path, attachments_dir: Option<&Path>, out: &Path) -> anyhow::Result<Manifest> {
    let sources = databases_in(data_dir)?;
    ensure!(
        !sources.is_empty(),
        "no SQLite databases (*.db) in {}: is GOCHAT_DATA_DIR right?",
        data_dir.display()
    );
    ensure_empty_dir(out, "backup directory")?;

    let mut databases = Vec::new();
    for (name, source) in &sources {
        let file = format!("{name}.db");
        copy_database(source, &out.join(&file)).with_context(|| format!("backing up {}", source.display()))?;
        databases.push(entry(name, out, &file)?);
    }
    let mut files = Vec::new();
    for key in KEY_FILES {
        if data_dir.join(key).is_file() {
            copy_private(&data_dir.join(key), &out.join(key))?;
            files.push(entry(key, out, key)?);
        }
    }
    let attachments_dir = attachments_dir.map_or_else(|| data_dir.join(ATTACHMENTS), Path::to_owned);
    let mut attachments = Vec::new();
    for (relative, source) in attachment_files(&attachments_dir)? {
        let file = format!("{ATTACHMENTS}/{relative}");
        let target = out.join(&file);
        if let Some(dir) = target.parent() {
            private::create_dir(dir)?;
        }
        copy_private(&source, &target).with_context(|| format!("backing up {}", source.display()))?;
        attachments.push(entry(&relative, out, &file)?);
    }

    let manifest = Manifest {
        format: FORMAT,
        gochat_version: env!("CARGO_PKG_VERSION").to_owned(),
        created_at: chrono::Utc::now(),
        data_dir: fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.to_owned()),
        databases,
        files,
        attachments,
    };
    write_atomically(&out.join(MANIFEST), &serde_json::to_vec_pretty(&manifest)?)?;
    sync_dir(out)?;
    Ok(manifest)
}

/// Puts the backup in `from` into `data_dir`, which must not exist yet or be empty, and its
/// attachments into `attachments_dir` (by default `<data dir>/attachments`), which must not
/// hold any either.
pub fn restore(from: &Path, data_dir: &Path, attachments_dir: Option<&Path>) -> anyhow::Result<Manifest> {
    let raw = fs::read(from.join(MANIFEST))
        .with_context(|| format!("{} has no readable {MANIFEST}: not a gochat backup", from.display()))?;
    let manifest: Manifest = serde_json::from_slice(&raw).context("reading the manifest")?;
    ensure!(
        manifest.format == FORMAT,
        "backup format {} is not supported by this gochat (it reads format {FORMAT})",
        manifest.format
    );
    // Every file must be intact before anything is written.
    for e in manifest.databases.iter().chain(&manifest.files) {
        ensure!(
            !e.file.contains(['/', '\\']) && !e.file.starts_with('.'),
            "the manifest names an unexpected file {:?}",
            e.file
        );
        verify(from, e)?;
    }
    for e in &manifest.attachments {
        ensure!(
            attachment_name(&e.file).is_some(),
            "the manifest names an unexpected attachment {:?}",
            e.file
        );
        verify(from, e)?;
        // A file is named by its bytes: a name that does not match them was changed.
        if let Some(named) = attachment_name(&e.file).filter(|n| !n.ends_with(THUMBNAIL)) {
            ensure!(named == e.sha256, "{} is not the file its name says", e.file);
        }
    }
    ensure_empty_dir(data_dir, "data directory")?;
    let attachments_dir = attachments_dir.map_or_else(|| data_dir.join(ATTACHMENTS), Path::to_owned);
    if !manifest.attachments.is_empty() {
        ensure_empty_dir(&attachments_dir, "attachments directory")?;
    }

    for e in &manifest.databases {
        let target = data_dir.join(&e.file);
        let partial = partial_path(&target);
        fs::copy(from.join(&e.file), &partial)?;
        // `copy` gives the copy the source's mode; a database is the owner's alone.
        private::file(&partial)?;
        let conn = Connection::open(&partial)?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        ensure!(check == "ok", "{} fails SQLite's quick_check: {check}", e.file);
        drop(conn);
        File::open(&partial)?.sync_all()?;
        fs::rename(&partial, &target)?;
    }
    for e in &manifest.files {
        copy_private(&from.join(&e.file), &data_dir.join(&e.file))?;
    }
    for e in &manifest.attachments {
        let relative = e.file.strip_prefix(&format!("{ATTACHMENTS}/")).unwrap_or(&e.file);
        let target = attachments_dir.join(relative);
        if let Some(dir) = target.parent() {
            private::create_dir(dir)?;
        }
        copy_private(&from.join(&e.file), &target)?;
    }
    sync_dir(data_dir)?;
    Ok(manifest)
}

/// Suffix of a thumbnail's file.
const THUMBNAIL: &str = ".thumb";

/// `<sha256>` or `<sha256>.thumb` when `file` is `attachments/<its first two characters>/` that
/// (lower-case hex): the only shape of file an attachments directory holds.
fn attachment_name(file: &str) -> Option<&str> {
    let rest = file.strip_prefix(ATTACHMENTS)?.strip_prefix('/')?;
    let (dir, name) = rest.split_once('/')?;
    let hash = name.strip_suffix(THUMBNAIL).unwrap_or(name);
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hash.len() == 64 && hex(hash) && hash.starts_with(dir) && dir.len() == 2).then_some(name)
}

/// Checks a backed-up file against its manifest entry.
fn verify(from: &Path, e: &Entry) -> anyhow::Result<()> {
    let (bytes, sha256) = digest(&from.join(&e.file))?;
    ensure!(
        bytes == e.bytes && sha256 == e.sha256,
        "{} does not match the manifest (damaged or changed since the backup)",
        e.file
    );
    Ok(())
}

/// `(ab/<name>, path)` of every file of an attachments directory (none when it is missing),
/// sorted, without uploads in progress.
fn attachment_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let top = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("reading the attachments directory {}", dir.display())),
    };
    for sub in top {
        let sub = sub?;
        let name = sub.file_name().to_string_lossy().into_owned();
        if name == ATTACHMENTS_TMP || !sub.file_type()?.is_dir() {
            continue;
        }
        for file in fs::read_dir(sub.path())? {
            let file = file?;
            if file.file_type()?.is_file() {
                let relative = format!("{name}/{}", file.file_name().to_string_lossy());
                if attachment_name(&format!("{ATTACHMENTS}/{relative}")).is_some() {
                    found.push((relative, file.path()));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `(service, path)` of every `*.db` file directly in `dir`, sorted by service.
fn databases_in(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let entries = fs::read_dir(dir).with_context(|| format!("reading the data directory {}", dir.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "db")
            && path.is_file()
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && !DERIVED.contains(&stem)
        {
            found.push((stem.to_owned(), path.clone()));
        }
    }
    found.sort();
    Ok(found)
}

/// Refuses a directory with anything in it (but `lost+found`, the only entry of a fresh
/// filesystem), and creates it when missing; either way it ends up owner-only (0700).
fn ensure_empty_dir(dir: &Path, what: &str) -> anyhow::Result<()> {
    match fs::read_dir(dir) {
        Ok(entries) => {
            for entry in entries {
                let name = entry?.file_name();
                if name != "lost+found" {
                    bail!(
                        "the {what} {} is not empty (it has {}): refusing to overwrite it",
                        dir.display(),
                        name.to_string_lossy()
                    );
                }
            }
            private::dir(dir).with_context(|| format!("making the {what} {} owner-only", dir.display()))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            private::dir(dir).with_context(|| format!("creating the {what} {}", dir.display()))
        }
        Err(e) => Err(e).with_context(|| format!("reading the {what} {}", dir.display())),
    }
}

/// Copies one database with the online backup API into a standalone file (rollback journal,
/// no `-wal` beside it) at `target`.
fn copy_database(source: &Path, target: &Path) -> anyhow::Result<()> {
    copy_database_from_snapshot(source, target, || {})
}

/// [`copy_database`], calling `snapshot_taken` once the copy's read transaction is open (tests
/// write to the live database there, to prove what the copy holds).
fn copy_database_from_snapshot(source: &Path, target: &Path, snapshot_taken: impl FnOnce()) -> anyhow::Result<()> {
    // Read-only: the backup never writes the live database (SQLite may still create its `-shm`).
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.busy_timeout(Duration::from_secs(5))?;
    // The copy reads inside this one transaction: it is the state at this instant, whatever is
    // committed while it runs (the backup step uses an open read transaction as it finds it).
    src.execute_batch("BEGIN")?;
    src.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
    snapshot_taken();
    let partial = partial_path(target);
    let _ = fs::remove_file(&partial);
    // Created owner-only before SQLite opens it, which then keeps that mode.
    private::file(&partial)?;
    let mut dst = Connection::open(&partial)?;
    {
        let backup = Backup::new(&src, &mut dst)?;
        let deadline = Instant::now() + LOCK_TIMEOUT;
        // All pages in one step: one read transaction, so the copy is one consistent state even
        // while the service writes (a multi-step copy would restart on every write).
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                StepResult::Busy | StepResult::Locked if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                StepResult::Busy | StepResult::Locked => bail!("the database stayed locked for {LOCK_TIMEOUT:?}"),
                // `More` cannot follow a step of all pages; take another step if it ever does.
                _ => {}
            }
        }
    }
    // The copy carries the source's WAL flag; make it a single self-contained file.
    let mode: String = dst.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    ensure!(
        mode == "delete",
        "could not switch the copy to a rollback journal ({mode})"
    );
    let check: String = dst.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    ensure!(check == "ok", "the copy fails SQLite's quick_check: {check}");
    dst.close().map_err(|(_, e)| e)?;
    File::open(&partial)?.sync_all()?;
    fs::rename(&partial, target)?;
    Ok(())
}

fn entry(name: &str, dir: &Path, file: &str) -> anyhow::Result<Entry> {
    let (bytes, sha256) = digest(&dir.join(file))?;
    Ok(Entry {
        name: name.to_owned(),
        file: file.to_owned(),
        bytes,
        sha256,
    })
}

/// Size and lower-case hex SHA-256 of a file.
fn digest(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let bytes = io::copy(&mut file, &mut hasher)?;
    let hex = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok((bytes, hex))
}

/// Copies a file into a private one, streamed (attachments are up to tens of MiB).
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    let partial = partial_path(to);
    private::file(&partial)?;
    let mut out = fs::OpenOptions::new().write(true).truncate(true).open(&partial)?;
    io::copy(&mut File::open(from)?, &mut out)?;
    out.sync_all()?;
    fs::rename(&partial, to)?;
    Ok(())
}

/// Writes a file readable by its owner only (everything in a backup is private: the manifest
/// names the data directory and the files hold every account and message).
fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let partial = partial_path(path);
    private::file(&partial)?;
    let mut file = fs::OpenOptions::new().write(true).truncate(true).open(&partial)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&partial, path)?;
    Ok(())
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    path.with_file_name(name)
}

/// Makes the renames in `dir` durable.
fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_db(dir: &Path, name: &str) -> Connection {
        let conn = Connection::open(dir.join(format!("{name}.db"))).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE messages (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);")
            .unwrap();
        conn
    }

    fn count(path: &Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn backup_then_restore_gives_back_every_row_and_the_key() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        let conn = live_db(&data, "messages");
        // Derived from the messages: left out, built again after a restore.
        let _index = live_db(&data, gochat_messages::SEARCH_DB);
        for i in 0..100 {
            conn.execute("INSERT INTO messages (body) VALUES (?1)", [format!("m{i}")])
                .unwrap();
        }
        fs::write(data.join(JWT_KEY), "k".repeat(48)).unwrap();
        fs::write(data.join(KEY_FILES[1]), "v".repeat(43)).unwrap();

        // Taken while the connection is open and rows sit in the WAL.
        let manifest = backup(&data, None, &root.path().join("backup")).unwrap();
        assert_eq!(manifest.databases.len(), 1);
        assert_eq!(manifest.databases[0].name, "messages");
        let files: Vec<&str> = manifest.files.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(files, KEY_FILES);
        assert!(!root.path().join("backup/messages.db-wal").exists());

        let restored = root.path().join("restored");
        restore(&root.path().join("backup"), &restored, None).unwrap();
        assert_eq!(count(&restored.join("messages.db")), 100);
        assert!(!restored.join("messages-search.db").exists());
        assert_eq!(fs::read_to_string(restored.join(JWT_KEY)).unwrap(), "k".repeat(48));
        assert_eq!(fs::read_to_string(restored.join(KEY_FILES[1])).unwrap(), "v".repeat(43));
    }

    #[test]
    fn backups_and_restored_data_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "auth"));
        fs::write(data.join(JWT_KEY), "k".repeat(48)).unwrap();
        fs::write(data.join(KEY_FILES[1]), "v".repeat(43)).unwrap();
        let out = root.path().join("backup");
        backup(&data, None, &out).unwrap();
        assert_eq!(mode(&out), 0o700);
        for file in ["auth.db", JWT_KEY, KEY_FILES[1], MANIFEST] {
            assert_eq!(mode(&out.join(file)), 0o600, "{file}");
        }
        // A backup copied around with a loose mode still restores owner-only.
        fs::set_permissions(out.join("auth.db"), fs::Permissions::from_mode(0o644)).unwrap();
        let restored = root.path().join("restored");
        restore(&out, &restored, None).unwrap();
        assert_eq!(mode(&restored), 0o700);
        for file in ["auth.db", JWT_KEY, KEY_FILES[1]] {
            assert_eq!(mode(&restored.join(file)), 0o600, "{file}");
        }
    }

    #[test]
    fn a_copy_is_the_state_of_its_start_while_writes_go_on_during_it() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        let conn = live_db(&data, "chat");
        for i in 0..100 {
            conn.execute("INSERT INTO messages (body) VALUES (?1)", [format!("m{i}")])
                .unwrap();
        }
        let path = data.join("chat.db");
        let target = root.path().join("chat.db");
        let (started_tx, started) = std::sync::mpsc::channel();
        let mut writer = None;
        copy_database_from_snapshot(&path, &target, || {
            // The copy's read transaction is open: a writer commits beside it, and the copy
            // goes on only once the first of those commits is in, while the rest keep coming.
            let path = path.clone();
            writer = Some(std::thread::spawn(move || {
                let conn = Connection::open(&path).unwrap();
                conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
                for i in 100..1100 {
                    conn.execute("INSERT INTO messages (body) VALUES (?1)", [format!("m{i}")])
                        .unwrap();
                    if i == 100 {
                        started_tx.send(()).unwrap();
                    }
                }
            }));
            started.recv().unwrap();
        })
        .unwrap();
        writer.unwrap().join().unwrap();
        assert_eq!(count(&path), 1100, "no write waited for the copy or was lost");
        let copy = Connection::open(&target).unwrap();
        let (n, max): (i64, i64) = copy
            .query_row("SELECT count(*), max(seq) FROM messages", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((n, max), (100, 100), "exactly what was committed when the copy began");
    }

    #[test]
    fn restore_refuses_a_data_directory_that_is_not_empty() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "auth"));
        backup(&data, None, &root.path().join("backup")).unwrap();
        let error = restore(&root.path().join("backup"), &data, None).unwrap_err();
        assert!(error.to_string().contains("not empty"), "{error}");
    }

    #[test]
    fn restore_refuses_a_damaged_backup_and_writes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "users"));
        let out = root.path().join("backup");
        backup(&data, None, &out).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(out.join("users.db"))
            .unwrap()
            .write_all(b"x")
            .unwrap();
        let target = root.path().join("restored");
        let error = restore(&out, &target, None).unwrap_err();
        assert!(error.to_string().contains("does not match"), "{error}");
        assert!(!target.exists());
    }

    #[test]
    fn backup_refuses_a_directory_that_is_not_empty() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "auth"));
        let out = root.path().join("backup");
        backup(&data, None, &out).unwrap();
        assert!(backup(&data, None, &out).is_err());
    }

    /// An attachment's file as the messages service stores it; returns its relative path.
    fn attachment(dir: &Path, bytes: &[u8]) -> String {
        let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        fs::create_dir_all(dir.join(&sha[..2])).unwrap();
        fs::write(dir.join(&sha[..2]).join(&sha), bytes).unwrap();
        format!("{}/{sha}", &sha[..2])
    }

    #[test]
    fn attachments_are_backed_up_checked_and_restored() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "messages"));
        let files = data.join(ATTACHMENTS);
        let picture = attachment(&files, b"a picture");
        fs::write(files.join(format!("{picture}.thumb")), b"its thumbnail").unwrap();
        let document = attachment(&files, b"a document");
        // An upload in progress and a stray file are not attachments.
        fs::create_dir_all(files.join("tmp")).unwrap();
        fs::write(files.join("tmp/partial"), b"half").unwrap();
        fs::write(files.join(&picture[..2]).join("notes.txt"), b"?").unwrap();

        let out = root.path().join("backup");
        let manifest = backup(&data, None, &out).unwrap();
        let mut names: Vec<&str> = manifest.attachments.iter().map(|e| e.file.as_str()).collect();
        names.sort();
        let mut expected = vec![
            format!("attachments/{picture}"),
            format!("attachments/{picture}.thumb"),
            format!("attachments/{document}"),
        ];
        expected.sort();
        assert_eq!(names, expected);

        let restored = root.path().join("restored");
        restore(&out, &restored, None).unwrap();
        assert_eq!(
            fs::read(restored.join(ATTACHMENTS).join(&picture)).unwrap(),
            b"a picture"
        );
        assert_eq!(
            fs::read(restored.join(ATTACHMENTS).join(format!("{picture}.thumb"))).unwrap(),
            b"its thumbnail"
        );
        assert!(!restored.join(ATTACHMENTS).join("tmp/partial").exists());

        // Elsewhere when the attachments live elsewhere.
        let (elsewhere, share) = (root.path().join("elsewhere"), root.path().join("share"));
        restore(&out, &elsewhere, Some(&share)).unwrap();
        assert_eq!(fs::read(share.join(&document)).unwrap(), b"a document");
        assert!(!elsewhere.join(ATTACHMENTS).exists());
    }

    #[test]
    fn restore_refuses_an_attachment_that_is_not_what_its_name_says() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        drop(live_db(&data, "messages"));
        let picture = attachment(&data.join(ATTACHMENTS), b"a picture");
        let out = root.path().join("backup");
        backup(&data, None, &out).unwrap();
        // Other bytes, with a manifest rewritten to match them: the name still gives it away.
        let file = out.join(ATTACHMENTS).join(&picture);
        fs::write(&file, b"something else").unwrap();
        let mut manifest: Manifest = serde_json::from_slice(&fs::read(out.join(MANIFEST)).unwrap()).unwrap();
        let (bytes, sha256) = digest(&file).unwrap();
        manifest.attachments[0].bytes = bytes;
        manifest.attachments[0].sha256 = sha256;
        fs::write(out.join(MANIFEST), serde_json::to_vec(&manifest).unwrap()).unwrap();
        let target = root.path().join("restored");
        let error = restore(&out, &target, None).unwrap_err();
        assert!(error.to_string().contains("is not the file its name says"), "{error}");
        assert!(!target.exists());
    }
}
