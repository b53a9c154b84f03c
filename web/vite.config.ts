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
  plugins: [react()],
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
