// App-wide state: who is signed in, and the cart (kept in localStorage, shared by tabs).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { addToCart as add, parseCart, setQuantity as setQty, type CartLine, type CartProduct } from './cart.js';
import { sessionEvents } from './api/client.js';
import { followOtherTabsOrders } from './order-events.js';
import { SESSION_HINT_KEY, createAccount, currentUser, forgetSession, forgetUser, restoreSession, sessionToCheck, signIn, signOut, type Restored, type SessionUser } from './session.js';

interface Auth {
  /**
   * 'loading': a session this browser remembers is being checked (a reload, Try again); 'unreachable': signed in
   * on this browser, but the user service did not answer at load (the session is kept).
   */
  status: 'loading' | Restored['status'];
  user: SessionUser | null;
  /** Asks the user service again after 'unreachable'. */
  retry(): void;
  signIn(email: string, password: string): Promise<void>;
  createAccount(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null>(null);
  // Without the hint there is nothing to check: signed out from the first render, so "Sign in" shows at once.
  const [status, setStatus] = useState<Auth['status']>(() => (sessionToCheck() ? 'loading' : 'anonymous'));
  const queries = useQueryClient();
  const apply = useCallback((r: Restored) => {
    setUser(r.status === 'signed-in' ? r.user : null);
    setStatus(r.status);
  }, []);
  useEffect(() => {
    let live = true;
    void restoreSession().then((r) => live && apply(r));
    return () => {
      live = false;
    };
  }, [apply]);
  useEffect(() => {
    const ended = () => {
      forgetSession();
      queries.clear();
      setUser(null);
      setStatus('anonymous');
    };
    // A refresh was refused (the session is over); or one worked after the page loaded without (the user
    // service was down then).
    const restored = () => void currentUser().then((u) => (queries.clear(), setUser(u), setStatus('signed-in')), () => undefined);
    // Another tab signed out (the hint went) or in (it came): follow it.
    const onStorage = (e: StorageEvent) => {
      // A value for another value is the role noted (session.ts), not a sign-in or out: nothing to follow.
      if (e.key !== SESSION_HINT_KEY || (e.oldValue !== null && e.newValue !== null)) return;
      if (e.newValue === null) {
        // Signed out there (not expired): what this tab kept for that user goes too.
        if (e.oldValue === 'out') forgetUser();
        ended();
      } else void restoreSession().then((r) => r.status === 'signed-in' && (queries.clear(), apply(r)));
    };
    sessionEvents.addEventListener('ended', ended);
    sessionEvents.addEventListener('restored', restored);
    addEventListener('storage', onStorage);
    const unfollow = followOtherTabsOrders(queries);
    return () => {
      sessionEvents.removeEventListener('ended', ended);
      sessionEvents.removeEventListener('restored', restored);
      removeEventListener('storage', onStorage);
      unfollow();
    };
  }, [queries, apply]);
  const value = useMemo<Auth>(
    () => ({
      status,
      user,
      retry() {
        setStatus('loading');
        void restoreSession().then((r) => {
          if (r.status === 'signed-in') queries.clear();
          apply(r);
        });
      },
      async signIn(email, password) {
        const u = await signIn(email, password);
        queries.clear();
        setUser(u);
        setStatus('signed-in');
      },
      async createAccount(name, email, password) {
        const u = await createAccount(name, email, password);
        queries.clear();
        setUser(u);
        setStatus('signed-in');
      },
      async signOut() {
        // Throws when the user service could not end the session: the user is still signed in and can try again.
        await signOut();
        queries.clear();
        setUser(null);
        setStatus('anonymous');
      },
    }),
    [status, user, queries, apply],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}

export const CART_KEY = 'ecommerce.cart.v1';
const NONCE_KEY = 'ecommerce.checkout-nonce.v1';
/** The id of the user whose cart it is (none: a guest's). */
const CART_OWNER_KEY = 'ecommerce.cart-owner.v1';

/**
 * A random id for "this cart, until it is ordered", kept beside the cart (localStorage, shared by tabs): the
 * checkout's idempotency key is this id and the cart's content, so every tab computes the same key for the
 * same cart. A new one is drawn when a first item goes into an empty cart and when an attempt ended without
 * an order that holds the cart (refused, short, failed), never at checkout time.
 */
export function checkoutNonce(): string {
  let nonce = localStorage.getItem(NONCE_KEY);
  if (!nonce || nonce.length > 64) nonce = newCheckoutAttempt();
  return nonce;
}

export function newCheckoutAttempt(): string {
  const nonce = crypto.randomUUID();
  localStorage.setItem(NONCE_KEY, nonce);
  return nonce;
}

interface Cart {
  lines: CartLine[];
  add(product: CartProduct, quantity: number): void;
  setQuantity(productId: string, quantity: number): void;
  replace(lines: CartLine[]): void;
  clear(): void;
}

const CartContext = createContext<Cart | null>(null);

export function CartProvider({ children }: { children: ReactNode }) {
  const [lines, setLines] = useState<CartLine[]>(() => parseCart(localStorage.getItem(CART_KEY)));
  const save = useCallback((next: CartLine[]) => {
    localStorage.setItem(CART_KEY, JSON.stringify(next));
    setLines(next);
  }, []);
  // The cart is the signed-in user's: a guest's becomes theirs at sign-in; one left by another user whose session
  // ended without a sign-out (which empties it) is emptied, not shown to the next user nor ordered by them.
  const userId = useAuth().user?.id;
  useEffect(() => {
    if (!userId) return;
    const owner = localStorage.getItem(CART_OWNER_KEY);
    if (owner === userId) return;
    if (owner) save([]);
    localStorage.setItem(CART_OWNER_KEY, userId);
  }, [userId, save]);
  useEffect(() => {
    // Another tab changed the cart.
    const onStorage = (e: StorageEvent) => e.key === CART_KEY && setLines(parseCart(e.newValue));
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, []);
  const value = useMemo<Cart>(
    () => ({
      lines,
      add: (product, quantity) => {
        const stored = parseCart(localStorage.getItem(CART_KEY));
        // A new cart: the same items ordered again later are a new order, not a replay of the last one.
        if (stored.length === 0) newCheckoutAttempt();
        save(add(stored, product, quantity));
      },
      setQuantity: (id, quantity) => save(setQty(lines, id, quantity)),
      replace: save,
      // A sign-out: the cart is nobody's (a guest's next, theirs at sign-in).
      clear: () => {
        localStorage.removeItem(CART_OWNER_KEY);
        save([]);
      },
    }),
    [lines, save],
  );
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>;
}

export function useCart(): Cart {
  const c = useContext(CartContext);
  if (!c) throw new Error('useCart outside CartProvider');
  return c;
}
