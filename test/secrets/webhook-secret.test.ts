import { SECRET_NAMES, secretsFrom, secretValues } from '../../lib/secrets';

describe('GITHUB_WEBHOOK_SECRET', () => {
  it('is one of the secrets read from SSM or the environment', () => {
    expect(SECRET_NAMES).toContain('GITHUB_WEBHOOK_SECRET');
  });

  it('is read into the secrets, blank meaning not configured', () => {
    expect(secretsFrom({ GITHUB_WEBHOOK_SECRET: ' whsec-0123456789 ' }).githubWebhookSecret).toBe(
      'whsec-0123456789',
    );
    expect(secretsFrom({ GITHUB_WEBHOOK_SECRET: '  ' }).githubWebhookSecret).toBeUndefined();
  });

  it('is among the values the logs are scrubbed of', () => {
    const secrets = secretsFrom({ GITHUB_WEBHOOK_SECRET: 'whsec-0123456789' });

    expect(secretValues(secrets)).toContain('whsec-0123456789');
  });
});
