#!/bin/bash
# Survey stage 2's SSH and HTTP checks against real servers in a network
# namespace (REFERENCE.md "Testing against real things"), through
# kizuki-logincheck (the engine, the plug-ins, the records):
#
#   dropbear (lib/real_servers.bash: admin/admin weak, operator strong,
#     guest with an empty password; accounts only in a private passwd/shadow)
#     :22    a weak list → login-possible admin/admin; a list without the
#            password → login-failed
#     :2222  -B (blank passwords allowed): "none" logs guest in with no
#            credential → login-possible for guest, password not asked
#     :2223  -s (no password logins): no-login-prompt (publickey only)
#   busybox telnetd :23 checked as SSH → not-ssh; dropbear :22 checked as
#     HTTP → not-http
#   lighttpd with mod_auth: Basic (htpasswd) on /basic/, Digest MD5
#     (htdigest) on /digest/, Digest SHA-256 on /digest256/ → login-possible
#     with the right pair, login-failed without it
#   a python3 server that answers 200 to any Authorization → accepts-any,
#     never weak-credentials
#   redirects to a listener inside the scope and to one outside it → never
#     followed: both listeners see no connection
#
# and that nothing reached the host's account files (netns.bash checks).
# Needs root; about two minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib/netns.bash
. "$here/lib/netns.bash"
# shellcheck source=lib/real_servers.bash
. "$here/lib/real_servers.bash"
kz_ns_init
bin=${KZ_BUILD_DIR:-build/dev}/kizuki-logincheck
[ -x "$bin" ] || { kz_log "skipped: $bin not built"; exit 77; }
for tool in lighttpd htpasswd python3; do
	command -v "$tool" >/dev/null || {
		kz_log "skipped: $tool is not installed (lighttpd, apache2-utils)"
		exit 77
	}
done

kz_ns_add ns authproto
ssh_addr=198.18.1.1
kz_real_servers_start "$ns" "$ssh_addr"
kz_logins_argv
kz_ns_spawn "$ns" "${KZ_LOGINS_ARGV[@]}" dropbear -F -E -B -p "$ssh_addr:2222" \
	-r "$KZ_TMP/dropbear_ed25519" -P "$KZ_TMP/dropbear-b.pid" 2>"$KZ_TMP/dropbear-b.log"
kz_ns_spawn "$ns" "${KZ_LOGINS_ARGV[@]}" dropbear -F -E -s -p "$ssh_addr:2223" \
	-r "$KZ_TMP/dropbear_ed25519" -P "$KZ_TMP/dropbear-s.pid" 2>"$KZ_TMP/dropbear-s.log"

# lighttpd: one path per scheme, each with its own password file.
web=198.18.2.1
for a in 198.18.2.1 198.18.2.2 198.18.2.3 198.18.2.4 198.18.2.5 198.18.2.6 198.18.3.6; do
	ip -n "$ns" addr add "$a/32" dev lo
done
mkdir -p "$KZ_TMP/www/basic" "$KZ_TMP/www/digest" "$KZ_TMP/www/digest256"
for d in basic digest digest256; do echo "admin page" >"$KZ_TMP/www/$d/index.html"; done
htpasswd -b -c -m "$KZ_TMP/htpasswd" admin admin 2>/dev/null
printf 'admin:kz-digest:%s\n' "$(printf 'admin:kz-digest:admin' | md5sum | cut -d' ' -f1)" \
	>"$KZ_TMP/htdigest"
printf 'admin:admin\n' >"$KZ_TMP/plain"
cat >"$KZ_TMP/lighttpd.conf" <<EOF
server.modules = ("mod_auth", "mod_authn_file")
server.document-root = "$KZ_TMP/www"
server.bind = "$web"
server.port = 80
server.errorlog = "$KZ_TMP/lighttpd.err"
index-file.names = ("index.html")
\$HTTP["url"] =~ "^/basic/" {
  auth.backend = "htpasswd"
  auth.backend.htpasswd.userfile = "$KZ_TMP/htpasswd"
  auth.require = ("" => ("method" => "basic", "realm" => "kz-basic", "require" => "valid-user"))
}
\$HTTP["url"] =~ "^/digest/" {
  auth.backend = "htdigest"
  auth.backend.htdigest.userfile = "$KZ_TMP/htdigest"
  auth.require = ("" => ("method" => "digest", "realm" => "kz-digest", "require" => "valid-user"))
}
\$HTTP["url"] =~ "^/digest256/" {
  auth.backend = "plain"
  auth.backend.plain.userfile = "$KZ_TMP/plain"
  auth.require = ("" => ("method" => "digest", "realm" => "kz-sha", "algorithm" => "SHA-256",
                         "require" => "valid-user"))
}
EOF
kz_ns_spawn "$ns" lighttpd -D -f "$KZ_TMP/lighttpd.conf"

