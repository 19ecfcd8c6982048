import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { andField, emptyKey, exactMask, keyMatches, maskKey } from '../../src/datapath/flow.ts';

const t = suite('datapath-flow');

t('andField keeps all 48 bits of a MAC', () => {
  assert.is(andField('ethSrc', 0xffffffffffff, 0xff00000000ff), 0xff00000000ff);
  assert.is(andField('ipv4Src', 0xffffffff, 0xffffff00), 0xffffff00);
});

t('maskKey and keyMatches agree', () => {
  const k = { ...emptyKey(), ipv4Src: 0x0a000001, ethSrc: 0x020000000001 };
  const m = { ...emptyKey(), ipv4Src: 0xffffff00 };
  const f = maskKey(k, m);
  assert.is(f.ipv4Src, 0x0a000000);
  assert.is(f.ethSrc, 0);
  assert.ok(keyMatches({ ...k, ipv4Src: 0x0a0000fe }, f, m));
  assert.not.ok(keyMatches({ ...k, ipv4Src: 0x0a0001fe }, f, m));
  assert.ok(keyMatches(k, k, exactMask()));
});

t.run();
