import {
  type BuildOptions,
  buildDeployments,
  changeUrlOf,
  toRecord,
  toRecords,
} from '../../lib/dora/records';
import { formatTime } from '../../lib/dora/time';
import type { EventBatch, ProductionDeployment } from '../../lib/dora/types';
import { CONTRACT_RECORD_KEYS } from '../helpers/fixtures';
import { at, batch, deployment, incident, merge } from './builders';

const SEPTEMBER = { start: at('2024-09-01T00:00:00Z'), end: at('2024-10-01T00:00:00Z') };

function build(events: Partial<EventBatch>, options: Partial<BuildOptions> = {}): ProductionDeployment[] {
  return buildDeployments(batch(events), {
    window: SEPTEMBER,
    productionEnvironments: ['production', 'prod'],
    ...options,
  });
}

function only<T>(list: readonly T[]): T {
  expect(list).toHaveLength(1);
  return list[0] as T;
}

describe('buildDeployments: production environments', () => {
  it('keeps environments named exactly like a production name, whatever their case', () => {
    const names = ['production', 'Production', 'PROD', 'prod-eu', 'staging', 'preprod', 'production-2'];
    const deployments = names.map((environment, index) =>
      deployment({ environment, sha: `sha${index}`, createdAt: at('2024-09-02T10:00:00Z') + index }),
    );

    const built = build({ deployments });

    expect(built.map((item) => item.environment)).toEqual(['production', 'Production', 'PROD']);
  });

  it('counts prod-eu as production when it is listed', () => {
    const built = build(
      { deployments: [deployment({ environment: 'prod-eu' })] },
      {
        productionEnvironments: ['prod-eu'],
      },
    );

    expect(only(built).environment).toBe('prod-eu');
  });

  it('counts only final outcomes: success, and failure or error as a failed deployment', () => {
    const states = ['success', 'failure', 'error', 'in_progress', 'pending', 'queued', 'inactive', 'SUCCESS'];
    const deployments = states.map((state, index) =>
      deployment({ state, sha: `sha${index}`, createdAt: at('2024-09-02T10:00:00Z') + index * 1000 }),
    );

    const built = build({ deployments });

    expect(built.map((item) => [item.sha, item.success])).toEqual([
      ['sha0', true],
      ['sha1', false],
      ['sha2', false],
      ['sha7', true],
    ]);
  });
});

describe('buildDeployments: repeated events of a sha', () => {
  it('drops a repeated success of the sha that is already deployed', () => {
    const first = deployment({ sha: 'aaa', createdAt: '2024-09-02T10:00:00Z' });
    const rerun = deployment({ sha: 'aaa', createdAt: '2024-09-03T10:00:00Z' });

    const built = build({ deployments: [rerun, first] });

    expect(only(built).createdAt).toBe(first.createdAt);
  });

  it('keeps a failure followed by a success of the same sha as two deployments, the success fixing the failure', () => {
    const failed = deployment({ sha: 'aaa', state: 'failure', createdAt: '2024-09-02T10:00:00Z' });
    const retried = deployment({ sha: 'aaa', state: 'success', createdAt: '2024-09-02T11:00:00Z' });

    const [failure, success] = build({ deployments: [failed, retried] });

    expect(failure).toMatchObject({ success: false, failedAt: failed.createdAt, fixedAt: retried.createdAt });
    expect(success).toMatchObject({ success: true, failedAt: null, fixedAt: null, fixesFailure: true });
  });

  it('keeps a success followed by a failure of the same sha as two deployments', () => {
    const deployments = [
      deployment({ sha: 'aaa', state: 'success', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ sha: 'aaa', state: 'failure', createdAt: '2024-09-03T10:00:00Z' }),
    ];

    expect(build({ deployments }).map((item) => item.success)).toEqual([true, false]);
  });

  it('collapses repeated failures of the same sha into one failed deployment', () => {
    const deployments = [
      deployment({ sha: 'aaa', state: 'failure', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ sha: 'aaa', state: 'failure', createdAt: '2024-09-02T10:05:00Z' }),
    ];

    expect(only(build({ deployments })).createdAt).toBe(at('2024-09-02T10:00:00Z'));
  });

  it('keeps a rollback to an earlier sha as a deployment of its own', () => {
    const deployments = [
      deployment({ sha: 'aaa', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ sha: 'bbb', createdAt: '2024-09-03T10:00:00Z' }),
      deployment({ sha: 'aaa', createdAt: '2024-09-04T10:00:00Z' }),
    ];

    expect(build({ deployments }).map((item) => item.sha)).toEqual(['aaa', 'bbb', 'aaa']);
  });

  it('orders events created at the same time by deployment id, numerically', () => {
    const time = '2024-09-02T10:00:00Z';
    const deployments = [
      deployment({ deploymentId: '10', sha: 'aaa', state: 'success', createdAt: time }),
      deployment({ deploymentId: '9', sha: 'aaa', state: 'failure', createdAt: time }),
    ];

    const built = build({ deployments });

    expect(built.map((item) => item.success)).toEqual([false, true]);
    expect(built[1]?.fixesFailure).toBe(true);
  });
});

