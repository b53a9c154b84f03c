import { Suspense, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigationType } from 'react-router';
import { cartUnits } from './cart.js';
import { countOf } from './count.js';
import { ErrorState, Loading, PageErrorBoundary, focusAfterRender } from './components.js';
import { signInFrom } from './return-path.js';
import { rememberedAdmin } from './session.js';
import { useAuth, useCart } from './state.js';

export function Layout() {
  const { user, status, signOut, retry } = useAuth();
  // A remembered session is being checked (a reload): no "Sign in" that would be wrong a moment later.
  const checking = status === 'loading';
  const cart = useCart();
  const { lines } = cart;
  const units = cartUnits(lines);
  const { pathname, search } = useLocation();
  const navigationType = useNavigationType();
  // Signing in from the header brings the visitor back to the page they were on (a product, the cart), not the
  // shop's start; from the sign-in page itself, its own next is kept.
  const signInTo = pathname === '/signin' ? `/signin${search}` : signInFrom(pathname + search);
  const main = useRef<HTMLElement>(null);
  // Sign out that could not reach the shop: the session is still on (server and here), said until the next try.
  const [signOutFailed, setSignOutFailed] = useState(false);
  const signingOut = useRef(false);
  // Seen and heard while the logout is on its way (aria-disabled, dimmed as every busy button): it showed nothing.
  // Its text stays, so the header does not move.
  const [leaving, setLeaving] = useState(false);
  // What a page the shopper left says when its answer comes (an order placed after they went elsewhere): shown
  // here, on the page they chose, until they go on.
  const [notice, setNotice] = useState<ReactNode>(null);
  // On client-side navigation, move focus to the new page so screen readers announce it.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    setNotice(null);
    // A link followed opens its page at the top, as a page the browser loads does: the page kept the scroll of the
    // one left, so a product opened from a card low in the shop opened scrolled past its header and picture, and a
    // page still loading its code showed a blank screen below its "Loading…". Back and Forward (POP) are left to
    // the browser, which puts the page where it was.
    if (navigationType !== 'POP') window.scrollTo(0, 0);
    main.current?.focus({ preventScroll: true });
  }, [pathname]);
  // A control taken away under the focus by no press of the user's (another tab emptied the cart or removed the
  // line being typed in): the focus fell to the page's body, and the next Tab started over at Skip to content. It goes
  // to the main region, once a page's own choice (focusAfterRender, a quarter of a second) has had its turn.
  useEffect(() => {
    const onFocusOut = (e: FocusEvent) => {
      const gone = e.target;
      if (e.relatedTarget || !(gone instanceof Element)) return;
      setTimeout(() => {
        if (!gone.isConnected && (document.activeElement === document.body || !document.activeElement)) main.current?.focus({ preventScroll: true });
      }, 500);
    };
    document.addEventListener('focusout', onFocusOut);
    return () => document.removeEventListener('focusout', onFocusOut);
  }, []);
  return (
    <>
      {/* Focuses the main region without following #main: that added a history entry (Back only took the "#main"
          off the address) and left the hash in every address shared from then on. */}
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="site-header">
        <div className="bar">
          <Link to="/" className="brand">
            <span aria-hidden="true" className="logo" />
            Northwind Supply
          </Link>
          <nav aria-label="Main" className="site-nav">
            <ul>
              {user ? (
                <li>
                  <NavLink to="/orders">Orders</NavLink>
                </li>
              ) : (
                checking && <Slot>Orders</Slot>
              )}
              {checking && rememberedAdmin() && <Slot>Admin</Slot>}
              {user?.role === 'admin' && (
                <li>
                  <NavLink to="/admin">Admin</NavLink>
                </li>
              )}
              <li>
                {/* Seen: the number in a badge; heard: "Cart, 1 item" (countOf). The name is the link's own label: text
                    hidden beside "Cart" was heard as "Cart , 1 item" (Chromium joins the parts with a space). */}
                <NavLink to="/cart" className="cart-link" aria-label={units > 0 ? `Cart, ${countOf(units, 'item')}` : undefined}>
                  Cart
                  {units > 0 && (
                    <span className="badge" aria-hidden="true">
                      {units}
                    </span>
                  )}
                </NavLink>
              </li>
              {/* Unreachable: neither, the user is not signed out (the alert below says so). */}
              {checking ? (
                <Slot>Sign out</Slot>
              ) : status === 'signed-in' ? (
                <li>
                  <button
                    type="button"
                    className="link-button"
                    aria-disabled={leaving || undefined}
                    aria-busy={leaving || undefined}
                    onClick={() => {
                      // A double click signs out once: its second press, while the first is on its way, sent a
                      // second logout that the user service refused (401, an error in the console).
                      if (signingOut.current) return;
                      signingOut.current = true;
                      setSignOutFailed(false);
                      setLeaving(true);
                      signOut()
                        .finally(() => {
                          signingOut.current = false;
                          setLeaving(false);
                        })
                        .then(
                          () => {
                            cart.clear();
                            // The button goes; on a page that stays (the shop, a product) the focus goes to the
                            // "Sign in" link in its place, not the page's start. A page that sends the signed-out
                            // elsewhere focuses its main region, which is left alone.
                            focusAfterRender('#signin-link');
                          },
                          () => setSignOutFailed(true),
                        );
                    }}
                  >
                    Sign out
                  </button>
                </li>
              ) : (
                status === 'anonymous' && (
                  <li>
                    {/* In Sign out's place: the second click of a double click on Sign out, landing here once signed
                        out, is not a press of Sign in (it opened the sign-in page), as a cart line's Remove does. */}
                    <NavLink id="signin-link" to={signInTo} onClick={(e) => e.detail > 1 && e.preventDefault()}>
                      Sign in
                    </NavLink>
                  </li>
                )
              )}
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {status === 'unreachable' && (
          <ErrorState message="The shop could not confirm your sign-in: it is not answering just now. You are still signed in on this browser." retry={retry} />
        )}
        {signOutFailed && status === 'signed-in' && (
          <p className="error-state" role="alert">
            Sign-out did not finish: the shop could not be reached, so you are still signed in. Please press Sign out again.
          </p>
        )}
        {/* Always there (empty until it speaks), so screen readers hear what comes into it. */}
        <div role="status" className="notice">
          {notice}
        </div>
        <PageErrorBoundary key={pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet context={setNotice satisfies Notify} />
          </Suspense>
        </PageErrorBoundary>
      </main>
      <footer className="site-footer">
        <p>Demo shop of the ecommerce platform. Stock is live; orders are real on this server.</p>
      </footer>
    </>
  );
}

/** Says something on whatever page is shown (Layout's status region): for a page that was left before its answer came. */
export type Notify = (notice: ReactNode) => void;

/**
 * While a remembered session is checked, a signed-in header's link, kept empty: the box it will fill is there
 * already, so nothing moves when the check ends (and no link says what is not known yet).
 */
function Slot({ children }: { children: string }) {
  return (
    <li className="slot" aria-hidden="true">
      <span>{children}</span>
    </li>
  );
}