cat >"$KZ_TMP/devices.json" <<'EOF'
[{"addr": "198.18.2.2", "port": 80, "role": "accept-any"},
 {"addr": "198.18.2.3", "port": 80, "role": "not-http"},
 {"addr": "198.18.2.4", "port": 80, "role": "redirect", "location": "http://198.18.2.5/login.htm"},
 {"addr": "198.18.2.5", "port": 80, "role": "counter"},
 {"addr": "198.18.2.6", "port": 80, "role": "redirect", "location": "http://198.18.3.6/"},
 {"addr": "198.18.3.6", "port": 80, "role": "counter"}]
EOF
kz_ns_spawn "$ns" python3 "$here/lib/http_devices.py" "$KZ_TMP/devices.json" \
	"$KZ_TMP/http-stats.json" "$KZ_TMP/http-ready"
http_pid=$KZ_PID
for _ in $(seq 100); do [ -f "$KZ_TMP/http-ready" ] && break; sleep 0.1; done
[ -f "$KZ_TMP/http-ready" ] || kz_die "the python HTTP devices did not start"
kz_wait_port "$ns" "$ssh_addr" 2222
kz_wait_port "$ns" "$ssh_addr" 2223
kz_wait_port "$ns" "$web" 80

# The scope holds the devices, not 198.18.3.0/24 (one redirect points there).
printf '198.18.1.0/24\n198.18.2.0/24\n' >"$KZ_TMP/scope.txt"
printf 'root:xc3511\nadmin:1234\nadmin:admin\nguest:guest:ssh\n' >"$KZ_TMP/weak.txt"
printf 'root:xc3511\nadmin:1234\nguest:guest:ssh\n' >"$KZ_TMP/strong.txt"
cat >"$KZ_TMP/targets.txt" <<EOF
$ssh_addr:22/ssh
$ssh_addr:2223/ssh
$ssh_addr:23/ssh
$ssh_addr:22/http
198.18.2.2:80/http
198.18.2.3:80/http
198.18.2.4:80/http
198.18.2.6:80/http
EOF
check() { # creds targets out [options]
	local creds="$1" targets="$2" out="$3"
	shift 3
	ip netns exec "$ns" "$bin" --targets-file "$targets" --scope "$KZ_TMP/scope.txt" \
		--allow-reserved --creds "$creds" --pace-ms 100 --run-id itest "$@" \
		>>"$out" 2>>"$KZ_TMP/logincheck.err" ||
		{ cat "$KZ_TMP/logincheck.err" >&2; kz_die "kizuki-logincheck failed"; }
}
check "$KZ_TMP/weak.txt" "$KZ_TMP/targets.txt" "$KZ_TMP/weak.jsonl"
echo "$ssh_addr:22/ssh" >"$KZ_TMP/t-ssh.txt"
echo "$ssh_addr:2222/ssh" >"$KZ_TMP/t-blank.txt"
echo "$web:80/http" >"$KZ_TMP/t-web.txt"
check "$KZ_TMP/strong.txt" "$KZ_TMP/t-ssh.txt" "$KZ_TMP/strong.jsonl"
check "$KZ_TMP/strong.txt" "$KZ_TMP/t-blank.txt" "$KZ_TMP/blank.jsonl"
for p in /basic/ /digest/ /digest256/; do
	check "$KZ_TMP/weak.txt" "$KZ_TMP/t-web.txt" "$KZ_TMP/web-weak.jsonl" --http-path "$p"
	check "$KZ_TMP/strong.txt" "$KZ_TMP/t-web.txt" "$KZ_TMP/web-strong.jsonl" --http-path "$p"
done
kz_ns_stop "$http_pid"
[ -f "$KZ_TMP/http-stats.json" ] || kz_die "the python HTTP devices wrote no statistics"

python3 - "$KZ_TMP" <<'EOF'
import json, sys
tmp = sys.argv[1]
errors = []
def check(cond, msg):
    if not cond:
        errors.append(msg)
def load(name):
    return [json.loads(l) for l in open("%s/%s" % (tmp, name))]
def key(r):
    return "%s:%d/%s" % (r["source.ip"], r["source.port"], r["protocol.application"])

