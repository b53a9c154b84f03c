import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createPath, resolvePath } from 'react-router';
import { sameSitePath } from '../src/return-path.js';

const ORIGIN = 'http://127.0.0.1:8080';

/** What a browser (and React Router's <Navigate>) makes of a path: another site when it reads as `//host`. */
function staysHome(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && new URL(path, ORIGIN).origin === ORIGIN;
}

/** Where React Router's navigate(path) from the sign-in page takes the browser: its resolvePath, written back as a URL. */
function routerLandsOn(path: string): string {
  const url = new URL(createPath(resolvePath(path, '/signin')), ORIGIN);
  return url.origin === ORIGIN ? `${url.pathname}${url.search}${url.hash}` : url.href;
}

// Pieces of the `next` of a crafted link: dot segments, slashes as they are and escaped (once, twice, as overlong or
// fullwidth UTF-8), backslashes, tabs, newlines and the other characters URL parsing drops or trims (C0 controls,
// spaces), look-alike slashes (fullwidth, division), invisible ones, a lone surrogate, schemes and hosts; also any
// string, full Unicode.
const piece = fc.constantFrom(
  '/', '//', '.', '..', '\\', '%2F', '%2f', '%5C', '%5c', '%252F', '%255C', '%25', '%C0%AF', '%EF%BC%8F', '%2e', '.%2e', '%2E%2E', '%00', '%09', '\t',
  '\n', '\r', '\u000b', '\u000c', '\u0000', ' ', '\u00a0', '\u3000', '\u200b', '\ufeff', '\uff0f', '\uff3c', '\u2215', '\ud800', 'evil.example', '@',
  ':', 'http:', 'javascript:', '?', '#', ';', 'orders', 'admin',
);
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

  it('when next has a run of slashes further in (/orders//cart, /%5C//), then the path with one, as the router navigates there', () => {
    assert.equal(sameSitePath('/orders//cart', ORIGIN), '/orders/cart');
    assert.equal(sameSitePath('/%5C//', ORIGIN), '/%5C/');
    assert.equal(sameSitePath('/x//..//evil.example?a=//b#//c', ORIGIN), '/x/evil.example?a=//b#//c');
    // Escaped slashes and backslashes, once or twice, stay escaped: the segment's own text.
    assert.equal(sameSitePath('/%2F%2Fevil.example', ORIGIN), '/%2F%2Fevil.example');
    assert.equal(sameSitePath('/%255C%255Cevil.example', ORIGIN), '/%255C%255Cevil.example');
  });

  it('for any crafted next, then a path that stays on the shop (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(crafted, fc.array(piece, { maxLength: 12 }).map((parts) => parts.join('')), fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), (next) => {
        const path = sameSitePath(next, ORIGIN);
        assert.ok(staysHome(path), `${JSON.stringify(next)} -> ${JSON.stringify(path)}`);
        // What it gives is the path it names: asked again (the sign-in page reached with it as next), the same.
        assert.equal(sameSitePath(path, ORIGIN), path, JSON.stringify(next));
        // And the path React Router's navigate lands on: it makes no run of slashes one, no dot segment go.
        assert.equal(routerLandsOn(path), path, JSON.stringify(next));
      }),
      { numRuns: 5000 },
    );
  });
});
