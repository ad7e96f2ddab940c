// Pieces more than one page draws: the header with its language switcher,
// a publication card, the facet lists, a cover image, search highlights and
// error messages.
//
// Conventions the headless test in bench/site/ relies on (and that suit
// any test or analytics script):
//   data-vocab="kind:report"   a label from a closed vocabulary, which must be
//                              the `/v1/labels` label for the page's language
//                              (kind, kind-plural, role, status, event_kind,
//                              language, native);
//   data-ui="key"              an interface string from strings.js;
//   data-facet="field"         a facet value's label as the API sent it;
//   data-alternate="sq"        a language switcher link to another edition.
import {
  LANGUAGES, apiBase, dateElement, h, httpUrl, lang, langIfOther, pageHref, publicationHref, t,
} from './core.js';

/** An element holding the interface string `key`. */
export function ui(tag, key, vars = {}, attributes = {}) {
  return h(tag, { ...attributes, 'data-ui': key }, t(key, vars));
}

// ------------------------------------------------------------------ header

/**
 * Fills the page's <header>: the site's name, the two sections, and a
 * language switcher. `editions` is a list of {language, href, title}; the
 * page's own language is shown as the current one, not as a link.
 */
export function renderHeader(labels, editions) {
  const header = document.querySelector('header.site-header');
  const switcher = h(
    'ul',
    {},
    editions.map(({ language, href, title }) => {
      const name = labels.languageNative(language);
      const attributes = { lang: language, 'data-vocab': `native:${language}` };
      return h(
        'li',
        {},
        language === lang
          ? h('span', { ...attributes, 'aria-current': 'page' }, name)
          : h('a', { ...attributes, href, hreflang: language, title, 'data-alternate': language }, name),
      );
    }),
  );
  header.replaceChildren(
    h('a', { class: 'brand', href: pageHref('index.html') }, ui('span', 'siteName')),
    h(
      'nav',
      { class: 'sections' },
      h('a', { href: pageHref('index.html') }, ui('span', 'publications')),
      h('a', { href: pageHref('search.html') }, ui('span', 'search')),
    ),
    h('nav', { class: 'languages', 'aria-label': t('languages') }, switcher),
  );
}

/** The switcher of a list page: this page, with the same query, in each language. */
export function sameQueryEditions(page, search) {
  return LANGUAGES.map((language) => ({ language, href: pageHref(page, search, language), title: null }));
}

// ------------------------------------------------------------------ images

// Rendition URLs go into srcset, where a space or comma would split them.
const srcsetSafe = (url) => url.replace(/ /g, '%20').replace(/,/g, '%2C');

/**
 * A <figure> for an `image` object of the API ({alt, credit, width, height,
 * renditions}), or null when there is none. The browser picks a rendition
 * from srcset by `sizes`; `src` is a middling one for old browsers.
 */
export function coverFigure(image, sizes, { eager = false } = {}) {
  const renditions = (image?.renditions ?? [])
    .map((rendition) => ({ ...rendition, url: httpUrl(rendition.url, `${apiBase}/`) }))
    .filter((rendition) => rendition.url && rendition.width > 0)
    .sort((a, b) => a.width - b.width);
  if (renditions.length === 0) return null;
  const fallback = renditions.find((rendition) => rendition.width >= 800) ?? renditions.at(-1);
  const img = h('img', {
    src: fallback.url,
    srcset: renditions.map((rendition) => `${srcsetSafe(rendition.url)} ${rendition.width}w`).join(', '),
    sizes,
    alt: image.alt ?? '',
    width: image.width ?? fallback.width,
    height: image.height ?? fallback.height,
    loading: eager ? 'eager' : 'lazy',
    decoding: 'async',
  });
  return h(
    'figure',
    { class: 'cover' },
    img,
    image.credit ? h('figcaption', { class: 'credit' }, t('photo', { credit: image.credit })) : null,
  );
}

