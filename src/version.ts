/**
 * The package's version, read from package.json so the number is written in one place: what the
 * gateway reports as serverInfo upstream, as clientInfo downstream, and what `automcp --version` prints.
 */
import { createRequire } from 'node:module';

// From src/ (tests) and from dist/ (the build) alike, package.json is one folder up.
const manifest = createRequire(import.meta.url)('../package.json') as { version: string };

/** The package version (semver). */
export const VERSION: string = manifest.version;
