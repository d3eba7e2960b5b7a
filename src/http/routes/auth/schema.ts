import { z } from 'zod';
import { text } from '../../../validation/text.ts';

const email = z.email('must be an email address').max(320);
export const refreshToken = text().min(1).max(200);
/** "cookie": the refresh token goes into an httpOnly cookie instead of the JSON (browsers). */
const session = z.literal('cookie').optional();

export const signupSchema = z
  .object({
    email,
    password: text().min(10, 'must be at least 10 characters').max(256),
    name: text().trim().min(1).max(200).optional(),
    session,
  })
  .strict();

export const loginSchema = z.object({ email, password: text().min(1).max(256), session }).strict();

/** Without `refreshToken`, the token is the session cookie's (`{}` from the web app). */
export const refreshSchema = z.object({ refreshToken: refreshToken.optional() }).strict();

export const logoutSchema = z.object({ refreshToken: refreshToken.optional() }).strict();

export const verifyQuerySchema = z.object({ token: text().min(1).max(2_000) }).strict();
