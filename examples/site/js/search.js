// The search page (search.html): a query box, and the hits of `q` with
// their highlights and facets, from one `/v1/search` call (plus
// `/v1/labels`, unless cached). Without `q` it shows the box alone and asks
// the API for nothing but the labels.
import { Labels, apiOverride, getJson, h, lang, loadLabels, params, startPage, t, done } from './core.js';
import { FILTERS, errorMessage, renderHeader, resultsBody, sameQueryEditions, ui } from './ui.js';

const PAGE = 'search.html';
const PAGE_SIZE = 20;
// The facets worth offering to narrow a search.
const SEARCH_FACETS = ['kind', 'field', 'year', 'language'];

const main = startPage();
const q = (params.get('q') ?? '').trim();

// The page's own query, minus lang and api.
const current = new URLSearchParams();
if (q) current.set('q', q);
for (const name of [...FILTERS, 'cursor']) for (const value of params.getAll(name)) current.append(name, value);

const calls = [loadLabels()];
if (q) {
  const request = new URLSearchParams(current);
  request.set('lang', lang);
  request.set('facets', SEARCH_FACETS.join(','));
  request.set('limit', String(PAGE_SIZE));
  calls.push(getJson('/v1/search', request));
}
const [labelsResult, searchResult] = await Promise.allSettled(calls);
const labels = labelsResult.status === 'fulfilled' ? labelsResult.value : new Labels({ language: lang });
renderHeader(labels, sameQueryEditions(PAGE, current));

// A plain GET form: submitting it loads this page with the new `q` (and the
// page's language, and the API override if there is one); filters start over.
const input = h('input', {
  type: 'search', name: 'q', value: q, placeholder: t('searchPlaceholder'), 'aria-label': t('search'),
});
const form = h(
  'form',
  { role: 'search', method: 'get', action: PAGE, class: 'search-form' },
  input,
  h('input', { type: 'hidden', name: 'lang', value: lang }),
  apiOverride ? h('input', { type: 'hidden', name: 'api', value: apiOverride }) : null,
  ui('button', 'searchButton', {}, { type: 'submit' }),
);

const heading = ui('h1', 'search');
document.title = `${q ? `${q} — ` : ''}${t('search')} — ${t('siteName')}`;
main.replaceChildren(heading, form);
if (searchResult?.status === 'fulfilled') {
  main.append(resultsBody(searchResult.value, labels, PAGE, current, { highlights: true }));
} else if (searchResult) {
  console.error(searchResult.reason);
  main.append(errorMessage(searchResult.reason));
}
if (!q) input.focus();
done(main);
