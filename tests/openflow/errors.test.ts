// The OpenFlow error table (src/openflow/errors.ts): every name in every version, encoded as
// bvs sends it, is read back by the real ovs-ofctl ofp-print as the same name.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decodeMessage, encodeMessage, ERROR_SPECS, errorMessage, errorTriplet, type OfpErrorName, type OfpVersion,
} from '../../src/openflow/index.ts';
import { hdr } from './fake-switch.ts';

const t = suite('openflow-errors');

// Every name the table knows (the union's members are the keys of a complete Record there).
const NAMES = Object.keys(ERROR_SPECS) as OfpErrorName[];
/** OVS renamed a few; ofp-print prints the new name. */
const OVS_NAME: ReadonlyMap<string, string> = new Map([['OFPBRC_IS_SLAVE', 'OFPBRC_IS_SECONDARY']]);

t('known numbers: standard, NXET_VENDOR in 1.0, experimenter in 1.2+', () => {
  assert.equal(errorTriplet('OFPBRC_BAD_LEN', 1), { vendor: 0, type: 1, code: 6 });
  assert.equal(errorTriplet('OFPFMFC_OVERLAP', 1), { vendor: 0, type: 3, code: 1 });
  assert.equal(errorTriplet('OFPFMFC_OVERLAP', 4), { vendor: 0, type: 5, code: 3 });
  assert.equal(errorTriplet('OFPBRC_BAD_TABLE_ID', 1), { vendor: 0x2320, type: 1, code: 512 });
  assert.equal(errorTriplet('OFPBFC_BAD_ID', 4), { vendor: 0x4f4e4600, type: 2302, code: 0 });
  assert.equal(errorTriplet('OFPBFC_BAD_ID', 5), { vendor: 0, type: 17, code: 2 });
  assert.is(errorTriplet('OFPMMFC_UNKNOWN', 1), undefined);
  const data = Uint8Array.from(hdr(1, 5, 8, 1));
  const b = encodeMessage(1, 1, errorMessage('OFPBRC_BAD_TABLE_ID', data));
  // ofp_error_msg type 0xb0c2 code 0, then nx_vendor_error: vendor, type, code; then the data.
  assert.equal([...b.subarray(8, 20)], [0xb0, 0xc2, 0, 0, 0, 0, 0x23, 0x20, 0, 1, 2, 0]);
  const x = encodeMessage(4, 1, errorMessage('NXR_NOT_SUPPORTED', data));
  assert.equal([...x.subarray(8, 16)], [0xff, 0xff, 0, 34, 0, 0, 0x23, 0x20]);
  // A name 1.0 cannot express goes as NXBRC_UNENCODABLE_ERROR.
  const u = decodeMessage(encodeMessage(1, 1, errorMessage('OFPMMFC_BAD_RATE', data)));
  assert.ok(u.msg.kind === 'error' && u.msg.name === 'NXBRC_UNENCODABLE_ERROR');
});

t('every name in 1.0, 1.3, 1.4, 1.5 reads back the same in bvs and in ovs-ofctl', async () => {
  const wanted: string[] = [], msgs: Uint8Array[] = [], problems: string[] = [];
  for (const v of [1, 4, 5, 6] as OfpVersion[]) {
    const data = Uint8Array.from(hdr(v, 5, 8, 1));
    for (const name of NAMES) {
      const expected = errorTriplet(name, v) ? name : 'NXBRC_UNENCODABLE_ERROR';
      // (1, 5) in 1.0 is both OFPBRC_EPERM and OFPBRC_IS_SLAVE: OVS reads it as the first.
      const want = v === 1 && name === 'OFPBRC_IS_SLAVE' ? 'OFPBRC_EPERM' : expected;
      const b = encodeMessage(v, 1, errorMessage(name, data));
      const d = decodeMessage(b);
      const ours = d.msg.kind === 'error' ? d.msg.name : undefined;
      if (ours !== want) problems.push(`0x0${v} ${name}: bvs reads ${ours}`);
      msgs.push(b);
      wanted.push(`0x0${v} ${name} -> ${OVS_NAME.get(want) ?? want}`);
    }
  }
  // ofp-parse reads a stream of messages from a file: one run for all of them.
  const dir = mkdtempSync(path.join(os.tmpdir(), `bvs-oferr-${process.pid}-`));
  try {
    const file = path.join(dir, 'errors.bin');
    writeFileSync(file, Buffer.concat(msgs));
    const out = await new Promise<string>((res) => execFile('ovs-ofctl', ['ofp-parse', file], { maxBuffer: 16 << 20 }, (_e, o) => res(o)));
    const printed = [...out.matchAll(/^OFPT_ERROR[^:]*\): (\S+)/gm)].map((m) => m[1]);
    assert.is(printed.length, msgs.length);
    printed.forEach((p, i) => { if (!wanted[i]!.endsWith(`-> ${p}`)) problems.push(`${wanted[i]}, ovs-ofctl reads ${p}`); });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(problems, []);
});

t.run();
