// Sends raw frames (hex arguments) out of an interface through the bvs addon's AF_PACKET path.
// Run inside a namespace: ip netns exec NS node inject.mjs IFNAME HEX...
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = createRequire(import.meta.url)(path.resolve(here, '../../addon/build/Release/bvs_addon.node'));
const [ifname, ...frames] = process.argv.slice(2);
const ifindex = addon.ifNameToIndex(ifname);
if (!ifindex) {
  process.stderr.write(`inject: no interface ${ifname}\n`);
  process.exit(2);
}
for (const hex of frames) addon.packetSend(ifindex, Buffer.from(hex, 'hex'));
addon.packetCloseAll();
