// App-wide state: who is signed in, and the cart (kept in localStorage, shared by tabs).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { addToCart as add, parseCart, setQuantity as setQty, type CartLine, type CartProduct } from './cart.js';
import { createAccount, restoreSession, signIn, signOut, type SessionUser } from './session.js';

interface Auth {
  status: 'loading' | 'anonymous' | 'signed-in';
  user: SessionUser | null;
  signIn(email: string, password: string): Promise<void>;
  createAccount(name: string, email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<SessionUser | null>(null);
  const [status, setStatus] = useState<Auth['status']>('loading');
  const queries = useQueryClient();
  useEffect(() => {
    let live = true;
    void restoreSession().then((u) => {
      if (!live) return;
      setUser(u);
      setStatus(u ? 'signed-in' : 'anonymous');
    });
    return () => {
      live = false;
    };
  }, []);
  const value = useMemo<Auth>(
    () => ({
      status,
      user,
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
        try {
          await signOut();
        } finally {
          queries.clear();
          setUser(null);
          setStatus('anonymous');
        }
      },
    }),
    [status, user, queries],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}

const CART_KEY = 'ecommerce.cart.v1';

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
  useEffect(() => {
    // Another tab changed the cart.
    const onStorage = (e: StorageEvent) => e.key === CART_KEY && setLines(parseCart(e.newValue));
    addEventListener('storage', onStorage);
    return () => removeEventListener('storage', onStorage);
  }, []);
  const value = useMemo<Cart>(
    () => ({
      lines,
      add: (product, quantity) => save(add(parseCart(localStorage.getItem(CART_KEY)), product, quantity)),
      setQuantity: (id, quantity) => save(setQty(lines, id, quantity)),
      replace: save,
      clear: () => save([]),
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
