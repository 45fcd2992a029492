// The admin pages, in the order the navigation lists them.
//
// A page module's default export is an object with:
//   id         the route: `#/<id>`, and `#/<id>/<params...>` below it,
//              either with a `?<query>` the page keeps its state in
//   titleKey   its name in the i18n tables (i18n/admin/*.js)
//   adminOnly  true hides it from agents (the nav leaves it out and its
//              route falls back to the inbox)
//   render(container, context)
//              draws the page into the empty `container` (the <main>);
//              returns a function that stops its timers and streams,
//              nothing, or `{stop, follow(query)}`. It is called again on
//              every hash change and language switch, except that a
//              change of the query alone goes to `follow` when the page
//              has one. `context` holds `api` (AdminApi: get, post, send,
//              getChanged, openEvents), `t` (strings), `user` ({id,
//              email, role}), `config` (/api/v1/ui/config), `params` (the
//              hash's parts after the id) and `query` (URLSearchParams).
import backups from "./backups.js";
import faq from "./faq.js";
import inbox from "./inbox.js";
import system from "./system.js";
import users from "./users.js";

export const PAGES = [
  inbox,
  faq,
  users,
  backups,
  system,
];
