/**
 * Controller and listener targets, in OVS's syntax (ovs-vswitchd.conf.db(5), Controller.target):
 *
 *   tcp:IP[:PORT]     connect (active); PORT defaults to 6653; IPv6 as tcp:[::1]:6653
 *   unix:FILE         connect to a unix socket (relative FILE: under the run dir)
 *   ptcp:[PORT][:IP]  listen (passive); PORT defaults to 6653. IP defaults to loopback, not
 *                     OVS's every address: bvs opens no TCP listener beyond the host unless told.
 *   punix:FILE        listen on a unix socket, mode 0600
 *
 * ssl: and pssl: are refused (no TLS in bvs yet). Hostnames are refused: OVS takes addresses.
 */
import net from 'node:net';
import path from 'node:path';

export const OFP_PORT = 6653;

export type Target =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'ptcp'; host: string; port: number }
  | { kind: 'punix'; path: string };

export class TargetError extends Error {
  override name = 'TargetError';
}

export function isPassive(t: Target): boolean {
  return t.kind === 'ptcp' || t.kind === 'punix';
}

function port(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new TargetError(`"${whole}": port "${text}" is not a number 0-65535`);
  return Number(text);
}

function address(text: string, whole: string): string {
  const a = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (net.isIP(a) === 0) throw new TargetError(`"${whole}": "${text}" is not an IP address`);
  return a;
}

/** Splits "A[:B]" where A may be a bracketed IPv6 address. */
function hostAndRest(s: string): [string, string | undefined] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return [s, undefined];
    const rest = s.slice(end + 1);
    return [s.slice(0, end + 1), rest.startsWith(':') ? rest.slice(1) : rest === '' ? undefined : rest];
  }
  const i = s.indexOf(':');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Parses a target; a relative unix path is resolved against runDir when given. */
export function parseTarget(text: string, runDir?: string): Target {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'tcp': {
      const [h, p] = hostAndRest(rest);
      if (h === '') throw new TargetError(`"${text}": tcp needs an IP address`);
      return { kind: 'tcp', host: address(h, text), port: p === undefined || p === '' ? OFP_PORT : port(p, text) };
    }
    case 'ptcp': {
      const i = rest.indexOf(':');
      const p = i < 0 ? rest : rest.slice(0, i);
      const h = i < 0 ? '' : rest.slice(i + 1);
      return { kind: 'ptcp', port: p === '' ? OFP_PORT : port(p, text), host: h === '' ? '127.0.0.1' : address(h, text) };
    }
    case 'unix': case 'punix': {
      if (rest === '') throw new TargetError(`"${text}": ${kind} needs a file name`);
      if (rest.includes('\0')) throw new TargetError(`"${text}": the file name has a NUL byte`);
      return { kind, path: runDir !== undefined && !path.isAbsolute(rest) ? path.join(runDir, rest) : rest };
    }
    case 'ssl': case 'pssl':
      throw new TargetError(`"${text}": ${kind} is not supported by bvs (no TLS yet): use tcp, ptcp, unix or punix`);
    default:
      throw new TargetError(`"${text}": unknown connection type "${kind}" (tcp, ptcp, unix, punix)`);
  }
}
