"""The browser's half of a passkey ceremony, run with `rx.call_script` (SPEC §16).

The server's options (JSON from `services/passkeys.py`, bytes as base64url) become the
`publicKey` argument of `navigator.credentials.create` or `.get`; the authenticator's answer
goes back, with its bytes as base64url again (the shape of `PublicKeyCredential.toJSON()`,
which `webauthn`'s parse helpers read), as a JSON string to the state's callback event. So
the answer travels over this page's own websocket (whose handshake only the app's origin
may open) and is checked there: origin, relying party and challenge are in what the
authenticator signed. A browser without WebAuthn, or a person who cancels, sends
`{"error": "<DOMException name>"}` instead, and the page says so.

The conversions are written out rather than left to `PublicKeyCredential.parse…FromJSON` /
`toJSON()`, which older browsers lack. The options are the service's own JSON, written into
the code as a JavaScript object literal (JSON is one).
"""

import json

import reflex as rx

SCRIPT = """
(async (options, mode) => {
  const toBytes = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const toText = (buffer) => {
    let binary = "";
    new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  };
  try {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      return JSON.stringify({error: "NotSupportedError"});
    }
    const publicKey = options;
    publicKey.challenge = toBytes(publicKey.challenge);
    if (mode === "create") {
      publicKey.user.id = toBytes(publicKey.user.id);
      (publicKey.excludeCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
      const made = await navigator.credentials.create({publicKey});
      return JSON.stringify({
        id: made.id, rawId: toText(made.rawId), type: made.type,
        authenticatorAttachment: made.authenticatorAttachment || undefined,
        clientExtensionResults: made.getClientExtensionResults(),
        response: {
          clientDataJSON: toText(made.response.clientDataJSON),
          attestationObject: toText(made.response.attestationObject),
          transports: made.response.getTransports ? made.response.getTransports() : [],
        },
      });
    }
    (publicKey.allowCredentials || []).forEach((c) => { c.id = toBytes(c.id); });
    const got = await navigator.credentials.get({publicKey});
    return JSON.stringify({
      id: got.id, rawId: toText(got.rawId), type: got.type,
      authenticatorAttachment: got.authenticatorAttachment || undefined,
      clientExtensionResults: got.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(got.response.clientDataJSON),
        authenticatorData: toText(got.response.authenticatorData),
        signature: toText(got.response.signature),
        userHandle: got.response.userHandle ? toText(got.response.userHandle) : undefined,
      },
    });
  } catch (e) {
    return JSON.stringify({error: (e && e.name) || "Error"});
  }
})(__OPTIONS__, __MODE__)
"""


def create(options_json: str, callback) -> rx.event.EventSpec:
    """Make a passkey with the options of `passkeys.begin_registration`; `callback` gets
    the answer (JSON text)."""
    return rx.call_script(script(options_json, "create"), callback=callback)


def get(options_json: str, callback) -> rx.event.EventSpec:
    """Sign with a passkey (options of `begin_sign_in` or `begin_second_step`)."""
    return rx.call_script(script(options_json, "get"), callback=callback)


def script(options_json: str, mode: str) -> str:
    """The code for one ceremony: the options as an object literal, the mode as a string."""
    # the mode first: the options hold text people chose (their name)
    return SCRIPT.replace("__MODE__", json.dumps(mode)).replace("__OPTIONS__", options_json)
