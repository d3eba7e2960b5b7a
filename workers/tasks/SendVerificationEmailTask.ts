import type { AccessTokens } from '../../src/auth/AccessTokens.ts';
import { signVerificationToken, verificationLink } from '../../src/auth/emailVerification.ts';
import { User } from '../../src/db/entities/User.ts';
import type { Mailer } from '../../src/mail/Mailer.ts';
import type { VerificationEmailPayload } from '../../src/queues/jobs.ts';
import { Task, type TaskContext } from '../Task.ts';

/** Mails the link that verifies a new account's address (retried with backoff if SMTP fails). */
export class SendVerificationEmailTask extends Task<VerificationEmailPayload> {
  private readonly mailer: Mailer;
  private readonly tokens: AccessTokens;
  private readonly publicUrl: string;

  constructor(mailer: Mailer, tokens: AccessTokens, publicUrl: string) {
    super();
    this.mailer = mailer;
    this.tokens = tokens;
    this.publicUrl = publicUrl;
  }

  async perform({ userId }: VerificationEmailPayload, { em }: TaskContext) {
    const user = await em.findOne(User, { id: userId, disabledAt: null });
    if (!user || user.emailVerifiedAt) return { sent: false };
    const link = verificationLink(this.publicUrl, await signVerificationToken(this.tokens, user));
    await this.mailer.send({
      to: user.email,
      subject: 'Confirm your email address for Parley',
      text: `Open this link within 24 hours to confirm your address:\n\n${link}\n\nIf you did not sign up, ignore this mail.`,
    });
    return { sent: true };
  }
}