describe('buildDeployments: merged pull requests', () => {
  it('joins the pull request whose merge commit is the sha, even when merged before the window', () => {
    const change = merge({
      sha: 'aaa',
      title: 'Add retries',
      user: 'alice',
      mergedAt: '2024-08-30T09:00:00Z',
    });

    const built = build({
      deployments: [deployment({ sha: 'aaa', createdAt: '2024-09-01T00:00:00Z' })],
      merges: [change],
    });

    expect(only(built).merge).toEqual(change);
  });

  it('does not join a merge of another repository with the same sha', () => {
    const built = build({
      deployments: [deployment({ repository: 'checkout', sha: 'aaa' })],
      merges: [merge({ repository: 'billing', sha: 'aaa' })],
    });

    expect(only(built).merge).toBeNull();
  });

  it('takes the earliest merge when several events name the same merge commit', () => {
    const earlier = merge({ sha: 'aaa', mergedAt: '2024-09-01T08:00:00Z' });
    const later = merge({ sha: 'aaa', mergedAt: '2024-09-01T09:00:00Z' });

    const built = build({ deployments: [deployment({ sha: 'aaa' })], merges: [later, earlier] });

    expect(only(built).merge).toBe(earlier);
  });
});

describe('buildDeployments: failed deployments and their fixes', () => {
  it('gives every deployment of a run of failures its own failedAt, all fixed by the next success', () => {
    const failures = ['10:00', '11:00', '12:00'].map((time, index) =>
      deployment({ sha: `bad${index}`, state: 'failure', createdAt: `2024-09-02T${time}:00Z` }),
    );
    const fix = deployment({ sha: 'good', createdAt: '2024-09-02T13:00:00Z' });

    const built = build({ deployments: [...failures, fix] });

    expect(built.slice(0, 3)).toEqual(
      failures.map((failure) =>
        expect.objectContaining({
          failedAt: failure.createdAt,
          fixedAt: fix.createdAt,
          fixedUrl: fix.url,
          fixesFailure: false,
        }),
      ),
    );
    expect(built[3]).toMatchObject({ failedAt: null, fixedAt: null, fixedUrl: null, fixesFailure: true });
  });

  it('fixes only failures that came before the fixing deployment', () => {
    const deployments = [
      deployment({ sha: 'a', state: 'failure', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ sha: 'b', createdAt: '2024-09-02T11:00:00Z' }),
      deployment({ sha: 'c', state: 'failure', createdAt: '2024-09-02T12:00:00Z' }),
      deployment({ sha: 'd', createdAt: '2024-09-02T13:00:00Z' }),
    ];

    const built = build({ deployments });

    expect(built.map((item) => [item.sha, item.fixedAt, item.fixesFailure])).toEqual([
      ['a', at('2024-09-02T11:00:00Z'), false],
      ['b', null, true],
      ['c', at('2024-09-02T13:00:00Z'), false],
      ['d', null, true],
    ]);
  });

  it('keeps fixedAt null for a failure no later healthy deployment follows', () => {
    const built = build({ deployments: [deployment({ state: 'failure' })] });

    expect(only(built)).toMatchObject({
      success: false,
      failedAt: expect.any(Number),
      fixedAt: null,
      fixedUrl: null,
    });
  });

  it('applies a fix made after the window without returning the fixing deployment', () => {
    const failed = deployment({ sha: 'a', state: 'failure', createdAt: '2024-09-30T23:00:00Z' });
    const fix = deployment({ sha: 'b', createdAt: '2024-10-01T01:00:00Z' });

    const built = build({ deployments: [failed, fix] });

    expect(only(built)).toMatchObject({ sha: 'a', fixedAt: fix.createdAt, fixedUrl: fix.url });
  });

  it('marks a deployment of the window that fixes a failure from before the window as a fix', () => {
    const failed = deployment({ sha: 'a', state: 'failure', createdAt: '2024-08-31T23:00:00Z' });
    const fix = deployment({ sha: 'b', createdAt: '2024-09-01T01:00:00Z' });

    const built = build({ deployments: [failed, fix] });

    expect(only(built)).toMatchObject({ sha: 'b', fixesFailure: true });
  });

  it('never copies failure fields onto another record of the same sha', () => {
    const deployments = [
      deployment({ sha: 'aaa', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ sha: 'bbb', createdAt: '2024-09-03T10:00:00Z' }),
      deployment({ sha: 'aaa', state: 'failure', createdAt: '2024-09-04T10:00:00Z' }),
    ];

    const built = build({ deployments });

    expect(built.map((item) => [item.sha, item.failedAt])).toEqual([
      ['aaa', null],
      ['bbb', null],
      ['aaa', at('2024-09-04T10:00:00Z')],
    ]);
  });

  it('keeps repositories independent: a success in one repository fixes nothing in another', () => {
    const deployments = [
      deployment({ repository: 'checkout', sha: 'a', state: 'failure', createdAt: '2024-09-02T10:00:00Z' }),
      deployment({ repository: 'billing', sha: 'b', createdAt: '2024-09-02T11:00:00Z' }),
    ];

    const built = build({
      deployments,
      incidents: [incident({ repository: 'billing', createdAt: '2024-09-02T09:00:00Z' })],
    });

    expect(built.map((item) => [item.repository, item.fixedAt, item.fixesFailure, item.issueUrl])).toEqual([
      ['checkout', null, false, null],
      ['billing', null, false, null],
    ]);
  });
});

