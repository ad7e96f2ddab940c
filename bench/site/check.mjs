// Loads every page of examples/site in every language in headless Chromium,
// speaking the DevTools protocol over a WebSocket (Node's own client: no
// packages), and checks what a reader's browser does and sees.
//
// Started by run.sh, which runs arkiv, the static site and Chromium and
// passes their addresses in the environment:
//   ARKIV_API     the API's base URL            (http://127.0.0.1:PORT)
//   SITE_URL      the site's base URL           (http://127.0.0.1:PORT)
//   CDP_PORT      Chromium's remote-debugging port
//   EDITOR_KEY    an editor key for the fixtures (a PDF, a hostile title)
//   SCREENSHOTS   optional: a directory to save a PNG of every page in
//
// For each page × language it records, from the browser's Network domain,
// every request to the API: the calls the page's script made (fetch) and
// the images. It prints a table and exits 1 if any check failed.
//
// Until the archive's publications have images, two extra rows ("…, image
// injected") add an `image` object of the documented shape to the API's
// answers inside the browser (the Fetch domain) and serve its renditions
// as generated PNGs, so the pages' image code is checked all the same; the
// detail also gets a `body_html` with markup the page must drop.
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { deflateSync } from 'node:zlib';

const API = requireEnv('ARKIV_API').replace(/\/+$/, '');
const SITE = requireEnv('SITE_URL').replace(/\/+$/, '');
const CDP_PORT = requireEnv('CDP_PORT');
const EDITOR_KEY = requireEnv('EDITOR_KEY');
const SCREENSHOTS = process.env.SCREENSHOTS || null;

const LANGUAGES = ['en', 'sq', 'sr-Latn', 'sr-Cyrl'];
const SEARCH_QUERY = 'Pristina';
const HOSTILE_SLUG = 'site-bench-markup';
const HOSTILE_TITLE = 'Markup stays text: <img src="x" onerror="window.__arkivXss=1"> <b>bold?</b> & "quotes"';

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`check.mjs: ${name} is not set (run bench/site/run.sh)`);
    process.exit(2);
  }
  return value;
}

// ------------------------------------------------------------ DevTools client

/** A minimal Chrome DevTools Protocol client over one WebSocket. */
class Cdp {
  #ws;
  #nextId = 1;
  #pending = new Map();
  #listeners = new Map();

  static connect(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot open the DevTools WebSocket ${url}`));
    });
  }

  constructor(ws) {
    this.#ws = ws;
    ws.onmessage = (event) => this.#receive(JSON.parse(event.data));
    ws.onclose = () => {
      for (const { reject } of this.#pending.values()) reject(new Error('the DevTools connection closed'));
      this.#pending.clear();
    };
  }

  #receive(message) {
    if (message.id !== undefined) {
      const call = this.#pending.get(message.id);
      if (!call) return;
      this.#pending.delete(message.id);
      if (message.error) call.reject(new Error(`${call.method}: ${message.error.message}`));
      else call.resolve(message.result);
      return;
    }
    for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params);
  }

  /** Calls a DevTools method; rejects after `timeoutMs`. */
  send(method, params = {}, timeoutMs = 30_000) {
    const id = this.#nextId++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        method,
        resolve: (value) => { clearTimeout(timer); resolve(value); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      });
    });
  }

  on(method, listener) {
    if (!this.#listeners.has(method)) this.#listeners.set(method, []);
    this.#listeners.get(method).push(listener);
  }

  close() {
    this.#ws.close();
  }
}

// ------------------------------------------------------------------ the API

async function apiJson(path, init = {}) {
  const response = await fetch(path.startsWith('http') ? path : API + path, init);
  const body = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${body.slice(0, 300)}`);
  return { json: JSON.parse(body), headers: response.headers };
}

const authorised = { Authorization: `Bearer ${EDITOR_KEY}` };

