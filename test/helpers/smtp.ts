import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message as it arrived. */
  raw: string;
  subject: string;
  /** The body with quoted-printable soft breaks and escapes undone. */
  text: string;
}

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** Resolves with the first mail (already received or yet to come) to `to`. */
  waitForMail(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** Resolves with the first mail to `to` among those after the first `skip` mails received. */
  waitForMailAfter(to: string, skip: number, timeoutMs?: number): Promise<ReceivedMail>;
  /**
   * Resolves with the first mail to `to` whose subject contains `subject`, among those after the
   * first `skip` mails received (default: all, already received or yet to come).
   */
  waitForSubject(to: string, subject: string, opts?: { skip?: number; timeoutMs?: number }): Promise<ReceivedMail>;
  stop(): Promise<void>;
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function parse(raw: string, from: string, to: string[]): ReceivedMail {
  const sep = raw.search(/\r?\n\r?\n/);
  const head = sep >= 0 ? raw.slice(0, sep) : raw;
  const body = sep >= 0 ? raw.slice(sep).replace(/^\r?\n\r?\n/, '') : '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(unfolded)?.[1]?.trim() ?? '';
  const encoding = header('Content-Transfer-Encoding').toLowerCase();
  const text = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : encoding === 'base64' ? Buffer.from(body, 'base64').toString('utf8') : body;
  return { from, to, raw, subject: header('Subject'), text };
}

/** A real SMTP server in the test process (no TLS, no auth) that keeps every mail it receives. */
export async function startTestSmtp(port = 0): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  const waiters: { to: string; subject?: string; resolve: (m: ReceivedMail) => void }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const mail = parse(Buffer.concat(chunks).toString('utf8'), from, to);
        mails.push(mail);
        for (const w of [...waiters]) {
          if (to.includes(w.to) && (!w.subject || mail.subject.includes(w.subject))) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(mail);
          }
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.server.address() as { port: number }).port;
  const waitForMailAfter: TestSmtp['waitForMailAfter'] = (to, skip, timeoutMs = 10_000) => {
    const want = to.toLowerCase();
    const found = mails.slice(skip).find((m) => m.to.includes(want));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail to ${to} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        to: want,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  };
  const waitForSubject: TestSmtp['waitForSubject'] = (to, subject, { skip = 0, timeoutMs = 10_000 } = {}) => {
    const want = to.toLowerCase();
    const found = mails.slice(skip).find((m) => m.to.includes(want) && m.subject.includes(subject));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail "${subject}" to ${to} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        to: want,
        subject,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  };
  return {
    url: `smtp://127.0.0.1:${bound}`,
    waitForSubject,
    mails,
    waitForMail: (to, timeoutMs) => waitForMailAfter(to, 0, timeoutMs),
    waitForMailAfter,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
