/** The demo signing certificate's serial: DER allows no leading zero byte, so none may ever start with one. */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned, serialNumber } from '../../api/ddas/signing.js';

describe('the self-signed DDAS demo certificate', () => {
  it('never starts its serial with a zero byte, nor with the sign bit', () => {
    for (const first of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      const serial = serialNumber(Buffer.from([first, 0x05, ...Array(14).fill(0x33)]));
      expect(serial[0]).toBeGreaterThanOrEqual(0x40);
      expect(serial[0]).toBeLessThan(0x80);
    }
  });

  it('parses as X.509 with that serial', () => {
    const { certPem } = generateSelfSigned('vroegsignalering test');
    const cert = new X509Certificate(certPem);
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
  });
});