/** A one-page PDF with a text layer, written by hand (no library needed). */
function tinyPdf() {
  const stream = 'BT /F1 18 Tf 20 70 Td (arkiv site bench) Tj ET';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets = objects.map((object, index) => {
    const offset = pdf.length;
    pdf += `${index + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = pdf.length;
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/**
 * Prepares the archive: picks the publications the pages are tested with,
 * gives one of them a PDF (so the detail page shows its link, derived
 * Latin edition included), and adds a publication whose title is markup,
 * which every page must show as text.
 */
async function prepareFixtures() {
  const { json: list } = await apiJson('/v1/publications?limit=100&lang=en');
  const byEditions = [...list.items].sort((a, b) => b.alternates.length - a.alternates.length);
  const multi = byEditions[0];
  const fallback = list.items.find((item) => item.available_languages.length === 1 && item.available_languages[0] === 'en');
  if (!fallback) throw new Error('the demo archive has no English-only publication to test fallback with');

  // The PDF goes on a stored variant: the Cyrillic one when there is one.
  const stored = multi.alternates.filter((alternate) => !alternate.derived).map((alternate) => alternate.language);
  const pdfLanguage = stored.includes('sr-Cyrl') ? 'sr-Cyrl' : stored[0];
  const detailPath = `/v1/publications/${multi.slug}`;
  const { headers } = await apiJson(`${detailPath}?lang=${pdfLanguage}`, { headers: authorised });
  await apiJson(`${detailPath}/variants/${pdfLanguage}/file`, {
    method: 'PUT',
    headers: { ...authorised, 'If-Match': headers.get('etag'), 'Content-Type': 'application/pdf' },
    body: tinyPdf(),
  });

  await apiJson('/v1/publications', {
    method: 'POST',
    headers: { ...authorised, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      slug: HOSTILE_SLUG,
      kind: 'report',
      status: 'published',
      published_on: '2019-06-01',
      fields: multi.fields.slice(0, 1).map((field) => field.slug),
      authors: ['<script>window.__arkivXss=1</script>'],
      variants: {
        en: {
          title: HOSTILE_TITLE,
          summary: 'A summary with <script>window.__arkivXss=1</script> & an <em>emphasis</em>.',
          body: 'First paragraph with <img src=x onerror="window.__arkivXss=1">.\n\nSecond paragraph: <a href="javascript:window.__arkivXss=1">a link</a>.',
        },
      },
    }),
  });

  // The search index follows writes within a second: wait until the list
  // (a search without q) counts the new publication.
  for (let attempt = 0; ; attempt++) {
    const { json } = await apiJson('/v1/search?limit=1&highlight=false');
    if (json.total === list.total + 1) break;
    if (attempt > 50) throw new Error('the new publication did not reach the search index in 5 s');
    await sleep(100);
  }

  const { json: labels } = await apiJson('/v1/labels?lang=all');
  return { multi: multi.slug, pdfLanguage, fallback: fallback.slug, labels };
}

// ------------------------------------------------------- injected images

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A flat-coloured RGB PNG of width × height. */
function png(width, height) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter, no interlace
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([0x2b, 0x6c, 0xb0], 1 + x * 3);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const INJECTED_IMAGES = `${API}/v1/images/site-bench-injected/`;

/** An `image` object as DESIGN.md describes it, renditions at 320, 800 and 1600 px. */
function injectedImage(slug) {
  return {
    alt: `Cover of ${slug}`,
    credit: 'arkiv site bench',
    width: 1600,
    height: 900,
    renditions: [320, 800, 1600].map((width) => ({
      width, height: (width * 9) / 16, url: `${INJECTED_IMAGES}${slug}/${width}.png`, media_type: 'image/png',
    })),
  };
}

// A `body_html` for the injected detail: markup the page keeps, and markup
// its own sanitiser (js/sanitize.js) must drop even if the server let it by.
const INJECTED_BODY_HTML = '<p>Kept: <strong>strong</strong>, <em>emphasis</em>, <a href="https://example.org/">a link</a>.</p>'
  + '<script>window.__arkivXss=1</script><p><img src="javascript:window.__arkivXss=1" onerror="window.__arkivXss=1">'
  + '<a href="javascript:window.__arkivXss=1">dropped href</a><iframe src="https://example.org/"></iframe></p>';

/**
 * An API answer (a detail, or a list with `items`) with an image on every
 * publication, and for a detail a `body_html`.
 */
function withInjected(answer) {
  if (Array.isArray(answer.items)) {
    return { ...answer, items: answer.items.map((item) => ({ ...item, image: injectedImage(item.slug) })) };
  }
  return { ...answer, image: injectedImage(answer.slug), body_html: INJECTED_BODY_HTML };
}

/** Turns the injection on (answers of /v1/publications/… and /v1/search, and the renditions) or off. */
async function injectImages(on) {
  if (!on) {
    await cdp.send('Fetch.disable');
    return;
  }
  await cdp.send('Fetch.enable', {
    patterns: [
      { urlPattern: `${API}/v1/publications/*`, requestStage: 'Response' },
      { urlPattern: `${API}/v1/search?*`, requestStage: 'Response' },
      { urlPattern: `${INJECTED_IMAGES}*`, requestStage: 'Request' },
    ],
  });
}

async function onRequestPaused({ requestId, request, responseStatusCode, responseHeaders }) {
  try {
    if (request.url.startsWith(INJECTED_IMAGES)) {
      const width = Number(/\/(\d+)\.png$/.exec(request.url)?.[1] ?? 320);
      await cdp.send('Fetch.fulfillRequest', {
        requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'Content-Type', value: 'image/png' }, { name: 'Cache-Control', value: 'no-store' }],
        body: png(width, Math.round((width * 9) / 16)).toString('base64'),
      });
      return;
    }
    if (responseStatusCode !== 200) {
      await cdp.send('Fetch.continueRequest', { requestId });
      return;
    }
    const { body, base64Encoded } = await cdp.send('Fetch.getResponseBody', { requestId });
    const text = base64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const changed = JSON.stringify(withInjected(JSON.parse(text)));
    // The body is handed over decoded: drop the headers that describe the wire form.
    const headers = (responseHeaders ?? []).filter(({ name }) => !/^(content-length|content-encoding|etag)$/i.test(name));
    await cdp.send('Fetch.fulfillRequest', {
      requestId, responseCode: 200, responseHeaders: headers, body: Buffer.from(changed).toString('base64'),
    });
  } catch (error) {
    pageErrors.push(`image injection: ${error.message}`);
    await cdp.send('Fetch.continueRequest', { requestId }).catch(() => {});
  }
}

// ------------------------------------------------------------------- browser

let cdp;
let requests = new Map(); // requestId → record, for the page being loaded
let pageErrors = [];

function isApi(url) {
  return url.startsWith(`${API}/`);
}

async function openBrowser() {
  const targets = await (await fetch(`http://127.0.0.1:${CDP_PORT}/json/list`)).json();
  const page = targets.find((target) => target.type === 'page');
  if (!page) throw new Error('Chromium has no page open');
  cdp = await Cdp.connect(page.webSocketDebuggerUrl);

  cdp.on('Network.requestWillBeSent', ({ requestId, request, type }) => {
    if (!isApi(request.url)) return;
    requests.set(requestId, {
      url: request.url, method: request.method, type, status: null, wire: 0, decoded: 0, done: false, error: null,
    });
  });
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    const record = requests.get(requestId);
    if (record) record.status = response.status;
  });
  cdp.on('Network.dataReceived', ({ requestId, dataLength }) => {
    const record = requests.get(requestId);
    if (record) record.decoded += dataLength;
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    const record = requests.get(requestId);
    if (record) Object.assign(record, { wire: encodedDataLength, done: true });
  });
  cdp.on('Network.loadingFailed', ({ requestId, errorText, canceled }) => {
    const record = requests.get(requestId);
    if (record) Object.assign(record, { error: canceled ? null : errorText, done: true });
  });
  cdp.on('Runtime.exceptionThrown', ({ exceptionDetails }) => {
    pageErrors.push(`exception: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`);
  });
  cdp.on('Runtime.consoleAPICalled', ({ type, args }) => {
    if (type === 'error' || type === 'assert') {
      pageErrors.push(`console.${type}: ${args.map((arg) => arg.value ?? arg.description ?? '').join(' ')}`);
    }
  });
  cdp.on('Log.entryAdded', ({ entry }) => {
    if (entry.level === 'error') pageErrors.push(`${entry.source}: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
  });

  cdp.on('Fetch.requestPaused', onRequestPaused);

  await cdp.send('Network.enable');
  // Every page's bytes are measured in full: the browser's HTTP cache is off
  // (the site's own labels cache, in localStorage, is what is tested).
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Runtime.enable');
  await cdp.send('Log.enable');
  await cdp.send('Page.enable');
  await cdp.send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
}

async function evaluate(expression, awaitPromise = false) {
  const { result, exceptionDetails } = await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise });
  if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
  return result.value;
}

async function waitFor(expression, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await evaluate(expression)) return;
    } catch {
      // the document is being replaced: try again
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until no API request is in flight and none started for 300 ms. */
async function settle() {
  const deadline = Date.now() + 5_000;
  let lastCount = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const count = requests.size;
    const inFlight = [...requests.values()].some((record) => !record.done);
    if (count !== lastCount || inFlight) {
      lastCount = count;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= 300) {
      return;
    }
    await sleep(50);
  }
}

// What the test reads off a page, evaluated in it. Images are scrolled
// into view (cards load theirs lazily) and awaited before they are judged.
const PROBE = `(async () => {
  const text = (element) => element.textContent.replace(/\\s+/g, ' ').trim();
  const all = (selector) => [...document.querySelectorAll(selector)];
  const images = [];
  for (const img of document.images) {
    img.scrollIntoView();
    await Promise.race([img.decode().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
    images.push({
      src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth,
      srcset: img.getAttribute('srcset'), sizes: img.getAttribute('sizes'), alt: img.getAttribute('alt'),
      width: img.getAttribute('width'), height: img.getAttribute('height'),
      credit: img.closest('figure')?.querySelector('figcaption')?.textContent.trim() ?? null,
    });
  }
  window.scrollTo(0, 0);
  const h1 = document.querySelector('main h1');
  return {
    href: location.href,
    lang: document.documentElement.lang,
    h1: h1 && text(h1),
    h1Lang: h1 && h1.getAttribute('lang'),
    vocab: all('[data-vocab]').map((element) => ({ key: element.dataset.vocab, text: text(element) })),
    ui: all('[data-ui]').map((element) => ({ key: element.dataset.ui, text: text(element) })),
    facets: all('[data-facet]').map((element) => ({ name: element.dataset.facet, text: text(element) })),
    dates: all('time').map(text),
    cards: all('article.card').map((card) => ({
      slug: card.dataset.slug,
      kind: card.querySelector('[data-vocab^="kind:"]')?.dataset.vocab.slice(5) ?? null,
      title: text(card.querySelector('h2')),
    })),
    filterLinks: all('a[data-filter]').map((a) => ({ filter: a.dataset.filter, href: a.href, selected: a.hasAttribute('aria-current') })),
    alternates: all('a[data-alternate]').map((a) => ({ language: a.dataset.alternate, href: a.href, title: a.title })),
    current: document.querySelector('.languages [aria-current]')?.getAttribute('lang') ?? null,
    hreflang: all('link[rel="alternate"][hreflang]').map((link) => ({ language: link.hreflang, href: link.href })),
    files: all('a[data-file]').map((a) => ({ href: a.href, variant: a.dataset.file })),
    marks: all('main mark').length,
    errors: all('main .error').map(text),
    images,
    xss: window.__arkivXss ?? null,
    injected: all('main script, main iframe, main [onerror], main img[src="x"], main img:not([src]), main a[href^="javascript:"]').length,
    bodyMarkup: all('main .body strong, main .body em, main .body a[href^="https:"]').length,
  };
})()`;

/** Loads `url`, waits for the page to finish, and returns what happened. */
async function load(url, name) {
  // A marker on the old document tells it apart from the new one.
  await evaluate('window.__benchPrevious = true').catch(() => {});
  requests = new Map();
  pageErrors = [];
  await cdp.send('Page.navigate', { url });
  await waitFor(
    `!window.__benchPrevious && document.readyState === 'complete'
      && document.querySelector('main')?.getAttribute('aria-busy') === 'false'`,
    `${name} to render`,
  );
  await settle();
  const probe = await evaluate(PROBE, true);
  await settle();
  if (SCREENSHOTS) {
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true });
    writeFileSync(`${SCREENSHOTS}/${name.replace('→', 'to').replace(/[^\w.-]+/g, '-')}.png`, Buffer.from(data, 'base64'));
  }
  return { probe, records: [...requests.values()], errors: [...pageErrors] };
}

