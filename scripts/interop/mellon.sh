#!/usr/bin/env bash
# Interoperability with a SAML SP nobody here wrote: Apache httpd with mod_auth_mellon (lasso), from Debian's
# packages, signs people in through a two-node Cohort cluster.
#
#   1. installs apache2 and libapache2-mod-auth-mellon when the module is missing (apt-get; needs root);
#   2. starts two Cohort engine nodes on loopback sharing one data directory, with user alice;
#   3. runs a private Apache (own ServerRoot, config, pid file and logs in a temp dir; the system's Apache and
#      port 80 are not touched) with two virtual hosts on free loopback ports:
#        - the "balancer" that is Cohort's issuer URL: the browser's requests go to node 1, while the SOAP
#          back channel (/saml/artifact, /saml/slo/soap) goes to node 2, so every artifact is resolved by the node
#          that did not issue it;
#        - the SP host with two mod_auth_mellon SPs: /post (Response over HTTP-POST, mellon's default) and
#          /artifact (HTTP-Artifact: mellon resolves the artifact with a signed ArtifactResolve over SOAP);
#   4. signs in with scripts/interop/mellon-client.mjs (a scripted browser) and checks what mellon hands the
#      application (NameID, uid, mail, groups), single sign-on across the SPs, and single logout started at one SP
#      that Cohort propagates to the other.
#
# Usage: scripts/interop/mellon.sh        (from anywhere; assumes `npm ci`, builds dist/ when it is missing)
# Env:   MELLON_INTEROP_KEEP=1 keeps the temp dir (logs, configs) for inspection.
# Exit status 0 when every check passed; otherwise 1 with the reason on stderr (and the tails of the logs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COHORT=("$(command -v node)" "$ROOT/bin/cohort.js")
MODULES=/usr/lib/apache2/modules
STARTED_AT=$(date +%s)
PASSWORD='correct-horse-battery-staple-42'
PIDS=()
TMP=''
APACHE_PID_FILE=''

log() { printf '[mellon-interop] %s\n' "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

show_logs() {
  [ -n "$TMP" ] && [ -d "$TMP" ] || return 0
  local f
  for f in "$TMP"/node-1.log "$TMP"/node-2.log "$TMP"/apache/logs/error.log "$TMP"/apache/logs/access.log; do
    [ -s "$f" ] || continue
    printf '[mellon-interop] ---- last lines of %s ----\n' "${f#"$TMP"/}" >&2
    tail -n 25 "$f" >&2
  done
}

# Stops a process by pid: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "$rc" -ne 0 ]; then show_logs; fi
  # Apache forks its children from the parent we started; stopping the parent (from its pid file too, in case the
  # foreground process was replaced) takes them down.
  if [ -n "$APACHE_PID_FILE" ] && [ -s "$APACHE_PID_FILE" ]; then stop_pid "$(cat "$APACHE_PID_FILE")"; fi
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$TMP" ] && [ -d "$TMP" ]; then
    if [ "${MELLON_INTEROP_KEEP:-}" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# wait_until DESCRIPTION SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds; dies after SECONDS.
wait_until() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${seconds}s waiting for $what"
    sleep 0.2
  done
}

# --- 1. Apache and mod_auth_mellon --------------------------------------------------------------------------

if [ ! -x /usr/sbin/apache2 ] || [ ! -f "$MODULES/mod_auth_mellon.so" ]; then
  log "installing apache2 and libapache2-mod-auth-mellon (Debian packages)"
  [ "$(id -u)" -eq 0 ] || die "apache2/mod_auth_mellon are missing and installing them needs root"
  command -v apt-get >/dev/null || die "apache2/mod_auth_mellon are missing and there is no apt-get to install them"
  timeout 300 apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
    apache2 libapache2-mod-auth-mellon >/dev/null || die "apt-get install apache2 libapache2-mod-auth-mellon failed"
fi
[ -f "$MODULES/mod_auth_mellon.so" ] || die "mod_auth_mellon.so is not in $MODULES"
command -v openssl >/dev/null || die "openssl is needed"
command -v curl >/dev/null || die "curl is needed"
MELLON_VERSION=$(dpkg-query -W -f '${Version}' libapache2-mod-auth-mellon 2>/dev/null || echo unknown)
LASSO_VERSION=$(dpkg-query -W -f '${Version}' liblasso3 2>/dev/null || echo unknown)
log "apache $(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p'), mod_auth_mellon $MELLON_VERSION, lasso $LASSO_VERSION"

# --- 2. Cohort ----------------------------------------------------------------------------------------------

if [ ! -f "$ROOT/dist/src/cli/main.js" ]; then
  log "dist/ is missing: building (npx tsc -p .)"
  (cd "$ROOT" && timeout 300 npx tsc -p .) || die "the TypeScript build failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cohort-mellon.XXXXXX")
