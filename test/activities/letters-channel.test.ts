/**
 * The letter channel against the real PostgreSQL and a real local SMTP server: letters to the print
 * outbox, e-mail with the PDF attached, fallback to the letter when e-mail fails, one send per key however
 * often it is retried, the daily manifest, and deletion of stored documents with the resident's data.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createCaseActivities, type OutboundInput } from '../../activities/case-activities.js';
import { createLetterChannel, type LetterChannelOptions } from '../../activities/letters/letter-channel.js';
import { type Mailer, smtpMailer } from '../../activities/letters/mailer.js';
import { HOLLANDS_KROON } from '../../activities/letters/municipality.js';
import {
  collectPrintDay,
  dayOf,
  folderOutbox,
  writePrintManifest,
} from '../../activities/letters/print-outbox.js';
import { openTemplates } from '../../activities/letters/templates.js';
import { registerDemoMailRoutes } from '../../api/routes/demo-mail.js';
import { createDatabase, type Db } from '../../db/database.js';
import { DemoMailbox, type DemoSmtpServer, startDemoSmtpServer } from '../../lib/smtp-server.js';
import { makeUser, PASSWORD } from '../api/caseworker-helpers.js';
import { pdfText } from '../helpers/pdf.js';

const FROM = '"Gemeente Hollands Kroon" <schulddienstverlening@hollandskroon.nl>';
let db: Db;
let smtp: DemoSmtpServer;
let mailer: Mailer;
const mailbox = new DemoMailbox();
const templates = openTemplates('templates/letters');

beforeAll(async () => {
  db = createDatabase(inject('databaseUrl'), { max: 3 });
  smtp = await startDemoSmtpServer({ port: 0, mailbox });
  mailer = smtpMailer(smtp.url, FROM);
});
afterAll(async () => {
  mailer.close();
  await smtp.stop();
  await db.destroy();
});
beforeEach(() => mailbox.clear());

interface TestResident {
  caseId: string;
  caseKey: string;
  email: string | null;
  surname: string;
}

/** A fictitious resident with a case row, stored directly (names invented for tests). */
async function resident(email: string | null = 'jantine.zwaluw@voorbeeld.nl'): Promise<TestResident> {
  const caseKey = randomUUID();
  const caseId = randomUUID();
  const surname = `Zwaluwstaart${caseKey.slice(0, 6)}`;
  await db
    .insertInto('residents')
    .values({
      municipality: 'GM1911',
      case_key: caseKey,
      match_key: `m-${caseKey}`,
      household_key: `h-${caseKey}`,
      bsn: null,
      first_names: 'Jantine',
      surname_prefix: 'van der',
      surname,
      birth_date: '1970-03-14',
      sex: null,
      phone: null,
      email,
      postcode: '1761 QZ',
      house_number: 12,
      house_number_addition: 'B',
      street: 'Zwaluwstraat',
      city: 'Anna Paulowna',
    })
    .execute();
  await db
    .insertInto('cases')
    .values({
      id: caseId,
      workflow_id: `case:GM1911:${caseKey}`,
      municipality: 'GM1911',
      case_key: caseKey,
      team: 'schulddienstverlening',
      stage: 'letter',
      priority: 'normal',
      partner_types: ['Huur'],
      next_deadline: null,
      result: null,
      policy: '{}',
      started_at: new Date(),
      first_contact_at: null,
      closed_at: null,
      personal_data_deleted_at: null,
    })
    .execute();
  return { caseId, caseKey, email, surname };
}

const letterInput = (r: TestResident, step = 'r1-letter', template = 'first'): OutboundInput => ({
  key: `${r.caseId}:${step}`,
  caseId: r.caseId,
  caseKey: r.caseKey,
  channel: 'letter',
  template,
});

function channel(overrides: Partial<LetterChannelOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
  const outbox = folderOutbox(dir);
  return {
    dir,
    outbox,
    channel: createLetterChannel({
      db,
      templates,
      municipality: HOLLANDS_KROON,
      outbox,
      mailer,
      ...overrides,
    }),
  };
}

const rows = (caseId: string) =>
  db
    .selectFrom('outbound_messages')
    .selectAll()
    .where('case_id', '=', caseId)
    .orderBy('channel')
    .orderBy('idempotency_key')
    .execute();

/** The PDF's words on one line, so a phrase matches across a line break. */
const pdfWords = async (pdf: Uint8Array) => (await pdfText(pdf)).replace(/\s+/g, ' ');

