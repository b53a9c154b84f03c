import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyTrust } from '../src/proxy-trust.js';

describe('proxyTrust (TRUST_PROXY)', () => {
  it('when empty or none, then nobody is trusted', () => {
    assert.equal(proxyTrust(''), false);
    assert.equal(proxyTrust(' none '), false);
  });

  it('when names, addresses and ranges are given, then only the connecting hop in them is trusted', () => {
    const trust = proxyTrust('loopback, 192.0.2.10, 2001:db8::/32, uniquelocal');
    assert.ok(trust);
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '192.0.2.10', '2001:db8::5', '10.1.2.3', '172.16.0.1', '192.168.1.1', 'fd00::1']) {
      assert.equal(trust(a, 0), true, a);
    }
    for (const a of ['192.0.2.11', '8.8.8.8', '172.32.0.1', '::ffff:8.8.8.8', '2001:db9::1', 'not-an-ip', '']) {
      assert.equal(trust(a, 0), false, a);
    }
    // a trusted address further down the X-Forwarded-For chain is a client's say-so: never believed
    assert.equal(trust('127.0.0.1', 1), false);
    assert.equal(trust('10.0.0.1', 2), false);
  });

  it('when an entry is not an address, a range or a known name, then it throws naming TRUST_PROXY', () => {
    assert.throws(() => proxyTrust('loopback,ingress'), /TRUST_PROXY: "ingress"/);
    assert.throws(() => proxyTrust('10.0.0.0/33'), /prefix length/);
    assert.throws(() => proxyTrust('10.0.0.0/x'), /prefix length/);
  });
});
