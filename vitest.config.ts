import { defineConfig } from 'vitest/config';

// Unit and in-process tests are fast; *.int.test.ts spawn real processes (the built CLI, npm MCP
// servers, fixture servers) and get longer timeouts. Integration tests need `npm run build` first,
// which `npm test` does.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', ['json', { outputFile: 'test-results.json' }]],
  },
});
