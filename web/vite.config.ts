import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The gateway serves dist/app at / (services/gateway/src/storefront.ts); `vite` (dev) proxies the API to it.
const gateway = process.env.WEB_API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
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
