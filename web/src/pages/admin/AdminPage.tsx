// The admin area's shell: admins only (else why not, and the way in), its navigation and its routes. Each screen
// is a file of this folder: Products.tsx, EditProduct.tsx, Orders.tsx, Users.tsx.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { Link, NavLink, Route, Routes, useLocation } from 'react-router';
import { Loading } from '../../components.js';
import { NotFound, WaitingForSession } from '../../page-parts.js';
import { signInFrom } from '../../return-path.js';
import { useAuth } from '../../state.js';
import { EditProduct } from './EditProduct.js';
import { AdminOrder, Orders } from './Orders.js';
import { Products } from './Products.js';
import { Users } from './Users.js';
import type { Draft } from './edit-draft.js';
import { keptDraft } from './kept-drafts.js';

export default function AdminPage() {
  const { status, user } = useAuth();
  const { pathname, search } = useLocation();
  // A product's edit page is in Products too: the link is "current" there, the "current page" on the list itself.
  const productsCurrent = pathname.replace(/\/$/, '') === '/admin' ? 'page' : pathname.startsWith('/admin/products/') ? 'true' : undefined;
  // Each admin page names itself ("Users: Admin: ..."); this one only while it shows no page of its own.
  const admin = user?.role === 'admin';
  useEffect(() => {
    if (!admin) document.title = 'Admin: Northwind Supply';
  }, [admin]);
  if (status === 'loading') return <Loading />;
  if (status === 'unreachable')
    return (
      <div className="empty">
        <h1>Admin</h1>
        <WaitingForSession />
      </div>
    );
  if (!admin)
    return (
      <div className="empty">
        <h1>Admin</h1>
        <NotAnAdmin signedOut={status === 'anonymous'} next={pathname + search} />
      </div>
    );
  return (
    <>
      <h1>Admin</h1>
      <nav aria-label="Admin" className="subnav">
        <ul>
          <li>
            <Link to="/admin" className={productsCurrent && 'active'} aria-current={productsCurrent}>
              Products
            </Link>
          </li>
          <li>
            <NavLink to="/admin/orders">All orders</NavLink>
          </li>
          <li>
            <NavLink to="/admin/users">Users</NavLink>
          </li>
        </ul>
      </nav>
      <Routes>
        <Route index element={<Products />} />
        <Route path="products/:id" element={<EditProduct />} />
        <Route path="orders" element={<Orders />} />
        <Route path="orders/:id" element={<AdminOrder />} />
        <Route path="users" element={<Users />} />
        {/* An address under /admin that names no admin page (mistyped, stale): said so, with a way to the admin's
            start, not the admin's navigation over nothing under the last page's title. */}
        <Route path="*" element={<AdminNotFound />} />
      </Routes>
    </>
  );
}

/**
 * Why the admin area shows nothing, and the way in. Where the edit page was when the session ended (expired, revoked;
 * not a sign-out, which forgets it) with an edit not saved: that it is kept, and how to get it back. That takes the focus: the Save
 * changes just pressed went with the page.
 */
function NotAnAdmin({ signedOut, next }: { signedOut: boolean; next: string }) {
  const [kept, setKept] = useState<Draft | null>(null);
  const ref = useRef<HTMLParagraphElement>(null);
  // Read once the edit page has gone (its unmount keeps the draft, after this component's first render).
  useLayoutEffect(() => setKept(signedOut ? keptDraft.read() : null), [signedOut]);
  useEffect(() => {
    if (kept) ref.current?.focus();
  }, [kept]);
  if (!kept) return <p>This area is for shop administrators. {signedOut && <Link to={signInFrom(next)}>Sign in</Link>}</p>;
  return (
    <p ref={ref} tabIndex={-1} className="warning" role="alert">
      Your session has ended, so your changes to <bdi>{kept.base.name}</bdi> are not saved. They are kept in this tab:{' '}
      <Link to={signInFrom(`/admin/products/${kept.productId}`)}>Sign in again</Link> and they will be back in the form.
    </p>
  );
}

function AdminNotFound() {
  useEffect(() => {
    document.title = 'Page not found: Admin: Northwind Supply';
  }, []);
  return (
    <NotFound title="Page not found">
      No admin page has this address. <Link to="/admin">All products</Link>
    </NotFound>
  );
}
