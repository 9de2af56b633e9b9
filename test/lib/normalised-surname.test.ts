import { describe, expect, it } from 'vitest';
import { normalisedSurname } from '../../db/repositories/intake.js';

describe('normalisedSurname (matching compares surnames this way)', () => {
  it('joins prefix and surname, without case, spaces or punctuation', () => {
    expect(normalisedSurname('van der', 'Berg')).toBe('vanderberg');
    expect(normalisedSurname(null, 'Van der Berg')).toBe('vanderberg');
    expect(normalisedSurname(null, "d'Ancona-de Vries")).toBe('danconadevries');
    expect(normalisedSurname(null, 'Proefpersoon123')).toBe('proefpersoon');
  });

  it('drops accents, so a name with and without them is one name', () => {
    expect(normalisedSurname(null, 'Müller')).toBe(normalisedSurname(null, 'Muller'));
    expect(normalisedSurname('de', 'Bruïne')).toBe('debruine');
    expect(normalisedSurname(null, 'Çelik')).toBe('celik');
    // Letters outside ASCII that are not accented stay.
    expect(normalisedSurname(null, 'Øster')).toBe('øster');
  });
});