describe('buildDeployments: incidents', () => {
  it('links an incident to the deployment it follows, not to the next one', () => {
    const first = deployment({ sha: 'a', createdAt: '2024-09-02T10:00:00Z' });
    const second = deployment({ sha: 'b', createdAt: '2024-09-02T16:00:00Z' });
    const outage = incident({ createdAt: '2024-09-02T12:00:00Z', closedAt: '2024-09-02T18:00:00Z' });

    const [a, b] = build({ deployments: [first, second], incidents: [outage] });

    expect(a).toMatchObject({
      success: true,
      failedAt: outage.createdAt,
      issueUrl: outage.url,
      fixedAt: outage.closedAt,
      fixedUrl: null,
    });
    expect(b).toMatchObject({ failedAt: null, issueUrl: null, fixesFailure: false });
  });

  it('links an incident created exactly when a deployment was created to that deployment', () => {
    const first = deployment({ sha: 'a', createdAt: '2024-09-02T10:00:00Z' });
    const second = deployment({ sha: 'b', createdAt: '2024-09-02T16:00:00Z' });

    const [a, b] = build({
      deployments: [first, second],
      incidents: [incident({ createdAt: second.createdAt })],
    });

    expect(a?.failedAt).toBeNull();
    expect(b?.failedAt).toBe(second.createdAt);
  });

  it('takes the earliest incident for failedAt and issueUrl and the latest closing for fixedAt', () => {
    const early = incident({ createdAt: '2024-09-02T11:00:00Z', closedAt: '2024-09-02T20:00:00Z' });
    const late = incident({ createdAt: '2024-09-02T12:00:00Z', closedAt: '2024-09-03T08:00:00Z' });

    const built = build({
      deployments: [deployment({ createdAt: '2024-09-02T10:00:00Z' })],
      incidents: [late, early],
    });

    expect(only(built)).toMatchObject({
      failedAt: early.createdAt,
      issueUrl: early.url,
      fixedAt: late.closedAt,
    });
  });

  it('keeps a failure whose incident is still open unrestored, whatever deploys after it', () => {
    const first = deployment({ sha: 'a', createdAt: '2024-09-02T10:00:00Z' });
    const second = deployment({ sha: 'b', createdAt: '2024-09-02T16:00:00Z' });
    const open = incident({ createdAt: '2024-09-02T12:00:00Z', closedAt: null });

    const [a, b] = build({ deployments: [first, second], incidents: [open] });

    expect(a).toMatchObject({ failedAt: open.createdAt, issueUrl: open.url, fixedAt: null, fixedUrl: null });
    expect(b).toMatchObject({ failedAt: null, fixesFailure: false });
  });

  it('restores a failure when its incident closes after later deployments', () => {
    const first = deployment({ sha: 'a', createdAt: '2024-09-02T10:00:00Z' });
    const second = deployment({ sha: 'b', createdAt: '2024-09-02T16:00:00Z' });
    const opened = incident({
      id: '7',
      createdAt: '2024-09-02T12:00:00Z',
      closedAt: null,
      stateAt: at('2024-09-02T12:00:00Z'),
    });
    const closed = incident({
      id: '7',
      createdAt: '2024-09-02T12:00:00Z',
      closedAt: '2024-09-03T09:00:00Z',
      stateAt: at('2024-09-03T09:00:01Z'),
    });

    const [a] = build({ deployments: [first, second], incidents: [opened, closed] });

    expect(a).toMatchObject({ failedAt: opened.createdAt, fixedAt: closed.closedAt, fixedUrl: null });
  });

  it('reads a reopened incident as open again, the latest state winning in any order', () => {
    const closed = incident({
      id: '7',
      createdAt: '2024-09-02T12:00:00Z',
      closedAt: '2024-09-02T13:00:00Z',
      stateAt: at('2024-09-02T13:00:00Z'),
    });
    const reopened = incident({
      id: '7',
      createdAt: '2024-09-02T12:00:00Z',
      closedAt: null,
      stateAt: at('2024-09-02T14:00:00Z'),
    });
    const deployments = [deployment({ createdAt: '2024-09-02T10:00:00Z' })];

    const inOrder = only(build({ deployments, incidents: [closed, reopened] }));
    const reversed = only(build({ deployments, incidents: [reopened, closed] }));

    expect(inOrder).toMatchObject({ failedAt: closed.createdAt, fixedAt: null });
    expect(reversed).toEqual(inOrder);
  });

  it('forgets an issue whose latest event removed its incident label, and counts it again once relabelled', () => {
    const labelled = incident({
      createdAt: '2024-09-02T12:00:00Z',
      closedAt: null,
      stateAt: at('2024-09-02T12:00:00Z'),
    });
    const unlabelled = { ...labelled, stateAt: at('2024-09-02T12:30:00Z'), withdrawn: true };
    const relabelled = { ...labelled, stateAt: at('2024-09-02T13:00:00Z') };
    const deployments = [deployment({ createdAt: '2024-09-02T10:00:00Z' })];

    const withdrawn = only(build({ deployments, incidents: [labelled, unlabelled] }));
    const again = only(build({ deployments, incidents: [labelled, unlabelled, relabelled] }));

    expect(withdrawn).toMatchObject({ failedAt: null, issueUrl: null });
    expect(again).toMatchObject({ failedAt: labelled.createdAt, fixedAt: null });
  });

  it('treats a deployment as unresolved while any of its incidents is open', () => {
    const closed = incident({ createdAt: '2024-09-02T11:00:00Z', closedAt: '2024-09-02T12:00:00Z' });
    const open = incident({ createdAt: '2024-09-02T13:00:00Z', closedAt: null });

    const built = build({
      deployments: [deployment({ createdAt: '2024-09-02T10:00:00Z' })],
      incidents: [closed, open],
    });

    expect(only(built)).toMatchObject({ failedAt: closed.createdAt, issueUrl: closed.url, fixedAt: null });
  });

  it('merges the events of one incident, a closing winning over an open report', () => {
    const reported = incident({ id: '42', createdAt: '2024-09-02T11:00:00Z', closedAt: null });
    const closed = incident({
      id: '42',
      createdAt: '2024-09-02T11:00:00Z',
      closedAt: '2024-09-02T15:00:00Z',
    });

    const built = build({
      deployments: [deployment({ createdAt: '2024-09-02T10:00:00Z' })],
      incidents: [reported, closed],
    });

    expect(only(built).fixedAt).toBe(at('2024-09-02T15:00:00Z'));
  });

  it('does not let a deployment failed through an incident fix earlier failures; the next healthy one fixes both', () => {
    const failed = deployment({ sha: 'a', state: 'failure', createdAt: '2024-09-02T10:00:00Z' });
    const unhealthy = deployment({ sha: 'b', createdAt: '2024-09-02T11:00:00Z' });
    const healthy = deployment({ sha: 'c', createdAt: '2024-09-02T15:00:00Z' });
    const outage = incident({ createdAt: '2024-09-02T12:00:00Z', closedAt: '2024-09-02T14:00:00Z' });

    const built = build({ deployments: [failed, unhealthy, healthy], incidents: [outage] });

    expect(built.map((item) => [item.sha, item.failedAt, item.fixedAt, item.fixesFailure])).toEqual([
      ['a', failed.createdAt, healthy.createdAt, false],
      ['b', outage.createdAt, outage.closedAt, false],
      ['c', null, null, true],
    ]);
  });

  it('does not link incidents to a failed deployment, which already failed', () => {
    const failed = deployment({ state: 'failure', createdAt: '2024-09-02T10:00:00Z' });

    const built = build({
      deployments: [failed],
      incidents: [incident({ createdAt: '2024-09-02T11:00:00Z' })],
    });

    expect(only(built)).toMatchObject({ failedAt: failed.createdAt, issueUrl: null, fixedAt: null });
  });

  it('ignores incidents raised before the repository’s first known deployment', () => {
    const built = build({
      deployments: [deployment({ createdAt: '2024-09-02T10:00:00Z' })],
      incidents: [incident({ createdAt: '2024-09-02T09:00:00Z', closedAt: '2024-09-02T11:00:00Z' })],
    });

    expect(only(built)).toMatchObject({ failedAt: null, issueUrl: null, fixedAt: null });
  });

  it('links an incident raised after the window to the last deployment of the window', () => {
    const last = deployment({ createdAt: '2024-09-30T22:00:00Z' });
    const outage = incident({ createdAt: '2024-10-01T02:00:00Z', closedAt: '2024-10-01T03:00:00Z' });

    expect(only(build({ deployments: [last], incidents: [outage] }))).toMatchObject({
      failedAt: outage.createdAt,
      fixedAt: outage.closedAt,
    });
  });

  it('links an incident to the running deployment, not to a dropped repeat of its sha', () => {
    const first = deployment({ sha: 'a', createdAt: '2024-09-02T10:00:00Z' });
    const rerun = deployment({ sha: 'a', createdAt: '2024-09-03T10:00:00Z' });
    const outage = incident({ createdAt: '2024-09-03T12:00:00Z' });

    expect(only(build({ deployments: [first, rerun], incidents: [outage] }))).toMatchObject({
      createdAt: first.createdAt,
      failedAt: outage.createdAt,
    });
  });
});

