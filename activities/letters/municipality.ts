/**
 * The sender of the letters: the municipality's name, logo, team and contact details, from configuration
 * (`MUNICIPALITY_*` variables in lib/config.ts), so another municipality changes them without code.
 */
import { existsSync } from 'node:fs';

export interface Municipality {
  name: string;
  team: string;
  phone: string;
  email: string;
  openingHours: string;
  website: string;
  /** Return address printed above the envelope window, e.g. "Postbus 8000, 1760 DA Anna Paulowna". */
  postalAddress: string;
  /** A PNG or JPEG drawn top left; null draws the name as a word mark. */
  logoPath: string | null;
  /** Fonts embedded in the PDF (broad Unicode coverage for names like "Şahin" or "Łukasz"). */
  font: { regular: string; bold: string } | null;
}

const DEJAVU = {
  regular: '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  bold: '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
};

/**
 * The fonts to embed: the configured pair, else DejaVu Sans when the system has it, else null (the PDF's
 * built-in Helvetica, which lacks letters outside Western Europe; those are then written without accent).
 */
export function resolveFont(regular?: string, bold?: string): Municipality['font'] {
  if (regular) return { regular, bold: bold ?? regular };
  return existsSync(DEJAVU.regular) && existsSync(DEJAVU.bold) ? DEJAVU : null;
}

/** Gemeente Hollands Kroon, as its own vroegsignalering page describes the team: the defaults. */
export const HOLLANDS_KROON: Municipality = {
  name: 'Gemeente Hollands Kroon',
  team: 'Team Schulddienstverlening',
  phone: '088-321 5000',
  email: 'schulddienstverlening@hollandskroon.nl',
  openingHours: 'op werkdagen van 8.30 tot 17.00 uur',
  website: 'www.hollandskroon.nl',
  postalAddress: 'Postbus 8000, 1760 DA Anna Paulowna',
  logoPath: null,
  font: resolveFont(),
};
