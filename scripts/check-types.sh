#!/bin/bash
# The published types as consumers see them (run by scripts/pack-check.sh):
# attw (@arethetypeswrong/cli) and publint on the tarball, then a consumer
# project's `tsc --noEmit` with the default skipLibCheck: false, under
# moduleResolution node16 (a CommonJS and an ES module file) and bundler,
# without the optional peers (etcd3, @kubernetes/client-node, prom-client).
#
# Usage: scripts/check-types.sh <tarball> <work dir>
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tarball=$1
dir=$2
bin="$root/node_modules/.bin"

echo "--- attw --pack"
"$bin/attw" "$tarball" --format ascii
echo "--- publint"
(cd "$root" && "$bin/publint" --strict)

echo "--- consumer tsc (skipLibCheck false, no optional peers)"
mkdir -p "$dir/src"
cd "$dir"
npm init -y >/dev/null
npm install --no-audit --no-fund --prefer-offline --ignore-scripts --loglevel=error "$tarball" "@types/node@^20" >/dev/null
for peer in etcd3 @kubernetes/client-node prom-client; do
  if [ -e "node_modules/$peer" ]; then echo "check-types: $peer is installed: the check needs it absent" >&2; exit 1; fi
done

# What an embedder writes: options objects with their types, the electors'
# structural client types, events, and each entry point.
cat >src/cjs.cts <<'EOF'
import { VipAnnouncer, StaticElector, KubernetesLeaseElector, EtcdElector, loadVclusterConfig, type VipAnnouncerOptions, type KubeConfigLike, type EtcdClientLike } from 'vip-announcer'
import { Netlink, gratuitousArp, NativeUnavailableError } from 'vip-announcer/net'
import { runElectorConformance } from 'vip-announcer/testing'

const options: VipAnnouncerOptions = { vip: '192.0.2.100', interface: 'eth0', elector: new StaticElector() }
const announcer = new VipAnnouncer(options)
announcer.on('leader', (e) => e.vips.join(','))
declare const kubeConfig: KubeConfigLike
declare const etcd: EtcdClientLike
new KubernetesLeaseElector({ namespace: 'ns', name: 'lease', identity: 'a', kubeConfig })
new EtcdElector({ name: 'lease', identity: 'a', client: etcd })
export const used = [loadVclusterConfig, Netlink.open, gratuitousArp, runElectorConformance, NativeUnavailableError]
EOF
sed -e 's/^export const used/export const usedEsm/' src/cjs.cts >src/esm.mts
cat >src/bundler.ts <<'EOF'
import { VipAnnouncer, StaticElector } from 'vip-announcer'
import { LinkMonitor } from 'vip-announcer/net'
import { formatMeasurements } from 'vip-announcer/testing'
export const bundled = [new VipAnnouncer({ vip: '192.0.2.100', interface: 'eth0', elector: new StaticElector() }), LinkMonitor, formatMeasurements]
EOF
common='"strict": true, "skipLibCheck": false, "noEmit": true, "target": "ES2022", "lib": ["ES2022"], "types": ["node"]'
echo "{ \"compilerOptions\": { $common, \"module\": \"node16\", \"moduleResolution\": \"node16\" }, \"files\": [\"src/cjs.cts\", \"src/esm.mts\"] }" >tsconfig.node16.json
echo "{ \"compilerOptions\": { $common, \"module\": \"esnext\", \"moduleResolution\": \"bundler\" }, \"files\": [\"src/bundler.ts\"] }" >tsconfig.bundler.json
for config in node16 bundler; do
  "$bin/tsc" -p "tsconfig.$config.json" && echo "tsc ($config, skipLibCheck false): no errors"
done
