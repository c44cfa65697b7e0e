// Checks the SPA build in dist/ (see vite.spa.config.ts):
// - index.html refers only to files of the build (/assets/… or a top-level
//   file of dist/), has no inline <script> or <style> (the server's CSP has
//   script-src 'self' and style-src 'self') and no absolute URL;
// - no stylesheet loads anything remote;
// - the initial JavaScript (the entry and every chunk it imports statically,
//   transitively) is at most 300 KB gzip. Prints the figure either way.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const LIMIT = 300 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const problems = [];

const html = readFileSync(join(dist, 'index.html'), 'utf8');
const body = html.replace(/<!--[\s\S]*?-->/g, '');
for (const m of body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
  if (!/\bsrc\s*=/.test(m[1]) || m[2].trim() !== '') problems.push('index.html has an inline <script>');
}
if (/<style\b/i.test(body)) problems.push('index.html has an inline <style>');
if (/\sstyle\s*=/i.test(body)) problems.push('index.html has a style attribute');
if (/\son[a-z]+\s*=/i.test(body)) problems.push('index.html has an inline event handler');
if (/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i.test(body)) problems.push('index.html contains an absolute URL');

const refs = [...body.matchAll(/\b(?:src|href)\s*=\s*["']([^"']*)["']/g)].map((m) => m[1]);
for (const ref of refs) {
  const file = ref.replace(/^\//, '');
  if (!ref.startsWith('/') || ref.startsWith('//')) problems.push(`index.html references ${ref} (expected a root-relative path)`);
  else if (!existsSync(join(dist, file))) problems.push(`index.html references ${ref}, which the build does not contain`);
}

const assets = join(dist, 'assets');
for (const name of readdirSync(assets).filter((n) => n.endsWith('.css'))) {
  const css = readFileSync(join(assets, name), 'utf8');
  for (const m of css.matchAll(/(?:url\(\s*["']?|@import\s+["'])([^"')\s]+)/g)) {
    const target = m[1];
    if (target.startsWith('data:') || target.startsWith('#')) continue;
    if (/^(?:[a-z]+:)?\/\//i.test(target)) problems.push(`${name} loads ${target}`);
  }
}

// Initial JavaScript: entry scripts, then their static imports.
const entries = [...body.matchAll(/<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)].map((m) => m[1]);
const seen = new Set();
const queue = entries.map((e) => e.replace(/^\//, ''));
let raw = 0;
let gz = 0;
while (queue.length > 0) {
  const file = queue.shift();
  if (seen.has(file) || !existsSync(join(dist, file))) continue;
  seen.add(file);
  const code = readFileSync(join(dist, file));
  raw += code.length;
  gz += gzipSync(code, { level: 9 }).length;
  const text = code.toString('utf8');
  // Static imports only: `import … from "./x.js"`, `import "./x.js"`,
  // `export … from "./x.js"`; not `import("./x.js")`.
  for (const m of text.matchAll(/(?:\bimport|\bexport)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+\.js)["']/g)) {
    const spec = m[1];
    const dir = file.slice(0, file.lastIndexOf('/') + 1);
    const target = spec.startsWith('/') ? spec.slice(1) : new URL(spec, `http://x/${dir}`).pathname.slice(1);
    queue.push(target);
  }
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dist: initial JavaScript ${kb(gz)} gzip (${kb(raw)} raw) in ${seen.size} file(s); limit ${kb(LIMIT)} gzip`);
if (seen.size === 0) problems.push('index.html loads no JavaScript');
if (gz > LIMIT) problems.push(`initial JavaScript is ${kb(gz)} gzip, over the ${kb(LIMIT)} limit`);

if (problems.length > 0) {
  console.error(`dist (SPA) check failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`dist: index.html refers to ${refs.length} file(s) of the build; no inline script or style`);
