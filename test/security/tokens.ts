import { generateKeyPair, SignJWT } from 'jose';

/** A secret long enough for HS256 (32 bytes or more), as an operator would put in SSM. */
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export interface MintOptions {
  secret?: string;
  expiresIn?: string | number;
  notBefore?: string | number;
  audience?: string;
  issuer?: string;
  subject?: string;
  algorithm?: 'HS256' | 'HS384' | 'HS512';
}

/** A JWT signed the way the README tells operators to mint one. */
export async function mintToken(options: MintOptions = {}): Promise<string> {
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: options.algorithm ?? 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setSubject(options.subject ?? 'backstage')
    .setExpirationTime(options.expiresIn ?? '5m');
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(options.notBefore);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  return jwt.sign(key(options.secret ?? TEST_JWT_SECRET));
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The classic forgery: `alg: none` and no signature. */
export function unsignedToken(): string {
  const now = Math.floor(Date.now() / 1000);
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'attacker', exp: now + 300 })}.`;
}

/** A well-formed token signed with RS256 by a key the API has never seen. */
export async function rs256Token(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ sub: 'attacker' })
    .setProtectedHeader({ alg: 'RS256' })
    .setExpirationTime('5m')
    .sign(privateKey);
}

/** A valid token whose payload was changed afterwards (the signature no longer matches). */
export async function tamperedToken(): Promise<string> {
  const [header, , signature] = (await mintToken()).split('.');
  return `${header}.${base64url({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 })}.${signature}`;
}
