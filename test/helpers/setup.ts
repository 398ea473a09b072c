// Tests assert on responses; log lines would only bury jest's report. A test about logging raises the level itself.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Never let a developer's own .env or shell point a test at a real Loki or GitHub.
for (const name of [
  'LOKI_URL',
  'LOKI_USER',
  'LOKI_TOKEN',
  'GITHUB_TOKEN',
  'GITHUB_ORG',
  'SSM_PARAMETER_PATH',
  'AUTH_JWT_SECRET',
]) {
  delete process.env[name];
}
