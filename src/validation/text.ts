import { z } from 'zod';

/**
 * Text that Postgres can store: no NUL (`text` cannot hold U+0000; the driver fails the whole
 * query) and no unpaired UTF-16 surrogate (it has no UTF-8 form, so it would be silently
 * replaced by U+FFFD on the way in).
 *
 * Why a zod building block rather than a scan in parseInput: the Socket.IO handlers parse with
 * the same schemas and never go through parseInput, and a rule that is part of the schema gives
 * the field-level error (`body.title`, `content`) for free. Every string input is built from
 * `text()` (or is a closed format such as `z.uuid()`), and test/unit/textRule.test.ts walks every
 * operation's and socket event's schema and fails on a string without the rule, so a new route
 * cannot forget it.
 */
export const STORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired surrogates';

export const isStorableText = (value: string): boolean => !value.includes('\u0000') && value.isWellFormed();

/** `z.string()` that only accepts storable text; chain `.trim().min().max()` as usual. */
export const text = () => z.string().refine(isStorableText, { message: STORABLE_TEXT_MESSAGE });
