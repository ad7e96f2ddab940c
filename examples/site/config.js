// Where the site finds the arkiv API.
//
// `apiBase` is the default; a page's `?api=` query parameter overrides it
// while `allowApiOverride` is true (handy in development and for the
// headless test in bench/site/). A production deployment should set its own
// `apiBase` and turn the override off: the pages trust the API's `body_html`
// (sanitised by the server, and again by sanitize.js), so the API is part of
// the site's trusted base.
export default {
  apiBase: 'http://127.0.0.1:8080',
  allowApiOverride: true,
};
