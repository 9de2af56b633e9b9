/**
 * Composes one document for one resident: fills the template with the resident's name (read from
 * PostgreSQL by the caller at send time), the municipality's details and the dates, then renders the PDF
 * and, for e-mail, the HTML and plain-text bodies.
 */
import { type Addressee, fullName } from './addressing.js';
import type { Municipality } from './municipality.js';
import { type RenderInput, renderPdf } from './render-pdf.js';
import {
  type Block,
  fillTemplate,
  type LetterTemplate,
  type TemplateName,
  type TemplateStore,
} from './templates.js';

export interface ComposeInput {
  template: TemplateName;
  addressee: Addressee;
  municipality: Municipality;
  /** Reference the resident can quote; made from ids only. */
  reference: string;
  at: Date;
  /** Agreed re-contact moment (re-contact confirmation); null when unknown. */
  recontactAt: number | null;
  timeZone?: string;
}

export interface ComposedDocument {
  template: LetterTemplate;
  pdf: Buffer;
  pages: number;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** "27 november 2026". */
export function dutchDate(at: Date | number, timeZone = 'Europe/Amsterdam'): string {
  let format = dateFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('nl-NL', { day: 'numeric', month: 'long', year: 'numeric', timeZone });
    dateFormats.set(timeZone, format);
  }
  return format.format(at);
}

/** "VS-3F2A9C1B": a short reference from the case id (no personal data), for phone calls and mail. */
export function referenceOf(caseId: string): string {
  return `VS-${caseId
    .replace(/[^0-9a-f]/gi, '')
    .slice(0, 8)
    .toUpperCase()}`;
}

/** Counts the pages of a pdfkit document (it writes no object streams, so page objects are plain text). */
export function countPages(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 1;
}

/** Fills and renders `input.template`. */
export async function composeDocument(
  templates: TemplateStore,
  input: ComposeInput,
  render: (input: RenderInput) => Promise<Buffer> = renderPdf,
): Promise<ComposedDocument> {
  const { municipality } = input;
  const timeZone = input.timeZone ?? 'Europe/Amsterdam';
  const filled = fillTemplate(templates.get(input.template), {
    naam: fullName(input.addressee),
    gemeente: municipality.name,
    team: municipality.team,
    telefoon: municipality.phone,
    email: municipality.email,
    openingstijden: municipality.openingHours,
    website: municipality.website,
    datum: dutchDate(input.at, timeZone),
    terugbeldatum:
      input.recontactAt === null ? 'de afgesproken datum' : dutchDate(input.recontactAt, timeZone),
    kenmerk: input.reference,
  });
  const pdf = await render({
    kind: input.template === 'card' ? 'card' : 'letter',
    template: filled,
    addressee: input.addressee,
    municipality,
    date: dutchDate(input.at, timeZone),
    reference: input.reference,
  });
  return { template: filled, pdf, pages: countPages(pdf) };
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The e-mail's plain-text body. */
export function toPlainText(blocks: Block[]): string {
  return `${blocks
    .map((b) =>
      b.kind === 'list' ? b.items.map((i) => `- ${i}`).join('\n') : b.kind === 'heading' ? b.text : b.text,
    )
    .join('\n\n')}\n`;
}

/** The e-mail's HTML body: simple markup with inline styles, as mail clients need. */
export function toHtml(template: LetterTemplate, municipality: Municipality): string {
  const body = template.blocks
    .map((b) => {
      if (b.kind === 'heading')
        return `<h2 style="font-size:17px;color:#00527c;margin:20px 0 6px">${escapeHtml(b.text)}</h2>`;
      if (b.kind === 'list')
        return `<ul style="padding-left:20px">${b.items.map((i) => `<li style="margin:4px 0">${escapeHtml(i)}</li>`).join('')}</ul>`;
      return `<p style="margin:0 0 12px">${escapeHtml(b.text).replace(/\n/g, '<br>\n')}</p>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>${escapeHtml(template.subject)}</title></head>
<body style="margin:0;padding:0;background:#f3f5f7">
<div style="max-width:600px;margin:0 auto;padding:24px;background:#ffffff;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a">
<p style="font-size:20px;font-weight:bold;color:#00527c;margin:0 0 4px">${escapeHtml(municipality.name)}</p>
<p style="color:#555555;margin:0 0 24px">${escapeHtml(municipality.team)}</p>
${body}
<hr style="border:none;border-top:1px solid #dddddd;margin:24px 0 12px">
<p style="font-size:13px;color:#555555;margin:0">${escapeHtml(municipality.name)} · ${escapeHtml(municipality.phone)} · ${escapeHtml(municipality.email)}</p>
</div></body></html>
`;
}