# Apache's children (www-data when this runs as root) read the SP's configuration and keys.
chmod 755 "$TMP"
DATA="$TMP/cohort-data"
APROOT="$TMP/apache"
mkdir -p "$APROOT/logs" "$APROOT/run" "$APROOT/htdocs/post/protected" "$APROOT/htdocs/artifact/protected" "$APROOT/mellon"

# Six free loopback ports: two nodes' HTTP, two back-channel ports, the balancer (issuer) and the SP host.
read -r NODE1_PORT NODE2_PORT BACK1_PORT BACK2_PORT LB_PORT SP_PORT < <(node -e '
  const net = require("node:net");
  const servers = Array.from({ length: 6 }, () => net.createServer());
  Promise.all(servers.map((s) => new Promise((ok, fail) => { s.once("error", fail); s.listen(0, "127.0.0.1", ok); })))
    .then(() => { console.log(servers.map((s) => s.address().port).join(" ")); servers.forEach((s) => s.close()); });
')
[ -n "$SP_PORT" ] || die "could not find free ports"
ISSUER="http://127.0.0.1:$LB_PORT"
SP_BASE="http://127.0.0.1:$SP_PORT"

log "cohort cluster init in $DATA"
timeout 60 "${COHORT[@]}" cluster init --data-dir "$DATA" >/dev/null || die "cohort cluster init failed"

start_node() {
  local index=$1 port=$2 back=$3
  COHORT_DATA_DIR="$DATA" COHORT_ADMIN_PASSWORD='admin-password-for-interop' COHORT_AUTH_SCRYPT_COST=1024 \
    COHORT_LOG_LEVEL=info COHORT_NODE_ROLE=engine COHORT_NODE_INDEX="$index" COHORT_NODE_NAME="node-$index" \
    COHORT_HTTP_ISSUER="$ISSUER" COHORT_CLUSTER_PORT="$back" \
    COHORT_CLUSTER_INITIAL_HOSTS="127.0.0.1:$BACK1_PORT,127.0.0.1:$BACK2_PORT" \
    "${COHORT[@]}" start --data-dir "$DATA" --host 127.0.0.1 --port "$port" >"$TMP/node-$index.log" 2>&1 &
  PIDS+=($!)
}

node_started() { grep -q '"event":"node.started"' "$TMP/node-$1.log"; }
node_ready() {
  # Serving, and seeing both members alive.
  curl -fsS --max-time 2 "http://127.0.0.1:$1/status/v2/lbstatus" >/dev/null \
    && curl -fsS --max-time 2 "http://127.0.0.1:$1/status/v2" \
      | node -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{const m=JSON.parse(s).ClusterStatus.members;process.exit(m.filter((x)=>x.state==="alive").length===2?0:1)})'
}

# Node 1 first creates the data directory (keys, database); node 2 then joins.
log "starting Cohort node 1 on 127.0.0.1:$NODE1_PORT (issuer $ISSUER)"
start_node 1 "$NODE1_PORT" "$BACK1_PORT"
wait_until "Cohort node 1 to start" 30 node_started 1
log "starting Cohort node 2 on 127.0.0.1:$NODE2_PORT"
start_node 2 "$NODE2_PORT" "$BACK2_PORT"
wait_until "Cohort node 2 to start" 30 node_started 2
wait_until "node 1 to see both members alive" 30 node_ready "$NODE1_PORT"
wait_until "node 2 to see both members alive" 30 node_ready "$NODE2_PORT"
log "two-node cluster is up"

printf '%s' "$PASSWORD" | timeout 60 "${COHORT[@]}" users add alice --password-stdin --data-dir "$DATA" \
  --email alice@example.com --display-name 'Alice Example' --groups staff,interop >/dev/null \
  || die "cohort users add alice failed"

# --- 3. The two mellon SPs: keys, metadata, registration ----------------------------------------------------

# sp_metadata NAME BINDING: the SP's metadata, with the ACS for BINDING as the default (index 0).
sp_metadata() {
  local name=$1 binding=$2 base="$SP_BASE/$1/mellon" cert post artifact
  cert=$(sed -e '/-----/d' "$APROOT/mellon/$name.cert" | tr -d '\n')
  post="<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"$base/postResponse\""
  artifact="<md:AssertionConsumerService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact\" Location=\"$base/artifactResponse\""
  if [ "$binding" = artifact ]; then
    post="$post index=\"1\"/>"
    artifact="$artifact index=\"0\" isDefault=\"true\"/>"
  else
    post="$post index=\"0\" isDefault=\"true\"/>"
    artifact="$artifact index=\"1\"/>"
  fi
  cat <<EOF
<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="$base/metadata">
  <md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>$cert</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>$cert</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="$base/logout"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    $([ "$binding" = artifact ] && printf '%s\n    %s' "$artifact" "$post" || printf '%s\n    %s' "$post" "$artifact")
  </md:SPSSODescriptor>
</md:EntityDescriptor>
EOF
}

