import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';

/** `npx tsx scripts/mint-token.ts`, as docs/security.md runs it: a token the API's HS256 check accepts. */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const SECRET = 'mint-token-test-secret-0123456789abcdef0123';

function mint(args: string[], secret: string) {
  return run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/mint-token.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: secret },
  });
}

describe('scripts/mint-token.ts', () => {
  it('prints an HS256 token of AUTH_JWT_SECRET with the subject, audience and lifetime asked for', async () => {
    const { stdout } = await mint(['--sub', 'backstage', '--days', '90', '--aud', 'dora-api'], SECRET);

    const { payload, protectedHeader } = await jwtVerify(stdout.trim(), new TextEncoder().encode(SECRET), {
      audience: 'dora-api',
    });
    expect(protectedHeader.alg).toBe('HS256');
    expect(payload.sub).toBe('backstage');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(90 * 86_400);
  }, 30_000);

  it('refuses a secret shorter than the API accepts, saying where to set it', async () => {
    const failure = await mint([], 'short').catch((error: { code: number; stderr: string }) => error);

    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/Set AUTH_JWT_SECRET in \.env/) });
  }, 30_000);
});
