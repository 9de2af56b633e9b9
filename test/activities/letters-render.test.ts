/**
 * The letters as a resident gets them: every template rendered with edge-case residents, checked by
 * extracting the PDF's text (pdf.js, see test/helpers/pdf.ts), and each PDF written to test-artifacts/letters/,
 * with its first page as a PNG where poppler's pdftoppm is installed, for a person to look at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Addressee, addressLines, fullName, initialsName } from '../../activities/letters/addressing.js';
import { composeDocument, toHtml, toPlainText } from '../../activities/letters/compose.js';
import { HOLLANDS_KROON, type Municipality } from '../../activities/letters/municipality.js';
import { toWinAnsi } from '../../activities/letters/render-pdf.js';
import {
  openTemplates,
  parseTemplate,
  TEMPLATE_NAMES,
  TemplateError,
  type TemplateName,
} from '../../activities/letters/templates.js';
import { pdfText, writeFirstPagePng } from '../helpers/pdf.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'letters');
mkdirSync(ARTIFACTS, { recursive: true });
const templates = openTemplates('templates/letters');
const AT = new Date('2026-11-27T09:30:00Z');

const base: Addressee = {
  firstNames: 'Jantine',
  surnamePrefix: 'van der',
  surname: 'Zwaluwstaart',
  street: 'Zwaluwstraat',
  houseNumber: 12,
  houseNumberAddition: 'b',
  postcode: '1761ab',
  city: 'Anna Paulowna',
  email: null,
};

const residents: Record<string, Addressee> = {
  prefix: base,
  long: {
    ...base,
    firstNames: 'Alexandra Wilhelmina Catharina Johanna-Maria Theodora',
    surnamePrefix: 'van den',
    surname: 'Heuvel-Oppenheimer tot Nijenrode en Kortenhoef-Brederode',
    street: 'Burgemeester Jhr. Mr. Dr. Hendrik van Oldenbarneveltstraat-Noordzijde',
    houseNumber: 1234,
    houseNumberAddition: '2 hoog achter',
  },
  plain: {
    ...base,
    firstNames: 'Mehmet',
    surnamePrefix: null,
    surname: 'Şahin',
    houseNumberAddition: null,
    city: "'s-Hertogenbosch",
  },
};

function writeArtifacts(name: string, pdf: Buffer): void {
  const file = join(ARTIFACTS, `${name}.pdf`);
  writeFileSync(file, pdf);
  writeFirstPagePng(file, join(ARTIFACTS, name));
}

const compose = (template: TemplateName, addressee: Addressee, municipality: Municipality = HOLLANDS_KROON) =>
  composeDocument(templates, {
    template,
    addressee,
    municipality,
    reference: 'VS-3F2A9C1B',
    at: AT,
    recontactAt: Date.parse('2027-03-12T08:00:00Z'),
  });

/** One line of words: a word broken after a hyphen at the end of a line is joined again. */
const squash = (s: string) => s.replace(/-\s+/g, '-').replace(/\s+/g, ' ');

describe('addressing', () => {
  it('writes a surname prefix in lower case after the first name or initials', () => {
    expect(fullName(base)).toBe('Jantine van der Zwaluwstaart');
    expect(initialsName({ ...base, firstNames: 'Anne-Marie  Johanna' })).toBe('A.-M.J. van der Zwaluwstaart');
  });

  it('puts the addition after the house number and the town in capitals after two spaces', () => {
    expect(addressLines(base)).toEqual([
      'J. van der Zwaluwstaart',
      'Zwaluwstraat 12 B',
      '1761 AB  ANNA PAULOWNA',
    ]);
    expect(addressLines({ ...base, houseNumberAddition: '2' })[1]).toBe('Zwaluwstraat 12-2');
  });
});

describe('letter templates', () => {
  for (const template of TEMPLATE_NAMES) {
    for (const [label, resident] of Object.entries(residents)) {
      it(`renders ${template} for a ${label} name with the address, the team's contact details and the right to say no`, async () => {
        const doc = await compose(template, resident);
        writeArtifacts(`${template}-${label}`, doc.pdf);
        const text = squash(await pdfText(doc.pdf));
        expect(doc.pages).toBe(1);
        expect(text).toContain(squash(fullName(resident)).split(' ').slice(0, 1)[0]);
        expect(text).toContain('088-321 5000');
        expect(text).toContain('schulddienstverlening@hollandskroon.nl');
        expect(text).toContain('op werkdagen van 8.30 tot 17.00 uur');
        expect(text).toContain('VS-3F2A9C1B');
        expect(text).toMatch(/geen dossier/);
        if (template === 'card') {
          expect(text).toContain('We kwamen bij u langs');
          expect(text).toContain('27 november 2026');
        } else {
          expect(text).toContain(squash(addressLines(resident)[2]!));
          expect(text).toContain('Retour: Postbus 8000, 1760 DA Anna Paulowna');
        }
        if (template === 'recontactConfirmation') expect(text).toContain('12 maart 2027');
        if (label === 'plain') expect(text).toContain('Şahin');
      });
    }
  }

  it('greets with the full name and keeps a very long name and street on one line each in the window', async () => {
    const doc = await compose('first', residents.long!);
    const text = await pdfText(doc.pdf);
    expect(squash(text)).toContain(`Beste ${fullName(residents.long!)},`);
    // The envelope lines shrink or end in an ellipsis rather than wrap out of the window.
    const [nameLine, streetLine] = addressLines(residents.long!);
    const lines = text.split('\n').map((l) => l.trim());
    const nameRow = lines.find((l) => l.startsWith(nameLine!.slice(0, 12)));
    expect(nameRow).toBeDefined();
    expect(lines.some((l) => l.startsWith(streetLine!.slice(0, 12)))).toBe(true);
    // pdfText makes the two spaces before the town one.
    expect(lines.some((l) => l.startsWith('1761 AB ANNA PAULOWNA'))).toBe(true);
  });

  it('without an embedded font still renders a name outside Western European letters', async () => {
    expect(toWinAnsi('Łukasz Şahin née Øster €')).toBe('Lukasz Sahin née Øster €');
    const doc = await compose('first', residents.plain!, { ...HOLLANDS_KROON, font: null });
    expect(squash(await pdfText(doc.pdf))).toContain('Beste Mehmet Sahin,');
  });

  it('makes an e-mail body in HTML and plain text with the same words, escaping what the template holds', async () => {
    const doc = await compose('first', { ...base, surname: '<Zwaluw & Co>' });
    const html = toHtml(doc.template, HOLLANDS_KROON);
    expect(html).toContain('Beste Jantine van der &lt;Zwaluw &amp; Co&gt;,');
    expect(html).not.toContain('<Zwaluw');
    const text = toPlainText(doc.template.blocks);
    expect(text).toContain('Beste Jantine van der <Zwaluw & Co>,');
    expect(text).toContain('- Bel ons op 088-321 5000.');
  });

  it('refuses a template with an unknown placeholder or without a subject, naming the file and line', () => {
    expect(() => parseTemplate('first', 'onderwerp: Hallo\n---\nBeste {{voornaam}},')).toThrowError(
      /first\.txt, line 3: unknown placeholder \{\{voornaam\}\}/,
    );
    expect(() => parseTemplate('first', 'titel: Hallo\n---\nTekst')).toThrowError(TemplateError);
    expect(() => parseTemplate('first', 'onderwerp: Hallo\nTekst')).toThrowError(/missing the line "---"/);
  });
});
