// Building LDAP search filters from configured templates and user input (RFC 4515). Input is always escaped, so a
// username such as `*` or `admin)(uid=*` is a literal value that matches only an entry holding exactly that value.

/**
 * Escapes a value for use inside a filter's assertion value (RFC 4515 section 3): `*`, `(`, `)`, `\` and NUL as
 * \XX, plus every byte outside printable ASCII (UTF-8 encoded) so the filter text stays unambiguous.
 */
export function escapeFilterValue(value: string | Buffer): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (const byte of bytes) {
    const special = byte === 0x2a || byte === 0x28 || byte === 0x29 || byte === 0x5c || byte < 0x20 || byte > 0x7e;
    out += special ? `\\${byte.toString(16).padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** Placeholders a filter template may hold; every value is substituted escaped unless marked raw. */
export type FilterValues = Record<string, string | { raw: string }>;

/**
 * Fills `{name}` placeholders of a configured template ('(uid={username})', '(member={dn})'). A `{ raw }` value is
 * inserted as is: only for values Cohort makes itself, such as `*` to turn a template into "every user".
 */
export function fillFilter(template: string, values: FilterValues): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return typeof value === 'string' ? escapeFilterValue(value) : value.raw;
  });
}

/** Wraps a filter in parentheses when a template was written without them ('uid={username}'). */
export function parenthesised(filter: string): string {
  const trimmed = filter.trim();
  return trimmed.startsWith('(') ? trimmed : `(${trimmed})`;
}
