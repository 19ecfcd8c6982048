/**
 * ovs-vsctl's controller, fail-mode, manager and bridge external-id commands (ovs-vsctl(8)
 * "Controller Connectivity", "Manager Connectivity", "Bridge Commands"). They edit the same
 * columns as the generic `set`, with ovs-vsctl's shortcuts and output. (The bvs daemon keeps
 * this configuration; it does not speak OpenFlow to controllers.)
 *
 * Neighbours: context.ts, db.ts, model.ts, format.ts.
 */
import type { CommandSpec } from './context.ts';
import { mustBridge, ovsRow, refs, set, str } from './model.ts';
import { atomEquals, canonical, VsctlError, type Atom } from './schema.ts';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const getController: CommandSpec = {
  name: 'get-controller', usage: 'get-controller BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    ctx.out.push(...refs(ctx.db, br, 'controller', 'Controller').map((c) => str(c, 'target')).sort(byString));
  },
};

const delController: CommandSpec = {
  name: 'del-controller', usage: 'del-controller BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: true,
  run(ctx) {
    ctx.db.set(mustBridge(ctx.db, ctx.args[0]!), 'controller', set());
  },
};

const setController: CommandSpec = {
  name: 'set-controller', usage: 'set-controller BRIDGE TARGET...', minArgs: 2, maxArgs: Infinity, options: [], write: true,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    const rows = ctx.args.slice(1).map((target) => ctx.db.insert('Controller', { target: set(target) }));
    ctx.db.set(br, 'controller', set(...rows.map((r) => r.uuid)));
  },
};

const FAIL_MODES = ['standalone', 'secure'];

const getFailMode: CommandSpec = {
  name: 'get-fail-mode', usage: 'get-fail-mode BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const mode = str(mustBridge(ctx.db, ctx.args[0]!), 'fail_mode');
    if (mode !== '') ctx.out.push(mode);
  },
};

const delFailMode: CommandSpec = {
  name: 'del-fail-mode', usage: 'del-fail-mode BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: true,
  run(ctx) {
    ctx.db.set(mustBridge(ctx.db, ctx.args[0]!), 'fail_mode', set());
  },
};

const setFailMode: CommandSpec = {
  name: 'set-fail-mode', usage: 'set-fail-mode BRIDGE standalone|secure', minArgs: 2, maxArgs: 2, options: [], write: true,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    const mode = ctx.args[1]!;
    if (!FAIL_MODES.includes(mode)) throw new VsctlError('fail-mode must be "standalone" or "secure"');
    ctx.db.set(br, 'fail_mode', set(mode));
  },
};

const getManager: CommandSpec = {
  name: 'get-manager', usage: 'get-manager', minArgs: 0, maxArgs: 0, options: [], write: false,
  run(ctx) {
    const ovs = ovsRow(ctx.db, false);
    if (ovs === undefined) return;
    ctx.out.push(...refs(ctx.db, ovs, 'manager_options', 'Manager').map((m) => str(m, 'target')).sort(byString));
  },
};

const delManager: CommandSpec = {
  name: 'del-manager', usage: 'del-manager', minArgs: 0, maxArgs: 0, options: [], write: true,
  run(ctx) {
    ctx.db.set(ovsRow(ctx.db, true)!, 'manager_options', set());
  },
};

const setManager: CommandSpec = {
  name: 'set-manager', usage: 'set-manager TARGET...', minArgs: 1, maxArgs: Infinity, options: [], write: true,
  run(ctx) {
    const ovs = ovsRow(ctx.db, true)!;
    const rows = ctx.args.map((target) => ctx.db.insert('Manager', { target: set(target) }));
    ctx.db.set(ovs, 'manager_options', set(...rows.map((r) => r.uuid)));
  },
};

const brSetExternalId: CommandSpec = {
  name: 'br-set-external-id', usage: 'br-set-external-id BRIDGE KEY [VALUE]', minArgs: 2, maxArgs: 3, options: [], write: true,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    const [, key, value] = ctx.args as [string, string, string | undefined];
    const cur = br.cols.get('external_ids') as { kind: 'map'; pairs: [Atom, Atom][] };
    const pairs = cur.pairs.filter(([k]) => !atomEquals(k, key));
    if (value !== undefined) pairs.push([key, value]);
    ctx.db.set(br, 'external_ids', canonical({ kind: 'map', pairs }));
  },
};

const brGetExternalId: CommandSpec = {
  name: 'br-get-external-id', usage: 'br-get-external-id BRIDGE [KEY]', minArgs: 1, maxArgs: 2, options: [], write: false,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    const pairs = (br.cols.get('external_ids') as { pairs: [Atom, Atom][] }).pairs;
    const key = ctx.args[1];
    if (key !== undefined) {
      const p = pairs.find(([k]) => k === key);
      if (p !== undefined) ctx.out.push(String(p[1]));
      return;
    }
    ctx.out.push(...pairs.map(([k, v]) => `${String(k)}=${String(v)}`));
  },
};

export const ctlCommands: readonly CommandSpec[] = [
  getController, delController, setController, getFailMode, delFailMode, setFailMode,
  getManager, delManager, setManager, brSetExternalId, brGetExternalId,
];
