import { HttpError } from '../../lib/errors';
import { jsonListBody } from '../../lib/http/response';
import { answerTooLarge } from '../../lib/http/response-size';

const deployments = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    id: index,
    repository: `repo-${index % 7}`,
    title: 'Fix "quotes" ünï',
  }));
const toRecord = (deployment: { id: number; repository: string; title: string }) => ({
  deployment_id: String(deployment.id),
  repository: deployment.repository,
  title: deployment.title,
});
const NO_LIMIT = Number.MAX_SAFE_INTEGER;
const refuse = (bytes: number) => answerTooLarge(bytes, true, true);

describe('jsonListBody', () => {
  it.each([0, 1, 1999, 2000, 2001, 4500])('writes the same JSON as JSON.stringify for %i items', (count) => {
    const items = deployments(count);

    const body = jsonListBody('records', items, toRecord, NO_LIMIT, refuse);

    expect(body).toBe(JSON.stringify({ records: items.map(toRecord) }));
  });

  it('stops building with a 422 once the text passes the largest answer that can be returned', () => {
    const items = deployments(10_000);
    const fullLength = JSON.stringify({ records: items.map(toRecord) }).length;

    let thrown: unknown;
    try {
      jsonListBody('records', items, toRecord, Math.floor(fullLength / 3), refuse);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(HttpError);
    expect((thrown as HttpError).statusCode).toBe(422);
    expect((thrown as HttpError).message).toMatch(
      /^The answer would be more than \d+\.\d MB, more than AWS Lambda can return/,
    );
  });

  it('answers when the text is exactly within the limit', () => {
    const items = deployments(3000);
    const full = JSON.stringify({ records: items.map(toRecord) });

    expect(jsonListBody('records', items, toRecord, full.length, refuse)).toBe(full);
  });
});