// ------------------------------------------------------------------- checks

const LATIN = /[A-Za-z\u00C0-\u024F]/;
const CYRILLIC = /[\u0400-\u04FF]/;
const ENGLISH_MONTH = /\b(January|February|March|April|May|June|July|August|September|October|November|December)\b/;

/** The label the page must show for a `data-vocab` key, from `/v1/labels`. */
function expectedLabel(labels, key) {
  const [type, value] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
  const find = (list) => list.find((entry) => entry.value === value);
  switch (type) {
    case 'kind': return find(labels.publication_kinds)?.label;
    case 'kind-plural': return find(labels.publication_kinds)?.plural;
    case 'status': return find(labels.publication_statuses)?.label;
    case 'event_kind': return find(labels.event_kinds)?.label;
    case 'role': return find(labels.organisation_roles)?.label;
    case 'language': return find(labels.languages)?.label;
    case 'native': return find(labels.languages)?.native;
    default: return undefined;
  }
}

const rows = [];
let imagesSeen = 0;
let imagesExpected = 0;

/**
 * Runs the checks every page shares and records a table row:
 * - the API calls: `data` calls of the page's own, plus the labels when
 *   `labels` is true (the first page in a language), nothing else;
 * - every answer 200, no script error, no error message on the page;
 * - the page's language, and every vocabulary label equal to `/v1/labels`
 *   in that language, and no label in the other script;
 * - every image loaded, as many as the API's answer has;
 * - markup from the API shown as text;
 * then the page's own checks (`more`), given the probe and the API's
 * answer to the page's data call (fetched again here, outside the browser).
 */
