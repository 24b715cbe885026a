/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `couchpay serve` serves web/dist at /. For `npm run dev`, start `couchpay serve` on
// 127.0.0.1:8000 first: the dev server forwards /config, /dev and /ws to it.
const backend = 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/config': backend,
      '/dev': backend,
      '/ws': { target: backend.replace(/^http/, 'ws'), ws: true },
    },
  },
  test: { include: ['test/**/*.test.ts'], environment: 'node' },
});
