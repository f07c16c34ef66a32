//! The server's VAPID identity (RFC 8292): a P-256 key pair generated on first start and kept
//! in the data directory (`vapid.key`, owner-only, backed up with the databases), and the signed
//! token every push carries so the push service knows the pushes come from the key the
//! browser subscribed with.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::RngCore;
use std::path::Path;

/// File name of the key in the data directory.
pub const KEY_FILE: &str = "vapid.key";
/// How long a token is valid; RFC 8292 allows at most 24 hours.
const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;

pub struct Vapid {
    key: SigningKey,
    /// The public key as browsers take it: uncompressed point, base64url.
    public: String,
}

impl Vapid {
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        let key = SigningKey::from_slice(secret).map_err(|_| anyhow::anyhow!("not a P-256 private key"))?;
        let point = key.verifying_key().to_encoded_point(false);
        Ok(Self {
            public: URL_SAFE_NO_PAD.encode(point.as_bytes()),
            key,
        })
    }

    /// The key in `dir`, created on first start (mode 0600) and read afterwards. A key that
    /// changes makes every browser's subscription useless, so it is never replaced here.
    pub fn load_or_generate(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(KEY_FILE);
        if !path.exists() {
            write_new_key(&path)?;
            tracing::info!(path = %path.display(), "generated the Web Push (VAPID) key");
        }
        let text = std::fs::read_to_string(&path)?;
        let secret = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| anyhow::anyhow!("{} is not a base64url key", path.display()))?;
        Self::from_secret(&secret).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `audience` (the push service's origin),
    /// naming `contact` as whom to reach about these pushes.
    pub fn authorization(&self, audience: &str, contact: &str, now: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({"aud": audience, "exp": now + TOKEN_LIFETIME_SECS, "sub": contact});
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signed.as_bytes());
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        format!("vapid t={token}, k={}", self.public)
    }
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write as _;
    let secret = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        // Almost every 32 bytes are a valid scalar; the rest (zero, or above the order) retry.
        if SigningKey::from_slice(&bytes).is_ok() {
            break bytes;
        }
    };
    // Written aside and renamed into place, so a crash midway never leaves a key file that
    // is empty or cut short (the next start would refuse it).
    let partial = path.with_extension("key.partial");
    gochat_kit::private::file(&partial)?;
    let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(&partial)?;
    file.write_all(URL_SAFE_NO_PAD.encode(secret).as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_key_is_generated_once_owner_only_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = Vapid::load_or_generate(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Vapid::load_or_generate(dir.path()).unwrap();
        assert_eq!(first.public_key(), again.public_key());
        let point = URL_SAFE_NO_PAD.decode(first.public_key()).unwrap();
        assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed P-256 point");
    }

    #[test]
    fn the_token_is_an_es256_jwt_for_the_audience_signed_by_the_public_key_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let vapid = Vapid::load_or_generate(dir.path()).unwrap();
        let header = vapid.authorization("https://push.example.net", "mailto:admin@example.org", 1_000);
        let (token, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, vapid.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(
            claims,
            serde_json::json!({"aud": "https://push.example.net", "exp": 1_000 + TOKEN_LIFETIME_SECS, "sub": "mailto:admin@example.org"})
        );
        let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        key.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .unwrap();
    }
}