async function check(name, language, url, { labels: expectLabels, data: expectData = 1, inject = false }, more = () => []) {
  // The injected body_html carries an onerror attribute on purpose: Chromium
  // reports it as a CSP violation while the sanitiser parses it (nothing
  // runs). That one report is expected there, and only there.
  const expectedError = (text) => inject && /^security: .*inline event handler/.test(text);
  let failures = [];
  let result = null;
  let answer = null;
  try {
    if (inject) await injectImages(true);
    result = await load(url, `${name}.${language}`);
  } catch (error) {
    failures.push(error.message);
  } finally {
    if (inject) await injectImages(false);
  }
  const calls = result ? result.records.filter((record) => record.type !== 'Image') : [];
  const imageRecords = result ? result.records.filter((record) => record.type === 'Image') : [];
  if (result) {
    const { probe, errors } = result;
    const labelCalls = calls.filter((record) => new URL(record.url).pathname === '/v1/labels');
    const dataCalls = calls.filter((record) => new URL(record.url).pathname !== '/v1/labels');
    if (labelCalls.length !== (expectLabels ? 1 : 0)) {
      failures.push(`${labelCalls.length} labels calls, expected ${expectLabels ? 1 : 0}`);
    }
    if (dataCalls.length !== expectData) {
      failures.push(`${dataCalls.length} data calls, expected ${expectData}: ${dataCalls.map((record) => record.url).join(' ')}`);
    }
    for (const record of result.records) {
      if (record.error || record.status !== 200) {
        failures.push(`${record.method} ${record.url}: ${record.error ?? record.status}`);
      }
    }
    failures.push(...errors.filter((text) => !expectedError(text)), ...probe.errors.map((text) => `page shows an error: ${text}`));
    if (probe.lang !== language) failures.push(`<html lang="${probe.lang}">, expected ${language}`);

    const labels = pageLabels[language];
    for (const { key, text } of probe.vocab) {
      const expected = expectedLabel(labels, key);
      if (expected === undefined) failures.push(`${key}: no such label in /v1/labels`);
      else if (text !== expected) failures.push(`${key} shows "${text}", /v1/labels?lang=${language} says "${expected}"`);
    }
    // Labels in the page's script: on a Cyrillic page no Latin letters, on
    // the others no Cyrillic (acronyms like PDF aside; language names in
    // themselves are meant to be in their own script).
    const scriptCheck = [
      ...probe.vocab.filter(({ key }) => !key.startsWith('native:')).map(({ key, text }) => [key, text]),
      ...probe.ui.map(({ key, text }) => [`ui:${key}`, text]),
      ...probe.facets.map(({ name: facet, text }) => [`${facet}`, text]),
      ...probe.dates.map((text) => ['date', text]),
    ];
    const foreign = language === 'sr-Cyrl' ? LATIN : CYRILLIC;
    for (const [key, text] of scriptCheck) {
      if (foreign.test(text.replace(/\b[A-Z]{2,5}\b/g, ''))) {
        failures.push(`${key} "${text}" is in the wrong script for ${language}`);
      }
    }

    // Dates written by the page, not by a browser that lacks the locale.
    if (language !== 'en') {
      for (const date of probe.dates.filter((text) => ENGLISH_MONTH.test(text))) {
        failures.push(`date "${date}" is in English on a ${language} page`);
      }
    }

    if (probe.xss !== null || probe.injected > 0) failures.push('markup from the API was parsed as HTML');

    const dataCall = dataCalls[0];
    if (dataCall) {
      answer = (await apiJson(dataCall.url)).json;
      if (inject) answer = withInjected(answer);
    }

    // Images: one <img> per image object in the answer, in order, each loaded.
    failures.push(...imageChecks(probe.images, answer, inject));

    failures.push(...(await more(probe, answer)));
  }
  failures = failures.filter(Boolean);
  const row = {
    page: name,
    language,
    calls: calls.length,
    labels: calls.some((record) => new URL(record.url).pathname === '/v1/labels'),
    wire: calls.reduce((sum, record) => sum + record.wire, 0),
    decoded: calls.reduce((sum, record) => sum + record.decoded, 0),
    images: imageRecords.length,
    imageBytes: imageRecords.reduce((sum, record) => sum + record.wire, 0),
    failures,
  };
  rows.push(row);
  process.stderr.write(`${failures.length ? 'FAIL' : 'ok  '} ${name} ${language}\n`);
  return { probe: result?.probe ?? null, answer };
}