// -------------------------------------------------------------- highlights

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text) {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity) => {
    if (entity[0] !== '#') return ENTITIES[entity.toLowerCase()] ?? whole;
    const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

/**
 * A highlight from the search API ("…the <mark>dialogue</mark> &amp; …") as
 * nodes: the text is HTML-escaped by the server except for <mark> tags, so
 * it is split at those tags and the rest decoded into text nodes; nothing
 * of it is ever parsed as HTML.
 */
export function markedText(highlight) {
  const nodes = [];
  let inMark = false;
  for (const part of highlight.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') inMark = true;
    else if (part === '</mark>') inMark = false;
    else if (part) nodes.push(inMark ? h('mark', {}, decodeEntities(part)) : decodeEntities(part));
  }
  return nodes;
}

// ------------------------------------------------------------------- cards

/**
 * One publication in a list or in search results: cover, kind and date,
 * title (highlighted in search), excerpt or the matching fragments, project.
 * Title and excerpt are in the item's own `language`, which may differ from
 * the page's when the text fell back: they carry `lang` then.
 */
export function publicationCard(item, { highlights = null } = {}) {
  const textLang = langIfOther(item.language);
  const title = highlights?.title ? markedText(highlights.title) : item.title;
  // A body fragment comes from whichever variant matched, which the API does
  // not name: it gets no `lang` (the browser then assumes the page's).
  const fragments = highlights?.body?.length
    ? highlights.body.map((fragment) => h('p', { class: 'fragment' }, '… ', markedText(fragment), ' …'))
    : item.excerpt && h('p', { class: 'excerpt', lang: textLang }, item.excerpt);
  return h(
    'article',
    { class: 'card', 'data-slug': item.slug },
    coverFigure(item.image, '(min-width: 48em) 12rem, 100vw'),
    h(
      'div',
      { class: 'card-text' },
      h(
        'p',
        { class: 'meta' },
        h('span', { class: 'kind', 'data-vocab': `kind:${item.kind}` }, item.kind_label),
        ' · ',
        dateElement(item.published_on),
      ),
      h('h2', { lang: textLang }, h('a', { href: publicationHref(item.slug) }, title)),
      fragments,
      item.project && h('p', { class: 'project' }, item.project.title),
    ),
  );
}

// ------------------------------------------------------------------ facets

/** The filters a list or search page passes on to `/v1/search`. */
export const FILTERS = ['kind', 'field', 'project', 'funder', 'language', 'year'];

// A facet's heading: the funder's comes from the labels (the role's name).
function facetHeading(name, labels) {
  switch (name) {
    case 'kind': return ui('h3', 'facetKind');
    case 'field': return ui('h3', 'facetField');
    case 'project': return ui('h3', 'facetProject');
    case 'funder': return h('h3', { 'data-vocab': 'role:funder' }, labels.role('funder'));
    case 'language': return ui('h3', 'facetLanguage');
    default: return ui('h3', 'facetYear');
  }
}

// A facet value's label, marked for the test: kinds and languages are
// vocabularies with labels; the rest are the API's names of things.
function facetLabel(name, value, label) {
  if (name === 'kind') return h('span', { 'data-vocab': `kind:${value}` }, label);
  if (name === 'language') return h('span', { 'data-vocab': `language:${value}` }, label);
  return h('span', { 'data-facet': name }, label);
}

/**
 * The facet lists of a search answer. Each value links to the same page
 * with that value added to (or, when chosen, taken out of) the filters;
 * `hrefWith(search)` makes that link from the new query. Facets count over
 * the matches of the current filters, so a chosen value the answer no
 * longer lists is still shown, to be taken out.
 */
export function facetPanel(facets, labels, current, hrefWith) {
  const sections = [];
  for (const name of FILTERS) {
    const values = [...(facets?.[name] ?? [])];
    const chosen = current.getAll(name);
    for (const value of chosen) {
      if (!values.some((entry) => entry.value === value)) {
        const label = name === 'kind' ? labels.kinds.get(value)?.label
          : name === 'language' ? labels.languageName(value) : value;
        values.push({ value, label: label ?? value, count: 0 });
      }
    }
    if (values.length === 0) continue;
    const items = values.map(({ value, label, count }) => {
      const selected = chosen.includes(value);
      const next = new URLSearchParams(current);
      next.delete('cursor');
      next.delete(name);
      for (const keep of chosen) if (keep !== value) next.append(name, keep);
      if (!selected) next.append(name, value);
      return h(
        'li',
        { class: selected ? 'selected' : null },
        h('a', { href: hrefWith(next), 'aria-current': selected ? 'true' : null, 'data-filter': `${name}=${value}` },
          facetLabel(name, value, label)),
        ' ',
        h('span', { class: 'count' }, count),
      );
    });
    sections.push(h('section', { class: 'facet', 'data-name': name }, facetHeading(name, labels), h('ul', {}, items)));
  }
  const anyChosen = FILTERS.some((name) => current.has(name));
  let clear = null;
  if (anyChosen) {
    const cleared = new URLSearchParams(current);
    for (const name of [...FILTERS, 'cursor']) cleared.delete(name);
    clear = h('p', {}, h('a', { href: hrefWith(cleared), class: 'clear' }, ui('span', 'clearFilters')));
  }
  return h('aside', { class: 'facets', 'aria-label': t('filters') }, clear, sections);
}

// ------------------------------------------------------------ result list

/**
 * The common body of the list and search pages: count, typo note, facets,
 * cards, and a link to the next page. `page` is the page's file name and
 * `current` its query (filters, q) without lang/api.
 */
export function resultsBody(results, labels, page, current, { highlights = false } = {}) {
  const hrefWith = (search) => pageHref(page, search);
  const cards = results.items.map((item) => publicationCard(item, { highlights: highlights ? item.highlights : null }));
  const pager = [];
  if (current.has('cursor')) {
    const first = new URLSearchParams(current);
    first.delete('cursor');
    pager.push(h('a', { href: hrefWith(first), rel: 'first' }, ui('span', 'firstPage')));
  }
  if (results.next_cursor) {
    const next = new URLSearchParams(current);
    next.set('cursor', results.next_cursor);
    pager.push(h('a', { href: hrefWith(next), rel: 'next' }, ui('span', 'nextPage')));
  }
  return h(
    'div',
    { class: 'results-layout' },
    facetPanel(results.facets, labels, current, hrefWith),
    h(
      'section',
      { class: 'results' },
      ui('p', 'results', { n: results.total }, { class: 'count' }),
      results.fuzzy && ui('p', 'fuzzy', {}, { class: 'note' }),
      cards.length ? cards : ui('p', 'noResults'),
      pager.length ? h('nav', { class: 'pager' }, pager) : null,
    ),
  );
}

// ------------------------------------------------------------------ errors

/** A message for a failed call, in the page's language (never the API's English). */
export function errorMessage(error) {
  if (error?.status === 0 || !('status' in (error ?? {}))) return ui('p', 'unreachable', {}, { class: 'error' });
  if (error.status === 404) return ui('p', 'notFound', {}, { class: 'error' });
  return ui('p', 'failed', { status: error.status }, { class: 'error' });
}
