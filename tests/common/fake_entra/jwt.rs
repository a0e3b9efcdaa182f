//! ID tokens as Entra v2.0 issues them (claims, RS256 signature; a generic issuer
//! may sign PS256 or ES256), and the hostile
//! variants, each of which changes exactly one aspect of an otherwise valid token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keys::KeyRing;
use super::state::SigningAlg;
use super::{CONSUMER_TENANT, FakeUser, Hostile};

/// The app id of Microsoft Graph: the "other" audience of the extra-audience variants.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// What a token is about, taken from the authorization code.
pub(super) struct Facts<'a> {
    /// `http://127.0.0.1:PORT`.
    pub base: &'a str,
    /// The tenant GUID of the endpoint that issued the code.
    pub tenant: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub nonce: Option<&'a str>,
    pub user: &'a FakeUser,
    /// When the user entered their credentials.
    pub auth_time: i64,
    pub now: i64,
    /// A generic issuer (`{base}/oidc/{tenant}`): standard claims only, `sub` = the
    /// user's `oid`.
    pub generic: bool,
    /// Merged into the claims last (`null` removes a claim).
    pub extra: &'a Map<String, Value>,
    pub omit_kid: bool,
    /// A generic issuer's signing algorithm (Entra: always RS256).
    pub signing: SigningAlg,
    /// `alg: ES256` with the RSA key's kid (see `IssuerOptions`).
    pub mismatched_kid: bool,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_b64(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("OS RNG");
    b64(&bytes)
}

/// Entra's pairwise `sub`: stable for one user and one app, different across apps.
pub fn pairwise_sub(tid: &str, oid: &str, client_id: &str) -> String {
    let mut hash = Sha256::new();
    for part in ["fake-entra-pairwise-sub", tid, oid, client_id] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    b64(&hash.finalize())
}

/// The claims of the token, with `hostile` applied.
pub(super) fn claims(facts: &Facts<'_>, hostile: Hostile) -> Map<String, Value> {
    let user = facts.user;
    let now = facts.now;
    let (issuer_tenant, tid) = match hostile {
        Hostile::ConsumerTenant => (CONSUMER_TENANT.to_owned(), CONSUMER_TENANT.to_owned()),
        Hostile::WrongTid => (
            facts.tenant.to_owned(),
            uuid::Uuid::new_v4().hyphenated().to_string(),
        ),
        _ => (facts.tenant.to_owned(), user.tid.clone()),
    };
    let mut iss = format!("{}/{issuer_tenant}/v2.0", facts.base);
    if hostile == Hostile::IssPlusOne {
        iss.push('1');
    }
    let (iat, nbf, exp) = match hostile {
        Hostile::Expired => (now - 7200, now - 7200, now - 3600),
        Hostile::NotYetValid => (now, now + 3600, now + 7200),
        Hostile::IssuedADayAgo => (now - 86400, now - 86400, now + 3600),
        _ => (now, now, now + 3600),
    };
    let aud = match hostile {
        Hostile::AudPlusOne => json!(format!("{}1", facts.client_id)),
        Hostile::ExtraAudienceWithoutAzp | Hostile::ExtraAudienceWithAzp => {
            json!([facts.client_id, GRAPH_APP_ID])
        }
        _ => json!(facts.client_id),
    };
    let nonce = match hostile {
        Hostile::WrongNonce => Some(random_b64(16)),
        Hostile::MissingNonce => None,
        _ => facts.nonce.map(str::to_owned),
    };

    let mut c = Map::new();
    c.insert("aud".into(), aud);
    c.insert("iss".into(), json!(iss));
    c.insert("iat".into(), json!(iat));
    c.insert("nbf".into(), json!(nbf));
    c.insert("exp".into(), json!(exp));
    c.insert("aio".into(), json!(random_b64(48)));
    c.insert("auth_time".into(), json!(facts.auth_time));
    if hostile == Hostile::ExtraAudienceWithAzp {
        c.insert("azp".into(), json!(facts.client_id));
    }
    if let Some(email) = &user.email {
        c.insert("email".into(), json!(email));
    }
    if let Some(idp) = &user.idp {
        c.insert("idp".into(), json!(idp));
    }
    c.insert("name".into(), json!(user.name));
    if let Some(nonce) = nonce {
        c.insert("nonce".into(), json!(nonce));
    }
    c.insert("oid".into(), json!(user.oid));
    if let Some(upn) = &user.preferred_username {
        c.insert("preferred_username".into(), json!(upn));
    }
    c.insert("rh".into(), json!(format!("1.A{}.", random_b64(45))));
    c.insert(
        "sub".into(),
        json!(pairwise_sub(&user.tid, &user.oid, facts.client_id)),
    );
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(random_b64(16)));
    c.insert("ver".into(), json!("2.0"));
    if facts.generic {
        for entra_only in ["aio", "oid", "rh", "tid", "uti", "ver", "idp"] {
            c.remove(entra_only);
        }
        let mut iss = format!("{}/oidc/{}", facts.base, facts.tenant);
        if hostile == Hostile::IssPlusOne {
            iss.push('1');
        }
        c.insert("iss".into(), json!(iss));
        c.insert("sub".into(), json!(user.oid));
        c.insert("email_verified".into(), json!(true));
    }
    for (k, v) in facts.extra {
        if v.is_null() {
            c.remove(k);
        } else {
            c.insert(k.clone(), v.clone());
        }
    }
    c
}