/**
 * The page's <img>s against the image objects of the API's answer: as
 * many, in order; each loaded, with every rendition in srcset, `sizes`,
 * the image's width, height and alt text, and its credit under it.
 */
function imageChecks(shown, answer, injected) {
  const failures = [];
  const expected = !answer ? [] : answer.items ? answer.items.map((item) => item.image).filter(Boolean) : [answer.image].filter(Boolean);
  if (!injected) {
    imagesExpected += expected.length;
    imagesSeen += shown.length;
  }
  if (shown.length !== expected.length) {
    failures.push(`${shown.length} images shown, the API's answer has ${expected.length}`);
    return failures;
  }
  expected.forEach((image, index) => {
    const img = shown[index];
    if (!img.complete || img.naturalWidth === 0) failures.push(`image did not load: ${img.src}`);
    for (const rendition of image.renditions) {
      const url = new URL(rendition.url, `${API}/`).href;
      if (!(img.srcset ?? '').split(',').some((candidate) => candidate.trim() === `${url} ${rendition.width}w`)) {
        failures.push(`srcset "${img.srcset}" lacks ${url} ${rendition.width}w`);
      }
    }
    if (!img.sizes) failures.push(`image ${img.src} has no sizes`);
    if (img.width !== String(image.width) || img.height !== String(image.height)) {
      failures.push(`image ${img.src} is ${img.width}×${img.height}, the API says ${image.width}×${image.height}`);
    }
    if (img.alt !== (image.alt ?? '')) failures.push(`image alt "${img.alt}", the API says "${image.alt}"`);
    if (image.credit && !(img.credit ?? '').includes(image.credit)) failures.push(`no credit "${image.credit}" under ${img.src}`);
  });
  return failures;
}

