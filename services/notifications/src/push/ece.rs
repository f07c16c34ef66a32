//! Message encryption for Web Push (RFC 8291 over RFC 8188's `aes128gcm`): only the browser that
//! subscribed can read a push; the push service in between sees ciphertext.
//!
//! A fresh P-256 key pair and salt per message; the shared secret of that key and the browser's
//! key, mixed with the browser's auth secret, gives the content key and nonce; the payload goes
//! out as one record, `salt | record size | key id length | sender public key | ciphertext`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// Record size announced in the header: one record holds any push payload (at most 4 KiB).
const RECORD_SIZE: u32 = 4096;

/// A browser's subscription keys, checked.
#[derive(Clone, Debug)]
pub struct BrowserKeys {
    pub public: PublicKey,
    pub auth: [u8; 16],
}

/// Encrypts `payload` for `to`, with a fresh key and salt.
pub fn encrypt(payload: &[u8], to: &BrowserKeys) -> Vec<u8> {
    let sender = loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(key) = SecretKey::from_slice(&bytes) {
            break key;
        }
    };
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    encrypt_with(payload, to, &sender, salt)
}

fn encrypt_with(payload: &[u8], to: &BrowserKeys, sender: &SecretKey, salt: [u8; 16]) -> Vec<u8> {
    let ua_public = to.public.to_encoded_point(false);
    let as_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), to.public.as_affine());

    // IKM = HKDF(salt = auth secret, ikm = ECDH secret, info = "WebPush: info" 0 ua as, 32)
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    expand(Some(&to.auth), shared.raw_secret_bytes(), &key_info, &mut ikm);

    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    expand(Some(&salt), &ikm, b"Content-Encoding: aes128gcm\0", &mut cek);
    expand(Some(&salt), &ikm, b"Content-Encoding: nonce\0", &mut nonce);

    // One record, the last: the payload and the 0x02 delimiter, no padding.
    let mut plaintext = Vec::with_capacity(payload.len() + 1);
    plaintext.extend_from_slice(payload);
    plaintext.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).expect("a 16-byte AES-128 key");
    let ciphertext = cipher
        .encrypt(&Nonce::from(nonce), plaintext.as_slice())
        .expect("AES-GCM encrypts any payload below its size limit");

    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + ciphertext.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.as_bytes().len() as u8);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&ciphertext);
    body
}

fn expand(salt: Option<&[u8]>, ikm: &[u8], info: &[u8], out: &mut [u8]) {
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out)
        .expect("HKDF-SHA-256 gives up to 8160 bytes");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// The example of RFC 8291, Appendix A, byte for byte.
    #[test]
    fn encrypts_the_rfc_8291_example_exactly() {
        let to = BrowserKeys {
            public: PublicKey::from_sec1_bytes(&b64(
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            ))
            .unwrap(),
            auth: b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap(),
        };
        let sender = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let salt = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(b"When I grow up, I want to be a watermelon", &to, &sender, salt);
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn each_message_gets_its_own_key_and_salt() {
        let browser = SecretKey::from_slice(&[7u8; 32]).unwrap();
        let to = BrowserKeys {
            public: browser.public_key(),
            auth: [9u8; 16],
        };
        let (a, b) = (encrypt(b"same", &to), encrypt(b"same", &to));
        assert_ne!(a[..16], b[..16], "salt");
        assert_ne!(a[21..86], b[21..86], "sender key");
        assert_eq!(a.len(), 86 + 4 + 1 + 16);
    }
}
