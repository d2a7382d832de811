#!/bin/sh
# usage: mirror_pki.sh DIR — a CA made for one test run and a server certificate it signs for the TLS mirror on
# a host's loopback (127.0.0.1 and localhost): DIR/ca.crt, DIR/server.crt, DIR/server.key (ECDSA P-256, 30 days).
# Leaves an existing set alone, so every host of a scenario trusts the same CA.
set -eu
dir=$1
[ -s "$dir/ca.crt" ] && [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ] && exit 0
umask 077
mkdir -p "$dir"
cat > "$dir/openssl.cnf" <<'CNF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
# shellcheck disable=SC2086
openssl req -config "$dir/openssl.cnf" -x509 -extensions ca $ec -sha256 -days 30 \
    -subj "/CN=fleetops test mirror CA" -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
# shellcheck disable=SC2086
openssl req -config "$dir/openssl.cnf" -new $ec -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
openssl x509 -req -sha256 -days 30 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial 2 \
    -extfile "$dir/openssl.cnf" -extensions server -out "$dir/server.crt" 2>/dev/null
openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" >/dev/null
rm -f "$dir/server.csr"
