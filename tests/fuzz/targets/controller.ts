/**
 * Fuzz target of Controller.target (src/connmgr/target.ts): any text gives a Target or a
 * TargetError, and a target that parses names what it says: a port in 0..65535, an address
 * Node takes as IP, a non-empty path.
 */
import net from 'node:net';
import { parseTarget, TargetError } from '../../../src/connmgr/index.ts';
import { PropertyViolation, prototypeState, textTarget, type Target } from '../target.ts';

const FRAGMENTS = ['tcp:', 'ptcp:', 'unix:', 'punix:', 'ssl:', '127.0.0.1', '[::1]', '::1', ':6653', ':0', ':65536', '/', 'x.sock', ':'];

export const controllerTarget: Target<string> = {
  ...textTarget(FRAGMENTS, (e) => e instanceof TargetError, prototypeState),
  name: 'controller-target',
  run(s) {
    const t = parseTarget(s, '/run/bvs');
    if (t.kind === 'tcp' || t.kind === 'ptcp') {
      if (!Number.isInteger(t.port) || t.port < 0 || t.port > 65535) throw new PropertyViolation(`"${s}": port ${t.port}`);
      if (net.isIP(t.host) === 0) throw new PropertyViolation(`"${s}": host ${t.host} is not an IP address`);
    } else if (t.path === '') {
      throw new PropertyViolation(`"${s}": empty path`);
    }
  },
};
