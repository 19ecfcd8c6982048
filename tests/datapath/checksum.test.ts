/**
 * Finishing a CHECKSUM_PARTIAL capture (src/datapath/checksum.ts), and the execute request
 * encoding (codec.ts encodeExecRequest), without the kernel.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LAYOUT, ABI } from '../../src/datapath/abi.ts';
import { finishChecksum } from '../../src/datapath/checksum.ts';
import { readU32 } from '../../src/datapath/codec.ts';
import { decodeUpcall, encodeExecRequest } from '../../src/datapath/records.ts';
import { ipv4, ipv6, tcp, udp } from '../helpers/frames.ts';

const t = suite('datapath-checksum');
const E = { src: 0x020000000001, dst: 0x020000000002 };

/** What a sending stack leaves in the field when it offloads the checksum: the pseudo-header
 *  sum, folded, not complemented. Computed here from the addresses, independently. */
function partial(frame: Uint8Array, l4: number, field: number, pseudo: number[]): Uint8Array {
  const f = Uint8Array.from(frame);
  let sum = 0;
  for (const w of pseudo) sum += w;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  f[l4 + field] = sum >> 8;
  f[l4 + field + 1] = sum & 0xff;
  return f;
}

const words32 = (v: number) => [v >>> 16, v & 0xffff];

t('a partial IPv4 TCP checksum is finished to the full one', () => {
  const whole = ipv4(E, { src: 0x0a000001, dst: 0x0a000002, proto: 6 }, tcp(40000, 80, 0x02, [1, 2, 3, 4, 5]));
  const l4len = whole.length - 34;
  const f = partial(whole, 34, 16, [...words32(0x0a000001), ...words32(0x0a000002), 6, l4len]);
  assert.not.equal(f, whole);
  assert.ok(finishChecksum(f, 34, 16));
  assert.equal(f, whole);
});

t('a partial IPv6 UDP checksum is finished; a zero result is written as 0xffff', () => {
  const src = 0xfe800000000000000000000000000001n, dst = 0xfe800000000000000000000000000002n;
  const whole = ipv6(E, src, dst, 17, udp(546, 547, [9, 8, 7]));
  const w16 = (v: bigint) => Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(16 * (7 - i))) & 0xffffn));
  const l4len = whole.length - 54;
  const f = partial(whole, 54, 6, [...w16(src), ...w16(dst), 17, l4len]);
  assert.ok(finishChecksum(f, 54, 6));
  assert.equal(f, whole);
  // All-zero bytes from start: the sum is 0, its complement 0xffff, written as is; a sum of
  // 0xffff complements to 0 and must be written as 0xffff too.
  const z = new Uint8Array(60);
  z.set([0xff, 0xff], 40);
  assert.ok(finishChecksum(z, 34, 0));
  assert.equal([z[34], z[35]], [0xff, 0xff]);
});

t('start and offset outside the frame are refused, nothing written', () => {
  const f = new Uint8Array(60).fill(7);
  assert.not.ok(finishChecksum(f, 10, 2), 'inside the Ethernet header');
  assert.not.ok(finishChecksum(f, 50, 9), 'checksum field past the end');
  assert.ok(f.every((b) => b === 7));
});

t('decodeUpcall finishes a partial checksum only for a whole capture', () => {
  const whole = ipv4(E, { src: 0x0a000001, dst: 0x0a000002, proto: 6 }, tcp(1, 2, 0x10, [1, 2, 3]));
  const f = partial(whole, 34, 16, [...words32(0x0a000001), ...words32(0x0a000002), 6, whole.length - 34]);
  const L = LAYOUT.bvs_upcall.members;
  const rec = new Uint8Array(L.data[0] + f.length);
  const dv = new DataView(rec.buffer);
  dv.setUint32(L.type[0], 1, true);
  dv.setUint32(L.pkt_len[0], f.length, true);
  dv.setUint32(L.cap_len[0], f.length, true);
  dv.setUint16(L.csum_start[0], 34, true);
  dv.setUint16(L.csum_offset[0], 16, true);
  rec.set(f, L.data[0]);
  const u = decodeUpcall(rec);
  assert.is(u.checksumFinished, true);
  assert.equal(u.packet, whole);
  assert.equal(rec.subarray(L.data[0]), f, 'the record itself is not touched');
  dv.setUint32(L.pkt_len[0], f.length + 100, true); // truncated capture
  const v = decodeUpcall(rec);
  assert.is(v.checksumFinished, false);
  assert.equal(v.packet, f);
  dv.setUint16(L.csum_start[0], 0, true);
  assert.is(decodeUpcall(rec).checksumFinished, undefined, 'complete bytes: nothing to do');
});

t('encodeExecRequest appends the trailer after the frame, reusing a scratch buffer', () => {
  const frame = Uint8Array.from({ length: 64 }, (_, i) => i);
  const scratch = new Uint8Array(4096).fill(0xee);
  const L = LAYOUT.bvs_exec_req.members;
  const req = encodeExecRequest(frame, [{ type: 'output', port: 7 }, { type: 'pop_vlan' }], 3, scratch);
  assert.is(req.buffer, scratch.buffer);
  assert.is(req.length, 64 + LAYOUT.bvs_exec_req.size);
  assert.equal(req.subarray(0, 64), frame);
  const tr = req.subarray(64);
  assert.is(readU32(tr, L.magic[0]), ABI.EXEC_MAGIC);
  assert.is(readU32(tr, L.in_port[0]), 3);
  assert.is(readU32(tr, L.n_actions[0]), 2);
  assert.is(tr[L.actions[0]], 1, 'OUTPUT');
  assert.is(readU32(tr, L.actions[0] + 4), 7);
  assert.ok(tr.subarray(L.actions[0] + 2 * LAYOUT.bvs_action.size).every((b) => b === 0), 'unused actions zeroed');
  assert.throws(() => encodeExecRequest(frame, new Array(17).fill({ type: 'pop_vlan' }), 1), /too many actions/);
});

t.run();
