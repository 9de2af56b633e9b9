/**
 * How a resident is named and addressed on paper, following Dutch conventions: a surname prefix
 * ("van der") is lower case after a first name or initials, the house number carries its addition, and
 * the postcode line reads `1234 AB  PLAATS` (two spaces, town in capitals) as PostNL asks.
 */

/** The resident fields a letter needs; read from `residents` at send time, never from Temporal. */
export interface Addressee {
  firstNames: string;
  surnamePrefix: string | null;
  surname: string;
  street: string;
  houseNumber: number;
  houseNumberAddition: string | null;
  postcode: string;
  city: string;
  email: string | null;
}

const squash = (value: string): string => value.replace(/\s+/g, ' ').trim();

/** "Jan Pieter van der Berg": how the letter greets the resident. */
export function fullName(a: Addressee): string {
  return squash([a.firstNames, a.surnamePrefix ?? '', a.surname].join(' '));
}

/** "J.P. van der Berg": the name on the envelope. Hyphenated first names keep their hyphen ("A.-M."). */
export function initialsName(a: Addressee): string {
  const initials = squash(a.firstNames)
    .split(' ')
    .filter(Boolean)
    .map((name) =>
      name
        .split('-')
        .map((part) => (part ? `${part[0]!.toUpperCase()}.` : ''))
        .join('-'),
    )
    .join('');
  return squash([initials, a.surnamePrefix ?? '', a.surname].join(' '));
}

/** "Dorpsstraat 12 A" or "Dorpsstraat 12-2": an addition that starts with a digit gets a hyphen. */
export function streetLine(a: Addressee): string {
  const addition = a.houseNumberAddition ? squash(a.houseNumberAddition) : '';
  const number = addition
    ? /^\d/.test(addition)
      ? `${a.houseNumber}-${addition}`
      : `${a.houseNumber} ${addition.toUpperCase()}`
    : String(a.houseNumber);
  return `${squash(a.street)} ${number}`;
}

/** "1761 AB  ANNA PAULOWNA". */
export function postcodeLine(a: Addressee): string {
  const compact = a.postcode.replace(/\s+/g, '').toUpperCase();
  const postcode = /^\d{4}[A-Z]{2}$/.test(compact) ? `${compact.slice(0, 4)} ${compact.slice(4)}` : compact;
  return `${postcode}  ${squash(a.city).toUpperCase()}`;
}

/** The address block for the envelope window, top to bottom. */
export function addressLines(a: Addressee): string[] {
  return [initialsName(a), streetLine(a), postcodeLine(a)];
}
