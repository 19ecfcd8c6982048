/**
 * ovs-vsctl's Open vSwitch, bridge, port and interface commands (ovs-vsctl(8) "Bridge Commands",
 * "Port Commands", "Interface Commands"), with the same messages for the same mistakes.
 *
 * A bridge is a Bridge row in Open_vSwitch.bridges with a port and an internal interface of its
 * own name (its "local port"). Removing a bridge or port only edits the referencing column; the
 * server garbage-collects the rows left without references.
 *
 * Neighbours: context.ts, db.ts, model.ts, db-cmds.ts (column=value arguments).
 */
import type { CommandContext, CommandSpec } from './context.ts';
import type { Row } from './db.ts';
import { applySetArg } from './db-cmds.ts';
import {
  atoms, bridges, findBridge, findIface, findPort, ifacesOf, mustBridge, ovsRow, portsOf, set, sortedNames, str,
} from './model.ts';
import { Uuid, VsctlError } from './schema.ts';

/** Bridge and port names become Linux interface names (IFNAMSIZ - 1 = 15 bytes). */
function checkIfName(what: string, name: string): void {
  if (Buffer.byteLength(name) > 15 || name === '' || /[\s/:]/.test(name) || name === '.' || name === '..') {
    throw new VsctlError(`cannot create a ${what} named ${name}: not a valid interface name (1-15 characters, no white space, '/' or ':')`);
  }
}

function without(row: Row, col: string, drop: Row): Uuid[] {
  return atoms(row, col).filter((a): a is Uuid => a instanceof Uuid && a.id !== drop.uuid.id);
}

function withRef(row: Row, col: string, add: Row): Uuid[] {
  return [...atoms(row, col).filter((a): a is Uuid => a instanceof Uuid), add.uuid];
}

/** Refuses a name already used by a port or interface elsewhere. */
function checkNameFree(ctx: CommandContext, what: string, name: string): void {
  const p = findPort(ctx.db, name);
  if (p !== undefined) {
    throw new VsctlError(`cannot create a ${what} named ${name} because a port named ${name} already exists on bridge ${str(p.bridge, 'name')}`);
  }
  const i = findIface(ctx.db, name);
  if (i !== undefined) {
    throw new VsctlError(`cannot create a ${what} named ${name} because an interface named ${name} already exists on bridge ${str(i.bridge, 'name')}`);
  }
}

function addPortRows(ctx: CommandContext, name: string, ifaceType?: string): Row {
  const iface = ctx.db.insert('Interface', { name: set(name), ...(ifaceType === undefined ? {} : { type: set(ifaceType) }) });
  ctx.newIfaces.push(iface);
  return ctx.db.insert('Port', { name: set(name), interfaces: set(iface.uuid) });
}

const init: CommandSpec = {
  name: 'init', usage: 'init', minArgs: 0, maxArgs: 0, options: [], write: true,
  run: (ctx) => { ovsRow(ctx.db, true); },
};

const addBr: CommandSpec = {
  name: 'add-br', usage: 'add-br BRIDGE', minArgs: 1, maxArgs: 3, options: ['--may-exist'], write: true,
  run(ctx) {
    const [name] = ctx.args as [string];
    if (ctx.args.length === 2) throw new VsctlError("'add-br' command requires 1 or 3 arguments");
    if (ctx.args.length === 3) throw new VsctlError(`cannot create fake bridge ${name}: bvs does not support fake (VLAN) bridges`);
    const ovs = ovsRow(ctx.db, true)!;
    if (findBridge(ctx.db, name) !== undefined) {
      if (ctx.options.has('--may-exist')) return;
      throw new VsctlError(`cannot create a bridge named ${name} because a bridge named ${name} already exists`);
    }
    checkIfName('bridge', name);
    checkNameFree(ctx, 'bridge', name);
    const port = addPortRows(ctx, name, 'internal');
    const br = ctx.db.insert('Bridge', { name: set(name), ports: set(port.uuid) });
    ctx.db.set(ovs, 'bridges', set(...withRef(ovs, 'bridges', br)));
  },
};

const delBr: CommandSpec = {
  name: 'del-br', usage: 'del-br BRIDGE', minArgs: 1, maxArgs: 1, options: ['--if-exists'], write: true,
  run(ctx) {
    const br = findBridge(ctx.db, ctx.args[0]!);
    if (br === undefined) {
      if (ctx.options.has('--if-exists')) return;
      throw new VsctlError(`no bridge named ${ctx.args[0]}`);
    }
    const ovs = ovsRow(ctx.db, false)!;
    ctx.db.set(ovs, 'bridges', set(...without(ovs, 'bridges', br)));
  },
};

const listBr: CommandSpec = {
  name: 'list-br', usage: 'list-br', minArgs: 0, maxArgs: 0, options: ['--real', '--fake'], write: false,
  run(ctx) {
    if (ctx.options.has('--fake')) return;
    ctx.out.push(...sortedNames(bridges(ctx.db)));
  },
};