describe('buildDeployments: window and order', () => {
  it('includes a deployment created exactly at the start and excludes one created exactly at the end', () => {
    const deployments = [
      deployment({ sha: 'before', createdAt: SEPTEMBER.start - 1 }),
      deployment({ sha: 'start', createdAt: SEPTEMBER.start }),
      deployment({ sha: 'last', createdAt: SEPTEMBER.end - 1 }),
      deployment({ sha: 'end', createdAt: SEPTEMBER.end }),
    ];

    expect(build({ deployments }).map((item) => item.sha)).toEqual(['start', 'last']);
  });

  it('sorts by creation, then repository, then deployment id', () => {
    const time = '2024-09-02T10:00:00Z';
    const deployments = [
      deployment({ repository: 'web', sha: 'a', createdAt: '2024-09-01T10:00:00Z' }),
      deployment({ repository: 'checkout', sha: 'b', createdAt: time }),
      deployment({ repository: 'billing', sha: 'z', deploymentId: '10', createdAt: time }),
      deployment({ repository: 'billing', sha: 'zz', deploymentId: '9', createdAt: time }),
      deployment({ repository: 'billing-api', sha: 'c', createdAt: time, environment: 'prod' }),
    ];

    expect(build({ deployments }).map((item) => `${item.repository}@${item.sha}`)).toEqual([
      'web@a',
      'billing@zz',
      'billing@z',
      'billing-api@c',
      'checkout@b',
    ]);
  });

  it('returns nothing for no events', () => {
    expect(build({})).toEqual([]);
  });
});

