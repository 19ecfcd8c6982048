/**
 * The two records that carry packets between the kernel and userspace: an upcall from the ring
 * (struct bvs_upcall, decoded, with an unfinished checksum finished) and an execute request
 * (the frame followed by struct bvs_exec_req, for bvs_exec). Layouts from LAYOUT (abi.ts) only.
 */
import { ABI, LAYOUT } from './abi.ts';
import { finishChecksum } from './checksum.ts';
import { CodecError, readKey, view, writeAction } from './codec.ts';
import { type DpAction, type FlowKey, emptyKey } from './flow.ts';

export interface Upcall {
  type: 'miss' | 'action';
  port: number;
  pktLen: number;
  cookie: bigint;
  pid: number;
  key: FlowKey;
  /** The captured bytes (cap_len of them), a copy; an unfinished L4 checksum is finished. */
  packet: Uint8Array;
  /** The kernel reported an unfinished L4 checksum (CHECKSUM_PARTIAL), and it was finished in
   *  `packet` (false when the capture was truncated: then it could not be). */
  checksumFinished?: boolean;
}

export function decodeUpcall(rec: Uint8Array): Upcall {
  const L = LAYOUT.bvs_upcall.members;
  if (rec.byteLength < L.data[0]) throw new CodecError(`upcall record too short: ${rec.byteLength} bytes`);
  const dv = view(rec);
  const type = dv.getUint32(L.type[0], true);
  const capLen = Math.min(dv.getUint32(L.cap_len[0], true), L.data[1], rec.byteLength - L.data[0]);
  const pktLen = dv.getUint32(L.pkt_len[0], true);
  const packet = rec.slice(L.data[0], L.data[0] + capLen);
  const csumStart = dv.getUint16(L.csum_start[0], true);
  const u: Upcall = {
    type: type === 2 ? 'action' : 'miss',
    port: dv.getUint32(L.port[0], true),
    pktLen,
    cookie: dv.getBigUint64(L.cookie[0], true),
    pid: dv.getUint32(L.pid[0], true),
    key: rec.byteLength >= L.key[0] + L.key[1] ? readKey(rec, L.key[0]) : emptyKey(),
    packet,
  };
  if (csumStart !== 0) {
    u.checksumFinished = capLen === pktLen && finishChecksum(packet, csumStart, dv.getUint16(L.csum_offset[0], true));
  }
  return u;
}

/**
 * An execute request: `frame` followed by struct bvs_exec_req (bpf/lib/exec.h), the input of a
 * BPF_PROG_TEST_RUN of bvs_exec. With `scratch` large enough, the request is built in it (the
 * returned view; valid until the next call); else in a new buffer. Throws CodecError for a list
 * the datapath cannot hold.
 */
export function encodeExecRequest(frame: Uint8Array, actions: readonly DpAction[], inPort: number, scratch?: Uint8Array): Uint8Array {
  if (actions.length > ABI.MAX_ACTIONS) {
    throw new CodecError(`too many actions: ${actions.length} (the datapath holds at most ${ABI.MAX_ACTIONS})`);
  }
  const L = LAYOUT.bvs_exec_req.members;
  const size = frame.length + LAYOUT.bvs_exec_req.size;
  const b = scratch && scratch.length >= size ? scratch.subarray(0, size) : new Uint8Array(size);
  b.set(frame, 0);
  b.fill(0, frame.length);
  const dv = new DataView(b.buffer, b.byteOffset + frame.length, LAYOUT.bvs_exec_req.size);
  dv.setUint32(L.magic[0], ABI.EXEC_MAGIC, true);
  dv.setUint32(L.in_port[0], inPort, true);
  dv.setUint32(L.n_actions[0], actions.length, true);
  for (let i = 0; i < actions.length; i++) writeAction(dv, L.actions[0] + i * LAYOUT.bvs_action.size, actions[i]!);
  return b;
}
