/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// `npm run dev` proxies the API and both sockets to a running GoChat server (default: the
// all-in-one binary of `make run`). The server refuses foreign origins, so the proxy presents the
// target's own origin.
const target = process.env.GOCHAT_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/api': {
        target,
        configure: (proxy) => proxy.on('proxyReq', (req) => req.setHeader('origin', target)),
      },
      '/ws': {
        target,
        ws: true,
        configure: (proxy) => proxy.on('proxyReqWs', (req) => req.setHeader('origin', target)),
      },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
