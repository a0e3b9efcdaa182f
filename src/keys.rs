//! The master key and everything derived from it: the AEAD that seals secrets at rest
//! (TOTP seeds, client secrets), the keyed hash under which bearer tokens are stored,
//! and the MAC key for CSRF tokens. The key lives outside the store (`master.key`,
//! mode 0600, or a file the operator names, or a systemd credential), so a copied
//! redb file alone reveals no secret and cannot even confirm a guessed token.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::user::Sealed;

/// The file name of the master key inside the data directory.
pub const KEY_FILE_NAME: &str = "master.key";
/// The systemd credential name (`LoadCredential=gatehouse.master-key:...`).
pub const CREDENTIAL_NAME: &str = "gatehouse.master-key";

/// Why the master key could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the master key {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the master key {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the master key {path} is not 64 hexadecimal characters")]
    Malformed { path: PathBuf },
    #[error(
        "the master key {path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error(
        "the store exists but its master key {path} is missing; restore the key file (see `gatehouse backup --with-key`) — without it no secret in the store can be read"
    )]
    Missing { path: PathBuf },
    #[error("no randomness available from the operating system")]
    NoRandomness,
}

/// A secret could not be opened: wrong key, or the record was tampered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sealed secret could not be decrypted (wrong master key or damaged record)")]
pub struct Unseal;

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub struct KeySource {
    /// The file that holds (or will hold) the key.
    pub path: PathBuf,
    /// Whether a missing key may be created (only for a brand-new store).
    pub may_create: bool,
}

impl KeySource {
    /// The operator's `master_key_file`, else a systemd credential, else
    /// `data_dir/master.key`.
    pub fn locate(data_dir: &Path, configured: Option<&Path>, store_exists: bool) -> KeySource {
        if let Some(path) = configured {
            return KeySource {
                path: path.to_owned(),
                may_create: !store_exists,
            };
        }
        if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
            let path = Path::new(&dir).join(CREDENTIAL_NAME);
            if path.exists() {
                return KeySource {
                    path,
                    may_create: false,
                };
            }
        }
        KeySource {
            path: data_dir.join(KEY_FILE_NAME),
            may_create: !store_exists,
        }
    }
}

