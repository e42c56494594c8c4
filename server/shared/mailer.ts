import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import type { Config } from './config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Outgoing mail. Through SMTP (`SMTP_URL`) when configured; otherwise see createMailer. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): void;
}

/**
 * Without `SMTP_URL`, development writes each mail (links included) to the log, which is then the
 * developer's mailbox; every other environment sends nothing and logs only that a mail was
 * dropped — never its recipient, body or links: a reset link in a production log is an account
 * for whoever reads the log.
 */
export function createMailer(config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'env'>, logger: Logger): Mailer {
  if (!config.smtpUrl) {
    if (config.env === 'development') {
      return {
        send(mail) {
          logger.info({ mail: { to: mail.to, subject: mail.subject, body: mail.text } }, 'mail not sent (SMTP_URL unset, development)');
          return Promise.resolve();
        },
        close() {},
      };
    }
    return {
      send(mail) {
        logger.warn({ mailSubject: mail.subject }, 'mail dropped: SMTP_URL is not set');
        return Promise.resolve();
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
