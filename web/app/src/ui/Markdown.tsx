// Comments are Markdown written by users: parsed by marked, then sanitized
// by DOMPurify (no scripts, handlers, styles, iframes or forms) before they
// reach the DOM. Links open in a new tab without the opener.
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { memo, useMemo } from 'react';

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false, gfm: true, breaks: true }) as string;
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['style', 'script', 'iframe', 'form', 'input', 'img', 'svg', 'math'],
    FORBID_ATTR: ['style'],
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#|\/)/i,
  });
}

// A ticket page re-mounts the same comments when it moves between versions
// or pages: each body is parsed and sanitized once, not on every mount.
const CACHE_MAX = 2000;
const cache = new Map<string, string>();

function cachedMarkdown(source: string): string {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const html = renderMarkdown(source);
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(source, html);
  return html;
}

export const Markdown = memo(function Markdown({ source }: { source: string }) {
  const html = useMemo(() => cachedMarkdown(source), [source]);
  return <div className="markdown text-[0.8125rem] leading-relaxed break-words" dangerouslySetInnerHTML={{ __html: html }} />;
});