describe('buildDeployments: team and links', () => {
  const teamsByRepository = new Map([['checkout', 'github-team']]);

  it('takes the team from the event first', () => {
    expect(
      only(build({ deployments: [deployment({ team: 'label-team' })] }, { teamsByRepository })).team,
    ).toBe('label-team');
  });

  it('falls back to the team GitHub gives for the repository', () => {
    expect(only(build({ deployments: [deployment({ team: null })] }, { teamsByRepository })).team).toBe(
      'github-team',
    );
  });

  it('leaves the team null when neither the event nor GitHub names one', () => {
    expect(
      only(build({ deployments: [deployment({ repository: 'web', team: null })] }, { teamsByRepository }))
        .team,
    ).toBeNull();
  });

  it('links the change to the commit on GitHub and the deployment to its event link', () => {
    const event = deployment({
      owner: 'acme',
      repository: 'checkout',
      sha: 'c0ffee',
      url: 'https://github.com/acme/checkout/actions/runs/7',
    });

    const built = only(build({ deployments: [event] }));

    expect(built).toMatchObject({
      owner: 'acme',
      deployUrl: 'https://github.com/acme/checkout/actions/runs/7',
    });
    expect(changeUrlOf(built)).toBe('https://github.com/acme/checkout/commit/c0ffee');
  });

  it('takes the owner from another event of the repository when the deployment has none', () => {
    const built = build({
      deployments: [deployment({ owner: null, sha: 'c0ffee', url: 'https://ci.example.com/runs/1' })],
      merges: [merge({ owner: 'acme', sha: 'other' })],
    });

    expect(changeUrlOf(only(built))).toBe('https://github.com/acme/checkout/commit/c0ffee');
  });

  it('takes the owner from a github.com deployment link when no event names it', () => {
    const built = build({
      deployments: [
        deployment({ owner: null, sha: 'c0ffee', url: 'https://github.com/octo-org/checkout/deployments' }),
      ],
    });

    expect(only(built).owner).toBe('octo-org');
    expect(changeUrlOf(only(built))).toBe('https://github.com/octo-org/checkout/commit/c0ffee');
  });

  it('leaves the change link empty rather than guessing when no owner is known', () => {
    const built = build({
      deployments: [deployment({ owner: null, url: 'https://ci.example.com/runs/1' })],
    });

    expect(only(built).owner).toBeNull();
    expect(changeUrlOf(only(built))).toBe('');
  });
});