// Checks of a list or search page against the API's answer.
function sameCards(probe, answer) {
  const failures = [];
  if (!answer) return failures;
  const shown = probe.cards.map((card) => card.slug).join(' ');
  const listed = answer.items.map((item) => item.slug).join(' ');
  if (shown !== listed) failures.push(`cards ${shown} differ from the API's items ${listed}`);
  return failures;
}

// Checks of a detail page: the title, the language switcher, hreflang tags
// and the PDF link, against the API's answer.
async function detailChecks(probe, answer, language) {
  const failures = [];
  if (!answer) return failures;
  if (probe.h1 !== answer.title) failures.push(`h1 "${probe.h1}" is not the title "${answer.title}"`);
  const textLang = answer.language !== language ? answer.language : null;
  if (probe.h1Lang !== textLang) failures.push(`h1 lang="${probe.h1Lang}", expected ${textLang ?? 'none'}`);

  const others = answer.alternates.filter((alternate) => alternate.language !== language);
  const linked = probe.alternates.map((link) => link.language).sort().join(' ');
  if (linked !== others.map((alternate) => alternate.language).sort().join(' ')) {
    failures.push(`switcher links to [${linked}], alternates are [${answer.alternates.map((a) => a.language).join(' ')}]`);
  }
  if (answer.alternates.some((alternate) => alternate.language === language) && probe.current !== language) {
    failures.push(`switcher does not mark ${language} as the current edition`);
  }
  for (const alternate of others) {
    const link = probe.alternates.find((candidate) => candidate.language === alternate.language);
    if (!link) continue;
    const target = new URL(link.href);
    if (target.searchParams.get('lang') !== alternate.language || target.searchParams.get('slug') !== answer.slug) {
      failures.push(`switcher link ${link.href} is not ${answer.slug} in ${alternate.language}`);
    }
    // With ARKIV_SITE_URL_PUBLICATIONS pointing at these pages, the API's
    // own site link must name the same page.
    if (alternate.links.site) {
      target.searchParams.delete('api');
      const site = new URL(alternate.links.site);
      const same = site.origin + site.pathname === target.origin + target.pathname
        && [...site.searchParams].sort().join('&') === [...target.searchParams].sort().join('&');
      if (!same) failures.push(`links.site ${alternate.links.site} is not the switcher's page ${target.href}`);
    }
  }
  if (probe.hreflang.length !== answer.alternates.length) {
    failures.push(`${probe.hreflang.length} hreflang links for ${answer.alternates.length} alternates`);
  }

  if (answer.file) {
    if (probe.files.length !== 1) {
      failures.push(`the API has a file, the page shows ${probe.files.length} file links`);
    } else {
      const response = await fetch(probe.files[0].href, { method: 'HEAD' });
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.startsWith('application/pdf')) {
        failures.push(`PDF link ${probe.files[0].href} answers ${response.status} ${type}`);
      }
    }
  } else if (probe.files.length) {
    failures.push('a file link without a file');
  }
  return failures;
}

