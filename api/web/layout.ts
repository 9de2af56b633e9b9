/**
 * The shared page layout of the workspace (NL Design System look via the Utrecht component library and
 * design tokens), for caseworker and manager pages alike: skip link, header with navigation and the
 * signed-in user, one `<main>` with the page's `<h1>`, and a footer. Also registers the static assets.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { html, type SafeHtml } from './html.js';

export { escapeHtml, html, raw, SafeHtml } from './html.js';

/** What the layout needs to know of the signed-in user. */
export interface LayoutUser {
  displayName: string;
  roles: readonly string[];
  teams: readonly string[];
  csrfToken: string;
}

/** A link in the main navigation; `roles` limits who sees it. */
export interface NavItem {
  href: string;
  label: string;
  roles?: readonly string[];
}

/** The navigation every page shows; other audiences append their own items with `addNavItem`. */
const NAV_ITEMS: NavItem[] = [
  { href: '/taken?scope=mine', label: 'Mijn taken' },
  { href: '/taken?scope=team', label: 'Teamtaken' },
  { href: '/huisbezoeken', label: 'Huisbezoeken' },
];

/** Adds a navigation item (e.g. the managers' pages), once. */
export function addNavItem(item: NavItem): void {
  if (!NAV_ITEMS.some((i) => i.href === item.href)) NAV_ITEMS.push(item);
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  user?: LayoutUser | null;
  /** The path of the current navigation item, marked with aria-current. */
  current?: string;
  /** A message shown above the content (e.g. after an action). */
  notice?: { kind: 'ok' | 'error'; text: string } | null;
}

const TEAM_NAMES: Record<string, string> = {
  schulddienstverlening: 'Team Schulddienstverlening',
  wijkteam: 'Wijkteam',
};

/** The Dutch name of a team. */
export function teamName(team: string): string {
  return TEAM_NAMES[team] ?? team;
}

/** A notice box; the text states the kind, so colour is never the only cue. */
export function notice(kind: 'ok' | 'error', text: string): SafeHtml {
  const role = kind === 'error' ? 'alert' : 'status';
  const label = kind === 'error' ? 'Let op' : 'Gelukt';
  return html`<div class="utrecht-alert utrecht-alert--${kind === 'error' ? 'error' : 'ok'} vs-notice vs-notice--${kind}" role="${role}">
  <p class="utrecht-paragraph"><strong>${label}:</strong> ${text}</p></div>`;
}

/** A full HTML page. */
export function page(options: PageOptions): string {
  const user = options.user ?? null;
  const nav = user
    ? NAV_ITEMS.filter((item) => !item.roles || item.roles.some((r) => user.roles.includes(r)))
    : [];
  const doc = html`<!doctype html>
<html lang="nl" class="utrecht-theme">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} - Vroegsignalering</title>
<link rel="stylesheet" href="/assets/utrecht/theme.css">
<link rel="stylesheet" href="/assets/utrecht/components.css">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body class="utrecht-document utrecht-root">
<a class="utrecht-skip-link vs-skip" href="#inhoud">Naar de inhoud</a>
<header class="utrecht-page-header vs-header">
  <div class="vs-header__inner">
    <p class="vs-brand">Vroegsignalering</p>
    ${
      user
        ? html`<nav aria-label="Hoofdmenu" class="vs-nav"><ul class="vs-nav__list">${nav.map(
            (item) =>
              html`<li><a class="utrecht-link vs-nav__link" href="${item.href}"${
                options.current === item.href ? html` aria-current="page"` : ''
              }>${item.label}</a></li>`,
          )}</ul></nav>
    <div class="vs-user">
      <span>${user.displayName} (${user.teams.map(teamName).join(', ')})</span>
      <form method="post" action="/uitloggen" class="vs-inline-form">
        <input type="hidden" name="_csrf" value="${user.csrfToken}">
        <button type="submit" class="utrecht-button utrecht-button--secondary-action">Uitloggen</button>
      </form>
    </div>`
        : ''
    }
  </div>
</header>
<main id="inhoud" class="utrecht-page-content vs-main" tabindex="-1">
<h1 class="utrecht-heading-1">${options.title}</h1>
${options.notice ? notice(options.notice.kind, options.notice.text) : ''}
${options.body}
</main>
<footer class="vs-footer"><p class="utrecht-paragraph">Gemeente - vroegsignalering schulden</p></footer>
</body>
</html>`;
  return doc.value;
}

const require = createRequire(import.meta.url);
const UTRECHT_FILES: Record<string, string> = {
  'theme.css': require.resolve('@utrecht/design-tokens/dist/theme.css'),
  'components.css': require.resolve('@utrecht/component-library-css/dist/index.css'),
};

/** Serves the stylesheets under /assets (once per app). */
export async function registerWebAssets(app: FastifyInstance): Promise<void> {
  if (app.hasDecorator('vsWebAssets')) return;
  app.decorate('vsWebAssets', true);
  const here = dirname(fileURLToPath(import.meta.url));
  await app.register(fastifyStatic, { root: join(here, 'assets'), prefix: '/assets/', decorateReply: false });
  for (const [name, file] of Object.entries(UTRECHT_FILES)) {
    const content = await readFile(file);
    app.get(`/assets/utrecht/${name}`, async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(content),
    );
  }
}
