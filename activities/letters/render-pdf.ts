/**
 * Draws a filled template as a PDF (pdfkit): an A4 letter with the address in the envelope window
 * (Dutch window envelope: 20-110 mm from the left, 45-90 mm from the top), or an A5 card for the letterbox.
 * Pure apart from reading the logo and font files: the same input gives the same document.
 */
import { readFileSync } from 'node:fs';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import { type Addressee, addressLines, initialsName, streetLine } from './addressing.js';
import type { Municipality } from './municipality.js';
import type { Block, LetterTemplate } from './templates.js';

export interface RenderInput {
  kind: 'letter' | 'card';
  /** The template with its placeholders filled in. */
  template: LetterTemplate;
  addressee: Addressee;
  municipality: Municipality;
  /** The letter's date as printed, e.g. "27 november 2026". */
  date: string;
  reference: string;
}

const MM = 72 / 25.4;
const ACCENT = '#00527c';
const TEXT = '#1a1a1a';
const MUTED = '#555555';

// Characters the PDF standard fonts (WinAnsi) can draw beyond Latin-1.
const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
// Letters that carry a stroke rather than an accent, so Unicode does not decompose them.
const STROKED: Record<string, string> = {
  Ł: 'L',
  ł: 'l',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  Ŧ: 'T',
  ŧ: 't',
};

/** Without an embedded font: keep what Helvetica can draw, drop accents it cannot ("Ş" -> "S"). */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x100 || WIN_ANSI_EXTRA.has(char)) out += char;
    else {
      const base = STROKED[char] ?? char.normalize('NFD').replace(/\p{M}/gu, '');
      out += [...base].every((c) => c.codePointAt(0)! < 0x100) && base ? base : '?';
    }
  }
  return out;
}

// Parsing a TrueType font takes ~100 ms; parse each once per process and let every document subset it.
const parsedFonts = new Map<string, fontkit.Font>();
function parsedFont(path: string): fontkit.Font {
  let font = parsedFonts.get(path);
  if (!font) {
    font = memoizeLayout(fontkit.create(readFileSync(path)));
    parsedFonts.set(path, font);
  }
  return font;
}

interface Run {
  glyphs: unknown[];
  positions: Array<Record<string, number>>;
}

/**
 * Shaping a word (OpenType lookups) is most of a letter's rendering time, and letters repeat their words:
 * remember each word's glyphs and positions. pdfkit scales the positions it gets in place, so every caller
 * receives its own copy of them; the glyph objects are only read.
 */
function memoizeLayout(font: fontkit.Font): fontkit.Font {
  const shape = font.layout.bind(font) as (text: string, ...rest: unknown[]) => Run;
  const cache = new Map<string, Run>();
  const layout = (text: string, ...rest: unknown[]) => {
    if (rest.some((arg) => arg !== undefined)) return shape(text, ...rest);
    let run = cache.get(text);
    if (!run) {
      const shaped = shape(text);
      run = { glyphs: shaped.glyphs, positions: shaped.positions.map((p) => ({ ...p })) };
      if (cache.size >= 50_000) cache.clear();
      cache.set(text, run);
    }
    const positions = run.positions.map((p) => ({ ...p }));
    return {
      glyphs: run.glyphs,
      positions,
      get advanceWidth() {
        let width = 0;
        for (const p of positions) width += p.xAdvance ?? 0;
        return width;
      },
    };
  };
  return Object.assign(font, { layout });
}

