/** The server's snake_case JSON as the SDK's camelCase objects. */

const camelKey = (key: string): string => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Renames every object key, deeply; values are untouched. */
export function camelize<T>(json: unknown): T {
  if (Array.isArray(json)) return json.map((item) => camelize(item)) as T;
  if (typeof json !== 'object' || json === null) return json as T;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) out[camelKey(key)] = camelize(value);
  return out as T;
}
