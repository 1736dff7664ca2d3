#!/bin/sh
# Regenerates argon2-cli.json: Argon2 PHC strings made by an implementation
# independent of golang.org/x/crypto/argon2, the command-line tool of the
# reference C implementation as Debian packages it (package argon2,
# 0~20171227). Salts are fixed strings, so the output is deterministic:
#
#   apt-get install argon2 && sh argon2-cli.sh > argon2-cli.json
#
# "want" is what password.ParseImport and the default floor
# (m=19456,t=2,p=1) make of each string as a pre-hashed import: "ok",
# "weak" (valid, below the floor) or "malformed".
set -eu

entry() { # want password salt argon2-flags...
	want=$1 pw=$2 salt=$3
	shift 3
	phc=$(printf '%s' "$pw" | argon2 "$salt" "$@" -e)
	printf '%s    {"want": "%s", "password": "%s", "flags": "%s", "phc": "%s"}' "$sep" "$want" "$pw" "$*" "$phc"
	sep=',
'
}

sep=''
echo '{'
echo '  "about": "Made by sh argon2-cli.sh with the argon2 command of the reference C implementation (Debian package argon2 0~20171227); flags are that command'"'"'s: -k memory in KiB, -t iterations, -p lanes, -l output bytes, -v version. want: ok, weak (below the default floor m=19456,t=2,p=1) or malformed, as a pre-hashed import.",'
echo '  "vectors": ['
entry ok "independent-default" "cli-salt-0123456" -id -k 19456 -t 2 -p 1 -l 32
entry ok "pässwörd ünïcödé ✓" "cli-salt-unicode" -id -k 65536 -t 3 -p 4 -l 32
entry ok "two-lanes" "cli-salt-2-lanes" -id -k 19456 -t 2 -p 2 -l 32
entry ok "minimum-sizes" "8bytesal" -id -k 19456 -t 2 -p 1 -l 16
entry ok "argon2i-from-cli" "cli-salt-argon2i" -i -k 19456 -t 2 -p 1 -l 32
entry ok "argon2d-from-cli" "cli-salt-argon2d" -d -k 19456 -t 2 -p 1 -l 32
entry weak "cli-defaults" "cli-salt-default" -id -k 4096 -t 3 -p 1 -l 32
entry weak "one-pass" "cli-salt-1-pass0" -id -k 19456 -t 1 -p 1 -l 32
entry malformed "short-output" "cli-salt-short00" -id -k 19456 -t 2 -p 1 -l 12
entry malformed "version-16" "cli-salt-v16-000" -id -k 19456 -t 2 -p 1 -l 32 -v 10
echo
echo '  ]'
echo '}'
