/**
 * Internal interfaces (Interface type=internal; add-br makes one named like the bridge): a
 * device the host stack uses, which must keep working with no daemon running.
 *
 * Choice: a veth pair NAME <-> HIDDEN, HIDDEN = "bvi" + 8 hex digits of sha1(NAME) (11 chars,
 * within IFNAMSIZ). HIDDEN is the datapath port, attached at ingress like any system port:
 * - the host sends on NAME -> the frame arrives at HIDDEN's ingress -> the datapath;
 * - the datapath outputs to the port -> bpf_redirect to HIDDEN's egress -> NAME receives it;
 * - execute (first packet of a flow, bpf bvs_exec) -> a clone to HIDDEN's egress -> NAME too.
 * The alternative (BVS_PORT_F_INTERNAL: attach at a single device's egress and deliver with
 * BPF_F_INGRESS) needs no pair, but a device the daemon made and must re-make after a crash
 * is exactly what the pair avoids: it lives on with no daemon, like the pinned datapath.
 * The pair is made once and left in place across daemon restarts (it carries traffic while the
 * daemon is down); it is deleted when its Interface row goes. Deleting NAME deletes HIDDEN.
 * The Interface's name is NAME; the datapath port is named HIDDEN (dpctl shows it).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { NetdevError } from './errors.ts';


/** Name of the hidden datapath end of internal interface `name`. */
export function hiddenName(name: string): string {
  return `bvi${crypto.createHash('sha1').update(name).digest('hex').slice(0, 8)}`;
}

function exists(dev: string): boolean {
  return fs.existsSync(`/sys/class/net/${dev}`);
}

function ip(args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  } catch (err) {
    const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
    throw new NetdevError('INTERNAL_PORT', `ip ${args.join(' ')}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** The veth peer of `dev` by ifindex (iflink), or undefined. */
function peerIfindex(dev: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${dev}/iflink`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

function ifindex(dev: string): number | undefined {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * Makes sure the pair NAME <-> HIDDEN exists and both ends are up; adopts an existing pair.
 * A NAME that exists but is not our pair (a user's device) is an error: we never take it over.
 * Returns the datapath device (HIDDEN).
 */
export function ensureInternalPort(name: string, mac?: string): string {
  const hidden = hiddenName(name);
  const haveName = exists(name);
  const haveHidden = exists(hidden);
  if (haveName && haveHidden && peerIfindex(name) === ifindex(hidden)) {
    // adopted as is
  } else if (haveName) {
    throw new NetdevError('INTERNAL_PORT', `could not create internal interface ${name}: a device of that name exists and is not a bvs internal port`);
  } else {
    if (haveHidden) ip(['link', 'del', hidden]);
    ip(['link', 'add', name, 'type', 'veth', 'peer', 'name', hidden]);
    if (mac) ip(['link', 'set', 'dev', name, 'address', mac]);
    // The hidden end must not answer anything itself (no IPv6 autoconf chatter into the bridge).
    try { fs.writeFileSync(`/proc/sys/net/ipv6/conf/${hidden}/disable_ipv6`, '1'); } catch { /* no IPv6 */ }
  }
  ip(['link', 'set', 'dev', hidden, 'up']);
  return hidden;
}

/** Whether `name` is our internal pair (used on restart to adopt). */
export function isInternalPort(name: string): boolean {
  const hidden = hiddenName(name);
  return exists(name) && exists(hidden) && peerIfindex(name) === ifindex(hidden);
}

/** Whether `dev` is named like the hidden end of an internal port. */
export function isHiddenName(dev: string): boolean {
  return /^bvi[0-9a-f]{8}$/.test(dev);
}

/** Deletes a device (and so its veth peer); missing is fine. */
export function removeDevice(dev: string): void {
  if (exists(dev)) ip(['link', 'del', dev]);
}

/** Deletes the pair (both ends go with NAME). Missing is fine. */
export function removeInternalPort(name: string): void {
  if (isInternalPort(name)) ip(['link', 'del', name]);
  else if (exists(hiddenName(name))) ip(['link', 'del', hiddenName(name)]);
}
