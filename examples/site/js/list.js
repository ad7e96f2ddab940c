// The publication list (index.html): every published publication, newest
// first, with facets whose links filter it.
//
// One call renders it: `/v1/search` without `q` lists everything (sorted
// by `-published_on`) and counts the facets over all matches, which
// `/v1/publications` does not. Plus `/v1/labels`, unless cached.
import { Labels, getJson, h, lang, loadLabels, params, startPage, t, done } from './core.js';
import { FILTERS, errorMessage, renderHeader, resultsBody, sameQueryEditions, ui } from './ui.js';

const PAGE = 'index.html';
const PAGE_SIZE = 20;

const main = startPage();

// The page's own query, minus lang and api: the filters and the cursor.
const current = new URLSearchParams();
for (const name of [...FILTERS, 'cursor']) for (const value of params.getAll(name)) current.append(name, value);

const request = new URLSearchParams(current);
request.set('lang', lang);
request.set('facets', FILTERS.join(','));
request.set('highlight', 'false'); // no query, nothing to highlight
request.set('limit', String(PAGE_SIZE));

const [labelsResult, listResult] = await Promise.allSettled([loadLabels(), getJson('/v1/search', request)]);
const labels = labelsResult.status === 'fulfilled' ? labelsResult.value : new Labels({ language: lang });
renderHeader(labels, sameQueryEditions(PAGE, current));

// The heading: a kind's plural when the list is filtered to that kind alone.
const kinds = current.getAll('kind');
const onlyKind = kinds.length === 1 && FILTERS.every((name) => name === 'kind' || !current.has(name));
const heading = onlyKind
  ? h('h1', { 'data-vocab': `kind-plural:${kinds[0]}` }, labels.kindPlural(kinds[0]))
  : ui('h1', 'publications');
document.title = `${heading.textContent} — ${t('siteName')}`;

if (listResult.status === 'fulfilled') {
  main.replaceChildren(heading, resultsBody(listResult.value, labels, PAGE, current));
} else {
  console.error(listResult.reason);
  main.replaceChildren(heading, errorMessage(listResult.reason));
}
done(main);
