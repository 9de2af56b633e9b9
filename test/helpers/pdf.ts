/**
 * PDF text for assertions, read with unpdf (Mozilla's pdf.js, pure JavaScript), so the tests need
 * no poppler. The first page as a PNG stays a human-only artifact, written only where poppler is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extractText } from 'unpdf';

/**
 * The text of every page of `pdf` (bytes or a file path), in the order the PDF draws it.
 * Each drawn line ends in `\n` and pages are joined by `\n`; runs of spaces and tabs within a line
 * become one space and there is never more than one blank line, so a table's columns
 * (`Datum 2 december 2026`) read as words apart by one space, unlike `pdftotext -layout`.
 */
export async function pdfText(pdf: Uint8Array | string): Promise<string> {
  // A copy: pdf.js wants a plain Uint8Array, not a Buffer, and may take ownership of its memory.
  const data = typeof pdf === 'string' ? new Uint8Array(readFileSync(pdf)) : new Uint8Array(pdf);
  const { text } = await extractText(data, { mergePages: true });
  return text;
}

/** Writes the first page of the PDF at `file` as `<prefix>.png` (80 dpi) where poppler's pdftoppm is on PATH; else nothing. */
export function writeFirstPagePng(file: string, prefix: string): void {
  try {
    execFileSync('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', file, prefix]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