for sp in post artifact; do
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=mellon-$sp.interop.invalid" \
    -keyout "$APROOT/mellon/$sp.key" -out "$APROOT/mellon/$sp.cert" >/dev/null 2>&1 || die "openssl could not make the $sp SP's key"
  chmod 644 "$APROOT/mellon/$sp.key" # a throwaway test key, read by Apache's unprivileged children
  sp_metadata "$sp" "$sp" >"$APROOT/mellon/$sp-metadata.xml"
  timeout 60 "${COHORT[@]}" sps add --metadata "$APROOT/mellon/$sp-metadata.xml" --allow-sha1 --name "mellon $sp" \
    --data-dir "$DATA" >/dev/null || die "cohort sps add failed for the $sp SP"
  log "registered SP $SP_BASE/$sp/mellon/metadata (response over HTTP-$([ "$sp" = post ] && echo POST || echo Artifact))"
done

curl -fsS --max-time 10 -o "$APROOT/mellon/idp-metadata.xml" "http://127.0.0.1:$NODE1_PORT/saml/metadata" \
  || die "could not fetch Cohort's IdP metadata"
grep -q "entityID=\"$ISSUER/saml/metadata\"" "$APROOT/mellon/idp-metadata.xml" \
  || die "Cohort's metadata does not carry entityID $ISSUER/saml/metadata: $(head -c 400 "$APROOT/mellon/idp-metadata.xml")"

# --- 4. Apache ----------------------------------------------------------------------------------------------

for sp in post artifact; do
  cat >"$APROOT/htdocs/$sp/protected/index.shtml" <<'EOF'
<!DOCTYPE html>
<html><head><title>mellon</title></head><body><pre>
NAME_ID=<!--#echo var="MELLON_NAME_ID" -->
REMOTE_USER=<!--#echo var="REMOTE_USER" -->
UID=<!--#echo var="MELLON_uid" -->
MAIL=<!--#echo var="MELLON_mail" -->
DISPLAY_NAME=<!--#echo var="MELLON_displayName" -->
GROUPS=<!--#echo var="MELLON_groups" -->
IDP=<!--#echo var="MELLON_IDP" -->
</pre></body></html>
EOF
done
printf '<!DOCTYPE html><html><body>logged out</body></html>\n' >"$APROOT/htdocs/logged-out.html"

USER_LINES=''
if [ "$(id -u)" -eq 0 ]; then USER_LINES=$'User www-data\nGroup www-data'; fi

mellon_sp_config() {
  local sp=$1
  cat <<EOF
    <Location /$sp>
        MellonEnable info
        MellonEndpointPath /$sp/mellon
        MellonSPMetadataFile $APROOT/mellon/$sp-metadata.xml
        MellonSPPrivateKeyFile $APROOT/mellon/$sp.key
        MellonSPCertFile $APROOT/mellon/$sp.cert
        MellonIdPMetadataFile $APROOT/mellon/idp-metadata.xml
        MellonVariable $sp
        MellonIdP IDP
        MellonSecureCookie Off
        MellonSetEnv uid urn:oid:0.9.2342.19200300.100.1.1
        MellonSetEnv mail urn:oid:0.9.2342.19200300.100.1.3
        MellonSetEnv displayName urn:oid:2.16.840.1.113730.3.1.241
        MellonSetEnv groups urn:oid:1.3.6.1.4.1.5923.1.5.1.1
        MellonMergeEnvVars On ";"
    </Location>
    <Location /$sp/protected>
        AuthType Mellon
        MellonEnable auth
        Require valid-user
    </Location>
EOF
}

cat >"$APROOT/httpd.conf" <<EOF
ServerRoot "$APROOT"
ServerName 127.0.0.1
Listen 127.0.0.1:$LB_PORT
Listen 127.0.0.1:$SP_PORT
PidFile "$APROOT/run/httpd.pid"
DefaultRuntimeDir "$APROOT/run"
Mutex file:$APROOT/run default
ErrorLog "$APROOT/logs/error.log"
LogLevel warn auth_mellon:info
LogFormat "%h %{Host}i \"%r\" %>s %b %D" interop
CustomLog "$APROOT/logs/access.log" interop
$USER_LINES

LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule mime_module $MODULES/mod_mime.so
LoadModule dir_module $MODULES/mod_dir.so
LoadModule include_module $MODULES/mod_include.so
LoadModule proxy_module $MODULES/mod_proxy.so
LoadModule proxy_http_module $MODULES/mod_proxy_http.so
LoadModule auth_mellon_module $MODULES/mod_auth_mellon.so

