import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { LokiEntry } from '../../lib/loki/types';
import { type LogRecordState, type OttlValue, parseStatement, runStatements, type Statement } from './ottl';

/**
 * deploy/collector/otelcol-config.yaml as the collector would run it on GitHub's deliveries: the
 * webhookevent receiver makes one log record of each delivery (the JSON line as its body, `source` and
 * `receiver` as resource attributes), then the `transform/github` statements run (test/helpers/ottl.ts).
 * The records go to a Loki as OTLP (`otlpLogs`, what the otlphttp exporter sends) or, for the Loki
 * imitation, as the entries Loki's OTLP endpoint makes of them (`lokiEntries`).
 */

export const COLLECTOR_CONFIG_PATH = path.resolve(__dirname, '../../deploy/collector/otelcol-config.yaml');

export interface CollectorConfig {
  receivers: Record<string, Record<string, unknown>>;
  processors: Record<string, Record<string, unknown>>;
  exporters: Record<string, Record<string, unknown>>;
  service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
}

export function readCollectorConfig(): CollectorConfig {
  return parse(readFileSync(COLLECTOR_CONFIG_PATH, 'utf8')) as CollectorConfig;
}

const TRANSFORM = 'transform/github';

/** The statement that names the namespace, which a deployment edits to its SERVICE_NAME. */
const NAMESPACE_STATEMENT = 'set(resource.attributes["service.namespace"], "github")';

/** The transform's log statements, with the namespace a test (or a deployment) uses. */
export function collectorStatements(config: CollectorConfig, namespace = 'github'): Statement[] {
  const transform = config.processors[TRANSFORM] as {
    log_statements: Array<{ context: string; statements: string[] }>;
  };
  return transform.log_statements.flatMap(({ context, statements }) => {
    if (context !== 'log') throw new Error(`${TRANSFORM}: only the log context is modelled, not ${context}`);
    return statements.map((text) =>
      parseStatement(
        text === NAMESPACE_STATEMENT ? text.replace('"github"', JSON.stringify(namespace)) : text,
      ),
    );
  });
}

export interface CollectedRecord {
  body: string;
  attributes: Record<string, OttlValue>;
  resource: Record<string, OttlValue>;
  /** Statements that failed on this record (skipped, as `error_mode: ignore` does). */
  errors: string[];
}

/** One GitHub delivery through the receiver and the transform. */
export function collect(statements: readonly Statement[], payload: unknown): CollectedRecord {
  const record: LogRecordState = {
    body: JSON.stringify(payload),
    attributes: {},
    resource: { source: 'webhookevent', receiver: 'webhookevent' },
    cache: {},
  };
  const errors = runStatements(statements, record);
  return { body: record.body, attributes: record.attributes, resource: record.resource, errors };
}

function anyValue(value: OttlValue): Record<string, unknown> {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  throw new Error(`an attribute of type ${value === null ? 'nil' : typeof value} is not modelled`);
}

const keyValues = (map: Record<string, OttlValue>) =>
  Object.entries(map).map(([key, value]) => ({ key, value: anyValue(value) }));

/** The OTLP/HTTP JSON body the otlphttp exporter sends for these records (one resource each, as received). */
export function otlpLogs(records: ReadonlyArray<{ record: CollectedRecord; timeNs?: string }>): unknown {
  return {
    resourceLogs: records.map(({ record, timeNs }) => ({
      resource: { attributes: keyValues(record.resource) },
      scopeLogs: [
        {
          scope: { name: 'otlp/webhookevent' },
          logRecords: [
            {
              ...(timeNs === undefined ? {} : { timeUnixNano: timeNs }),
              body: { stringValue: record.body },
              attributes: keyValues(record.attributes),
            },
          ],
        },
      ],
    })),
  };
}

/** Loki's OTLP names: `deployment.status` -> `deployment_status`. */
const lokiName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, '_');

/**
 * The entry Loki's OTLP endpoint stores for a record, by its default mapping (service.name and
 * service.namespace index labels, everything else structured metadata), for the Loki imitation; the
 * real-Loki suite sends `otlpLogs` to a real Loki instead.
 */
export function lokiEntry(record: CollectedRecord, timestampNs: string): LokiEntry {
  const labels: Record<string, string> = { scope_name: 'otlp/webhookevent' };
  for (const [name, value] of [...Object.entries(record.resource), ...Object.entries(record.attributes)])
    labels[lokiName(name)] = String(value);
  return { labels, timestampNs, line: record.body };
}
