import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// react-router's package exports name only its development build (with dev-only checks and warnings);
// the production build it also ships is smaller and faster to evaluate.
const routerDir = dirname(createRequire(import.meta.url).resolve('react-router/package.json'));

// The gateway serves dist/app at / (services/gateway/src/storefront.ts); `vite` (dev) proxies the API to it.
const gateway = process.env.WEB_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [
    react(),
    // React Router's bundle defines its components as `var Form = React.forwardRef(...)` and then sets
    // `Form.displayName = "Form"`: both count as side effects, so every component stayed in the first visit's
    // bundle whether used or not (Form, its fetcher and submit code, ...). Marked pure, with the displayName (a
    // name for React DevTools only) left out, the unused ones go: 1,305 bytes gzip (docs/web.md, Budgets).
    {
      name: 'pure-router-components',
      transform(code, id) {
        if (!id.startsWith(routerDir)) return null;
        const pure = code.replace(/^(var [\w$]+ = )(React\d*\.(?:forwardRef|createContext)\()/gm, '$1/* @__PURE__ */ $2');
        return { code: pure.replace(/^[\w$]+\.displayName = "[^"\n]*";$/gm, ''), map: null };
      },
    },
  ],
  resolve: { alias: [{ find: /^react-router$/, replacement: join(routerDir, 'dist', 'production', 'index.mjs') }] },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    assetsDir: 'assets',
    // No inline <script> in index.html: the CSP is script-src 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: { proxy: { '/user': gateway, '/product': gateway, '/order': gateway } },
});
