/**
 * Letter templates: plain-text files (`<name>.txt`) under `templates/letters/` that a municipality edits without touching
 * code (see the README there). A file holds a header (`onderwerp: ...`, optional `titel: ...`), a line
 * `---`, then the body: paragraphs separated by blank lines (a line break within one is kept), `## ` for a
 * small heading and `- ` for a list item. `{{naam}}` and the other placeholders are filled in at send time.
 * Files are validated when read (an unknown placeholder or a missing subject names the file and line) and
 * re-read when they change, so an edit applies to the next letter without a restart.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const TEMPLATE_NAMES = ['first', 'reminder', 'recontactConfirmation', 'card'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The placeholders a template may use, with what each one becomes. */
export const PLACEHOLDERS = {
  naam: 'full name of the resident, e.g. "Jan van der Berg"',
  gemeente: 'name of the municipality',
  team: 'name of the team that sends the letter',
  telefoon: 'phone number of the team',
  email: 'e-mail address of the team',
  openingstijden: 'when the team answers the phone',
  website: 'website of the municipality',
  datum: 'date of the letter, e.g. "27 november 2026"',
  terugbeldatum: 'agreed re-contact date (re-contact confirmation), e.g. "12 maart 2027"',
  kenmerk: 'reference the resident can quote, e.g. "VS-3F2A9C1B" (no personal data)',
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;
export type TemplateValues = Record<Placeholder, string>;

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'heading'; text: string }
  | { kind: 'list'; items: string[] };

export interface LetterTemplate {
  name: TemplateName;
  /** Subject line of the letter and the e-mail. */
  subject: string;
  /** Large title (the card's "We kwamen bij u langs"); null when the template has none. */
  title: string | null;
  blocks: Block[];
}

/** Thrown for a template file that cannot be used; the message names the file and the problem. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/** Parses and validates one template file's text. */
export function parseTemplate(name: TemplateName, source: string, file = `${name}.txt`): LetterTemplate {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const separator = lines.findIndex((line) => line.trim() === '---');
  if (separator < 0) throw new TemplateError(`${file}: missing the line "---" between header and text`);
  const header = new Map<string, string>();
  for (const [index, line] of lines.slice(0, separator).entries()) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const match = /^\s*([a-z]+)\s*:\s*(.*)$/.exec(line);
    if (!match) throw new TemplateError(`${file}, line ${index + 1}: expected "naam: waarde" in the header`);
    header.set(match[1]!, match[2]!.trim());
  }
  for (const key of header.keys()) {
    if (key !== 'onderwerp' && key !== 'titel') {
      throw new TemplateError(`${file}: unknown header field "${key}" (allowed: onderwerp, titel)`);
    }
  }
  const subject = header.get('onderwerp');
  if (!subject) throw new TemplateError(`${file}: the header needs "onderwerp: ..."`);

  for (const [index, line] of lines.entries()) {
    for (const match of line.matchAll(PLACEHOLDER)) {
      if (!(match[1]! in PLACEHOLDERS)) {
        throw new TemplateError(
          `${file}, line ${index + 1}: unknown placeholder {{${match[1]}}} (allowed: ${Object.keys(PLACEHOLDERS).join(', ')})`,
        );
      }
    }
  }

  const blocks: Block[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    // Line breaks stay as written (a signature, an address); long lines wrap by themselves.
    if (paragraph.length) blocks.push({ kind: 'paragraph', text: paragraph.join('\n') });
    paragraph = [];
  };
  for (const raw of lines.slice(separator + 1)) {
    const line = raw.trim();
    if (!line) {
      flush();
    } else if (line.startsWith('## ')) {
      flush();
      blocks.push({ kind: 'heading', text: line.slice(3).trim() });
    } else if (line.startsWith('- ')) {
      flush();
      const last = blocks.at(-1);
      if (last?.kind === 'list') last.items.push(line.slice(2).trim());
      else blocks.push({ kind: 'list', items: [line.slice(2).trim()] });
    } else {
      // A line directly below a list item continues it; otherwise it joins the paragraph.
      const last = blocks.at(-1);
      if (!paragraph.length && last?.kind === 'list' && !raw.startsWith(line)) {
        last.items[last.items.length - 1] += ` ${line}`;
      } else paragraph.push(line);
    }
  }
  flush();
  if (!blocks.length) throw new TemplateError(`${file}: the text below "---" is empty`);
  return { name, subject, title: header.get('titel') || null, blocks };
}

/** Replaces every `{{placeholder}}` in `text`. */
export function fill(text: string, values: TemplateValues): string {
  return text.replace(PLACEHOLDER, (_, key: string) => values[key as Placeholder] ?? '');
}

/** A template with its placeholders filled in: what a renderer draws. */
export function fillTemplate(template: LetterTemplate, values: TemplateValues): LetterTemplate {
  return {
    name: template.name,
    subject: fill(template.subject, values),
    title: template.title === null ? null : fill(template.title, values),
    blocks: template.blocks.map((block) =>
      block.kind === 'list'
        ? { kind: 'list', items: block.items.map((item) => fill(item, values)) }
        : { kind: block.kind, text: fill(block.text, values) },
    ),
  };
}

/** Reads the templates from a folder, re-reading a file when it changed on disk. */
export interface TemplateStore {
  get(name: TemplateName): LetterTemplate;
}

/** Opens the template folder; every template is read and validated now, so a broken file stops the start. */
export function openTemplates(dir: string, recheckMs = 1_000): TemplateStore {
  const cache = new Map<TemplateName, { mtimeMs: number; checkedAt: number; template: LetterTemplate }>();
  const read = (name: TemplateName): LetterTemplate => {
    const file = join(dir, `${name}.txt`);
    const now = Date.now();
    const cached = cache.get(name);
    if (cached && now - cached.checkedAt < recheckMs) return cached.template;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      throw new TemplateError(`template file ${file} is missing`);
    }
    if (cached && cached.mtimeMs === mtimeMs) {
      cached.checkedAt = now;
      return cached.template;
    }
    const template = parseTemplate(name, readFileSync(file, 'utf8'), file);
    cache.set(name, { mtimeMs, checkedAt: now, template });
    return template;
  };
  for (const name of TEMPLATE_NAMES) read(name);
  return { get: read };
}