StartServers 1
ServerLimit 4
ThreadsPerChild 16
MinSpareThreads 8
MaxSpareThreads 48
MaxRequestWorkers 64
Timeout 30
TypesConfig /etc/mime.types

MellonCacheSize 100
MellonLockFile "$APROOT/run/mellon.lock"

# Cohort's public URL, where a load balancer would stand: the browser's requests go to node 1, the SOAP back
# channel to node 2 (the artifact store then takes every artifact from node 1 over the cluster's back channel).
<VirtualHost 127.0.0.1:$LB_PORT>
    ProxyPreserveHost On
    ProxyTimeout 20
    ProxyPass /saml/artifact http://127.0.0.1:$NODE2_PORT/saml/artifact
    ProxyPass /saml/slo/soap http://127.0.0.1:$NODE2_PORT/saml/slo/soap
    ProxyPass / http://127.0.0.1:$NODE1_PORT/
    ProxyPassReverse / http://127.0.0.1:$NODE1_PORT/
</VirtualHost>

# The service providers.
<VirtualHost 127.0.0.1:$SP_PORT>
    DocumentRoot "$APROOT/htdocs"
    <Directory "$APROOT/htdocs">
        Options +Includes
        AddType text/html .shtml
        AddOutputFilter INCLUDES .shtml
        DirectoryIndex index.shtml index.html
        Require all granted
    </Directory>
$(mellon_sp_config post)
$(mellon_sp_config artifact)
</VirtualHost>
EOF

/usr/sbin/apache2 -f "$APROOT/httpd.conf" -t >/dev/null 2>"$TMP/apache-configtest.log" \
  || die "Apache rejected the configuration: $(cat "$TMP/apache-configtest.log")"
log "starting Apache (SP host 127.0.0.1:$SP_PORT, balancer 127.0.0.1:$LB_PORT)"
APACHE_PID_FILE="$APROOT/run/httpd.pid"
/usr/sbin/apache2 -f "$APROOT/httpd.conf" -DFOREGROUND >"$TMP/apache.out" 2>&1 &
PIDS+=($!)
wait_until "Apache to serve the SP host" 20 curl -fsS --max-time 2 -o /dev/null "$SP_BASE/logged-out.html"
wait_until "Apache to proxy to Cohort" 20 curl -fsS --max-time 2 -o /dev/null "$ISSUER/saml/metadata"
for sp in post artifact; do
  curl -fsS --max-time 10 "$SP_BASE/$sp/mellon/metadata" | grep -q "entityID=\"$SP_BASE/$sp/mellon/metadata\"" \
    || die "mellon does not serve the $sp SP's metadata at $SP_BASE/$sp/mellon/metadata"
done

# --- 5. Sign in, single sign-on, single logout --------------------------------------------------------------

log "signing in through mod_auth_mellon"
SUMMARY=$(timeout 120 node "$ROOT/scripts/interop/mellon-client.mjs" \
  --post-sp "$SP_BASE/post" --artifact-sp "$SP_BASE/artifact" --idp "$ISSUER" \
  --username alice --password "$PASSWORD" --email alice@example.com --group interop) \
  || die "the scripted sign-in through mod_auth_mellon failed (see above)"

# The artifacts were resolved by node 2 (the balancer sends /saml/artifact there) and found at node 1.
grep -q '"event":"saml.artifact_resolved".*"found":true' "$TMP/node-2.log" \
  || die "node 2 did not log a successful artifact resolution"
if grep -q '"event":"saml.artifact_resolved"' "$TMP/node-1.log"; then die "node 1 resolved an artifact; expected node 2 only"; fi
log "mellon's ArtifactResolve was answered by node 2 with the Response node 1 stored"
if grep -E -q '"level":"(error|fatal)"' "$TMP/node-1.log" "$TMP/node-2.log"; then
  grep -h -E '"level":"(error|fatal)"' "$TMP/node-1.log" "$TMP/node-2.log" | head -5 >&2
  die "Cohort logged errors during the run"
fi
if grep -E -q '\[auth_mellon:(error|warn)\]' "$APROOT/logs/error.log"; then
  grep -E '\[auth_mellon:(error|warn)\]' "$APROOT/logs/error.log" | head -5 >&2
  die "mod_auth_mellon logged errors or warnings during the run"
fi

ELAPSED=$(($(date +%s) - STARTED_AT))
echo "mellon interop OK: mod_auth_mellon $MELLON_VERSION (lasso $LASSO_VERSION) signed alice in over HTTP-POST and HTTP-Artifact (resolved cross-node), SSO across both SPs, SP-initiated SLO propagated; ${ELAPSED}s"
log "client summary: $SUMMARY"
