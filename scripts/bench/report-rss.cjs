// Preloaded (node --require) into a command the benchmark runs as users do: on exit, the process's peak
// resident memory in MB goes to the file BENCH_RSS_FILE names.
const { writeFileSync } = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS / 1024));
});
