// The detail page of one publication (publication.html?slug=…).
//
// One call renders it: `/v1/publications/{slug}?lang=L` embeds the project,
// funders, partners, event and fields with their labels in L, and lists the
// language editions (`alternates`) for the switcher, so there is no
// `?lang=all` call and no call per embedded thing. Plus `/v1/labels`,
// unless cached.
import {
  Labels, apiBase, byteSize, dateElement, getJson, h, lang, langIfOther, loadLabels, pageHref, params,
  publicationHref, startPage, t, done,
} from './core.js';
import { coverFigure, errorMessage, renderHeader, sameQueryEditions, ui } from './ui.js';
import { sanitizedFragment } from './sanitize.js';

const main = startPage();
const slug = params.get('slug') ?? '';

if (!slug) {
  location.replace(pageHref('index.html'));
} else {
  const [labelsResult, publicationResult] = await Promise.allSettled([
    loadLabels(),
    getJson(`/v1/publications/${encodeURIComponent(slug)}`, { lang }),
  ]);
  const labels = labelsResult.status === 'fulfilled' ? labelsResult.value : new Labels({ language: lang });
  if (publicationResult.status === 'fulfilled') {
    renderPublication(publicationResult.value, labels);
  } else {
    renderFailure(publicationResult.reason, labels);
  }
}
done(main);

function renderPublication(publication, labels) {
  const textLang = langIfOther(publication.language);
  document.title = `${publication.title} — ${t('siteName')}`;

  // The switcher and the <link rel="alternate" hreflang> tags, both from
  // `alternates`: each edition's page is this page with its language.
  const editions = (publication.alternates ?? []).map((alternate) => ({
    language: alternate.language,
    href: publicationHref(publication.slug, alternate.language),
    title: alternate.title,
  }));
  renderHeader(labels, editions);
  for (const { language, href } of editions) {
    document.head.append(h('link', { rel: 'alternate', hreflang: language, href: new URL(href, location.href).href }));
  }

  const notes = [];
  if (publication.language !== lang) {
    // The text fell back to another language; the labels did not.
    notes.push(h('p', { class: 'note' }, ui('span', 'textLanguage'), ': ',
      h('span', { 'data-vocab': `language:${publication.language}` }, labels.languageName(publication.language))));
  }
  if (publication.derived_from) notes.push(ui('p', 'transliterated', {}, { class: 'note' }));

  const meta = [
    h('span', { class: 'kind', 'data-vocab': `kind:${publication.kind}` }, publication.kind_label),
    publication.published_on && [' · ', ui('span', 'published'), ' ', dateElement(publication.published_on)],
    publication.reading_minutes > 0 && [' · ', ui('span', 'readingTime', { n: publication.reading_minutes })],
  ];

  main.replaceChildren(h(
    'article',
    { class: 'publication', 'data-slug': publication.slug },
    coverFigure(publication.image, '(min-width: 60em) 56rem, 100vw', { eager: true }),
    h('p', { class: 'meta' }, meta),
    h('h1', { lang: textLang }, publication.title),
    notes,
    showSummary(publication) && h('p', { class: 'summary', lang: textLang }, publication.summary),
    fileLink(publication),
    h('div', { class: 'body', lang: textLang }, bodyContent(publication)),
    facts(publication, labels),
  ));
}

// The summary, unless the body starts with it (as many of the archive's do).
function showSummary(publication) {
  const flat = (text) => (text ?? '').replace(/\s+/g, ' ').trim();
  const summary = flat(publication.summary);
  return summary !== '' && !flat(publication.body).startsWith(summary);
}

// The PDF of the served variant. The file view carries no URL, so it is
// built from the file route; a Latin edition derived from Cyrillic has its
// file under the Cyrillic variant (`derived_from`).
function fileLink(publication) {
  const file = publication.file;
  if (!file) return null;
  const variant = publication.derived_from ?? publication.language;
  const href = `${apiBase}/v1/publications/${encodeURIComponent(publication.slug)}/variants/${encodeURIComponent(variant)}/file`;
  return h(
    'p',
    { class: 'file' },
    h('a', { href, type: file.media_type, 'data-file': variant }, ui('span', 'download')),
    ' ',
    h('span', { class: 'size' }, `(${byteSize(file.size)})`),
  );
}

// `body_html` when the API renders one (sanitised there, and again here);
// else the plain `body`, one paragraph per blank-line-separated block.
function bodyContent(publication) {
  if (typeof publication.body_html === 'string' && publication.body_html) {
    return sanitizedFragment(publication.body_html);
  }
  return (publication.body ?? '')
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => h('p', {}, block));
}

// Project, funders, partners, event, fields, authors, keywords. Project,
// funders and fields link to the list filtered by them (facets the list
// has); the rest are shown as they are.
function facts(publication, labels) {
  const rows = [];
  const row = (term, ...values) => rows.push(h('dt', {}, term), ...values.map((value) => h('dd', {}, value)));
  const listLink = (filter, value, text, attributes = {}) =>
    h('a', { ...attributes, href: pageHref('index.html', { [filter]: value }) }, text);

  if (publication.project) {
    row(ui('span', 'project'), listLink('project', publication.project.slug, publication.project.title));
  }
  if (publication.funders?.length) {
    row(h('span', { 'data-vocab': 'role:funder' }, labels.role('funder')),
      ...publication.funders.map((funder) => listLink('funder', funder.slug, funder.name)));
  }
  if (publication.partners?.length) {
    row(h('span', { 'data-vocab': 'role:partner' }, labels.role('partner')),
      ...publication.partners.map((partner) => partner.name));
  }
  const event = publication.event;
  if (event) {
    row(ui('span', 'event'), [
      h('span', { 'data-vocab': `event_kind:${event.kind}` }, event.kind_label), ': ', event.title,
      event.starts_on && [' · ', dateElement(event.starts_on)],
      event.place && [' · ', event.place],
    ]);
  }
  if (publication.fields?.length) {
    row(ui('span', 'fields'),
      ...publication.fields.map((field) => listLink('field', field.slug, field.label, { 'data-facet': 'field' })));
  }
  if (publication.authors?.length) row(ui('span', 'authors'), publication.authors.join(', '));
  if (publication.keywords?.length) row(ui('span', 'keywords'), publication.keywords.join(', '));
  return rows.length ? h('dl', { class: 'facts' }, rows) : null;
}

// 404, 410 (withdrawn: the problem names the titles and the reason) or a
// failure; the header offers the same page in the other languages.
function renderFailure(error, labels) {
  console.error(error);
  renderHeader(labels, sameQueryEditions('publication.html', { slug }));
  const withdrawn = error?.status === 410 ? error.problem?.publication : null;
  if (withdrawn) {
    const titles = withdrawn.titles ?? {};
    const [titleLang, title] = titles[lang] !== undefined ? [lang, titles[lang]]
      : Object.entries(titles)[0] ?? [lang, slug];
    document.title = `${title} — ${t('siteName')}`;
    main.replaceChildren(h(
      'article',
      { class: 'publication withdrawn' },
      h('h1', { lang: langIfOther(titleLang) }, title),
      h('p', { class: 'note' },
        h('span', { 'data-vocab': 'status:withdrawn' }, labels.status('withdrawn')), ' ',
        dateElement(withdrawn.withdrawn_at), withdrawn.reason ? [': ', withdrawn.reason] : null),
    ));
    return;
  }
  document.title = t('siteName');
  main.replaceChildren(errorMessage(error),
    h('p', {}, h('a', { href: pageHref('index.html') }, ui('span', 'allPublications'))));
}
