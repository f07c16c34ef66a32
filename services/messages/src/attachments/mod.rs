//! Attachments on disk: the files, what an uploaded image is, and the sweep that removes what
//! nobody needs any more. The rows are in `store::attachments`, the HTTP routes in
//! `routes::attachments`.
//!
//! - [`Files`]: the attachments directory. A file is named by the SHA-256 of its bytes
//!   (`ab/abcdef…`, its thumbnail `ab/abcdef….thumb`), so the same bytes uploaded twice take
//!   the disk once and a name always means the same bytes. Uploads are written to `tmp/` and
//!   renamed into place whole, so a file under its name is always complete.
//! - `picture`: sniffing, decoding and thumbnails.
//! - `decoder`: turns at decoding pictures, one at a time and fair between users.
//! - `sweep`: removes uploads never sent, and files no row names any more.

pub mod decoder;
pub mod picture;
pub mod sweep;

use gochat_kit::private;
use std::fs;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Name of the attachments directory in the data directory, and in backups.
pub const DIR: &str = "attachments";
/// Where uploads are written before they are complete (inside the attachments directory, so
/// that placing one is a rename on the same filesystem).
const TMP: &str = "tmp";
/// Suffix of a thumbnail's file.
const THUMBNAIL: &str = ".thumb";

/// What the attachment routes and the sweep share.
pub struct Attachments {
    pub files: Files,
    /// Largest upload, in bytes.
    pub max_bytes: u64,
    /// Bytes one user's uploads may take together, sent or not.
    pub quota_bytes: u64,
    /// How long an upload may wait to be sent before it is removed.
    pub unsent_for: Duration,
    /// Turns at decoding pictures.
    pub decoder: decoder::Decoder,
    /// Wakes the sweep (files to remove after a message with attachments was deleted).
    pub sweep: Arc<Notify>,
}

/// The attachments directory.
#[derive(Clone, Debug)]
pub struct Files {
    root: PathBuf,
}

impl Files {
    /// Opens `root` (created owner-only when missing) and clears uploads a stop interrupted.
    pub fn open(root: &Path) -> io::Result<Self> {
        private::dir(root)?;
        let tmp = root.join(TMP);
        if tmp.exists() {
            fs::remove_dir_all(&tmp)?;
        }
        private::create_dir(&tmp)?;
        Ok(Self { root: root.to_owned() })
    }

    /// The file of the bytes with this SHA-256.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    /// The file of the thumbnail of the bytes with this SHA-256.
    pub fn thumbnail_path(&self, sha256: &str) -> PathBuf {
        let mut path = self.path(sha256).into_os_string();
        path.push(THUMBNAIL);
        path.into()
    }

    /// A new private file in `tmp/`, removed when the returned [`TempPath`] is dropped unless it
    /// was placed.
    pub fn temp(&self) -> io::Result<(fs::File, TempPath)> {
        // A fresh v7 UUID: unique, and sorts by age for whoever looks.
        let path = self
            .root
            .join(TMP)
            .join(gochat_proto::ids::AttachmentId::new().to_string());
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(private::FILE_MODE)
            .open(&path)?;
        Ok((file, TempPath(Some(path))))
    }

    /// Puts an upload under its name (and its thumbnail beside it). When the same bytes are
    /// there already, the upload is dropped: they are the same file.
    pub fn place(&self, upload: TempPath, sha256: &str, thumbnail: Option<&[u8]>) -> io::Result<()> {
        let target = self.path(sha256);
        if let Some(dir) = target.parent() {
            private::create_dir(dir)?;
        }
        if let Some(thumbnail) = thumbnail {
            let path = self.thumbnail_path(sha256);
            if !path.exists() {
                let (mut file, temp) = self.temp()?;
                io::Write::write_all(&mut file, thumbnail)?;
                file.sync_data()?;
                temp.rename_to(&path)?;
            }
        }
        if !target.exists() {
            upload.rename_to(&target)?;
        }
        Ok(())
    }

    /// Removes the file of these bytes and its thumbnail (either may be gone already).
    pub fn remove(&self, sha256: &str) -> io::Result<()> {
        for path in [self.path(sha256), self.thumbnail_path(sha256)] {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}

/// An upload being written; its file is removed on drop unless it was renamed into place.
#[derive(Debug)]
pub struct TempPath(Option<PathBuf>);

impl TempPath {
    pub fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    fn rename_to(mut self, target: &Path) -> io::Result<()> {
        if let Some(path) = self.0.take() {
            fs::rename(&path, target)?;
        }
        Ok(())
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn uploads_are_placed_whole_under_their_hash_owner_only_and_once() {
        let root = tempfile::tempdir().unwrap();
        let files = Files::open(&root.path().join(DIR)).unwrap();
        let sha = "abcdef0123";
        let (mut file, temp) = files.temp().unwrap();
        io::Write::write_all(&mut file, b"bytes").unwrap();
        let written = temp.path().to_owned();
        files.place(temp, sha, Some(b"thumb")).unwrap();
        assert!(!written.exists());
        assert_eq!(fs::read(files.path(sha)).unwrap(), b"bytes");
        assert_eq!(fs::read(files.thumbnail_path(sha)).unwrap(), b"thumb");
        assert!(files.path(sha).ends_with("ab/abcdef0123"));
        assert_eq!(mode(&root.path().join(DIR)), 0o700);
        assert_eq!(mode(&root.path().join(DIR).join("ab")), 0o700);
        assert_eq!(mode(&files.path(sha)), 0o600);
        assert_eq!(mode(&files.thumbnail_path(sha)), 0o600);

        // The same bytes again: the second copy is dropped.
        let (_, again) = files.temp().unwrap();
        let second = again.path().to_owned();
        files.place(again, sha, None).unwrap();
        assert!(!second.exists());
        assert_eq!(fs::read(files.path(sha)).unwrap(), b"bytes");

        files.remove(sha).unwrap();
        files.remove(sha).unwrap();
        assert!(!files.path(sha).exists() && !files.thumbnail_path(sha).exists());
    }

    #[test]
    fn an_unfinished_upload_is_removed() {
        let root = tempfile::tempdir().unwrap();
        let files = Files::open(root.path()).unwrap();
        let (_, temp) = files.temp().unwrap();
        let path = temp.path().to_owned();
        assert!(path.exists());
        drop(temp);
        assert!(!path.exists());
        // And what a crash left in tmp/ is cleared on the next start.
        let (_, kept) = files.temp().unwrap();
        let left = kept.path().to_owned();
        std::mem::forget(kept);
        Files::open(root.path()).unwrap();
        assert!(!left.exists());
    }
}