describe('toRecord', () => {
  const KEYS = CONTRACT_RECORD_KEYS;

  it('carries the 15 contract keys in contract order, null where there is no value', () => {
    const [record] = toRecords(
      build({ deployments: [deployment({ team: null, createdAt: '2024-09-13T11:00:58Z' })] }),
    );

    expect(Object.keys(record ?? {})).toEqual(KEYS);
    expect(record).toEqual({
      repository: 'checkout',
      team: null,
      title: null,
      user: null,
      sha: 'a1a1a1a1',
      status: true,
      failed_at: null,
      merged_at: null,
      created_at: '2024-09-13T11:00:58Z',
      fixed_at: null,
      fixed_url: null,
      deploy_url: expect.stringMatching(/^https:\/\/github\.com\/acme\/checkout\/actions\/runs\/\d+$/),
      issue_url: null,
      change_url: 'https://github.com/acme/checkout/commit/a1a1a1a1',
      total_cycle_time: null,
    });
  });

  it('fills every field of a failed, fixed, merged deployment', () => {
    const failed = deployment({ sha: 'bad', state: 'failure', createdAt: '2024-09-02T10:00:00Z' });
    const fix = deployment({ sha: 'good', createdAt: '2024-09-02T16:00:00.250Z' });
    const change = merge({
      sha: 'bad',
      title: 'Faster checkout',
      user: 'alice',
      mergedAt: '2024-09-01T09:30:00Z',
    });

    const [record] = toRecords(build({ deployments: [failed, fix], merges: [change] }));

    expect(record).toEqual({
      repository: 'checkout',
      team: 'payments',
      title: 'Faster checkout',
      user: 'alice',
      sha: 'bad',
      status: false,
      failed_at: '2024-09-02T10:00:00Z',
      merged_at: '2024-09-01T09:30:00Z',
      created_at: '2024-09-02T10:00:00Z',
      fixed_at: '2024-09-02T16:00:00.250Z',
      fixed_url: fix.url,
      deploy_url: failed.url,
      issue_url: null,
      change_url: 'https://github.com/acme/checkout/commit/bad',
      total_cycle_time: null,
    });
  });

  it('fills the incident fields of a deployment failed through an incident, fixed_at null while it is open', () => {
    const deployed = deployment({ sha: 'bad', createdAt: '2024-09-02T10:00:00Z' });
    const outage = incident({ createdAt: '2024-09-02T12:00:00Z', closedAt: null });

    const [record] = toRecords(
      build({
        deployments: [deployed, deployment({ sha: 'next', createdAt: '2024-09-02T16:00:00Z' })],
        incidents: [outage],
      }),
    );

    expect(record).toMatchObject({
      status: true,
      failed_at: '2024-09-02T12:00:00Z',
      fixed_at: null,
      fixed_url: null,
      issue_url: outage.url,
    });
  });

  it('never sends undefined: the JSON of a record keeps all 15 keys', () => {
    const record = toRecord(only(build({ deployments: [deployment({ state: 'failure' })] })));

    expect(Object.keys(JSON.parse(JSON.stringify(record)))).toEqual(KEYS);
    expect(Object.values(record)).not.toContain(undefined);
  });
});

describe('formatTime', () => {
  it('writes whole seconds without a fractional part', () => {
    expect(formatTime(at('2024-09-13T11:00:58Z'))).toBe('2024-09-13T11:00:58Z');
  });

  it('keeps milliseconds when there are some', () => {
    expect(formatTime(at('2024-09-13T11:00:58.007Z'))).toBe('2024-09-13T11:00:58.007Z');
  });

  it('writes UTC whatever offset the time was given in', () => {
    expect(formatTime(at('2024-09-13T13:00:58+02:00'))).toBe('2024-09-13T11:00:58Z');
  });

  it('refuses a value that is not a time', () => {
    expect(() => formatTime(Number.NaN)).toThrow(RangeError);
  });
});
