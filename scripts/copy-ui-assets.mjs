// Part of `npm run build`: copies the dashboard's static files (src/ui/static) next to the compiled
// src/ui modules in dist, which serve them. They are plain files, so there is nothing to compile.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
cpSync(`${root}src/ui/static`, `${root}dist/ui/static`, { recursive: true });
