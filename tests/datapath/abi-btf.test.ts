/**
 * The TS layouts (src/datapath/abi.ts) against the BTF of the compiled datapath object: every
 * struct's size, and every member's offset and size, must agree, and BTF must have no member the
 * TS side does not know. Any drift between bvs_abi.h and the codecs fails here.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTION_UNION, LAYOUT } from '../../src/datapath/abi.ts';
import { BPF_OBJECT_PATH } from '../../src/datapath/addon.ts';

interface BtfMember { name: string; type_id: number; bits_offset: number }
interface BtfType {
  id: number; kind: string; name: string; size?: number; type_id?: number; nr_elems?: number;
  members?: BtfMember[];
}

const t = suite('datapath-abi-btf');

let types = new Map<number, BtfType>();

t.before(() => {
  assert.ok(fs.existsSync(BPF_OBJECT_PATH), `${BPF_OBJECT_PATH} missing: run just build-bpf`);
  const out = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', BPF_OBJECT_PATH], { encoding: 'utf8', maxBuffer: 64 << 20 });
  types = new Map((JSON.parse(out).types as BtfType[]).map((ty) => [ty.id, ty]));
});

function sizeOf(id: number): number {
  const ty = types.get(id);
  if (!ty) throw new Error(`BTF type ${id} missing`);
  switch (ty.kind) {
    case 'INT': case 'STRUCT': case 'UNION': case 'ENUM': case 'ENUM64': return ty.size!;
    case 'TYPEDEF': case 'CONST': case 'VOLATILE': case 'RESTRICT': return sizeOf(ty.type_id!);
    case 'ARRAY': return ty.nr_elems! * sizeOf(ty.type_id!);
    default: throw new Error(`unexpected BTF kind ${ty.kind}`);
  }
}

function struct(name: string): BtfType {
  const found = [...types.values()].find((ty) => ty.kind === 'STRUCT' && ty.name === name);
  assert.ok(found, `struct ${name} is not in the BTF of ${BPF_OBJECT_PATH}`);
  return found!;
}

for (const [name, layout] of Object.entries(LAYOUT)) {
  t(`struct ${name} matches BTF`, () => {
    const s = struct(name);
    assert.is(s.size, layout.size, `sizeof(struct ${name})`);
    const btf = new Map(s.members!.map((m) => [m.name, m]));
    for (const [member, [off, size]] of Object.entries(layout.members)) {
      const m = btf.get(member);
      assert.ok(m, `${name}.${member} is not in BTF`);
      assert.is(m!.bits_offset % 8, 0, `${name}.${member} is a bitfield`);
      assert.is(m!.bits_offset / 8, off, `offsetof(${name}, ${member})`);
      assert.is(sizeOf(m!.type_id), size, `sizeof(${name}.${member})`);
    }
    for (const m of s.members!) assert.ok(member(layout.members, m.name), `${name}.${m.name} is in BTF but not in abi.ts`);
  });
}

function member(members: object, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(members, name);
}

t('bvs_action union members match BTF', () => {
  const action = struct('bvs_action');
  const u = action.members!.find((m) => m.name === 'u')!;
  const base = u.bits_offset / 8;
  const union = types.get(u.type_id)!;
  for (const um of union.members!) {
    if (um.name === 'raw') continue;
    const want = (ACTION_UNION as Record<string, unknown>)[um.name];
    assert.ok(want, `bvs_action.u.${um.name} is in BTF but not in ACTION_UNION`);
    if (Array.isArray(want)) {
      assert.equal([base + um.bits_offset / 8, sizeOf(um.type_id)], want, `bvs_action.u.${um.name}`);
      continue;
    }
    const inner = types.get(um.type_id)!;
    for (const f of inner.members!) {
      const w = (want as Record<string, readonly [number, number]>)[f.name];
      assert.ok(w, `bvs_action.u.${um.name}.${f.name} missing in ACTION_UNION`);
      assert.equal([base + (um.bits_offset + f.bits_offset) / 8, sizeOf(f.type_id)], [...w], `bvs_action.u.${um.name}.${f.name}`);
    }
  }
});

t.run();
