// Passkeys (WebAuthn). Each `form[data-passkey]` carries the server's challenge as
// JSON in `data-options`; this script asks the browser for a passkey, puts the answer
// (JSON, binary fields as base64url) into the form's `credential` field and submits
// the form. Without JavaScript or WebAuthn the forms stay hidden and the page says
// that passkeys need JavaScript.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(json) {
    var pk = json.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return pk;
  }

  function requestOptions(json) {
    var pk = json.publicKey;
    pk.challenge = toBytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return pk;
  }

  function answer(credential) {
    var r = credential.response;
    var out = {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      out.response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return JSON.stringify(out);
  }

  function submitWith(form, credential) {
    form.querySelector("input[name=credential]").value = answer(credential);
    form.submit();
  }

  function say(form, text) {
    var status = form.querySelector(".passkey-status");
    if (status) status.textContent = text;
  }

  function setUp(form) {
    var kind = form.getAttribute("data-passkey");
    var options;
    try {
      options = JSON.parse(form.getAttribute("data-options"));
    } catch (e) {
      return;
    }
    form.hidden = false;
    var note = form.parentNode.querySelector(".passkey-needs-js");
    if (note) note.hidden = true;
    var pending = null;

    // Offer passkeys in the email field's autofill, where the browser can (not right
    // after a refusal, which would only repeat it).
    var refused = document.querySelector("[role=alert]");
    if (kind === "sign-in" && !refused && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (!available) return;
        pending = new AbortController();
        navigator.credentials.get({
          mediation: "conditional",
          publicKey: requestOptions(JSON.parse(form.getAttribute("data-options"))),
          signal: pending.signal
        }).then(function (credential) {
          if (credential) submitWith(form, credential);
        }).catch(function () {});
      });
    }

    form.addEventListener("submit", function (event) {
      if (form.querySelector("input[name=credential]").value) return;
      event.preventDefault();
      if (pending) {
        pending.abort();
        pending = null;
      }
      var fresh = JSON.parse(form.getAttribute("data-options"));
      var request = kind === "create"
        ? navigator.credentials.create({ publicKey: creationOptions(fresh) })
        : navigator.credentials.get({ publicKey: requestOptions(fresh) });
      say(form, "Waiting for your passkey…");
      request.then(function (credential) {
        if (!credential) {
          say(form, "No passkey was chosen.");
          return;
        }
        submitWith(form, credential);
      }).catch(function (e) {
        say(form, "The passkey did not work (" + (e && e.name ? e.name : "error") + "). You can try again.");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    document.querySelectorAll("form[data-passkey]").forEach(setUp);
  });
})();