/// The compact JWS of an ID token for `facts`, signed as `hostile` says.
pub(super) fn id_token(facts: &Facts<'_>, hostile: Hostile, keys: &KeyRing) -> String {
    let payload = b64(&serde_json::to_vec(&claims(facts, hostile)).unwrap());
    let current = &keys.current;
    let omit_kid = facts.omit_kid;
    let alg = match facts.signing {
        SigningAlg::Rs256 => "RS256",
        SigningAlg::Ps256 => "PS256",
        SigningAlg::Es256 => "ES256",
    };
    let header_for = |alg: &str, kid: &str| {
        if omit_kid {
            json!({"typ": "JWT", "alg": alg})
        } else {
            json!({"typ": "JWT", "alg": alg, "kid": kid})
        }
    };
    let rs256 = |kid: &str| header_for("RS256", kid);
    let (header, signer): (Value, Signer<'_>) = match hostile {
        Hostile::AlgNone => (json!({"typ": "JWT", "alg": "none"}), Signer::Nothing),
        Hostile::Hs256WithClientSecret => (
            json!({"typ": "JWT", "alg": "HS256", "kid": current.kid}),
            Signer::Hmac(facts.client_secret.as_bytes()),
        ),
        Hostile::EmbeddedJwk => {
            let mut header = rs256(&keys.embedded.kid);
            header["jwk"] = keys.embedded.public_jwk();
            (header, Signer::Rsa(&keys.embedded))
        }
        Hostile::UnknownKid => (rs256(&keys.unknown.kid), Signer::Rsa(&keys.unknown)),
        _ if facts.mismatched_kid => (header_for("ES256", &current.kid), Signer::Ec(&keys.ec)),
        _ => match facts.signing {
            SigningAlg::Rs256 => (rs256(&current.kid), Signer::Rsa(current)),
            SigningAlg::Ps256 => (header_for(alg, &current.kid), Signer::Pss(current)),
            SigningAlg::Es256 => (header_for(alg, &keys.ec.kid), Signer::Ec(&keys.ec)),
        },
    };
    let input = format!("{}.{payload}", b64(&serde_json::to_vec(&header).unwrap()));
    let mut signature = match signer {
        Signer::Nothing => Vec::new(),
        Signer::Hmac(key) => hs256(key, input.as_bytes()),
        Signer::Rsa(key) => key.sign(input.as_bytes()),
        Signer::Pss(key) => key.sign_pss(input.as_bytes()),
        Signer::Ec(key) => key.sign(input.as_bytes()),
    };
    if hostile == Hostile::BadSignature {
        let last = signature.len() - 1;
        signature[0] ^= 0x5a;
        signature[last / 2] ^= 0xa5;
        signature[last] ^= 0x01;
    }
    format!("{input}.{}", b64(&signature))
}

enum Signer<'a> {
    Nothing,
    Hmac(&'a [u8]),
    Rsa(&'a super::keys::Key),
    Pss(&'a super::keys::Key),
    Ec(&'a super::keys::EcKey),
}

/// HMAC-SHA256 (JWS "HS256").
pub fn hs256(key: &[u8], input: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC key");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}