/// The master key and its derived keys.
pub struct Keys {
    master: [u8; 32],
    aead: XChaCha20Poly1305,
    /// HMAC-SHA256 keyed for token hashes and for CSRF tokens. Each use clones the
    /// keyed state, so the key's two padding blocks are hashed once, not per call.
    token_mac: Hmac<Sha256>,
    csrf_mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Loads the key from `source`, creating it (mode 0600) if allowed and missing.
    pub fn load(source: &KeySource) -> Result<Keys, KeyError> {
        let path = &source.path;
        match fs::metadata(path) {
            Ok(meta) => {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(KeyError::TooOpen {
                        path: path.clone(),
                        mode,
                    });
                }
                let text = fs::read_to_string(path).map_err(|source| KeyError::Read {
                    path: path.clone(),
                    source,
                })?;
                let bytes = hex::decode(text.trim())
                    .map_err(|_| KeyError::Malformed { path: path.clone() })?;
                let master: [u8; 32] = bytes
                    .try_into()
                    .map_err(|_| KeyError::Malformed { path: path.clone() })?;
                Ok(Keys::from_master(master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && source.may_create => {
                let mut master = [0u8; 32];
                getrandom::fill(&mut master).map_err(|_| KeyError::NoRandomness)?;
                write_key_file(path, &master).map_err(|source| KeyError::Create {
                    path: path.clone(),
                    source,
                })?;
                Ok(Keys::from_master(master))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(KeyError::Missing { path: path.clone() })
            }
            Err(source) => Err(KeyError::Read {
                path: path.clone(),
                source,
            }),
        }
    }

    /// Keys from raw master bytes (tests, restore checks).
    pub fn from_master(master: [u8; 32]) -> Keys {
        let hk = Hkdf::<Sha256>::new(Some(b"gatehouse master key v1"), &master);
        let derive = |info: &[u8]| {
            let mut out = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so this cannot fail.
            let _ = hk.expand(info, &mut out);
            out
        };
        let aead_key = derive(b"aead");
        Keys {
            master,
            aead: XChaCha20Poly1305::new(&aead_key.into()),
            token_mac: keyed(&derive(b"token-hash")),
            csrf_mac: keyed(&derive(b"csrf")),
        }
    }

    /// The key in its file format (64 hex characters), for `backup --with-key`.
    pub fn export_hex(&self) -> String {
        hex::encode(self.master)
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. `totp:<user id>`), so a sealed
    /// value copied into another record does not open there.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Sealed, Unseal> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|_| Unseal)?;
        let ciphertext = self
            .aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Unseal)?;
        Ok(Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Decrypts a value sealed with the same key and `context`.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, Unseal> {
        let nonce: [u8; 24] = sealed.nonce.as_slice().try_into().map_err(|_| Unseal)?;
        self.aead
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Unseal)
    }

    /// The keyed hash under which a bearer token of kind `purpose` is stored.
    pub fn token_hash(&self, purpose: &str, token: &str) -> [u8; 32] {
        mac(
            &self.token_mac,
            &[purpose.as_bytes(), &[0], token.as_bytes()],
        )
    }

    /// A MAC for CSRF tokens.
    pub fn csrf_mac(&self, data: &[u8]) -> [u8; 32] {
        mac(&self.csrf_mac, &[data])
    }
}

fn keyed(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

fn mac(keyed: &Hmac<Sha256>, parts: &[&[u8]]) -> [u8; 32] {
    let mut m = keyed.clone();
    for part in parts {
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

/// Writes a key file with mode 0600 from the start (never briefly world-readable).
pub fn write_key_file(path: &Path, master: &[u8; 32]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{}", hex::encode(master))?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_with_their_key() {
        let keys = Keys::from_master([7; 32]);
        let sealed = keys.seal(b"seed bytes", "totp:alice").unwrap();
        assert_eq!(keys.open(&sealed, "totp:alice").unwrap(), b"seed bytes");
        assert_eq!(keys.open(&sealed, "totp:bob"), Err(Unseal));
        assert_eq!(
            Keys::from_master([8; 32]).open(&sealed, "totp:alice"),
            Err(Unseal)
        );
        assert!(!sealed.ciphertext.windows(10).any(|w| w == b"seed bytes"));
    }

    #[test]
    fn token_hashes_are_keyed_and_purpose_bound() {
        let a = Keys::from_master([1; 32]);
        let b = Keys::from_master([2; 32]);
        assert_ne!(a.token_hash("session", "t"), b.token_hash("session", "t"));
        assert_ne!(a.token_hash("session", "t"), a.token_hash("invite", "t"));
        assert_eq!(a.token_hash("session", "t"), a.token_hash("session", "t"));
    }

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::locate(dir.path(), None, false);
        let created = Keys::load(&source).unwrap();
        let mode = fs::metadata(&source.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = Keys::load(&KeySource::locate(dir.path(), None, true)).unwrap();
        assert_eq!(created.export_hex(), again.export_hex());
    }

    #[test]
    fn refuses_open_missing_or_malformed_keys() {
        let dir = tempfile::tempdir().unwrap();
        let missing = KeySource::locate(dir.path(), None, true);
        assert!(matches!(
            Keys::load(&missing),
            Err(KeyError::Missing { .. })
        ));

        let path = dir.path().join(KEY_FILE_NAME);
        fs::write(&path, "zz").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            Keys::load(&missing),
            Err(KeyError::Malformed { .. })
        ));

        fs::write(&path, hex::encode([3u8; 32])).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Keys::load(&missing),
            Err(KeyError::TooOpen { .. })
        ));
    }
}