describe('letter channel', () => {
  it('queues the letter for the printer and e-mails it, with the PDF attached, when an address is known', async () => {
    const r = await resident();
    const { channel: ch, dir } = channel();
    expect(await ch.deliver(letterInput(r))).toBe('queued');

    expect(mailbox.list()).toHaveLength(1);
    const mail = mailbox.list()[0]!;
    expect(mail.envelopeTo).toEqual([r.email]);
    expect(mail.envelopeFrom).toBe('schulddienstverlening@hollandskroon.nl');
    expect(mail.subject).toBe('Wij denken graag met u mee');
    expect(mail.text).toContain(`Beste Jantine van der ${r.surname},`);
    expect(mail.text).toContain('Dan doen wij niets met uw gegevens en maken wij geen dossier aan.');
    expect(mail.html).toContain('<h2');
    expect(mail.attachments).toHaveLength(1);
    expect(mail.attachments[0]!.contentType).toBe('application/pdf');
    expect(mail.attachments[0]!.filename).toMatch(/^brief-VS-[0-9A-F]{8}\.pdf$/);
    expect(await pdfWords(mail.attachments[0]!.content)).toContain(`J. van der ${r.surname}`);

    const [email, letter] = await rows(r.caseId);
    expect(letter).toMatchObject({ channel: 'letter', status: 'queued', template: 'first', pages: 1 });
    expect(letter!.print_day).toBe(dayOf(new Date()));
    expect(email).toMatchObject({ channel: 'email', status: 'sent', content_type: 'message/rfc822' });
    // The stored copy is the message as sent.
    expect(email!.content!.equals(mail.raw)).toBe(true);
    expect(readFileSync(join(dir, letter!.print_day!, `${letter!.id}.pdf`)).equals(letter!.content!)).toBe(
      true,
    );

    const attempts = await db
      .selectFrom('contact_attempts')
      .selectAll()
      .where('case_id', '=', r.caseId)
      .execute();
    expect(attempts).toEqual([
      expect.objectContaining({
        idempotency_key: `${r.caseId}:r1-letter:mail`,
        soort: 'Mail',
        bereikt: false,
      }),
    ]);
  });

  it('sends nothing twice when the same step is delivered again', async () => {
    const r = await resident();
    const { channel: ch } = channel();
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    expect(await ch.deliver(letterInput(r))).toBe('already-sent');
    await Promise.all([ch.deliver(letterInput(r)), ch.deliver(letterInput(r))]);
    expect(mailbox.list()).toHaveLength(1);
    expect(await rows(r.caseId)).toHaveLength(2);
  });

  it('sends only the letter when no e-mail address is known', async () => {
    const r = await resident(null);
    const { channel: ch } = channel();
    await ch.deliver(letterInput(r));
    expect(mailbox.list()).toHaveLength(0);
    expect((await rows(r.caseId)).map((m) => [m.channel, m.status])).toEqual([['letter', 'queued']]);
  });

  it('lets a delivered e-mail replace the paper letter when so configured', async () => {
    const r = await resident();
    const { channel: ch, dir } = channel({ emailReplacesLetter: true });
    await ch.deliver(letterInput(r));
    const [email, letter] = await rows(r.caseId);
    expect(email!.status).toBe('sent');
    expect(letter).toMatchObject({ status: 'replaced-by-email', print_day: null, content: null });
    expect(existsSync(join(dir, dayOf(new Date())))).toBe(false);
  });

  it('falls back to the letter when the mail server refuses the address (a bounce)', async () => {
    const r = await resident('onbekend@adres.invalid');
    const { channel: ch } = channel({ emailReplacesLetter: true });
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    expect(mailbox.list()).toHaveLength(0);
    const [email, letter] = await rows(r.caseId);
    expect(email).toMatchObject({ status: 'failed', detail: 'bounce-smtp-550' });
    expect(letter).toMatchObject({ status: 'queued' });
    const attempts = await db
      .selectFrom('contact_attempts')
      .select('soort')
      .where('case_id', '=', r.caseId)
      .execute();
    expect(attempts).toEqual([]);
  });

  it('falls back to the letter when the mail server cannot be reached, and records no address in the reason', async () => {
    const r = await resident();
    const { channel: ch } = channel({
      emailReplacesLetter: true,
      mailer: smtpMailer('smtp://127.0.0.1:9', FROM),
    });
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    const [email, letter] = await rows(r.caseId);
    expect(email!.status).toBe('failed');
    expect(email!.detail).toMatch(/^smtp-[a-z0-9-]+$/);
    expect(letter!.status).toBe('queued');
  });

  it('after a crash between rendering and recording, renders again and sends once', async () => {
    const r = await resident();
    let crash = true;
    const { channel: ch } = channel({
      hooks: {
        rendered() {
          if (crash) throw new Error('worker died');
        },
      },
    });
    await expect(ch.deliver(letterInput(r))).rejects.toThrow('worker died');
    expect(await rows(r.caseId)).toEqual([]);
    expect(mailbox.list()).toHaveLength(0);
    crash = false;
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    expect(mailbox.list()).toHaveLength(1);
    expect((await rows(r.caseId)).map((m) => m.status)).toEqual(['sent', 'queued']);
  });

  it('after a crash between the mail server taking the e-mail and recording it, does not e-mail again', async () => {
    const r = await resident();
    let crash = true;
    const { channel: ch } = channel({
      emailReplacesLetter: true,
      hooks: {
        emailAccepted() {
          if (crash) throw new Error('worker died');
        },
      },
    });
    await expect(ch.deliver(letterInput(r))).rejects.toThrow('worker died');
    crash = false;
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    expect(mailbox.list()).toHaveLength(1);
    // Unknown whether the e-mail arrived: the letter goes by post as well.
    expect((await rows(r.caseId)).map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sending'],
      ['letter', 'queued'],
    ]);
  });

  it('records the card left at the door without printing or e-mailing it', async () => {
    const r = await resident();
    const { channel: ch } = channel();
    await ch.deliver({
      key: `${r.caseId}:visit-1-card`,
      caseId: r.caseId,
      caseKey: r.caseKey,
      channel: 'card',
      template: 'card',
    });
    expect(mailbox.list()).toHaveLength(0);
    const [card] = await rows(r.caseId);
    expect(card).toMatchObject({ channel: 'card', template: 'card', status: 'left', print_day: null });
    expect(await pdfWords(card!.content!)).toContain('We kwamen bij u langs');
  });

  it('writes a daily manifest without personal data; collecting a closed day marks its letters sent', async () => {
    const r1 = await resident(null);
    const r2 = await resident(null);
    const yesterday = new Date(Date.now() - 86_400_000);
    const { channel: ch, outbox, dir } = channel({ now: () => yesterday });
    await ch.deliver(letterInput(r1));
    await ch.deliver(letterInput(r2, 'r2-letter', 'reminder'));
    const day = dayOf(yesterday);
    await writePrintManifest(db, outbox, day);
    const manifest = readFileSync(join(dir, day, 'manifest.csv'), 'utf8');
    const ids = (await rows(r1.caseId)).concat(await rows(r2.caseId)).map((m) => m.id);
    for (const id of ids) expect(manifest).toContain(`${id}.pdf;${id};brief;`);
    expect(manifest.split('\r\n')[0]).toBe(
      'bestand;kenmerk;soort;sjabloon;paginas;formaat;enveloppe;aangemaakt',
    );
    expect(manifest).not.toMatch(/Zwaluw|1761|Anna Paulowna/i);

    await expect(collectPrintDay(db, outbox, dayOf(new Date()))).rejects.toThrow(/not closed yet/);
    const collected = await collectPrintDay(db, outbox, day);
    expect(collected).toBeGreaterThanOrEqual(2);
    expect((await rows(r1.caseId))[0]).toMatchObject({ status: 'sent' });
    expect(existsSync(join(dir, day))).toBe(false);
  });

  it('deletes stored letters and e-mail copies with the resident, and withdraws letters not yet printed', async () => {
    const r = await resident();
    const { channel: ch, outbox, dir } = channel();
    await ch.deliver(letterInput(r));
    const letter = (await rows(r.caseId)).find((m) => m.channel === 'letter')!;
    const file = join(dir, letter.print_day!, `${letter.id}.pdf`);
    expect(existsSync(file)).toBe(true);

    await ch.forget({ caseKey: r.caseKey });
    await ch.forget({ caseKey: r.caseKey });
    expect(existsSync(file)).toBe(false);
    const after = await rows(r.caseId);
    expect(after.every((m) => m.content === null)).toBe(true);
    expect(after.find((m) => m.channel === 'letter')!.status).toBe('withdrawn');
    await writePrintManifest(db, outbox, letter.print_day!);
    expect(readFileSync(join(dir, letter.print_day!, 'manifest.csv'), 'utf8')).not.toContain(letter.id);
  });

  it('withholds the letter and its e-mail when the resident objects while the letter is being rendered', async () => {
    const r = await resident();
    const { channel: ch, dir } = channel({
      hooks: {
        async rendered() {
          // The objection register flags the resident now (as putOnRegister does).
          await db
            .updateTable('residents')
            .set({ objected: true })
            .where('case_key', '=', r.caseKey)
            .execute();
        },
      },
    });
    expect(await ch.deliver(letterInput(r))).toBe('withheld');
    expect(mailbox.list()).toHaveLength(0);
    expect((await rows(r.caseId)).map((m) => [m.status, m.content, m.print_day])).toEqual([
      ['objected', null, null],
    ]);
    expect(existsSync(join(dir, dayOf(new Date())))).toBe(false);
    // A retry of the step (the activity) reports the same, and sends nothing.
    const activities = createCaseActivities({ db, channel: ch });
    expect(await activities.sendOutbound(letterInput(r))).toBe('withheld');
    expect(mailbox.list()).toHaveLength(0);
  });

  it('sends nothing for a resident whose data is already gone', async () => {
    const r = await resident();
    await db.deleteFrom('residents').where('case_key', '=', r.caseKey).execute();
    const { channel: ch } = channel();
    expect(await ch.deliver(letterInput(r))).toBe('queued');
    expect(mailbox.list()).toHaveLength(0);
    expect((await rows(r.caseId)).map((m) => [m.status, m.content])).toEqual([['no-resident', null]]);
  });

  it('deletes the print copy when the case activity deletes the personal data', async () => {
    const r = await resident();
    const { channel: ch, dir } = channel();
    await ch.deliver(letterInput(r));
    const letter = (await rows(r.caseId)).find((m) => m.channel === 'letter')!;
    const activities = createCaseActivities({ db, channel: ch });
    await activities.deletePersonalData({ caseId: r.caseId, caseKey: r.caseKey, at: Date.now() });
    expect(existsSync(join(dir, letter.print_day!, `${letter.id}.pdf`))).toBe(false);
    expect((await rows(r.caseId)).map((m) => [m.channel, m.status, m.content])).toEqual([
      ['email', 'sent', null],
      ['letter', 'withdrawn', null],
    ]);
  });
});