// ---------------------------------------------------------------------- run

const fixtures = await prepareFixtures();
const pageLabels = fixtures.labels;
if (SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
await openBrowser();

const page = (file, search) => {
  const query = new URLSearchParams(search);
  query.set('api', API);
  return `${SITE}/${file}?${query}`;
};

const detailProbes = {};
try {
  for (const language of LANGUAGES) {
    // The first page in a language fetches the labels; the others find them cached.
    const list = await check('list', language, page('index.html', { lang: language }), { labels: true }, sameCards);

    // A facet link: the list filtered by the first kind it offers.
    const kindLink = list.probe?.filterLinks.find((link) => link.filter.startsWith('kind='));
    if (kindLink) {
      const kind = kindLink.filter.slice('kind='.length);
      await check('list, kind facet', language, kindLink.href, { labels: false }, (probe, answer) => [
        ...sameCards(probe, answer),
        probe.cards.length === 0 && 'the filtered list is empty',
        probe.cards.some((card) => card.kind !== kind) && `cards other than ${kind} in a list filtered by it`,
        !probe.filterLinks.some((link) => link.filter === `kind=${kind}` && link.selected) && 'the chosen kind is not marked',
        !probe.vocab.some((entry) => entry.key === `kind-plural:${kind}`) && "the heading is not the kind's plural",
      ]);
    } else {
      rows.push({ page: 'list, kind facet', language, calls: 0, labels: false, wire: 0, decoded: 0, images: 0, imageBytes: 0, failures: ['no kind facet link on the list'] });
    }

    await check('search', language, page('search.html', { q: SEARCH_QUERY, lang: language }), { labels: false }, (probe, answer) => [
      ...sameCards(probe, answer),
      probe.cards.length === 0 && `no hits for "${SEARCH_QUERY}"`,
      probe.cards.length > 0 && probe.marks === 0 && 'no <mark> in the hits',
    ]);

    const detail = await check('detail', language, page('publication.html', { slug: fixtures.multi, lang: language }), { labels: false },
      (probe, answer) => detailChecks(probe, answer, language));
    detailProbes[language] = detail;

    await check('detail, fallback', language, page('publication.html', { slug: fixtures.fallback, lang: language }), { labels: false },
      (probe, answer) => detailChecks(probe, answer, language));
  }

  // The language switcher of each detail page: every link leads to the page
  // in that language, whose title is the alternate's (labels cached by now).
  for (const language of LANGUAGES) {
    const { probe, answer } = detailProbes[language];
    for (const link of probe?.alternates ?? []) {
      const alternate = answer?.alternates.find((candidate) => candidate.language === link.language);
      await check(`switch ${language} →`, link.language, link.href, { labels: false }, async (target, targetAnswer) => [
        alternate && target.h1 !== alternate.title && `title "${target.h1}" is not the alternate's "${alternate.title}"`,
        ...(await detailChecks(target, targetAnswer, link.language)),
      ]);
    }
  }

  // The image code, with images injected into the answers (see the top).
  await check('list, image injected', 'sr-Cyrl', page('index.html', { lang: 'sr-Cyrl' }), { labels: false, inject: true }, sameCards);
  await check('detail, image injected', 'sq', page('publication.html', { slug: fixtures.multi, lang: 'sq' }), { labels: false, inject: true },
    async (probe, answer) => [
      ...(await detailChecks(probe, answer, 'sq')),
      probe.bodyMarkup !== 3 && `body_html: ${probe.bodyMarkup} of its 3 harmless elements shown`,
    ]);

  // Markup in every text field of a publication stays text.
  await check('detail, markup', 'en', page('publication.html', { slug: HOSTILE_SLUG, lang: 'en' }), { labels: false },
    (probe) => [probe.h1 !== HOSTILE_TITLE && `h1 "${probe.h1}" is not the raw title`]);
} finally {
  cdp.close();
}

// -------------------------------------------------------------------- report

const kb = (bytes) => (bytes / 1024).toFixed(1);
const header = ['page', 'lang', 'API calls', 'labels', 'API kB (wire)', 'JSON kB', 'images', 'result'];
const table = rows.map((row) => [
  row.page, row.language, String(row.calls), row.labels ? 'fetched' : 'cached',
  kb(row.wire), kb(row.decoded), row.images ? `${row.images} (${kb(row.imageBytes)} kB)` : '0',
  row.failures.length ? 'FAIL' : 'pass',
]);
const widths = header.map((title, column) => Math.max(title.length, ...table.map((cells) => cells[column].length)));
const line = (cells) => cells.map((cell, column) => (column >= 2 && column <= 5 ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ');
console.log(line(header));
console.log(widths.map((width) => '-'.repeat(width)).join('  '));
for (const cells of table) console.log(line(cells));

if (imagesExpected === 0) {
  console.log("\nnote: no publication in the archive has an image yet: images were checked only where injected.");
} else {
  console.log(`\nimages: ${imagesSeen} shown and loaded, for ${imagesExpected} image objects in the API's answers.`);
}
console.log(`fixtures: ${fixtures.multi} (a PDF on its ${fixtures.pdfLanguage} variant), fallback ${fixtures.fallback}, markup ${HOSTILE_SLUG}`);

const failed = rows.filter((row) => row.failures.length);
if (failed.length) {
  console.log(`\n${failed.length} of ${rows.length} pages failed:`);
  for (const row of failed) {
    console.log(`- ${row.page} [${row.language}]`);
    for (const failure of row.failures) console.log(`    ${failure}`);
  }
  process.exit(1);
}
console.log(`\nall ${rows.length} pages passed`);
