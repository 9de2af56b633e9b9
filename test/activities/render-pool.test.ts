/**
 * Letters drawn in a render thread (render-pool.ts) are the same letters as drawn on the main thread, and a
 * thread that dies fails only its own requests: the next ones are drawn by its replacement.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Addressee } from '../../activities/letters/addressing.js';
import { composeDocument } from '../../activities/letters/compose.js';
import { HOLLANDS_KROON } from '../../activities/letters/municipality.js';
import { createRenderPool } from '../../activities/letters/render-pool.js';
import { openTemplates } from '../../activities/letters/templates.js';
import { pdfText } from '../helpers/pdf.js';

const templates = openTemplates('templates/letters');
const addressee: Addressee = {
  firstNames: 'Mehmet',
  surnamePrefix: null,
  surname: 'Şahin',
  street: 'Zwaluwstraat',
  houseNumber: 12,
  houseNumberAddition: null,
  postcode: '1761ab',
  city: 'Anna Paulowna',
  email: null,
};
const input = {
  template: 'first' as const,
  addressee,
  municipality: HOLLANDS_KROON,
  reference: 'VS-TEST-1',
  at: new Date('2026-11-27T09:30:00Z'),
  recontactAt: null,
};
const pool = createRenderPool(1);
afterAll(() => pool.close());

describe('the render pool', () => {
  it('draws the same letter as the main thread does', async () => {
    const here = await composeDocument(templates, input);
    const there = await composeDocument(templates, input, pool.render);
    expect(there.pages).toBe(here.pages);
    expect(await pdfText(there.pdf)).toBe(await pdfText(here.pdf));
    expect(await pdfText(there.pdf)).toContain('Şahin');
  });

  it('draws many at once, each answer to its own request', async () => {
    const references = Array.from({ length: 12 }, (_, i) => `VS-MANY-${i}`);
    const docs = await Promise.all(
      references.map((reference) => composeDocument(templates, { ...input, reference }, pool.render)),
    );
    for (const [i, doc] of docs.entries()) expect(await pdfText(doc.pdf)).toContain(references[i]);
  });

  it('refuses what it cannot draw with an error, and goes on drawing', async () => {
    await expect(
      pool.render({ kind: 'letter', template: null, addressee, municipality: HOLLANDS_KROON } as never),
    ).rejects.toThrow(/rendering failed/);
    const doc = await composeDocument(templates, input, pool.render);
    expect(doc.pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });
});
