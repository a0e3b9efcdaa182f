//! The fake's keys: the published RSA signing key (rotatable through four fixture
//! keys; RS256 or PS256), the P-256 key of generic issuers that sign ES256, and the
//! two attacker keys behind `Hostile::EmbeddedJwk` and `Hostile::UnknownKid`. Signs
//! only; checking signatures is the relying party's job.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, Pss, RsaPrivateKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Fixture PEMs (generating RSA keys in a debug build takes seconds).
const ROTATION: [&str; 4] = [
    include_str!("../../fixtures/fake_entra/rsa-2048-1.pem"),
    include_str!("../../fixtures/fake_entra/rsa-2048-2.pem"),
    include_str!("../../fixtures/fake_entra/rsa-2048-3.pem"),
    include_str!("../../fixtures/fake_entra/rsa-2048-4.pem"),
];
const EMBEDDED: &str = include_str!("../../fixtures/fake_entra/rsa-2048-5.pem");
const UNKNOWN: &str = include_str!("../../fixtures/fake_entra/rsa-2048-6.pem");

/// One RSA key with the `kid` it is known by.
#[derive(Clone)]
pub(super) struct Key {
    pub kid: String,
    private: RsaPrivateKey,
}

impl Key {
    fn new(private: RsaPrivateKey, label: &str) -> Key {
        // Entra's kids are 27-character base64url thumbprints; derive one from the
        // modulus and a label so that a recycled fixture key still gets a fresh kid.
        let mut hash = Sha256::new();
        hash.update(label.as_bytes());
        hash.update(private.n().to_bytes_be());
        let kid = URL_SAFE_NO_PAD.encode(&hash.finalize()[..20]);
        Key { kid, private }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `input` (JWS "RS256").
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        let digest = Sha256::digest(input);
        self.private
            .sign(Pkcs1v15Sign::new::<rsa::sha2::Sha256>(), &digest)
            .expect("RSA signing")
    }

    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte random salt (JWS "PS256").
    pub fn sign_pss(&self, input: &[u8]) -> Vec<u8> {
        let digest = Sha256::digest(input);
        self.private
            .sign_with_rng(
                &mut rsa::rand_core::OsRng,
                Pss::new_with_salt::<rsa::sha2::Sha256>(32),
                &digest,
            )
            .expect("RSA-PSS signing")
    }

    /// The public key as a JWK in Entra's shape (`x5t` equals the kid, as at Entra;
    /// there is no certificate, so no `x5c`).
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": URL_SAFE_NO_PAD.encode(self.private.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(self.private.e().to_bytes_be()),
        })
    }
}

/// A P-256 key (JWS "ES256"), made afresh for each fake.
pub(super) struct EcKey {
    pub kid: String,
    private: p256::ecdsa::SigningKey,
}

impl EcKey {
    fn new() -> EcKey {
        loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("OS RNG");
            if let Ok(private) = p256::ecdsa::SigningKey::from_slice(&bytes) {
                let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(bytes)[..12]);
                return EcKey { kid, private };
            }
        }
    }

    /// ECDSA P-256 with SHA-256, as JWS wants it: `r || s`, 64 bytes.
    pub fn sign(&self, input: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature = self.private.sign(input);
        signature.to_bytes().to_vec()
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> Value {
        let point = self.private.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        json!({
            "kty": "EC",
            "crv": "P-256",
            "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
        })
    }
}

fn load(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("fixture RSA key")
}

/// The keys of one fake.
pub(super) struct KeyRing {
    rotation: Vec<RsaPrivateKey>,
    generation: usize,
    /// The key that signs tokens and the only one the JWKS publishes.
    pub current: Key,
    /// Never published; its public JWK rides in the token header.
    pub embedded: Key,
    /// Never published at all.
    pub unknown: Key,
    /// Published by generic issuers that sign ES256.
    pub ec: EcKey,
}

impl KeyRing {
    pub fn new() -> KeyRing {
        let rotation: Vec<RsaPrivateKey> = ROTATION.iter().map(|pem| load(pem)).collect();
        KeyRing {
            current: Key::new(rotation[0].clone(), "signing-0"),
            rotation,
            generation: 0,
            embedded: Key::new(load(EMBEDDED), "embedded"),
            unknown: Key::new(load(UNKNOWN), "unknown"),
            ec: EcKey::new(),
        }
    }

    /// Switches to the next fixture key under a new kid.
    pub fn rotate(&mut self) {
        self.generation += 1;
        let private = self.rotation[self.generation % self.rotation.len()].clone();
        self.current = Key::new(private, &format!("signing-{}", self.generation));
    }
}
