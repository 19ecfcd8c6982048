/**
 * Execute: an action list run on a frame in the kernel, by the datapath's own action code (the
 * program bvs_exec, bpf/lib/exec.h). The upcall handler executes the first packet of every new
 * flow this way, and so will packet-outs and `dpctl execute`: there is no second copy of the
 * actions in TypeScript, so what conntrack, tunnels or any later action do to the first packet
 * is what they do to the rest.
 *
 * One BPF_PROG_TEST_RUN per frame: the request trailer travels with the frame, so callers share
 * no state and need no lock. The frame is sent in the caller's network namespace (the ports'
 * namespace: the daemon runs there). Outputs are clones transmitted at once; a port that is
 * gone drops its copy (counted in drop_stats, as in the fast path).
 *
 * Limit: the kernel takes at most a page of test-run input (less the skb's own overheads), so
 * a frame plus the 400-byte trailer must stay below about 3.7 KB; longer frames are refused
 * with BAD_PACKET. Upcalls carry at most 2 KB, so the miss path never hits it.
 */
import { ABI, EXEC_ERRORS } from './abi.ts';
import { addon } from './addon.ts';
import { encodeExecRequest } from './records.ts';
import { DatapathError, errnoCode } from './errors.ts';
import type { DpAction } from './flow.ts';

export interface ExecResult {
  /** Packets (clones) that went out of a port. */
  outputs: number;
  /** Userspace actions that sent the packet up. */
  upcalls: number;
  /** An action failed (counted in drop_stats); the actions after it did not run. */
  failed: boolean;
}

/** Room for the longest request the kernel takes (a page): callers may keep one per thread. */
export const EXEC_SCRATCH_SIZE = 4096;

/** Runs `actions` on `frame` as if it had arrived on datapath port `inPort`. `scratch` (of
 *  EXEC_SCRATCH_SIZE bytes, owned by the caller) saves an allocation per call. */
export function executeInKernel(execProgFd: number, frame: Uint8Array, actions: readonly DpAction[], inPort: number,
  scratch?: Uint8Array): ExecResult {
  if (frame.length < 14) throw new DatapathError('BAD_PACKET', `packet too short (${frame.length} bytes)`);
  const req = encodeExecRequest(frame, actions, inPort, scratch);
  let retval: number;
  try {
    retval = addon().progTestRun(execProgFd, req).retval;
  } catch (err) {
    if (errnoCode(err) === 'EINVAL' && frame.length > 1500) {
      throw new DatapathError('BAD_PACKET', `packet too long to execute (${frame.length} bytes; the kernel takes about 3.3 KB)`, { cause: err });
    }
    throw new DatapathError('SYSTEM', `execute failed: ${(err as Error).message}`, { cause: err });
  }
  if (retval < 0) throw new DatapathError('SYSTEM', `execute refused: ${EXEC_ERRORS[retval] ?? `error ${retval}`}`);
  return { outputs: retval & 0xff, upcalls: (retval >> 8) & 0xff, failed: (retval & ABI.EXEC_FAILED) !== 0 };
}