describe('demo mail page', () => {
  /** Signs in through the login form as a new user with `roles`; returns the cookie header. */
  async function signedIn(app: FastifyInstance, roles: string[]): Promise<string> {
    const username = await makeUser(db, roles, ['schulddienstverlening'], 'mail');
    const res = await app.inject({
      method: 'POST',
      url: '/login',
      payload: { username, password: PASSWORD },
    });
    expect(res.statusCode).toBe(303);
    return res.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  it('shows an admin the e-mails the local SMTP server received, with the PDF as a download', async () => {
    const r = await resident();
    const { channel: ch } = channel();
    await ch.deliver(letterInput(r));
    const app = Fastify();
    await registerDemoMailRoutes(app, { db, mailbox });
    const cookie = await signedIn(app, ['admin']);
    const list = await app.inject({ method: 'GET', url: '/demo/mail', headers: { cookie } });
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('Wij denken graag met u mee');
    expect(list.body).toContain(r.email!);
    const id = mailbox.list()[0]!.id;
    const detail = await app.inject({ method: 'GET', url: `/demo/mail/${id}`, headers: { cookie } });
    expect(detail.statusCode).toBe(200);
    expect(detail.body).toContain(`Beste Jantine van der ${r.surname},`);
    expect(detail.body).toContain('sandbox=""');
    const pdf = await app.inject({ method: 'GET', url: `/demo/mail/${id}/bijlage/0`, headers: { cookie } });
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toMatch(/^attachment; filename="[\w.-]+\.pdf"$/);
    expect(pdf.headers['x-content-type-options']).toBe('nosniff');
    expect(await pdfWords(pdf.rawPayload)).toContain(`J. van der ${r.surname}`);
    const json = await app.inject({ method: 'GET', url: '/demo/mail.json', headers: { cookie } });
    expect(json.json()[0]).toMatchObject({ id, to: [r.email], subject: 'Wij denken graag met u mee' });
    await app.close();
  });

  it("refuses anyone but a signed-in admin: the mail holds residents' names and letters", async () => {
    const app = Fastify();
    await registerDemoMailRoutes(app, { db, mailbox });
    const id = mailbox.list()[0]?.id ?? randomUUID();
    const urls = ['/demo/mail', '/demo/mail.json', `/demo/mail/${id}`, `/demo/mail/${id}/bijlage/0`];
    for (const url of urls) {
      const anonymous = await app.inject({ method: 'GET', url });
      expect([url, anonymous.statusCode, anonymous.headers.location]).toEqual([
        url,
        303,
        `/login?next=${encodeURIComponent(url)}`,
      ]);
    }
    const caseworker = await signedIn(app, ['caseworker', 'teamlead', 'manager']);
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url, headers: { cookie: caseworker } });
      expect([url, res.statusCode]).toEqual([url, 403]);
    }
    await app.close();
  });

  it('does not exist where no demo SMTP server runs', async () => {
    const app = Fastify();
    await registerDemoMailRoutes(app, { db, mailbox: new DemoMailbox() });
    const cookie = await signedIn(app, ['admin']);
    expect((await app.inject({ method: 'GET', url: '/demo/mail', headers: { cookie } })).statusCode).toBe(
      404,
    );
    await app.close();
  });
});
