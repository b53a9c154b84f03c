import { StrictMode, lazy, startTransition } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { retryRead } from './api/client.js';
import { Layout } from './Layout.js';
import { AuthProvider, CartProvider } from './state.js';
import { HomePage } from './pages/HomePage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';

// The first visit (the catalog) loads only what it shows; the other pages are chunks of their own, and a shopper
// never downloads the admin pages. The product page, a card's next step, is fetched once the first page is shown
// and the browser is idle, so a card opens it with no wait.
const productPage = () => import('./pages/ProductPage.js');
const ProductPage = lazy(() => productPage().then((m) => ({ default: m.ProductPage })));
const AdminPage = lazy(() => import('./pages/admin/AdminPage.js'));
const CartPage = lazy(() => import('./pages/CartPage.js').then((m) => ({ default: m.CartPage })));
const CheckoutPage = lazy(() => import('./pages/CheckoutPage.js').then((m) => ({ default: m.CheckoutPage })));
const OrdersPage = lazy(() => import('./pages/OrdersPage.js').then((m) => ({ default: m.OrdersPage })));
const OrderPage = lazy(() => import('./pages/OrdersPage.js').then((m) => ({ default: m.OrderPage })));
const SignInPage = lazy(() => import('./pages/SignInPage.js').then((m) => ({ default: m.SignInPage })));

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: retryRead,
      refetchOnWindowFocus: false,
    },
  },
});

const root = createRoot(document.getElementById('root')!);
// The first render as a transition: React renders it in slices of a few milliseconds and yields to the browser
// in between, instead of one long task that blocks input (Lighthouse's total blocking time on a slow phone).
startTransition(() =>
  root.render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <AuthProvider>
        <CartProvider>
          <BrowserRouter>
            <Routes>
              <Route element={<Layout />}>
                <Route index element={<HomePage />} />
                <Route path="products/:id" element={<ProductPage />} />
                <Route path="cart" element={<CartPage />} />
                <Route path="checkout" element={<CheckoutPage />} />
                <Route path="orders" element={<OrdersPage />} />
                <Route path="orders/:id" element={<OrderPage />} />
                <Route path="signin" element={<SignInPage />} />
                <Route path="admin/*" element={<AdminPage />} />
                <Route path="*" element={<NotFoundPage />} />
              </Route>
            </Routes>
          </BrowserRouter>
        </CartProvider>
      </AuthProvider>
    </QueryClientProvider>
  </StrictMode>,
  ),
);
(window.requestIdleCallback ?? setTimeout)(() => void productPage());