const brExists: CommandSpec = {
  name: 'br-exists', usage: 'br-exists BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    if (findBridge(ctx.db, ctx.args[0]!) === undefined) throw new VsctlError('', { exitCode: 2 });
  },
};

const addPort: CommandSpec = {
  name: 'add-port', usage: 'add-port BRIDGE PORT [COLUMN[:KEY]=VALUE]...', minArgs: 2, maxArgs: Infinity,
  options: ['--may-exist'], write: true,
  run(ctx) {
    const [brName, name, ...settings] = ctx.args as [string, string, ...string[]];
    const br = mustBridge(ctx.db, brName);
    const existing = findPort(ctx.db, name);
    if (existing !== undefined) {
      const on = str(existing.bridge, 'name');
      if (ctx.options.has('--may-exist') && existing.bridge === br) {
        const ifs = ifacesOf(ctx.db, existing.port).map((i) => str(i, 'name'));
        if (ifs.length !== 1 || ifs[0] !== name) {
          throw new VsctlError(`"--may-exist add-port ${brName} ${name}" but ${name} actually has interface(s) ${ifs.join(', ')}`);
        }
        return;
      }
      if (ctx.options.has('--may-exist')) {
        throw new VsctlError(`"--may-exist add-port ${brName} ${name}" but ${name} is actually attached to bridge ${on}`);
      }
      throw new VsctlError(`cannot create a port named ${name} because a port named ${name} already exists on bridge ${on}`);
    }
    checkIfName('port', name);
    checkNameFree(ctx, 'port', name);
    const port = addPortRows(ctx, name);
    for (const s of settings) applySetArg(ctx, port, s);
    ctx.db.set(br, 'ports', set(...withRef(br, 'ports', port)));
  },
};

const delPort: CommandSpec = {
  name: 'del-port', usage: 'del-port [BRIDGE] PORT', minArgs: 1, maxArgs: 2, options: ['--if-exists', '--with-iface'], write: true,
  run(ctx) {
    const name = ctx.args[ctx.args.length - 1]!;
    const brName = ctx.args.length === 2 ? ctx.args[0]! : undefined;
    const br = brName === undefined ? undefined : mustBridge(ctx.db, brName);
    let found = findPort(ctx.db, name);
    if (found === undefined && ctx.options.has('--with-iface')) {
      const i = findIface(ctx.db, name);
      if (i !== undefined) found = { port: i.port, bridge: i.bridge };
    }
    if (found === undefined) {
      if (ctx.options.has('--if-exists')) return;
      throw new VsctlError(`no port named ${name}`);
    }
    if (br !== undefined && found.bridge !== br) {
      throw new VsctlError(`bridge ${brName} does not have a port ${name}`);
    }
    if (str(found.port, 'name') === str(found.bridge, 'name')) {
      const b = str(found.bridge, 'name');
      throw new VsctlError(`cannot delete port ${name} because it is the local port for bridge ${b} (deleting this port requires deleting the entire bridge)`);
    }
    ctx.db.set(found.bridge, 'ports', set(...without(found.bridge, 'ports', found.port)));
  },
};

const listPorts: CommandSpec = {
  name: 'list-ports', usage: 'list-ports BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    ctx.out.push(...sortedNames(portsOf(ctx.db, br).filter((p) => str(p, 'name') !== str(br, 'name'))));
  },
};

const portToBr: CommandSpec = {
  name: 'port-to-br', usage: 'port-to-br PORT', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const p = findPort(ctx.db, ctx.args[0]!);
    if (p === undefined) throw new VsctlError(`no port named ${ctx.args[0]}`);
    ctx.out.push(str(p.bridge, 'name'));
  },
};

const listIfaces: CommandSpec = {
  name: 'list-ifaces', usage: 'list-ifaces BRIDGE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const br = mustBridge(ctx.db, ctx.args[0]!);
    const ifs = portsOf(ctx.db, br).flatMap((p) => ifacesOf(ctx.db, p)).filter((i) => str(i, 'name') !== str(br, 'name'));
    ctx.out.push(...sortedNames(ifs));
  },
};

const ifaceToBr: CommandSpec = {
  name: 'iface-to-br', usage: 'iface-to-br IFACE', minArgs: 1, maxArgs: 1, options: [], write: false,
  run(ctx) {
    const i = findIface(ctx.db, ctx.args[0]!);
    if (i === undefined) throw new VsctlError(`no interface named ${ctx.args[0]}`);
    ctx.out.push(str(i.bridge, 'name'));
  },
};

export const bridgeCommands: readonly CommandSpec[] = [
  init, addBr, delBr, listBr, brExists, addPort, delPort, listPorts, portToBr, listIfaces, ifaceToBr,
];
