import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from './config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Outgoing mail. Through SMTP (`SMTP_URL`) when configured; otherwise written to the log. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom'>, logger: Logger): Mailer {
  if (!config.smtpUrl) {
    return {
      async send(mail) {
        // Development without SMTP: the log is the mailbox (it holds the link the mail would carry).
        logger.info({ mail: { to: mail.to, subject: mail.subject, body: mail.text } }, 'mail not sent (SMTP_URL unset)');
      },
      close() {},
    };
  }
  const transport: Transporter = nodemailer.createTransport(config.smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from: config.mailFrom, to: mail.to, subject: mail.subject, text: mail.text });
    },
    close() {
      transport.close();
    },
  };
}
