// Attaches a pinned TC program to a device of this process's netns with a tcx link, and pins the
// link so it outlives this process (unlinking the pin, or deleting the device, detaches it).
// The addon attaches by ifindex in the caller's netns, so a test whose ports live in another
// netns runs this there: nsenter --net=/run/netns/NS node tcx-attach.mjs PROGPIN IFNAME
// ingress|egress LINKPIN. (nsenter, not `ip netns exec`: that remounts /sys and hides bpffs.)
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const addon = createRequire(import.meta.url)(path.resolve(here, '../../addon/build/Release/bvs_addon.node'));
const [progPin, ifname, dir, linkPin] = process.argv.slice(2);
const ifindex = addon.ifNameToIndex(ifname ?? '');
if (!linkPin || !ifindex || (dir !== 'ingress' && dir !== 'egress')) {
  process.stderr.write(`usage: tcx-attach.mjs PROGPIN IFNAME ingress|egress LINKPIN (${ifname}: ifindex ${ifindex})\n`);
  process.exit(2);
}
const prog = addon.objGet(progPin);
const link = addon.tcxAttach(prog, ifindex, dir === 'egress');
addon.objPin(link, linkPin);
