import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The analysts' SPA. The server serves dist/index.html at every history route
// and dist/assets/<name> at /assets/<name> (cached for good: names carry
// content hashes). dist/graphiql belongs to the other build (vite.config.ts),
// so this one must not empty dist/: scripts/clean-spa.mjs removes only its
// own previous output.
// `npm run dev:app` proxies the API to a `ticketera serve` (TICKETERA_DEV_BACKEND,
// default http://127.0.0.1:8080).
const backend = process.env.TICKETERA_DEV_BACKEND ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: 'app',
  base: '/',
  publicDir: 'public',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: '../dist',
    emptyOutDir: false,
    assetsDir: 'assets',
    // No inline <script>/<style> under the server's CSP: keep every asset a
    // file (fonts and icons are small enough to inline otherwise).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    // One entry chunk of ~210 KB gzip; scripts/check-spa.mjs enforces the 300 KB budget.
    chunkSizeWarningLimit: 800,
  },
  server: {
    port: 5174,
    proxy: {
      '/graphql/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
      '^/graphql$': { target: backend },
      '/api': { target: backend },
    },
  },
});