/** Renders the document; resolves with the PDF bytes. */
export function renderPdf(input: RenderInput): Promise<Buffer> {
  const card = input.kind === 'card';
  const { font } = input.municipality;
  const doc = new PDFDocument({
    // With embedded fonts, skip loading the default Helvetica metrics that would go unused.
    ...(font ? { font: null as unknown as string } : {}),
    size: card ? 'A5' : 'A4',
    margins: { top: 20 * MM, bottom: 22 * MM, left: 22 * MM, right: 20 * MM },
    bufferPages: true,
    // Metadata is seen by every tool that opens the file: the subject only, never the resident.
    info: { Title: input.template.subject, Author: input.municipality.name, Creator: 'vroegsignalering' },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  if (font) {
    // pdfkit takes a parsed fontkit font as well as a file (its types only list the latter).
    doc.registerFont('regular', parsedFont(font.regular) as unknown as Buffer);
    doc.registerFont('bold', parsedFont(font.bold) as unknown as Buffer);
  }
  const regular = font ? 'regular' : 'Helvetica';
  const bold = font ? 'bold' : 'Helvetica-Bold';
  const t = font ? (s: string) => s : toWinAnsi;

  if (card) drawCard(doc, input, { regular, bold, t });
  else drawLetter(doc, input, { regular, bold, t });
  drawFooters(doc, input, { regular, bold, t });
  doc.end();
  return done;
}

interface Fonts {
  regular: string;
  bold: string;
  t: (s: string) => string;
}

function drawMasthead(doc: PDFKit.PDFDocument, input: RenderInput, f: Fonts, width: number): void {
  const { municipality } = input;
  const x = doc.page.margins.left;
  const y = 14 * MM;
  if (municipality.logoPath) {
    doc.image(municipality.logoPath, x, y, { fit: [width, 16 * MM] });
  } else {
    doc.rect(x, y, 3 * MM, 13 * MM).fill(ACCENT);
    doc
      .font(f.bold)
      .fontSize(16)
      .fillColor(ACCENT)
      .text(f.t(municipality.name), x + 5 * MM, y, { width: width - 5 * MM, lineBreak: false });
    doc
      .font(f.regular)
      .fontSize(9.5)
      .fillColor(MUTED)
      .text(f.t(municipality.team), x + 5 * MM, y + 7.5 * MM, { width: width - 5 * MM, lineBreak: false });
  }
}

/** One line that must not wrap (an envelope line): shrinks down to 8 pt, then ends with an ellipsis. */
function fittedLine(
  doc: PDFKit.PDFDocument,
  text: string,
  x: number,
  y: number,
  width: number,
  size: number,
): void {
  let current = size;
  doc.fontSize(current);
  while (current > 8 && doc.widthOfString(text) > width) {
    current -= 0.5;
    doc.fontSize(current);
  }
  doc.text(text, x, y, { width, lineBreak: false, ellipsis: true, height: current * 1.3 });
}

/**
 * The address block: each line shrinks to 9 pt to fit; a name still too long wraps onto a second line, a
 * street still too long is shortened but keeps its house number (the postman needs it).
 */
function drawAddress(
  doc: PDFKit.PDFDocument,
  addressee: Addressee,
  f: Fonts,
  x: number,
  top: number,
  width: number,
): void {
  const [name, street, postcode] = addressLines(addressee).map(f.t) as [string, string, string];
  const sizeFor = (text: string) => {
    let size = 11;
    doc.fontSize(size);
    while (size > 9 && doc.widthOfString(text) > width) {
      size -= 0.5;
      doc.fontSize(size);
    }
    return size;
  };
  let y = top;
  const nameSize = sizeFor(name);
  doc.fontSize(nameSize).text(name, x, y, { width, height: nameSize * 2.5, ellipsis: true, lineGap: 0 });
  y = Math.max(doc.y, y + nameSize * 1.25) + 1;

  const streetSize = sizeFor(street);
  let streetText = street;
  if (doc.widthOfString(street) > width) {
    const number = f.t(streetLine({ ...addressee, street: '' }).trim());
    let shortened = f.t(addressee.street.trim());
    while (shortened.length > 1 && doc.widthOfString(`${shortened}… ${number}`) > width) {
      shortened = shortened.slice(0, -1).trimEnd();
    }
    streetText = `${shortened}… ${number}`;
  }
  doc.fontSize(streetSize).text(streetText, x, y, { width, lineBreak: false });
  y += streetSize * 1.25 + 1;
  fittedLine(doc, postcode, x, y, width, Math.min(nameSize, streetSize, sizeFor(postcode)));
}

function drawBlocks(doc: PDFKit.PDFDocument, blocks: Block[], f: Fonts, size: number, width: number): void {
  const x = doc.page.margins.left;
  for (const block of blocks) {
    if (block.kind === 'heading') {
      doc.moveDown(0.3);
      doc
        .font(f.bold)
        .fontSize(size + 0.5)
        .fillColor(ACCENT)
        .text(f.t(block.text), x, doc.y, { width });
      doc.moveDown(0.15);
    } else if (block.kind === 'paragraph') {
      doc.font(f.regular).fontSize(size).fillColor(TEXT).text(f.t(block.text), x, doc.y, {
        width,
        lineGap: 2.5,
      });
      doc.moveDown(0.5);
    } else {
      for (const item of block.items) {
        const top = doc.y;
        doc
          .font(f.regular)
          .fontSize(size)
          .fillColor(ACCENT)
          .text('•', x + 2 * MM, top, { lineBreak: false });
        doc.fillColor(TEXT).text(f.t(item), x + 7 * MM, top, { width: width - 7 * MM, lineGap: 2.5 });
        doc.moveDown(0.2);
      }
      doc.moveDown(0.4);
    }
  }
}

function drawLetter(doc: PDFKit.PDFDocument, input: RenderInput, f: Fonts): void {
  const { municipality, addressee } = input;
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  drawMasthead(doc, input, f, 95 * MM);

  // Sender block, right column.
  const senderX = 122 * MM;
  const senderWidth = doc.page.width - senderX - doc.page.margins.right;
  doc
    .font(f.bold)
    .fontSize(8.5)
    .fillColor(TEXT)
    .text(f.t(municipality.team), senderX, 14 * MM, {
      width: senderWidth,
    });
  doc
    .font(f.regular)
    .fontSize(8.5)
    .fillColor(MUTED)
    .text(
      f.t(
        [municipality.postalAddress, municipality.phone, municipality.email, municipality.website]
          .filter(Boolean)
          .join('\n'),
      ),
      { width: senderWidth, lineGap: 1 },
    );

  // Envelope window: return address in small print, then the address block.
  const windowX = 24 * MM;
  const windowWidth = 84 * MM;
  doc.font(f.regular).fillColor(MUTED);
  fittedLine(doc, f.t(`Retour: ${municipality.postalAddress}`), windowX, 50 * MM, windowWidth, 7);
  doc.font(f.regular).fillColor(TEXT);
  drawAddress(doc, addressee, f, windowX, 56 * MM, windowWidth);

  // Date, reference, subject.
  const metaY = 96 * MM;
  const rows: Array<[string, string]> = [
    ['Datum', input.date],
    ['Kenmerk', input.reference],
    ['Onderwerp', input.template.subject],
  ];
  rows.forEach(([label, value], i) => {
    const y = metaY + i * 5.5 * MM;
    doc
      .font(f.regular)
      .fontSize(8.5)
      .fillColor(MUTED)
      .text(label, left, y + 0.5, { lineBreak: false });
    doc
      .font(i === 2 ? f.bold : f.regular)
      .fontSize(10)
      .fillColor(TEXT)
      .text(f.t(value), left + 25 * MM, y, { width: width - 25 * MM, lineBreak: false, ellipsis: true });
  });

  doc.x = left;
  doc.y = metaY + 20 * MM;
  drawBlocks(doc, input.template.blocks, f, 10.5, width);
}

function drawCard(doc: PDFKit.PDFDocument, input: RenderInput, f: Fonts): void {
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  drawMasthead(doc, input, f, width);
  doc.font(f.regular).fillColor(MUTED);
  fittedLine(
    doc,
    f.t(`Voor: ${initialsName(input.addressee)}, ${streetLine(input.addressee)}`),
    left,
    36 * MM,
    width,
    9,
  );
  doc
    .font(f.bold)
    .fontSize(22)
    .fillColor(ACCENT)
    .text(f.t(input.template.title ?? input.template.subject), left, 44 * MM, { width });
  doc.moveDown(0.5);
  drawBlocks(doc, input.template.blocks, f, 10.5, width);
}

function drawFooters(doc: PDFKit.PDFDocument, input: RenderInput, f: Fonts): void {
  const { municipality } = input;
  const range = doc.bufferedPageRange();
  const parts =
    input.kind === 'card'
      ? [municipality.name, municipality.phone]
      : [municipality.name, municipality.phone, municipality.email];
  const line = parts.join('  ·  ');
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const left = doc.page.margins.left;
    const width = doc.page.width - left - doc.page.margins.right;
    const y = doc.page.height - 14 * MM;
    // Writing inside the bottom margin must not start a new page.
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    const pageNote = range.count > 1 ? `  ·  pagina ${i - range.start + 1} van ${range.count}` : '';
    doc
      .font(f.regular)
      .fontSize(7.5)
      .fillColor(MUTED)
      .text(f.t(line + pageNote), left, y, { width, align: 'center', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
}
