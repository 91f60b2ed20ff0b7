#!/usr/bin/env bash
# Installs the packed construct into a fresh CDK app and synthesizes with it, as a user would:
#   bash infra/cdk/package-test/check-package.sh TARBALL WORK_DIR
# WORK_DIR gets package.json (the tarball, plus aws-cdk-lib and constructs at the versions
# infra/cdk pins), app.ts compiled against the package's own .d.ts, and cdk.out/ from `cdk synth`;
# assert-template.cjs then checks the template and the installed package.
# npm --prefer-offline takes aws-cdk-lib and constructs from npm's cache that infra/cdk's
# `npm ci` just filled, so this needs the registry only when the cache is cold.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cdk_dir=$(cd "$here/.." && pwd)
[ $# -eq 2 ] || { echo "usage: check-package.sh TARBALL WORK_DIR" >&2; exit 2; }
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
app_dir=$2

# What the tarball holds: the compiled lib, its types, the jsii assembly; no tests, no sources.
listing=$(tar -tzf "$tarball")
for wanted in package/package.json package/.jsii package/dist/index.js package/dist/index.d.ts package/README.md; do
  grep -qx "$wanted" <<<"$listing" || { echo "check-package: $wanted missing from $(basename "$tarball")" >&2; exit 1; }
done
if grep -E '^package/(test|bin|build|node_modules)/|\.ts$' <<<"$listing" | grep -v '\.d\.ts$' >/dev/null; then
  echo "check-package: the tarball holds files a user does not need:" >&2
  grep -E '^package/(test|bin|build|node_modules)/|\.ts$' <<<"$listing" | grep -v '\.d\.ts$' >&2
  exit 1
fi

pinned() { node -p "require('$cdk_dir/package.json').devDependencies['$1']"; }
mkdir -p "$app_dir"
cp "$here/app.ts" "$here/assert-template.cjs" "$app_dir/"
cat >"$app_dir/package.json" <<JSON
{
  "name": "ecs-emf-exporter-cdk-consumer",
  "private": true,
  "dependencies": {
    "aws-cdk-lib": "$(pinned aws-cdk-lib)",
    "constructs": "$(pinned constructs)",
    "ecs-emf-exporter-cdk": "file:$tarball"
  }
}
JSON
cat >"$app_dir/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2022"],
    "module": "node16",
    "moduleResolution": "node16",
    "strict": true,
    "skipLibCheck": true,
    "types": []
  },
  "files": ["app.ts"]
}
JSON

cd "$app_dir"
npm install --silent --prefer-offline --no-audit --no-fund
# infra/cdk's pinned TypeScript and CDK CLI: the app sees only the installed package.
"$cdk_dir/node_modules/.bin/tsc" -p tsconfig.json
CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true \
  "$cdk_dir/node_modules/.bin/cdk" synth --app "node app.js" --no-notices --quiet -o cdk.out >/dev/null
node assert-template.cjs cdk.out/ConsumerStack.template.json
