/**
 * `npm run bench:letters [-- --count 10000 --out <dir>]`: renders a batch of first letters for fictitious
 * residents (names, prefixes and additions varied) with the real templates and fonts, writes them to a
 * print outbox folder (a temporary one unless --out is given) with the day's manifest, and prints letters
 * per second. No database or SMTP server involved: this measures the document pipeline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Addressee } from '../activities/letters/addressing.js';
import { composeDocument, referenceOf } from '../activities/letters/compose.js';
import { HOLLANDS_KROON } from '../activities/letters/municipality.js';
import { dayOf, folderOutbox } from '../activities/letters/print-outbox.js';
import { openTemplates, type TemplateName } from '../activities/letters/templates.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    out: { type: 'string' },
    templates: { type: 'string', default: 'templates/letters' },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1) throw new Error('--count must be a positive whole number');

const FIRST = [
  'Jantine',
  'Mehmet',
  'Anne-Marie Johanna',
  'Piet',
  'Łukasz',
  'Fatima Zahra',
  'Wilhelmina Catharina',
];
const PREFIX = [null, 'van', 'van der', 'de', "van 't", 'ter'];
const SURNAME = ['Zwaluwstaart', 'Şahin', 'Jansen', 'Bakker-de Vries', 'Heuvel-Oppenheimer tot Nijenrode'];
const ADDITION = [null, 'A', 'bis', '2', 'hs'];
const TEMPLATES: TemplateName[] = ['first', 'reminder', 'recontactConfirmation', 'card'];

function resident(i: number): Addressee {
  return {
    firstNames: FIRST[i % FIRST.length]!,
    surnamePrefix: PREFIX[i % PREFIX.length]!,
    surname: SURNAME[i % SURNAME.length]!,
    street: i % 11 === 0 ? 'Burgemeester Jhr. Mr. Hendrik van Oldenbarneveltstraat' : 'Zwaluwstraat',
    houseNumber: 1 + (i % 250),
    houseNumberAddition: ADDITION[i % ADDITION.length]!,
    postcode: `17${String(10 + (i % 89)).padStart(2, '0')}QZ`,
    city: 'Anna Paulowna',
    email: null,
  };
}

const dir = values.out ?? mkdtempSync(join(tmpdir(), 'bench-letters-'));
const outbox = folderOutbox(dir);
const templates = openTemplates(values.templates);
const day = dayOf(new Date());
const manifest: string[] = ['bestand;sjabloon;paginas'];
let bytes = 0;

// Warm up fonts and code paths so the figure reflects steady state.
await composeDocument(templates, {
  template: 'first',
  addressee: resident(0),
  municipality: HOLLANDS_KROON,
  reference: 'VS-00000000',
  at: new Date(),
  recontactAt: null,
});

const started = performance.now();
let renderMs = 0;
for (let i = 0; i < count; i++) {
  const template = TEMPLATES[i % TEMPLATES.length]!;
  const t0 = performance.now();
  const doc = await composeDocument(templates, {
    template,
    addressee: resident(i),
    municipality: HOLLANDS_KROON,
    reference: referenceOf(i.toString(16).padStart(8, '0')),
    at: new Date(),
    recontactAt: Date.now() + 90 * 86_400_000,
  });
  renderMs += performance.now() - t0;
  const id = `bench-${String(i).padStart(6, '0')}`;
  await outbox.put(day, id, doc.pdf);
  manifest.push(`${id}.pdf;${template};${doc.pages}`);
  bytes += doc.pdf.length;
  if ((i + 1) % 1000 === 0) process.stderr.write(`  ${i + 1}/${count}\n`);
}
await outbox.writeManifest(day, `${manifest.join('\r\n')}\r\n`);
const totalMs = performance.now() - started;

const font = HOLLANDS_KROON.font ? 'DejaVu Sans (embedded)' : 'Helvetica (built in)';
process.stdout.write(
  [
    `letters: ${count} (first, reminder, re-contact confirmation, card in turn), font: ${font}`,
    `rendering only:        ${(count / (renderMs / 1000)).toFixed(1)} letters/s`,
    `rendering + outbox:    ${(count / (totalMs / 1000)).toFixed(1)} letters/s (${(totalMs / 1000).toFixed(1)} s)`,
    `average PDF size:      ${(bytes / count / 1024).toFixed(1)} kB`,
    `outbox:                ${values.out ? dir : '(temporary folder, removed)'}`,
    '',
  ].join('\n'),
);
if (!values.out) rmSync(dir, { recursive: true, force: true });
