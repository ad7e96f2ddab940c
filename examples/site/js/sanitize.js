// A second, client-side pass over the server's `body_html`.
//
// arkiv renders a body's Markdown and sanitises the HTML itself, so this
// should never remove anything. It is here because the page inserts that
// HTML into the site's own origin: if the site is ever pointed at another
// API (`?api=`), or the server's sanitiser has a gap, this keeps the body
// to plain document markup. It parses into an inert <template> (no scripts
// run, no images load) and rebuilds only what the allow-lists name.
//
// Chromium reports an event-handler attribute (`onerror=…`) met while
// parsing as a Content-Security-Policy violation, though none runs: such a
// report on a detail page means the server's sanitiser let one through.
import { apiBase } from './core.js';

// Elements kept with their content.
const ALLOWED = new Set([
  'a', 'abbr', 'b', 'blockquote', 'br', 'caption', 'cite', 'code', 'dd', 'del', 'dfn', 'div', 'dl',
  'dt', 'em', 'figcaption', 'figure', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd',
  'li', 'mark', 'ol', 'p', 'pre', 'q', 's', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody',
  'td', 'tfoot', 'th', 'thead', 'tr', 'u', 'ul',
]);

// Elements dropped with everything inside them.
const DROPPED = new Set([
  'script', 'style', 'template', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
  'noscript', 'svg', 'math', 'link', 'meta', 'base', 'form', 'input', 'button', 'select',
  'textarea', 'title', 'head',
]);

// Attributes kept, per element ('*': on any).
const ATTRIBUTES = {
  '*': ['lang', 'dir', 'title'],
  a: ['href'],
  img: ['src', 'alt', 'width', 'height'],
  td: ['colspan', 'rowspan'],
  th: ['colspan', 'rowspan', 'scope'],
  ol: ['start'],
  abbr: ['title'],
};

const URL_ATTRIBUTES = new Set(['href', 'src']);

// A URL in the body, made absolute against the API (the document it came
// from); only http(s), and mailto for links, are kept.
function safeUrl(value, attribute) {
  if (attribute === 'href' && value.trim().startsWith('#')) return value.trim(); // within the body
  try {
    const url = new URL(value.trim(), `${apiBase}/`);
    const schemes = attribute === 'href' ? ['http:', 'https:', 'mailto:'] : ['http:', 'https:'];
    return schemes.includes(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

function copyClean(source, target) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(node.data);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue; // comments, processing instructions
    const tag = node.localName;
    if (DROPPED.has(tag)) continue;
    if (!ALLOWED.has(tag)) {
      // An unknown element (h1, article, …): keep its content, not the element.
      copyClean(node, target);
      continue;
    }
    const element = document.createElement(tag);
    const allowed = [...ATTRIBUTES['*'], ...(ATTRIBUTES[tag] ?? [])];
    for (const name of allowed) {
      const value = node.getAttribute(name);
      if (value === null) continue;
      const clean = URL_ATTRIBUTES.has(name) ? safeUrl(value, name) : value;
      if (clean !== null) element.setAttribute(name, clean);
    }
    if (tag === 'a' && element.hasAttribute('href')) {
      element.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (tag === 'img') {
      if (!element.hasAttribute('src')) continue; // nothing to show
      element.setAttribute('loading', 'lazy');
    }
    copyClean(node, element);
    target.append(element);
  }
}

/** The `html` as a DocumentFragment of allowed elements and attributes only. */
export function sanitizedFragment(html) {
  const template = document.createElement('template');
  template.innerHTML = html; // inert: a <template>'s content is never rendered or run
  const fragment = document.createDocumentFragment();
  copyClean(template.content, fragment);
  return fragment;
}
