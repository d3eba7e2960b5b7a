import { z } from 'zod';
import { defineTool } from '../defineTool.ts';

/** Whether the runtime knows the zone (Intl throws a RangeError for names it doesn't). */
const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** The current date and time in a time zone: models don't know what day it is. */
export const currentTimeTool = () =>
  defineTool({
    name: 'current_time',
    description:
      'The current date and time. Give an IANA time zone (e.g. "Europe/Lisbon", "America/New_York"); UTC when omitted.',
    input: z
      .object({
        timeZone: z
          .string()
          .max(100)
          .refine(isTimeZone, { message: 'is not an IANA time zone (e.g. "Europe/Lisbon")' })
          .optional()
          .describe('IANA time zone name'),
      })
      .strict(),
    execute: async ({ timeZone = 'UTC' }) => {
      const now = new Date();
      const local = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        dateStyle: 'full',
        timeStyle: 'long',
      }).format(now);
      return {
        content: JSON.stringify({ timeZone, local, iso: now.toISOString() }),
        summary: `${local} (${timeZone})`,
      };
    },
  });
