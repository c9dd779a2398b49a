// Passkeys: registration on the account page and the second step of
// sign-in. Buttons carry data-passkey="register" or "login", the tenant's
// base path in data-base and the session's CSRF token in data-csrf. The
// server sends WebAuthn options with base64url-encoded binary fields; this
// script turns them into ArrayBuffers for the browser and the answers back.
(function () {
  "use strict";
  if (!window.PublicKeyCredential) { return; }
  function b64d(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function b64e(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function call(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json", "Accept": "application/json" },
      body: body || ""
    }).then(function (r) {
      if (!r.ok) { return r.text().then(function () { throw new Error("The server refused the passkey (" + r.status + ")."); }); }
      return r.json();
    });
  }
  function show(btn, msg) {
    var out = document.getElementById(btn.dataset.status);
    if (out) { out.textContent = msg; }
  }
  function register(btn) {
    var base = btn.dataset.base, csrf = btn.dataset.csrf;
    var labelInput = document.getElementById("passkey-label");
    var label = labelInput ? labelInput.value : "";
    return call(base + "/account/passkeys/begin", csrf).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = b64d(pk.challenge);
      pk.user.id = b64d(pk.user.id);
      (pk.excludeCredentials || []).forEach(function (c) { c.id = b64d(c.id); });
      return navigator.credentials.create({ publicKey: pk });
    }).then(function (cred) {
      var body = JSON.stringify({
        id: cred.id, rawId: b64e(cred.rawId), type: cred.type,
        response: {
          attestationObject: b64e(cred.response.attestationObject),
          clientDataJSON: b64e(cred.response.clientDataJSON),
          transports: cred.response.getTransports ? cred.response.getTransports() : []
        }
      });
      return call(base + "/account/passkeys/finish?label=" + encodeURIComponent(label), csrf, body);
    });
  }
  function login(btn) {
    var base = btn.dataset.base, csrf = btn.dataset.csrf;
    return call(base + "/mfa/passkey/begin", csrf).then(function (opts) {
      var pk = opts.publicKey;
      pk.challenge = b64d(pk.challenge);
      (pk.allowCredentials || []).forEach(function (c) { c.id = b64d(c.id); });
      return navigator.credentials.get({ publicKey: pk });
    }).then(function (cred) {
      var r = cred.response;
      var body = JSON.stringify({
        id: cred.id, rawId: b64e(cred.rawId), type: cred.type,
        response: {
          authenticatorData: b64e(r.authenticatorData),
          clientDataJSON: b64e(r.clientDataJSON),
          signature: b64e(r.signature),
          userHandle: r.userHandle ? b64e(r.userHandle) : ""
        }
      });
      return call(base + "/mfa/passkey/finish", csrf, body);
    });
  }
  document.querySelectorAll("[data-passkey]").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function (ev) {
      ev.preventDefault();
      btn.disabled = true;
      show(btn, "Waiting for your passkey…");
      var run = btn.dataset.passkey === "register" ? register : login;
      run(btn).then(function (res) {
        window.location.assign(res.next);
      }).catch(function (err) {
        btn.disabled = false;
        show(btn, (err && err.message) ? err.message : "The passkey did not work.");
      });
    });
  });
})();
