/**
 * `/demo/mail`: the e-mails the local demo SMTP server received (`npm start` without SMTP_URL), so a demo
 * shows what a resident would get. Answers 404 unless a demo SMTP server runs in this process: a production
 * installation, which sends through SMTP_URL, has no such page (api/server.ts does not register it there).
 * The mail holds residents' names and letters, so only a signed-in admin sees it; attachments are served
 * as downloads, never rendered in this origin.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../db/database.js';
import { type DemoMailbox, demoMailbox } from '../../lib/smtp-server.js';
import { registerAuth, requireUser } from '../auth/index.js';
import { html, page, registerWebAssets } from '../web/layout.js';

const dateTime = new Intl.DateTimeFormat('nl-NL', {
  dateStyle: 'medium',
  timeStyle: 'medium',
  timeZone: 'Europe/Amsterdam',
});

const idParams = z.object({ id: z.string().uuid() });
const attachmentParams = idParams.extend({ index: z.coerce.number().int().min(0) });

/** Registers the demo mail pages; `mailbox` defaults to the one `npm start`'s demo SMTP server fills. */
export async function registerDemoMailRoutes(
  app: FastifyInstance,
  options: { db: Db; mailbox?: DemoMailbox },
): Promise<void> {
  const mailbox = options.mailbox ?? demoMailbox;
  await registerWebAssets(app);
  await registerAuth(app, { db: options.db });
  const adminOnly = { preHandler: requireUser(['admin']) };
  const notFound = (reply: { code(n: number): { type(t: string): { send(b: string): unknown } } }) =>
    reply.code(404).type('text/plain; charset=utf-8').send('Niet gevonden');

  app.get('/demo/mail.json', adminOnly, async (_request, reply) => {
    if (!mailbox.active) return notFound(reply);
    return mailbox.list().map((m) => ({
      id: m.id,
      receivedAt: m.receivedAt.toISOString(),
      to: m.envelopeTo,
      subject: m.subject,
      attachments: m.attachments.map((a) => ({
        filename: a.filename,
        contentType: a.contentType,
        size: a.content.length,
      })),
    }));
  });

  app.get('/demo/mail', adminOnly, async (_request, reply) => {
    if (!mailbox.active) return notFound(reply);
    const messages = mailbox.list();
    const body = messages.length
      ? html`<p class="utrecht-paragraph">De lokale demo-mailserver ontving ${messages.length} e-mail(s). Nieuwste bovenaan.</p>
<table class="utrecht-table"><thead class="utrecht-table__header"><tr class="utrecht-table__row">
<th class="utrecht-table__header-cell" scope="col">Ontvangen</th><th class="utrecht-table__header-cell" scope="col">Aan</th>
<th class="utrecht-table__header-cell" scope="col">Onderwerp</th><th class="utrecht-table__header-cell" scope="col">Bijlagen</th></tr></thead>
<tbody class="utrecht-table__body">${messages.map(
          (
            m,
          ) => html`<tr class="utrecht-table__row"><td class="utrecht-table__cell">${dateTime.format(m.receivedAt)}</td>
<td class="utrecht-table__cell">${m.envelopeTo.join(', ')}</td>
<td class="utrecht-table__cell"><a class="utrecht-link" href="/demo/mail/${m.id}">${m.subject || '(geen onderwerp)'}</a></td>
<td class="utrecht-table__cell">${m.attachments.length}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="utrecht-paragraph">Nog geen e-mail ontvangen. Zodra een inwoner met een bekend e-mailadres een brief krijgt, staat de e-mail hier.</p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Demo: ontvangen e-mail', body }));
  });

  app.get('/demo/mail/:id', adminOnly, async (request, reply) => {
    const params = idParams.safeParse(request.params);
    const mail = params.success && mailbox.active ? mailbox.get(params.data.id) : undefined;
    if (!mail) return notFound(reply);
    const body = html`<p class="utrecht-paragraph"><a class="utrecht-link" href="/demo/mail">Terug naar alle e-mail</a></p>
<dl class="vs-facts">
<dt>Ontvangen</dt><dd>${dateTime.format(mail.receivedAt)}</dd>
<dt>Van</dt><dd>${mail.from}</dd>
<dt>Aan</dt><dd>${mail.to}</dd>
<dt>Onderwerp</dt><dd>${mail.subject}</dd>
<dt>Message-ID</dt><dd>${mail.messageId ?? ''}</dd>
</dl>
<h2 class="utrecht-heading-2">Bijlagen</h2>
<ul class="utrecht-unordered-list">${mail.attachments.map(
      (a, i) =>
        html`<li><a class="utrecht-link" href="/demo/mail/${mail.id}/bijlage/${i}">${a.filename}</a> (${a.contentType}, ${Math.ceil(a.content.length / 1024)} kB)</li>`,
    )}</ul>
${
  mail.html
    ? html`<h2 class="utrecht-heading-2">Zoals de inwoner het ziet</h2>
<iframe title="De e-mail zoals de inwoner hem ziet" sandbox="" style="width:100%;height:40rem;border:1px solid #ccc" srcdoc="${mail.html}"></iframe>`
    : ''
}
<h2 class="utrecht-heading-2">Platte tekst</h2>
<pre style="white-space:pre-wrap">${mail.text}</pre>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: mail.subject || 'E-mail', body }));
  });

  app.get('/demo/mail/:id/bijlage/:index', adminOnly, async (request, reply) => {
    const params = attachmentParams.safeParse(request.params);
    const mail = params.success && mailbox.active ? mailbox.get(params.data.id) : undefined;
    const attachment = mail && params.success ? mail.attachments[params.data.index] : undefined;
    if (!attachment) return notFound(reply);
    return reply
      .type(attachment.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('content-disposition', `attachment; filename="${attachment.filename.replace(/[^\w.-]/g, '_')}"`)
      .send(attachment.content);
  });
}
