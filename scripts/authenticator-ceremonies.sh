#!/usr/bin/env bash
# Registers a passkey and signs in with it against a WebAuthn relying party,
# using nothing but curl, jq and `rpserver authenticator serve`: the proof
# that the virtual authenticators serve any tool and any RP. Then the
# negative side: a tampered signature is refused, and a deleted credential
# can no longer sign.
#
# Environment:
#   AUTHN        the authenticator service, e.g. http://127.0.0.1:8091
#   RP           the relying party, e.g. http://127.0.0.1:8080 (rpserver) or
#                the bench/baseline go-webauthn server
#   ORIGIN       the origin the authenticator claims (the RP's allowed origin)
#   ADMIN_TOKEN  bearer token that may create users and Temporary Access Passes
#   PRESET       authenticator preset (default yubikey)
#   UPN          the user to create (default a random one)
# The RP must speak rpserver's user/TAP/WebAuthn contract (rpserver itself
# with the TAP method enabled, or bench/baseline).
set -euo pipefail
: "${AUTHN:?}" "${RP:?}" "${ORIGIN:?}" "${ADMIN_TOKEN:?}"
PRESET=${PRESET:-yubikey}
UPN=${UPN:-curl-$RANDOM$RANDOM@lab.example}

# post URL BEARER BODY: prints the response body, fails on a non-2xx.
post() {
  local out status
  out=$(mktemp)
  status=$(curl -sS -o "$out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    ${2:+-H "Authorization: Bearer $2"} --data-binary "$3" "$1")
  if [ "${status:0:1}" != 2 ]; then
    echo "POST $1 -> $status: $(cat "$out")" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}
# status METHOD URL [BODY]: prints only the HTTP status.
status() {
  curl -sS -o /dev/null -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$2"
}
step() { echo "== $*" >&2; }

step "authenticator: $PRESET"
AUTH=$(post "$AUTHN/authenticators" "" "$(jq -n --arg p "$PRESET" '{preset: $p}')" | jq -r .id)

step "user $UPN, a Temporary Access Pass, a session"
USER_ID=$(post "$RP/v1.0/users" "$ADMIN_TOKEN" "$(jq -n --arg u "$UPN" '{userPrincipalName: $u, displayName: $u, accountEnabled: true}')" | jq -r .id)
TAP=$(post "$RP/v1.0/users/$USER_ID/authentication/temporaryAccessPassMethods" "$ADMIN_TOKEN" '{}' | jq -r .temporaryAccessPass)
SESSION=$(post "$RP/signin/tap" "" "$(jq -n --arg u "$UPN" --arg t "$TAP" '{userPrincipalName: $u, temporaryAccessPass: $t}')" | jq -r .sessionToken)

step "registration: RP options -> authenticator -> RP"
OPTIONS=$(post "$RP/webauthn/registration/begin" "$SESSION" '{"displayName":"curl passkey"}')
CREDENTIAL=$(post "$AUTHN/authenticators/$AUTH/create" "" "$(jq -n --argjson o "$OPTIONS" --arg origin "$ORIGIN" '{options: $o, origin: $origin}')")
post "$RP/webauthn/registration/finish" "$SESSION" "$CREDENTIAL" >/dev/null
CRED_ID=$(echo "$CREDENTIAL" | jq -r .id)
counter() { curl -sS "$AUTHN/authenticators/$AUTH/credentials" | jq -r --arg id "$CRED_ID" '.value[] | select(.id == $id) | .signCount'; }
COUNT0=$(counter)

signin() { # signin [TAMPER-JSON]: begin, authenticator, finish
  local options assertion
  options=$(post "$RP/webauthn/authentication/begin" "" "$(jq -n --arg u "$UPN" '{userPrincipalName: $u}')")
  assertion=$(post "$AUTHN/authenticators/$AUTH/get" "" \
    "$(jq -n --argjson o "$options" --arg origin "$ORIGIN" --argjson t "${1:-null}" '{options: $o, origin: $origin, tamper: $t}')")
  post "$RP/webauthn/authentication/finish" "" "$assertion" >/dev/null
}

step "sign-in twice"
signin
signin
COUNT=$(counter)
echo "credential $CRED_ID signCount $COUNT0 after registration, $COUNT after two sign-ins" >&2
if [ "$PRESET" = yubikey ] && [ "$COUNT" != $((COUNT0 + 2)) ]; then
  echo "FAIL: a YubiKey's counter should have grown by 2" >&2
  exit 1
fi

step "a tampered signature is refused"
if signin '{"badSignature": true}' 2>/dev/null; then
  echo "FAIL: the RP accepted an assertion with a corrupted signature" >&2
  exit 1
fi

step "a deleted credential cannot sign"
[ "$(status DELETE "$AUTHN/authenticators/$AUTH/credentials/$CRED_ID")" = 204 ]
OPTIONS=$(post "$RP/webauthn/authentication/begin" "" "$(jq -n --arg u "$UPN" '{userPrincipalName: $u}')")
GOT=$(status POST "$AUTHN/authenticators/$AUTH/get" "$(jq -n --argjson o "$OPTIONS" --arg origin "$ORIGIN" '{options: $o, origin: $origin}')")
[ "$GOT" = 404 ] || { echo "FAIL: get after delete answered $GOT" >&2; exit 1; }

echo "ok: registered and signed in at $RP as $UPN with a $PRESET from $AUTHN (curl + jq only)"