weak = {key(r): r for r in load("weak.jsonl")}
want = {
    "198.18.1.1:22/ssh": ("login-possible", "admin", "admin"),
    "198.18.1.1:2223/ssh": ("no-login-prompt", None, None),
    "198.18.1.1:23/ssh": ("not-ssh", None, None),
    "198.18.1.1:22/http": ("not-http", None, None),
    "198.18.2.2:80/http": ("accepts-any", None, None),
    "198.18.2.3:80/http": ("not-http", None, None),
    "198.18.2.4:80/http": ("no-login-prompt", None, None),
    "198.18.2.6:80/http": ("no-login-prompt", None, None),
}
def expect(recs, k, status, user, pw):
    r = recs.get(k)
    if r is None:
        errors.append("%s: no record" % k)
        return None
    check(r["extra.status"] == status, "%s: %s, want %s (%s; %s)" % (
        k, r["extra.status"], status, r.get("extra.reason"), r.get("extra.login_detail")))
    check(r.get("extra.user") == user and r.get("extra.password") == pw,
          "%s: pair %r/%r, want %r/%r" % (k, r.get("extra.user"), r.get("extra.password"), user, pw))
    for f in ("feed.name", "time.source", "extra.finding_id", "extra.observation_id",
              "classification.identifier", "extra.scanner_ip"):
        check(f in r, "%s: no %s" % (k, f))
    return r
for k, (status, user, pw) in want.items():
    expect(weak, k, status, user, pw)
# Precision: weak credentials only where a listed pair logs in.
for k, r in weak.items():
    if r["classification.identifier"] == "weak-credentials":
        check(k == "198.18.1.1:22/ssh", "%s: reported weak credentials" % k)
check(weak.get("198.18.2.2:80/http", {}).get("classification.identifier") == "accepts-any",
      "accept-anything: identifier")
r = weak.get("198.18.1.1:22/ssh", {})
check(r.get("extra.banner", "").startswith("SSH-2.0-dropbear"), "ssh banner: %r" % r.get("extra.banner"))
check(r.get("extra.password_asked") is True, "ssh: password_asked")
check(r.get("extra.login_detail") == "password", "ssh: detail %r" % r.get("extra.login_detail"))
check("publickey" in weak.get("198.18.1.1:2223/ssh", {}).get("extra.login_detail", ""),
      "publickey-only: detail")
for k, loc in (("198.18.2.4:80/http", "http://198.18.2.5/login.htm"),
               ("198.18.2.6:80/http", "http://198.18.3.6/")):
    d = weak.get(k, {}).get("extra.login_detail", "")
    check(loc in d and "not followed" in d, "%s: detail %r" % (k, d))
    check(weak.get(k, {}).get("extra.connections") == 1, "%s: more than one connection" % k)

strong = {key(r): r for r in load("strong.jsonl")}
expect(strong, "198.18.1.1:22/ssh", "login-failed", None, None)
check(strong.get("198.18.1.1:22/ssh", {}).get("extra.attempts") == 3, "ssh strong: attempts")
blank = {key(r): r for r in load("blank.jsonl")}
r = expect(blank, "198.18.1.1:2222/ssh", "login-possible", "guest", "guest")
check(r is not None and r.get("extra.password_asked") is False, "blank password: password_asked")

web_weak, web_strong = load("web-weak.jsonl"), load("web-strong.jsonl")
check(len(web_weak) == 3 and len(web_strong) == 3, "web: records %d/%d" % (len(web_weak), len(web_strong)))
for r, d in zip(web_weak, ("/basic/: Basic", "/digest/: Digest MD5", "/digest256/: Digest SHA-256")):
    check(r["extra.status"] == "login-possible" and r.get("extra.user") == "admin" and
          r.get("extra.password") == "admin", "lighttpd %s: %s %r" % (d, r["extra.status"], r.get("extra.user")))
    check(r.get("extra.login_detail") == d, "lighttpd detail %r, want %r" % (r.get("extra.login_detail"), d))
for r in web_strong:
    check(r["extra.status"] == "login-failed", "lighttpd strong: %s (%s)" % (r["extra.status"], r.get("extra.reason")))

# Redirects are never followed: their targets saw nothing.
stats = json.load(open(tmp + "/http-stats.json"))
for k in ("198.18.2.5:80", "198.18.3.6:80"):
    check(stats[k]["connections"] == 0, "%s (a redirect's Location) saw %d connections" % (k, stats[k]["connections"]))
# The accept-anything server got the probe, one pair, the control.
acc = stats["198.18.2.2:80"]["requests"]
check(len(acc) == 3 and not acc[0]["auth"] and acc[1]["auth"] and acc[2]["auth"],
      "accept-any requests: %r" % acc)
if errors:
    print("\n".join(errors))
    sys.exit(1)
print("login_ssh_http: %d records checked" % (len(weak) + len(strong) + len(blank) + 6))
EOF

# dropbear's own account of it: one successful password login for admin
# (the pair; the control pair failed), and guest in without a password.
[ "$(grep -c "Password auth succeeded for 'admin'" "$KZ_TMP/dropbear.log")" = 1 ] ||
	kz_die "dropbear: expected exactly one admin login: $(grep -c succeeded "$KZ_TMP/dropbear.log")"
grep -q "Auth succeeded with blank password for 'guest'" "$KZ_TMP/dropbear-b.log" ||
	kz_die "dropbear -B: guest did not log in with no credential"
kz_log "ok"
