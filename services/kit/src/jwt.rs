//! The HMAC signatures of session tokens, for jsonwebtoken.
//!
//! jsonwebtoken's own RustCrypto backend brings every algorithm it knows: RSA (the `rsa` crate,
//! RUSTSEC-2023-0071), ECDSA, EdDSA and a second `rand`. GoChat signs and verifies HS256 only, so
//! it installs this provider instead: HS256/384/512 over RustCrypto's `hmac` and `sha2`, every
//! other algorithm refused. (HS384/512 are there so tests can forge tokens that must be refused.)

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Sha256, Sha384, Sha512};
use signature::{Signer, Verifier};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes this the process's provider; later calls do nothing.
pub fn install() {
    let _ = PROVIDER.install_default();
}

/// One HMAC key of one algorithm: signer and verifier at once.
struct HmacKey<M> {
    mac: M,
    algorithm: Algorithm,
}

impl<M: Mac + Clone> Signer<Vec<u8>> for HmacKey<M> {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut mac = self.mac.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl<M: Mac + Clone> Verifier<Vec<u8>> for HmacKey<M> {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let mut mac = self.mac.clone();
        mac.update(message);
        // Constant-time comparison.
        mac.verify_slice(signature).map_err(signature::Error::from_source)
    }
}

impl<M: Mac + Clone> JwtSigner for HmacKey<M> {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

impl<M: Mac + Clone> JwtVerifier for HmacKey<M> {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn key<M: Mac + Clone + hmac::digest::KeyInit + 'static>(
    secret: &[u8],
    algorithm: Algorithm,
) -> Result<HmacKey<M>, Error> {
    let mac =
        <M as hmac::digest::KeyInit>::new_from_slice(secret).map_err(|_| Error::from(ErrorKind::InvalidKeyFormat))?;
    Ok(HmacKey { mac, algorithm })
}

fn signer(algorithm: &Algorithm, encoding: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let secret = encoding.try_get_hmac_secret()?;
    Ok(match algorithm {
        Algorithm::HS256 => Box::new(key::<Hmac<Sha256>>(secret, *algorithm)?),
        Algorithm::HS384 => Box::new(key::<Hmac<Sha384>>(secret, *algorithm)?),
        Algorithm::HS512 => Box::new(key::<Hmac<Sha512>>(secret, *algorithm)?),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    })
}

fn verifier(algorithm: &Algorithm, decoding: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let secret = decoding.try_get_hmac_secret()?;
    Ok(match algorithm {
        Algorithm::HS256 => Box::new(key::<Hmac<Sha256>>(secret, *algorithm)?),
        Algorithm::HS384 => Box::new(key::<Hmac<Sha384>>(secret, *algorithm)?),
        Algorithm::HS512 => Box::new(key::<Hmac<Sha512>>(secret, *algorithm)?),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_matches_the_rfc_7515_example_and_other_algorithms_are_refused() {
        install();
        // RFC 7515 appendix A.1: the JWS signing input, key and signature of HS256.
        let input = b"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        use base64::Engine;
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let key = DecodingKey::from_secret(&secret);
        let signature = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(jsonwebtoken::crypto::verify(signature, input, &key, Algorithm::HS256).unwrap());
        assert!(!jsonwebtoken::crypto::verify(signature, b"tampered", &key, Algorithm::HS256).unwrap());
        let secret = EncodingKey::from_secret(b"k");
        assert!(jsonwebtoken::crypto::sign(b"x", &secret, Algorithm::RS256).is_err());
        assert!(jsonwebtoken::crypto::sign(b"x", &secret, Algorithm::EdDSA).is_err());
    }
}
