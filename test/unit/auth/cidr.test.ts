import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CidrList, hostOfRemote, parseCidr, parseIp } from '../../../libs/auth/cidr.ts';

const matches = (rules: string[], addr: string): boolean => {
  const { list, bad } = CidrList.parse(rules);
  assert.deepEqual(bad, []);
  const ip = parseIp(addr);
  assert.ok(ip, addr);
  return list.matches(ip);
};

test('IPv4 blocks', () => {
  assert.equal(matches(['10.0.0.0/8'], '10.200.1.2'), true);
  assert.equal(matches(['10.0.0.0/8'], '11.0.0.1'), false);
  assert.equal(matches(['192.168.1.7'], '192.168.1.7'), true);
  assert.equal(matches(['192.168.1.7'], '192.168.1.8'), false);
  assert.equal(matches(['0.0.0.0/0'], '8.8.8.8'), true);
  assert.equal(matches(['172.16.0.0/12'], '172.31.255.255'), true);
  assert.equal(matches(['172.16.0.0/12'], '172.32.0.0'), false);
  // Host bits in the rule are cleared.
  assert.equal(matches(['10.1.2.3/8'], '10.9.9.9'), true);
});

test('IPv6 blocks, and compressed forms', () => {
  assert.equal(matches(['2001:db8::/32'], '2001:db8:1::5'), true);
  assert.equal(matches(['2001:db8::/32'], '2001:db9::1'), false);
  assert.equal(matches(['::1'], '0:0:0:0:0:0:0:1'), true);
  assert.equal(matches(['fe80::/10'], 'fe80::1%eth0'), true);
  assert.equal(matches(['::/0'], '2001:db8::1'), true);
});

test('IPv4-mapped IPv6 clients match IPv4 rules, and mapped rules match IPv4 clients', () => {
  assert.equal(matches(['127.0.0.0/8'], '::ffff:127.0.0.1'), true);
  assert.equal(matches(['10.0.0.0/8'], '::ffff:10.1.2.3'), true);
  assert.equal(matches(['10.0.0.0/8'], '::ffff:11.1.2.3'), false);
  assert.equal(matches(['::ffff:10.0.0.0/104'], '10.3.3.3'), true);
  // ::/0 covers every address, v4 ones included; 0.0.0.0/0 covers only v4 (and mapped).
  assert.equal(matches(['0.0.0.0/0'], '2001:db8::1'), false);
});

test('bad entries are reported, addresses that are not addresses do not parse', () => {
  const { bad } = CidrList.parse(['10.0.0.0/33', '1.2.3', '2001:db8::/129', 'x', '1.2.3.4/8', '1:::2']);
  assert.deepEqual(bad, ['10.0.0.0/33', '1.2.3', '2001:db8::/129', 'x', '1:::2']);
  for (const s of ['256.1.1.1', '1.2.3.04', '1:2:3:4:5:6:7:8:9', '', ':::', 'g::1'])
    assert.equal(parseIp(s), null, s);
  assert.equal(parseCidr('::1.2.3.4')?.bits, 128);
});

test('the host of a remote as sessions note it', () => {
  assert.equal(hostOfRemote('127.0.0.1:5555'), '127.0.0.1');
  assert.equal(hostOfRemote('::ffff:127.0.0.1:5555'), '::ffff:127.0.0.1');
  assert.equal(hostOfRemote('[::1]:5555'), '::1');
});
