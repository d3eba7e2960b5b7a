/**
 * A Postgres array literal (`{"a","b"}`) for one `?::uuid[]` / `?::text[]` parameter: raw
 * queries bind it as a single value, where a JS array would be spread into a list.
 */
export const arrayLiteral = (values: readonly string[]): string =>
  `{${values.map((value) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
