import { handler } from '../../functions/health';
import { invoke } from '../helpers/lambda';

describe('GET /health', () => {
  it('answers 200 with status, version and time without calling any upstream', async () => {
    const response = await invoke(handler, { path: '/health' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);
    expect(response.json).toEqual({
      status: 'ok',
      version: expect.any(String),
      stage: expect.any(String),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      gitops: { tracked_pairs: expect.any(Number), source: 'container' },
    });
  });

  it('carries CORS headers for browser clients', async () => {
    const response = await invoke(handler, {
      path: '/health',
      headers: { origin: 'https://dash.example.com' },
    });

    expect(response.headers['Access-Control-Allow-Origin']).toBe('*');
  });
});
