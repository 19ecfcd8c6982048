/**
 * Every place where a parser looks a user's name up (an action, a field, a keyword, a port, a
 * reason, an attribute) refuses JavaScript's inherited names with its own error naming the
 * token (issue 9, D5). Random inputs reach these places only by chance; this walks all of them
 * with every inherited name. A silent acceptance is caught here, not only a TypeError.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BusValidationError, Commands } from '../../src/bus/index.ts';
import { OdpSyntaxError, parseActions as odpActions, parseFlow as odpFlow } from '../../src/datapath/odp/index.ts';
import { FlowSyntaxError, parseActions, parseFlow, parseGroup } from '../../src/ofproto/index.ts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJson } from '../../src/bus/index.ts';
import { INHERITED_NAMES } from './mutate.ts';

const t = suite('fuzz-inherited-names');

function refuses(kind: new (...a: never[]) => Error, name: string, text: string, parse: () => unknown): void {
  let err: unknown;
  try { parse(); } catch (e) { err = e; }
  assert.ok(err !== undefined, `${text}: accepted`);
  assert.ok(err instanceof kind, `${text}: ${(err as Error).name}: ${(err as Error).message}`);
  assert.ok((err as Error).message.includes(name), `${text}: the message does not name "${name}": ${(err as Error).message}`);
}

t('ovs-ofctl flows, actions and groups', () => {
  for (const n of INHERITED_NAMES) {
    const flows = [
      `${n},actions=drop`, `${n}=1,actions=drop`, `ip,${n}=1,actions=drop`, `in_port=${n},actions=drop`,
      `actions=${n}`, `actions=${n}:1`, `actions=${n}(1)`, `actions=output:1,${n}`, `actions=output:${n}`,
      `actions=controller(reason=${n})`, `actions=controller(${n}=1)`, `actions=load:1->${n}[]`,
      `actions=move:${n}[]->NXM_NX_REG0[]`, `actions=set_field:1->${n}`, `actions=resubmit:${n}`, `actions=resubmit(${n},1)`,
    ];
    for (const f of flows) refuses(FlowSyntaxError, n, f, () => parseFlow(f));
    refuses(FlowSyntaxError, n, `out_port=${n}`, () => parseFlow(`out_port=${n}`, 'del'));
    refuses(FlowSyntaxError, n, `${n}=1 (packet)`, () => parseFlow(`${n}=1`, 'packet'));
    refuses(FlowSyntaxError, n, `${n} (actions)`, () => parseActions(n));
    for (const g of [`group_id=1,type=${n}`, `group_id=1,type=all,${n}=1`, `group_id=1,type=all,bucket=${n}`]) {
      refuses(FlowSyntaxError, n, g, () => parseGroup(g));
    }
  }
});

t('ODP flows and actions', () => {
  for (const n of INHERITED_NAMES) {
    const flows = [
      `${n}(1)`, `eth(${n}=1)`, `ipv4(${n}=1)`, `ipv6(${n}=1)`, `arp(${n}=1)`, `tcp(${n}=1)`, `icmp(${n}=1)`,
      `vlan(${n}=1)`, `ipv4(frag=${n})`, `tcp_flags(${n})`, `tcp_flags(+${n})`, `in_port(${n})`,
      `eth(),eth_type(0x8100),vlan(vid=1),encap(${n}(1))`,
    ];
    for (const f of flows) refuses(OdpSyntaxError, n, f, () => odpFlow(f));
    const acts = [n, `${n}(1)`, `set(${n}(1))`, `set(eth(${n}=1))`, `push_vlan(${n}=1)`, `userspace(${n}=1)`, `userspace(pid=1,${n})`];
    for (const a of acts) refuses(OdpSyntaxError, n, a, () => odpActions(a));
  }
});

t('NATS requests: an inherited name is an unknown field, named', () => {
  for (const [cmd, c] of Object.entries(Commands)) {
    for (const n of INHERITED_NAMES) {
      // JSON.parse makes "__proto__" an own key, as a payload from the wire has it.
      const payload: unknown = JSON.parse(`{${JSON.stringify(n)}:1}`);
      const r = c.request.safeParse(payload);
      assert.not.ok(r.success, `${cmd} accepts {"${n}":1}`);
      const e = new BusValidationError('request', cmd, r.error!.issues);
      assert.ok(r.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(n)), `${cmd}: "${n}" is not named: ${e.message}`);
    }
  }
});

t('bvs appctl: an inherited name is an unknown command (no daemon needed to say so)', async () => {
  const bvs = path.resolve(import.meta.dirname, '../../bin/bvs');
  for (const n of ['constructor', '__proto__', 'toString']) {
    const r = await promisify(execFile)(bvs, ['appctl', '--run-dir', '/nonexistent', n]).then(() => undefined, (e: { code?: number; stderr?: string }) => e);
    assert.ok(r, `appctl ${n} succeeded`);
    assert.is(r!.code, 1);
    assert.match(r!.stderr ?? '', new RegExp(`"${n.replace(/_/g, '_')}" is not a valid command`));
  }
});

t('NATS payloads nest at most 1000 deep, as OVSDB messages', () => {
  const deep = (d: number) => new TextEncoder().encode(`{"a":${'['.repeat(d)}${']'.repeat(d)}}`);
  assert.ok(decodeJson(deep(999)));
  assert.throws(() => decodeJson(deep(100_000)), (e: Error & { code?: string }) => e.name === 'BusError' && /deeper than 1000/.test(e.message));
  // Brackets inside strings are not nesting.
  assert.ok(decodeJson(new TextEncoder().encode(JSON.stringify({ s: '['.repeat(5000) }))));
});

t.run();
