/** Which values are taken for secrets, and the names they get in .env. */
import { describe, expect, it } from 'vitest';
import { looksSecret, moveSecrets, type SecretJar } from '../../src/clients/secrets.js';

describe('looksSecret', () => {
  it('takes keys and tokens by name or by shape, not settings', () => {
    expect(looksSecret('GITHUB_PERSONAL_ACCESS_TOKEN', 'abc')).toBe(true);
    expect(looksSecret('OPENAI_API_KEY', 'x')).toBe(true);
    expect(looksSecret('X-Api-Key', 'x')).toBe(true);
    expect(looksSecret('Authorization', 'Bearer abcdefgh12345678')).toBe(true);
    expect(looksSecret('SOMETHING', 'sk-proj-abcdef')).toBe(true);
    expect(looksSecret('CONFIG', 'f3a9c2e17b8d4a6f9e0c1b2a3d4e5f60718293a4')).toBe(true);
    expect(looksSecret('GITHUB_HOST', 'github.com')).toBe(false);
    expect(looksSecret('MAX_TOKENS', '4000')).toBe(false);
    expect(looksSecret('DISABLE_AUTH', 'true')).toBe(false);
    expect(looksSecret('GITHUB_TOKEN', '${GITHUB_TOKEN}')).toBe(false);
    expect(looksSecret('ROOT', '/home/me/projects/a-very-long-path-name-1234567890')).toBe(false);
  });
});

describe('moveSecrets', () => {
  it('reuses a name holding the same value, and prefixes the server name when the name holds another', () => {
    const jar: SecretJar = { existing: new Map([['API_TOKEN', 'old-value-1234']]), added: new Map() };
    const same = { command: 'a', env: { API_TOKEN: 'old-value-1234' } };
    const other = { command: 'b', env: { API_TOKEN: 'new-value-5678' } };
    const third = { command: 'c', env: { API_TOKEN: 'third-value-9012' } };
    expect(moveSecrets('alpha', same, jar)).toEqual(['API_TOKEN']);
    expect(moveSecrets('my-beta', other, jar)).toEqual(['MY_BETA_API_TOKEN']);
    expect(moveSecrets('my-beta', third, jar)).toEqual(['MY_BETA_API_TOKEN_2']);
    expect(other.env).toEqual({ API_TOKEN: '${MY_BETA_API_TOKEN}' });
    expect([...jar.added]).toEqual([
      ['API_TOKEN', 'old-value-1234'],
      ['MY_BETA_API_TOKEN', 'new-value-5678'],
      ['MY_BETA_API_TOKEN_2', 'third-value-9012'],
    ]);
  });
});
