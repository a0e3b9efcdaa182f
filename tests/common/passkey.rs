//! A software authenticator speaking the WebAuthn wire format, for tests that go
//! through the real routes: a P-256 key, `attestationObject` in CBOR with format
//! `none`, `authenticatorData` with flags and a signature counter, `clientDataJSON`,
//! and ES256 assertion signatures. Its origin, relying-party id and counter can be set
//! wrong on purpose.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciborium::Value;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::Page;

/// The test apps' `public_url`.
pub const ORIGIN: &str = "http://localhost:8080";

/// One passkey held by a software authenticator.
pub struct SoftKey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the relying party gave at registration.
    pub user_handle: Vec<u8>,
    pub counter: u32,
    /// The origin written into `clientDataJSON`.
    pub origin: String,
    /// The relying-party id whose hash starts `authenticatorData`.
    pub rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url from the server")
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).unwrap();
    bytes
}

impl SoftKey {
    pub fn new() -> SoftKey {
        SoftKey {
            key: SigningKey::from_slice(&random::<32>()).unwrap(),
            credential_id: random::<16>().to_vec(),
            user_handle: Vec::new(),
            counter: 0,
            origin: ORIGIN.to_owned(),
            rp_id: "localhost".to_owned(),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    /// rpIdHash, flags (user present + verified, plus `extra`), counter.
    fn auth_data_head(&self, extra_flags: u8) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(0x01 | 0x04 | extra_flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let map = Value::Map(vec![
            (Value::Integer(1.into()), Value::Integer(2.into())),
            (Value::Integer(3.into()), Value::Integer((-7).into())),
            (Value::Integer((-1).into()), Value::Integer(1.into())),
            (
                Value::Integer((-2).into()),
                Value::Bytes(bytes[1..33].to_vec()),
            ),
            (
                Value::Integer((-3).into()),
                Value::Bytes(bytes[33..65].to_vec()),
            ),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&map, &mut out).unwrap();
        out
    }

    /// Answers `navigator.credentials.create` options (the page's JSON).
    pub fn create(&mut self, options: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).unwrap();
        let pk = &options["publicKey"];
        let challenge = pk["challenge"].as_str().unwrap();
        self.user_handle = unb64(pk["user"]["id"].as_str().unwrap());
        let client_data = self.client_data("webauthn.create", challenge);
        let mut auth_data = self.auth_data_head(0x40);
        auth_data.extend_from_slice(&[0u8; 16]);
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let attestation = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text("none".into())),
            (Value::Text("attStmt".into()), Value::Map(vec![])),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]);
        let mut attestation_object = Vec::new();
        ciborium::into_writer(&attestation, &mut attestation_object).unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&attestation_object),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// Answers `navigator.credentials.get` options, with the counter one higher.
    pub fn get(&mut self, options: &str) -> String {
        self.counter += 1;
        self.sign(options)
    }

    /// Answers with the counter as it is now (a clone would).
    pub fn sign(&self, options: &str) -> String {
        let options: serde_json::Value = serde_json::from_str(options).unwrap();
        let challenge = options["publicKey"]["challenge"].as_str().unwrap();
        let client_data = self.client_data("webauthn.get", challenge);
        let auth_data = self.auth_data_head(0);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}

/// The passkey form posting to `action` on `page`: its ceremony id and options JSON.
pub fn passkey_form(page: &Page, action: &str) -> Option<(String, String)> {
    let start = page
        .body
        .find(&format!("action=\"{action}\" data-passkey"))?;
    let tag_end = start + page.body[start..].find('>')?;
    let tag = &page.body[start..tag_end];
    let options = tag.split("data-options=\"").nth(1)?.split('"').next()?;
    let rest = &page.body[tag_end..];
    let ceremony = rest
        .split("name=\"ceremony\" value=\"")
        .nth(1)?
        .split('"')
        .next()?;
    let options = options
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    Some((ceremony.to_owned(), options))
}
