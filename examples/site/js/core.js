// What every page shares: the page's language, the API's address, one fetch
// helper, the labels (cached per language), the interface words, a small
// DOM builder that only ever makes text nodes, and links between pages.
import config from '../config.js';
import { STRINGS } from './strings.js';

export const LANGUAGES = ['en', 'sq', 'sr-Latn', 'sr-Cyrl'];

const query = new URLSearchParams(location.search);

/** The page's language: `?lang=`, else English. */
export const lang = LANGUAGES.includes(query.get('lang')) ? query.get('lang') : 'en';

/** The page's query string, for the page modules (filters, slug, q, cursor). */
export const params = query;

/** `?api=`, when config.js allows it and it is an http(s) URL; else null. */
export const apiOverride = config.allowApiOverride ? httpUrl(query.get('api')) : null;

/** The API's base URL, without a trailing slash. */
export const apiBase = (apiOverride ?? config.apiBase).replace(/\/+$/, '');

/** Parses `value` as an absolute http(s) URL; null for anything else. */
export function httpUrl(value, base) {
  if (!value) return null;
  try {
    const url = new URL(value, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the API

/** An answer other than 2xx, with the RFC 9457 problem when there is one. */
export class ApiError extends Error {
  constructor(status, problem, options) {
    super(status ? `arkiv answered ${status}` : 'arkiv could not be reached', options);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * GETs `path` from the API with `search` (an object or URLSearchParams) as
 * its query string and returns the parsed JSON.
 *
 * A plain GET with only CORS-safelisted headers: the browser sends no
 * preflight, so one call is one request.
 */
export async function getJson(path, search = {}) {
  const url = new URL(apiBase + path);
  const entries = search instanceof URLSearchParams ? search : Object.entries(search);
  for (const [name, value] of entries) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.append(name, value);
  }
  let response;
  try {
    response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'omit' });
  } catch (cause) {
    throw new ApiError(0, null, { cause });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      // not JSON: the status alone has to do
    }
    throw new ApiError(response.status, problem);
  }
  return response.json();
}

// ------------------------------------------------------------- the labels

// The labels of one language change only when arkiv is upgraded; the
// endpoint itself says they may be kept for a day. Keep them in
// localStorage for that long, so only the first page a reader opens in a
// language asks for them. The key names the API too: two archives never
// share an entry.
const LABELS_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const labelsKey = `arkiv-site:labels:v1:${apiBase}:${lang}`;

/** The `/v1/labels` answer for the page's language, from the cache if fresh. */
export async function loadLabels() {
  try {
    const cached = JSON.parse(localStorage.getItem(labelsKey));
    if (cached && Date.now() - cached.storedAt < LABELS_MAX_AGE_MS && cached.labels?.language === lang) {
      return new Labels(cached.labels);
    }
  } catch {
    // storage disabled or entry unreadable: fetch them
  }
  const labels = await getJson('/v1/labels', { lang });
  try {
    localStorage.setItem(labelsKey, JSON.stringify({ storedAt: Date.now(), labels }));
  } catch {
    // storage full or disabled: the next page fetches them again
  }
  return new Labels(labels);
}

/** Look-ups into one language's `/v1/labels` answer. */
export class Labels {
  constructor(raw) {
    const byValue = (list) => new Map((list ?? []).map((entry) => [entry.value, entry]));
    this.raw = raw;
    this.kinds = byValue(raw.publication_kinds);
    this.statuses = byValue(raw.publication_statuses);
    this.eventKinds = byValue(raw.event_kinds);
    this.roles = byValue(raw.organisation_roles);
    this.languages = byValue(raw.languages);
  }
  /** A publication kind's plural ("Reports"), for headings. */
  kindPlural(value) {
    return this.kinds.get(value)?.plural ?? this.kinds.get(value)?.label ?? value;
  }
  role(value) {
    return this.roles.get(value)?.label ?? value;
  }
  status(value) {
    return this.statuses.get(value)?.label ?? value;
  }
  /** A language named in the page's language ("Anglisht" on an sq page). */
  languageName(tag) {
    return this.languages.get(tag)?.label ?? tag;
  }
  /** A language named in itself ("English"), for language switchers. */
  languageNative(tag) {
    return this.languages.get(tag)?.native ?? tag;
  }
}

// --------------------------------------------------------------- the words

/** An interface string in the page's language, `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

const words = STRINGS[lang] ?? STRINGS.en;

/** A `<time>` for an ISO date ("2024-11-08"), written the page's way. */
export function dateElement(isoDate) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate ?? '');
  if (!match) return null;
  const [, year, month, day] = match;
  const month0 = Number(month) - 1;
  if (!(month0 >= 0 && month0 < 12)) return null;
  const text = words.date
    .replace('{day}', String(Number(day)))
    .replace('{month}', words.months[month0])
    .replace('{year}', year);
  return h('time', { datetime: match[0] }, text);
}

/** "590 B", "12,3 kB", "1,2 MB": a file size, SI units, the page's decimal sign. */
export function byteSize(bytes) {
  const [value, unit] = bytes >= 1e6 ? [bytes / 1e6, 'MB'] : bytes >= 1e3 ? [bytes / 1e3, 'kB'] : [bytes, 'B'];
  const number = unit === 'B' ? String(value) : value.toFixed(1).replace('.', words.decimal);
  return `${number} ${unit}`;
}

// ----------------------------------------------------------------- the DOM

/**
 * Makes an element. Attributes are set with setAttribute (null, undefined
 * and false leave one out); children are nodes or strings, and strings
 * become text nodes, so whatever the API sends is shown, never parsed.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

/** `lang` for an element whose text is in `language`, when that is not the page's. */
export function langIfOther(language) {
  return language && language !== lang ? language : null;
}

// --------------------------------------------------------------- the links

/**
 * A link to one of the site's pages in language `language` (the page's by
 * default), with `search` as its query. The `api` override is carried along
 * so that a session stays on the archive it started with.
 */
export function pageHref(page, search = {}, language = lang) {
  const out = new URLSearchParams();
  const entries = search instanceof URLSearchParams ? search : Object.entries(search);
  for (const [name, value] of entries) {
    if (Array.isArray(value)) value.forEach((v) => out.append(name, v));
    else if (value !== undefined && value !== null && value !== '') out.append(name, value);
  }
  out.set('lang', language);
  if (apiOverride) out.set('api', apiOverride);
  return `${page}?${out}`;
}

/** The detail page of a publication. */
export function publicationHref(slug, language = lang) {
  return pageHref('publication.html', { slug }, language);
}

// ---------------------------------------------------------- page lifecycle

/**
 * Sets up the document for the page's language and returns the `<main>` to
 * fill. `<main aria-busy="true">` says the page is still loading; `done()`
 * clears it (tests wait for `aria-busy="false"`).
 */
export function startPage() {
  document.documentElement.lang = lang;
  const main = document.querySelector('main');
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading' }, t('loading')));
  return main;
}

export function done(main) {
  main.setAttribute('aria-busy', 'false');
}
