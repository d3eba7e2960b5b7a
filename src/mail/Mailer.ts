import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from '../logger.ts';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/**
 * Outgoing mail: SMTP through nodemailer when SMTP_URL is set; otherwise each mail is written to
 * the log, so a local install still shows its verification links.
 */
export class Mailer {
  private readonly transport?: Transporter;
  private readonly from: string;
  private readonly logger: Logger;

  constructor(smtpUrl: string | undefined, from: string, logger: Logger) {
    this.transport = smtpUrl ? createTransport(smtpUrl) : undefined;
    this.from = from;
    this.logger = logger;
  }

  async send(mail: Mail): Promise<void> {
    if (!this.transport) {
      this.logger.info(
        { to: mail.to, subject: mail.subject, text: mail.text },
        'mail (no SMTP_URL set, so logged instead of sent)',
      );
      return;
    }
    await this.transport.sendMail({ from: this.from, ...mail });
  }
}
