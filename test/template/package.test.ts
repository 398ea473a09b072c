import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { packageStagingEnv } from '../../dev/package-staging';
import type { RouteSpec } from '../../lib/http/route';
import { routes } from '../../lib/openapi/routes';
import { httpEvent, lambdaContext } from '../helpers/lambda';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const FAKE_SECRET = 'ghp_template-must-never-hold-this-0123456789';

const routeKey = (route: Pick<RouteSpec, 'method' | 'path'>) => `${route.method.toUpperCase()} ${route.path}`;

/** Every route the API serves (the route table); the template must route each one to a function. */
const ROUTES = routes.map(routeKey);
/** A GET route's HEAD twin (deploy/head-routes.js) goes where the GET goes: the key of the entry it opens. */
const openedKey = (key: string) => (key.startsWith('HEAD ') ? `GET ${key.slice('HEAD '.length)}` : key);
const HEAD_TWINS = ROUTES.filter((key) => key.startsWith('GET ')).map(
  (key) => `HEAD ${key.slice('GET '.length)}`,
);

interface Template {
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown> }>;
  Conditions?: Record<string, unknown>;
}

/** `serverless package` is the real check of serverless.yml: offline, without AWS credentials. */
describe('serverless package', () => {
  let outDir: string;
  let template: Template;
  let templateText: string;
  const workFolder = `.esbuild-package-test-${process.pid}`;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'dora-package-'));
    await run(
      path.join(ROOT, 'node_modules/.bin/serverless'),
      ['package', '--stage', 'ci', '--package', outDir],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          // Its own bundle folder, so a concurrent `npm start` or package run keeps its bundles.
          ESBUILD_WORK_FOLDER: workFolder,
          ...packageStagingEnv(outDir),
          GITHUB_TOKEN: FAKE_SECRET,
          LOKI_TOKEN: FAKE_SECRET,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_PROFILE: '',
        },
        timeout: 180_000,
      },
    );
    templateText = readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8');
    template = JSON.parse(templateText) as Template;
  }, 200_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(path.join(ROOT, workFolder), { recursive: true, force: true });
  });

  const resourcesOf = (type: string) =>
    Object.values(template.Resources).filter((resource) => resource.Type === type);

  /** Route key -> the handler (`functions/<file>.handler`) of the function it reaches: route, integration, function. */
  const handlersByRouteKey = () =>
    new Map(
      resourcesOf('AWS::ApiGatewayV2::Route').map((route) => {
        const integration = JSON.stringify(route.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
        const uri = template.Resources[integration]?.Properties.IntegrationUri as { 'Fn::GetAtt': [string] };
        const lambda = template.Resources[uri['Fn::GetAtt'][0]];
        return [route.Properties.RouteKey as string, lambda?.Properties.Handler as string];
      }),
    );

  it('routes exactly the routes of the route table, and every other request to $default', () => {
    const routeKeys = [...handlersByRouteKey().keys()];

    expect(routeKeys.filter((key) => key !== '$default').sort()).toEqual([...ROUTES, ...HEAD_TWINS].sort());
    expect(routeKeys.filter((key) => key === '$default')).toHaveLength(1);
  });

  it("sends each route to the function file that opens it from the route table's entry", () => {
    const opened = [...handlersByRouteKey()].map(([key, handler]) => {
      const file = handler.replace(/\.handler$/, '');
      const module = require(path.join(ROOT, file)) as { handler: { routes?: readonly RouteSpec[] } };
      return { key, file, opens: module.handler.routes?.map(routeKey).sort() };
    });

    for (const { key, file, opens } of opened) {
      // $default answers requests no route takes: there is no entry to open, so not-found.ts keeps the plain
      // stack (no body read, no authentication: its 404/405 must not become a 400, 401 or 413).
      if (key === '$default')
        expect({ file, opens }).toEqual({ file: 'functions/not-found', opens: undefined });
      else expect({ key, file, opens: opens?.includes(openedKey(key)) }).toEqual({ key, file, opens: true });
    }
    // ...and a function file opens no route the template does not send it.
    for (const { key, file, opens } of opened) {
      const sent = opened.filter((other) => other.file === file).map((other) => openedKey(other.key));
      const sentOnce = [...new Set(sent)].sort();
      expect({ key, file, opens: opens ?? [] }).toEqual({
        key,
        file,
        opens: key === '$default' ? [] : sentOnce,
      });
    }
  });

  it('deploys every file of functions/ as a function', () => {
    const handlers = resourcesOf('AWS::Lambda::Function').map((lambda) => lambda.Properties.Handler);
    const files = readdirSync(path.join(ROOT, 'functions')).filter((name) => name.endsWith('.ts'));

    expect(files.map((name) => `functions/${name.replace(/\.ts$/, '')}.handler`).sort()).toEqual(
      [...handlers].sort(),
    );
  });

  it('routes every endpoint of the API on an HTTP API', () => {
    const routeKeys = resourcesOf('AWS::ApiGatewayV2::Route').map((route) => route.Properties.RouteKey);

    expect(routeKeys).toEqual(expect.arrayContaining(ROUTES));
    expect(resourcesOf('AWS::ApiGatewayV2::Api')).toHaveLength(1);
  });

  it('answers HEAD on every GET route through the same integration and authorization', () => {
    const routes = resourcesOf('AWS::ApiGatewayV2::Route').map((route) => route.Properties);
    const gets = routes.filter((route) => String(route.RouteKey).startsWith('GET '));
    const heads = routes.filter((route) => String(route.RouteKey).startsWith('HEAD '));
    const headOf = (get: Record<string, unknown>) =>
      heads.find((head) => head.RouteKey === `HEAD ${String(get.RouteKey).slice(4)}`);

    expect(gets.map((get) => `GET ${String(get.RouteKey).slice(4)}`)).toEqual(
      expect.arrayContaining(ROUTES.filter((route) => route.startsWith('GET '))),
    );
    expect(heads).toHaveLength(gets.length);
    for (const get of gets)
      expect(headOf(get)).toEqual({ ...get, RouteKey: `HEAD ${String(get.RouteKey).slice(4)}` });
  });

  it('sends requests no route matches to the notFound function through $default, without an authorizer', () => {
    const fallback = resourcesOf('AWS::ApiGatewayV2::Route').filter(
      (route) => route.Properties.RouteKey === '$default',
    );

    expect(fallback).toHaveLength(1);
    expect(fallback[0]?.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    expect(JSON.stringify(fallback[0]?.Properties.Target)).toContain('HttpApiIntegrationNotFound');
  });

  it('runs every function on nodejs22.x', () => {
    const functions = resourcesOf('AWS::Lambda::Function');

    // /dashboard is the page function's second route; every other route has its own function.
    expect(functions.length).toBeGreaterThanOrEqual(ROUTES.length - 2);
    for (const lambda of functions) expect(lambda.Properties.Runtime).toBe('nodejs22.x');
  });

  it('lets the functions read only their own SSM parameters', () => {
    const policies = JSON.stringify(resourcesOf('AWS::IAM::Role').map((role) => role.Properties.Policies));

    expect(policies).toContain(':parameter/dora-api/ci/*');
    expect(policies).not.toMatch(/"ssm:\*"|"Resource":"\*"/);
  });

  it('puts no secret in the template', () => {
    expect(templateText).not.toContain(FAKE_SECRET);
  });

  it('bundles each function into its own zip under 1 MB', () => {
    const zips = readdirSync(outDir).filter((name) => name.endsWith('.zip'));

    expect(zips.length).toBeGreaterThanOrEqual(ROUTES.length - 2);
    for (const zip of zips) expect(statSync(path.join(outDir, zip)).size).toBeLessThan(1024 * 1024);
  });

  it('serves the dashboard page from the dashboard zip, under 250 kB gzipped', async () => {
    const unpacked = mkdtempSync(path.join(tmpdir(), 'dora-dashboard-zip-'));
    try {
      execFileSync('unzip', ['-q', '-o', path.join(outDir, 'dashboard.zip'), '-d', unpacked]);
      // The bundle Lambda would run, with nothing from node_modules: the page must be inside it.
      const { handler } = require(path.join(unpacked, 'functions', 'dashboard.js'));
      const response = await handler(httpEvent({ path: '/' }), lambdaContext('dashboard'));

      expect(response.statusCode).toBe(200);
      expect(response.body).toMatch(/^<!doctype html>/);
      expect(response.body).toContain('<script>');
      expect(gzipSync(response.body).length).toBeLessThan(250 * 1024);
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  });
  describe('filling the store of closed days', () => {
    const functionNamed = (suffix: string) =>
      Object.entries(template.Resources).find(
        ([, resource]) =>
          resource.Type === 'AWS::Lambda::Function' &&
          resource.Properties.FunctionName === `dora-api-ci-${suffix}`,
      )?.[1];

    it('runs the scheduled roll-up every hour', () => {
      const rules = resourcesOf('AWS::Events::Rule');
      const scheduled = functionNamed('rollupsScheduled');

      expect(rules.map((rule) => rule.Properties.ScheduleExpression)).toContain('rate(1 hour)');
      expect(JSON.stringify(rules)).toContain('RollupsScheduledLambdaFunction');
      expect(scheduled?.Properties.Timeout).toBe(900);
    });

    it("gives the backfill all of Lambda's 15 minutes and the readers only their 29 seconds", () => {
      expect(functionNamed('rollupsBackfill')?.Properties.Timeout).toBe(900);
      expect(functionNamed('data')?.Properties.Timeout).toBe(29);
    });

    it('lets the functions invoke the backfill function and no other', () => {
      const statements = resourcesOf('AWS::IAM::Role').flatMap((role) =>
        (
          role.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>
        ).flatMap((policy) => policy.PolicyDocument.Statement),
      );
      const invoking = statements.filter((statement) =>
        JSON.stringify(statement.Action).includes('lambda:InvokeFunction'),
      );

      expect(invoking).toHaveLength(1);
      expect(invoking[0]?.Action).toEqual(['lambda:InvokeFunction']);
      expect(JSON.stringify(invoking[0]?.Resource)).toContain(':function:dora-api-ci-rollupsBackfill');
      expect(JSON.stringify(invoking[0]?.Resource)).not.toContain('*');
    });

    it('tells the readers which function fills missing days', () => {
      const environment = functionNamed('metricsSummary')?.Properties.Environment as {
        Variables: Record<string, unknown>;
      };

      expect(environment.Variables.ROLLUPS_BACKFILL_FUNCTION).toBe('dora-api-ci-rollupsBackfill');
    });
  });

  it('forwards the webhook outbox every minute from a function of its own, kept in the store bucket', () => {
    // The rule whose target is this function (the scheduled roll-up has one of its own).
    const rule = resourcesOf('AWS::Events::Rule').find((each) =>
      JSON.stringify(each).includes('WebhooksReplayLambdaFunction'),
    );
    const replay = resourcesOf('AWS::Lambda::Function').find((lambda) =>
      String(lambda.Properties.FunctionName).endsWith('-webhooksReplay'),
    );
    const environment = replay?.Properties.Environment as { Variables: Record<string, unknown> } | undefined;

    expect(rule?.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect(environment?.Variables.WEBHOOK_OUTBOX_URL).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: 'StoreBucket' }, '/webhook-outbox']],
    });
    expect(Number(replay?.Properties.Timeout)).toBeLessThan(60);
  });

  it('creates no custom domain unless the customDomain param names one', () => {
    const domain = Object.entries(template.Resources).filter(([id]) => id.startsWith('CustomDomain'));

    expect(domain.map(([, resource]) => resource.Type).sort()).toEqual([
      'AWS::ApiGatewayV2::ApiMapping',
      'AWS::ApiGatewayV2::DomainName',
      'AWS::CertificateManager::Certificate',
      'AWS::Route53::RecordSet',
    ]);
    for (const [, resource] of domain) expect(resource.Condition).toBe('HasCustomDomain');
    expect(template.Conditions?.HasCustomDomain).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
  });
});
