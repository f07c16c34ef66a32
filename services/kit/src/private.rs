//! Files only the service's own user may read: the data directory (0700) and the SQLite files in
//! it (0600). They hold password hashes, emails, every message and the session key.
//!
//! Modes are set explicitly (chmod), not left to the umask. SQLite creates a database's `-wal`
//! and `-shm` files with the mode of the database file itself, so a database created 0600 keeps
//! its companions 0600 too.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of the data directory (and of backup directories).
pub const DIR_MODE: u32 = 0o700;
/// Mode of databases, their `-wal`/`-shm` files, keys and backups.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) owner-only, or takes group and other access away from an
/// existing one: only for directories that are GoChat's own.
pub fn dir(dir: &Path) -> io::Result<()> {
    create_dir(dir)?;
    if fs::metadata(dir)?.permissions().mode() & 0o777 != DIR_MODE {
        tracing::warn!(dir = %dir.display(), "the data directory was open to other users; it is now owner-only (0700)");
        fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Creates `dir` and its missing parents owner-only; leaves existing ones as they are.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Makes `path` a private file: created empty when missing, mode 0600 either way.
pub fn file(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)?;
    restrict(path, FILE_MODE)
}

/// Prepares `<dir>/<name>.db` before SQLite opens it: the directory owner-only, the database and
/// any `-wal`/`-shm` left from an earlier run 0600.
pub fn database(dir_path: &Path, name: &str) -> io::Result<()> {
    dir(dir_path)?;
    file(&dir_path.join(format!("{name}.db")))?;
    for suffix in ["-wal", "-shm"] {
        let companion = dir_path.join(format!("{name}.db{suffix}"));
        if companion.exists() {
            restrict(&companion, FILE_MODE)?;
        }
    }
    Ok(())
}

/// Sets `mode` unless it is already the file's.
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    if fs::metadata(path)?.permissions().mode() & 0o777 != mode {
        fs::set_permissions(path, Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_and_its_wal_are_owner_only_whatever_the_umask() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        database(&data, "svc").unwrap();
        let conn = rusqlite::Connection::open(data.join("svc.db")).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        assert_eq!(mode(&data), DIR_MODE);
        for file in ["svc.db", "svc.db-wal", "svc.db-shm"] {
            assert_eq!(mode(&data.join(file)), FILE_MODE, "{file}");
        }
    }

    #[test]
    fn existing_loose_files_and_directories_are_tightened() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        fs::create_dir(&data).unwrap();
        fs::set_permissions(&data, Permissions::from_mode(0o755)).unwrap();
        for file in ["svc.db", "svc.db-wal", "svc.db-shm"] {
            fs::write(data.join(file), b"").unwrap();
            fs::set_permissions(data.join(file), Permissions::from_mode(0o644)).unwrap();
        }
        database(&data, "svc").unwrap();
        assert_eq!(mode(&data), DIR_MODE);
        for file in ["svc.db", "svc.db-wal", "svc.db-shm"] {
            assert_eq!(mode(&data.join(file)), FILE_MODE, "{file}");
        }
    }
}
