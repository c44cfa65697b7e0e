import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The GraphiQL page. The Rust server serves `dist/graphiql/index.html` to a
// browser's GET /graphql and the files under `dist/graphiql/assets/` at
// /graphql/assets/<name>; hence base '/graphql/' (root-relative URLs, no
// host, so the same build works behind the gateway in deploy/).
export default defineConfig({
  // Paths are relative to web/ (npm runs scripts there); outDir is relative
  // to root.
  root: 'graphiql',
  base: '/graphql/',
  publicDir: false,
  plugins: [react()],
  build: {
    outDir: '../dist/graphiql',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Monaco and GraphiQL are big; the page loads them once per visit.
    chunkSizeWarningLimit: 6000,
    rolldownOptions: {
      onwarn(warning, warn) {
        // GraphiQL's React Compiler output starts modules with "use no memo":
        // harmless once bundled.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  worker: {
    format: 'es',
  },
  server: {
    // `npm run dev` against a `ticketera serve` on its default address.
    proxy: {
      '/graphql/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '^/graphql$': { target: 'http://127.0.0.1:8080' },
      '/api': { target: 'http://127.0.0.1:8080' },
    },
  },
});
