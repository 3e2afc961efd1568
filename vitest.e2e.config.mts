import { defineConfig } from 'vitest/config';

// The browser test: JupyterLab + Debian's Chromium (npm run test:e2e).
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
