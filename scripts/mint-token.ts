/**
 * Mints an HS256 bearer token for the API: `npx tsx scripts/mint-token.ts [--sub backstage] [--days 90]
 * [--aud dora-api] [--iss ...]`, signed with AUTH_JWT_SECRET from the environment or, as `npm start` reads
 * it, from the checkout's .env (the environment wins). Prints the token alone on stdout.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { config as loadDotenv } from 'dotenv';
import { SignJWT } from 'jose';
import { MIN_SECRET_BYTES } from '../lib/http/auth';

const envFile = path.join(__dirname, '..', '.env');
if (existsSync(envFile)) loadDotenv({ path: envFile, quiet: true });

const { values } = parseArgs({
  options: {
    sub: { type: 'string', default: 'dora-client' },
    days: { type: 'string', default: '90' },
    aud: { type: 'string' },
    iss: { type: 'string' },
  },
});

const secret = process.env.AUTH_JWT_SECRET ?? '';
if (Buffer.byteLength(secret, 'utf8') < MIN_SECRET_BYTES) {
  process.stderr.write(
    `Set AUTH_JWT_SECRET in .env or the environment (at least ${MIN_SECRET_BYTES} bytes, e.g. openssl rand -base64 48)\n`,
  );
  process.exit(1);
}
const days = Number(values.days);
if (!Number.isFinite(days) || days <= 0) {
  process.stderr.write('--days must be a positive number\n');
  process.exit(1);
}

let jwt = new SignJWT({})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.sub)
  .setIssuedAt()
  .setExpirationTime(`${days}d`);
if (values.aud) jwt = jwt.setAudience(values.aud);
if (values.iss) jwt = jwt.setIssuer(values.iss);

jwt.sign(new TextEncoder().encode(secret)).then((token) => process.stdout.write(`${token}\n`));
