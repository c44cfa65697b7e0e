// Removes the SPA's previous build output from dist/ (index.html, assets/,
// public files) and leaves dist/graphiql alone: the two builds share dist/.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
if (existsSync(dist)) {
  for (const name of readdirSync(dist)) {
    if (name === 'graphiql') continue;
    rmSync(join(dist, name), { recursive: true, force: true });
  }
}
