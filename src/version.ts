import { readFileSync } from 'node:fs';

// Read once from package.json so /status/v2, the CLI and the cluster hello all report the same version.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
export const VERSION: string = pkg.version;
