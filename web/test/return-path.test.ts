import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { sameSitePath } from '../src/return-path.js';

const ORIGIN = 'http://127.0.0.1:8080';

/** What a browser (and React Router's <Navigate>) makes of a path: another site when it reads as `//host`. */
function staysHome(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && new URL(path, ORIGIN).origin === ORIGIN;
}

// Pieces of the `next` of a crafted link: dot segments, slashes as they are and escaped, backslashes, tabs and
// newlines (which URL parsing drops), schemes and hosts.
const piece = fc.constantFrom('/', '//', '.', '..', '\\', '%2F', '%2f', '%5C', '%2e', '\t', '\n', ' ', 'evil.example', '@', ':', 'http:', 'javascript:', '?', '#', 'orders', 'admin');
const crafted = fc.array(piece, { maxLength: 12 }).map((parts) => `/${parts.join('')}`);

describe('sameSitePath: where sign-in sends a visitor back to', () => {
  it('when next is a path of the shop, then that path, its query and its fragment', () => {
    assert.equal(sameSitePath('/orders', ORIGIN), '/orders');
    assert.equal(sameSitePath('/admin/orders?userId=1#top', ORIGIN), '/admin/orders?userId=1#top');
    assert.equal(sameSitePath('/checkout', ORIGIN), '/checkout');
  });

  it('when next names another site (scheme, //host, /\\host), then the shop start', () => {
    for (const next of [null, '', 'https://evil.example/', '//evil.example', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example']) {
      assert.equal(sameSitePath(next, ORIGIN), '/', String(next));
    }
  });

  it('when dot segments leave //host after normalization (/.//evil.example), then the shop start, not //evil.example', () => {
    assert.equal(sameSitePath('/.//evil.example/x', ORIGIN), '/');
    assert.equal(sameSitePath('/..//evil.example', ORIGIN), '/');
    assert.equal(sameSitePath('/./\t/evil.example', ORIGIN), '/');
  });

  it('for any crafted next, then a path that stays on the shop (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(crafted, fc.string({ maxLength: 40 })), (next) => {
        const path = sameSitePath(next, ORIGIN);
        assert.ok(staysHome(path), `${JSON.stringify(next)} -> ${JSON.stringify(path)}`);
      }),
      { numRuns: 2000 },
    );
  });
});
