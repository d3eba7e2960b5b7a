import { z } from 'zod';
import { text } from '../../../validation/text.ts';

const email = z.email('must be an email address').max(320);
const refreshToken = text().min(1).max(200);

export const signupSchema = z
  .object({
    email,
    password: text().min(10, 'must be at least 10 characters').max(256),
    name: text().trim().min(1).max(200).optional(),
  })
  .strict();

export const loginSchema = z.object({ email, password: text().min(1).max(256) }).strict();

export const refreshSchema = z.object({ refreshToken }).strict();

export const logoutSchema = z.object({ refreshToken }).strict();

export const verifyQuerySchema = z.object({ token: text().min(1).max(2_000) }).strict();
